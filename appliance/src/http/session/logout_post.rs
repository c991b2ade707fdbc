//! `POST /staff/logout` (form: `csrf`): ends the session on this appliance and clears the
//! cookie.

use warp::Reply;

use super::redirect_with_cookie;
use crate::http::auth::{Staff, expired_cookie};
use crate::http::input::{Field, Input};
use crate::http::{AppState, PageRequest, check_csrf, json_error};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let presented = input
        .optional_text(CSRF, 128)
        .ok()
        .flatten()
        .unwrap_or_default();
    if let Err(error) = check_csrf(staff, &presented) {
        return json_error(&error).into_response();
    }
    if let (Some(token), Ok(mut sessions)) = (&request.session_cookie, state.sessions.lock()) {
        sessions.close(token);
    }
    redirect_with_cookie("/staff/login", &expired_cookie())
}
