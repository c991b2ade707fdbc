//! `POST /staff/password` (form: `csrf`, `current`, `new`, `repeat`): changes the logged-in
//! person's own password. Every session of theirs ends; a new one starts on this browser.
//! Guesses at the current password count against the login limiter, like logins.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use super::{password_get, redirect_with_cookie};
use crate::accounts::ChangePasswordError;
use crate::http::auth::{Staff, change_password_error, session_cookie};
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_csrf};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const CURRENT: Field = Field::new("current", "mật khẩu hiện tại", "the current password");
const NEW: Field = Field::new("new", "mật khẩu mới", "the new password");
const REPEAT: Field = Field::new(
    "repeat",
    "mật khẩu mới nhập lại",
    "the repeated new password",
);

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    remote: Option<SocketAddr>,
    input: &Input,
) -> warp::reply::Response {
    let ip = remote
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match change(state, staff, ip, input) {
        Ok(token) => redirect_with_cookie("/staff/desk", &session_cookie(&token)),
        Err(error) => password_get::get(state, staff, request, Some(&error)),
    }
}

fn change(state: &AppState, staff: &Staff, ip: IpAddr, input: &Input) -> Result<String, ApiError> {
    check_csrf(staff, &input.optional_text(CSRF, 128)?.unwrap_or_default())?;
    let current = input.secret(CURRENT, 256)?;
    let new = input.secret(NEW, 256)?;
    if input.secret(REPEAT, 256)? != new {
        return Err(ApiError::BadRequest {
            vi: "Hai lần nhập mật khẩu mới không giống nhau.".into(),
            en: "The two new passwords differ.".into(),
        });
    }
    let now = Instant::now();
    if let Err(wait) = state
        .login_limiter
        .lock()
        .map_err(|_| ApiError::Unavailable)?
        .check(ip, &staff.username, now)
    {
        let seconds = wait.0.as_secs().max(1);
        return Err(ApiError::BadRequest {
            vi: format!("Nhập sai quá nhiều lần. Hãy đợi {seconds} giây rồi thử lại."),
            en: format!("Too many wrong tries. Wait {seconds} seconds and try again."),
        });
    }
    let mut sessions = state.sessions.lock().map_err(|_| ApiError::Unavailable)?;
    let changed = state.write(|store| {
        state
            .staff
            .change_password(store, &mut sessions, &staff.username, &current, &new)
    })?;
    let user = match changed {
        Ok(user) => user,
        Err(error) => {
            if matches!(error, ChangePasswordError::CurrentPassword(_))
                && let Ok(mut limiter) = state.login_limiter.lock()
            {
                limiter.record_failure(ip, &staff.username, now);
            }
            return Err(change_password_error(error));
        }
    };
    let (token, _) = sessions
        .open(&user, now)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(token.as_str().to_owned())
}
