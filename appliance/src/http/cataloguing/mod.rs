//! The librarians' cataloguing pages: copy cataloguing (find a record of the union catalogue,
//! add this library's copies to it), a new record when none matches, and the stocktake; and
//! the JSON endpoints `POST /api/records` and `POST /api/copies`. Records are edited and
//! merged at `/staff/catalogue/records/{id}` (`PATCH /api/records/{id}`,
//! `POST /api/records/{id}/merge`, `GET /api/records/{id}/history`), and the catalogue's
//! exceptions (`conflicts`) are resolved under `/staff/exceptions/catalogue`. Spine labels
//! are printed as a PDF from `/staff/catalogue/labels`. Books and readers lists and MARC21
//! files are imported from `/staff/catalogue/import` (`import/`).

mod catalogue_get;
pub mod conflicts;
mod copies_create;
mod import;
mod record_edit;
mod record_edit_get;
mod record_merge;
mod records_create;
mod spine_labels_get;
mod spine_labels_post;
mod stocktake_get;
mod stocktake_list;
mod stocktake_lost;
mod stocktake_scan;
mod stocktake_start;

use std::sync::Arc;

use warp::filters::BoxedFilter;

use super::route::{any_of, staff_form, staff_get};
use warp::{Filter, Reply};

use super::auth::Staff;
use super::input::Field;
use super::layout::{self, Frame};
use super::{
    ApiError, AppState, PageRequest, blocking, csrf_header, form_body, json_body, page_request,
    staff, with_state,
};
use crate::cataloguing::CatalogueError;
use crate::stocktake::StocktakeError;

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let page = warp::path!("staff" / "catalogue")
        .and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|who, request, state: Arc<AppState>| {
            blocking(move || catalogue_get::get(&state, &who, &request))
        })
        .boxed();
    let copies_form = warp::path!("staff" / "catalogue" / "copies")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || copies_create::post_form(&state, &who, &request, &input))
        })
        .boxed();
    let records_form = warp::path!("staff" / "catalogue" / "records")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || records_create::post_form(&state, &who, &request, &input))
        })
        .boxed();
    let copies_json = warp::path!("api" / "copies")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(json_body())
        .and(csrf_header())
        .and(with_state(state.clone()))
        .and_then(|who, input, csrf: String, state: Arc<AppState>| {
            blocking(move || copies_create::post_json(&state, &who, &csrf, &input))
        })
        .boxed();
    let records_json = warp::path!("api" / "records")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(json_body())
        .and(csrf_header())
        .and(with_state(state.clone()))
        .and_then(|who, input, csrf: String, state: Arc<AppState>| {
            blocking(move || records_create::post_json(&state, &who, &csrf, &input))
        })
        .boxed();
    let stocktakes = warp::path!("staff" / "stocktake")
        .and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|who, request, state: Arc<AppState>| {
            blocking(move || stocktake_list::get(&state, &who, &request))
        })
        .boxed();
    let start = warp::path!("staff" / "stocktake")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || stocktake_start::post(&state, &who, &request, &input))
        })
        .boxed();
    let stocktake = warp::path!("staff" / "stocktake" / String)
        .and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|id: String, who, request, state: Arc<AppState>| {
            blocking(move || stocktake_get::get(&state, &who, &request, &id))
        })
        .boxed();
    let scan = warp::path!("staff" / "stocktake" / String / "scans")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|id: String, who, request, input, state: Arc<AppState>| {
            blocking(move || stocktake_scan::post(&state, &who, &request, &id, &input))
        })
        .boxed();
    let lost = warp::path!("staff" / "stocktake" / String / "lost")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|id: String, who, request, input, state: Arc<AppState>| {
            blocking(move || stocktake_lost::post(&state, &who, &request, &id, &input))
        })
        .boxed();
    let edit_page = warp::path!("staff" / "catalogue" / "records" / String)
        .and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|id: String, who, request, state: Arc<AppState>| {
            blocking(move || record_edit_get::get(&state, &who, &request, &id))
        })
        .boxed();
    let edit_form = warp::path!("staff" / "catalogue" / "records" / String)
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|id: String, who, request, input, state: Arc<AppState>| {
            blocking(move || record_edit::post_form(&state, &who, &request, &id, &input))
        })
        .boxed();
    let merge_form = warp::path!("staff" / "catalogue" / "records" / String / "merge")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|id: String, who, request, input, state: Arc<AppState>| {
            blocking(move || record_merge::post_form(&state, &who, &request, &id, &input))
        })
        .boxed();
    let edit_json = warp::path!("api" / "records" / String)
        .and(warp::patch())
        .and(staff(state.clone()))
        .and(json_body())
        .and(csrf_header())
        .and(with_state(state.clone()))
        .and_then(
            |id: String, who, input, csrf: String, state: Arc<AppState>| {
                blocking(move || record_edit::patch_json(&state, &who, &id, &csrf, &input))
            },
        )
        .boxed();
    let merge_json = warp::path!("api" / "records" / String / "merge")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(json_body())
        .and(csrf_header())
        .and(with_state(state.clone()))
        .and_then(
            |id: String, who, input, csrf: String, state: Arc<AppState>| {
                blocking(move || record_merge::post_json(&state, &who, &id, &csrf, &input))
            },
        )
        .boxed();
    let history_json = warp::path!("api" / "records" / String / "history")
        .and(warp::get())
        .and(staff(state.clone()))
        .and(with_state(state.clone()))
        .and_then(|id: String, _who: Staff, state: Arc<AppState>| {
            blocking(move || record_edit_get::history_json(&state, &id))
        })
        .boxed();
    let conflicts_form = warp::path!("staff" / "exceptions" / "catalogue")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || conflicts::post_form(&state, &who, &request, &input))
        })
        .boxed();
    let conflicts_json = warp::path!("api" / "exceptions" / "catalogue" / "resolve")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(json_body())
        .and(csrf_header())
        .and(with_state(state.clone()))
        .and_then(|who, input, csrf: String, state: Arc<AppState>| {
            blocking(move || conflicts::post_json(&state, &who, &input, &csrf))
        })
        .boxed();
    let labels_page = staff_get(
        &state,
        warp::path!("staff" / "catalogue" / "labels"),
        spine_labels_get::get,
    );
    let labels_pdf = staff_form(
        &state,
        warp::path!("staff" / "catalogue" / "labels"),
        spine_labels_post::post,
    );
    any_of(vec![
        page,
        import::routes(state.clone()),
        labels_page,
        labels_pdf,
        copies_form,
        edit_page,
        edit_form,
        merge_form,
        edit_json,
        merge_json,
        history_json,
        conflicts_form,
        conflicts_json,
        records_form,
        copies_json,
        records_json,
        stocktakes,
        start,
        stocktake,
        scan,
        lost,
    ])
}

