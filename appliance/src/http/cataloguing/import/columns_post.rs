//! `POST /staff/catalogue/import/{id}` (form: `csrf`, `sheet`, `header_line`, `col-0`,
//! `col-1`… each a field name or "" to ignore, and `shown_sheet`, `shown_line`: what the page
//! showed). A new sheet or header line shows the columns again for it; otherwise the choice
//! is checked (one column per field, a title or name column) and kept, and the preview
//! follows. A bad choice comes back as the page with the error and the choice as posted.

use super::columns_get::render;
use super::{PATH, held, import_error, to_step, with_pending};
use crate::http::auth::Staff;
use crate::http::cataloguing::form_error;
use crate::http::input::{Field as InputField, Input};
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::imports::{self, ListChoices, MAX_COLUMNS};
use crate::spreadsheets::headers::Field;

const SHEET: InputField = InputField::new("sheet", "trang tính", "the worksheet");
const SHOWN_SHEET: InputField = InputField::new("shown_sheet", "trang tính", "the worksheet");
const LINE: InputField = InputField::new("header_line", "dòng tiêu đề", "the header line");
const SHOWN_LINE: InputField = InputField::new("shown_line", "dòng tiêu đề", "the header line");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    input: &Input,
) -> warp::reply::Response {
    if let Err(error) = check_form_csrf(staff, input) {
        return form_error(state, staff, request, &error, PATH);
    }
    let held = match held(state, staff, id) {
        Ok(held) => held,
        Err(error) => return form_error(state, staff, request, &error, PATH),
    };
    let Some(file) = held.file.filter(|_| !held.started) else {
        return to_step(id, "progress");
    };
    let chosen = match chosen(input, &held.choices) {
        Ok(chosen) => chosen,
        Err(error) => return form_error(state, staff, request, &error, PATH),
    };
    let keep = |choices: ListChoices| with_pending(state, staff, id, |p| p.choices = choices);
    if chosen.header_line != held_line(input) || chosen.sheet != held_sheet(input) {
        // Another sheet or header line has other columns: show them before anything else.
        let fresh = ListChoices {
            columns: None,
            ..chosen
        };
        return match keep(fresh) {
            Ok(()) => to_step(id, ""),
            Err(error) => form_error(state, staff, request, &error, PATH),
        };
    }
    match imports::check_columns(&file, &chosen) {
        Ok(()) => match keep(chosen) {
            Ok(()) => to_step(id, "preview"),
            Err(error) => form_error(state, staff, request, &error, PATH),
        },
        Err(problem) => {
            let error = import_error(&problem);
            match imports::columns_view(&file, &chosen) {
                Ok(view) => render(
                    state,
                    staff,
                    request,
                    id,
                    &held.file_name,
                    &chosen,
                    &view,
                    Some(&error),
                ),
                Err(_) => form_error(state, staff, request, &error, PATH),
            }
        }
    }
}

fn held_line(input: &Input) -> Option<usize> {
    input
        .number(SHOWN_LINE, 1..=i64::from(u32::MAX))
        .ok()
        .map(|n| n as usize)
}

fn held_sheet(input: &Input) -> Option<String> {
    input.optional_text(SHOWN_SHEET, 200).ok().flatten()
}

/// The choice as posted: the sheet, the header line, and what each column holds.
fn chosen(input: &Input, before: &ListChoices) -> Result<ListChoices, ApiError> {
    let sheet = input
        .optional_text(SHEET, 200)?
        .or_else(|| held_sheet(input));
    let header_line = input.number(LINE, 1..=i64::from(u32::MAX))? as usize;
    let mut columns = Vec::new();
    for column in 0..MAX_COLUMNS {
        let Some(value) = input.raw(&format!("col-{column}")) else {
            break;
        };
        let name = value.as_str().unwrap_or_default().trim();
        if name.is_empty() {
            columns.push(None);
            continue;
        }
        let field = Field::named(before.kind, name).ok_or_else(|| ApiError::BadRequest {
            vi: format!("\u{201c}{name}\u{201d} không phải là một trường của danh sách này."),
            en: format!("\u{201c}{name}\u{201d} is not a field of this list."),
        })?;
        columns.push(Some(field));
    }
    Ok(ListChoices {
        kind: before.kind,
        sheet,
        header_line: Some(header_line),
        columns: Some(columns),
    })
}
