//! `POST /staff/catalogue/records` (form) and `POST /api/records` (JSON, `X-CSRF-Token`):
//! a new record in the union catalogue, when no record matched. The form then offers to add
//! copies to it.

use warp::http::StatusCode;

use super::{catalogue_error, form_error, see_other, text_list};
use crate::cataloguing::{self, RecordDraft};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
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
const SUMMARY: Field = Field::new("summary", "tóm tắt", "the summary");

fn bad(vi: &str, en: &str) -> ApiError {
    ApiError::BadRequest {
        vi: vi.into(),
        en: en.into(),
    }
}

/// Reads and checks a draft; nothing is written before this succeeds.
fn parse(input: &Input) -> Result<RecordDraft, ApiError> {
    let title = input.text(TITLE, 300)?;
    let authors = text_list(input, AUTHORS, 10, 120, false)?;
    let publisher = input.optional_text(PUBLISHER, 120)?.unwrap_or_default();
    let year = match input.raw(YEAR.name) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(blank)) if blank.trim().is_empty() => None,
        Some(_) => Some(input.number(YEAR, 1400..=2100)?),
    };
    let isbn = input.optional_text(ISBN, 20)?;
    if let Some(typed) = &isbn
        && cataloguing::isbn::normalise(typed).is_none()
    {
        return Err(catalogue_error(cataloguing::CatalogueError::InvalidIsbn(
            typed.clone(),
        )));
    }
    let language = input
        .optional_text(LANGUAGE, 3)?
        .unwrap_or_else(|| "vie".to_owned())
        .to_ascii_lowercase();
    if !language.bytes().all(|b| b.is_ascii_lowercase()) || language.len() != 3 {
        return Err(bad(
            "Ngôn ngữ là mã 3 chữ cái, ví dụ vie, eng.",
            "The language is a 3-letter code, e.g. vie, eng.",
        ));
    }
    let ddc = input.optional_text(DDC, 20)?.unwrap_or_default();
    if !ddc.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad(
            "Chỉ số DDC chỉ gồm chữ số và dấu chấm, ví dụ 895.922.",
            "A DDC class has digits and a dot only, e.g. 895.922.",
        ));
    }
    let subjects = text_list(input, SUBJECTS, 10, 80, false)?;
    let summary = input.optional_text(SUMMARY, 2000)?;
    Ok(RecordDraft {
        title,
        authors,
        publisher,
        year,
        isbn,
        language,
        ddc,
        subjects,
        summary,
    })
}

fn create(state: &AppState, input: &Input) -> Result<String, ApiError> {
    let draft = parse(input)?;
    let today = state.today();
    state
        .write(|store| cataloguing::create_record(store, &draft, today))?
        .map_err(catalogue_error)
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let result = check_form_csrf(staff, input).and_then(|()| create(state, input));
    match result {
        Ok(id) => see_other(&format!(
            "/staff/catalogue?record={}&created=1",
            percent_encode(&id)
        )),
        Err(error) => form_error(state, staff, request, &error, "/staff/catalogue"),
    }
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    input: &Input,
) -> warp::reply::Response {
    match check_csrf(staff, csrf).and_then(|()| create(state, input)) {
        Ok(id) => json_reply(StatusCode::CREATED, &serde_json::json!({"id": id})),
        Err(error) => json_error(&error),
    }
}
