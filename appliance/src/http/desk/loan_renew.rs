//! `POST /api/loans/{id}/renew` (header `X-CSRF-Token`, no body needed): renews an open loan
//! from today → 200 `{loan, due}`; 409 with the reasons when it cannot be.

use warp::http::StatusCode;

use super::{desk_error_json, path_code};
use crate::http::auth::Staff;
use crate::http::{ApiError, AppState, check_csrf, json_reply};

pub fn post(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    loan: &str,
) -> Result<warp::reply::Response, ApiError> {
    check_csrf(staff, csrf)?;
    let loan = path_code(loan, "lượt mượn", "loan")?;
    let today = state.today();
    Ok(
        match state.write(|store| state.desk.renew(store, &loan, today))? {
            Ok(due) => json_reply(
                StatusCode::OK,
                &serde_json::json!({"loan": loan, "due": due.format("%Y-%m-%d").to_string()}),
            ),
            Err(error) => desk_error_json(error),
        },
    )
}
