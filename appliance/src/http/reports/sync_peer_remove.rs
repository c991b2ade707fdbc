//! `POST /staff/sync/peers/remove` (admins, form with `csrf` and `address` as the list shows
//! it): stops dialling a typed address. A session already running with it ends normally.

use super::sync_peer_add::{admin_form, manual_peer_error};
use super::{error_page, frame, see_other};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{AppState, PageRequest};
use crate::sync_service::manual_peers;

const ADDRESS: Field = Field::new("address", "địa chỉ", "the address");

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let removed = admin_form(staff, input).and_then(|()| {
        let listed = input.text(ADDRESS, 300)?;
        manual_peers::remove(&state.sync, &listed)
            .map(|()| listed)
            .map_err(manual_peer_error)
    });
    match removed {
        Ok(address) => {
            eprintln!("typed sync address removed: {address}");
            see_other("/staff/sync#typed-addresses")
        }
        Err(error) => error_page(&frame(state, staff, request), &error, "/staff/sync"),
    }
}
