//! `POST /records/{id}/reserve` (form: `card`, `pin`): a reader asks to reserve a book.
//!
//! WAITING FOR HOLDS: reservations as entities (`Desk::place_hold`) and readers' PINs are being
//! built on another branch. Until they are wired in here, a well-formed request is checked
//! (record exists, card and PIN present and plausible) and answered with "please ask at the
//! desk"; nothing is written.

use warp::http::StatusCode;

use super::frame;
use super::record_get::{load, render};
use crate::http::input::{Field, Input};
use crate::http::layout;
use crate::http::{ApiError, AppState, PageRequest};

const CARD: Field = Field::new("card", "số thẻ bạn đọc", "the reader's card number");
const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

fn check(input: &Input) -> Result<(), ApiError> {
    let card = input.text(CARD, 20)?;
    let pin = input.text(PIN, 12)?;
    if !card.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ApiError::BadRequest {
            vi: "Số thẻ chỉ gồm chữ và số, ví dụ BD0012.".into(),
            en: "A card number has letters and digits only, e.g. BD0012.".into(),
        });
    }
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::BadRequest {
            vi: "Mã PIN chỉ gồm chữ số.".into(),
            en: "The PIN has digits only.".into(),
        });
    }
    Ok(())
}

pub fn post(
    state: &AppState,
    request: &PageRequest,
    id: &str,
    input: &Input,
) -> warp::reply::Response {
    let lang = request.lang;
    let frame = frame(state, request);
    let view = match load(state, id) {
        Ok(view) => view,
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/search");
            return layout::reply(html, error.status(), lang, false);
        }
    };
    let (status, message, ok) = match check(input) {
        Ok(()) => (
            StatusCode::OK,
            lang.pick(
                "Vui lòng đến quầy để đặt trước: thủ thư sẽ giữ sách cho bạn.",
                "Please ask at the desk to reserve this book: the librarian will keep it for you.",
            )
            .to_owned(),
            true,
        ),
        Err(error) => (error.status(), error.lang_message(lang), false),
    };
    let html = layout::page(
        &frame,
        &view.row.title,
        &render(lang, &view, Some((&message, ok))),
    );
    layout::reply(html, status, lang, false)
}
