//! `GET /staff/catalogue/import/{id}/preview`: "Xem trước", what importing the file would do,
//! planned against the store as it is now and written nowhere: how many new books, books
//! already here and copies (a books list), new readers (a readers list), records created,
//! merged and skipped (MARC), then the first rows and what each will do. Every bad row is
//! listed by its line and column; with any, the page says nothing can be imported and has no
//! import button. The button posts to `start_post`.

use std::collections::HashMap;
use std::fmt::Write as _;

use warp::http::StatusCode;

use super::{PATH, held, import_error, page_of, to_step};
use crate::cataloguing::marc::import::{Outcome, SkipReason};
use crate::http::auth::Staff;
use crate::http::cataloguing::{form_error, frame};
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{AppState, PageRequest, layout};
use crate::imports::{self, Preview, bad_lines};
use crate::spreadsheets::RowError;
use crate::spreadsheets::books::Target;

/// Rows shown in the table: enough to see the columns were matched right.
const FIRST_ROWS: usize = 20;
/// Errors listed; a file with more is wrong throughout, and the first ones say how.
const ERRORS_SHOWN: usize = 200;
/// Skipped MARC records listed by number.
const SKIPPED_SHOWN: usize = 200;

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    _: &(),
) -> warp::reply::Response {
    let lang = request.lang;
    let held = match held(state, staff, id) {
        Ok(held) => held,
        Err(error) => return form_error(state, staff, request, &error, PATH),
    };
    let Some(file) = held.file.filter(|_| !held.started) else {
        return to_step(id, "progress");
    };
    let today = state.today();
    let planned =
        state.write(|store| imports::preview(store, &state.desk, &file, &held.choices, today));
    let back = if file.is_list() {
        page_of(id, "")
    } else {
        PATH.to_owned()
    };
    let preview = match planned {
        Ok(Ok(preview)) => preview,
        Ok(Err(error)) => {
            let error = import_error(&error);
            if let crate::http::ApiError::Internal(detail) = &error {
                eprintln!("http: import preview: {detail}");
            }
            return form_error(state, staff, request, &error, &back);
        }
        Err(error) => return form_error(state, staff, request, &error, &back),
    };
    let mut body = format!(
        "<h1>{title}</h1><p>{file_word}: <strong>{name}</strong></p><p><strong>{summary}</strong></p>",
        title = lang.t("import.preview.title"),
        file_word = lang.t("import.file"),
        name = escape(&held.file_name),
        summary = escape(&summary(lang, &preview)),
    );
    let ignored = match &preview {
        Preview::Books(plan) => &plan.columns.ignored[..],
        Preview::Readers(plan) => &plan.columns.ignored[..],
        Preview::Marc { .. } => &[],
    };
    if !ignored.is_empty() {
        let _ = write!(
            body,
            "<p class=\"hint\">{}</p>",
            escape(
                &lang
                    .t("import.preview.ignored")
                    .replace("{columns}", &ignored.join(", "))
            )
        );
    }
    if let Preview::Marc { plan, .. } = &preview {
        // Every skipped record by its number and reason, not only those in the first rows.
        let skipped = plan.skipped();
        if !skipped.is_empty() {
            body.push_str("<ul class=\"skipped\">");
            for (record, reason) in skipped.iter().take(SKIPPED_SHOWN) {
                let _ = write!(
                    body,
                    "<li>{} {record}: {}</li>",
                    lang.t("import.col.record"),
                    escape(&skip_words(lang, reason))
                );
            }
            body.push_str("</ul>");
        }
    }
    let errors = preview.errors();
    if errors.is_empty() {
        if has_work(&preview) {
            let _ = write!(
                body,
                "<p class=\"hint\">{ok}</p>\
<form method=\"post\" action=\"{action}\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\" class=\"big\">{button}</button></form>",
                ok = lang.t("import.preview.ok"),
                action = page_of(id, "start"),
                csrf = escape(&staff.csrf),
                button = lang.t("import.preview.button"),
            );
        } else {
            let _ = write!(
                body,
                "<p class=\"result ok\">{}</p>",
                lang.t("import.preview.nothing")
            );
        }
    } else {
        write_errors(&mut body, lang, errors);
    }
    write_table(&mut body, state, lang, &preview);
    body.push_str("<p>");
    if file.is_list() {
        let _ = write!(
            body,
            "<a class=\"button\" href=\"{}\">{}</a> ",
            page_of(id, ""),
            lang.t("import.preview.columns")
        );
    }
    let _ = write!(
        body,
        "<a class=\"button\" href=\"{PATH}\">{}</a></p>",
        lang.t("import.again")
    );
    let frame = frame(state, staff, &request.here, request);
    let html = layout::page(&frame, lang.t("import.preview.title"), &body);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    layout::reply(html, status, lang, request.lang_in_query)
}

