//! `GET /staff/readers[?q=…]`: readers in Vietnamese order of their given name (the last word
//! of the name), then the rest; `q` finds names (with or without accents) or card numbers.

use std::fmt::Write as _;

use super::desk_get::category_name;
use super::staff_page;
use crate::db;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};
use crate::search::fold;

/// More than a commune library's readers fit on a phone screen anyway; search narrows.
const SHOWN: usize = 500;

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    staff_page(state, staff, request, |frame| {
        let lang = frame.lang;
        let q = request
            .params
            .get("q")
            .map(|q| q.trim().chars().take(80).collect::<String>())
            .unwrap_or_default();
        let folded = fold::fold(&q);
        let scope = state.desk.scope().as_str().to_owned();
        let search = (!folded.is_empty()).then_some(folded.as_str());
        let rows = state
            .read(|conn| db::readers_sorted(conn, &scope, search, SHOWN))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut body = String::with_capacity(16384);
        let _ = write!(
            body,
            "<h1>{title}</h1><p><a class=\"button\" href=\"/staff/readers/new\">{new}</a> \
<a href=\"/staff/readers/cards\">{cards}</a></p>\
<form method=\"get\" action=\"/staff/readers\" role=\"search\"><input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"{hint}\" aria-label=\"{hint}\">\
<button type=\"submit\">{find}</button></form>",
            title = lang.t("desk.readers.title"),
            new = lang.t("desk.readers.new"),
            cards = lang.t("labels.cards.link"),
            q = escape(&q),
            hint = lang.t("desk.readers.search_hint"),
            find = lang.t("desk.readers.find"),
        );
        if rows.is_empty() {
            let _ = write!(
                body,
                "<p class=\"hint\">{}</p>",
                lang.t("desk.readers.none")
            );
        } else {
            body.push_str("<ul class=\"readers\">");
            for row in &rows {
                let _ = write!(
                    body,
                    "<li><a href=\"/staff/readers/{link}\">{name}</a> <span class=\"meta\">{card} · {category}</span>{blocked}</li>",
                    link = escape(&percent_encode(&row.card)),
                    name = escape(&row.name),
                    card = escape(&row.card),
                    category = category_name(lang, &row.category),
                    blocked = if row.blocked.is_some() {
                        format!(
                            " <strong class=\"error\">{}</strong>",
                            lang.t("desk.blocked")
                        )
                    } else {
                        String::new()
                    },
                );
            }
            body.push_str("</ul>");
        }
        Ok(crate::http::layout::page(
            frame,
            lang.t("desk.readers.title"),
            &body,
        ))
    })
}
