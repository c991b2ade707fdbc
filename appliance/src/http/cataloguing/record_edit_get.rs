//! `GET /staff/catalogue/records/{id}`: the staff page to edit a record (every editable
//! field, prefilled; only what changes is written), merge it with other records ("Gộp với…",
//! with the records that share its ISBN suggested), and read its history: who changed what,
//! at which desk, when, old → new. A merged record's page sends the librarian to the
//! survivor's. `GET /api/records/{id}/history` is the history as JSON.

use std::fmt::Write as _;

use tusach_sync::Value;
use warp::Reply;
use warp::http::StatusCode;

use super::{frame, see_other};
use crate::catalogue::record_key;
use crate::cataloguing::edits::{self, EDITABLE, MERGED, MERGED_INTO};
use crate::db::{self, RecordEditRow};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::layout;
use crate::http::opac::valid_record_id;
use crate::http::{ApiError, AppState, PageRequest, json_error, json_reply, percent_encode};

fn not_found() -> ApiError {
    ApiError::NotFound {
        vi: "Không có biểu ghi này trong thư mục.".into(),
        en: "There is no such record in the catalogue.".into(),
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A field's name on the page.
pub fn field_label(lang: Lang, field: &str) -> String {
    let (vi, en) = match field {
        "title" => ("Nhan đề", "Title"),
        "authors" => ("Tác giả", "Authors"),
        "publisher" => ("Nhà xuất bản", "Publisher"),
        "year" => ("Năm xuất bản", "Year"),
        "isbn" => ("ISBN", "ISBN"),
        "language" => ("Ngôn ngữ (mã 3 chữ)", "Language (3-letter code)"),
        "ddc" => ("Chỉ số DDC", "DDC class"),
        "subjects" => ("Chủ đề (cách nhau bởi ;)", "Subjects (separated by ;)"),
        "pages" => ("Số trang", "Pages"),
        "summary" => ("Tóm tắt", "Summary"),
        MERGED_INTO => ("Gộp vào biểu ghi", "Merged into record"),
        MERGED => ("Nhận gộp biểu ghi", "Took in record"),
        other => return other.to_owned(),
    };
    lang.pick(vi, en).to_owned()
}

/// A desk as the history shows it: this desk, or the device id's first 8 characters.
fn desk_label(state: &AppState, lang: Lang, desk: &str, library: &str) -> String {
    let device = if desk == state.device.to_hex() {
        lang.pick("quầy này", "this desk").to_owned()
    } else {
        format!(
            "{} {}",
            lang.pick("quầy", "desk"),
            desk.chars().take(8).collect::<String>()
        )
    };
    if library.is_empty() || library == state.library.id {
        device
    } else {
        format!("{device} ({library})")
    }
}

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
) -> warp::reply::Response {
    let lang = request.lang;
    let frame = frame(state, staff, &request.here, request);
    match body(state, staff, request, id) {
        Ok(Page::Body(title, body)) => {
            let html = layout::page(&frame, &title, &body);
            layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
        }
        Ok(Page::Moved(survivor)) => see_other(&format!(
            "/staff/catalogue/records/{}",
            percent_encode(&survivor)
        )),
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/staff/catalogue");
            layout::reply(html, error.status(), lang, request.lang_in_query)
        }
    }
}

enum Page {
    Body(String, String),
    Moved(String),
}

