//! `GET /staff/stats?year=YYYY`: the year in charts (loans, visits and in-house uses per
//! month, loans by reader category, the ten most lent titles, the collection by DDC class),
//! and the form that downloads a month's CSV. `GET /api/stats?year=YYYY`: the same figures
//! as JSON.

use std::fmt::Write as _;

use chrono::Datelike;
use warp::http::StatusCode;

use super::charts::{self, Bar};
use super::{category_label, class_label, internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest, Params, json_error, json_reply};
use crate::reports::{DDC_CLASSES, LibraryFacts, YearStatistics};

/// The `year` parameter: this year when absent.
fn year(state: &AppState, params: &Params) -> Result<i32, ApiError> {
    match params.get("year").map(|y| y.trim()) {
        None | Some("") => Ok(state.today().year()),
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| ApiError::BadRequest {
                vi: "Năm phải là một số từ 2000 đến 2100, ví dụ 2026.".into(),
                en: "The year must be a number from 2000 to 2100, e.g. 2026.".into(),
            }),
    }
}

pub(super) fn statistics(state: &AppState, year: i32) -> Result<YearStatistics, ApiError> {
    let facts = state
        .write(|store| LibraryFacts::gather(store, state.desk.scope()))?
        .map_err(internal)?;
    Ok(YearStatistics::of(&facts, year))
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let page = year(state, &request.params)
        .and_then(|year| Ok((year, statistics(state, year)?)))
        .map(|(year, stats)| body(state, request.lang, year, &stats));
    render(state, staff, request, "/staff/stats", page)
}

fn body(state: &AppState, lang: Lang, year: i32, stats: &YearStatistics) -> (String, String) {
    let title = format!("{} {year}", lang.t("reports.stats.title"));
    let data = lang.t("reports.chart.data");
    const EN_MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // "T3" is how Vietnamese writes "tháng 3" where space is short.
    let months: Vec<String> = (1..=12)
        .map(|m| lang.pick(format!("T{m}"), EN_MONTHS[m - 1].to_owned()))
        .collect();
    let per_month = |values: &[i64; 12]| -> Vec<Bar> {
        months
            .iter()
            .zip(values)
            .map(|(label, value)| Bar {
                label: label.clone(),
                value: *value,
            })
            .collect()
    };
    let mut html = format!("<h1>{}</h1>", escape(&title));
    // The report goes to the district after the month ends: offer last month.
    let today = state.today();
    let last_month = today
        .with_day(1)
        .and_then(|first| first.pred_opt())
        .unwrap_or(today)
        .format("%Y-%m")
        .to_string();
    let _ = write!(
        html,
        "<form method=\"get\" action=\"/staff/stats\"><label for=\"year\">{year_label}</label>\
<input id=\"year\" name=\"year\" type=\"number\" min=\"2000\" max=\"2100\" value=\"{year}\">\
<button type=\"submit\">{show}</button></form>\
<form method=\"get\" action=\"/staff/stats/month.csv\"><label for=\"month\">{month_label}</label>\
<input id=\"month\" name=\"month\" type=\"month\" value=\"{last_month}\" placeholder=\"2026-09\" pattern=\"[0-9]{{4}}-[0-9]{{2}}\">\
<button type=\"submit\">{download}</button></form>\
<p><a class=\"button\" href=\"/staff/stats/report?period={last_month}\">{report}</a> \
<a class=\"button\" href=\"/staff/district\">{district}</a></p>",
        report = lang.t("reports.report.link"),
        district = lang.t("district.link"),
        year_label = lang.t("reports.stats.year"),
        show = lang.t("reports.stats.show"),
        month_label = lang.t("reports.stats.month_csv"),
        download = lang.t("reports.stats.download"),
    );
    html.push_str(&charts::columns(
        "loans-per-month",
        lang.t("reports.chart.loans_per_month"),
        data,
        &per_month(&stats.loans_per_month),
    ));
    html.push_str(&charts::columns(
        "visits-per-month",
        lang.t("reports.chart.visits_per_month"),
        data,
        &per_month(&stats.visits_per_month),
    ));
    html.push_str(&charts::columns(
        "in-house-per-month",
        lang.t("reports.chart.in_house_per_month"),
        data,
        &per_month(&stats.in_house_per_month),
    ));
    let categories: Vec<Bar> = stats
        .loans_by_category
        .iter()
        .map(|(category, loans)| Bar {
            label: category_label(lang, category),
            value: *loans,
        })
        .collect();
    html.push_str(&charts::rows(
        "loans-by-category",
        lang.t("reports.chart.loans_by_category"),
        data,
        &categories,
    ));
    if stats.top_titles.is_empty() {
        let _ = write!(
            html,
            "<h2>{}</h2><p class=\"hint\">{}</p>",
            lang.t("reports.chart.top_titles"),
            lang.t("reports.stats.no_loans")
        );
    } else {
        let titles: Vec<Bar> = stats
            .top_titles
            .iter()
            .map(|t| Bar {
                label: t.title.clone(),
                value: t.loans,
            })
            .collect();
        html.push_str(&charts::rows(
            "top-titles",
            lang.t("reports.chart.top_titles"),
            data,
            &titles,
        ));
    }
    let classes: Vec<Bar> = (0..DDC_CLASSES.len())
        .map(|class| Bar {
            label: class_label(lang, class),
            value: stats.collection_by_class[class],
        })
        .collect();
    html.push_str(&charts::rows(
        "collection-by-class",
        lang.t("reports.chart.collection_by_class"),
        data,
        &classes,
    ));
    if stats.unclassified_copies > 0 {
        let _ = write!(
            html,
            "<p class=\"hint\">{}: {}</p>",
            lang.t("reports.stats.unclassified"),
            stats.unclassified_copies
        );
    }
    (title, html)
}

pub fn get_json(state: &AppState, params: &Params) -> warp::reply::Response {
    let stats = match year(state, params).and_then(|year| statistics(state, year)) {
        Ok(stats) => stats,
        Err(error) => return json_error(&error),
    };
    let body = serde_json::json!({
        "year": stats.year,
        "loans_per_month": stats.loans_per_month,
        "visits_per_month": stats.visits_per_month,
        "in_house_per_month": stats.in_house_per_month,
        "loans_by_category": stats.loans_by_category.iter()
            .map(|(category, loans)| serde_json::json!({"category": category, "loans": loans}))
            .collect::<Vec<_>>(),
        "top_titles": stats.top_titles.iter()
            .map(|t| serde_json::json!({"record": t.record, "title": t.title, "loans": t.loans}))
            .collect::<Vec<_>>(),
        "collection_by_class": DDC_CLASSES.iter().zip(stats.collection_by_class)
            .map(|((code, vi, en), copies)| serde_json::json!({"class": code, "name": vi, "name_en": en, "copies": copies}))
            .collect::<Vec<_>>(),
        "unclassified_copies": stats.unclassified_copies,
    });
    json_reply(StatusCode::OK, &body)
}