fn has_work(preview: &Preview) -> bool {
    match preview {
        Preview::Books(plan) => !plan.rows.is_empty(),
        Preview::Readers(plan) => !plan.rows.is_empty(),
        Preview::Marc { plan, .. } => plan.created() + plan.merged() > 0,
    }
}

/// "3 sách mới, 0 sách đã có trong mục lục (thêm bản), 4 bản sách."
fn summary(lang: Lang, preview: &Preview) -> String {
    match preview {
        Preview::Books(plan) => lang
            .t("import.preview.books")
            .replace("{new}", &plan.new_records().to_string())
            .replace("{existing}", &plan.existing_records().to_string())
            .replace("{copies}", &plan.copies().to_string()),
        Preview::Readers(plan) => lang
            .t("import.preview.readers")
            .replace("{new}", &plan.rows.len().to_string())
            .replace("{already}", &plan.already.len().to_string()),
        Preview::Marc { records, plan } => lang
            .t("import.preview.marc")
            .replace("{records}", &records.to_string())
            .replace("{created}", &plan.created().to_string())
            .replace("{merged}", &plan.merged().to_string())
            .replace("{skipped}", &plan.skipped().len().to_string()),
    }
}

/// Every bad row, by line and column, in the page's language.
pub fn write_errors(body: &mut String, lang: Lang, errors: &[RowError]) {
    let _ = write!(
        body,
        "<p class=\"result error\" role=\"alert\">{}</p><ul class=\"row-errors\">",
        lang.t("import.preview.bad")
            .replace("{n}", &bad_lines(errors).to_string())
    );
    for error in errors.iter().take(ERRORS_SHOWN) {
        let text = if lang.is_english() {
            error.en()
        } else {
            error.vi()
        };
        let _ = write!(body, "<li class=\"error\">{}</li>", escape(&text));
    }
    body.push_str("</ul>");
    if errors.len() > ERRORS_SHOWN {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.t("import.preview.more_errors")
                .replace("{n}", &(errors.len() - ERRORS_SHOWN).to_string())
        );
    }
}

