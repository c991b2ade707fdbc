//! `POST /staff/accounts` (form: `csrf`, `username`, `display_name`, `role`, `password`): an
//! admin adds a staff account. The new person must change the password at first login.

use warp::Reply;

use super::accounts_get;
use crate::accounts::Role;
use crate::http::auth::{Staff, admin_error, create_error};
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_csrf};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const USERNAME: Field = Field::new("username", "tên đăng nhập", "the username");
const DISPLAY_NAME: Field = Field::new("display_name", "họ tên", "the name");
const ROLE: Field = Field::new("role", "vai trò", "the role");
const PASSWORD: Field = Field::new("password", "mật khẩu ban đầu", "the first password");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match create(state, staff, input) {
        Ok(()) => {
            warp::redirect::see_other(warp::http::Uri::from_static("/staff/accounts?created=1"))
                .into_response()
        }
        Err(error) => accounts_get::get(state, staff, request, Some(&error)),
    }
}

fn create(state: &AppState, staff: &Staff, input: &Input) -> Result<(), ApiError> {
    check_csrf(staff, &input.optional_text(CSRF, 128)?.unwrap_or_default())?;
    if !staff.admin {
        return Err(ApiError::Forbidden);
    }
    let username = input.text(USERNAME, 64)?;
    let display_name = input.text(DISPLAY_NAME, 80)?;
    let role = match input.choice(ROLE, &["librarian", "admin"])?.as_str() {
        "admin" => Role::Admin,
        _ => Role::Librarian,
    };
    let password = input.secret(PASSWORD, 256)?;
    let mut sessions = state.sessions.lock().map_err(|_| ApiError::Unavailable)?;
    state.write(|store| {
        let user = state
            .staff
            .create(
                store,
                &staff.username,
                &username,
                &display_name,
                role,
                &password,
            )
            .map_err(create_error)?;
        // An admin-chosen password is a temporary one: the person sets their own at first login.
        state
            .staff
            .reset_password(
                store,
                &mut sessions,
                &staff.username,
                user.username.as_str(),
                &password,
            )
            .map_err(admin_error)
    })?
}
