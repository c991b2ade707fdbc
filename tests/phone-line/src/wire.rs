//! One direction of the impaired line: a transmitter that sends one byte per ten bit times,
//! a delay, and noise that drops or damages bytes.
//!
//! A `Wire` is told the time; it reads no clock and touches no file, so its timing is exact
//! and its tests need no sleeping. It knows nothing of modems or cuts: the exchange decides
//! when a wire loses what it carries, and where arriving bytes go.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Bytes waiting for the transmitter beyond which the exchange stops reading the sender's
/// pty, like a UART FIFO and a modem's buffer: the kernel's pty buffer then fills and the
/// sender's `write` blocks, so a fast sender is slowed down rather than losing data.
pub const TRANSMIT_QUEUE: usize = 4096;

/// What happened to the bytes that went into one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireCounts {
    /// Bytes handed to the receiving client, damaged ones included.
    pub delivered: u64,
    /// Bytes the noise dropped.
    pub dropped: u64,
    /// Bytes delivered with one bit flipped by the noise.
    pub flipped: u64,
    /// Bytes lost otherwise: in a cut, at a hang-up, or arriving while the receiving modem
    /// was in command mode.
    pub lost: u64,
}

/// One direction of the line.
#[derive(Debug)]
pub struct Wire {
    byte_time: Duration,
    latency: Duration,
    error_rate: f64,
    noise: fastrand::Rng,
    /// Bytes not yet on the wire, each with the moment the sender handed it over.
    waiting: VecDeque<(Instant, u8)>,
    /// When the transmitter finishes the byte it is sending (or finished the last one).
    free_at: Instant,
    /// Bytes on the wire, after the noise, each with the moment it arrives.
    in_flight: VecDeque<(Instant, u8)>,
    pub counts: WireCounts,
}

impl Wire {
    pub fn new(
        byte_time: Duration,
        latency: Duration,
        error_rate: f64,
        seed: u64,
        now: Instant,
    ) -> Self {
        Wire {
            byte_time,
            latency,
            error_rate,
            noise: fastrand::Rng::with_seed(seed),
            waiting: VecDeque::new(),
            free_at: now,
            in_flight: VecDeque::new(),
            counts: WireCounts::default(),
        }
    }

    /// The sender hands one byte to the transmitter at `now`.
    pub fn send(&mut self, byte: u8, now: Instant) {
        self.waiting.push_back((now, byte));
    }

    /// Bytes handed over and not yet on the wire.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Puts on the wire every byte whose turn came by `now`, then returns the bytes that
    /// arrived by `now`, oldest first.
    ///
    /// Each byte starts when both it and the transmitter are ready, computed from those times
    /// and not from `now`, so a late call does not slow the line down.
    pub fn advance(&mut self, now: Instant) -> Vec<u8> {
        while let Some(&(handed, byte)) = self.waiting.front() {
            let start = handed.max(self.free_at);
            if start > now {
                break;
            }
            self.waiting.pop_front();
            self.free_at = start + self.byte_time;
            if let Some(byte) = self.through_noise(byte) {
                self.in_flight
                    .push_back((self.free_at + self.latency, byte));
            }
        }
        let mut arrived = Vec::new();
        while let Some(&(at, byte)) = self.in_flight.front() {
            if at > now {
                break;
            }
            self.in_flight.pop_front();
            arrived.push(byte);
        }
        arrived
    }

    /// The next moment `advance` would change something: a byte starting or arriving.
    pub fn next_event(&self) -> Option<Instant> {
        let start = self
            .waiting
            .front()
            .map(|&(handed, _)| handed.max(self.free_at));
        let arrival = self.in_flight.front().map(|&(at, _)| at);
        [start, arrival].into_iter().flatten().min()
    }

    /// When the last byte now on the wire arrives.
    pub fn last_arrival(&self) -> Option<Instant> {
        self.in_flight.back().map(|&(at, _)| at)
    }

    /// The bytes not yet on the wire are lost (the sending modem hung up).
    pub fn lose_waiting(&mut self) {
        self.counts.lost += self.waiting.len() as u64;
        self.waiting.clear();
    }

    /// Everything the wire holds is lost (a cut, or the carrier went).
    pub fn lose_all(&mut self) {
        self.lose_waiting();
        self.counts.lost += self.in_flight.len() as u64;
        self.in_flight.clear();
    }

    /// Damages one byte with probability `error_rate`: half of the damaged bytes vanish, the
    /// other half arrive with one bit flipped, as a framing error or a flipped bit would.
    /// The noise generator is drawn only for this, so a seed damages the same bytes each run.
    fn through_noise(&mut self, byte: u8) -> Option<u8> {
        if self.error_rate <= 0.0 || self.noise.f64() >= self.error_rate {
            return Some(byte);
        }
        if self.noise.bool() {
            self.counts.dropped += 1;
            None
        } else {
            self.counts.flipped += 1;
            Some(byte ^ (1 << self.noise.u8(0..8)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn bytes_leave_one_byte_time_apart_and_arrive_after_the_latency() {
        let t0 = Instant::now();
        let mut wire = Wire::new(10 * MS, 300 * MS, 0.0, 1, t0);
        for byte in b"abc" {
            wire.send(*byte, t0);
        }
        // The first byte finishes at 10 ms and arrives 300 ms later.
        assert_eq!(wire.advance(t0 + 309 * MS), b"");
        assert_eq!(wire.advance(t0 + 310 * MS), b"a");
        assert_eq!(wire.next_event(), Some(t0 + 320 * MS));
        // A late call gets both remaining bytes at once, at their own times.
        assert_eq!(wire.advance(t0 + 400 * MS), b"bc");
        assert_eq!(wire.next_event(), None);
    }

    #[test]
    fn an_idle_transmitter_sends_at_once() {
        let t0 = Instant::now();
        let mut wire = Wire::new(10 * MS, Duration::ZERO, 0.0, 1, t0);
        wire.send(b'x', t0 + 1000 * MS);
        assert_eq!(wire.next_event(), Some(t0 + 1000 * MS));
        assert_eq!(wire.advance(t0 + 1010 * MS), b"x");
    }

    #[test]
    fn the_same_seed_damages_the_same_bytes() {
        let run = |seed| {
            let t0 = Instant::now();
            let mut wire = Wire::new(MS, MS, 0.1, seed, t0);
            for i in 0..1000u32 {
                wire.send(i as u8, t0);
            }
            let arrived = wire.advance(t0 + 2000 * MS);
            (arrived, wire.counts)
        };
        let (first, counts) = run(7);
        assert_eq!(run(7), (first.clone(), counts));
        assert!(counts.dropped > 0 && counts.flipped > 0, "{counts:?}");
        assert_eq!(first.len() as u64 + counts.dropped, 1000);
    }

    #[test]
    fn losing_everything_counts_it() {
        let t0 = Instant::now();
        let mut wire = Wire::new(10 * MS, 100 * MS, 0.0, 1, t0);
        for byte in b"abcd" {
            wire.send(*byte, t0);
        }
        assert_eq!(wire.advance(t0 + 20 * MS), b"");
        wire.lose_all();
        assert_eq!(wire.counts.lost, 4);
        assert_eq!(wire.advance(t0 + 1000 * MS), b"");
    }
}
