//! `GET /my-loans` and `POST /my-loans` (form: `card`, `pin`): a reader types their card
//! number and PIN and sees their open loans with due dates, and their holds. No login and no
//! cookie; a wrong card or PIN gets one message that does not say which was wrong.
//!
//! Guessing is throttled in memory: after 5 wrong PINs for a card within 15 minutes, that
//! card is refused for 15 minutes (also with the right PIN). A restart forgets the count,
//! which costs a guesser a restart of the appliance — not something they can cause.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use warp::http::StatusCode;

use super::{day, desk_error};
use crate::circulation::library::HoldStatus;
use crate::db;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::input::{Field, Input};
use crate::http::layout::{self, Frame};
use crate::http::{ApiError, AppState, PageRequest};

const CARD: Field = Field::new("card", "số thẻ", "the card number");
const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const LOCK: Duration = Duration::from_secs(15 * 60);
/// Cards remembered at most; a flood of made-up card numbers cannot grow memory without end.
const MAX_CARDS: usize = 10_000;

/// Wrong PINs per card (upper-cased): recent failures, and until when the card is locked.
#[derive(Default)]
struct Throttle {
    cards: HashMap<String, Attempts>,
}

#[derive(Default)]
struct Attempts {
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

impl Throttle {
    /// Whether the card may try a PIN now.
    fn allows(&mut self, card: &str, now: Instant) -> bool {
        self.cards.retain(|_, a| {
            a.failures.retain(|t| now.duration_since(*t) < WINDOW);
            a.locked_until.is_some_and(|until| until > now) || !a.failures.is_empty()
        });
        self.cards
            .get(card)
            .and_then(|a| a.locked_until)
            .is_none_or(|until| until <= now)
    }

    /// Notes a wrong PIN; the fifth within the window locks the card for the lock time.
    fn failed(&mut self, card: &str, now: Instant) {
        if self.cards.len() >= MAX_CARDS && !self.cards.contains_key(card) {
            return;
        }
        let attempts = self.cards.entry(card.to_owned()).or_default();
        attempts.failures.push(now);
        if attempts.failures.len() >= MAX_FAILURES {
            attempts.failures.clear();
            attempts.locked_until = Some(now + LOCK);
        }
    }
}

static THROTTLE: LazyLock<Mutex<Throttle>> = LazyLock::new(|| Mutex::new(Throttle::default()));

fn wrong() -> ApiError {
    ApiError::BadRequest {
        vi: "Số thẻ hoặc mã PIN không đúng.".into(),
        en: "The card number or PIN is not right.".into(),
    }
}

/// Checks a reader's card and PIN under the throttle. `Forbidden` while the card is locked.
pub fn check_reader_pin(state: &AppState, card: &str, pin: &str) -> Result<(), ApiError> {
    let key = card.to_uppercase();
    let now = Instant::now();
    if !THROTTLE
        .lock()
        .map_err(|_| ApiError::Unavailable)?
        .allows(&key, now)
    {
        return Err(ApiError::Forbidden);
    }
    let ok = state
        .write(|store| state.desk.check_pin(store, card, pin))?
        .map_err(desk_error)?;
    if ok {
        return Ok(());
    }
    THROTTLE
        .lock()
        .map_err(|_| ApiError::Unavailable)?
        .failed(&key, now);
    Err(wrong())
}

fn frame<'a>(state: &'a AppState, request: &'a PageRequest) -> Frame<'a> {
    Frame {
        lang: request.lang,
        library: &state.library.name,
        staff: None,
        clock_wrong: false,
        here: "/my-loans",
    }
}

pub fn get(state: &AppState, request: &PageRequest) -> warp::reply::Response {
    let html = layout::page(
        &frame(state, request),
        request.lang.t("desk.my.title"),
        &form(request.lang, "", None),
    );
    layout::reply(html, StatusCode::OK, request.lang, request.lang_in_query)
}

fn form(lang: Lang, card: &str, error: Option<&str>) -> String {
    let mut body = String::new();
    let _ = write!(body, "<h1>{}</h1>", lang.t("desk.my.title"));
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/my-loans\" class=\"stacked\">\
<label for=\"card\">{card_label}</label><input id=\"card\" name=\"card\" type=\"text\" value=\"{card}\" maxlength=\"40\" autocomplete=\"off\" autocapitalize=\"characters\" required>\
<label for=\"pin\">{pin_label}</label><input id=\"pin\" name=\"pin\" type=\"password\" inputmode=\"numeric\" maxlength=\"8\" autocomplete=\"off\" required>\
<button type=\"submit\">{show}</button></form><p class=\"hint\">{hint}</p>",
        card_label = lang.t("desk.my.card"),
        card = escape(card),
        pin_label = lang.t("desk.my.pin"),
        show = lang.t("desk.my.show"),
        hint = lang.t("desk.my.hint"),
    );
    body
}

