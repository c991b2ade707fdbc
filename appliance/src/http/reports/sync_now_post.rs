//! `POST /staff/sync/now` (staff, form with `csrf`): the librarian's "sync now". The hub and
//! every member neighbour are tried at once, whatever their backoff says; the answer is the
//! sync page, where the sessions show as they end.

use super::{error_page, frame, see_other};
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{AppState, PageRequest, check_form_csrf};

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match check_form_csrf(staff, input) {
        Ok(()) => {
            state.sync.sync_now();
            see_other("/staff/sync")
        }
        Err(error) => error_page(&frame(state, staff, request), &error, "/staff/sync"),
    }
}
