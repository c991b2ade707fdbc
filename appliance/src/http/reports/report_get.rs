//! A period's report (a month or a year) as a printable page and as an `.xlsx` file:
//! `GET /staff/stats/report[.xlsx]?period=YYYY-MM|YYYY` for this library, and
//! `GET /staff/district/report[.xlsx]?period=…` for every library whose data this device holds
//! (a hub), one column each with a total. The figures are [`super::figures`], the same as the
//! month CSV's.

use std::fmt::Write as _;

use chrono::Datelike;

use super::district_get::district_period;
use super::figures::side_by_side;
use super::stats_month_csv::{own_report, parse_period};
use super::{error_page, frame, internal, render, report_xlsx};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest};
use crate::reports::{Period, PeriodReport};

/// The period asked for; last month when absent (the report a librarian sends at the start
/// of a month).
fn period_asked(state: &AppState, request: &PageRequest) -> Result<Period, ApiError> {
    match request.params.get("period").map(|p| p.trim()) {
        None | Some("") => {
            let today = state.today();
            Ok(if today.month() == 1 {
                Period::Month {
                    year: today.year() - 1,
                    month: 12,
                }
            } else {
                Period::Month {
                    year: today.year(),
                    month: today.month() - 1,
                }
            })
        }
        Some(text) => parse_period(Some(text)),
    }
}

/// Libraries with figures, by name; a district's libraries without data are left out.
type Columns = Vec<(String, PeriodReport)>;

fn own(state: &AppState, period: Period) -> Result<Columns, ApiError> {
    Ok(vec![(
        state.library.name.clone(),
        own_report(state, period)?,
    )])
}

fn district(state: &AppState, period: Period) -> Result<Columns, ApiError> {
    Ok(district_period(state, period)?
        .into_iter()
        .filter_map(|l| l.report.map(|r| (l.library.name, r)))
        .collect())
}

pub fn own_page(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    page(state, staff, request, "/staff/stats/report", own)
}

pub fn district_page(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
) -> warp::reply::Response {
    page(state, staff, request, "/staff/district/report", district)
}

pub fn own_xlsx(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    // The library id is lowercase letters, digits and '-' (checked when it was chosen).
    let name = format!("tusach-{}", state.library.id);
    xlsx(state, staff, request, "/staff/stats", &name, own)
}

pub fn district_xlsx(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
) -> warp::reply::Response {
    xlsx(
        state,
        staff,
        request,
        "/staff/district",
        "tusach-huyen",
        district,
    )
}

fn xlsx(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    back: &str,
    file_stem: &str,
    columns: fn(&AppState, Period) -> Result<Columns, ApiError>,
) -> warp::reply::Response {
    let made = period_asked(state, request).and_then(|period| {
        let columns = columns(state, period)?;
        let libraries: Vec<(&str, &PeriodReport)> =
            columns.iter().map(|(n, r)| (n.as_str(), r)).collect();
        let title = format!("Báo cáo thống kê — {}", state.library.name);
        let bytes = report_xlsx::workbook(&title, &period.label(), &libraries).map_err(internal)?;
        Ok((period, bytes))
    });
    match made {
        Ok((period, bytes)) => {
            report_xlsx::download(bytes, &format!("{file_stem}-{}.xlsx", period.label()))
        }
        Err(error) => error_page(&frame(state, staff, request), &error, back),
    }
}

fn page(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    path: &str,
    columns: fn(&AppState, Period) -> Result<Columns, ApiError>,
) -> warp::reply::Response {
    let lang = request.lang;
    let made = period_asked(state, request).and_then(|period| {
        let columns = columns(state, period)?;
        let title = format!("{} {}", lang.t("reports.report.title"), period_words(lang, period));
        let mut html = String::new();
        let _ = write!(
            html,
            "<h1>{title}</h1><p class=\"no-print\">{library}</p>\
             <form class=\"no-print\" method=\"get\" action=\"{path}\"><label>{pick} \
             <input name=\"period\" value=\"{label}\" placeholder=\"2026-09 / 2026\" \
             pattern=\"[0-9]{{4}}(-[0-9]{{2}})?\" required></label> \
             <button type=\"submit\">{show}</button></form>\
             <p class=\"no-print\"><a class=\"button\" href=\"{path}.xlsx?period={label}\" download>{xlsx}</a> \
             <button type=\"button\" onclick=\"window.print()\">{print}</button></p>",
            title = escape(&title),
            library = escape(&state.library.name),
            label = period.label(),
            pick = lang.t("reports.report.pick"),
            show = lang.t("reports.stats.show"),
            xlsx = lang.t("reports.report.xlsx"),
            print = lang.t("reports.report.print"),
        );
        table(&mut html, lang, &columns);
        Ok((title, html))
    });
    render(state, staff, request, "/staff/stats", made)
}

/// "tháng 9/2026" / "September 2026"-like words for the heading.
fn period_words(lang: Lang, period: Period) -> String {
    match period {
        Period::Month { year, month } => {
            format!("{} {month:02}/{year:04}", lang.pick("tháng", "month"))
        }
        Period::Year(year) => format!("{} {year:04}", lang.pick("năm", "year")),
    }
}

fn table(html: &mut String, lang: Lang, columns: &Columns) {
    if columns.is_empty() {
        let _ = write!(html, "<p>{}</p>", lang.t("reports.report.none"));
        return;
    }
    let reports: Vec<&PeriodReport> = columns.iter().map(|(_, r)| r).collect();
    let with_total = columns.len() > 1;
    let _ = write!(
        html,
        "<table class=\"report\"><thead><tr><th>{}</th><th>{}</th>",
        lang.t("reports.report.figure"),
        lang.t("reports.report.group"),
    );
    for (name, _) in columns {
        let _ = write!(html, "<th>{}</th>", escape(name));
    }
    if with_total {
        let _ = write!(html, "<th>{}</th>", lang.t("reports.report.total"));
    }
    html.push_str("</tr></thead><tbody>");
    for figure in side_by_side(lang, &reports) {
        let _ = write!(
            html,
            "<tr data-figure=\"{}\"><td>{}</td><td>{}</td>",
            escape(&figure.code),
            escape(figure.name),
            escape(&figure.group),
        );
        for value in &figure.values {
            let _ = write!(html, "<td class=\"number\">{value}</td>");
        }
        if with_total {
            let _ = write!(
                html,
                "<td class=\"number\"><strong>{}</strong></td>",
                figure.total()
            );
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
}
