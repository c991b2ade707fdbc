//! `GET /records/{id}`: one record for readers, with where its copies are (library, shelf,
//! how many on the shelf, how many out and until when) and the reserve form.
//! `GET /api/records/{id}`: the same as JSON. A merged record's page and JSON redirect
//! (308) to the record it was merged into.

use std::fmt::Write as _;

use tusach_sync::Value;
use warp::Reply;
use warp::http::StatusCode;

use super::{availability_words, frame, language_name, library_names, valid_record_id};
use crate::catalogue::record_key;
use crate::db::RecordRow;
use crate::holdings::{self, ShelfAvailability};
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::layout;
use crate::http::{ApiError, AppState, PageRequest, json_error, percent_encode};

/// A record as its page shows it.
pub struct RecordView {
    pub row: RecordRow,
    pub summary: Option<String>,
    pub availability: Vec<ShelfAvailability>,
    /// Library id → display name, for every library in `availability`.
    pub names: std::collections::HashMap<String, String>,
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        vi: "Không có sách này trong thư mục.".into(),
        en: "There is no such record in the catalogue.".into(),
    }
}

/// Reads a record from its document (for the summary) and its copies from the query tables.
pub fn load(state: &AppState, id: &str) -> Result<RecordView, ApiError> {
    if !valid_record_id(id) {
        return Err(not_found());
    }
    let fields = state
        .write(|store| store.get(&record_key(id)))?
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(not_found)?;
    let row = crate::search::record_row(id, &fields);
    let summary = fields
        .get("summary")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned);
    let availability = state
        .read(|conn| holdings::availability_of(conn, id))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let names = library_names(state, availability.iter().map(|a| a.library.clone()));
    Ok(RecordView {
        row,
        summary,
        availability,
        names,
    })
}

/// Where a merged record's links go: the survivor's path under `prefix`, when `id` was merged.
fn merged_redirect(state: &AppState, prefix: &str, id: &str) -> Option<warp::reply::Response> {
    if !valid_record_id(id) {
        return None;
    }
    let survivor = state
        .read(|conn| crate::db::canonical_record(conn, id))
        .ok()?
        .ok()?;
    if survivor == id {
        return None;
    }
    let location = format!("{prefix}{}", percent_encode(&survivor));
    let uri = location.parse::<warp::http::Uri>().ok()?;
    Some(warp::redirect::permanent(uri).into_response())
}

pub fn get(state: &AppState, request: &PageRequest, id: &str) -> warp::reply::Response {
    if let Some(moved) = merged_redirect(state, "/records/", id) {
        return moved;
    }
    let lang = request.lang;
    let frame = frame(state, request);
    match load(state, id) {
        Ok(view) => {
            let mut body = render(lang, &view, None);
            // Staff reach the edit page from here; readers never see the link.
            if request.session_cookie.is_some() {
                let _ = write!(
                    body,
                    "<p><a href=\"/staff/catalogue/records/{}\">{}</a></p>",
                    percent_encode(&view.row.id),
                    lang.pick(
                        "Sửa hoặc gộp biểu ghi (thủ thư)",
                        "Edit or merge the record (staff)"
                    )
                );
            }
            let html = layout::page(&frame, &view.row.title, &body);
            layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
        }
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/search");
            layout::reply(html, error.status(), lang, request.lang_in_query)
        }
    }
}

/// The record page's body; `notice` is a message shown above the reserve form.
pub fn render(lang: Lang, view: &RecordView, notice: Option<(&str, bool)>) -> String {
    let r = &view.row;
    let mut page = String::with_capacity(4096);
    let _ = write!(
        page,
        "<article class=\"record\"><h1>{}</h1><p class=\"who\">{}</p><dl>",
        escape(&r.title),
        escape(&r.authors.join(", "))
    );
    let mut row = |label: &str, value: String| {
        if !value.is_empty() {
            let _ = write!(page, "<dt>{label}</dt><dd>{value}</dd>");
        }
    };
    row(lang.t("opac.record.publisher"), escape(&r.publisher));
    row(
        lang.t("opac.record.year"),
        r.year.map(|y| y.to_string()).unwrap_or_default(),
    );
    row("ISBN", escape(r.isbn.as_deref().unwrap_or("")));
    row(
        lang.t("opac.record.language"),
        escape(&language_name(lang, r.language.as_deref().unwrap_or(""))),
    );
    row("DDC", escape(r.ddc.as_deref().unwrap_or("")));
    row(
        lang.t("opac.record.subjects"),
        r.subjects
            .iter()
            .map(|s| {
                format!(
                    "<a href=\"/search?q={}\">{}</a>",
                    escape(&percent_encode(s)),
                    escape(s)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    page.push_str("</dl>");
    if let Some(summary) = &view.summary {
        let _ = write!(page, "<p class=\"summary\">{}</p>", escape(summary));
    }
    let _ = write!(page, "<h2>{}</h2>", lang.t("opac.record.where"));
    if view.availability.is_empty() {
        let _ = write!(page, "<p>{}</p>", lang.t("opac.record.no_copies"));
    } else {
        page.push_str("<ul class=\"where\">");
        for shelf in &view.availability {
            let library = view
                .names
                .get(&shelf.library)
                .map_or(shelf.library.as_str(), String::as_str);
            let place = if shelf.shelf.is_empty() {
                String::new()
            } else {
                format!(" — {}", escape(&shelf.shelf))
            };
            let class = if shelf.on_shelf > 0 { "ok" } else { "meta" };
            let _ = write!(
                page,
                "<li><strong>{}</strong>{place}: <span class=\"{class}\">{}</span></li>",
                escape(library),
                escape(&availability_words(lang, shelf)),
            );
        }
        page.push_str("</ul>");
    }
    let _ = write!(page, "<h2>{}</h2>", lang.t("opac.reserve.title"));
    if let Some((message, ok)) = notice {
        let _ = write!(
            page,
            "<p role=\"alert\" class=\"{}\">{}</p>",
            if ok { "ok" } else { "error" },
            escape(message)
        );
    }
    let _ = write!(
        page,
        "<form method=\"post\" action=\"/records/{id}/reserve\" class=\"stack\">\
<label for=\"card\">{card}</label><input id=\"card\" name=\"card\" autocomplete=\"username\" maxlength=\"20\" required>\
<label for=\"pin\">{pin}</label><input id=\"pin\" name=\"pin\" type=\"password\" inputmode=\"numeric\" autocomplete=\"current-password\" maxlength=\"12\" required>\
<button type=\"submit\">{button}</button></form></article>",
        id = percent_encode(&r.id),
        card = lang.t("opac.reserve.card"),
        pin = lang.t("opac.reserve.pin"),
        button = lang.t("opac.reserve.button"),
    );
    page
}

pub fn get_json(state: &AppState, id: &str) -> warp::reply::Response {
    if let Some(moved) = merged_redirect(state, "/api/records/", id) {
        return moved;
    }
    match load(state, id) {
        Ok(view) => {
            let mut body = super::records_search::record_json(&view.row);
            body["summary"] = serde_json::json!(view.summary);
            body["availability"] = view
                .availability
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "library": a.library,
                        "library_name": view.names.get(&a.library).unwrap_or(&a.library),
                        "shelf": a.shelf,
                        "on_shelf": a.on_shelf,
                        "reading_room": a.reading_room,
                        "on_loan": a.on_loan,
                        "next_due": a.next_due.map(|d| d.format("%Y-%m-%d").to_string()),
                    })
                })
                .collect();
            warp::reply::json(&body).into_response()
        }
        Err(error) => json_error(&error),
    }
}
