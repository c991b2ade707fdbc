//! `GET /staff/overdue`: open loans past their due date, the longest overdue first, with the
//! reader's name, the title and the days late.

use std::fmt::Write as _;

use super::{day, staff_page};
use crate::db;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    staff_page(state, staff, request, |frame| {
        let lang = frame.lang;
        let today = state.today();
        let scope = state.desk.scope().as_str().to_owned();
        let iso = today.format("%Y-%m-%d").to_string();
        let lines = state
            .read(|conn| db::overdue_loan_lines(conn, &scope, &iso))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut body = String::with_capacity(8192);
        let _ = write!(
            body,
            "<h1>{}</h1><p>{}</p>",
            lang.t("desk.overdue.title"),
            escape(&lang.pick(
                format!("{} cuốn quá hạn.", lines.len()),
                format!("{} overdue loans.", lines.len())
            ))
        );
        if !lines.is_empty() {
            let _ = write!(
                body,
                "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                lang.t("desk.overdue.reader"),
                lang.t("desk.overdue.book"),
                lang.t("desk.due"),
                lang.t("desk.overdue.days"),
            );
            for line in &lines {
                let due = chrono::NaiveDate::parse_from_str(&line.loan.due, "%Y-%m-%d").ok();
                let late = due.map(|d| (today - d).num_days()).unwrap_or(0);
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/staff/desk?reader={link}\">{name}</a><br><span class=\"meta\">{card}</span></td>\
<td>{title}<br><span class=\"meta\">{barcode}</span></td><td>{due}</td><td class=\"error\">{late}</td></tr>",
                    link = escape(&percent_encode(&line.loan.reader)),
                    name = escape(&line.reader_name),
                    card = escape(&line.loan.reader),
                    title = escape(&line.title),
                    barcode = escape(&line.loan.copy),
                    due = due.map(day).unwrap_or_else(|| escape(&line.loan.due)),
                );
            }
            body.push_str("</tbody></table>");
        }
        Ok(crate::http::layout::page(
            frame,
            lang.t("desk.overdue.title"),
            &body,
        ))
    })
}
