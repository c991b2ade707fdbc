//! `POST /api/loans` (JSON `{card, barcode}`, header `X-CSRF-Token`): lends a copy to a
//! reader → 201 `{loan, card, barcode, title, due}`; 409 with every reason when refused; 404
//! for an unknown card or barcode.

use warp::http::StatusCode;

use super::{BARCODE, CARD, code, desk_error_json};
use crate::db;
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{ApiError, AppState, check_csrf, json_reply};

pub fn post(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    input: &Input,
) -> Result<warp::reply::Response, ApiError> {
    check_csrf(staff, csrf)?;
    let card = code(input, CARD)?;
    let barcode = code(input, BARCODE)?;
    let today = state.today();
    let receipt = match state.write(|store| state.desk.lend(store, &card, &barcode, today))? {
        Ok(receipt) => receipt,
        Err(error) => return Ok(desk_error_json(error)),
    };
    let scope = state.desk.scope().as_str().to_owned();
    let title = state
        .read(|conn| db::copy_by_barcode(conn, &scope, &barcode))?
        .ok()
        .flatten()
        .map(|(_, title)| title)
        .unwrap_or_default();
    Ok(json_reply(
        StatusCode::CREATED,
        &serde_json::json!({
            "loan": receipt.loan,
            "card": card,
            "barcode": barcode,
            "title": title,
            "due": receipt.due.format("%Y-%m-%d").to_string(),
        }),
    ))
}
