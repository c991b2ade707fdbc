//! `GET /staff/visits`: the door counter: today's total at all desks in big figures, "+1" and
//! "+5" buttons a librarian can hit without looking, and the last seven days.

use std::fmt::Write as _;

use chrono::Days;

use super::{internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::{AppState, PageRequest};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let today = state.today();
    let days: Vec<_> = (0..7u64)
        .filter_map(|n| today.checked_sub_days(Days::new(n)))
        .collect();
    let counts = state
        .write(|store| {
            days.iter()
                .map(|day| state.desk.visits_on(store, *day).map(|n| (*day, n)))
                .collect::<Result<Vec<_>, _>>()
        })
        .and_then(|r| r.map_err(internal));
    let page = counts.map(|counts| {
        let total_today = counts.first().map(|(_, n)| *n).unwrap_or(0);
        let title = lang.t("reports.visits.title").to_owned();
        let mut html = format!(
            "<h1>{title}</h1><p class=\"visits-today\">{label}: <strong data-visits-today>{total_today}</strong></p>\
<div class=\"visit-buttons\">",
            title = escape(&title),
            label = lang.t("reports.visits.today"),
        );
        for people in [1, 5] {
            let _ = write!(
                html,
                "<form method=\"post\" action=\"/staff/visits\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"people\" value=\"{people}\">\
<button type=\"submit\" class=\"big\" aria-label=\"{aria} {people}\">+{people}</button></form>",
                csrf = escape(&staff.csrf),
                aria = lang.t("reports.visits.add"),
            );
        }
        let _ = write!(
            html,
            "</div><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>",
            lang.t("reports.visits.last_days"),
            lang.t("reports.visits.day"),
            lang.t("reports.visits.people"),
        );
        for (day, people) in &counts {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{people}</td></tr>",
                day.format("%Y-%m-%d")
            );
        }
        html.push_str("</tbody></table>");
        (title, html)
    });
    render(state, staff, request, "/staff/visits", page)
}
