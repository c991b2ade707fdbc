//! Passwords: the rules a new one must meet, argon2id hashing into PHC strings, checking a
//! typed password against a stored hash, and the first admin's one-time password.
//!
//! Deliberately not here: storing hashes (the [`super::directory`] does), deciding who may set
//! whose password, and slowing down guessers ([`super::limiter`]).

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::mpsc;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use unicode_normalization::UnicodeNormalization;

use super::directory::BackendError;

/// Shortest and longest password, in characters (not bytes: "mậtkhẩu1" is 8 characters and
/// 12 bytes, and a Vietnamese password must not count as longer than it looks).
pub const PASSWORD_CHARS: RangeInclusive<usize> = 8..=128;

/// argon2id with OWASP's minimum: 19 MiB of memory, 2 passes, 1 lane.
///
/// Sized for a Raspberry Pi 3 (1 GB RAM, shared with the store and the web server): a login
/// holds 19 MiB for its duration. Measured 2026-11-25 in release (argon2 0.6.0, these
/// parameters, 20 runs) on the 2-core AMD EPYC build machine while other builds ran (load
/// 3.6): 20–25 ms per hash, 16–20 ms per verify; up to 75 ms under heavier load. A Pi 3's
/// Cortex-A53 with its slow memory is an order of magnitude slower, so expect a few hundred
/// milliseconds there (not yet measured on a board). Hashes carry their parameters, so
/// raising these later only affects passwords set after the change.
const HASH_PARAMS: Params = match Params::new(19 * 1024, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("the argon2 parameters are out of range"),
};

/// Stored hashes with parameters above these are refused rather than run: a damaged or
/// hostile replica must not make a login allocate the Pi's whole memory.
const MAX_STORED_M_COST_KIB: u32 = 64 * 1024;
const MAX_STORED_T_COST: u32 = 10;
const MAX_STORED_P_COST: u32 = 4;

/// A hash of a password nobody is given, verified when the username is unknown or its hash is
/// unreadable, so those answers take as long as a wrong password. Made with [`HASH_PARAMS`]
/// (a test checks that they still agree).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dHVzYWNoLWR1bW15LXNhbHQ$IiYdr1LusqemlD8d6lydghx0K5AkLA2SJnCHdQU+W6w";

/// Salt length in bytes: the PHC recommendation (16) and argon2's own default.
const SALT_BYTES: usize = 16;

/// Why a new password was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least 8 characters; this one has {chars}")]
    TooShort { chars: usize },
    #[error("a password may have at most 128 characters; this one has {chars}")]
    TooLong { chars: usize },
}

/// A password that meets the rules, composed (NFC) so the same Vietnamese letters typed on a
/// phone or on a laptop keyboard hash the same. Its `Debug` hides the text.
pub struct NewPassword(String);

impl NewPassword {
    pub fn check(typed: &str) -> Result<NewPassword, PasswordError> {
        let composed = compose(typed);
        let chars = composed.chars().count();
        if chars < *PASSWORD_CHARS.start() {
            return Err(PasswordError::TooShort { chars });
        }
        if chars > *PASSWORD_CHARS.end() {
            return Err(PasswordError::TooLong { chars });
        }
        Ok(NewPassword(composed))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

/// Passwords are not trimmed (a space is a character like any other), only composed.
fn compose(typed: &str) -> String {
    typed.nfc().collect()
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, HASH_PARAMS)
}

/// How many argon2 runs may go at once, each on its own long-lived thread.
///
/// Why threads of their own: each run allocates 19 MiB. glibc's malloc raises its mmap
/// threshold after the first such block is freed, so later blocks come from the calling
/// thread's arena and stay there after use. Run on whatever thread served the request, fifty
/// logins left almost a gigabyte resident (measured: 967 MB after 50 logins, 14 MB with the
/// threshold pinned). Two fixed threads keep at most two blocks, and queue the rest — which
/// also keeps a burst of logins from starving the desk of CPU.
const PASSWORD_THREADS: usize = 2;

type PasswordJob = Box<dyn FnOnce() + Send>;

static PASSWORD_WORKERS: std::sync::LazyLock<Option<std::sync::Mutex<mpsc::Sender<PasswordJob>>>> =
    std::sync::LazyLock::new(|| {
        let (sender, receiver) = mpsc::channel::<PasswordJob>();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        let mut started = 0;
        for n in 0..PASSWORD_THREADS {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if spawned.is_ok() {
                started += 1;
            }
        }
        (started > 0).then(|| std::sync::Mutex::new(sender))
    });

/// Runs `work` on one of the password threads and waits for its answer; runs it on this
/// thread if the password threads could not be started. `None` only if the work panicked.
fn on_password_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (answer, answered) = mpsc::channel();
    let job: PasswordJob = Box::new(move || {
        let _ = answer.send(work());
    });
    let unsent = match PASSWORD_WORKERS
        .as_ref()
        .and_then(|workers| workers.lock().ok())
    {
        Some(workers) => workers.send(job).err().map(|returned| returned.0),
        None => Some(job),
    };
    if let Some(job) = unsent {
        job();
    }
    answered.recv().ok()
}

