//! Who is asking: the staff member behind a session cookie, and the translation of account
//! errors into sentences for the librarian.
//!
//! Sessions live in memory ([`crate::accounts::SessionBook`]): a power cut logs everyone out,
//! and no session secret is ever written to the SD card. The cookie is `HttpOnly` (scripts
//! cannot read it) and `SameSite=Strict` (other sites cannot send it); every state change also
//! echoes the session's CSRF token.

use std::time::Instant;

use super::{ApiError, AppState};
use crate::accounts::{
    AdminError, BackendError, ChangePasswordError, CreateError, LoginError, PasswordError, Role,
    UsernameError,
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tusach_session";

/// How long a session's account check is trusted before the store is asked again.
const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(5);
/// Bound on remembered checks (one per active session).
const MAX_RECENT_CHECKS: usize = 1_000;

/// How long the browser keeps the cookie: the session's absolute lifetime.
const COOKIE_MAX_AGE_SECONDS: u64 = 7 * 24 * 3600;

/// A logged-in staff member, as handlers see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub username: String,
    pub display_name: String,
    pub admin: bool,
    /// While true, the only page this person may use is the password change.
    pub must_change_password: bool,
    /// The token a form or `X-CSRF-Token` header must echo for a state change.
    pub csrf: String,
}

impl Staff {
    /// Compares in constant time, so the token cannot be guessed byte by byte.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The staff member a session cookie belongs to, if the session is valid and still matches
/// the account (a password change or disabling synced from another desk ends it here).
pub fn authenticate(state: &AppState, cookie: Option<&str>) -> Option<Staff> {
    let token = cookie.filter(|t| !t.is_empty())?;
    let now = Instant::now();
    let session = state.sessions.lock().ok()?.lookup(token, now)?;
    // The account behind a session was checked moments ago: a desk scanning a pile of books
    // should not queue for the store (which commits and syncs) on every scan just to learn
    // that nothing changed. A change from another desk still ends the session within
    // `RECHECK_AFTER`.
    if let Some(staff) = state
        .recent_staff_checks
        .lock()
        .ok()
        .and_then(|checks| checks.get(&session.csrf_token).cloned())
        .filter(|(checked, _)| now.duration_since(*checked) < RECHECK_AFTER)
        .map(|(_, staff)| staff)
    {
        return Some(staff);
    }
    let (current, user) = state
        .write(|store| {
            (
                state.staff.session_is_current(store, &session),
                state.staff.get(store, session.username.as_str()),
            )
        })
        .ok()?;
    match (current, user) {
        (Ok(true), Ok(Some(user))) => {
            let staff = Staff {
                username: user.username.as_str().to_owned(),
                display_name: user.display_name,
                admin: user.role == Role::Admin,
                must_change_password: session.must_change_password,
                csrf: session.csrf_token,
            };
            if let Ok(mut checks) = state.recent_staff_checks.lock() {
                if checks.len() >= MAX_RECENT_CHECKS {
                    checks.retain(|_, (checked, _)| now.duration_since(*checked) < RECHECK_AFTER);
                }
                if checks.len() < MAX_RECENT_CHECKS {
                    checks.insert(staff.csrf.clone(), (now, staff.clone()));
                }
            }
            Some(staff)
        }
        (Ok(false), _) | (_, Ok(None)) => {
            if let Ok(mut sessions) = state.sessions.lock() {
                sessions.close(token);
            }
            None
        }
        _ => None,
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECONDS}"
    )
}

/// The `Set-Cookie` value that ends one.
pub fn expired_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn bad(vi: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        vi: vi.into(),
        en: en.into(),
    }
}

fn backend(error: BackendError) -> ApiError {
    if error.is_permanent() {
        ApiError::Internal(error.to_string())
    } else {
        ApiError::Unavailable
    }
}

