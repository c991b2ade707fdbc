//! `GET /staff/desk[?reader=CARD][&result=ID]`: the desk. One big scan field: with no reader
//! chosen, a card chooses the reader and a copy's barcode checks the copy in; with a reader
//! chosen, each barcode lends that copy to them. The reader's panel shows their card and open
//! loans (overdue marked) with a renew button each.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::flash::{self, Flash};
use super::{day, staff_frame};
use crate::circulation::library::HoldStatus;
use crate::db;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::layout;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let reader = request
        .params
        .get("reader")
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty() && r.len() <= 64);
    let flash = request.params.get("result").and_then(|id| flash::find(id));
    render(
        state,
        staff,
        request,
        reader.as_deref(),
        flash.as_ref(),
        StatusCode::OK,
    )
}

/// The desk's address with a reader chosen and a result to show.
pub fn location(reader: Option<&str>, result: Option<&str>) -> String {
    let mut query = Vec::new();
    if let Some(reader) = reader {
        query.push(format!("reader={}", percent_encode(reader)));
    }
    if let Some(result) = result {
        query.push(format!("result={}", percent_encode(result)));
    }
    if query.is_empty() {
        "/staff/desk".to_owned()
    } else {
        format!("/staff/desk?{}", query.join("&"))
    }
}

/// A reader category in words.
pub fn category_name(lang: Lang, category: &str) -> &'static str {
    match category {
        "child" => lang.t("desk.category.child"),
        "student" => lang.t("desk.category.student"),
        "teacher" => lang.t("desk.category.teacher"),
        "adult" => lang.t("desk.category.adult"),
        _ => lang.t("desk.category.other"),
    }
}

