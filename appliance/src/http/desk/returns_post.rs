//! `POST /api/returns` (JSON `{barcode}`, header `X-CSRF-Token`): checks a copy in → 200
//! `{barcode, loan, closed, late_days, fine, hold_for}`. `loan` is the closed loan (null when
//! no open loan was known here: the return is recorded for the sync to pair); `hold_for` names
//! the reader the copy is now set aside for, if anyone holds its record.

use warp::http::StatusCode;

use super::{BARCODE, code, desk_error_json};
use crate::circulation::library::ReturnReceipt;
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
    let barcode = code(input, BARCODE)?;
    let today = state.today();
    let slip = match state.write(|store| state.desk.check_in(store, &barcode, today))? {
        Ok(slip) => slip,
        Err(error) => return Ok(desk_error_json(error)),
    };
    let scope = state.desk.scope().as_str().to_owned();
    let hold_for = match &slip.hold {
        Some(hold) => {
            let card = hold.reader.clone();
            let name = state
                .read(|conn| db::reader_by_card(conn, &scope, &card))?
                .ok()
                .flatten()
                .map(|r| r.name)
                .unwrap_or_default();
            serde_json::json!({
                "hold": hold.hold,
                "card": hold.reader,
                "name": name,
                "until": hold.until.format("%Y-%m-%d").to_string(),
            })
        }
        None => serde_json::Value::Null,
    };
    let loan = match &slip.receipt {
        ReturnReceipt::Closed { loan, .. } => serde_json::Value::String(loan.clone()),
        ReturnReceipt::Recorded => serde_json::Value::Null,
    };
    Ok(json_reply(
        StatusCode::OK,
        &serde_json::json!({
            "barcode": barcode,
            "closed": !loan.is_null(),
            "loan": loan,
            "late_days": slip.late_days,
            "fine": slip.fine,
            "hold_for": hold_for,
        }),
    ))
}
