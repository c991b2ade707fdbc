//! What the label pages of two areas share: the layout and skip fields of their forms, the
//! PDF download, and [`label_error`], where every [`LabelError`] becomes the sentence a
//! librarian reads. The spine-label pages live in `cataloguing`, the reader-card pages in
//! `desk`.

use std::fmt::Write as _;

use warp::Reply;
use warp::http::{HeaderValue, StatusCode, header};

use super::html::escape;
use super::i18n::Lang;
use super::input::{Field, Input};
use super::{ApiError, percent_encode};
use crate::labels::{LAYOUTS, LabelError, Layout};

pub const LAYOUT: Field = Field::new("layout", "khổ giấy nhãn", "the label sheet");
pub const SKIP: Field = Field::new("skip", "số nhãn bỏ qua", "the labels to skip");

/// The words for a layout in the form's list.
fn layout_words(lang: Lang, name: &str) -> &'static str {
    match name {
        "a4-3x8" => lang.t("labels.layout.a4-3x8"),
        "a4-3x7" => lang.t("labels.layout.a4-3x7"),
        "a4-4x10" => lang.t("labels.layout.a4-4x10"),
        _ => lang.t("labels.layout.a4-2x5-cards"),
    }
}

/// The layout list and the skip box, `chosen` selected.
pub fn layout_fields(lang: Lang, chosen: &str) -> String {
    let mut html = format!(
        "<label for=\"layout\">{}</label><select id=\"layout\" name=\"layout\">",
        lang.t("labels.layout")
    );
    for layout in LAYOUTS {
        let _ = write!(
            html,
            "<option value=\"{name}\"{selected}>{words}</option>",
            name = layout.name,
            selected = if layout.name == chosen {
                " selected"
            } else {
                ""
            },
            words = layout_words(lang, layout.name),
        );
    }
    let _ = write!(
        html,
        "</select><label for=\"skip\">{label}</label>\
<input id=\"skip\" name=\"skip\" type=\"number\" min=\"0\" max=\"39\" value=\"0\" inputmode=\"numeric\">\
<p class=\"hint\">{hint}</p>",
        label = lang.t("labels.skip"),
        hint = lang.t("labels.skip.hint"),
    );
    html
}

/// The layout and skip of a posted form.
pub fn layout_and_skip(input: &Input) -> Result<(&'static Layout, usize), ApiError> {
    let name = input.text(LAYOUT, 40)?;
    let layout = Layout::named(&name).map_err(label_error)?;
    let skip = if input.optional_text(SKIP, 6)?.is_some() {
        input.number(SKIP, 0..=(layout.per_page() as i64 - 1))? as usize
    } else {
        0
    };
    Ok((layout, skip))
}

