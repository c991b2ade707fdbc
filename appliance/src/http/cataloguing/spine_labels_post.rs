//! `POST /staff/catalogue/labels` (form: `csrf`, `what` = `barcodes` | `record` | `shelf`,
//! `barcodes` one per line, `record`, `shelf`, `layout`, `skip`): the spine labels as a PDF
//! download ("nhãn-gáy-YYYY-MM-DD.pdf"). Nothing is printed when one barcode is unknown: the
//! form comes back with the error and what was typed.

use super::spine_labels_get::render;
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::labels::{codes, label_error, layout_and_skip, pdf_download};
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::labels::select::{self, CopyChoice};
use crate::labels::spine_labels_pdf;

const WHAT: Field = Field::new("what", "cách chọn bản sách", "which copies");
const RECORD: Field = Field::new("record", "mã biểu ghi", "the record id");
const SHELF: Field = Field::new("shelf", "kệ", "the shelf");
const BARCODES: Field = Field::new("barcodes", "mã vạch", "the barcodes");

fn choice(input: &Input) -> Result<CopyChoice, ApiError> {
    Ok(
        match input
            .choice(WHAT, &["barcodes", "record", "shelf"])?
            .as_str()
        {
            "record" => CopyChoice::Record(input.text(RECORD, 64)?),
            "shelf" => CopyChoice::Shelf(input.text(SHELF, 60)?),
            _ => CopyChoice::Barcodes(codes(input, BARCODES)?),
        },
    )
}

fn make(state: &AppState, input: &Input) -> Result<Vec<u8>, ApiError> {
    let choice = choice(input)?;
    let (layout, skip) = layout_and_skip(input)?;
    let scope = state.desk.scope().as_str().to_owned();
    let labels = state
        .read(|conn| select::spine_labels(conn, &scope, &choice))?
        .map_err(label_error)?;
    spine_labels_pdf(&labels, layout, skip).map_err(label_error)
}

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match check_form_csrf(staff, input).and_then(|()| make(state, input)) {
        Ok(pdf) => {
            let day = state.today().format("%Y-%m-%d");
            pdf_download(pdf, &format!("nhãn-gáy-{day}"), &format!("nhan-gay-{day}"))
        }
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: spine labels: {detail}");
            }
            render(state, staff, request, input, Some(&error))
        }
    }
}
