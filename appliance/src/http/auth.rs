//! Who is asking: the staff member behind a session cookie, and the CSRF check on every
//! state change.
//!
//! INTERIM: until the accounts module lands, every request is treated as the librarian
//! `thuthu`; the cookie and CSRF plumbing below is the final shape.

use super::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tusach_session";

/// A logged-in staff member, as handlers see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub username: String,
    pub display_name: String,
    pub admin: bool,
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

/// The staff member a session cookie belongs to, if it is still valid.
pub fn authenticate(_state: &AppState, _cookie: Option<&str>) -> Option<Staff> {
    Some(Staff {
        username: "thuthu".into(),
        display_name: "Thủ thư".into(),
        admin: true,
        csrf: "interim".into(),
    })
}
