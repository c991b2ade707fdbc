//! `POST /records/{id}/reserve` (form: `card`, `pin`): a reader reserves a book from its page.
//!
//! The card is proved with its PIN under the one throttle of [`crate::http::readers_pin`]
//! (shared with "my loans" and `POST /api/holds`), then the desk places the hold
//! ([`crate::circulation::library::Desk::place_hold`]), which checks the reader may. The page
//! comes back with where the reader stands in the queue and how long a returned copy waits
//! for them, or with every reason it was refused; nothing is written on a refusal.

use warp::http::StatusCode;

use super::frame;
use super::record_get::{RecordView, load, render};
use crate::circulation::holds::PICKUP_OPEN_DAYS;
use crate::http::desk::desk_error;
use crate::http::i18n::Lang;
use crate::http::input::{Field, Input};
use crate::http::readers_pin::{self, check_reader_pin};
use crate::http::{ApiError, AppState, PageRequest, layout};

const CARD: Field = Field::new("card", "số thẻ bạn đọc", "the reader's card number");
const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

/// The card and PIN, if they look like a card and a PIN (before any store work).
fn check(input: &Input) -> Result<(String, String), ApiError> {
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
    Ok((card, pin))
}

/// A placed hold, as the reader is told about it.
struct Reserved {
    card: String,
    /// 1 is first in line.
    position: Option<usize>,
}

fn reserve(state: &AppState, record: &str, input: &Input) -> Result<Reserved, ApiError> {
    let (card, pin) = check(input)?;
    check_reader_pin(state, &card, &pin)?;
    let today = state.today();
    let hold = state
        .write(|store| state.desk.place_hold(store, &card, record, today))?
        .map_err(desk_error)?;
    let position = state
        .write(|store| state.desk.queue_position(store, &hold))?
        .map_err(desk_error)?;
    Ok(Reserved { card, position })
}

/// "Reserved; you are number 2 in the queue; we keep it for you 3 open days…" (not escaped).
fn confirmation(lang: Lang, view: &RecordView, home: &str, reserved: &Reserved) -> String {
    let days = PICKUP_OPEN_DAYS;
    let mut words = vec![lang.pick(
        format!("Đã đặt trước cho thẻ {}.", reserved.card),
        format!("Reserved for card {}.", reserved.card),
    )];
    if let Some(n) = reserved.position {
        words.push(lang.pick(
            format!("Bạn đứng thứ {n} trong hàng chờ."),
            format!("You are number {n} in the queue."),
        ));
    }
    words.push(lang.pick(
        format!(
            "Khi có sách trả về, thư viện sẽ giữ sách cho bạn {days} ngày mở cửa; \
xem tình trạng ở trang \"Sách tôi mượn\"."
        ),
        format!(
            "When a copy comes back, we will keep it for you {days} open days; \
see \"My loans\" for news."
        ),
    ));
    let on_shelf_here = view
        .availability
        .iter()
        .any(|a| a.library == home && a.on_shelf > 0);
    if on_shelf_here {
        words.push(
            lang.pick(
                "Hiện có sách trên giá: bạn có thể đến mượn ngay.",
                "A copy is on the shelf now: you can come and borrow it.",
            )
            .to_owned(),
        );
    }
    words.join(" ")
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
    let (status, message, ok) = match reserve(state, &view.row.id, input) {
        Ok(reserved) => (
            StatusCode::OK,
            confirmation(lang, &view, &state.library.id, &reserved),
            true,
        ),
        Err(error) => {
            let (status, message) = readers_pin::refusal(&error, lang);
            (status, message, false)
        }
    };
    let html = layout::page(
        &frame,
        &view.row.title,
        &render(lang, &view, Some((&message, ok))),
    );
    layout::reply(html, status, lang, false)
}
