//! `PATCH /api/records/{id}` (JSON, `X-CSRF-Token`) and `POST /staff/catalogue/records/{id}`
//! (the edit form): changes the fields given, and only those whose value differs, each with a
//! history entry (who, which desk, when, old → new). Fields not named stay as they are.

use tusach_sync::Value;
use warp::http::StatusCode;

use super::{catalogue_error, editor, form_error, see_other, text_list};
use crate::cataloguing::{edits, isbn};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::opac::valid_record_id;
use crate::http::{
    ApiError, AppState, PageRequest, check_csrf, check_form_csrf, json_error, json_reply,
    percent_encode,
};

const TITLE: Field = Field::new("title", "nhan đề", "the title");
const AUTHORS: Field = Field::new("authors", "tác giả", "the authors");
const PUBLISHER: Field = Field::new("publisher", "nhà xuất bản", "the publisher");
const YEAR: Field = Field::new("year", "năm xuất bản", "the year");
const ISBN: Field = Field::new("isbn", "ISBN", "the ISBN");
const LANGUAGE: Field = Field::new("language", "ngôn ngữ", "the language");
const DDC: Field = Field::new("ddc", "chỉ số DDC", "the DDC class");
const SUBJECTS: Field = Field::new("subjects", "chủ đề", "the subjects");
const PAGES: Field = Field::new("pages", "số trang", "the number of pages");
const SUMMARY: Field = Field::new("summary", "tóm tắt", "the summary");

fn bad(vi: String, en: String) -> ApiError {
    ApiError::BadRequest { vi, en }
}

fn strings(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::Str).collect())
}

fn text_or_null(text: Option<String>) -> Value {
    text.map_or(Value::Null, Value::Str)
}

/// A number, or nothing when blank or null.
fn number_or_null(
    input: &Input,
    field: Field,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Value, ApiError> {
    Ok(match input.raw(field.name) {
        None | Some(serde_json::Value::Null) => Value::Null,
        Some(serde_json::Value::String(blank)) if blank.trim().is_empty() => Value::Null,
        Some(_) => Value::Int(input.number(field, range)?),
    })
}

/// The changes a request asks for, each checked like a new record's field. Names outside
/// the editable fields (and the form's own `csrf`) are refused, so a typo is not ignored.
pub(super) fn parse(input: &Input, form: bool) -> Result<Vec<(String, Value)>, ApiError> {
    let mut changes = Vec::new();
    for name in input.names() {
        let value = match name.as_str() {
            "csrf" if form => continue,
            "title" => Value::Str(input.text(TITLE, 300)?),
            "authors" => strings(text_list(input, AUTHORS, 10, 120, false)?),
            "publisher" => Value::Str(input.optional_text(PUBLISHER, 120)?.unwrap_or_default()),
            "year" => number_or_null(input, YEAR, 1400..=2100)?,
            "isbn" => match input.optional_text(ISBN, 20)? {
                None => Value::Null,
                Some(typed) => Value::Str(isbn::normalise(&typed).ok_or_else(|| {
                    catalogue_error(crate::cataloguing::CatalogueError::InvalidIsbn(typed))
                })?),
            },
            "language" => {
                let language = input
                    .optional_text(LANGUAGE, 3)?
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if language.len() != 3 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
                    return Err(bad(
                        "Ngôn ngữ là mã 3 chữ cái, ví dụ vie, eng.".into(),
                        "The language is a 3-letter code, e.g. vie, eng.".into(),
                    ));
                }
                Value::Str(language)
            }
            "ddc" => {
                let ddc = input.optional_text(DDC, 20)?.unwrap_or_default();
                if !ddc.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    return Err(bad(
                        "Chỉ số DDC chỉ gồm chữ số và dấu chấm, ví dụ 895.922.".into(),
                        "A DDC class has digits and a dot only, e.g. 895.922.".into(),
                    ));
                }
                Value::Str(ddc)
            }
            "subjects" => strings(text_list(input, SUBJECTS, 10, 80, false)?),
            "pages" => number_or_null(input, PAGES, 1..=100_000)?,
            "summary" => text_or_null(input.optional_text(SUMMARY, 2000)?),
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(bad(
                    format!(
                        "Không sửa được trường \u{201c}{shown}\u{201d}. Sửa được: {}.",
                        edits::EDITABLE.join(", ")
                    ),
                    format!(
                        "Field \u{201c}{shown}\u{201d} cannot be edited. Editable: {}.",
                        edits::EDITABLE.join(", ")
                    ),
                ));
            }
        };
        changes.push((name.clone(), value));
    }
    if changes.is_empty() {
        return Err(bad(
            "Chưa có trường nào để sửa.".into(),
            "No field to change was given.".into(),
        ));
    }
    Ok(changes)
}

fn unknown(id: &str) -> ApiError {
    catalogue_error(crate::cataloguing::CatalogueError::UnknownRecord(
        id.chars().take(40).collect(),
    ))
}

fn edit(
    state: &AppState,
    staff: &Staff,
    id: &str,
    input: &Input,
    form: bool,
) -> Result<Vec<String>, ApiError> {
    if !valid_record_id(id) {
        return Err(unknown(id));
    }
    let changes = parse(input, form)?;
    let editor = editor(state, staff);
    state
        .write(|store| edits::edit_record(store, id, &changes, &editor))?
        .map_err(catalogue_error)
}

pub fn patch_json(
    state: &AppState,
    staff: &Staff,
    id: &str,
    csrf: &str,
    input: &Input,
) -> warp::reply::Response {
    match check_csrf(staff, csrf).and_then(|()| edit(state, staff, id, input, false)) {
        Ok(changed) => json_reply(
            StatusCode::OK,
            &serde_json::json!({"id": id, "changed": changed}),
        ),
        Err(error) => json_error(&error),
    }
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    input: &Input,
) -> warp::reply::Response {
    let back = format!("/staff/catalogue/records/{}", percent_encode(id));
    let result = check_form_csrf(staff, input).and_then(|()| edit(state, staff, id, input, true));
    match result {
        Ok(changed) => see_other(&format!("{back}?saved={}", changed.len())),
        Err(error) => form_error(state, staff, request, &error, &back),
    }
}
