//! `GET /staff/readers/{card}`: a reader's card, loan history (open loans first marked), and
//! the block form (block with a note, or lift the block).

use std::fmt::Write as _;

use super::desk_get::category_name;
use super::{day, day_text, desk_error, path_code, staff_page};
use crate::db;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};

/// The most loans the history shows.
const HISTORY: usize = 200;

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    card: &str,
    _: &(),
) -> warp::reply::Response {
    staff_page(state, staff, request, |frame| {
        let lang = frame.lang;
        let card = path_code(card, "bạn đọc", "reader")?;
        let reader = state
            .write(|store| state.desk.reader_profile(store, &card))?
            .map_err(desk_error)?;
        let scope = state.desk.scope().as_str().to_owned();
        let history = state
            .read(|conn| db::loan_history_of_reader(conn, &scope, &card, HISTORY))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let today = state.today().format("%Y-%m-%d").to_string();
        let mut body = String::with_capacity(8192);
        let _ = write!(
            body,
            "<h1>{name}</h1><p>{card_label} <strong>{card}</strong> · {category}</p>",
            name = escape(&reader.name),
            card_label = lang.t("desk.card"),
            card = escape(&reader.card),
            category = category_name(lang, &reader.category),
        );
        if let Some(on) = reader.card_expires {
            let _ = write!(body, "<p>{} {}</p>", lang.t("desk.card_valid"), day(on));
        }
        for (label, value) in [
            ("desk.readers.class", &reader.class),
            ("desk.readers.school", &reader.school),
            ("desk.readers.contact", &reader.contact),
        ] {
            if let Some(value) = value {
                let _ = write!(body, "<p>{}: {}</p>", lang.t(label), escape(value));
            }
        }
        let _ = write!(
            body,
            "<p><a class=\"button\" href=\"/staff/desk?reader={card}\">{desk}</a> \
<a href=\"/staff/readers/cards?card={card}\">{print}</a></p>",
            card = escape(&percent_encode(&reader.card)),
            desk = lang.t("desk.readers.to_desk"),
            print = lang.t("labels.cards.this"),
        );
        let action = format!(
            "/staff/readers/{}/block",
            escape(&percent_encode(&reader.card))
        );
        match &reader.blocked {
            Some(note) => {
                let _ = write!(
                    body,
                    "<p class=\"error\">{}: {}{}</p>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"action\" value=\"unblock\"><button type=\"submit\">{unblock}</button></form>",
                    lang.t("desk.blocked"),
                    escape(note),
                    reader
                        .blocked_since
                        .map(|d| format!(" ({})", day(d)))
                        .unwrap_or_default(),
                    csrf = escape(&staff.csrf),
                    unblock = lang.t("desk.readers.unblock"),
                );
            }
            None => {
                let _ = write!(
                    body,
                    "<form method=\"post\" action=\"{action}\" class=\"stacked\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"action\" value=\"block\"><label for=\"note\">{note}</label>\
<input id=\"note\" name=\"note\" type=\"text\" maxlength=\"200\" required><button type=\"submit\">{block}</button></form>",
                    csrf = escape(&staff.csrf),
                    note = lang.t("desk.readers.block_note"),
                    block = lang.t("desk.readers.block"),
                );
            }
        }
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/staff/readers/{card}/pin\" class=\"stacked\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><label for=\"pin\">{label}</label>\
<input id=\"pin\" name=\"pin\" type=\"text\" inputmode=\"numeric\" pattern=\"[0-9]{{4,8}}\" maxlength=\"8\" autocomplete=\"off\" required>\
<button type=\"submit\">{save}</button></form>",
            card = escape(&percent_encode(&reader.card)),
            csrf = escape(&staff.csrf),
            label = if reader.has_pin {
                lang.t("desk.readers.pin_change")
            } else {
                lang.t("desk.readers.pin_set")
            },
            save = lang.t("desk.readers.save"),
        );
        let _ = write!(body, "<h2>{}</h2>", lang.t("desk.readers.history"));
        if history.is_empty() {
            let _ = write!(body, "<p class=\"hint\">{}</p>", lang.t("desk.no_loans"));
        } else {
            body.push_str("<ul class=\"loans\">");
            for line in &history {
                let state_text = match &line.loan.returned {
                    Some(on) => format!("{} {}", lang.t("desk.readers.returned"), day_text(on)),
                    None if line.loan.due < today => format!(
                        "<strong class=\"error\">{} {}</strong>",
                        lang.t("desk.readers.overdue_since"),
                        day_text(&line.loan.due)
                    ),
                    None => format!("{} {}", lang.t("desk.due"), day_text(&line.loan.due)),
                };
                let _ = write!(
                    body,
                    "<li><strong>{}</strong> <span class=\"meta\">{} · {} {}</span><br>{}</li>",
                    escape(&line.title),
                    escape(&line.loan.copy),
                    lang.t("desk.readers.out"),
                    day_text(&line.loan.out),
                    state_text
                );
            }
            body.push_str("</ul>");
        }
        Ok(crate::http::layout::page(frame, &reader.name, &body))
    })
}
