//! `POST /api/readers` (JSON `{card, name, category, card_expires, class?, school?, contact?,
//! pin?}`, header `X-CSRF-Token`): registers a reader → 201 `{card}`; 409 when the card
//! number is taken. The checks are shared with the registration form.

use warp::http::StatusCode;

use super::{CARD, code, desk_error_json};
use crate::circulation::readers::{CATEGORIES, NewReader, valid_pin};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, check_csrf, json_reply};

pub const NAME: Field = Field::new("name", "họ và tên", "the name");
pub const CATEGORY: Field = Field::new("category", "loại bạn đọc", "the reader category");
pub const EXPIRES: Field = Field::new("card_expires", "ngày hết hạn thẻ", "the card's expiry date");
pub const CLASS: Field = Field::new("class", "lớp", "the class");
pub const SCHOOL: Field = Field::new("school", "trường", "the school");
pub const CONTACT: Field = Field::new("contact", "liên hệ", "the contact");
pub const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

/// Every field checked, before anything is written.
pub fn parse(input: &Input) -> Result<NewReader, ApiError> {
    let card = code(input, CARD)?;
    let name = input.text(NAME, 80)?;
    let category = input.choice(CATEGORY, &CATEGORIES)?;
    let card_expires = input.date(EXPIRES)?;
    let class = input.optional_text(CLASS, 40)?;
    let school = input.optional_text(SCHOOL, 80)?;
    let contact = input.optional_text(CONTACT, 120)?;
    let pin = input.optional_text(PIN, 16)?;
    if let Some(pin) = &pin
        && !valid_pin(pin)
    {
        return Err(ApiError::BadRequest {
            vi: "Mã PIN phải gồm 4 đến 8 chữ số.".into(),
            en: "The PIN must be 4 to 8 digits.".into(),
        });
    }
    Ok(NewReader {
        card,
        name,
        category,
        card_expires,
        class,
        school,
        contact,
        pin,
    })
}

pub fn post(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    input: &Input,
) -> Result<warp::reply::Response, ApiError> {
    check_csrf(staff, csrf)?;
    let new = parse(input)?;
    let today = state.today();
    Ok(
        match state.write(|store| state.desk.register_reader(store, &new, today))? {
            Ok(()) => json_reply(StatusCode::CREATED, &serde_json::json!({"card": new.card})),
            Err(error) => desk_error_json(error),
        },
    )
}