/// Draws the desk; `status` is not 200 when a post failed and the page is shown again.
pub fn render(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    reader: Option<&str>,
    flash: Option<&Flash>,
    status: StatusCode,
) -> warp::reply::Response {
    let lang = request.lang;
    let here = location(reader, None);
    let frame = staff_frame(state, staff, request, &here);
    let scope = state.desk.scope().as_str().to_owned();
    let today = state.today();
    let found = match reader {
        Some(card) => {
            let card = card.to_owned();
            let loaded = state.read(|conn| {
                let row = db::reader_by_card(conn, &scope, &card)?;
                let loans = db::open_loan_lines_of_reader(conn, &scope, &card)?;
                Ok::<_, rusqlite::Error>((row, loans))
            });
            match loaded {
                Ok(Ok(found)) => Some(found),
                Ok(Err(e)) => {
                    return super::error_reply(
                        &frame,
                        &ApiError::Internal(e.to_string()),
                        "/staff/desk",
                    );
                }
                Err(e) => return super::error_reply(&frame, &e, "/staff/desk"),
            }
        }
        None => None,
    };
    let mut body = String::with_capacity(4096);
    let _ = write!(body, "<h1>{}</h1>", lang.t("desk.title"));
    if let Some(flash) = flash {
        let _ = write!(
            body,
            "<p class=\"result {}\" role=\"status\">{}</p>",
            if flash.ok { "ok" } else { "error" },
            escape(flash.text(lang))
        );
    }
    let mut chosen = None;
    match &found {
        Some((None, _)) => {
            let _ = write!(
                body,
                "<p class=\"result error\" role=\"alert\">{}</p>",
                escape(&lang.pick(
                    format!(
                        "Không có bạn đọc nào có số thẻ {}.",
                        reader.unwrap_or_default()
                    ),
                    format!("No reader has card {}.", reader.unwrap_or_default()),
                ))
            );
        }
        Some((Some(row), loans)) => {
            chosen = Some(row.card.clone());
            let _ = write!(
                body,
                "<section class=\"reader\"><h2>{name}</h2><p>{card_label} <strong>{card}</strong> · {category}</p>",
                name = escape(&row.name),
                card_label = lang.t("desk.card"),
                card = escape(&row.card),
                category = category_name(lang, &row.category),
            );
            let expires = chrono::NaiveDate::parse_from_str(&row.card_expires, "%Y-%m-%d").ok();
            match expires {
                Some(on) if on < today => {
                    let _ = write!(
                        body,
                        "<p class=\"error\">{} {}</p>",
                        lang.t("desk.card_expired"),
                        day(on)
                    );
                }
                Some(on) => {
                    let _ = write!(body, "<p>{} {}</p>", lang.t("desk.card_valid"), day(on));
                }
                None => {}
            }
            if let Some(note) = &row.blocked {
                let _ = write!(
                    body,
                    "<p class=\"error\">{}: {}</p>",
                    lang.t("desk.blocked"),
                    escape(note)
                );
            }
            let _ = write!(
                body,
                "<h3>{} ({})</h3>",
                lang.t("desk.open_loans"),
                loans.len()
            );
            if loans.is_empty() {
                let _ = write!(body, "<p class=\"hint\">{}</p>", lang.t("desk.no_loans"));
            } else {
                body.push_str("<ul class=\"loans\">");
                for line in loans {
                    let due = chrono::NaiveDate::parse_from_str(&line.loan.due, "%Y-%m-%d").ok();
                    let late = due.map(|d| (today - d).num_days()).unwrap_or(0);
                    let due_text = due.map(day).unwrap_or_else(|| line.loan.due.clone());
                    let _ = write!(
                        body,
                        "<li{cls}><strong>{title}</strong> <span class=\"meta\">{barcode}</span><br>{due_label} {due}",
                        cls = if late > 0 { " class=\"overdue\"" } else { "" },
                        title = escape(if line.title.is_empty() {
                            &line.loan.copy
                        } else {
                            &line.title
                        }),
                        barcode = escape(&line.loan.copy),
                        due_label = lang.t("desk.due"),
                        due = due_text,
                    );
                    if late > 0 {
                        let _ = write!(
                            body,
                            " <strong class=\"error\">{}</strong>",
                            escape(&lang.pick(
                                format!("quá hạn {late} ngày"),
                                format!("{late} days overdue")
                            ))
                        );
                    }
                    let _ = write!(
                        body,
                        "<form method=\"post\" action=\"/staff/desk/renew\" class=\"inline\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"reader\" value=\"{card}\">\
<input type=\"hidden\" name=\"loan\" value=\"{loan}\"><button type=\"submit\">{renew}</button></form></li>",
                        csrf = escape(&staff.csrf),
                        card = escape(&row.card),
                        loan = escape(&line.loan.id),
                        renew = lang.t("desk.renew"),
                    );
                }
                body.push_str("</ul>");
            }
            let waiting: Vec<(String, String)> = state
                .write(|store| state.desk.holds(store))
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
                .into_iter()
                .filter(|h| h.reader == row.card)
                .filter_map(|h| match h.status {
                    HoldStatus::Waiting { copy, .. } => Some((h.record, copy)),
                    _ => None,
                })
                .collect();
            if !waiting.is_empty() {
                let _ = write!(body, "<h3>{}</h3><ul>", lang.t("desk.waiting_for_reader"));
                for (record, copy) in &waiting {
                    let title = state
                        .read(|conn| db::record_title(conn, record))
                        .ok()
                        .and_then(Result::ok)
                        .flatten()
                        .unwrap_or_default();
                    let _ = write!(
                        body,
                        "<li><strong>{}</strong> <span class=\"meta\">{}</span></li>",
                        escape(&title),
                        escape(copy)
                    );
                }
                body.push_str("</ul>");
            }
            body.push_str("</section>");
        }
        None => {}
    }
    let label = if chosen.is_some() {
        lang.t("desk.scan_copy")
    } else {
        lang.t("desk.scan_any")
    };
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/staff/desk/scan\" class=\"scan\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{reader_field}\
<label for=\"code\">{label}</label><div class=\"row\">\
<input id=\"code\" name=\"code\" type=\"text\" data-scan autofocus autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"40\" required>\
<button type=\"submit\">{ok}</button></div>\
<button type=\"button\" data-camera hidden>{camera}</button></form>",
        csrf = escape(&staff.csrf),
        reader_field = chosen
            .as_deref()
            .map(|card| format!(
                "<input type=\"hidden\" name=\"reader\" value=\"{}\">",
                escape(card)
            ))
            .unwrap_or_default(),
        ok = lang.t("desk.ok"),
        camera = lang.t("desk.camera"),
    );
    if chosen.is_some() {
        let _ = write!(
            body,
            "<p><a class=\"button done\" href=\"/staff/desk\">{}</a></p>",
            lang.t("desk.done")
        );
    } else {
        let _ = write!(
            body,
            "<details class=\"in-house\"><summary>{summary}</summary>\
<form method=\"post\" action=\"/staff/desk/in-house\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"in-house-code\">{label}</label><div class=\"row\">\
<input id=\"in-house-code\" name=\"code\" type=\"text\" autocomplete=\"off\" maxlength=\"40\" required>\
<button type=\"submit\">{ok}</button></div></form></details>",
            summary = lang.t("desk.in_house"),
            csrf = escape(&staff.csrf),
            label = lang.t("desk.in_house_label"),
            ok = lang.t("desk.ok"),
        );
    }
    let _ = write!(
        body,
        "<script src=\"/static/desk.js?v={}\" defer></script>",
        super::asset_version("desk.js")
    );
    let html = layout::page(&frame, lang.t("desk.title"), &body);
    layout::reply(html, status, lang, request.lang_in_query)
}
