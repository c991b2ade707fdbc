//! The reliable byte stream over a serial line: a sans-I/O state machine, fed the bytes and
//! the time its driver reads, and asked for the bytes to write next.
//!
//! - **Sliding window with selective acknowledgement.** Stream bytes go in DATA frames
//!   numbered by their offset; the receiver acknowledges the contiguous prefix it holds and up
//!   to eight later ranges, so after a damaged frame only the hole travels again while the
//!   rest of the window keeps flowing.
//! - **Timeouts from the line.** The sender paces frames at the line's byte rate (so its own
//!   acknowledgements never wait behind a long queue in the modem), measures the round trip of
//!   every frame sent once (Karn), and retransmits after `srtt + 4·rttvar`, as TCP does.
//! - **Circuits survive calls.** A circuit is one sync conversation. When a call drops, both
//!   sides keep its state; on the next connection the caller's HELLO names the circuit and each
//!   side says how much of the other's stream it holds, so the sender resumes from that offset:
//!   nothing acknowledged travels twice, and the sync session above never notices the cut
//!   except as a pause.

use std::collections::{BTreeMap, VecDeque};

use super::frame::{Frame, MAX_RANGES};

/// Which end of the line this is: the caller opens circuits, the answerer accepts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Caller,
    Answerer,
}

/// What the line is like.
#[derive(Clone, Copy, Debug)]
pub struct LineShape {
    /// Bytes per second the line carries (8N1: baud / 10).
    pub bytes_per_second: u32,
    /// Stream bytes in one DATA frame.
    pub payload: usize,
    /// Stream bytes in flight at most.
    pub window: u64,
}

impl LineShape {
    /// A line at `baud` bits per second, 8N1. Payloads of 128 bytes keep a damaged frame's
    /// cost small at a byte error rate of 1e-3 (one frame in eight is hit) while framing
    /// costs ~7%. The window covers a 300 ms-latency line's round trip (~770 bytes at 9600
    /// baud) four times over, so holes are refilled while data keeps flowing; a larger one
    /// only sent more into a line that had just gone dead.
    pub fn at_baud(baud: u32) -> LineShape {
        LineShape {
            bytes_per_second: (baud / 10).max(1),
            payload: 128,
            window: 3 * 1024 + 256 * (baud / 9600).min(64) as u64,
        }
    }

    fn millis_for(&self, bytes: usize) -> u64 {
        (bytes as u64 * 1000).div_ceil(u64::from(self.bytes_per_second))
    }
}

/// What the link noticed that its driver must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// The caller's circuit can no longer continue: the answerer lost its state (restarted)
    /// after part of the stream was acknowledged. The conversation above must start again.
    CircuitLost,
    /// (Answerer) a caller opened a new circuit: whatever conversation ran before is over.
    NewCircuit([u8; 8]),
}

/// Counters for the bench and the sync page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Every byte written to the line, framing included.
    pub wire_bytes_sent: u64,
    pub wire_bytes_received: u64,
    /// Stream bytes sent more than once.
    pub retransmitted_bytes: u64,
    pub frames_damaged: u64,
    /// Connections (calls) on which the circuit opened or resumed.
    pub connections: u64,
}

struct InFlight {
    end: u64,
    /// When the frame's last byte will have left our port (pacing's estimate).
    left_at: u64,
    retransmitted: bool,
    /// Marked for resending (timed out, or a later frame was acknowledged before it).
    lost: bool,
}

