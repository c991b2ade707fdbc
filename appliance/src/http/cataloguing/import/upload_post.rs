//! `POST /staff/catalogue/import` (multipart: `csrf`, `kind` = `books` | `readers`, `file`):
//! keeps the file in memory for this session, checks that it reads, and redirects to its
//! columns (a list) or its preview (MARC). A file over the limit, unreadable or of a kind we
//! do not import comes back as the form with the reason.
//!
//! The body is read here, off the blocking threads, part by part, and never beyond the limit:
//! a request that says it is larger is read to its end and thrown away (so the browser, still
//! sending, sees the answer rather than a broken connection), up to [`DRAIN_AT_MOST`].

use std::collections::HashMap;
use std::time::Instant;

use bytes::{Buf, BufMut};
use futures_util::StreamExt;
use warp::http::StatusCode;

use super::upload_get::render;
use super::{owner, to_step};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::imports::pending::{MAX_FILE_BYTES, PendingError};
use crate::imports::{self, FileFormat, ImportFile, ListChoices};
use crate::spreadsheets::RowKind;

/// Room for the form's other fields and the multipart framing around the file.
const FORM_OVERHEAD: u64 = 64 * 1024;
/// The most of an oversized upload read (and dropped) so the browser gets the answer.
const DRAIN_AT_MOST: u64 = 256 * 1024 * 1024;
/// The longest text field (the CSRF token and the kind are short).
const MAX_FIELD_BYTES: usize = 1024;
/// The longest file name kept for the pages.
const MAX_NAME_CHARS: usize = 120;

const KIND: Field = Field::new("kind", "loại danh sách", "what the list holds");

/// What came in.
pub enum Upload {
    Received {
        fields: HashMap<String, String>,
        /// The file's name as the device gave it, and its bytes.
        file: Option<(String, Vec<u8>)>,
    },
    TooLarge,
    Unreadable(String),
}

/// Reads the form, stopping at the limit.
pub async fn receive(length: Option<u64>, mut form: warp::multipart::FormData) -> Upload {
    if length.is_some_and(|n| n > MAX_FILE_BYTES as u64 + FORM_OVERHEAD) {
        if length.is_some_and(|n| n <= DRAIN_AT_MOST) {
            drain(form).await;
        }
        return Upload::TooLarge;
    }
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(part) = form.next().await {
        let mut part = match part {
            Ok(part) => part,
            Err(error) => return Upload::Unreadable(error.to_string()),
        };
        let is_file = part.name() == "file";
        let name = part.name().to_owned();
        let file_name = part.filename().unwrap_or_default().to_owned();
        let limit = if is_file {
            MAX_FILE_BYTES
        } else {
            MAX_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.data().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => return Upload::Unreadable(error.to_string()),
            };
            if bytes.len() + chunk.remaining() > limit {
                // Without a length up front (a chunked body), the limit is found here.
                if is_file {
                    return Upload::TooLarge;
                }
                return Upload::Unreadable(format!("field {name} is too long"));
            }
            bytes.put(chunk);
        }
        if is_file {
            file = Some((file_name, bytes));
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Upload::Received { fields, file }
}

async fn drain(mut form: warp::multipart::FormData) {
    while let Some(Ok(mut part)) = form.next().await {
        while let Some(Ok(_)) = part.data().await {}
    }
}

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    upload: Upload,
) -> warp::reply::Response {
    match keep(state, staff, upload) {
        Ok((id, FileFormat::Marc)) => to_step(&id, "preview"),
        Ok((id, _)) => to_step(&id, ""),
        Err((error, status)) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: import upload: {detail}");
            }
            render(state, staff, request, Some(&error), status)
        }
    }
}

fn too_large() -> (ApiError, StatusCode) {
    let mb = MAX_FILE_BYTES / (1024 * 1024);
    (
        ApiError::BadRequest {
            vi: format!(
                "Tệp lớn quá {mb} MB nên không nhận. Hãy chia danh sách thành nhiều tệp nhỏ hơn, hoặc nhờ cán bộ huyện nhập bằng lệnh tusach import."
            ),
            en: format!(
                "The file is over {mb} MB, so it was not taken. Split the list into smaller files, or ask the district engineer to use tusach import."
            ),
        },
        StatusCode::PAYLOAD_TOO_LARGE,
    )
}

fn keep(
    state: &AppState,
    staff: &Staff,
    upload: Upload,
) -> Result<(String, FileFormat), (ApiError, StatusCode)> {
    let with_status = |error: ApiError| {
        let status = error.status();
        (error, status)
    };
    let (fields, file) = match upload {
        Upload::Received { fields, file } => (fields, file),
        Upload::TooLarge => return Err(too_large()),
        Upload::Unreadable(why) => {
            return Err(with_status(ApiError::BadRequest {
                vi: format!("Không đọc được nội dung gửi lên ({why}). Hãy chọn tệp rồi gửi lại."),
                en: format!(
                    "The upload could not be read ({why}). Choose the file and send it again."
                ),
            }));
        }
    };
    let input = Input::from_form(fields);
    check_form_csrf(staff, &input).map_err(with_status)?;
    // A list holds books unless the form says readers (MARC files ignore it).
    let kind = match input.optional_text(KIND, 16).map_err(with_status)? {
        None => RowKind::Books,
        Some(_) => match input
            .choice(KIND, &["books", "readers"])
            .map_err(with_status)?
            .as_str()
        {
            "readers" => RowKind::Readers,
            _ => RowKind::Books,
        },
    };
    let (name, bytes) = match file {
        Some((name, bytes)) if !bytes.is_empty() => (name, bytes),
        _ => {
            return Err(with_status(ApiError::BadRequest {
                vi: "Chưa chọn tệp (hoặc tệp trống). Hãy bấm Chọn tệp rồi tải lên.".into(),
                en: "No file was chosen (or it is empty). Choose a file and upload it.".into(),
            }));
        }
    };
    // Only the last part of what some browsers send as a path, and only to show it.
    let name: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let format =
        FileFormat::detect(&name, &bytes).map_err(|e| with_status(super::import_error(&e)))?;
    let file = ImportFile {
        name,
        format,
        bytes,
    };
    let choices = ListChoices::new(kind);
    imports::check_file(&file, &choices).map_err(|e| with_status(super::import_error(&e)))?;
    let mut pending = state
        .imports
        .lock()
        .map_err(|_| with_status(ApiError::Unavailable))?;
    let id = pending
        .add(&owner(staff), file, choices, Instant::now())
        .map_err(|error| match error {
            PendingError::TooLarge => too_large(),
            PendingError::Full => with_status(ApiError::Conflict {
                vi: "Máy đang giữ nhiều tệp chờ nhập của các thủ thư khác. Hãy thử lại sau ít phút.".into(),
                en: "The appliance holds many files other librarians are importing. Try again in a few minutes.".into(),
            }),
            PendingError::Random(detail) => with_status(ApiError::Internal(detail)),
        })?;
    Ok((id, format))
}
