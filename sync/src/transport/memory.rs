//! Two sessions joined in memory, with faults injected on the way: bytes dropped, the
//! connection cut (truncating whatever frame was in flight), delivery delayed and split into
//! small pieces, bytes corrupted. Deterministic for a given seed, so a failing test replays.

use std::collections::VecDeque;

use crate::protocol::session::{Session, SessionError};
use crate::store::Store;

/// Which way bytes travel: from the first session given to [`run`] to the second, or back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    AToB,
    BToA,
}

/// Something that goes wrong on the link. Offsets count bytes written in that direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The connection ends once this many bytes (both directions together) were delivered.
    CutAfter(u64),
    /// Bytes `[offset, offset + len)` of one direction never arrive.
    Drop {
        direction: Direction,
        offset: u64,
        len: u64,
    },
    /// The byte at `offset` of one direction arrives with its bits flipped.
    Corrupt { direction: Direction, offset: u64 },
}

/// How the link behaves: its faults, plus delivery in pieces of at most `max_chunk` bytes that
/// may wait up to `max_delay` steps, decided by a seeded generator.
#[derive(Clone, Debug)]
pub struct FaultyLink {
    pub faults: Vec<Fault>,
    pub max_chunk: usize,
    pub max_delay: u32,
    pub seed: u64,
}

impl FaultyLink {
    /// A link that delivers everything, in order, at once.
    pub fn perfect() -> FaultyLink {
        FaultyLink {
            faults: Vec::new(),
            max_chunk: usize::MAX,
            max_delay: 0,
            seed: 1,
        }
    }
}

/// How one side's session ended.
#[derive(Debug)]
pub enum SideOutcome {
    Finished,
    Failed(SessionError),
    /// The connection ended (cut, or the peer gave up) before the session finished.
    Disconnected,
}

impl SideOutcome {
    pub fn is_finished(&self) -> bool {
        matches!(self, SideOutcome::Finished)
    }
}

/// How a run over the link ended for each side.
#[derive(Debug)]
pub struct LinkOutcome {
    pub a: SideOutcome,
    pub b: SideOutcome,
    /// The link was cut before both sessions finished.
    pub cut: bool,
    pub bytes_delivered: u64,
    /// Scheduling steps in which bytes moved. On a link without delay or splitting each step
    /// is one one-way trip (both directions at once), so round trips = steps / 2.
    pub delivery_steps: u64,
}

impl LinkOutcome {
    pub fn both_finished(&self) -> bool {
        self.a.is_finished() && self.b.is_finished()
    }
}

struct Pipe {
    direction: Direction,
    written: u64,
    queue: VecDeque<(u64, u8)>,
}

impl Pipe {
    fn new(direction: Direction) -> Pipe {
        Pipe {
            direction,
            written: 0,
            queue: VecDeque::new(),
        }
    }

    /// Accepts bytes from a session, applying drop and corrupt faults by offset.
    fn write(&mut self, bytes: &[u8], faults: &[Fault], ready_at: u64) {
        for &byte in bytes {
            let offset = self.written;
            self.written += 1;
            let mut byte = byte;
            let mut dropped = false;
            for fault in faults {
                match *fault {
                    Fault::Drop {
                        direction,
                        offset: start,
                        len,
                    } if direction == self.direction && offset >= start && offset < start + len => {
                        dropped = true
                    }
                    Fault::Corrupt {
                        direction,
                        offset: at,
                    } if direction == self.direction && offset == at => byte ^= 0xA5,
                    _ => {}
                }
            }
            if !dropped {
                self.queue.push_back((ready_at, byte));
            }
        }
    }

