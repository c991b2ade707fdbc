//! `POST /staff/stocktake/{id}/lost` (form: `csrf`): marks every copy the report finds missing
//! as lost and closes the stocktake, in one commit.

use super::{form_error, see_other, stocktake_error};
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{AppState, PageRequest, check_form_csrf, percent_encode};
use crate::stocktake;

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    input: &Input,
) -> warp::reply::Response {
    let back = format!("/staff/stocktake/{}", percent_encode(id));
    let today = state.today();
    let result = check_form_csrf(staff, input).and_then(|()| {
        state
            .write(|store| stocktake::mark_missing_lost(store, state.desk.scope(), id, today))?
            .map_err(stocktake_error)
    });
    match result {
        Ok(count) => see_other(&format!("{back}?lost={count}")),
        Err(error) => form_error(state, staff, request, &error, &back),
    }
}