/// A PDF to download as `name`.pdf (Vietnamese, with an ASCII name for old browsers).
pub fn pdf_download(pdf: Vec<u8>, name: &str, ascii_name: &str) -> warp::reply::Response {
    let mut response = warp::reply::with_status(pdf, StatusCode::OK).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let disposition = format!(
        "attachment; filename=\"{ascii_name}.pdf\"; filename*=UTF-8''{}.pdf",
        percent_encode(name)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Codes (barcodes or card numbers) scanned one per line, or typed with spaces or commas
/// between them; empty when none.
pub fn codes(input: &Input, field: Field) -> Result<Vec<String>, ApiError> {
    let typed = match input.raw(field.name) {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::String(typed)) => typed,
        Some(_) => {
            return Err(ApiError::BadRequest {
                vi: format!("{} phải là chữ.", field.vi),
                en: format!("{} must be text.", field.en),
            });
        }
    };
    let codes = crate::cataloguing::split_barcodes(typed);
    if codes.len() > crate::labels::MAX_LABELS {
        return Err(label_error(LabelError::TooMany(codes.len())));
    }
    if let Some(long) = codes.iter().find(|c| c.chars().count() > MAX_CODE_CHARS) {
        return Err(label_error(LabelError::Unencodable(
            long.chars().take(60).collect(),
        )));
    }
    Ok(codes)
}

/// Longest code a label prints.
const MAX_CODE_CHARS: usize = crate::labels::code128::MAX_DATA_CHARS;

/// A list typed or scanned one item per line, for the form shown again.
pub fn lines(input: &Input, name: &str) -> String {
    input
        .raw(name)
        .and_then(|v| v.as_str())
        .map(escape)
        .unwrap_or_default()
}

/// What the librarian reads when labels cannot be made.
pub fn label_error(error: LabelError) -> ApiError {
    let bad = |vi: String, en: String| ApiError::BadRequest { vi, en };
    let not_found = |vi: String, en: String| ApiError::NotFound { vi, en };
    match error {
        LabelError::Unencodable(code) => bad(
            format!(
                "Không in được mã vạch \u{201c}{code}\u{201d}: mã vạch chỉ gồm chữ không dấu, số và dấu, tối đa 40 ký tự."
            ),
            format!(
                "\u{201c}{code}\u{201d} cannot be printed as a barcode: use letters without accents, digits and signs, at most 40."
            ),
        ),
        LabelError::UnknownLayout(name) => bad(
            format!(
                "Không có khổ giấy nhãn \u{201c}{name}\u{201d}. Hãy chọn một khổ trong danh sách."
            ),
            format!("There is no label sheet \u{201c}{name}\u{201d}. Choose one from the list."),
        ),
        LabelError::NothingSelected => bad(
            "Chưa chọn gì để in: hãy quét hoặc gõ ít nhất một mã.".into(),
            "Nothing was chosen to print: scan or type at least one code.".into(),
        ),
        LabelError::TooMany(n) => bad(
            format!(
                "Mỗi lần in tối đa {} nhãn (đã chọn {n}). Hãy in làm nhiều lần.",
                crate::labels::MAX_LABELS
            ),
            format!(
                "At most {} labels at a time ({n} chosen). Print them in several goes.",
                crate::labels::MAX_LABELS
            ),
        ),
        LabelError::SkipTooLarge { skip, per_page } => bad(
            format!("Một tờ chỉ có {per_page} nhãn, không bỏ qua được {skip} nhãn."),
            format!("A sheet has only {per_page} labels; {skip} cannot be skipped."),
        ),
        LabelError::BarcodeTooWide { barcode, .. } => bad(
            format!("Mã vạch {barcode} quá dài cho khổ nhãn này. Hãy chọn khổ nhãn rộng hơn."),
            format!("Barcode {barcode} is too long for these labels. Choose wider labels."),
        ),
        LabelError::UnknownCopy(barcode) => not_found(
            format!(
                "Thư viện không có bản sách nào mã {barcode}. Không nhãn nào được in; hãy sửa hoặc bỏ mã này rồi thử lại."
            ),
            format!(
                "This library has no copy with barcode {barcode}. Nothing was printed; correct or remove it and try again."
            ),
        ),
        LabelError::NoCopiesOfRecord(record) => not_found(
            format!("Thư viện chưa có bản sách nào của biểu ghi {record}."),
            format!("This library has no copy of record {record} yet."),
        ),
        LabelError::EmptyShelf(shelf) => not_found(
            format!("Không có bản sách nào trên kệ \u{201c}{shelf}\u{201d}."),
            format!("No copy is on shelf \u{201c}{shelf}\u{201d}."),
        ),
        LabelError::UnknownReader(card) => not_found(
            format!(
                "Không có bạn đọc nào số thẻ {card}. Không thẻ nào được in; hãy sửa hoặc bỏ số này rồi thử lại."
            ),
            format!(
                "No reader has card {card}. Nothing was printed; correct or remove it and try again."
            ),
        ),
        LabelError::NoReaders(group) => not_found(
            format!("Không có bạn đọc nào thuộc \u{201c}{group}\u{201d}."),
            format!("No reader is in \u{201c}{group}\u{201d}."),
        ),
        error @ (LabelError::Pdf(_) | LabelError::Store(_) | LabelError::Database(_)) => {
            ApiError::Internal(error.to_string())
        }
    }
}