/// One end of one circuit.
pub struct Link {
    end: End,
    circuit: [u8; 8],
    shape: LineShape,
    /// The HELLO exchange happened on the current connection.
    open: bool,
    /// Caller: when to send the next HELLO while not open.
    hello_due: u64,
    hello_backoff: u64,
    /// Answerer: a HELLO to send in reply, as soon as the line is free.
    hello_reply: Option<Frame>,
    // Sending.
    /// The peer holds our stream up to here.
    acked: u64,
    /// Our stream from `acked` on, sent or not.
    outgoing: VecDeque<u8>,
    /// The first offset not yet sent on this connection.
    next_new: u64,
    in_flight: BTreeMap<u64, InFlight>,
    // Receiving.
    received: u64,
    out_of_order: BTreeMap<u64, Vec<u8>>,
    inbound: VecDeque<u8>,
    ack_due: Option<u64>,
    // Time.
    srtt: Option<f64>,
    rttvar: f64,
    rto: u64,
    line_free_at: u64,
    last_sent: u64,
    last_heard: u64,
    events: Vec<LinkEvent>,
    pub stats: LinkStats,
}

/// How long a side stays quiet before it sends an ACK anyway, so the other side knows the line
/// is alive.
pub const KEEPALIVE_MILLIS: u64 = 3_000;
/// Acknowledge received data after at most this long (or at once for a hole).
const ACK_DELAY_MILLIS: u64 = 30;
const MAX_RTO_MILLIS: u64 = 8_000;

impl Link {
    /// The caller's end of a new circuit with a random id.
    pub fn call(shape: LineShape) -> Link {
        let mut circuit = [0u8; 8];
        // A failed getrandom leaves zeros: still a circuit, only a predictable one.
        let _ = getrandom::fill(&mut circuit);
        Link::new(End::Caller, circuit, shape)
    }

    /// The answerer's end, before any caller spoke.
    pub fn answer(shape: LineShape) -> Link {
        Link::new(End::Answerer, [0; 8], shape)
    }

    fn new(end: End, circuit: [u8; 8], shape: LineShape) -> Link {
        let first_rto = 1_500 + 4 * shape.millis_for(shape.payload + 16);
        Link {
            end,
            circuit,
            shape,
            open: false,
            hello_due: 0,
            hello_backoff: first_rto,
            hello_reply: None,
            acked: 0,
            outgoing: VecDeque::new(),
            next_new: 0,
            in_flight: BTreeMap::new(),
            received: 0,
            out_of_order: BTreeMap::new(),
            inbound: VecDeque::new(),
            ack_due: None,
            srtt: None,
            rttvar: 0.0,
            rto: first_rto,
            line_free_at: 0,
            last_sent: 0,
            last_heard: 0,
            events: Vec::new(),
            stats: LinkStats::default(),
        }
    }

    pub fn end(&self) -> End {
        self.end
    }

    /// An acknowledgement is owed to the other side.
    pub fn ack_pending(&self) -> bool {
        self.ack_due.is_some()
    }

    pub fn circuit(&self) -> [u8; 8] {
        self.circuit
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Queues stream bytes to send.
    pub fn send(&mut self, bytes: &[u8]) {
        self.outgoing.extend(bytes);
    }

    /// Stream bytes queued and not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.outgoing.len()
    }

    /// Takes the stream bytes received in order so far.
    pub fn take_received(&mut self) -> Vec<u8> {
        self.inbound.drain(..).collect()
    }

    pub fn take_events(&mut self) -> Vec<LinkEvent> {
        std::mem::take(&mut self.events)
    }

    /// Milliseconds since anything good arrived.
    pub fn silent_for(&self, now: u64) -> u64 {
        now.saturating_sub(self.last_heard)
    }

    /// The retransmission timeout now, for the driver's idea of a dead line.
    pub fn rto(&self) -> u64 {
        self.rto
    }

    /// A new connection (a call, or the line after a long silence) begins: nothing in flight
    /// survives it, and the circuit must be named again before data moves.
    pub fn reconnect(&mut self, now: u64) {
        // The backoff doubled the resend timer while the line was silent; that silence was
        // the cut, not a slow line. A new call starts again from the measured round trip, or
        // else every frame lost to noise early in a short call waits out a backed-off timer
        // and a line cut every few seconds never gets a sync through.
        if self.srtt.is_some() {
            self.rto = self.measured_rto();
        }
        self.open = false;
        self.in_flight.clear();
        self.next_new = self.acked;
        self.hello_due = now;
        self.hello_backoff = self.rto.max(1_000);
        self.hello_reply = None;
        self.ack_due = None;
        self.line_free_at = now;
        self.last_heard = now;
    }

