//! `POST /staff/desk/renew` (form: `csrf`, `loan`, `reader`): renews one of the chosen
//! reader's loans from the desk page, then back to the desk with the new due date or the
//! reasons it cannot be renewed.

use warp::http::StatusCode;

use super::desk_get::{location, render};
use super::flash::{self, Flash};
use super::{check_form_csrf, day, desk_error, see_other};
use crate::circulation::library::DeskError;
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest};

const LOAN: Field = Field::new("loan", "lượt mượn", "the loan");
const READER: Field = Field::new("reader", "bạn đọc đang chọn", "the chosen reader");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let reader = input.optional_text(READER, 64).ok().flatten();
    match renew(state, staff, input, reader.as_deref()) {
        Ok(location) => see_other(&location),
        Err(error) => {
            let flash = Flash::refused(error.message(false), error.message(true));
            let status = error.status();
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: internal error: {detail}");
            }
            render(
                state,
                staff,
                request,
                reader.as_deref(),
                Some(&flash),
                if status == StatusCode::OK {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                },
            )
        }
    }
}

fn renew(
    state: &AppState,
    staff: &Staff,
    input: &Input,
    reader: Option<&str>,
) -> Result<String, ApiError> {
    check_form_csrf(staff, input)?;
    let loan = input.text(LOAN, 64)?;
    let today = state.today();
    let renewed = state.write(|store| state.desk.renew(store, &loan, today))?;
    let flash = match renewed {
        Ok(due) => Flash::ok(
            format!("Đã gia hạn, hạn trả mới {}.", day(due)),
            format!("Renewed, now due {}.", day(due)),
        ),
        Err(DeskError::Refused(refusals)) => {
            let words: Vec<_> = refusals.iter().map(super::refusal_words).collect();
            Flash::refused(
                format!(
                    "Không gia hạn được: {}",
                    words
                        .iter()
                        .map(|w| w.1.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                format!(
                    "Not renewed: {}",
                    words
                        .iter()
                        .map(|w| w.2.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            )
        }
        Err(other) => return Err(desk_error(other)),
    };
    Ok(location(reader, Some(&flash::keep(flash))))
}
