//! The catalogue's cases in the exceptions inbox: a record edited differently at two desks
//! (both values shown, "keep this one" for each) and the same ISBN catalogued twice ("merge
//! these records"). `section` is their part of `/staff/exceptions`, `json` their part of
//! `/api/exceptions` (key `catalogue`); `POST /staff/exceptions/catalogue` (form: `csrf`,
//! `exception`, `resolution`) and `POST /api/exceptions/catalogue/resolve` (JSON with
//! `X-CSRF-Token`) apply a choice as one commit. They live here, beside the circulation
//! inbox rather than inside it, because they are about records, not loans.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::record_edit_get::field_label;
use super::{catalogue_error, editor, form_error, see_other};
use crate::cataloguing::conflicts::{self, CatalogueConflict, ConflictChoice, ConflictError};
use crate::db::{RecordEditRow, RecordRow};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::input::{Field, Input};
use crate::http::{
    ApiError, AppState, PageRequest, check_csrf, json_error, json_reply, percent_encode,
};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const EXCEPTION: Field = Field::new("exception", "mã việc cần xử lý", "the exception id");
const RESOLUTION: Field = Field::new("resolution", "cách xử lý", "the resolution");

/// Where the choices of a catalogue case are posted as JSON.
pub const RESOLVE_JSON: &str = "/api/exceptions/catalogue/resolve";

fn cases(state: &AppState) -> Result<Vec<CatalogueConflict>, ApiError> {
    state.write(conflicts::conflicts)?.map_err(catalogue_error)
}

/// How a choice travels: `keep:EDIT` or `merge`.
fn token(choice: &ConflictChoice) -> String {
    match choice {
        ConflictChoice::KeepEdit(edit) => format!("keep:{edit}"),
        ConflictChoice::MergeRecords => "merge".to_owned(),
    }
}

fn parse_token(text: &str) -> Option<ConflictChoice> {
    if text == "merge" {
        return Some(ConflictChoice::MergeRecords);
    }
    let edit = text.strip_prefix("keep:")?;
    (!edit.is_empty()).then(|| ConflictChoice::KeepEdit(edit.to_owned()))
}

fn choices(case: &CatalogueConflict) -> Vec<ConflictChoice> {
    match case {
        CatalogueConflict::EditedDifferently { versions, .. } => versions
            .iter()
            .map(|v| ConflictChoice::KeepEdit(v.id.clone()))
            .collect(),
        CatalogueConflict::IsbnTwice { .. } => vec![ConflictChoice::MergeRecords],
    }
}

fn desk(state: &AppState, lang: Lang, version: &RecordEditRow) -> String {
    if version.desk == state.device.to_hex() {
        lang.pick("quầy này", "this desk").to_owned()
    } else {
        format!(
            "{} {}",
            lang.pick("quầy", "desk"),
            version.desk.chars().take(8).collect::<String>()
        )
    }
}

fn record_label(record: &RecordRow) -> String {
    format!("«{}» ({})", record.title, record.id)
}

