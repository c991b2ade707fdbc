//! `POST /api/holds` (JSON `{card, record}`, plus `pin` when a reader places it): a
//! reservation → 201 `{hold, card, record}`; 409 with the reasons when refused.
//!
//! Staff send their session's `X-CSRF-Token`. A reader has no session and proves the card
//! with its PIN instead, under the one throttle of [`crate::http::readers_pin`] (the same
//! check as the record page's reserve form, `POST /records/{id}/reserve`).

use warp::http::StatusCode;

use super::{CARD, code, desk_error_json};
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, json_reply};
use crate::http::{auth, readers_pin};

const RECORD: Field = Field::new("record", "đầu sách", "the record");
const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

pub fn post(
    state: &AppState,
    cookie: Option<&str>,
    csrf: &str,
    input: &Input,
) -> Result<warp::reply::Response, ApiError> {
    let card = code(input, CARD)?;
    let record = input.text(RECORD, 80)?;
    let pin = input.optional_text(PIN, 16)?;
    let staff_ok = auth::authenticate(state, cookie).is_some_and(|s| s.csrf_matches(csrf));
    if !staff_ok {
        match pin {
            Some(pin) => readers_pin::check_reader_pin(state, &card, &pin)?,
            None => return Err(ApiError::Forbidden),
        }
    }
    let today = state.today();
    Ok(
        match state.write(|store| state.desk.place_hold(store, &card, &record, today))? {
            Ok(hold) => json_reply(
                StatusCode::CREATED,
                &serde_json::json!({"hold": hold, "card": card, "record": record}),
            ),
            Err(error) => desk_error_json(error),
        },
    )
}
