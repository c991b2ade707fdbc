//! `GET /staff/stocktake`: this library's stocktakes, newest first, and the button that
//! starts a new one.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::frame;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::layout;
use crate::http::{AppState, PageRequest, percent_encode};
use crate::stocktake;

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let frame = frame(state, staff, &request.here, request);
    let all = state
        .write(|store| stocktake::list(store, state.desk.scope()))
        .and_then(|r| r.map_err(super::stocktake_error));
    let all = match all {
        Ok(all) => all,
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/staff/desk");
            return layout::reply(html, error.status(), lang, request.lang_in_query);
        }
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"hint\">{}</p>\
<form method=\"post\" action=\"/staff/stocktake\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button type=\"submit\">{}</button></form>",
        lang.t("stock.title"),
        lang.t("stock.hint"),
        escape(&staff.csrf),
        lang.t("stock.start"),
    );
    if !all.is_empty() {
        body.push_str("<ul class=\"cards\">");
        for s in &all {
            let status = match &s.closed {
                Some(day) => format!("{} {}", lang.t("stock.closed"), escape(day)),
                None => lang.t("stock.open").to_owned(),
            };
            let _ = write!(
                body,
                "<li><a href=\"/staff/stocktake/{}\"><strong>{} {}</strong></a><br>\
<span class=\"meta\">{status} · {} {} · {} {}</span></li>",
                percent_encode(&s.id),
                lang.t("stock.started"),
                escape(&s.started),
                s.shelves.len(),
                lang.t("stock.shelves"),
                s.scans.len(),
                lang.t("stock.scans"),
            );
        }
        body.push_str("</ul>");
    }
    let html = layout::page(&frame, lang.t("stock.title"), &body);
    layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
}
