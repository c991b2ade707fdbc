//! `POST /staff/readers/{card}/pin` (form: `csrf`, `pin`): sets or changes the PIN a reader
//! types on "my loans" (4 to 8 digits; stored salted and hashed), then back to the reader.

use super::{desk_error, error_reply, form_csrf, path_code, see_other, staff_frame};
use crate::circulation::readers::valid_pin;
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, percent_encode};

const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    card: &str,
    input: &Input,
) -> warp::reply::Response {
    match set(state, staff, card, input) {
        Ok(card) => see_other(&format!("/staff/readers/{}", percent_encode(&card))),
        Err(error) => error_reply(
            &staff_frame(state, staff, request, "/staff/readers"),
            &error,
            "/staff/readers",
        ),
    }
}

fn set(state: &AppState, staff: &Staff, card: &str, input: &Input) -> Result<String, ApiError> {
    form_csrf(staff, input)?;
    let card = path_code(card, "bạn đọc", "reader")?;
    let pin = input.text(PIN, 16)?;
    if !valid_pin(&pin) {
        return Err(ApiError::BadRequest {
            vi: "Mã PIN phải gồm 4 đến 8 chữ số.".into(),
            en: "The PIN must be 4 to 8 digits.".into(),
        });
    }
    state
        .write(|store| state.desk.set_pin(store, &card, &pin))?
        .map_err(desk_error)?;
    Ok(card)
}