/// Who is editing, at which desk, when: for the history entries of records.
fn editor(state: &AppState, staff: &Staff) -> crate::cataloguing::edits::Editor {
    crate::cataloguing::edits::Editor {
        username: staff.username.clone(),
        desk: state.device.to_hex(),
        library: state.library.id.clone(),
        at: state
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// The frame of a staff page.
fn frame<'a>(
    state: &'a AppState,
    staff: &'a Staff,
    here: &'a str,
    request: &PageRequest,
) -> Frame<'a> {
    Frame {
        lang: request.lang,
        library: &state.library.name,
        staff: Some(staff),
        clock_wrong: state.clock_wrong(),
        here,
    }
}

/// A staff form that failed: the error page with its status and the way back.
fn form_error(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    error: &ApiError,
    back: &str,
) -> warp::reply::Response {
    let frame = frame(state, staff, back, request);
    let html = layout::error_page(&frame, &error.lang_message(request.lang), back);
    layout::reply(html, error.status(), request.lang, false)
}

/// A redirect after a successful form post (303, so a reload does not post again).
fn see_other(location: &str) -> warp::reply::Response {
    match location.parse::<warp::http::Uri>() {
        Ok(uri) => warp::redirect::see_other(uri).into_response(),
        Err(_) => warp::redirect::see_other(warp::http::Uri::from_static("/staff/catalogue"))
            .into_response(),
    }
}

