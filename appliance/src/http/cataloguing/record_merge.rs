//! `POST /api/records/{id}/merge` (JSON `{"records": [ids]}`, `X-CSRF-Token`) and
//! `POST /staff/catalogue/records/{id}/merge` (form field `records`): merges other records
//! that describe the same book with this one. This record's fields win, gaps are filled from
//! the others; the surviving id is the smallest of them all (so two desks merging the same
//! records in either direction agree), and the answer names it.

use warp::http::StatusCode;

use super::{catalogue_error, editor, form_error, see_other, text_list};
use crate::cataloguing::merge::{self, Merged};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::opac::valid_record_id;
use crate::http::{
    ApiError, AppState, PageRequest, check_csrf, check_form_csrf, json_error, json_reply,
    percent_encode,
};

const RECORDS: Field = Field::new("records", "các biểu ghi cần gộp", "the records to merge");

fn merge(state: &AppState, staff: &Staff, id: &str, input: &Input) -> Result<Merged, ApiError> {
    let others = text_list(input, RECORDS, 20, 64, true)?;
    for record in std::iter::once(id).chain(others.iter().map(String::as_str)) {
        if !valid_record_id(record) {
            return Err(catalogue_error(
                crate::cataloguing::CatalogueError::UnknownRecord(
                    record.chars().take(40).collect(),
                ),
            ));
        }
    }
    let editor = editor(state, staff);
    state
        .write(|store| merge::merge_records(store, id, &others, state.desk.scope(), &editor))?
        .map_err(catalogue_error)
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    id: &str,
    csrf: &str,
    input: &Input,
) -> warp::reply::Response {
    match check_csrf(staff, csrf).and_then(|()| merge(state, staff, id, input)) {
        Ok(merged) => json_reply(
            StatusCode::OK,
            &serde_json::json!({
                "survivor": merged.survivor,
                "merged": merged.merged,
                "copies_moved": merged.copies_moved,
            }),
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
    let result = check_form_csrf(staff, input).and_then(|()| merge(state, staff, id, input));
    match result {
        Ok(merged) => see_other(&format!(
            "/staff/catalogue/records/{}?merged={}",
            percent_encode(&merged.survivor),
            merged.merged.len()
        )),
        Err(error) => form_error(state, staff, request, &error, &back),
    }
}