/// The first rows, each with what it will do.
fn write_table(body: &mut String, state: &AppState, lang: Lang, preview: &Preview) {
    let title_in_catalogue = |id: &str| {
        state
            .read(|conn| crate::db::record_title(conn, id))
            .ok()
            .and_then(Result::ok)
            .flatten()
            .unwrap_or_else(|| id.to_owned())
    };
    let cell = |text: &str| format!("<td>{}</td>", escape(text));
    let (all, headers, rows): (usize, Vec<&'static str>, Vec<String>) = match preview {
        Preview::Books(plan) => {
            let new_titles: HashMap<&str, &str> = plan
                .rows
                .iter()
                .filter_map(|row| match &row.target {
                    Target::New { id, book } => Some((id.as_str(), book.title.as_str())),
                    _ => None,
                })
                .collect();
            let rows = plan
                .rows
                .iter()
                .take(FIRST_ROWS)
                .map(|row| {
                    let (title, authors, year, what) = match &row.target {
                        Target::New { book, .. } => (
                            book.title.clone(),
                            book.authors.join("; "),
                            book.year.map(|y| y.to_string()).unwrap_or_default(),
                            lang.t("import.what.new").to_owned(),
                        ),
                        Target::Existing { id } => (
                            title_in_catalogue(id),
                            String::new(),
                            String::new(),
                            lang.t("import.what.existing").to_owned(),
                        ),
                        Target::SameAs { line, id } => (
                            new_titles
                                .get(id.as_str())
                                .map(|t| (*t).to_owned())
                                .unwrap_or_else(|| title_in_catalogue(id)),
                            String::new(),
                            String::new(),
                            lang.t("import.what.same_as")
                                .replace("{line}", &line.to_string()),
                        ),
                    };
                    format!(
                        "<tr><td>{}</td>{}{}{}{}{}</tr>",
                        row.line,
                        cell(&title),
                        cell(&authors),
                        cell(&year),
                        cell(&row.barcodes.join(" ")),
                        cell(&what)
                    )
                })
                .collect();
            (
                plan.rows.len(),
                vec![
                    "import.col.line",
                    "import.col.title",
                    "import.col.authors",
                    "import.col.year",
                    "import.col.barcodes",
                    "import.col.what",
                ],
                rows,
            )
        }
        Preview::Readers(plan) => {
            let rows = plan
                .rows
                .iter()
                .take(FIRST_ROWS)
                .map(|row| {
                    format!(
                        "<tr><td>{}</td>{}{}{}{}</tr>",
                        row.line,
                        cell(&row.reader.name),
                        cell(row.reader.class.as_deref().unwrap_or("")),
                        cell(&row.reader.card),
                        cell(lang.t("import.what.register"))
                    )
                })
                .collect();
            (
                plan.rows.len(),
                vec![
                    "import.col.line",
                    "import.col.name",
                    "import.col.class",
                    "import.col.card",
                    "import.col.what",
                ],
                rows,
            )
        }
        Preview::Marc { plan, .. } => {
            let rows = plan
                .outcomes
                .iter()
                .take(FIRST_ROWS)
                .map(|outcome| {
                    let (record, title, what) = match outcome {
                        Outcome::Create { record, book, .. } => (
                            *record,
                            book.title.clone(),
                            lang.t("import.what.create").to_owned(),
                        ),
                        Outcome::Merge { record, into, .. } => {
                            let title = title_in_catalogue(into);
                            let what = lang.t("import.what.merge").replace("{title}", &title);
                            (*record, title, what)
                        }
                        Outcome::Skip { record, reason } => {
                            (*record, String::new(), skip_words(lang, reason))
                        }
                    };
                    format!("<tr><td>{record}</td>{}{}</tr>", cell(&title), cell(&what))
                })
                .collect();
            (
                plan.outcomes.len(),
                vec!["import.col.record", "import.col.title", "import.col.what"],
                rows,
            )
        }
    };
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        body,
        "<h2>{}</h2><div class=\"wide\"><table><thead><tr>",
        lang.t("import.preview.first")
            .replace("{n}", &rows.len().to_string())
            .replace("{all}", &all.to_string())
    );
    for header in headers {
        let _ = write!(body, "<th>{}</th>", lang.t(header));
    }
    body.push_str("</tr></thead><tbody>");
    for row in rows {
        body.push_str(&row);
    }
    body.push_str("</tbody></table></div>");
}

/// Why a MARC record is skipped, in the page's language.
pub fn skip_words(lang: Lang, reason: &SkipReason) -> String {
    match reason {
        SkipReason::NoTitle => lang.t("import.what.skip_no_title").to_owned(),
        SkipReason::SameAsRecord(n) => lang
            .t("import.what.skip_same_as")
            .replace("{n}", &n.to_string()),
    }
}
