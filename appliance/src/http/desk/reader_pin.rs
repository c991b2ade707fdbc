//! `POST /staff/readers/{card}/pin` (form: `csrf`, `pin`): sets or changes the PIN a reader
//! types on "my loans" (4 to 8 digits; stored salted and hashed), then back to the reader.

use super::{back_to_reader, check_form_csrf, desk_error, path_code};
use crate::circulation::readers::valid_pin;
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest};

const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    card: &str,
    input: &Input,
) -> warp::reply::Response {
    back_to_reader(state, staff, request, set(state, staff, card, input))
}

fn set(state: &AppState, staff: &Staff, card: &str, input: &Input) -> Result<String, ApiError> {
    check_form_csrf(staff, input)?;
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