pub fn post(state: &AppState, request: &PageRequest, input: &Input) -> warp::reply::Response {
    let lang = request.lang;
    let card = input
        .optional_text(CARD, 40)
        .ok()
        .flatten()
        .unwrap_or_default();
    match show(state, lang, input) {
        Ok(body) => {
            let html = layout::page(&frame(state, request), lang.t("desk.my.title"), &body);
            layout::reply(html, StatusCode::OK, lang, false)
        }
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: internal error: {detail}");
            }
            let message = match &error {
                ApiError::Forbidden => lang
                    .pick(
                        "Đã nhập sai nhiều lần. Hãy thử lại sau 15 phút hoặc hỏi thủ thư.",
                        "Too many wrong tries. Try again in 15 minutes or ask the librarian.",
                    )
                    .to_owned(),
                other => other.lang_message(lang),
            };
            let status = match &error {
                ApiError::Forbidden => StatusCode::TOO_MANY_REQUESTS,
                other => other.status(),
            };
            let html = layout::page(
                &frame(state, request),
                lang.t("desk.my.title"),
                &form(lang, &card, Some(&message)),
            );
            layout::reply(html, status, lang, false)
        }
    }
}

fn show(state: &AppState, lang: Lang, input: &Input) -> Result<String, ApiError> {
    let card = input.text(CARD, 40)?;
    let pin = input.text(PIN, 16)?;
    check_reader_pin(state, &card, &pin)?;
    let scope = state.desk.scope().as_str().to_owned();
    let today = state.today();
    let (reader, loans) = state
        .read(|conn| {
            Ok::<_, rusqlite::Error>((
                db::reader_by_card(conn, &scope, &card)?,
                db::open_loan_lines_of_reader(conn, &scope, &card)?,
            ))
        })?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let holds: Vec<_> = state
        .write(|store| state.desk.holds(store))?
        .map_err(desk_error)?
        .into_iter()
        .filter(|h| h.reader == card && h.is_open())
        .collect();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p><strong>{}</strong> · {}</p>",
        lang.t("desk.my.title"),
        escape(&reader.map(|r| r.name).unwrap_or_default()),
        escape(&card)
    );
    let _ = write!(
        body,
        "<h2>{} ({})</h2>",
        lang.t("desk.open_loans"),
        loans.len()
    );
    if loans.is_empty() {
        let _ = write!(body, "<p class=\"hint\">{}</p>", lang.t("desk.no_loans"));
    } else {
        body.push_str("<ul class=\"loans\">");
        for line in &loans {
            let due = chrono::NaiveDate::parse_from_str(&line.loan.due, "%Y-%m-%d").ok();
            let late = due.map(|d| (today - d).num_days()).unwrap_or(0);
            let _ = write!(
                body,
                "<li{}><strong>{}</strong><br>{} {}{}</li>",
                if late > 0 { " class=\"overdue\"" } else { "" },
                escape(&line.title),
                lang.t("desk.due"),
                due.map(day).unwrap_or_default(),
                if late > 0 {
                    format!(
                        " <strong class=\"error\">{}</strong>",
                        escape(&lang.pick(
                            format!("quá hạn {late} ngày"),
                            format!("{late} days overdue")
                        ))
                    )
                } else {
                    String::new()
                }
            );
        }
        body.push_str("</ul>");
    }
    if !holds.is_empty() {
        let _ = write!(body, "<h2>{}</h2><ul>", lang.t("desk.my.holds"));
        for hold in &holds {
            let title = state
                .read(|conn| db::record_title(conn, &hold.record))?
                .ok()
                .flatten()
                .unwrap_or_default();
            let status = match &hold.status {
                HoldStatus::Waiting { until, .. } => escape(&lang.pick(
                    format!("Sách đã có, đến lấy trước {}", day(*until)),
                    format!("Ready, pick it up by {}", day(*until)),
                )),
                _ => lang.t("desk.my.queued").to_owned(),
            };
            let _ = write!(
                body,
                "<li><strong>{}</strong><br>{}</li>",
                escape(&title),
                status
            );
        }
        body.push_str("</ul>");
    }
    let _ = write!(
        body,
        "<p><a class=\"button\" href=\"/my-loans\">{}</a></p>",
        lang.t("desk.my.close")
    );
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_pins_in_fifteen_minutes_lock_the_card_for_fifteen_more() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        let at = |minutes: u64| start + Duration::from_secs(minutes * 60);
        // Four wrong tries spread out, the first one aging out of the window: no lock.
        for minute in [0, 5, 10, 14] {
            assert!(throttle.allows("BD01", at(minute)));
            throttle.failed("BD01", at(minute));
        }
        assert!(throttle.allows("BD01", at(16)));
        throttle.failed("BD01", at(16)); // only 4 within the window (5, 10, 14, 16)
        assert!(throttle.allows("BD01", at(17)));
        throttle.failed("BD01", at(17)); // the fifth within 15 minutes: locked
        assert!(!throttle.allows("BD01", at(18)));
        assert!(!throttle.allows("BD01", at(31)));
        assert!(
            throttle.allows("BD02", at(18)),
            "other cards are not affected"
        );
        assert!(
            throttle.allows("BD01", at(33)),
            "the lock ends 15 minutes after it began"
        );
    }
}
