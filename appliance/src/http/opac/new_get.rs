//! `GET /new?page=N`: new arrivals, the records this library's catalogue learned of last,
//! as compact cards without covers, 20 to a page.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::frame;
use crate::db;
use crate::http::html::escape;
use crate::http::layout;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};

const PER_PAGE: usize = 20;
const MAX_PAGE: usize = 500;

pub fn get(state: &AppState, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let frame = frame(state, request);
    let page = match request.params.get("page").map(|p| p.trim()) {
        None | Some("") => Ok(1),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or(ApiError::BadRequest {
                vi: format!("Số trang phải từ 1 đến {MAX_PAGE}."),
                en: format!("page must be a number from 1 to {MAX_PAGE}."),
            }),
    };
    let rows = page.and_then(|page| {
        state
            .read(|conn| db::newest_records(conn, (page - 1) * PER_PAGE, PER_PAGE + 1))?
            .map(|rows| (page, rows))
            .map_err(|e| ApiError::Internal(e.to_string()))
    });
    let (page, mut rows) = match rows {
        Ok(found) => found,
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/new");
            return layout::reply(html, error.status(), lang, request.lang_in_query);
        }
    };
    let more = rows.len() > PER_PAGE;
    rows.truncate(PER_PAGE);
    let mut body = format!("<h1>{}</h1>", lang.t("opac.new.title"));
    if rows.is_empty() {
        let _ = write!(body, "<p>{}</p>", lang.t("opac.new.none"));
    }
    body.push_str("<ul class=\"cards\">");
    for r in &rows {
        let _ = write!(
            body,
            "<li><a href=\"/records/{}\"><strong>{}</strong></a><br><span class=\"who\">{}</span>\
<br><span class=\"meta\">{} {}</span></li>",
            percent_encode(&r.id),
            escape(&r.title),
            escape(&r.authors.join(", ")),
            escape(&r.publisher),
            r.year.map(|y| y.to_string()).unwrap_or_default(),
        );
    }
    body.push_str("</ul><p class=\"pages\">");
    if page > 1 {
        let _ = write!(
            body,
            "<a class=\"button\" href=\"/new?page={}\">← {}</a> ",
            page - 1,
            lang.t("opac.new.newer")
        );
    }
    if more {
        let _ = write!(
            body,
            "<a class=\"button\" href=\"/new?page={}\">{} →</a>",
            page + 1,
            lang.t("opac.new.older")
        );
    }
    body.push_str("</p>");
    let html = layout::page(&frame, lang.t("opac.new.title"), &body);
    layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
}