/// The heading, the explanation and one button label per choice.
fn explain(
    state: &AppState,
    lang: Lang,
    case: &CatalogueConflict,
) -> (String, Vec<String>, Vec<String>) {
    match case {
        CatalogueConflict::EditedDifferently {
            record,
            field,
            current,
            versions,
            ..
        } => {
            let field = field_label(lang, field);
            let heading = lang.pick(
                format!(
                    "Biểu ghi {} được sửa khác nhau ở hai quầy",
                    record_label(record)
                ),
                format!(
                    "Record {} was edited differently at two desks",
                    record_label(record)
                ),
            );
            let mut lines = vec![lang.pick(
                format!(
                    "Trường \u{201c}{field}\u{201d} được sửa ở các quầy khi chưa đồng bộ với nhau. Hiện đang hiển thị \u{201c}{current}\u{201d}; hãy chọn giá trị đúng."
                ),
                format!(
                    "Field \u{201c}{field}\u{201d} was changed at desks that had not synced with each other. It now shows \u{201c}{current}\u{201d}; choose the right value."
                ),
            )];
            let mut buttons = Vec::new();
            for version in versions {
                let who = format!(
                    "{}, {}, {}",
                    version.by,
                    desk(state, lang, version),
                    version.at
                );
                lines.push(lang.pick(
                    format!(
                        "\u{201c}{}\u{201d} ({who}; trước đó: \u{201c}{}\u{201d})",
                        version.new, version.old
                    ),
                    format!(
                        "\u{201c}{}\u{201d} ({who}; before: \u{201c}{}\u{201d})",
                        version.new, version.old
                    ),
                ));
                buttons.push(lang.pick(
                    format!("Giữ \u{201c}{}\u{201d} ({})", version.new, version.by),
                    format!("Keep \u{201c}{}\u{201d} ({})", version.new, version.by),
                ));
            }
            (heading, lines, buttons)
        }
        CatalogueConflict::IsbnTwice { isbn, records, .. } => {
            let heading = lang.pick(
                format!("ISBN {isbn} được biên mục {} lần", records.len()),
                format!("ISBN {isbn} is catalogued {} times", records.len()),
            );
            let mut lines = vec![lang.pick(
                "Cùng một cuốn sách được biên mục ở hai quầy khi chưa đồng bộ, nên thư mục có hai biểu ghi. Gộp lại thì bản sách, lượt đặt và lượt mượn của cả hai theo về một biểu ghi. Nếu đây là hai sách khác nhau, hãy sửa ISBN của một biểu ghi.".to_owned(),
                "The same book was catalogued at two desks that had not synced, so the catalogue has two records. Merging them makes the copies, holds and loans of both follow one record. If they are different books, correct the ISBN of one record.".to_owned(),
            )];
            lines.extend(records.iter().map(|r| {
                format!(
                    "{} — {} {}",
                    record_label(r),
                    r.authors.join(", "),
                    r.year.map(|y| y.to_string()).unwrap_or_default()
                )
            }));
            (
                heading,
                lines,
                vec![
                    lang.pick("Gộp các biểu ghi này", "Merge these records")
                        .to_owned(),
                ],
            )
        }
    }
}

/// The catalogue's section of the exceptions page ("" when there is nothing to decide).
pub fn section(state: &AppState, staff: &Staff, lang: Lang) -> String {
    let cases = match cases(state) {
        Ok(cases) => cases,
        Err(error) => {
            return format!(
                "<p class=\"error\">{}</p>",
                escape(&error.lang_message(lang))
            );
        }
    };
    if cases.is_empty() {
        return String::new();
    }
    let mut html = format!(
        "<h2 id=\"catalogue\">{}</h2>",
        lang.pick("Thư mục sách", "Catalogue")
    );
    for case in &cases {
        let (heading, lines, buttons) = explain(state, lang, case);
        let _ = write!(
            html,
            "<section class=\"exception\" data-exception=\"{}\"><h3>{}</h3><ul>",
            escape(case.id()),
            escape(&heading)
        );
        for line in &lines {
            let _ = write!(html, "<li>{}</li>", escape(line));
        }
        html.push_str("</ul>");
        if let CatalogueConflict::EditedDifferently { record, .. } = case {
            let _ = write!(
                html,
                "<p><a href=\"/staff/catalogue/records/{}\">{}</a></p>",
                percent_encode(&record.id),
                lang.pick("Xem lịch sử biểu ghi", "See the record's history")
            );
        }
        for (choice, label) in choices(case).iter().zip(&buttons) {
            let _ = write!(
                html,
                "<form method=\"post\" action=\"/staff/exceptions/catalogue\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"exception\" value=\"{}\">\
<input type=\"hidden\" name=\"resolution\" value=\"{}\">\
<button type=\"submit\">{}</button></form>",
                escape(&staff.csrf),
                escape(case.id()),
                escape(&token(choice)),
                escape(label),
            );
        }
        html.push_str("</section>");
    }
    html
}

fn version_json(version: &RecordEditRow) -> serde_json::Value {
    serde_json::json!({
        "edit": version.id,
        "value": version.new,
        "old": version.old,
        "by": version.by,
        "desk": version.desk,
        "library": version.library,
        "at": version.at,
    })
}