/// What the librarian reads when cataloguing says no.
pub fn catalogue_error(error: CatalogueError) -> ApiError {
    let (vi, en) = match &error {
        CatalogueError::UnknownRecord(id) => {
            return ApiError::NotFound {
                vi: format!("Không có biểu ghi {id}. Hãy tìm lại biểu ghi rồi thử lại."),
                en: format!("There is no record {id}. Find the record again and retry."),
            };
        }
        CatalogueError::BarcodeTaken { barcode, record } => {
            return ApiError::Conflict {
                vi: format!(
                    "Mã vạch {barcode} đã được dùng cho một bản sách khác (biểu ghi {record}). Không bản nào được thêm; hãy bỏ mã này ra rồi thử lại."
                ),
                en: format!(
                    "Barcode {barcode} already belongs to another copy (record {record}). No copy was added; remove it and try again."
                ),
            };
        }
        CatalogueError::IsbnTaken { isbn, record } => {
            return ApiError::Conflict {
                vi: format!(
                    "ISBN {isbn} đã có trong thư mục (biểu ghi {record}). Hãy dùng biểu ghi đó để thêm bản sách."
                ),
                en: format!(
                    "ISBN {isbn} is already catalogued (record {record}). Add copies to that record instead."
                ),
            };
        }
        CatalogueError::InvalidBarcode(b) => (
            format!(
                "\u{201c}{b}\u{201d} không phải mã vạch: chỉ dùng chữ, số và dấu -, tối đa 32 ký tự."
            ),
            format!(
                "\u{201c}{b}\u{201d} is not a barcode: use letters, digits and -, at most 32 characters."
            ),
        ),
        CatalogueError::BarcodeTwice(b) => (
            format!("Mã vạch {b} được quét hai lần. Hãy bỏ bớt một lần rồi thử lại."),
            format!("Barcode {b} was scanned twice. Remove one and try again."),
        ),
        CatalogueError::NoBarcodes => (
            "Chưa có mã vạch nào: hãy quét mã vạch của từng bản sách.".into(),
            "No barcodes yet: scan each copy's barcode.".into(),
        ),
        CatalogueError::TooManyCopies => (
            format!(
                "Mỗi lần chỉ thêm được tối đa {} bản sách.",
                crate::cataloguing::MAX_COPIES_PER_ACTION
            ),
            format!(
                "At most {} copies at a time.",
                crate::cataloguing::MAX_COPIES_PER_ACTION
            ),
        ),
        CatalogueError::InvalidItemType(_) => (
            "Loại tài liệu không hợp lệ: chọn sách, tra cứu, báo/tạp chí hoặc nghe nhìn.".into(),
            "Item type is not valid: choose book, reference, periodical or av.".into(),
        ),
        CatalogueError::InvalidIsbn(isbn) => (
            format!(
                "ISBN \u{201c}{isbn}\u{201d} không đúng (sai số kiểm tra). Hãy xem lại mã trên sách."
            ),
            format!(
                "ISBN \u{201c}{isbn}\u{201d} is not valid (check digit). Look at the number on the book again."
            ),
        ),
        CatalogueError::NoTitle => ("Thiếu nhan đề sách.".into(), "The title is missing.".into()),
        CatalogueError::Merged { record, into } => {
            return ApiError::Conflict {
                vi: format!(
                    "Biểu ghi {record} đã được gộp vào biểu ghi {into}. Hãy mở biểu ghi {into} rồi làm lại."
                ),
                en: format!(
                    "Record {record} was merged into record {into}. Open record {into} and try again."
                ),
            };
        }
        CatalogueError::NotEditable(field) => (
            format!("Không sửa được trường \u{201c}{field}\u{201d} của biểu ghi."),
            format!("Field \u{201c}{field}\u{201d} of a record cannot be edited."),
        ),
        CatalogueError::NothingToMerge => (
            "Hãy chọn ít nhất một biểu ghi khác để gộp.".into(),
            "Choose at least one other record to merge.".into(),
        ),
        CatalogueError::Random(_) | CatalogueError::Store(_) | CatalogueError::Database(_) => {
            return ApiError::Internal(error.to_string());
        }
    };
    ApiError::BadRequest { vi, en }
}

