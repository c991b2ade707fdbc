//! `POST /staff/stocktake` (form: `csrf`): starts a stocktake today and opens it.

use super::{form_error, see_other, stocktake_error};
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{AppState, PageRequest, check_form_csrf, percent_encode};
use crate::stocktake;

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let today = state.today();
    let started = check_form_csrf(staff, input).and_then(|()| {
        state
            .write(|store| stocktake::start(store, state.desk.scope(), today))?
            .map_err(stocktake_error)
    });
    match started {
        Ok(id) => see_other(&format!("/staff/stocktake/{}", percent_encode(&id))),
        Err(error) => form_error(state, staff, request, &error, "/staff/stocktake"),
    }
}
