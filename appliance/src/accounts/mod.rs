//! Staff accounts: who may log in to a library's appliance, with which role, and the guards
//! around logging in.
//!
//! - [`username`]: what a username and a display name may be, and their one stored spelling.
//! - [`limiter`]: the [`LoginLimiter`] that slows down password guessing.
//!
//! Deliberately not here: HTTP, cookies, JSON and HTML (the `http` module converts), and
//! readers' accounts (readers do not log in).

pub mod limiter;
pub mod username;

pub use limiter::{LoginLimiter, RetryAfter};
pub use username::{DisplayNameError, Username, UsernameError};
