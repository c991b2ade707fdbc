//! `GET /staff/stocktake/{id}?shelf=S`: one stocktake. Choose a shelf, then scan every copy on
//! it (the scanner types the barcode and Enter); the report below says what is missing,
//! misplaced, unknown, or on loan but back on a shelf, and offers to mark the missing as lost.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::{frame, stocktake_error};
use crate::db;
use crate::holdings::shelf_location;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::layout;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};
use crate::stocktake::{self, Finding, Report, Stocktake};

/// Lists in the report show at most this many lines.
const MAX_LINES: usize = 200;

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
) -> warp::reply::Response {
    let lang = request.lang;
    let frame = frame(state, staff, &request.here, request);
    match build(state, staff, request, id) {
        Ok(body) => {
            let html = layout::page(&frame, lang.t("stock.title"), &body);
            layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
        }
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/staff/stocktake");
            layout::reply(html, error.status(), lang, request.lang_in_query)
        }
    }
}

fn build(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
) -> Result<String, ApiError> {
    let lang = request.lang;
    let scope = state.desk.scope();
    let stocktake = state
        .write(|store| stocktake::load(store, scope, id))?
        .map_err(stocktake_error)?
        .ok_or_else(|| stocktake_error(stocktake::StocktakeError::Unknown(id.to_owned())))?;
    let (report, shelves) = state
        .read(
            |conn| -> Result<(Report, Vec<String>), stocktake::StocktakeError> {
                let report = stocktake::report_of(conn, scope, &stocktake)?;
                let mut shelves: Vec<String> = db::shelves_of_scope(conn, scope.as_str())?
                    .iter()
                    .map(|s| shelf_location(s).to_owned())
                    .collect();
                shelves.dedup();
                Ok((report, shelves))
            },
        )?
        .map_err(stocktake_error)?;
    let param = |name: &str| {
        request
            .params
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let here = format!("/staff/stocktake/{}", percent_encode(&stocktake.id));
    let mut body = format!(
        "<h1>{} {}</h1>",
        lang.t("stock.title"),
        escape(&stocktake.started)
    );
    if let Some(count) = param("lost") {
        let _ = write!(
            body,
            "<p class=\"ok\" role=\"status\">{} {}</p>",
            lang.t("stock.marked_lost"),
            escape(count)
        );
    }
    if stocktake.closed.is_none() {
        scan_forms(
            state,
            staff,
            lang,
            &mut body,
            &here,
            &stocktake,
            &shelves,
            param("shelf"),
            param("scanned"),
        )?;
    } else {
        let _ = write!(body, "<p>{}</p>", lang.t("stock.is_closed"));
    }
    report_section(state, staff, lang, &mut body, &here, &stocktake, &report)?;
    Ok(body)
}

#[allow(clippy::too_many_arguments)]
fn scan_forms(
    state: &AppState,
    staff: &Staff,
    lang: Lang,
    body: &mut String,
    here: &str,
    stocktake: &Stocktake,
    shelves: &[String],
    shelf: Option<&str>,
    scanned: Option<&str>,
) -> Result<(), ApiError> {
    let options: String = shelves
        .iter()
        .map(|s| format!("<option value=\"{}\">", escape(s)))
        .collect();
    let _ = write!(
        body,
        "<form method=\"get\" action=\"{here}\"><input name=\"shelf\" list=\"shelves\" value=\"{}\" \
placeholder=\"{}\" aria-label=\"{}\" maxlength=\"60\"{}><datalist id=\"shelves\">{options}</datalist>\
<button type=\"submit\">{}</button></form>",
        escape(shelf.unwrap_or("")),
        lang.t("stock.shelf"),
        lang.t("stock.shelf"),
        if shelf.is_none() { " autofocus" } else { "" },
        lang.t("stock.choose_shelf"),
    );
    let Some(shelf) = shelf else {
        return Ok(());
    };
    if let Some(barcode) = scanned {
        // Tell the librarian at once when the copy belongs elsewhere.
        let row = state
            .read(|conn| db::holding(conn, state.desk.scope().as_str(), barcode))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let note = match row {
            None => format!(
                "<span class=\"error\">{}</span>",
                lang.t("stock.unknown_copy")
            ),
            Some(row) if shelf_location(&row.copy.shelf) != shelf_location(shelf) => format!(
                "<span class=\"error\">{} {}</span>",
                lang.t("stock.belongs_on"),
                escape(&row.copy.shelf)
            ),
            Some(_) => String::new(),
        };
        let _ = write!(
            body,
            "<p role=\"status\"><span class=\"ok\">{} {}</span> {note}</p>",
            lang.t("stock.scanned"),
            escape(barcode)
        );
    }
    let on_shelf = stocktake
        .scans
        .values()
        .filter(|s| s.as_str() == shelf_location(shelf))
        .count();
    let _ = write!(
        body,
        "<h2>{} {} <span class=\"meta\">({on_shelf} {})</span></h2>\
<form method=\"post\" action=\"{here}/scans\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"shelf\" value=\"{shelf}\">\
<input type=\"search\" name=\"barcode\" aria-label=\"{barcode}\" placeholder=\"{barcode}\" autofocus autocomplete=\"off\" \
autocapitalize=\"characters\" maxlength=\"40\" required><button type=\"submit\">{record}</button></form>\
<form method=\"post\" action=\"{here}/scans\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"shelf\" value=\"{shelf}\"><input type=\"hidden\" name=\"done\" value=\"1\">\
<button type=\"submit\">{done}</button></form>",
        lang.t("stock.scanning"),
        escape(shelf),
        lang.t("stock.scans"),
        csrf = escape(&staff.csrf),
        shelf = escape(shelf),
        barcode = lang.t("stock.barcode"),
        record = lang.t("stock.record_scan"),
        done = lang.t("stock.shelf_done"),
    );
    Ok(())
}

fn report_section(
    state: &AppState,
    staff: &Staff,
    lang: Lang,
    body: &mut String,
    here: &str,
    stocktake: &Stocktake,
    report: &Report,
) -> Result<(), ApiError> {
    let _ = write!(
        body,
        "<h2>{}</h2><p>{} {} · {} {}/{}</p>",
        lang.t("stock.report"),
        stocktake.shelves.len(),
        lang.t("stock.shelves"),
        lang.t("stock.found"),
        report.found,
        report.expected,
    );
    let titles = |findings: &[Finding]| -> Result<Vec<String>, ApiError> {
        state
            .read(|conn| {
                findings
                    .iter()
                    .take(MAX_LINES)
                    .map(|f| {
                        db::record_by_id(conn, &f.record)
                            .map(|r| r.map(|r| r.title).unwrap_or_default())
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?
            .map_err(|e| ApiError::Internal(e.to_string()))
    };
    let mut list = |heading: &str, class: &str, findings: &[Finding]| -> Result<(), ApiError> {
        let _ = write!(
            body,
            "<h3 class=\"{class}\">{heading} ({})</h3>",
            findings.len()
        );
        if findings.is_empty() {
            return Ok(());
        }
        let names = titles(findings)?;
        body.push_str("<ul>");
        for (finding, title) in findings.iter().zip(names) {
            let found = finding
                .found_on
                .as_deref()
                .map(|s| format!(" → {} {}", lang.t("stock.found_on"), escape(s)))
                .unwrap_or_default();
            let _ = write!(
                body,
                "<li>{} <span class=\"meta\">{} — {}</span>{found}</li>",
                escape(&finding.barcode),
                escape(&title),
                escape(&finding.shelf),
            );
        }
        body.push_str("</ul>");
        Ok(())
    };
    list(lang.t("stock.missing"), "error", &report.missing)?;
    list(lang.t("stock.misplaced"), "", &report.misplaced)?;
    list(lang.t("stock.on_loan_found"), "", &report.on_loan_found)?;
    list(lang.t("stock.found_again"), "", &report.found_again)?;
    let _ = write!(
        body,
        "<h3>{} ({})</h3>",
        lang.t("stock.unknown"),
        report.unknown.len()
    );
    if !report.unknown.is_empty() {
        body.push_str("<ul>");
        for (barcode, shelf) in report.unknown.iter().take(MAX_LINES) {
            let _ = write!(
                body,
                "<li>{} <span class=\"meta\">{} {}</span></li>",
                escape(barcode),
                lang.t("stock.found_on"),
                escape(shelf)
            );
        }
        body.push_str("</ul>");
    }
    if stocktake.closed.is_none() && !report.missing.is_empty() {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{here}/lost\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button type=\"submit\">{} ({})</button></form>",
            escape(&staff.csrf),
            lang.t("stock.mark_lost"),
            report.missing.len(),
        );
    }
    Ok(())
}
