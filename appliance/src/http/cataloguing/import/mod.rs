//! The import page, "Nhập từ tệp": a books or readers list (`.xlsx`, `.csv`) or a MARC21 file
//! brought in from a phone or laptop instead of the console, in steps that each work without
//! JavaScript:
//!
//! 1. `GET /staff/catalogue/import` (`upload_get`): choose the file and what a list holds;
//!    `POST` the same path (`upload_post`, multipart) keeps it in memory under a random id
//!    owned by this session.
//! 2. `GET|POST /staff/catalogue/import/{id}` (`columns_get`, `columns_post`): a list's sheet,
//!    header line and what each column holds, preselected by the headers we recognise.
//! 3. `GET /staff/catalogue/import/{id}/preview` (`preview_get`): what importing would do,
//!    the first rows, every bad row by its line; the import button only when none is bad.
//! 4. `POST /staff/catalogue/import/{id}/start` (`start_post`) runs the import on a thread of
//!    its own and redirects to `GET …/{id}/progress` (`progress_get`), which reloads itself
//!    with a progress bar until the result.
//!
//! The flow is [`crate::imports`]'; here are the pages, and [`import_error`], the one place an
//! import's error becomes the sentence a librarian reads.

mod columns_get;
mod columns_post;
mod preview_get;
mod progress_get;
mod start_post;
mod upload_get;
mod upload_post;

use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};
use warp::Filter;

use super::see_other;
use crate::http::auth::Staff;
use crate::http::i18n::Lang;
use crate::http::route::{Route, any_of, no_body, staff_get, with_param};
use crate::http::{ApiError, AppState, PageRequest, blocking, form_body, page_request, staff};
use crate::imports::pending::PendingImport;
use crate::imports::{ImportError, ImportFile, ListChoices};
use crate::spreadsheets::SheetError;
use crate::spreadsheets::headers::{Field, MapError};

pub const PATH: &str = "/staff/catalogue/import";

pub fn routes(state: Arc<AppState>) -> Route {
    let form = staff_get(
        &state,
        warp::path!("staff" / "catalogue" / "import"),
        upload_get::get,
    );
    let upload = warp::path!("staff" / "catalogue" / "import")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(warp::header::optional::<u64>("content-length"))
        // No limit here: `upload_post::receive` says "too large" itself, in Vietnamese.
        .and(warp::multipart::form().max_length(None))
        .and(crate::http::with_state(state.clone()))
        .and_then(
            |who: Staff,
             request: PageRequest,
             length: Option<u64>,
             form: warp::multipart::FormData,
             state: Arc<AppState>| async move {
                let upload = upload_post::receive(length, form).await;
                blocking(move || upload_post::post(&state, &who, &request, upload)).await
            },
        )
        .boxed();
    let columns = with_param(
        &state,
        warp::path!("staff" / "catalogue" / "import" / String),
        warp::get(),
        no_body(),
        columns_get::get,
    );
    let choose = with_param(
        &state,
        warp::path!("staff" / "catalogue" / "import" / String),
        warp::post(),
        form_body(),
        columns_post::post,
    );
    let preview = with_param(
        &state,
        warp::path!("staff" / "catalogue" / "import" / String / "preview"),
        warp::get(),
        no_body(),
        preview_get::get,
    );
    let start = with_param(
        &state,
        warp::path!("staff" / "catalogue" / "import" / String / "start"),
        warp::post(),
        form_body(),
        start_post::post,
    );
    let progress = with_param(
        &state,
        warp::path!("staff" / "catalogue" / "import" / String / "progress"),
        warp::get(),
        no_body(),
        progress_get::get,
    );
    any_of(vec![
        form, upload, columns, choose, preview, start, progress,
    ])
}

/// Whose imports these are: this session's, named by a digest of its CSRF token (which is
/// the session's own, random, and dies with it), so another librarian, or the same one
/// logged in on another phone, cannot use an id seen over a shoulder.
fn owner(staff: &Staff) -> String {
    hex::encode(Sha256::digest(staff.csrf.as_bytes()))
}

/// What the pages read of an import, copied out so the lock is not held while they work.
struct Held {
    file: Option<Arc<ImportFile>>,
    file_name: String,
    choices: ListChoices,
    started: bool,
}