/// What the librarian reads when a stocktake action says no.
pub fn stocktake_error(error: StocktakeError) -> ApiError {
    match &error {
        StocktakeError::Unknown(id) => ApiError::NotFound {
            vi: format!("Không có đợt kiểm kê {id}."),
            en: format!("There is no stocktake {id}."),
        },
        StocktakeError::Closed(_) => ApiError::Conflict {
            vi: "Đợt kiểm kê này đã kết thúc; hãy bắt đầu đợt mới.".into(),
            en: "This stocktake is closed; start a new one.".into(),
        },
        StocktakeError::InvalidBarcode(b) => ApiError::BadRequest {
            vi: format!("\u{201c}{b}\u{201d} không phải mã vạch."),
            en: format!("\u{201c}{b}\u{201d} is not a barcode."),
        },
        StocktakeError::InvalidShelf => ApiError::BadRequest {
            vi: "Hãy chọn hoặc gõ tên kệ (tối đa 60 ký tự).".into(),
            en: "Choose or type a shelf (at most 60 characters).".into(),
        },
        StocktakeError::Random(_) | StocktakeError::Store(_) | StocktakeError::Database(_) => {
            ApiError::Internal(error.to_string())
        }
    }
}

/// OpenAPI path items of the cataloguing JSON endpoints.
pub fn openapi_paths() -> serde_json::Value {
    let error = serde_json::json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let csrf = serde_json::json!({"name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"}, "description": "The session's token from GET /api/session."});
    let list = serde_json::json!({"oneOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "string", "description": "Several values separated by new lines or ';'."}
    ]});
    serde_json::json!({
        "/api/records": {
            "post": {
                "summary": "Create a record in the union catalogue (staff)",
                "description": "Checks everything before writing; an ISBN must have a valid check digit and must not be catalogued already.",
                "parameters": [csrf],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["title"],
                    "properties": {
                        "title": {"type": "string", "maxLength": 300},
                        "authors": list,
                        "publisher": {"type": "string", "maxLength": 120},
                        "year": {"type": "integer", "minimum": 1400, "maximum": 2100},
                        "isbn": {"type": "string", "description": "ISBN-10 or ISBN-13, hyphens allowed."},
                        "language": {"type": "string", "description": "ISO 639-2, default vie.", "maxLength": 3},
                        "ddc": {"type": "string", "maxLength": 20},
                        "subjects": list,
                        "summary": {"type": "string", "maxLength": 2000}
                    }
                }}}},
                "responses": {
                    "201": {"description": "Created.", "content": {"application/json": {"schema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}},
                    "400": {"description": "A field is missing or not acceptable.", "content": error["content"]},
                    "401": {"description": "Not logged in.", "content": error["content"]},
                    "403": {"description": "Missing or wrong CSRF token.", "content": error["content"]},
                    "409": {"description": "The ISBN is already catalogued.", "content": error["content"]},
                    "413": {"description": "Body over 64 KiB.", "content": error["content"]}
                }
            }
        },
        "/api/records/{id}": {
            "patch": {
                "summary": "Edit a record field by field (staff)",
                "description": "Send only the fields to change (any of title, authors, publisher, year, isbn, language, ddc, subjects, pages, summary; null or \"\" clears an optional one). Fields whose value is unchanged are not written; each changed field gets a history entry (who, which desk, when, old and new value). All or none: an unknown field, an empty title, a wrong or already catalogued ISBN write nothing.",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    csrf
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": false,
                    "properties": {
                        "title": {"type": "string", "maxLength": 300},
                        "authors": list,
                        "publisher": {"type": "string", "maxLength": 120},
                        "year": {"type": "integer", "minimum": 1400, "maximum": 2100, "nullable": true},
                        "isbn": {"type": "string", "nullable": true},
                        "language": {"type": "string", "maxLength": 3},
                        "ddc": {"type": "string", "maxLength": 20},
                        "subjects": list,
                        "pages": {"type": "integer", "minimum": 1, "nullable": true},
                        "summary": {"type": "string", "maxLength": 2000, "nullable": true}
                    }
                }}}},
                "responses": {
                    "200": {"description": "Saved.", "content": {"application/json": {"schema": {"type": "object", "required": ["id", "changed"], "properties": {
                        "id": {"type": "string"}, "changed": {"type": "array", "items": {"type": "string"}, "description": "The fields written (unchanged ones are left out)."}
                    }}}}},
                    "400": {"description": "A field is unknown, missing or not acceptable.", "content": error["content"]},
                    "401": {"description": "Not logged in.", "content": error["content"]},
                    "403": {"description": "Missing or wrong CSRF token.", "content": error["content"]},
                    "404": {"description": "No such record.", "content": error["content"]},
                    "409": {"description": "The ISBN is another record's, or the record was merged into another (edit that one).", "content": error["content"]}
                }
            }
        },
        "/api/records/{id}/history": {
            "get": {
                "summary": "A record's history of changes (staff)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "Oldest first. `after` lists the edits of the field the editing desk had seen; two entries of one field that neither lists are edits made apart.", "content": {"application/json": {"schema": {"type": "object", "required": ["id", "history"], "properties": {
                        "id": {"type": "string"},
                        "merged_into": {"type": "string", "nullable": true},
                        "history": {"type": "array", "items": {"type": "object", "required": ["id", "field", "old", "new", "by", "desk", "at"], "properties": {
                            "id": {"type": "string"}, "record": {"type": "string"}, "field": {"type": "string"},
                            "old": {"type": "string"}, "new": {"type": "string"}, "by": {"type": "string", "description": "Staff username."},
                            "desk": {"type": "string", "description": "Device id of the desk."}, "library": {"type": "string"},
                            "at": {"type": "string", "description": "RFC 3339, the desk's clock."},
                            "after": {"type": "array", "items": {"type": "string"}}
                        }}}
                    }}}}},
                    "401": {"description": "Not logged in.", "content": error["content"]},
                    "404": {"description": "No such record.", "content": error["content"]}
                }
            }
        },
        "/api/records/{id}/merge": {
            "post": {
                "summary": "Merge other records into this one (staff)",
                "description": "For records that describe one book. This record's fields win and gaps are filled from the others. The surviving id is the smallest of all ids merged (so two desks merging the same records in either direction agree); the others keep their fields, get `merged_into`, leave search, and their links, copies, holds and loans follow the survivor.",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    csrf
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["records"],
                    "properties": {"records": list}
                }}}},
                "responses": {
                    "200": {"description": "Merged as one commit.", "content": {"application/json": {"schema": {"type": "object", "required": ["survivor", "merged"], "properties": {
                        "survivor": {"type": "string"}, "merged": {"type": "array", "items": {"type": "string"}},
                        "copies_moved": {"type": "integer", "description": "This library's copies rewritten to the survivor."}
                    }}}}},
                    "400": {"description": "No other record given.", "content": error["content"]},
                    "401": {"description": "Not logged in.", "content": error["content"]},
                    "403": {"description": "Missing or wrong CSRF token.", "content": error["content"]},
                    "404": {"description": "No such record.", "content": error["content"]},
                    "409": {"description": "A record was already merged into another.", "content": error["content"]}
                }
            }
        },
        "/api/exceptions/catalogue/resolve": {
            "post": {
                "summary": "Resolve a catalogue exception (staff)",
                "description": "The catalogue's cases are listed under `catalogue` in GET /api/exceptions: `record_edited_differently` (tokens `keep:EDIT`, writing that value everywhere) and `isbn_catalogued_twice` (token `merge`).",
                "parameters": [csrf],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["exception", "resolution"], "properties": {
                    "exception": {"type": "string"}, "resolution": {"type": "string"}
                }}}}},
                "responses": {
                    "200": {"description": "Applied as one commit.", "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "resolved": {"type": "string"}, "survivor": {"type": "string", "nullable": true}
                    }}}}},
                    "400": {"description": "A field is missing or the resolution is not offered.", "content": error["content"]},
                    "401": {"description": "Not logged in.", "content": error["content"]},
                    "403": {"description": "Missing or wrong CSRF token.", "content": error["content"]},
                    "404": {"description": "No such exception (already resolved?).", "content": error["content"]}
                }
            }
        },
        "/api/copies": {
            "post": {
                "summary": "Add this library's copies to a record (staff)",
                "description": "All or none: refuses unknown records, invalid or repeated barcodes and barcodes already in use.",
                "parameters": [csrf],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["record", "barcodes", "item_type"],
                    "properties": {
                        "record": {"type": "string"},
                        "barcodes": list,
                        "shelf": {"type": "string", "maxLength": 60, "description": "Shelf and call number, e.g. Kệ 9 – 895.922."},
                        "item_type": {"type": "string", "enum": crate::cataloguing::ITEM_TYPES}
                    }
                }}}},
                "responses": {
                    "201": {"description": "Added.", "content": {"application/json": {"schema": {"type": "object", "required": ["record", "added", "barcodes"], "properties": {
                        "record": {"type": "string"}, "added": {"type": "integer"}, "barcodes": {"type": "array", "items": {"type": "string"}}
                    }}}}},
                    "400": {"description": "A field is missing or not acceptable.", "content": error["content"]},
                    "401": {"description": "Not logged in.", "content": error["content"]},
                    "403": {"description": "Missing or wrong CSRF token.", "content": error["content"]},
                    "404": {"description": "No such record.", "content": error["content"]},
                    "409": {"description": "A barcode is already in use.", "content": error["content"]},
                    "413": {"description": "Body over 64 KiB.", "content": error["content"]}
                }
            }
        }
    })
}

