//! `POST /staff/stocktake/{id}/scans` (form: `csrf`, `shelf`, `barcode`, or `done=1` with no
//! barcode for a shelf counted empty): records one scan and goes back to scanning that shelf.

use super::{form_error, see_other, stocktake_error};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{AppState, PageRequest, check_form_csrf, percent_encode};
use crate::stocktake;

const SHELF: Field = Field::new("shelf", "kệ", "the shelf");
const BARCODE: Field = Field::new("barcode", "mã vạch", "the barcode");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    input: &Input,
) -> warp::reply::Response {
    let back = format!("/staff/stocktake/{}", percent_encode(id));
    let result = check_form_csrf(staff, input).and_then(|()| {
        let shelf = input.text(SHELF, 60)?;
        let barcode = if input.has("done") {
            input.optional_text(BARCODE, 40)?
        } else {
            Some(input.text(BARCODE, 40)?)
        };
        let scope = state.desk.scope();
        state
            .write(|store| match &barcode {
                Some(barcode) => stocktake::record_scan(store, scope, id, &shelf, barcode),
                None => stocktake::count_shelf(store, scope, id, &shelf),
            })?
            .map_err(stocktake_error)?;
        Ok((shelf, barcode))
    });
    match result {
        Ok((shelf, barcode)) => see_other(&format!(
            "{back}?shelf={}&scanned={}",
            percent_encode(&shelf),
            percent_encode(barcode.as_deref().unwrap_or(""))
        )),
        Err(error) => form_error(state, staff, request, &error, &back),
    }
}