/// This session's import `id`, after `change` (which may set its choices or start it).
fn with_pending<T>(
    state: &AppState,
    staff: &Staff,
    id: &str,
    change: impl FnOnce(&mut PendingImport) -> T,
) -> Result<T, ApiError> {
    let mut imports = state.imports.lock().map_err(|_| ApiError::Unavailable)?;
    let pending = imports
        .get(id, &owner(staff), Instant::now())
        .ok_or_else(gone)?;
    Ok(change(pending))
}

fn held(state: &AppState, staff: &Staff, id: &str) -> Result<Held, ApiError> {
    with_pending(state, staff, id, |pending| Held {
        file: pending.file.clone(),
        file_name: pending.file_name.clone(),
        choices: pending.choices.clone(),
        started: pending.progress.is_some(),
    })
}

fn gone() -> ApiError {
    ApiError::NotFound {
        vi: "Không còn lần nhập này: tệp chỉ được giữ 30 phút, và chỉ người đã tải lên mới dùng được. Hãy tải tệp lên lại.".into(),
        en: "This import is no longer here: a file is kept for 30 minutes, for the person who uploaded it only. Upload the file again.".into(),
    }
}

fn page_of(id: &str, step: &str) -> String {
    if step.is_empty() {
        format!("{PATH}/{id}")
    } else {
        format!("{PATH}/{id}/{step}")
    }
}

/// A redirect to one step of import `id` ("" for the columns).
fn to_step(id: &str, step: &str) -> warp::reply::Response {
    see_other(&page_of(id, step))
}

/// The words for a field of a list.
pub fn field_label(lang: Lang, field: Field) -> &'static str {
    match field {
        Field::Title => lang.t("import.field.title"),
        Field::Authors => lang.t("import.field.authors"),
        Field::Publisher => lang.t("import.field.publisher"),
        Field::Year => lang.t("import.field.year"),
        Field::Isbn => lang.t("import.field.isbn"),
        Field::Barcode => lang.t("import.field.barcode"),
        Field::Ddc => lang.t("import.field.ddc"),
        Field::Shelf => lang.t("import.field.shelf"),
        Field::Pages => lang.t("import.field.pages"),
        Field::Language => lang.t("import.field.language"),
        Field::Name => lang.t("import.field.name"),
        Field::Class => lang.t("import.field.class"),
        Field::School => lang.t("import.field.school"),
        Field::Card => lang.t("import.field.card"),
        Field::Category => lang.t("import.field.category"),
        Field::Born => lang.t("import.field.born"),
        Field::Contact => lang.t("import.field.contact"),
        Field::Expires => lang.t("import.field.expires"),
    }
}

/// A field named as `Field::name` gives it, in both languages.
fn field_words(name: &str) -> (&'static str, &'static str) {
    use crate::spreadsheets::RowKind;
    match Field::named(RowKind::Books, name).or_else(|| Field::named(RowKind::Readers, name)) {
        Some(field) => (field_label(Lang::Vi, field), field_label(Lang::En, field)),
        None => ("?", "?"),
    }
}

