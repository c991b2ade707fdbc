//! Who is logged in on this appliance: staff sessions, kept in memory only.
//!
//! A session is a random token the browser holds in a cookie. The [`SessionBook`] keeps only
//! the SHA-256 of each token, so even a memory dump does not give out usable cookies, and it
//! keeps nothing on disk: a power cut logs everyone out, which is acceptable and means no
//! session secret is ever written to the SD card. Each session has its own CSRF token, which
//! forms send back and [`Session::csrf_matches`] checks in constant time.
//!
//! Time is passed in as a [`std::time::Instant`], never read here, so tests move it at will;
//! an `Instant` is monotonic, so a Pi without a real-time clock that jumps from 1970 to today
//! when NTP answers neither expires nor prolongs anyone's session.
//!
//! Deliberately not here: checking passwords ([`super::directory`]), cookies and HTTP (the
//! `http` module), and replicating sessions: a librarian logs in again at another desk.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::directory::{BackendError, CredentialStamp, Role, StaffUser};
use super::username::Username;

/// A session unused for this long is closed: a desk left logged in overnight is not.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 60 * 60);
/// A session is closed this long after login however busy it is, so a stolen cookie dies.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Most sessions held at once. Only a correct password opens one, so this is far above any
/// real library; it only keeps a script that logs in in a loop from growing memory.
pub const MAX_SESSIONS: usize = 1024;

const TOKEN_BYTES: usize = 32;

/// The secret that identifies a session: 64 hex characters for the session cookie. Only
/// [`SessionBook::open`] makes one, and the book keeps only its hash. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// A logged-in staff member, as the web layer sees on each request.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub username: Username,
    pub role: Role,
    /// True while the password is one an admin set (or the first admin's one-time password):
    /// the web layer lets such a session do nothing but change it.
    pub must_change_password: bool,
    /// Put in every form of this session; compare what comes back with
    /// [`Session::csrf_matches`].
    pub csrf_token: String,
    pub created: Instant,
    pub last_seen: Instant,
    /// The password the session was opened with, for
    /// [`super::StaffDirectory::session_is_current`].
    credential: CredentialStamp,
}

impl Session {
    pub(super) fn credential(&self) -> CredentialStamp {
        self.credential
    }

    /// Whether a form's CSRF token is this session's, compared in constant time so the answer's
    /// timing does not reveal how much of a guess was right.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        constant_time_eq(self.csrf_token.as_bytes(), presented.as_bytes())
    }

    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) >= IDLE_TIMEOUT
            || now.saturating_duration_since(self.created) >= ABSOLUTE_TIMEOUT
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("must_change_password", &self.must_change_password)
            .field("csrf_token", &"…")
            .field("created", &self.created)
            .field("last_seen", &self.last_seen)
            .finish()
    }
}

/// Compares two byte strings in time that depends only on their lengths (which are public:
/// every token is 64 characters).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

type TokenDigest = [u8; 32];

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

fn random_hex() -> Result<String, BackendError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| BackendError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The open sessions of this appliance, by the SHA-256 of their token.
///
/// Looking a token up by its hash in a `HashMap` is not constant-time, and need not be: what
/// leaks is how a SHA-256 output compares, which an attacker cannot steer towards a real token.
#[derive(Default)]
pub struct SessionBook {
    sessions: HashMap<TokenDigest, Session>,
}

impl SessionBook {
    pub fn new() -> SessionBook {
        SessionBook::default()
    }

