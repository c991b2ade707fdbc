//! `POST /staff/desk/in-house` (form: `csrf`, `code`): a copy read in the library and put
//! back on the cart. Counts one in-house use of it today, then back to the desk.

use super::desk_get::{location, render};
use super::desk_scan::describe;
use super::flash::{self, Flash};
use super::{CODE, check_form_csrf, code, desk_error, see_other};
use crate::db;
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{ApiError, AppState, PageRequest};

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match count(state, staff, input) {
        Ok(location) => see_other(&location),
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: internal error: {detail}");
            }
            let flash = Flash::refused(error.message(false), error.message(true));
            render(state, staff, request, None, Some(&flash), error.status())
        }
    }
}

fn count(state: &AppState, staff: &Staff, input: &Input) -> Result<String, ApiError> {
    check_form_csrf(staff, input)?;
    let barcode = code(input, CODE)?;
    let today = state.today();
    let uses = state
        .write(|store| state.desk.count_in_house(store, &barcode, today))?
        .map_err(desk_error)?;
    let scope = state.desk.scope().as_str().to_owned();
    let title = state
        .read(|conn| db::copy_by_barcode(conn, &scope, &barcode))?
        .ok()
        .flatten()
        .map(|(_, title)| title)
        .unwrap_or_default();
    let what = describe(&title, &barcode);
    let flash = Flash::ok(
        format!("Đã ghi một lượt đọc tại chỗ: {what} (hôm nay {uses} lượt)."),
        format!("Counted one in-house use of {what} ({uses} today)."),
    );
    Ok(location(None, Some(&flash::keep(flash))))
}
