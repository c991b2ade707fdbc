//! The one backoff the schedulers share: after a failed session the next attempt waits a
//! first delay, doubled after every further failure, up to a ceiling. A dead link so costs a
//! few attempts an hour, while one that blinked is tried again within seconds.
//!
//! It only computes waits; each scheduler ([`super::hub`], [`super::manual_peers`],
//! [`super::neighbours`]) keeps its own clock and counts its own failures.

use std::time::Duration;

/// A doubling backoff from `first` up to `ceiling`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub ceiling: Duration,
}

impl Backoff {
    /// The wait after `failures` failures in a row; with none, the ceiling (a scheduler's
    /// regular interval, for those that have one).
    pub fn wait_after(&self, failures: u32) -> Duration {
        if failures == 0 {
            return self.ceiling;
        }
        // Capped shift: 2^16 times any first delay is past every ceiling we use.
        let doubled = self.first.saturating_mul(1u32 << (failures - 1).min(16));
        doubled.min(self.ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_up_to_the_ceiling() {
        let backoff = Backoff {
            first: Duration::from_secs(15),
            ceiling: Duration::from_secs(30 * 60),
        };
        let waits: Vec<u64> = (0..9).map(|f| backoff.wait_after(f).as_secs()).collect();
        assert_eq!(waits, [1800, 15, 30, 60, 120, 240, 480, 960, 1800]);
        assert_eq!(backoff.wait_after(u32::MAX).as_secs(), 1800);
        let short = Backoff {
            first: Duration::from_secs(15),
            ceiling: Duration::from_secs(2),
        };
        assert_eq!(short.wait_after(1).as_secs(), 2);
    }
}