    /// Feeds frames read from the line.
    pub fn receive(&mut self, now: u64, frames: Vec<Frame>) {
        for frame in frames {
            self.last_heard = now;
            match frame {
                Frame::Hello {
                    circuit,
                    fresh,
                    received,
                } => self.on_hello(now, circuit, fresh, received),
                Frame::Data { offset, bytes } => self.on_data(now, offset, bytes),
                Frame::Ack { received, ranges } => self.on_ack(now, received, &ranges),
            }
        }
    }

    fn on_hello(&mut self, now: u64, circuit: [u8; 8], fresh: bool, peer_holds: u64) {
        match self.end {
            End::Answerer => {
                let ours = circuit == self.circuit && circuit != [0; 8];
                if !ours && !fresh {
                    // A caller resuming a circuit we do not hold (we restarted, or moved on):
                    // adopting it would take its offsets for ours and leave a hole nothing
                    // fills. "Who are you?" makes it start its conversation again.
                    self.hello_reply = Some(Frame::Hello {
                        circuit: [0; 8],
                        fresh: true,
                        received: 0,
                    });
                    return;
                }
                if !ours {
                    // A new conversation: start this end afresh under the caller's id.
                    let shape = self.shape;
                    let stats = self.stats;
                    *self = Link::new(End::Answerer, circuit, shape);
                    self.stats = stats;
                    self.last_heard = now;
                    self.events.push(LinkEvent::NewCircuit(circuit));
                } else {
                    self.rewind_to(peer_holds);
                }
                self.hello_reply = Some(Frame::Hello {
                    circuit,
                    fresh: !ours,
                    received: self.received,
                });
                if !self.open {
                    self.stats.connections += 1;
                }
                self.open = true;
                self.line_free_at = self.line_free_at.max(now);
            }
            End::Caller => {
                if circuit != self.circuit {
                    // An answerer that forgot us says "who are you?" with a zero id.
                    if self.acked > 0 || self.received > 0 {
                        self.events.push(LinkEvent::CircuitLost);
                    } else {
                        self.reconnect(now);
                    }
                    return;
                }
                if self.open {
                    return; // A repeated answer to a repeated HELLO.
                }
                if fresh && (self.acked > 0 || self.received > 0) {
                    self.events.push(LinkEvent::CircuitLost);
                    return;
                }
                self.rewind_to(peer_holds);
                self.open = true;
                self.stats.connections += 1;
            }
        }
    }

    /// The peer holds our stream up to `peer_holds`: forget what it has, resend from there.
    fn rewind_to(&mut self, peer_holds: u64) {
        if peer_holds > self.acked {
            let newly = (peer_holds - self.acked).min(self.outgoing.len() as u64);
            self.outgoing.drain(..newly as usize);
            self.acked += newly;
        }
        self.in_flight.clear();
        self.next_new = self.acked;
    }

    fn on_data(&mut self, now: u64, offset: u64, bytes: Vec<u8>) {
        if !self.open {
            // Data from before our HELLO was answered (or from a caller we forgot): the
            // caller will name its circuit again; an answerer asks it to.
            if self.is_idle_answerer() && self.hello_reply.is_none() {
                self.hello_reply = Some(Frame::Hello {
                    circuit: [0; 8],
                    fresh: true,
                    received: 0,
                });
            }
            return;
        }
        let end = offset + bytes.len() as u64;
        if end <= self.received || bytes.is_empty() {
            self.ack_due = Some(now); // A duplicate: our ACK was lost, say it again.
            return;
        }
        if offset <= self.received {
            let skip = (self.received - offset) as usize;
            self.inbound.extend(&bytes[skip..]);
            self.received = end;
            // Later ranges that now join the prefix.
            while let Some(entry) = self.out_of_order.first_entry() {
                let start = *entry.key();
                if start > self.received {
                    break;
                }
                let bytes = entry.remove();
                let end = start + bytes.len() as u64;
                if end > self.received {
                    let skip = (self.received - start) as usize;
                    self.inbound.extend(&bytes[skip..]);
                    self.received = end;
                }
            }
            let due = now + ACK_DELAY_MILLIS;
            self.ack_due = Some(self.ack_due.map_or(due, |d| d.min(due)));
        } else {
            // A hole before this frame: keep it, and say at once what we hold.
            if self.out_of_order.len() < 256 {
                self.out_of_order.entry(offset).or_insert(bytes);
            }
            self.ack_due = Some(now);
        }
    }

