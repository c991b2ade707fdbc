//! `POST /staff/readers/{card}/block` (form: `csrf`, `action` = block | unblock, `note` when
//! blocking): blocks a reader with the librarian's note, or lifts the block; then back to the
//! reader's page.

use super::{back_to_reader, check_form_csrf, desk_error, path_code};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest};

const ACTION: Field = Field::new("action", "thao tác", "the action");
const NOTE: Field = Field::new("note", "lý do khoá", "the reason for the block");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    card: &str,
    input: &Input,
) -> warp::reply::Response {
    back_to_reader(state, staff, request, block(state, staff, card, input))
}

fn block(state: &AppState, staff: &Staff, card: &str, input: &Input) -> Result<String, ApiError> {
    check_form_csrf(staff, input)?;
    let card = path_code(card, "bạn đọc", "reader")?;
    let note = match input.choice(ACTION, &["block", "unblock"])?.as_str() {
        "block" => Some(input.text(NOTE, 200)?),
        _ => None,
    };
    let today = state.today();
    state
        .write(|store| state.desk.set_block(store, &card, note.as_deref(), today))?
        .map_err(desk_error)?;
    Ok(card)
}
