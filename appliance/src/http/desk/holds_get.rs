//! `GET /staff/holds`: the pickup shelf (copies set aside, until when), holds whose pickup
//! time ran out, and the queue of each record, each with a cancel button.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::flash;
use super::{day, desk_error, staff_page};
use crate::circulation::library::{HoldEntry, HoldStatus};
use crate::db;
use crate::http::auth::Staff;
use crate::http::html::escape;

use crate::http::{ApiError, AppState, PageRequest};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    staff_page(state, staff, request, |frame| {
        let lang = frame.lang;
        let today = state.today();
        let holds: Vec<HoldEntry> = state
            .write(|store| state.desk.holds(store))?
            .map_err(desk_error)?
            .into_iter()
            .filter(HoldEntry::is_open)
            .collect();
        let scope = state.desk.scope().as_str().to_owned();
        let (titles, names) = state
            .read(|conn| {
                let mut titles = BTreeMap::new();
                let mut names = BTreeMap::new();
                for hold in &holds {
                    if !titles.contains_key(&hold.record) {
                        let title = db::record_title(conn, &hold.record)?.unwrap_or_default();
                        titles.insert(hold.record.clone(), title);
                    }
                    if !names.contains_key(&hold.reader) {
                        let name = db::reader_by_card(conn, &scope, &hold.reader)?
                            .map(|r| r.name)
                            .unwrap_or_default();
                        names.insert(hold.reader.clone(), name);
                    }
                }
                Ok::<_, rusqlite::Error>((titles, names))
            })?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let title = |record: &str| {
            titles
                .get(record)
                .filter(|t| !t.is_empty())
                .cloned()
                .unwrap_or_else(|| record.to_owned())
        };
        let who = |card: &str| match names.get(card).filter(|n| !n.is_empty()) {
            Some(name) => format!("{name} ({card})"),
            None => card.to_owned(),
        };
        let cancel = |hold: &str| {
            format!(
                "<form method=\"post\" action=\"/staff/holds/{id}/cancel\" class=\"inline\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{label}</button></form>",
                id = escape(hold),
                csrf = escape(&staff.csrf),
                label = lang.t("desk.holds.cancel"),
            )
        };
        let mut body = String::with_capacity(4096);
        let _ = write!(body, "<h1>{}</h1>", lang.t("desk.holds.title"));
        if let Some(flash) = request.params.get("result").and_then(|id| flash::find(id)) {
            let _ = write!(
                body,
                "<p class=\"result {}\" role=\"status\">{}</p>",
                if flash.ok { "ok" } else { "error" },
                escape(flash.text(lang))
            );
        }
        let waiting: Vec<(&HoldEntry, &String, chrono::NaiveDate)> = holds
            .iter()
            .filter_map(|h| match &h.status {
                HoldStatus::Waiting { copy, until } => Some((h, copy, *until)),
                _ => None,
            })
            .collect();
        let (lapsed, shelf): (Vec<_>, Vec<_>) = waiting
            .into_iter()
            .partition(|(_, _, until)| *until < today);
        section(
            &mut body,
            lang.t("desk.holds.shelf"),
            lang.t("desk.holds.none"),
            &shelf,
            |b, (h, copy, until)| {
                let _ = write!(
                    b,
                    "<li><strong>{}</strong> <span class=\"meta\">{}</span><br>{}: {} · {} {}{}</li>",
                    escape(&title(&h.record)),
                    escape(copy),
                    lang.t("desk.holds.for"),
                    escape(&who(&h.reader)),
                    lang.t("desk.holds.until"),
                    day(*until),
                    cancel(&h.id)
                );
            },
        );
        section(
            &mut body,
            lang.t("desk.holds.lapsed"),
            lang.t("desk.holds.none"),
            &lapsed,
            |b, (h, copy, until)| {
                let _ = write!(
                    b,
                    "<li class=\"overdue\"><strong>{}</strong> <span class=\"meta\">{}</span><br>{}: {} · {} {}{}</li>",
                    escape(&title(&h.record)),
                    escape(copy),
                    lang.t("desk.holds.for"),
                    escape(&who(&h.reader)),
                    lang.t("desk.holds.until"),
                    day(*until),
                    cancel(&h.id)
                );
            },
        );
        if !lapsed.is_empty() {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/staff/holds/lapse\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button type=\"submit\">{}</button></form>",
                escape(&staff.csrf),
                lang.t("desk.holds.lapse_all")
            );
        }
        let _ = write!(body, "<h2>{}</h2>", lang.t("desk.holds.queues"));
        let mut by_record: BTreeMap<&str, Vec<&HoldEntry>> = BTreeMap::new();
        for hold in holds.iter().filter(|h| h.status == HoldStatus::Queued) {
            by_record
                .entry(hold.record.as_str())
                .or_default()
                .push(hold);
        }
        if by_record.is_empty() {
            let _ = write!(body, "<p class=\"hint\">{}</p>", lang.t("desk.holds.none"));
        }
        for (record, line) in by_record {
            let _ = write!(body, "<h3>{}</h3><ol>", escape(&title(record)));
            for hold in line {
                let _ = write!(
                    body,
                    "<li>{} · {} {}{}</li>",
                    escape(&who(&hold.reader)),
                    lang.t("desk.holds.placed"),
                    day(hold.placed),
                    cancel(&hold.id)
                );
            }
            body.push_str("</ol>");
        }
        Ok(crate::http::layout::page(
            frame,
            lang.t("desk.holds.title"),
            &body,
        ))
    })
}

fn section<T>(
    body: &mut String,
    heading: &str,
    empty: &str,
    items: &[T],
    mut item: impl FnMut(&mut String, &T),
) {
    let _ = write!(body, "<h2>{heading}</h2>");
    if items.is_empty() {
        let _ = write!(body, "<p class=\"hint\">{empty}</p>");
        return;
    }
    body.push_str("<ul>");
    for i in items {
        item(body, i);
    }
    body.push_str("</ul>");
}
