//! Batch sizes fitted to the link. A batch is the unit that survives a cut (the receiver
//! commits and acknowledges each one), so on a slow line a batch must be small enough to cross
//! in a few seconds; on a LAN it should be large for throughput.
//!
//! The pacer measures the rate at which the peer acknowledges what we send (wire bytes
//! acknowledged over the time since the first batch went out) and sizes the next batch to
//! take about [`SessionOptions::batch_millis`](super::session::SessionOptions) of transfer,
//! between [`MIN_BATCH`] and the session's maximum. Before the first acknowledgement it starts
//! from a rate hint: one the transport knows (a serial line's baud rate) or the handshake's
//! own timing.
//!
//! The pacer reads no clock. The transport tells the session the time ([`Pacer::note_time`]);
//! a session that is never told (a bundle, a test) sends maximal batches, as before.

use std::collections::VecDeque;

/// The smallest batch worth a frame: below this the frame and compression overheads dominate.
pub const MIN_BATCH: usize = 1024;

/// The first batch on a link whose rate nobody knows yet: small enough for a 9600-baud line
/// to carry in under ten seconds; a fast link's first acknowledgement grows it at once.
pub const FIRST_BATCH: usize = 4 * 1024;

/// Below this many wire bytes per target batch time, shards a peer lacks entirely travel as
/// single changes in feed order rather than as whole documents: a whole document cannot be cut
/// smaller than itself, and only feed order keeps the peer's counters contiguous after a cut,
/// so a resumed session knows exactly what arrived from a few bytes of HELLO.
pub const WHOLE_DOCUMENTS_MIN: u64 = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Pacer {
    max: usize,
    target_millis: u64,
    now: Option<u64>,
    /// Wire bytes per second: measured, or the hint until the first acknowledgement.
    rate: Option<f64>,
    /// How many wire bytes one raw byte of batch becomes (compression), from the last batches.
    wire_per_raw: f64,
    /// Batches sent and not yet acknowledged: (wire bytes, sent at).
    in_flight: VecDeque<(u64, Option<u64>)>,
    first_sent_at: Option<u64>,
    acked_wire: u64,
}

impl Pacer {
    /// A pacer for batches of at most `max` raw bytes, each meant to take `target_millis` on
    /// the wire; `hint` is a known or estimated rate in wire bytes per second.
    pub fn new(max: usize, target_millis: u64, hint: Option<u64>) -> Pacer {
        Pacer {
            max: max.max(1),
            target_millis: target_millis.max(1),
            now: None,
            rate: hint.filter(|r| *r > 0).map(|r| r as f64),
            wire_per_raw: 1.0,
            in_flight: VecDeque::new(),
            first_sent_at: None,
            acked_wire: 0,
        }
    }

    /// The transport's clock, in milliseconds since any fixed point; never goes back.
    pub fn note_time(&mut self, now_millis: u64) {
        self.now = Some(self.now.map_or(now_millis, |n| n.max(now_millis)));
    }

    /// The measured (or hinted) rate in wire bytes per second, if any.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Wire bytes one batch may take at the current rate (None: unpaced).
    fn wire_budget(&self) -> Option<f64> {
        self.rate
            .map(|rate| rate * self.target_millis as f64 / 1000.0)
    }

    /// Raw bytes for the next batch.
    pub fn batch_bytes(&self) -> usize {
        match self.wire_budget() {
            None if self.now.is_some() => FIRST_BATCH.min(self.max),
            None => self.max,
            Some(wire) => {
                let raw = wire / self.wire_per_raw.max(0.05);
                (raw as usize).clamp(MIN_BATCH.min(self.max), self.max)
            }
        }
    }

    /// Whether whole shard documents suit this link (see [`WHOLE_DOCUMENTS_MIN`]).
    pub fn whole_documents(&self) -> bool {
        match self.wire_budget() {
            Some(wire) => wire >= WHOLE_DOCUMENTS_MIN as f64,
            // A link of unknown speed: whole documents only when no clock says we pace at all.
            None => self.now.is_none(),
        }
    }

    /// A batch of `raw` bytes went out as `wire` bytes.
    pub fn sent(&mut self, raw: usize, wire: usize) {
        if raw > 0 {
            let ratio = wire as f64 / raw as f64;
            self.wire_per_raw = 0.5 * self.wire_per_raw + 0.5 * ratio;
        }
        if self.first_sent_at.is_none() {
            self.first_sent_at = self.now;
        }
        self.in_flight.push_back((wire as u64, self.now));
    }

    /// The oldest batch in flight was acknowledged (durable at the peer).
    pub fn acked(&mut self) {
        let Some((wire, _)) = self.in_flight.pop_front() else {
            return;
        };
        self.acked_wire += wire;
        if let (Some(now), Some(first)) = (self.now, self.first_sent_at) {
            // Everything acknowledged so far crossed since the first batch left: a rate that
            // acknowledgements read together in one go cannot inflate.
            let elapsed = now.saturating_sub(first).max(1) as f64 / 1000.0;
            self.rate = Some(self.acked_wire as f64 / elapsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpaced_session_sends_maximal_batches_and_whole_documents() {
        let pacer = Pacer::new(256 * 1024, 5000, None);
        assert_eq!(pacer.batch_bytes(), 256 * 1024);
        assert!(pacer.whole_documents());
    }

    #[test]
    fn a_clock_without_a_rate_starts_small_and_in_feed_order() {
        let mut pacer = Pacer::new(256 * 1024, 5000, None);
        pacer.note_time(0);
        assert_eq!(pacer.batch_bytes(), FIRST_BATCH);
        assert!(!pacer.whole_documents());
    }

    #[test]
    fn a_9600_baud_hint_gives_batches_of_five_seconds_and_feed_order() {
        let pacer = Pacer::new(256 * 1024, 5000, Some(960));
        assert_eq!(pacer.batch_bytes(), 4800);
        assert!(!pacer.whole_documents());
    }

    #[test]
    fn batches_grow_to_the_maximum_when_acknowledgements_come_back_fast() {
        let mut pacer = Pacer::new(256 * 1024, 5000, Some(2000));
        pacer.note_time(0);
        pacer.sent(10_000, 10_000);
        pacer.note_time(5);
        pacer.acked();
        assert_eq!(pacer.batch_bytes(), 256 * 1024);
        assert!(pacer.whole_documents());
    }

    #[test]
    fn batches_shrink_to_the_measured_rate_and_compression_counts() {
        let mut pacer = Pacer::new(256 * 1024, 5000, None);
        pacer.note_time(1000);
        pacer.sent(20_000, 10_000);
        pacer.note_time(11_000);
        pacer.acked();
        // 1,000 wire bytes a second, 5 s, batches compress to about 3/4 (the ratio is
        // smoothed from 1.0 towards the measured 0.5).
        assert_eq!(pacer.rate(), Some(1000.0));
        assert_eq!(pacer.batch_bytes(), 6666);
        assert!(!pacer.whole_documents());
    }
}
