//! `GET /staff/catalogue/import/{id}`: "Ghép cột", what each column of an uploaded list holds.
//! Each column of the header line, with a few of its values, has a list of our fields (or
//! "bỏ qua"), preselected by the headers we recognise or the librarian's last choice; a
//! workbook's sheet and the header line can be changed too. Posts to `columns_post`. A MARC
//! file has no columns and goes to its preview; a started import to its progress.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::{PATH, field_label, held, import_error, page_of, to_step};
use crate::http::auth::Staff;
use crate::http::cataloguing::{form_error, frame};
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest, layout};
use crate::imports::{self, ColumnsView, ListChoices};
use crate::spreadsheets::headers::Field;

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    _: &(),
) -> warp::reply::Response {
    let held = match held(state, staff, id) {
        Ok(held) => held,
        Err(error) => return form_error(state, staff, request, &error, PATH),
    };
    let Some(file) = held.file.filter(|_| !held.started) else {
        return to_step(id, "progress");
    };
    if !file.is_list() {
        return to_step(id, "preview");
    }
    let view = imports::columns_view(&file, &held.choices);
    match view {
        Ok(view) => render(
            state,
            staff,
            request,
            id,
            &held.file_name,
            &held.choices,
            &view,
            None,
        ),
        Err(error) => form_error(state, staff, request, &import_error(&error), PATH),
    }
}

/// The page, with the error of the choice just posted (shown above the form, which keeps it).
#[allow(clippy::too_many_arguments)]
pub fn render(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    file_name: &str,
    choices: &ListChoices,
    view: &ColumnsView,
    error: Option<&ApiError>,
) -> warp::reply::Response {
    let lang = request.lang;
    let mut body = format!(
        "<h1>{title}</h1><p>{file}: <strong>{name}</strong></p>",
        title = lang.t("import.columns.title"),
        file = lang.t("import.file"),
        name = escape(file_name),
    );
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(&error.lang_message(lang))
        );
    }
    // The sheet read: the one chosen, else the first.
    let current = view
        .sheet
        .as_deref()
        .or(view.sheets.first().map(String::as_str));
    let _ = write!(
        body,
        "<p class=\"hint\">{hint}</p>\
<form method=\"post\" action=\"{action}\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"shown_line\" value=\"{line}\">\
<input type=\"hidden\" name=\"shown_sheet\" value=\"{sheet}\">",
        hint = lang.t("import.columns.hint"),
        action = page_of(id, ""),
        csrf = escape(&staff.csrf),
        line = view.header_line,
        sheet = escape(current.unwrap_or("")),
    );
    let _ = write!(
        body,
        "<fieldset class=\"what\"><legend>{}</legend>",
        lang.t("import.columns.where")
    );
    if view.sheets.len() > 1 {
        let _ = write!(
            body,
            "<label for=\"sheet\">{}</label><select id=\"sheet\" name=\"sheet\">",
            lang.t("import.columns.sheet")
        );
        for sheet in &view.sheets {
            let _ = write!(
                body,
                "<option value=\"{name}\"{selected}>{name}</option>",
                name = escape(sheet),
                selected = selected(current == Some(sheet.as_str())),
            );
        }
        body.push_str("</select>");
    }
    let _ = write!(
        body,
        "<label for=\"header_line\">{}</label><select id=\"header_line\" name=\"header_line\">",
        lang.t("import.columns.header_line")
    );
    for (line, glimpse) in &view.header_lines {
        let _ = write!(
            body,
            "<option value=\"{line}\"{selected}>{word} {line}: {glimpse}</option>",
            selected = selected(*line == view.header_line),
            word = lang.t("import.columns.line"),
            glimpse = escape(&shorten(glimpse, 60)),
        );
    }
    let _ = write!(
        body,
        "</select><p class=\"hint\">{}</p></fieldset>",
        lang.t("import.columns.change")
    );
    for (column, shown) in view.columns.iter().enumerate() {
        let header = if shown.header.is_empty() {
            String::new()
        } else {
            format!(" <strong>{}</strong>", escape(&shown.header))
        };
        let examples = if shown.examples.is_empty() {
            String::new()
        } else {
            format!(
                "<br><span class=\"meta\">{}: {}</span>",
                lang.t("import.columns.examples"),
                escape(
                    &shown
                        .examples
                        .iter()
                        .map(|e| shorten(e, 40))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            )
        };
        let _ = write!(
            body,
            "<label for=\"col-{column}\">{word} {letter}:{header}{examples}</label>\
<select id=\"col-{column}\" name=\"col-{column}\">{options}</select>",
            word = lang.t("import.columns.column"),
            letter = shown.letter,
            options = field_options(lang, choices, shown.field),
        );
    }
    let _ = write!(
        body,
        "<button type=\"submit\">{next}</button></form><p><a href=\"{PATH}\">{again}</a></p>",
        next = lang.t("import.columns.next"),
        again = lang.t("import.again"),
    );
    let frame = frame(state, staff, &request.here, request);
    let html = layout::page(&frame, lang.t("import.columns.title"), &body);
    let status = error.map_or(StatusCode::OK, ApiError::status);
    layout::reply(html, status, lang, request.lang_in_query)
}

fn selected(yes: bool) -> &'static str {
    if yes { " selected" } else { "" }
}

/// "bỏ qua" and every field of the list's kind, `chosen` selected.
fn field_options(lang: Lang, choices: &ListChoices, chosen: Option<Field>) -> String {
    let mut options = format!(
        "<option value=\"\"{}>— {} —</option>",
        selected(chosen.is_none()),
        lang.t("import.columns.ignore")
    );
    for field in Field::all(choices.kind) {
        let _ = write!(
            options,
            "<option value=\"{name}\"{selected}>{label}</option>",
            name = field.name(),
            selected = selected(chosen == Some(field)),
            label = field_label(lang, field),
        );
    }
    options
}

/// At most `max` characters, with "…" when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}