/// What the librarian reads when a file cannot be imported.
pub fn import_error(error: &ImportError) -> ApiError {
    let bad = |vi: String, en: String| ApiError::BadRequest { vi, en };
    match error {
        ImportError::OldExcel => bad(
            "Đây là tệp Excel cũ (.xls). Hãy mở tệp trong Excel, chọn Lưu thành (Save As) → Sổ làm việc Excel (.xlsx), rồi tải tệp .xlsx lên.".into(),
            "This is an old Excel file (.xls). Open it in Excel, Save As → Excel Workbook (.xlsx), and upload the .xlsx.".into(),
        ),
        ImportError::UnknownFormat(extension) => bad(
            format!("Không nhập được tệp .{extension}: chỉ nhận danh sách Excel (.xlsx), CSV (.csv) hoặc MARC21 (.mrc, .iso, .xml)."),
            format!("A .{extension} file cannot be imported: only Excel (.xlsx) or CSV (.csv) lists, or MARC21 (.mrc, .iso, .xml)."),
        ),
        ImportError::Sheet(sheet) => sheet_error(sheet),
        ImportError::Columns(columns) => columns_error(columns),
        ImportError::Marc(crate::cataloguing::marc::MarcError::Record { record, problem }) => bad(
            format!("Tệp MARC hỏng ở biểu ghi số {record}, nên không nhập gì. Hãy chép lại tệp từ nơi gửi. (Chi tiết: {problem}.)"),
            format!("The MARC file is damaged at record {record}, so nothing was imported. Copy the file again from its sender. ({problem}.)"),
        ),
        ImportError::Marc(crate::cataloguing::marc::MarcError::NoRecords) => bad(
            "Tệp không có biểu ghi MARC nào.".into(),
            "The file holds no MARC records.".into(),
        ),
        ImportError::BadRows(errors) => {
            let n = crate::imports::bad_lines(errors);
            ApiError::Conflict {
                vi: format!("Tệp có lỗi ở {n} dòng, nên không nhập gì. Sửa các dòng này trong Excel rồi tải tệp lên lại."),
                en: format!("The file has errors on {n} line(s), so nothing was imported. Correct them in Excel and upload the file again."),
            }
        }
        ImportError::StoreUnavailable => ApiError::Unavailable,
        ImportError::Store(_) | ImportError::Internal(_) => ApiError::Internal(error.to_string()),
    }
}

fn sheet_error(error: &SheetError) -> ApiError {
    let (vi, en) = match error {
        SheetError::NotUtf8 { line } => (
            format!(
                "Tệp CSV không phải UTF-8 (dòng {line}). Trong Excel hãy lưu bằng \"CSV UTF-8\" rồi tải lên lại."
            ),
            format!(
                "The CSV file is not UTF-8 (line {line}). In Excel, save it as \"CSV UTF-8\" and upload it again."
            ),
        ),
        SheetError::Csv { line, why } => (
            format!("Không đọc được tệp CSV ở dòng {line} ({why})."),
            format!("The CSV file cannot be read at line {line} ({why})."),
        ),
        SheetError::Xlsx(why) => (
            format!("Không đọc được tệp Excel ({why}). Tệp phải là .xlsx (Excel 2007 trở lên)."),
            format!(
                "The Excel file cannot be read ({why}). It must be an .xlsx (Excel 2007 or later)."
            ),
        ),
        SheetError::NoSuchSheet { asked, have } => (
            format!("Tệp Excel không có trang tính \"{asked}\"; có: {have}."),
            format!("The workbook has no sheet \"{asked}\"; it has: {have}."),
        ),
        SheetError::Empty => (
            "Tệp (hoặc trang tính này) không có dòng nào.".into(),
            "The file (or this worksheet) has no rows.".into(),
        ),
    };
    ApiError::BadRequest { vi, en }
}

fn columns_error(error: &MapError) -> ApiError {
    let (vi, en) = match error {
        MapError::NoHeader { field, .. } | MapError::KeyNotChosen { field } => {
            let (vi, en) = field_words(field);
            (
                format!("Chưa biết cột nào là {vi}: hãy chọn ở bước Ghép cột."),
                format!(
                    "No column is known to hold the {en}: choose it when matching the columns."
                ),
            )
        }
        MapError::FieldTwice {
            field,
            first,
            second,
        } => {
            let (vi, en) = field_words(field);
            (
                format!(
                    "Hai cột \"{first}\" và \"{second}\" cùng được chọn là {vi}: hãy giữ một cột, cột kia để bỏ qua."
                ),
                format!(
                    "Columns \"{first}\" and \"{second}\" are both chosen as {en}: keep one and ignore the other."
                ),
            )
        }
        MapError::NoSuchLine(line) => (
            format!("Trang tính không có dòng {line}: hãy chọn lại dòng tiêu đề."),
            format!("The worksheet has no line {line}: choose the header line again."),
        ),
        // Only `--map` makes these.
        MapError::NoEquals(_) | MapError::UnknownField { .. } | MapError::NoSuchColumn(_) => {
            (error.to_string(), error.to_string())
        }
    };
    ApiError::BadRequest { vi, en }
}
