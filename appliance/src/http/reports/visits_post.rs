//! `POST /staff/visits` (form: `csrf`, `people`) and `POST /api/visits` (JSON `{"people": N}`
//! with `X-CSRF-Token`): counts N visitors (1–500) today at this desk, as one commit.

use warp::http::StatusCode;

use super::{error_page, frame, internal, see_other};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_csrf, json_error, json_reply};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const PEOPLE: Field = Field::new("people", "số người", "the number of people");

/// Checks everything, then counts; returns today's total.
fn count(
    state: &AppState,
    staff: &Staff,
    input: &Input,
    csrf: &str,
) -> Result<(chrono::NaiveDate, i64), ApiError> {
    check_csrf(staff, csrf)?;
    let people = input.number(PEOPLE, 1..=500)?;
    let today = state.today();
    state
        .write(|store| {
            state.desk.count_visits(store, today, people)?;
            state.desk.visits_on(store, today)
        })?
        .map(|total| (today, total))
        .map_err(internal)
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let csrf = match input.optional_text(CSRF, 128) {
        Ok(csrf) => csrf.unwrap_or_default(),
        Err(error) => return error_page(&frame(state, staff, request), &error, "/staff/visits"),
    };
    match count(state, staff, input, &csrf) {
        Ok(_) => see_other("/staff/visits"),
        Err(error) => error_page(&frame(state, staff, request), &error, "/staff/visits"),
    }
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    input: &Input,
    csrf: &str,
) -> warp::reply::Response {
    match count(state, staff, input, csrf) {
        Ok((day, total)) => json_reply(
            StatusCode::OK,
            &serde_json::json!({"day": day.format("%Y-%m-%d").to_string(), "today": total}),
        ),
        Err(error) => json_error(&error),
    }
}
