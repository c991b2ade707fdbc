//! Staff accounts: who may log in to a library's appliance, with which role, and the guards
//! around logging in.
//!
//! - [`directory`]: staff as entities of the library's scope (`library:<id>`, collection
//!   `staff`), the [`StaffDirectory`] that creates them, checks passwords and lets admins
//!   manage them, and the first admin made on an empty library.
//! - [`password`]: password rules, argon2id hashing, the first admin's one-time password.
//! - [`username`]: what a username and a display name may be, and their one stored spelling.
//! - [`sessions`]: the in-memory [`SessionBook`] of who is logged in, with CSRF tokens.
//! - [`limiter`]: the [`LoginLimiter`] that slows down password guessing.
//!
//! A login, as the web layer does it: [`LoginLimiter::check`] → [`StaffDirectory::pending_login`]
//! (under the store lock) → [`PendingLogin::verify`] (outside it) →
//! [`LoginLimiter::record_failure`] or [`LoginLimiter::record_success`] → [`SessionBook::open`].
//! On each staff request: [`SessionBook::lookup`] → [`StaffDirectory::session_is_current`]
//! (which notices changes made at other desks) → [`Session::csrf_matches`] for forms.
//!
//! Deliberately not here: HTTP, cookies, JSON and HTML (the `http` module converts), and
//! readers' accounts (readers do not log in).

pub mod directory;
pub mod limiter;
pub mod password;
pub mod sessions;
pub mod username;

pub use directory::{
    AccountDamage, ActingAdminError, AdminError, BackendError, ChangePasswordError, CreateError,
    FIRST_ADMIN, HeldBack, InvalidLibrary, LoginError, PendingLogin, Role, STAFF, StaffDirectory,
    StaffUser,
};
pub use limiter::{LoginLimiter, RetryAfter};
pub use password::{NewPassword, OneTimePassword, PasswordError};
pub use sessions::{Session, SessionBook, SessionToken};
pub use username::{DisplayNameError, Username, UsernameError};
