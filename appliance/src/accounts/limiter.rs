//! Slowing down password guessers: the [`LoginLimiter`] counts failed logins per client IP
//! and per username, and refuses further attempts for a while after too many.
//!
//! Two counters, because they stop different attacks: the IP counter stops one machine trying
//! many usernames, the username counter stops many machines trying one account. A success
//! clears the username's counter (the person got in) but not the IP's, or an attacker holding
//! one valid account could wipe their own IP's record between guesses at others.
//!
//! The rule: 5 failures with no 15-minute pause between them lock the key for 30 s; each
//! further failure doubles the lock, up to 15 min. A key is forgotten 15 minutes after its
//! last failure's lock ends. This is slightly stricter than a sliding 15-minute window (slow
//! guessing never resets by itself) and needs one timestamp per key.
//!
//! Memory is bounded: each table holds at most [`MAX_TRACKED_KEYS`] keys and drops the one
//! with the oldest failure to make room. Time is passed in, never read. Counters live in
//! memory only; a restart forgives everyone, which is fine at argon2's speed.
//!
//! Deliberately not here: checking passwords, and anything about HTTP (which IP a request
//! comes from is the web layer's business).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures allowed before the first lock.
pub const FREE_FAILURES: u32 = 5;
/// A key with no failure for this long (after any lock ends) starts again from zero.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// The first lock; each further failure doubles it.
pub const FIRST_LOCK: Duration = Duration::from_secs(30);
/// The longest lock.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Most keys each table tracks.
pub const MAX_TRACKED_KEYS: usize = 4096;

/// Usernames are tracked as typed (trimmed, lowercased), cut to this many characters, so junk
/// usernames cannot make entries large.
const TRACKED_USERNAME_CHARS: usize = 64;

/// Refused: try again after this long. The web layer sends it as `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

#[derive(Clone, Copy, Debug)]
struct Strikes {
    failures: u32,
    last_failure: Instant,
}

impl Strikes {
    /// How long the key is locked after its last failure.
    fn lock(&self) -> Duration {
        if self.failures < FREE_FAILURES {
            return Duration::ZERO;
        }
        let doublings = (self.failures - FREE_FAILURES).min(16);
        FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK)
    }

    fn locked_until(&self) -> Instant {
        self.last_failure + self.lock()
    }

    fn forgotten(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.locked_until()) >= FORGET_AFTER
    }
}

/// One table of strikes, bounded in size.
struct StrikeTable<K> {
    strikes: HashMap<K, Strikes>,
}

impl<K: Eq + Hash + Clone> StrikeTable<K> {
    fn new() -> Self {
        StrikeTable {
            strikes: HashMap::new(),
        }
    }

    fn wait(&self, key: &K, now: Instant) -> Duration {
        self.strikes
            .get(key)
            .map(|s| s.locked_until().saturating_duration_since(now))
            .unwrap_or(Duration::ZERO)
    }

    fn strike(&mut self, key: &K, now: Instant) {
        if !self.strikes.contains_key(key) {
            self.make_room(now);
        }
        let entry = self.strikes.entry(key.clone()).or_insert(Strikes {
            failures: 0,
            last_failure: now,
        });
        if entry.forgotten(now) {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = entry.last_failure.max(now);
    }

    fn clear(&mut self, key: &K) {
        self.strikes.remove(key);
    }

    fn make_room(&mut self, now: Instant) {
        if self.strikes.len() < MAX_TRACKED_KEYS {
            return;
        }
        self.strikes.retain(|_, s| !s.forgotten(now));
        while self.strikes.len() >= MAX_TRACKED_KEYS {
            let Some(oldest) = self
                .strikes
                .iter()
                .min_by_key(|(_, s)| s.last_failure)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.strikes.remove(&oldest);
        }
    }
}

/// Failed-login counters by client IP and by username. One per appliance, shared by every
/// login request (behind a mutex in the web layer).
pub struct LoginLimiter {
    by_ip: StrikeTable<IpAddr>,
    by_username: StrikeTable<String>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new()
    }
}

fn tracked(username: &str) -> String {
    username
        .trim()
        .to_lowercase()
        .chars()
        .take(TRACKED_USERNAME_CHARS)
        .collect()
}

impl LoginLimiter {
    pub fn new() -> LoginLimiter {
        LoginLimiter {
            by_ip: StrikeTable::new(),
            by_username: StrikeTable::new(),
        }
    }

    /// Call before checking a password: `Err` means refuse without checking it, and tell the
    /// client to wait (the longer of the IP's and the username's lock).
    pub fn check(&self, ip: IpAddr, username: &str, now: Instant) -> Result<(), RetryAfter> {
        let wait = self
            .by_ip
            .wait(&ip, now)
            .max(self.by_username.wait(&tracked(username), now));
        if wait.is_zero() {
            Ok(())
        } else {
            Err(RetryAfter(wait))
        }
    }

