//! The circulation desk over HTTP: the scan-driven desk page, readers, holds, the overdue
//! list, reader cards to print (PDF), the readers' "my loans" page, and the JSON API for
//! loans, returns, renewals, holds and readers.
//!
//! Pages work without JavaScript: every form posts, and the answer is a 303 back to the page
//! with the result line kept in a small in-memory list ([`flash`]) and named in the query, so
//! reloading the page never lends or returns twice. Input errors and unknown codes re-render
//! the page with a 4xx status and nothing written.
//!
//! Every [`DeskError`] becomes an HTTP answer in one place: [`desk_error`] (with
//! [`desk_error_json`] adding the refusal reasons to the JSON body).

mod desk_get;
mod desk_in_house;
mod desk_renew;
mod desk_scan;
mod flash;
mod hold_cancel;
mod holds_get;
mod holds_lapse;
mod holds_post;
mod loan_renew;
mod loans_post;
mod my_loans;
mod openapi;
mod overdue_get;
mod reader_block;
mod reader_cards_get;
mod reader_cards_post;
mod reader_get;
mod reader_loans_get;
mod reader_new;
mod reader_pin;
mod readers_get;
mod readers_post;
mod returns_post;

use std::sync::Arc;

use chrono::NaiveDate;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

use super::auth::Staff;
use super::input::{Field, Input};
use super::layout::{self, Frame};
use super::route::{Route, any_of, no_body, staff_form, staff_get, staff_json, with_param};
use super::{
    ApiError, AppState, PageRequest, blocking, check_form_csrf, csrf_header, form_body, json_body,
    json_reply, page_request, staff, with_state,
};
use crate::circulation::desk::Refusal;
use crate::circulation::holds::HoldRefusal;
use crate::circulation::library::DeskError;

pub use openapi::openapi_paths;

/// Card numbers and barcodes: printed on labels, never long.
const MAX_CODE_CHARS: usize = 40;

const CODE: Field = Field::new("code", "mã quét (thẻ hoặc sách)", "the scanned code");
const CARD: Field = Field::new("card", "số thẻ bạn đọc", "the reader's card number");
const BARCODE: Field = Field::new("barcode", "mã vạch của sách", "the copy's barcode");

