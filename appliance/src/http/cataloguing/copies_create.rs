//! `POST /staff/catalogue/copies` (form: `csrf`, `record`, `barcodes` (one per line, as a
//! scanner types them), `shelf`, `item_type`) and `POST /api/copies` (JSON, `X-CSRF-Token`):
//! adds this library's copies to a record, all or none.

use warp::Reply;
use warp::http::StatusCode;

use super::{catalogue_error, form_error, see_other, text_list};
use crate::cataloguing::{self, ITEM_TYPES, MAX_BARCODE_CHARS, MAX_COPIES_PER_ACTION, NewCopies};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::opac::valid_record_id;
use crate::http::{
    ApiError, AppState, PageRequest, check_csrf, check_form_csrf, json_error, json_reply,
    percent_encode,
};

const RECORD: Field = Field::new("record", "biểu ghi", "the record");
const BARCODES: Field = Field::new("barcodes", "mã vạch", "the barcodes");
const SHELF: Field = Field::new("shelf", "kệ / ký hiệu xếp giá", "the shelf / call number");
const ITEM_TYPE: Field = Field::new("item_type", "loại tài liệu", "the item type");

/// Reads and checks the request; nothing is written before this succeeds.
fn parse(input: &Input, today: chrono::NaiveDate) -> Result<NewCopies, ApiError> {
    let record = input.text(RECORD, 64)?;
    if !valid_record_id(&record) {
        return Err(catalogue_error(cataloguing::CatalogueError::UnknownRecord(
            record,
        )));
    }
    let mut barcodes = text_list(
        input,
        BARCODES,
        MAX_COPIES_PER_ACTION,
        MAX_BARCODE_CHARS,
        true,
    )?;
    if barcodes.is_empty() && input.has("barcode") {
        barcodes = text_list(
            input,
            Field::new("barcode", "mã vạch", "the barcode"),
            1,
            MAX_BARCODE_CHARS,
            true,
        )?;
    }
    let shelf = input.optional_text(SHELF, 60)?.unwrap_or_default();
    let item_type = input.choice(ITEM_TYPE, ITEM_TYPES)?;
    Ok(NewCopies {
        record,
        barcodes,
        shelf,
        item_type,
        acquired: today,
    })
}

fn add(state: &AppState, input: &Input) -> Result<NewCopies, ApiError> {
    let copies = parse(input, state.today())?;
    state
        .write(|store| cataloguing::add_copies(store, &state.desk, &copies))?
        .map_err(catalogue_error)?;
    Ok(copies)
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let back = match input.optional_text(RECORD, 64) {
        Ok(Some(record)) if valid_record_id(&record) => {
            format!("/staff/catalogue?record={}", percent_encode(&record))
        }
        _ => "/staff/catalogue".to_owned(),
    };
    let result = check_form_csrf(staff, input).and_then(|()| add(state, input));
    match result {
        Ok(copies) => see_other(&format!(
            "/staff/catalogue?record={}&added={}&shelf={}&item_type={}",
            percent_encode(&copies.record),
            copies.barcodes.len(),
            percent_encode(&copies.shelf),
            percent_encode(&copies.item_type),
        )),
        Err(error) => form_error(state, staff, request, &error, &back),
    }
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    input: &Input,
) -> warp::reply::Response {
    match check_csrf(staff, csrf).and_then(|()| add(state, input)) {
        Ok(copies) => json_reply(
            StatusCode::CREATED,
            &serde_json::json!({
                "record": copies.record,
                "added": copies.barcodes.len(),
                "barcodes": copies.barcodes,
            }),
        ),
        Err(error) => json_error(&error),
    }
    .into_response()
}
