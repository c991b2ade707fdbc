//! `POST /staff/login` (form: `username`, `password`, `next`): checks the password (argon2id,
//! outside the store lock), slows down guessing per client address and per username, and
//! starts a session: an `HttpOnly`, `SameSite=Strict` cookie. A one-time password leads
//! straight to the password change.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use warp::http::StatusCode;

use super::login_get::{self, safe_next};
use super::redirect_with_cookie;
use crate::http::auth::{login_error, session_cookie};
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest};

const USERNAME: Field = Field::new("username", "tên đăng nhập", "the username");
const PASSWORD: Field = Field::new("password", "mật khẩu", "the password");

pub fn post(
    state: &AppState,
    request: &PageRequest,
    remote: Option<SocketAddr>,
    input: &Input,
) -> warp::reply::Response {
    let ip = remote
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match login(state, ip, input) {
        Ok((token, must_change)) => {
            let next = if must_change {
                "/staff/password"
            } else {
                safe_next(input.raw("next").and_then(|v| v.as_str()))
            };
            redirect_with_cookie(next, &session_cookie(&token))
        }
        Err((error, status)) => {
            let mut request = request.clone();
            if let Some(next) = input.raw("next").and_then(|v| v.as_str()) {
                request.params.insert("next".into(), next.to_owned());
            }
            login_get::get(state, &request, Some((&error, status)))
        }
    }
}

fn login(
    state: &AppState,
    ip: IpAddr,
    input: &Input,
) -> Result<(String, bool), (ApiError, StatusCode)> {
    let bad = |e: ApiError| {
        let status = e.status();
        (e, status)
    };
    let username = input.text(USERNAME, 64).map_err(bad)?;
    let password = input.secret(PASSWORD, 256).map_err(bad)?;
    let now = Instant::now();
    if let Err(wait) = state
        .login_limiter
        .lock()
        .map_err(|_| bad(ApiError::Unavailable))?
        .check(ip, &username, now)
    {
        let seconds = wait.0.as_secs().max(1);
        return Err((
            ApiError::BadRequest {
                vi: format!("Đăng nhập sai quá nhiều lần. Hãy đợi {seconds} giây rồi thử lại."),
                en: format!("Too many failed logins. Wait {seconds} seconds and try again."),
            },
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let pending = state
        .write(|store| state.staff.pending_login(store, &username))
        .map_err(bad)?
        .map_err(|e| bad(login_error(e.into())))?;
    let verified = pending.verify(&password);
    let mut limiter = state
        .login_limiter
        .lock()
        .map_err(|_| bad(ApiError::Unavailable))?;
    let user = match verified {
        Ok(user) => {
            limiter.record_success(ip, &username, now);
            user
        }
        Err(error) => {
            limiter.record_failure(ip, &username, now);
            let error = login_error(error);
            let status = match error {
                ApiError::BadRequest { .. } => StatusCode::UNAUTHORIZED,
                ref other => other.status(),
            };
            return Err((error, status));
        }
    };
    drop(limiter);
    let (token, session) = state
        .sessions
        .lock()
        .map_err(|_| bad(ApiError::Unavailable))?
        .open(&user, now)
        .map_err(|e| bad(ApiError::Internal(e.to_string())))?;
    Ok((token.as_str().to_owned(), session.must_change_password))
}