    fn take(&mut self, now: u64, max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.queue.front() {
                Some(&(ready, byte)) if ready <= now => {
                    out.push(byte);
                    self.queue.pop_front();
                }
                _ => break,
            }
        }
        out
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for scheduling decisions in a test link.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Upper bound on scheduling steps; a healthy exchange needs far fewer.
const MAX_STEPS: u64 = 1_000_000;

/// Runs sessions `a` and `b` (with their stores) against each other over `link` until both
/// finish, one fails and the other has nothing left to read, or the link is cut.
pub fn run(
    store_a: &mut Store,
    session_a: &mut Session,
    store_b: &mut Store,
    session_b: &mut Session,
    link: &FaultyLink,
) -> LinkOutcome {
    let cut_after = link.faults.iter().find_map(|f| match f {
        Fault::CutAfter(n) => Some(*n),
        _ => None,
    });
    let mut rng = Rng(link.seed.max(1));
    let mut a_to_b = Pipe::new(Direction::AToB);
    let mut b_to_a = Pipe::new(Direction::BToA);
    let mut result_a: Option<SideOutcome> = None;
    let mut result_b: Option<SideOutcome> = None;
    let mut delivered: u64 = 0;
    let mut cut = false;
    let mut delivery_steps: u64 = 0;

    for step in 0..MAX_STEPS {
        for (store, session, pipe, result) in [
            (&mut *store_a, &mut *session_a, &mut a_to_b, &mut result_a),
            (&mut *store_b, &mut *session_b, &mut b_to_a, &mut result_b),
        ] {
            loop {
                match session.poll_transmit(store) {
                    Ok(Some(bytes)) => {
                        let ready = step + rng.below(u64::from(link.max_delay) + 1);
                        pipe.write(&bytes, &link.faults, ready);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        result.get_or_insert(SideOutcome::Failed(e));
                        break;
                    }
                }
            }
            if session.is_finished() {
                result.get_or_insert(SideOutcome::Finished);
            }
        }
        if result_a.is_some() && result_b.is_some() {
            break;
        }
        let a_first = rng.below(2) == 0;
        let mut progressed = false;
        for turn in 0..2 {
            let forward = (turn == 0) == a_first;
            let (pipe, store, session, result) = if forward {
                (&mut a_to_b, &mut *store_b, &mut *session_b, &mut result_b)
            } else {
                (&mut b_to_a, &mut *store_a, &mut *session_a, &mut result_a)
            };
            let mut max = link.max_chunk.max(1);
            if let Some(limit) = cut_after {
                max = max.min(limit.saturating_sub(delivered) as usize);
            }
            let chunk = pipe.take(step, max);
            if chunk.is_empty() {
                continue;
            }
            progressed = true;
            delivered += chunk.len() as u64;

            if result.is_none()
                && let Err(e) = session.receive(store, &chunk)
            {
                *result = Some(SideOutcome::Failed(e));
            }
        }
        if progressed {
            delivery_steps += 1;
        }
        if cut_after.is_some_and(|limit| delivered >= limit) {
            cut = true;
            break;
        }
        let in_flight = !a_to_b.queue.is_empty() || !b_to_a.queue.is_empty();
        if !progressed && !in_flight {
            // Nothing moves: whoever has not finished is waiting for bytes that will never
            // come (its peer failed). That is a closed connection from its point of view.
            break;
        }
    }
    LinkOutcome {
        a: result_a.unwrap_or(SideOutcome::Disconnected),
        b: result_b.unwrap_or(SideOutcome::Disconnected),
        cut,
        bytes_delivered: delivered,
        delivery_steps,
    }
}

/// Runs two authenticated sessions against each other in memory until neither has anything
/// more to say. `tamper` sees every chunk on its way (`true`: from `a`) and may change it.
/// Returns each side's first error, if any, and how many one-way trips carried bytes (two
/// make a round trip).
pub fn pump_secure(
    a: &mut crate::protocol::secure::SecureSession,
    store_a: &mut Store,
    b: &mut crate::protocol::secure::SecureSession,
    store_b: &mut Store,
    mut tamper: impl FnMut(bool, &mut Vec<u8>),
) -> (
    Result<(), crate::protocol::secure::SecureError>,
    Result<(), crate::protocol::secure::SecureError>,
    usize,
) {
    let (mut result_a, mut result_b) = (Ok(()), Ok(()));
    let mut trips = 0;
    loop {
        let mut moved = false;
        let mut sent = false;
        while let Ok(Some(mut bytes)) = a.poll_transmit(store_a) {
            moved = true;
            sent = true;
            tamper(true, &mut bytes);
            if let Err(e) = b.receive(store_b, &bytes)
                && result_b.is_ok()
            {
                result_b = Err(e);
            }
        }
        trips += usize::from(sent);
        let mut sent = false;
        while let Ok(Some(mut bytes)) = b.poll_transmit(store_b) {
            moved = true;
            sent = true;
            tamper(false, &mut bytes);
            if let Err(e) = a.receive(store_a, &bytes)
                && result_a.is_ok()
            {
                result_a = Err(e);
            }
        }
        trips += usize::from(sent);
        if !moved {
            return (result_a, result_b, trips);
        }
    }
}

/// Enrols `device` with `hub` in memory, using a code the hub made. For tests and tools that
/// hold both stores; devices in the field enrol over TCP (`tcp::enrol_with`).
pub fn enrol_in_memory(
    device: &mut Store,
    hub: &mut Store,
    code: crate::trust::EnrolmentCode,
    now: u64,
) -> Result<crate::trust::Grant, crate::protocol::secure::SecureError> {
    use crate::protocol::secure::{LinkTrust, Purpose, SecureError, SecureSession};
    let trust_d = LinkTrust::load(device, now)?;
    let trust_h = LinkTrust::load(hub, now)?;
    let options = crate::protocol::session::SessionOptions::default();
    let mut d = SecureSession::initiate(device, Purpose::Enrol(code), trust_d, options.clone())?;
    let mut h = SecureSession::respond(hub, trust_h, options)?;
    let (rd, rh, _) = pump_secure(&mut d, device, &mut h, hub, |_, _| {});
    rd?;
    rh?;
    d.grant()
        .cloned()
        .ok_or(SecureError::Enrol("the hub sent no grant"))
}

/// A slow line in simulated time: each direction carries `bytes_per_second`, and the
/// connection is cut `cut_after_millis` after it opened (never, if `None`). Both sessions are
/// told the simulated time, so they pace their batches as they would on a real line.
#[derive(Clone, Copy, Debug)]
pub struct SlowLink {
    pub bytes_per_second: u64,
    pub cut_after_millis: Option<u64>,
}

/// How a run over a [`SlowLink`] ended.
#[derive(Debug)]
pub struct SlowOutcome {
    pub a: SideOutcome,
    pub b: SideOutcome,
    pub cut: bool,
    /// Bytes that crossed the line, both directions.
    pub bytes_delivered: u64,
    /// Simulated milliseconds the connection lasted.
    pub millis: u64,
}

impl SlowOutcome {
    pub fn both_finished(&self) -> bool {
        self.a.is_finished() && self.b.is_finished()
    }
}

/// Runs sessions `a` and `b` over a [`SlowLink`] in steps of 10 simulated milliseconds, until
/// both finish, one fails, nothing moves any more, or the link is cut. Bytes a session wrote
/// that had not crossed when the link was cut are lost, as on a real line.
pub fn run_slow(
    store_a: &mut Store,
    session_a: &mut Session,
    store_b: &mut Store,
    session_b: &mut Session,
    link: SlowLink,
) -> SlowOutcome {
    const STEP_MILLIS: u64 = 10;
    let per_step = (link.bytes_per_second * STEP_MILLIS / 1000).max(1) as usize;
    let mut a_to_b: VecDeque<u8> = VecDeque::new();
    let mut b_to_a: VecDeque<u8> = VecDeque::new();
    let mut result_a: Option<SideOutcome> = None;
    let mut result_b: Option<SideOutcome> = None;
    let mut delivered = 0u64;
    let mut now = 0u64;
    let mut idle_steps = 0u64;
    loop {
        for (store, session, pipe, result) in [
            (&mut *store_a, &mut *session_a, &mut a_to_b, &mut result_a),
            (&mut *store_b, &mut *session_b, &mut b_to_a, &mut result_b),
        ] {
            session.note_time(now);
            loop {
                match session.poll_transmit(store) {
                    Ok(Some(bytes)) => pipe.extend(bytes),
                    Ok(None) => break,
                    Err(e) => {
                        result.get_or_insert(SideOutcome::Failed(e));
                        break;
                    }
                }
            }
            if session.is_finished() {
                result.get_or_insert(SideOutcome::Finished);
            }
        }
        if result_a.is_some() && result_b.is_some() {
            break;
        }
        if link.cut_after_millis.is_some_and(|cut| now >= cut) {
            return SlowOutcome {
                a: result_a.unwrap_or(SideOutcome::Disconnected),
                b: result_b.unwrap_or(SideOutcome::Disconnected),
                cut: true,
                bytes_delivered: delivered,
                millis: now,
            };
        }
        now += STEP_MILLIS;
        let mut moved = false;
        for (pipe, store, session, result) in [
            (&mut a_to_b, &mut *store_b, &mut *session_b, &mut result_b),
            (&mut b_to_a, &mut *store_a, &mut *session_a, &mut result_a),
        ] {
            let n = per_step.min(pipe.len());
            if n == 0 {
                continue;
            }
            moved = true;
            let chunk: Vec<u8> = pipe.drain(..n).collect();
            delivered += n as u64;
            session.note_time(now);
            if result.is_none()
                && let Err(e) = session.receive(store, &chunk)
            {
                *result = Some(SideOutcome::Failed(e));
            }
        }
        idle_steps = if moved { 0 } else { idle_steps + 1 };
        if idle_steps > 2 {
            break;
        }
    }
    SlowOutcome {
        a: result_a.unwrap_or(SideOutcome::Disconnected),
        b: result_b.unwrap_or(SideOutcome::Disconnected),
        cut: false,
        bytes_delivered: delivered,
        millis: now,
    }
}