/// A list field: a JSON array of texts, or one text with items on separate lines or between
/// `;` (`split_commas` also splits on commas and spaces, for barcodes). Each item is checked
/// like any text field.
fn text_list(
    input: &super::input::Input,
    field: Field,
    max_items: usize,
    max_chars: usize,
    barcodes: bool,
) -> Result<Vec<String>, ApiError> {
    use super::input::Input;
    let one = |text: &str| -> Result<Option<String>, ApiError> {
        Input::from_form(std::collections::HashMap::from([(
            field.name.to_owned(),
            text.to_owned(),
        )]))
        .optional_text(field, max_chars)
    };
    let items: Vec<String> = match input.raw(field.name) {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(values)) => {
            let mut items = Vec::new();
            for value in values {
                match value {
                    serde_json::Value::String(text) => items.extend(one(text)?),
                    _ => {
                        return Err(ApiError::BadRequest {
                            vi: format!("Mỗi mục của {} phải là chữ.", field.vi),
                            en: format!("Each item of {} must be text.", field.en),
                        });
                    }
                }
            }
            items
        }
        Some(serde_json::Value::String(text)) => {
            if text.chars().count() > max_items * (max_chars + 2) {
                return Err(ApiError::BadRequest {
                    vi: format!("{} quá dài.", field.vi),
                    en: format!("{} is too long.", field.en),
                });
            }
            let parts: Vec<String> = if barcodes {
                crate::cataloguing::split_barcodes(text)
            } else {
                text.split(['\n', ';']).map(str::to_owned).collect()
            };
            let mut items = Vec::new();
            for part in parts {
                items.extend(one(&part)?);
            }
            items
        }
        Some(_) => {
            return Err(ApiError::BadRequest {
                vi: format!("{} phải là chữ hoặc danh sách chữ.", field.vi),
                en: format!("{} must be text or a list of texts.", field.en),
            });
        }
    };
    if items.len() > max_items {
        return Err(ApiError::BadRequest {
            vi: format!("Tối đa {max_items} mục cho {}.", field.vi),
            en: format!("At most {max_items} items for {}.", field.en),
        });
    }
    Ok(items)
}