/// Hashes a new password with a fresh salt from the operating system into a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub(super) fn hash(password: &NewPassword) -> Result<String, BackendError> {
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| BackendError::Random(e.to_string()))?;
    let password = password.as_str().to_owned();
    on_password_thread(move || {
        hasher()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|phc| phc.to_string())
            .map_err(|e| BackendError::Hasher(e.to_string()))
    })
    .unwrap_or_else(|| Err(BackendError::Hasher("the password thread failed".into())))
}

/// What checking a typed password against a stored hash found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Matches,
    DoesNotMatch,
    /// The stored text is not an argon2id hash we are willing to run. A dummy hash was
    /// verified instead, so this takes as long as a wrong password.
    UnreadableHash,
}

/// Checks `typed` against the PHC string `stored`. Takes one argon2 run whatever the outcome.
pub(super) fn verify(typed: &str, stored: &str) -> Verdict {
    let typed = compose(typed);
    let Some(parsed) = readable_hash(stored) else {
        spend_one_verify(&typed);
        return Verdict::UnreadableHash;
    };
    // Passwords longer than the rules allow were never set, so they cannot match; the dummy
    // keeps the time the same.
    if typed.chars().count() > *PASSWORD_CHARS.end() {
        spend_one_verify(&typed);
        return Verdict::DoesNotMatch;
    }
    let stored = parsed.to_string();
    let matched = on_password_thread(move || {
        PasswordHash::new(&stored)
            .is_ok_and(|parsed| hasher().verify_password(typed.as_bytes(), &parsed).is_ok())
    });
    if matched == Some(true) {
        Verdict::Matches
    } else {
        Verdict::DoesNotMatch
    }
}

/// Verifies against [`DUMMY_HASH`] and throws the answer away: the time an answer takes must
/// not tell a guesser whether a username exists.
pub(super) fn spend_one_verify(typed: &str) {
    let typed = typed.to_owned();
    on_password_thread(move || {
        if let Ok(dummy) = PasswordHash::new(DUMMY_HASH) {
            let _ = hasher().verify_password(typed.as_bytes(), &dummy);
        }
    });
}

/// Whether `stored` is a hash [`verify`] would run (no hashing: cheap enough for listings).
pub(super) fn is_readable(stored: &str) -> bool {
    readable_hash(stored).is_some()
}

fn readable_hash(stored: &str) -> Option<PasswordHash> {
    let parsed = PasswordHash::new(stored).ok()?;
    if parsed.algorithm.as_str() != "argon2id" {
        return None;
    }
    let params = Params::try_from(&parsed).ok()?;
    let affordable = params.m_cost() <= MAX_STORED_M_COST_KIB
        && params.t_cost() <= MAX_STORED_T_COST
        && params.p_cost() <= MAX_STORED_P_COST;
    affordable.then_some(parsed)
}

/// Letters and digits that cannot be mistaken for one another when read aloud or off a
/// console: no 0/o, 1/l/i. Lowercase, so a phone keyboard needs no shift.
const READABLE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const ONE_TIME_GROUPS: usize = 4;
const ONE_TIME_GROUP_CHARS: usize = 4;

/// The first admin's password, shown once on the console (`xk7m-2p9q-…`): 16 characters from
/// a 31-symbol alphabet, about 79 bits. It is a normal password that must be changed at first
/// login. Its `Debug` hides the text; `Display` and [`OneTimePassword::as_str`] show it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimePassword(String);