pub fn login_error(error: LoginError) -> ApiError {
    match error {
        LoginError::WrongUsernameOrPassword => bad(
            "Sai tên đăng nhập hoặc mật khẩu. Hãy kiểm tra cả hai rồi thử lại.",
            "Wrong username or password. Check both and try again.",
        ),
        LoginError::Disabled(_) => bad(
            "Tài khoản này đã bị khóa. Hãy nhờ quản trị viên của thư viện mở lại.",
            "This account is disabled. Ask an admin of this library to enable it.",
        ),
        LoginError::Damaged { .. } => bad(
            "Tài khoản này bị hỏng sau khi đồng bộ. Hãy nhờ quản trị viên đặt lại mật khẩu.",
            "This account was damaged by a merge. Ask an admin to reset its password.",
        ),
        LoginError::Backend(e) => backend(e),
    }
}

pub fn password_error(error: PasswordError) -> ApiError {
    match error {
        PasswordError::TooShort { .. } => bad(
            "Mật khẩu cần ít nhất 8 ký tự.",
            "A password needs at least 8 characters.",
        ),
        PasswordError::TooLong { .. } => bad(
            "Mật khẩu dài tối đa 128 ký tự.",
            "A password may have at most 128 characters.",
        ),
    }
}

fn username_error(error: UsernameError) -> ApiError {
    match error {
        UsernameError::Length(_) => bad(
            "Tên đăng nhập cần từ 2 đến 32 ký tự.",
            "A username needs 2 to 32 characters.",
        ),
        UsernameError::Character(c) => bad(
            format!(
                "Tên đăng nhập chỉ dùng a-z, 0-9, dấu chấm, gạch dưới, gạch ngang (không dùng “{c}”)."
            ),
            format!("A username may only use a-z, 0-9, '.', '_' and '-' (not “{c}”)."),
        ),
    }
}

pub fn change_password_error(error: ChangePasswordError) -> ApiError {
    match error {
        ChangePasswordError::CurrentPassword(LoginError::WrongUsernameOrPassword) => bad(
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
        ),
        ChangePasswordError::CurrentPassword(other) => login_error(other),
        ChangePasswordError::InvalidNewPassword(e) => password_error(e),
        ChangePasswordError::SameAsCurrent => bad(
            "Mật khẩu mới phải khác mật khẩu hiện tại.",
            "The new password must differ from the current one.",
        ),
        ChangePasswordError::Backend(e) => backend(e),
    }
}

pub fn create_error(error: CreateError) -> ApiError {
    match error {
        CreateError::ActingAdmin(_) => ApiError::Forbidden,
        CreateError::InvalidUsername(e) => username_error(e),
        CreateError::InvalidDisplayName(_) => bad(
            "Hãy nhập họ tên (tối đa 80 ký tự, không xuống dòng).",
            "Type the person's name (at most 80 characters, one line).",
        ),
        CreateError::InvalidPassword(e) => password_error(e),
        CreateError::UsernameTaken(name) => ApiError::Conflict {
            vi: format!("Tên đăng nhập “{name}” đã có người dùng. Hãy chọn tên khác."),
            en: format!("The username “{name}” is taken. Choose another."),
        },
        CreateError::Backend(e) => backend(e),
    }
}

pub fn admin_error(error: AdminError) -> ApiError {
    match error {
        AdminError::ActingAdmin(_) => ApiError::Forbidden,
        AdminError::UnknownUser(name) => ApiError::NotFound {
            vi: format!("Không có tài khoản “{name}”."),
            en: format!("There is no account “{name}”."),
        },
        AdminError::LastAdmin(_) => ApiError::Conflict {
            vi: "Đây là quản trị viên cuối cùng. Hãy cho người khác làm quản trị viên trước."
                .into(),
            en: "This is the last working admin. Make someone else an admin first.".into(),
        },
        AdminError::InvalidPassword(e) => password_error(e),
        AdminError::Backend(e) => backend(e),
    }
}
