//! `GET /staff/district?month=YYYY-MM`: the district as its hub holds it. Each library with its
//! devices, when each was last heard from and how many changes it still lacks; then the
//! month's figures per library, with the district's total and the CSV download
//! (`district_csv.rs`). On a commune appliance it shows its own library only: it holds no
//! other.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::Datelike;

use super::stats_month_csv::parse_month;
use super::{internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest};
use crate::reports::district::{DistrictLibrary, LibraryReport, report_by_library};
use crate::reports::{Period, PeriodReport};
use crate::sync_service::contacts::{DeviceContact, by_library};

/// The `month` parameter, this month when absent.
pub(super) fn month_asked(state: &AppState, request: &PageRequest) -> Result<(i32, u32), ApiError> {
    match request.params.get("month").map(|m| m.trim()) {
        None | Some("") => {
            let today = state.today();
            Ok((today.year(), today.month()))
        }
        Some(text) => parse_month(Some(text)),
    }
}

/// The district's month, every library counted under one store lock.
pub(super) fn district_month(
    state: &AppState,
    year: i32,
    month: u32,
) -> Result<Vec<LibraryReport>, ApiError> {
    district_period(state, Period::Month { year, month })
}

/// The district's period, every library counted under one store lock.
pub(super) fn district_period(
    state: &AppState,
    period: Period,
) -> Result<Vec<LibraryReport>, ApiError> {
    state
        .write(|store| report_by_library(store, period))?
        .map_err(internal)
}

fn local_time(seconds: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(seconds, 0).map(|t| {
        t.with_timezone(&chrono::Local)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    })
}

/// The figures of the month table, in its column order.
fn figures(report: &PeriodReport) -> [i64; 7] {
    [
        report.loans,
        report.returns,
        report.visits,
        report.in_house_uses,
        report.new_readers,
        report.active_readers,
        report.collection_by_class.iter().sum::<i64>() + report.collection_unclassified,
    ]
}

/// The figures' codes, as the month CSV names them (`data-figure` on the page).
const FIGURE_CODES: [&str; 7] = [
    "loans",
    "returns",
    "visits",
    "in_house_uses",
    "new_readers",
    "active_readers",
    "collection",
];

/// The figures' column headings.
const FIGURE_KEYS: [&str; 7] = [
    "district.loans",
    "district.returns",
    "district.visits",
    "district.in_house",
    "district.new_readers",
    "district.active_readers",
    "district.copies",
];

fn contacts_cell(lang: Lang, devices: &[DeviceContact]) -> (String, String, String) {
    if devices.is_empty() {
        let none = lang.t("district.no_device").to_owned();
        return (none, "—".into(), "—".into());
    }
    let mut names = String::new();
    for device in devices {
        let label = if device.label.is_empty() {
            &device.device[..device.device.len().min(8)]
        } else {
            device.label.as_str()
        };
        let _ = write!(
            names,
            "<div data-device=\"{}\">{}</div>",
            escape(&device.device),
            escape(label)
        );
    }
    // Most recent first (see `contacts::by_library`).
    let last = devices
        .iter()
        .find_map(|d| d.last_contact)
        .and_then(local_time)
        .unwrap_or_else(|| lang.t("district.never").to_owned());
    let pending = devices.iter().map(|d| d.pending).max().unwrap_or(0);
    (names, escape(&last), pending.to_string())
}

fn libraries_table(
    html: &mut String,
    lang: Lang,
    libraries: &[&DistrictLibrary],
    contacts: &BTreeMap<String, Vec<DeviceContact>>,
) {
    let _ = write!(
        html,
        "<h2>{}</h2><table data-libraries><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("district.libraries"),
        lang.t("district.library"),
        lang.t("district.devices"),
        lang.t("district.last_contact"),
        lang.t("district.pending"),
    );
    for library in libraries {
        let devices = contacts.get(&library.id).map_or(&[][..], Vec::as_slice);
        let (names, last, pending) = contacts_cell(lang, devices);
        let _ = write!(
            html,
            "<tr data-library=\"{id}\"><td>{name}<br><small>{id}</small></td><td>{names}</td><td data-last-contact>{last}</td><td data-pending>{pending}</td></tr>",
            id = escape(&library.id),
            name = escape(&library.name),
        );
    }
    let _ = write!(
        html,
        "</tbody></table><p class=\"hint\">{}</p>",
        lang.t("district.pending_hint")
    );
}

fn month_table(html: &mut String, lang: Lang, months: &[LibraryReport]) {
    html.push_str("<table data-district-month><thead><tr>");
    let _ = write!(html, "<th>{}</th>", lang.t("district.library"));
    for key in FIGURE_KEYS {
        let _ = write!(html, "<th>{}</th>", lang.t(key));
    }
    html.push_str("</tr></thead><tbody>");
    let mut total = [0i64; 7];
    for month in months {
        let _ = write!(
            html,
            "<tr data-library=\"{}\"><td>{}</td>",
            escape(&month.library.id),
            escape(&month.library.name)
        );
        match &month.report {
            Some(report) => {
                for (i, value) in figures(report).into_iter().enumerate() {
                    total[i] += value;
                    let _ = write!(html, "<td data-figure=\"{}\">{value}</td>", FIGURE_CODES[i]);
                }
            }
            None => {
                let _ = write!(
                    html,
                    "<td colspan=\"7\">{}</td>",
                    lang.t("district.no_data")
                );
            }
        }
        html.push_str("</tr>");
    }
    let _ = write!(
        html,
        "</tbody><tfoot><tr data-total><th>{}</th>",
        lang.t("district.total")
    );
    for (i, value) in total.into_iter().enumerate() {
        let _ = write!(html, "<th data-figure=\"{}\">{value}</th>", FIGURE_CODES[i]);
    }
    html.push_str("</tr></tfoot></table>");
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let page = month_asked(state, request).and_then(|(year, month)| {
        let months = district_month(state, year, month)?;
        let now = tusach_sync::transport::tcp::unix_now();
        let contacts = state
            .write(|store| by_library(store, now))?
            .map_err(internal)?;
        let title = lang.t("district.title").to_owned();
        let month_text = format!("{year:04}-{month:02}");
        let mut html = format!(
            "<h1>{}</h1><p><a class=\"button\" href=\"/staff/district/catalogue\">{}</a></p>",
            escape(&title),
            lang.t("district.catalogue"),
        );
        let libraries: Vec<&DistrictLibrary> = months.iter().map(|m| &m.library).collect();
        if libraries.is_empty() {
            let _ = write!(html, "<p>{}</p>", lang.t("district.no_libraries"));
        } else {
            libraries_table(&mut html, lang, &libraries, &contacts);
        }
        let _ = write!(
            html,
            "<h2>{heading} {month:02}/{year:04}</h2>\
             <form method=\"get\" action=\"/staff/district\"><label>{pick} <input type=\"month\" name=\"month\" value=\"{month_text}\" required></label> <button type=\"submit\">{show}</button></form>\
             <p><a class=\"button\" href=\"/staff/district/month.csv?month={month_text}\" download>{csv}</a> \
             <a class=\"button\" href=\"/staff/district/report?period={month_text}\">{report}</a></p>",
            report = lang.t("reports.report.link"),
            heading = lang.t("district.month_heading"),
            pick = lang.t("district.pick_month"),
            show = lang.t("district.show"),
            csv = lang.t("district.csv"),
        );
        month_table(&mut html, lang, &months);
        Ok((title, html))
    });
    render(state, staff, request, "/staff/stats", page)
}
