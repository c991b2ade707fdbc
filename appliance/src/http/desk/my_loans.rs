//! `GET /my-loans` and `POST /my-loans` (form: `card`, `pin`): a reader types their card
//! number and PIN and sees their open loans with due dates, and their holds. No login and no
//! cookie; a wrong card or PIN gets one message that does not say which was wrong.
//!
//! The PIN check and its throttle are [`crate::http::readers_pin`], shared with the
//! catalogue's reserve form and a reader's `POST /api/holds`.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::{day, desk_error};
use crate::circulation::library::HoldStatus;
use crate::db;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::input::{Field, Input};
use crate::http::layout::{self, Frame};
use crate::http::readers_pin::{self, check_reader_pin};
use crate::http::{ApiError, AppState, PageRequest};

const CARD: Field = Field::new("card", "số thẻ", "the card number");
const PIN: Field = Field::new("pin", "mã PIN", "the PIN");

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
            let (status, message) = readers_pin::refusal(&error, lang);
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