    fn on_ack(&mut self, now: u64, peer_holds: u64, ranges: &[(u64, u64)]) {
        if !self.open {
            return;
        }
        let sent_end = self.acked + self.outgoing.len() as u64;
        if peer_holds > sent_end {
            return; // Nonsense (or from another circuit): ignore.
        }
        if peer_holds > self.acked {
            // Round trip from the newest frame this ACK covers that went only once.
            let sample = self
                .in_flight
                .range(..peer_holds)
                .filter(|(_, f)| f.end <= peer_holds && !f.retransmitted)
                .map(|(_, f)| f.left_at)
                .max();
            if let Some(left_at) = sample {
                self.measure(now.saturating_sub(left_at));
            }
            let newly = (peer_holds - self.acked) as usize;
            self.outgoing.drain(..newly);
            self.acked = peer_holds;
            let kept = self.in_flight.split_off(&peer_holds);
            let mut done = std::mem::replace(&mut self.in_flight, kept);
            // A frame cut by the acknowledged offset (after a resume re-cut the stream): its
            // tail is still owed.
            if let Some((_, straddling)) = done.pop_last()
                && straddling.end > peer_holds
            {
                self.in_flight.insert(
                    peer_holds,
                    InFlight {
                        lost: true,
                        ..straddling
                    },
                );
            }
            if self.next_new < self.acked {
                self.next_new = self.acked;
            }
        }
        // Selectively acknowledged frames are done; frames before the newest of them that are
        // still outstanding and left well before it are taken as lost (fast retransmit).
        let mut newest_sacked_left = None;
        for &(start, end) in ranges {
            let done: Vec<u64> = self
                .in_flight
                .range(start..end)
                .filter(|(_, f)| f.end <= end && f.left_at != u64::MAX)
                .map(|(s, _)| *s)
                .collect();
            for s in done {
                if let Some(frame) = self.in_flight.remove(&s) {
                    newest_sacked_left = newest_sacked_left.max(Some(frame.left_at));
                    // Keep a placeholder so the bytes are never sent again on this connection.
                    self.in_flight.insert(
                        s,
                        InFlight {
                            end: frame.end,
                            left_at: u64::MAX,
                            retransmitted: true,
                            lost: false,
                        },
                    );
                }
            }
        }
        if let Some(newest) = newest_sacked_left {
            for frame in self.in_flight.values_mut() {
                if frame.left_at < newest && frame.left_at != u64::MAX {
                    frame.lost = true;
                }
            }
        }
    }