/// The catalogue's cases for `/api/exceptions` (under the key `catalogue`).
pub fn json(state: &AppState) -> Result<Vec<serde_json::Value>, ApiError> {
    Ok(cases(state)?
        .iter()
        .map(|case| {
            let mut json = match case {
                CatalogueConflict::EditedDifferently {
                    record,
                    field,
                    current,
                    versions,
                    ..
                } => serde_json::json!({
                    "kind": "record_edited_differently",
                    "record": record.id,
                    "title": record.title,
                    "field": field,
                    "current": current,
                    "versions": versions.iter().map(version_json).collect::<Vec<_>>(),
                    "resolutions": versions.iter().map(|v| serde_json::json!({
                        "token": token(&ConflictChoice::KeepEdit(v.id.clone())),
                        "kind": "keep_value",
                        "value": v.new,
                    })).collect::<Vec<_>>(),
                }),
                CatalogueConflict::IsbnTwice { isbn, records, .. } => serde_json::json!({
                    "kind": "isbn_catalogued_twice",
                    "isbn": isbn,
                    "records": records.iter().map(|r| serde_json::json!({
                        "id": r.id, "title": r.title, "authors": r.authors, "year": r.year,
                    })).collect::<Vec<_>>(),
                    "resolutions": [{
                        "token": token(&ConflictChoice::MergeRecords),
                        "kind": "merge_records",
                        "survivor": records.iter().map(|r| r.id.as_str()).min(),
                    }],
                }),
            };
            json["id"] = serde_json::Value::String(case.id().to_owned());
            json["resolve"] = serde_json::Value::String(RESOLVE_JSON.to_owned());
            json
        })
        .collect())
}

fn resolve(
    state: &AppState,
    staff: &Staff,
    input: &Input,
    csrf: &str,
) -> Result<Option<String>, ApiError> {
    check_csrf(staff, csrf)?;
    let exception = input.text(EXCEPTION, 1000)?;
    let choice =
        parse_token(&input.text(RESOLUTION, 400)?).ok_or_else(|| ApiError::BadRequest {
            vi: "Cách xử lý không hợp lệ: hãy tải lại trang “Cần xử lý” rồi chọn lại.".into(),
            en: "That resolution is not valid: reload the exceptions page and choose again.".into(),
        })?;
    let editor = editor(state, staff);
    let result = state.write(|store| {
        conflicts::resolve(store, &exception, &choice, state.desk.scope(), &editor)
    })?;
    match result {
        Ok(merged) => Ok(merged.map(|m| m.survivor)),
        Err(ConflictError::Unknown(_)) => Err(ApiError::NotFound {
            vi: "Việc này không còn trong danh sách (có thể đã được xử lý ở quầy khác). Hãy tải lại trang.".into(),
            en: "This exception is no longer in the inbox (perhaps resolved at another desk). Reload the page.".into(),
        }),
        Err(ConflictError::NotOffered) => Err(ApiError::BadRequest {
            vi: "Cách xử lý này không dùng được cho việc này. Hãy tải lại trang rồi chọn lại.".into(),
            en: "That resolution does not apply to this exception. Reload the page and choose again.".into(),
        }),
        Err(ConflictError::Catalogue(error)) => Err(catalogue_error(error)),
    }
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let result = input
        .optional_text(CSRF, 128)
        .and_then(|csrf| resolve(state, staff, input, &csrf.unwrap_or_default()));
    match result {
        Ok(_) => see_other("/staff/exceptions?resolved=1"),
        Err(error) => form_error(state, staff, request, &error, "/staff/exceptions"),
    }
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    input: &Input,
    csrf: &str,
) -> warp::reply::Response {
    match resolve(state, staff, input, csrf) {
        Ok(survivor) => json_reply(
            StatusCode::OK,
            &serde_json::json!({
                "resolved": input.text(EXCEPTION, 1000).unwrap_or_default(),
                "survivor": survivor,
            }),
        ),
        Err(error) => json_error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for choice in [
            ConflictChoice::MergeRecords,
            ConflictChoice::KeepEdit("edit-00ff".into()),
        ] {
            assert_eq!(parse_token(&token(&choice)), Some(choice));
        }
        for bad in ["", "keep:", "merge:x", "acknowledge"] {
            assert_eq!(parse_token(bad), None, "{bad:?}");
        }
    }
}