    /// Call after a wrong username or password (not after refusals for other reasons).
    pub fn record_failure(&mut self, ip: IpAddr, username: &str, now: Instant) {
        self.by_ip.strike(&ip, now);
        self.by_username.strike(&tracked(username), now);
    }

    /// Call after a successful login: the person's account is no longer under suspicion.
    pub fn record_success(&mut self, _ip: IpAddr, username: &str, _now: Instant) {
        self.by_username.clear(&tracked(username));
    }

    /// How many keys both tables hold (for tests and the status page).
    pub fn tracked_keys(&self) -> usize {
        self.by_ip.strikes.len() + self.by_username.strikes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const MINUTE: Duration = Duration::from_secs(60);

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    /// Fails `n` times at `now`, asserting each attempt was allowed.
    fn fail(limiter: &mut LoginLimiter, from: IpAddr, username: &str, n: u32, now: Instant) {
        for _ in 0..n {
            assert_eq!(limiter.check(from, username, now), Ok(()));
            limiter.record_failure(from, username, now);
        }
    }

    #[test]
    fn five_failures_lock_for_thirty_seconds() {
        let mut limiter = LoginLimiter::new();
        let t0 = Instant::now();
        fail(&mut limiter, ip(1), "mai", 5, t0);
        assert_eq!(
            limiter.check(ip(1), "mai", t0 + 10 * SECOND),
            Err(RetryAfter(20 * SECOND))
        );
        // Locked by username from another IP, and by IP for another username.
        assert!(limiter.check(ip(2), "Mai ", t0).is_err());
        assert!(limiter.check(ip(1), "lan", t0).is_err());
        assert_eq!(limiter.check(ip(2), "lan", t0), Ok(()));
        assert_eq!(limiter.check(ip(1), "mai", t0 + 30 * SECOND), Ok(()));
    }

    #[test]
    fn each_further_failure_doubles_the_lock_up_to_fifteen_minutes() {
        let mut limiter = LoginLimiter::new();
        let mut now = Instant::now();
        fail(&mut limiter, ip(1), "mai", 5, now);
        let mut locks = Vec::new();
        for _ in 0..8 {
            let Err(RetryAfter(wait)) = limiter.check(ip(1), "mai", now) else {
                panic!("should be locked");
            };
            locks.push(wait.as_secs());
            now += wait;
            fail(&mut limiter, ip(1), "mai", 1, now);
        }
        assert_eq!(locks, [30, 60, 120, 240, 480, 900, 900, 900]);
    }

    #[test]
    fn a_quiet_quarter_hour_forgets_failures() {
        let mut limiter = LoginLimiter::new();
        let t0 = Instant::now();
        fail(&mut limiter, ip(1), "mai", 4, t0);
        let later = t0 + 15 * MINUTE;
        fail(&mut limiter, ip(1), "mai", 4, later);
        assert_eq!(limiter.check(ip(1), "mai", later), Ok(()));
        // But a fifth within the quarter hour locks.
        fail(&mut limiter, ip(1), "mai", 1, later + 14 * MINUTE);
        assert!(limiter.check(ip(1), "mai", later + 14 * MINUTE).is_err());
    }

    #[test]
    fn success_clears_the_username_but_not_the_ip() {
        let mut limiter = LoginLimiter::new();
        let t0 = Instant::now();
        fail(&mut limiter, ip(1), "mai", 4, t0);
        limiter.record_success(ip(1), "mai", t0);
        fail(&mut limiter, ip(2), "mai", 4, t0);
        assert_eq!(
            limiter.check(ip(2), "mai", t0),
            Ok(()),
            "mai's count restarted"
        );
        limiter.record_failure(ip(1), "lan", t0);
        assert!(
            limiter.check(ip(1), "someone", t0).is_err(),
            "ip 1 failed five times in all"
        );
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_usernames() {
        let mut limiter = LoginLimiter::new();
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED_KEYS as u64 + 500) {
            let from = IpAddr::from((i as u32).to_be_bytes());
            limiter.record_failure(
                from,
                &format!("guess{i}{}", "x".repeat(200)),
                t0 + Duration::from_millis(i),
            );
        }
        assert!(limiter.tracked_keys() <= 2 * MAX_TRACKED_KEYS);
        assert!(
            limiter
                .by_username
                .strikes
                .keys()
                .all(|k| k.chars().count() <= TRACKED_USERNAME_CHARS)
        );
    }
}