fn body(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
) -> Result<Page, ApiError> {
    let lang = request.lang;
    if !valid_record_id(id) {
        return Err(not_found());
    }
    let survivor = state
        .read(|conn| db::canonical_record(conn, id))?
        .map_err(internal)?;
    if survivor != id {
        return Ok(Page::Moved(survivor));
    }
    let fields = state
        .write(|store| store.get(&record_key(id)))?
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let (history, same_isbn) = state
        .read(|conn| -> rusqlite::Result<_> {
            let history = db::record_edits(conn, id)?;
            let isbn = fields.get("isbn").and_then(Value::as_str).unwrap_or("");
            let same = if isbn.is_empty() {
                Vec::new()
            } else {
                db::records_by_isbn(conn, isbn)?
                    .into_iter()
                    .filter(|r| r.id != id)
                    .collect()
            };
            Ok((history, same))
        })?
        .map_err(internal)?;
    let title = fields
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_owned();
    let mut html = format!(
        "<h1>{} <span class=\"meta\">{}</span></h1><p><a href=\"/records/{}\">{}</a> · <a href=\"/staff/catalogue?record={}\">{}</a></p>",
        escape(&title),
        escape(id),
        percent_encode(id),
        lang.t("cat.readers_view"),
        percent_encode(id),
        lang.pick("Thêm bản sách", "Add copies"),
    );
    if let Some(saved) = request.params.get("saved") {
        let _ = write!(
            html,
            "<p class=\"ok\" role=\"status\">{} {}</p>",
            lang.pick("Đã lưu. Số trường thay đổi:", "Saved. Fields changed:"),
            escape(saved)
        );
    }
    if let Some(merged) = request.params.get("merged") {
        let _ = write!(
            html,
            "<p class=\"ok\" role=\"status\">{} {}</p>",
            lang.pick(
                "Đã gộp; bản sách, lượt đặt và lượt mượn theo biểu ghi này. Số biểu ghi đã gộp:",
                "Merged; copies, holds and loans follow this record. Records merged:"
            ),
            escape(merged)
        );
    }
    let _ = write!(
        html,
        "<h2>{}</h2><p class=\"hint\">{}</p><form method=\"post\" action=\"/staff/catalogue/records/{}\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        lang.pick("Sửa biểu ghi", "Edit the record"),
        lang.pick(
            "Chỉ những trường bạn thay đổi được ghi lại, kèm tên bạn, quầy và thời gian.",
            "Only the fields you change are written, with your name, the desk and the time."
        ),
        percent_encode(id),
        escape(&staff.csrf),
    );
    for field in EDITABLE {
        let value = fields
            .get(*field)
            .map(edits::value_text)
            .unwrap_or_default();
        let label = field_label(lang, field);
        if *field == "summary" {
            let _ = write!(
                html,
                "<label>{}<textarea name=\"summary\" rows=\"4\">{}</textarea></label>",
                escape(&label),
                escape(&value)
            );
        } else {
            let _ = write!(
                html,
                "<label>{}<input name=\"{}\" value=\"{}\"></label>",
                escape(&label),
                field,
                escape(&value)
            );
        }
    }
    let _ = write!(
        html,
        "<button type=\"submit\">{}</button></form>",
        lang.pick("Lưu thay đổi", "Save changes")
    );

    let _ = write!(
        html,
        "<h2>{}</h2><p class=\"hint\">{}</p>",
        lang.pick("Gộp với biểu ghi khác", "Merge with another record"),
        lang.pick(
            "Khi hai biểu ghi là cùng một cuốn sách: các trường của biểu ghi này được giữ, chỗ trống lấy từ biểu ghi kia; bản sách, lượt đặt và lượt mượn của cả hai theo về một biểu ghi.",
            "When two records are the same book: this record's fields are kept, gaps are filled from the other; copies, holds and loans of both follow one record."
        ),
    );
    for other in &same_isbn {
        let _ = write!(
            html,
            "<form method=\"post\" action=\"/staff/catalogue/records/{}/merge\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"records\" value=\"{}\">\
<button type=\"submit\">{} «{}» ({}, ISBN {})</button></form>",
            percent_encode(id),
            escape(&staff.csrf),
            escape(&other.id),
            lang.pick("Gộp với", "Merge with"),
            escape(&other.title),
            escape(&other.id),
            escape(other.isbn.as_deref().unwrap_or("")),
        );
    }
    let _ = write!(
        html,
        "<form method=\"post\" action=\"/staff/catalogue/records/{}/merge\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<label>{}<input name=\"records\" placeholder=\"rec-…\"></label>\
<button type=\"submit\">{}</button></form>",
        percent_encode(id),
        escape(&staff.csrf),
        lang.pick(
            "Mã biểu ghi cần gộp vào đây",
            "Id of the record to merge into this one"
        ),
        lang.pick("Gộp với…", "Merge with…"),
    );

    let _ = write!(
        html,
        "<h2>{}</h2>",
        lang.pick("Lịch sử sửa đổi", "History of changes")
    );
    if history.is_empty() {
        let _ = write!(
            html,
            "<p>{}</p>",
            lang.pick("Chưa có sửa đổi nào.", "No changes yet.")
        );
    } else {
        let _ = write!(
            html,
            "<table class=\"history\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            lang.pick("Thời gian", "When"),
            lang.pick("Người sửa", "Who"),
            lang.pick("Quầy", "Desk"),
            lang.pick("Trường", "Field"),
            lang.pick("Giá trị cũ", "Old value"),
            lang.pick("Giá trị mới", "New value"),
        );
        for edit in history.iter().rev() {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&edit.at),
                escape(&edit.by),
                escape(&desk_label(state, lang, &edit.desk, &edit.library)),
                escape(&field_label(lang, &edit.field)),
                escape(&edit.old),
                escape(&edit.new),
            );
        }
        html.push_str("</tbody></table>");
    }
    Ok(Page::Body(title, html))
}

/// One history entry as JSON.
pub fn edit_json(edit: &RecordEditRow) -> serde_json::Value {
    serde_json::json!({
        "id": edit.id,
        "record": edit.record,
        "field": edit.field,
        "old": edit.old,
        "new": edit.new,
        "by": edit.by,
        "desk": edit.desk,
        "library": edit.library,
        "at": edit.at,
        "after": edit.after,
    })
}

/// `GET /api/records/{id}/history` (staff): the record's history entries, oldest first, and
/// where it went if it was merged.
pub fn history_json(state: &AppState, id: &str) -> warp::reply::Response {
    if !valid_record_id(id) {
        return json_error(&not_found());
    }
    let read = state.read(|conn| -> rusqlite::Result<_> {
        let exists =
            db::record_by_id(conn, id)?.is_some() || db::record_redirect(conn, id)?.is_some();
        Ok((
            exists,
            db::record_edits(conn, id)?,
            db::canonical_record(conn, id)?,
        ))
    });
    match read {
        Ok(Ok((exists, history, survivor))) => {
            if !exists && history.is_empty() {
                return json_error(&not_found());
            }
            json_reply(
                StatusCode::OK,
                &serde_json::json!({
                    "id": id,
                    "merged_into": (survivor != id).then_some(survivor),
                    "history": history.iter().map(edit_json).collect::<Vec<_>>(),
                }),
            )
        }
        Ok(Err(error)) => json_error(&internal(error)),
        Err(error) => json_error(&error),
    }
    .into_response()
}