    /// Opens a session for a user whose password was just verified. Returns the token for the
    /// cookie (shown once, never stored) and the session.
    pub fn open(
        &mut self,
        user: &StaffUser,
        now: Instant,
    ) -> Result<(SessionToken, Session), BackendError> {
        let token = SessionToken(random_hex()?);
        let session = Session {
            username: user.username.clone(),
            role: user.role,
            must_change_password: user.must_change_password,
            csrf_token: random_hex()?,
            created: now,
            last_seen: now,
            credential: user.credential,
        };
        self.sessions.retain(|_, s| !s.expired(now));
        while self.sessions.len() >= MAX_SESSIONS {
            let Some(least_recent) = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(d, _)| *d)
            else {
                break;
            };
            self.sessions.remove(&least_recent);
        }
        self.sessions
            .insert(digest(token.as_str()), session.clone());
        Ok((token, session))
    }

    /// The live session a cookie names, with `last_seen` moved to `now`; `None` for an unknown
    /// token or an expired session (which is closed on the way).
    pub fn lookup(&mut self, token: &str, now: Instant) -> Option<Session> {
        let key = digest(token);
        let session = self.sessions.get_mut(&key)?;
        if session.expired(now) {
            self.sessions.remove(&key);
            return None;
        }
        session.last_seen = session.last_seen.max(now);
        Some(session.clone())
    }

    /// Logs out one session. Unknown tokens are ignored: logging out twice is fine.
    pub fn close(&mut self, token: &str) {
        self.sessions.remove(&digest(token));
    }

    /// Logs a person out everywhere on this appliance (after a password change, a reset, a
    /// role change or disabling). Returns how many sessions were closed.
    pub fn close_all_for(&mut self, username: &Username) -> usize {
        let before = self.sessions.len();
        self.sessions.retain(|_, s| &s.username != username);
        before - self.sessions.len()
    }

    /// How many sessions are held, expired or not (for tests and the status page).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> StaffUser {
        StaffUser {
            username: Username::parse(name).expect("valid"),
            display_name: name.to_owned(),
            role: Role::Librarian,
            must_change_password: false,
            disabled: false,
            damage: None,
            credential: CredentialStamp::default(),
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(60 * 60);

    #[test]
    fn a_session_is_found_by_its_token_and_only_its_hash_is_kept() {
        let mut book = SessionBook::new();
        let t0 = Instant::now();
        let (token, session) = book.open(&user("mai"), t0).expect("open");
        assert_eq!(token.as_str().len(), 64);
        assert!(token.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(session.csrf_token.len(), 64);
        assert_ne!(session.csrf_token, token.as_str());
        assert!(!book.sessions.contains_key(token.as_str().as_bytes()));
        let found = book.lookup(token.as_str(), t0 + MINUTE).expect("live");
        assert_eq!(found.username.as_str(), "mai");
        assert_eq!(found.last_seen, t0 + MINUTE);
        assert!(book.lookup("0".repeat(64).as_str(), t0).is_none());
        assert_eq!(format!("{token:?}"), "SessionToken(…)");
        assert!(!format!("{found:?}").contains(&found.csrf_token));
    }

    #[test]
    fn a_session_idle_for_eight_hours_is_closed() {
        let mut book = SessionBook::new();
        let t0 = Instant::now();
        let (token, _) = book.open(&user("mai"), t0).expect("open");
        // Used every 7 hours, it lives on.
        let mut now = t0;
        for _ in 0..3 {
            now += 7 * HOUR;
            assert!(book.lookup(token.as_str(), now).is_some());
        }
        assert!(book.lookup(token.as_str(), now + 8 * HOUR).is_none());
        assert!(book.is_empty(), "the expired session is dropped");
    }

    #[test]
    fn a_busy_session_still_ends_after_seven_days() {
        let mut book = SessionBook::new();
        let t0 = Instant::now();
        let (token, _) = book.open(&user("mai"), t0).expect("open");
        let mut now = t0;
        while now + HOUR < t0 + ABSOLUTE_TIMEOUT {
            now += HOUR;
            assert!(book.lookup(token.as_str(), now).is_some());
        }
        assert!(book.lookup(token.as_str(), t0 + ABSOLUTE_TIMEOUT).is_none());
    }

    #[test]
    fn closing_one_or_all_of_a_persons_sessions() {
        let mut book = SessionBook::new();
        let t0 = Instant::now();
        let (phone, _) = book.open(&user("mai"), t0).expect("open");
        let (laptop, _) = book.open(&user("mai"), t0).expect("open");
        let (other, _) = book.open(&user("lan"), t0).expect("open");
        book.close(phone.as_str());
        book.close(phone.as_str());
        assert!(book.lookup(phone.as_str(), t0).is_none());
        assert!(book.lookup(laptop.as_str(), t0).is_some());
        assert_eq!(
            book.close_all_for(&Username::parse("mai").expect("valid")),
            1
        );
        assert!(book.lookup(laptop.as_str(), t0).is_none());
        assert!(book.lookup(other.as_str(), t0).is_some());
    }

    #[test]
    fn csrf_tokens_match_only_exactly() {
        let mut book = SessionBook::new();
        let (_, session) = book.open(&user("mai"), Instant::now()).expect("open");
        let (_, another) = book.open(&user("mai"), Instant::now()).expect("open");
        assert!(session.csrf_matches(&session.csrf_token));
        assert!(!session.csrf_matches(&another.csrf_token));
        assert!(!session.csrf_matches(""));
        assert!(!session.csrf_matches(&session.csrf_token[..63]));
        assert!(!session.csrf_matches(&format!("{}0", session.csrf_token)));
        assert!(!session.csrf_matches(&session.csrf_token.to_uppercase()));
    }

    #[test]
    fn the_book_never_holds_more_than_its_cap() {
        let mut book = SessionBook::new();
        let t0 = Instant::now();
        let (first, _) = book.open(&user("mai"), t0).expect("open");
        for i in 1..=MAX_SESSIONS as u64 {
            book.open(&user("lan"), t0 + Duration::from_secs(i))
                .expect("open");
        }
        assert_eq!(book.len(), MAX_SESSIONS);
        assert!(
            book.lookup(first.as_str(), t0 + MINUTE).is_none(),
            "the least recently seen session made room"
        );
    }
}