/// A date as Vietnamese librarians write it (also fine in English).
pub(crate) fn day(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// A stored ISO date as [`day`] writes it; text that is not a date comes back escaped.
pub(crate) fn day_text(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(day)
        .unwrap_or_else(|_| super::html::escape(iso))
}

/// A refusal in plain words, Vietnamese and English, with a stable code for programs.
pub(crate) fn refusal_words(refusal: &Refusal) -> (&'static str, String, String) {
    match refusal {
        Refusal::CardExpired { on } => (
            "card_expired",
            format!("Thẻ bạn đọc đã hết hạn ngày {}.", day(*on)),
            format!("The reader's card expired on {}.", day(*on)),
        ),
        Refusal::ReaderBlocked { note } => (
            "reader_blocked",
            format!("Bạn đọc đang bị tạm khoá: {note}."),
            format!("The reader is blocked: {note}."),
        ),
        Refusal::TooManyLoans { max } => (
            "too_many_loans",
            format!("Bạn đọc đã mượn đủ {max} cuốn, cần trả bớt trước."),
            format!("The reader already has the most loans allowed ({max})."),
        ),
        Refusal::Overdue { loans, oldest_due } => (
            "overdue",
            format!(
                "Bạn đọc có {loans} cuốn quá hạn (hạn trả từ ngày {}), cần trả trước.",
                day(*oldest_due)
            ),
            format!(
                "The reader has {loans} overdue loan(s) (due since {}).",
                day(*oldest_due)
            ),
        ),
        Refusal::CopyOnLoan { to_reader, due } => (
            "copy_on_loan",
            format!(
                "Cuốn này đang cho bạn đọc {to_reader} mượn, hạn trả {}. Hãy nhận trả trước.",
                day(*due)
            ),
            format!(
                "This copy is on loan to {to_reader}, due {}. Check it in first.",
                day(*due)
            ),
        ),
        Refusal::CopyNotForLoan => (
            "not_for_loan",
            "Sách này chỉ đọc tại chỗ, không cho mượn về.".into(),
            "This item is for use in the library only.".into(),
        ),
        Refusal::CopyLost => (
            "copy_lost",
            "Cuốn này đã được ghi là bị mất.".into(),
            "This copy is recorded as lost.".into(),
        ),
        Refusal::CopyWithdrawn => (
            "copy_withdrawn",
            "Cuốn này đã được thanh lý.".into(),
            "This copy was withdrawn.".into(),
        ),
        Refusal::RenewalLimit { max } => (
            "renewal_limit",
            format!("Đã gia hạn đủ {max} lần, không gia hạn thêm được."),
            format!("Already renewed the most times allowed ({max})."),
        ),
        Refusal::CopyHeldForReader { reader, until } => (
            "copy_held_for_reader",
            format!(
                "Cuốn này đang để riêng cho bạn đọc {reader} (đặt trước, giữ đến {}).",
                day(*until)
            ),
            format!(
                "This copy is set aside for reader {reader}'s hold (until {}).",
                day(*until)
            ),
        ),
        Refusal::NotThisReadersLoan => (
            "not_this_readers_loan",
            "Lượt mượn này không phải của bạn đọc này.".into(),
            "This loan belongs to another reader.".into(),
        ),
    }
}

pub(crate) fn hold_refusal_words(refusal: &HoldRefusal) -> (&'static str, String, String) {
    match refusal {
        HoldRefusal::AlreadyQueued => (
            "already_queued",
            "Bạn đọc đã đặt trước sách này rồi.".into(),
            "The reader already has a hold on this title.".into(),
        ),
        HoldRefusal::AlreadyBorrowed => (
            "already_borrowed",
            "Bạn đọc đang mượn sách này.".into(),
            "The reader has this title on loan now.".into(),
        ),
        HoldRefusal::TooManyHolds { max } => (
            "too_many_holds",
            format!("Bạn đọc đã đặt trước đủ {max} sách."),
            format!("The reader already has the most holds allowed ({max})."),
        ),
    }
}

fn reasons(error: &DeskError) -> Vec<(&'static str, String, String)> {
    match error {
        DeskError::Refused(refusals) => refusals.iter().map(refusal_words).collect(),
        DeskError::HoldRefused(refusals) => refusals.iter().map(hold_refusal_words).collect(),
        _ => Vec::new(),
    }
}

/// The one place a desk error becomes an HTTP error: unknown reader, copy, loan, record or
/// hold → 404; a refusal → 409 with every reason; bad input → 400; the store → 500.
pub(crate) fn desk_error(error: DeskError) -> ApiError {
    let not_found = |vi: String, en: String| ApiError::NotFound { vi, en };
    match error {
        DeskError::UnknownReader(card) => not_found(
            format!("Không có bạn đọc nào có số thẻ {card}."),
            format!("No reader has card number {card}."),
        ),
        DeskError::UnknownCopy(barcode) => not_found(
            format!("Không có cuốn sách nào có mã vạch {barcode}."),
            format!("No copy has barcode {barcode}."),
        ),
        DeskError::UnknownLoan(loan) => not_found(
            format!("Không có lượt mượn đang mở nào mã {loan}."),
            format!("No open loan {loan}."),
        ),
        DeskError::UnknownRecord(record) => not_found(
            format!("Không có đầu sách nào mã {record}."),
            format!("No record {record}."),
        ),
        DeskError::UnknownHold(hold) => not_found(
            format!("Không có lượt đặt trước đang chờ nào mã {hold}."),
            format!("No open hold {hold}."),
        ),
        DeskError::Refused(_) | DeskError::HoldRefused(_) => {
            let words = reasons(&error);
            let (lead_vi, lead_en) = match error {
                DeskError::HoldRefused(_) => ("Không đặt trước được", "Hold refused"),
                _ => ("Không thực hiện được", "Refused"),
            };
            ApiError::Conflict {
                vi: format!(
                    "{lead_vi}: {}",
                    words
                        .iter()
                        .map(|w| w.1.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                en: format!(
                    "{lead_en}: {}",
                    words
                        .iter()
                        .map(|w| w.2.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            }
        }
        DeskError::CardTaken(card) => ApiError::Conflict {
            vi: format!("Số thẻ {card} đã có bạn đọc dùng. Hãy chọn số thẻ khác."),
            en: format!("Card number {card} is already in use. Choose another."),
        },
        DeskError::Invalid(what) => ApiError::BadRequest {
            vi: format!("Dữ liệu không hợp lệ ({what})."),
            en: format!("Not acceptable: {what}."),
        },
        other @ (DeskError::InvalidLibrary(_)
        | DeskError::BadData(_)
        | DeskError::Random(_)
        | DeskError::Store(_)
        | DeskError::Database(_)) => ApiError::Internal(other.to_string()),
    }
}

/// A desk error as a JSON answer; refusals list their reasons.
pub(crate) fn desk_error_json(error: DeskError) -> warp::reply::Response {
    let words = reasons(&error);
    let api = desk_error(error);
    if words.is_empty() {
        return super::json_error(&api);
    }
    json_reply(
        api.status(),
        &serde_json::json!({
            "error": api.message(false),
            "error_en": api.message(true),
            "reasons": words.iter().map(|(code, vi, en)| serde_json::json!({
                "code": code, "vi": vi, "en": en
            })).collect::<Vec<_>>(),
        }),
    )
}

/// A JSON handler's result as a response.
fn json_result(result: Result<warp::reply::Response, ApiError>) -> warp::reply::Response {
    result.unwrap_or_else(|e| super::json_error(&e))
}

/// The frame of a staff page.
fn staff_frame<'a>(
    state: &'a AppState,
    staff: &'a Staff,
    request: &'a PageRequest,
    here: &'a str,
) -> Frame<'a> {
    Frame {
        lang: request.lang,
        library: &state.library.name,
        staff: Some(staff),
        clock_wrong: state.clock_wrong(),
        here,
    }
}

/// A staff page, or its error page with the error's status.
fn staff_page(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    render: impl FnOnce(&Frame<'_>) -> Result<String, ApiError>,
) -> warp::reply::Response {
    let frame = staff_frame(state, staff, request, &request.here);
    match render(&frame) {
        Ok(html) => layout::reply(html, StatusCode::OK, request.lang, request.lang_in_query),
        Err(error) => error_reply(&frame, &error, "/staff/desk"),
    }
}

fn error_reply(frame: &Frame<'_>, error: &ApiError, back: &str) -> warp::reply::Response {
    if let ApiError::Internal(detail) = error {
        eprintln!("http: internal error: {detail}");
    }
    let html = layout::error_page(frame, &error.lang_message(frame.lang), back);
    layout::reply(html, error.status(), frame.lang, false)
}

/// A 303 to a page of ours.
fn see_other(location: &str) -> warp::reply::Response {
    match location.parse::<warp::http::Uri>() {
        Ok(uri) => warp::redirect::see_other(uri).into_response(),
        Err(_) => {
            warp::redirect::see_other(warp::http::Uri::from_static("/staff/desk")).into_response()
        }
    }
}

/// A card or barcode as scanned: trimmed, no spaces inside, at most 40 characters.
fn code(input: &Input, field: Field) -> Result<String, ApiError> {
    let code = input.text(field, MAX_CODE_CHARS)?;
    if code.chars().any(char::is_whitespace) {
        return Err(ApiError::BadRequest {
            vi: format!("Mã \"{code}\" có khoảng trắng; hãy quét lại."),
            en: format!("The code \"{code}\" contains spaces; scan it again."),
        });
    }
    Ok(code)
}

/// A code from the URL path, checked like a scanned one.
fn path_code(code: &str, what_vi: &str, what_en: &str) -> Result<String, ApiError> {
    let ok = !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(code.to_owned())
    } else {
        Err(ApiError::NotFound {
            vi: format!("Không có {what_vi} nào như vậy."),
            en: format!("There is no such {what_en}."),
        })
    }
}

/// The version tag of a static file, for links that change when the file does.
fn asset_version(name: &str) -> String {
    super::assets::etag(name)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

/// The CSRF header and an optional (ignored) body of at most the usual size, for JSON posts
/// that take no fields.
fn csrf_only() -> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone {
    warp::body::content_length_limit(super::input::MAX_BODY_BYTES)
        .and(warp::body::bytes())
        .and(csrf_header())
        .map(|_body: bytes::Bytes, csrf: String| csrf)
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let s = &state;
    let routes: Vec<Route> = vec![
        staff_get(s, warp::path!("staff" / "desk"), desk_get::get),
        staff_form(s, warp::path!("staff" / "desk" / "scan"), desk_scan::post),
        staff_form(s, warp::path!("staff" / "desk" / "renew"), desk_renew::post),
        staff_form(
            s,
            warp::path!("staff" / "desk" / "in-house"),
            desk_in_house::post,
        ),
        staff_get(s, warp::path!("staff" / "holds"), holds_get::get),
        staff_form(
            s,
            warp::path!("staff" / "holds" / "lapse"),
            holds_lapse::post,
        ),
        with_param(
            s,
            warp::path!("staff" / "holds" / String / "cancel"),
            warp::post(),
            form_body(),
            hold_cancel::post_form,
        ),
        staff_get(s, warp::path!("staff" / "overdue"), overdue_get::get),
        staff_get(s, warp::path!("staff" / "readers"), readers_get::get),
        staff_get(s, warp::path!("staff" / "readers" / "new"), reader_new::get),
        // Before `/staff/readers/{card}`, like `new`: "cards" is a page, not a card number.
        staff_get(
            s,
            warp::path!("staff" / "readers" / "cards"),
            reader_cards_get::get,
        ),
        staff_form(
            s,
            warp::path!("staff" / "readers" / "cards"),
            reader_cards_post::post,
        ),
        staff_form(
            s,
            warp::path!("staff" / "readers" / "new"),
            reader_new::post,
        ),
        with_param(
            s,
            warp::path!("staff" / "readers" / String),
            warp::get(),
            no_body(),
            reader_get::get,
        ),
        with_param(
            s,
            warp::path!("staff" / "readers" / String / "block"),
            warp::post(),
            form_body(),
            reader_block::post,
        ),
        with_param(
            s,
            warp::path!("staff" / "readers" / String / "pin"),
            warp::post(),
            form_body(),
            reader_pin::post,
        ),
        staff_json(s, warp::path!("api" / "loans"), loans_post::post),
        staff_json(s, warp::path!("api" / "returns"), returns_post::post),
        staff_json(s, warp::path!("api" / "readers"), readers_post::post),
        warp::path!("api" / "loans" / String / "renew")
            .and(warp::post())
            .and(staff(s.clone()))
            .and(csrf_only())
            .and(with_state(s.clone()))
            .and_then(
                |loan: String, who: Staff, csrf: String, state: Arc<AppState>| {
                    blocking(move || json_result(loan_renew::post(&state, &who, &csrf, &loan)))
                },
            )
            .boxed(),
        warp::path!("api" / "readers" / String / "loans")
            .and(warp::get())
            .and(staff(s.clone()))
            .and(with_state(s.clone()))
            .and_then(|card: String, _who: Staff, state: Arc<AppState>| {
                blocking(move || json_result(reader_loans_get::get(&state, &card)))
            })
            .boxed(),
        warp::path!("api" / "holds")
            .and(warp::post())
            .and(warp::cookie::optional::<String>(
                super::auth::SESSION_COOKIE,
            ))
            .and(csrf_header())
            .and(json_body())
            .and(with_state(s.clone()))
            .and_then(
                |cookie: Option<String>, csrf: String, input: Input, state: Arc<AppState>| {
                    blocking(move || {
                        json_result(holds_post::post(&state, cookie.as_deref(), &csrf, &input))
                    })
                },
            )
            .boxed(),
        warp::path!("api" / "holds" / String / "cancel")
            .and(warp::post())
            .and(staff(s.clone()))
            .and(csrf_only())
            .and(with_state(s.clone()))
            .and_then(
                |hold: String, who: Staff, csrf: String, state: Arc<AppState>| {
                    blocking(move || {
                        json_result(hold_cancel::post_json(&state, &who, &csrf, &hold))
                    })
                },
            )
            .boxed(),
        warp::path!("my-loans")
            .and(warp::get())
            .and(page_request())
            .and(with_state(s.clone()))
            .and_then(|request: PageRequest, state: Arc<AppState>| {
                blocking(move || my_loans::get(&state, &request))
            })
            .boxed(),
        warp::path!("my-loans")
            .and(warp::post())
            .and(page_request())
            .and(form_body())
            .and(with_state(s.clone()))
            .and_then(|request: PageRequest, input: Input, state: Arc<AppState>| {
                blocking(move || my_loans::post(&state, &request, &input))
            })
            .boxed(),
    ];
    any_of(routes)
}

/// After a change to one reader: back to the reader's page, or the error on a page of its own.
fn back_to_reader(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    outcome: Result<String, ApiError>,
) -> warp::reply::Response {
    match outcome {
        Ok(card) => see_other(&format!(
            "/staff/readers/{}",
            crate::http::percent_encode(&card)
        )),
        Err(error) => error_reply(
            &staff_frame(state, staff, request, "/staff/readers"),
            &error,
            "/staff/readers",
        ),
    }
}