impl OneTimePassword {
    pub(super) fn generate() -> Result<OneTimePassword, BackendError> {
        let mut groups = Vec::with_capacity(ONE_TIME_GROUPS);
        for _ in 0..ONE_TIME_GROUPS {
            let mut group = String::with_capacity(ONE_TIME_GROUP_CHARS);
            while group.len() < ONE_TIME_GROUP_CHARS {
                group.push(readable_char()?);
            }
            groups.push(group);
        }
        Ok(OneTimePassword(groups.join("-")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The password to hash. Meets the rules by construction (19 characters; a test checks).
    pub(super) fn as_new_password(&self) -> NewPassword {
        NewPassword(self.0.clone())
    }
}

/// One uniform character of [`READABLE_ALPHABET`]: bytes at or above the largest multiple of
/// its length are drawn again, so no character is likelier than another.
fn readable_char() -> Result<char, BackendError> {
    let len = READABLE_ALPHABET.len();
    let fair_below = 256 - 256 % len;
    loop {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte).map_err(|e| BackendError::Random(e.to_string()))?;
        let drawn = usize::from(byte[0]);
        let fair = (drawn < fair_below).then(|| READABLE_ALPHABET.get(drawn % len));
        if let Some(Some(c)) = fair {
            return Ok(char::from(*c));
        }
    }
}

impl fmt::Display for OneTimePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OneTimePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimePassword(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(typed: &str, expected: Result<(), PasswordError>) {
        assert_eq!(NewPassword::check(typed).map(|_| ()), expected, "{typed:?}");
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        check("12345678", Ok(()));
        check("1234567", Err(PasswordError::TooShort { chars: 7 }));
        check("", Err(PasswordError::TooShort { chars: 0 }));
        // 7 Vietnamese characters are 16 bytes: still too short.
        check("mậtkhẩu", Err(PasswordError::TooShort { chars: 7 }));
        check("mậtkhẩu1", Ok(()));
        // Decomposed input is composed before counting: 7 letters, not 10 code points.
        check(
            "ma\u{0302}\u{0323}tkha\u{0302}\u{0309}u",
            Err(PasswordError::TooShort { chars: 7 }),
        );
        check(&"đ".repeat(128), Ok(()));
        check(&"đ".repeat(129), Err(PasswordError::TooLong { chars: 129 }));
    }

    #[test]
    fn a_password_verifies_whether_typed_composed_or_decomposed() {
        let set = NewPassword::check("Thư viện xã 2026").expect("valid");
        let stored = hash(&set).expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert_eq!(verify("Thư viện xã 2026", &stored), Verdict::Matches);
        assert_eq!(
            verify("Thu\u{031B} vie\u{0302}\u{0323}n xa\u{0303} 2026", &stored),
            Verdict::Matches
        );
        assert_eq!(verify("Thư viện xã 2025", &stored), Verdict::DoesNotMatch);
        assert_eq!(verify(&"x".repeat(500), &stored), Verdict::DoesNotMatch);
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let set = NewPassword::check("giống nhau").expect("valid");
        assert_ne!(hash(&set).expect("hash"), hash(&set).expect("hash"));
    }

    #[test]
    fn unreadable_or_oversized_hashes_are_refused_not_run() {
        for stored in [
            "",
            "not a hash",
            "$argon2i$v=19$m=19456,t=2,p=1$dHVzYWNoLWR1bW15LXNhbHQ$IiYdr1LusqemlD8d6lydghx0K5AkLA2SJnCHdQU+W6w",
            "$argon2id$v=19$m=4000000,t=2,p=1$dHVzYWNoLWR1bW15LXNhbHQ$IiYdr1LusqemlD8d6lydghx0K5AkLA2SJnCHdQU+W6w",
        ] {
            assert_eq!(
                verify("anything goes", stored),
                Verdict::UnreadableHash,
                "{stored}"
            );
        }
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("dummy parses");
        let params = Params::try_from(&dummy).expect("params");
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (
                HASH_PARAMS.m_cost(),
                HASH_PARAMS.t_cost(),
                HASH_PARAMS.p_cost()
            )
        );
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
    }

    #[test]
    fn one_time_passwords_are_four_readable_groups() {
        let otp = OneTimePassword::generate().expect("random");
        let groups: Vec<&str> = otp.as_str().split('-').collect();
        assert_eq!(groups.len(), 4, "{otp}");
        for group in groups {
            assert_eq!(group.len(), 4, "{otp}");
            assert!(
                group.bytes().all(|b| READABLE_ALPHABET.contains(&b)),
                "{otp}"
            );
        }
        let checked = NewPassword::check(otp.as_str()).expect("meets the rules");
        assert_eq!(checked.as_str(), otp.as_new_password().as_str());
        assert_eq!(format!("{otp:?}"), "OneTimePassword(…)");
        assert_ne!(otp, OneTimePassword::generate().expect("random"));
    }
}