    fn measure(&mut self, rtt: u64) {
        let rtt = rtt as f64;
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2.0;
            }
            Some(srtt) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (srtt - rtt).abs();
                self.srtt = Some(0.875 * srtt + 0.125 * rtt);
            }
        }
        self.rto = self.measured_rto();
    }

    /// `srtt + 4·rttvar` of the round trips measured so far, between a floor from the line's
    /// speed and [`MAX_RTO_MILLIS`].
    fn measured_rto(&self) -> u64 {
        let floor = 200 + 2 * self.shape.millis_for(self.shape.payload + 16);
        let srtt = self.srtt.unwrap_or(0.0);
        ((srtt + 4.0 * self.rttvar) as u64).clamp(floor, MAX_RTO_MILLIS)
    }

    /// The next frame to write, if the line is free for it now.
    pub fn poll_transmit(&mut self, now: u64) -> Option<Vec<u8>> {
        let frame = self.next_frame(now)?;
        let line = frame.encode();
        let start = self.line_free_at.max(now);
        self.line_free_at = start + self.shape.millis_for(line.len());
        self.last_sent = now;
        self.stats.wire_bytes_sent += line.len() as u64;
        if let Frame::Data { offset, bytes } = &frame {
            let end = offset + bytes.len() as u64;
            let retransmitted = *offset < self.next_new;
            if retransmitted {
                self.stats.retransmitted_bytes += bytes.len() as u64;
            } else {
                self.next_new = end;
            }
            self.in_flight.insert(
                *offset,
                InFlight {
                    end,
                    left_at: self.line_free_at,
                    retransmitted,
                    lost: false,
                },
            );
        }
        Some(line)
    }

    /// Decides what goes next; `None` when nothing may go now.
    fn next_frame(&mut self, now: u64) -> Option<Frame> {
        // Keep at most one frame queued ahead of the line, so an ACK never waits long.
        let ahead = self.shape.millis_for(self.shape.payload + 16);
        if self.line_free_at > now + ahead {
            return None;
        }
        if let Some(reply) = self.hello_reply.take() {
            return Some(reply);
        }
        if !self.open {
            if self.end == End::Caller && now >= self.hello_due {
                self.hello_due = now + self.hello_backoff;
                self.hello_backoff = (self.hello_backoff * 3 / 2).min(MAX_RTO_MILLIS);
                return Some(Frame::Hello {
                    circuit: self.circuit,
                    fresh: self.acked == 0 && self.received == 0,
                    received: self.received,
                });
            }
            return None;
        }
        if self.ack_due.is_some_and(|due| due <= now) {
            return Some(self.ack_frame());
        }
        // Timed out or reported lost: the oldest first.
        let rto = self.rto;
        let due = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.left_at != u64::MAX)
            .find(|(_, f)| f.lost || f.left_at + rto <= now)
            .map(|(&offset, f)| (offset, f.end, !f.lost));
        if let Some((offset, end, timed_out)) = due {
            if timed_out && self.in_flight.keys().next() == Some(&offset) {
                // The oldest frame went unanswered: back off while the line says nothing.
                self.rto = (self.rto * 2).min(MAX_RTO_MILLIS);
            }
            return Some(self.data_frame(offset, end));
        }
        let sent_end = self.acked + self.outgoing.len() as u64;
        if self.next_new < sent_end && self.next_new - self.acked < self.shape.window {
            let end = sent_end.min(self.next_new + self.shape.payload as u64);
            return Some(self.data_frame(self.next_new, end));
        }
        if now.saturating_sub(self.last_sent) >= KEEPALIVE_MILLIS {
            return Some(self.ack_frame());
        }
        None
    }

    fn data_frame(&self, offset: u64, end: u64) -> Frame {
        let from = (offset - self.acked) as usize;
        let to = (end - self.acked) as usize;
        Frame::Data {
            offset,
            bytes: self.outgoing.range(from..to).copied().collect(),
        }
    }

    fn ack_frame(&mut self) -> Frame {
        self.ack_due = None;
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for (&start, bytes) in &self.out_of_order {
            let end = start + bytes.len() as u64;
            match ranges.last_mut() {
                Some(last) if last.1 >= start => last.1 = last.1.max(end),
                _ => ranges.push((start, end)),
            }
        }
        // The newest ranges matter most to the sender's loss detection.
        let skip = ranges.len().saturating_sub(MAX_RANGES);
        Frame::Ack {
            received: self.received,
            ranges: ranges.split_off(skip),
        }
    }

    /// When the driver should call [`Link::poll_transmit`] again even if nothing arrives.
    pub fn next_deadline(&self, now: u64) -> u64 {
        let mut due = now + KEEPALIVE_MILLIS;
        if self.hello_reply.is_some() {
            due = due.min(self.line_free_at);
        }
        if !self.open {
            if self.end == End::Caller {
                due = due.min(self.hello_due);
            }
            return due.max(now + 1);
        }
        if let Some(ack) = self.ack_due {
            due = due.min(ack);
        }
        for frame in self.in_flight.values() {
            if frame.left_at != u64::MAX {
                due = due.min(if frame.lost {
                    now
                } else {
                    frame.left_at + self.rto
                });
            }
        }
        if self.next_new < self.acked + self.outgoing.len() as u64 {
            due = due.min(self.line_free_at);
        }
        let ahead = self.shape.millis_for(self.shape.payload + 16);
        due.max(self.line_free_at.saturating_sub(ahead))
            .max(now + 1)
    }

    /// Everything we sent is acknowledged and nothing is waiting.
    pub fn all_acknowledged(&self) -> bool {
        self.outgoing.is_empty()
    }

    /// The answerer's end before a caller spoke, or after the caller's circuit ended.
    pub fn is_idle_answerer(&self) -> bool {
        self.end == End::Answerer && self.circuit == [0; 8]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::serial::frame::Deframer;

    /// Two ends joined by a simulated line: byte-rate, latency, noise and cuts, in virtual
    /// time. Returns the virtual milliseconds taken to deliver both streams.
    fn run(seed: u64, error_rate: f64, cut_every: Option<u64>, size: usize) -> (u64, LinkStats) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let shape = LineShape::at_baud(9600);
        let latency = 300;
        let mut caller = Link::call(shape);
        let mut answerer = Link::answer(shape);
        let a_data: Vec<u8> = (0..size).map(|_| rng.u8(..)).collect();
        let b_data: Vec<u8> = (0..size / 3).map(|_| rng.u8(..)).collect();
        caller.send(&a_data);
        let mut got_a = Vec::new();
        let mut got_b = Vec::new();
        let mut answerer_loaded = false;
        // (arrival time, byte) per direction.
        let mut to_b: VecDeque<(u64, u8)> = VecDeque::new();
        let mut to_a: VecDeque<(u64, u8)> = VecDeque::new();
        // Microseconds: a byte takes 1,041.7 µs at 960 B/s.
        let mut a_line_free = 0u64;
        let mut b_line_free = 0u64;
        let mut deframe_a = Deframer::default();
        let mut deframe_b = Deframer::default();
        let mut next_cut = cut_every.map(|c| c / 2 + rng.u64(..c));
        let mut now = 0u64;
        caller.reconnect(0);
        while now < 3_600_000 {
            if got_a.len() == a_data.len()
                && got_b.len() == b_data.len()
                && caller.all_acknowledged()
                && answerer.all_acknowledged()
            {
                return (now, caller.stats);
            }
            if let Some(cut) = next_cut
                && now >= cut
            {
                to_a.clear();
                to_b.clear();
                now += 3_000;
                caller.reconnect(now);
                answerer.reconnect(now);
                next_cut = cut_every.map(|c| now + c / 2 + rng.u64(..c));
            }
            for (link, queue, line_free) in [
                (&mut caller, &mut to_b, &mut a_line_free),
                (&mut answerer, &mut to_a, &mut b_line_free),
            ] {
                while let Some(bytes) = link.poll_transmit(now) {
                    for byte in bytes {
                        *line_free = (*line_free).max(now * 1000) + 1_000_000 / 960;
                        let arrives = *line_free / 1000 + latency;
                        if rng.f64() < error_rate {
                            if rng.bool() {
                                continue;
                            }
                            queue.push_back((arrives, byte ^ (1 << rng.u8(0..8))));
                        } else {
                            queue.push_back((arrives, byte));
                        }
                    }
                }
            }
            for (link, queue, deframer) in [
                (&mut answerer, &mut to_b, &mut deframe_b),
                (&mut caller, &mut to_a, &mut deframe_a),
            ] {
                let mut bytes = Vec::new();
                while queue.front().is_some_and(|(at, _)| *at <= now) {
                    bytes.extend(queue.pop_front().map(|(_, b)| b));
                }
                let frames = deframer.push(&bytes);
                link.receive(now, frames);
            }
            assert!(caller.take_events().is_empty());
            answerer.take_events();
            got_a.extend(answerer.take_received());
            got_b.extend(caller.take_received());
            if !answerer_loaded && answerer.is_open() {
                answerer.send(&b_data);
                answerer_loaded = true;
            }
            assert!(a_data.starts_with(&got_a), "seed {seed}: corrupt stream");
            assert!(b_data.starts_with(&got_b), "seed {seed}: corrupt stream");
            now += 5;
        }
        panic!("seed {seed}: did not finish in an hour of line time");
    }

    #[test]
    fn a_clean_line_runs_near_its_byte_rate() {
        let (millis, stats) = run(1, 0.0, None, 20_000);
        // 20,000 + 6,666 bytes each way overlap; the floor is ~21 s of the longer direction.
        let floor = 20_000 * 1000 / 960;
        assert!(millis < floor * 13 / 10, "{millis} ms against {floor}");
        assert_eq!(stats.retransmitted_bytes, 0);
    }

    #[test]
    fn a_noisy_line_delivers_everything_intact_at_a_fair_cost() {
        let (clean, _) = run(7, 0.0, None, 20_000);
        let mut retransmitted = 0;
        for seed in 0..10 {
            let (noisy, stats) = run(seed, 1e-3, None, 20_000);
            assert!(noisy < clean * 2, "seed {seed}: {noisy} ms against {clean}");
            retransmitted += stats.retransmitted_bytes;
        }
        assert!(retransmitted > 0, "the noise never hit a frame");
    }

    #[test]
    fn cuts_resume_without_resending_acknowledged_bytes() {
        for seed in 0..10 {
            let (millis, stats) = run(seed, 1e-3, Some(8_000), 20_000);
            assert!(stats.connections >= 2, "seed {seed}: no cut happened");
            // Only what was in flight at each cut travels again: far less than the stream.
            assert!(
                stats.retransmitted_bytes < 20_000 / 2,
                "seed {seed}: {stats:?} in {millis} ms"
            );
        }
    }

    /// Carries every frame one side has ready to the other, with no loss, at time `now`.
    fn deliver(from: &mut Link, to: &mut Link, now: u64) {
        let mut deframer = Deframer::default();
        let mut frames = Vec::new();
        while let Some(bytes) = from.poll_transmit(now) {
            frames.extend(deframer.push(&bytes));
        }
        to.receive(now, frames);
    }

    #[test]
    fn an_answerer_that_lost_a_circuit_makes_its_caller_start_again() {
        let shape = LineShape::at_baud(9600);
        let mut caller = Link::call(shape);
        let mut answerer = Link::answer(shape);
        caller.reconnect(0);
        caller.send(b"the first half of a conversation");
        let mut now = 0;
        let mut heard = Vec::new();
        while heard.is_empty() || !caller.all_acknowledged() {
            now += 50;
            deliver(&mut caller, &mut answerer, now);
            deliver(&mut answerer, &mut caller, now);
            heard.extend(answerer.take_received());
            assert!(now < 60_000, "the first call never carried the bytes");
        }
        // The answerer restarts (or moved on to another caller) while the line is down.
        answerer = Link::answer(shape);
        now += 5_000;
        caller.reconnect(now);
        answerer.reconnect(now);
        for _ in 0..4 {
            now += 50;
            deliver(&mut caller, &mut answerer, now);
            deliver(&mut answerer, &mut caller, now);
        }
        // Adopting the circuit would have taken the caller's offsets for a stream it never
        // saw; instead the caller learns its conversation is gone.
        assert!(
            !answerer.is_open(),
            "the answerer adopted a circuit it never held"
        );
        assert!(answerer.take_events().is_empty());
        assert_eq!(caller.take_events(), vec![LinkEvent::CircuitLost]);
    }
}
