//! The exchange: the two wires between ends A and B, the cuts that hit them, and in modem
//! mode a Hayes modem at each end and the phone call that joins them.
//!
//! It is sans-I/O: it is told what each client wrote and what time it is, leaves what each
//! client should read in that side's outbox, and says when it next needs to be woken. It
//! reads no clock and opens no file (`serve.rs` does both), so its tests run a whole call
//! in microseconds with made-up times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::{LineConfig, Mode};
use crate::hayes::{Command, Reply, parse_line};
use crate::wire::{TRANSMIT_QUEUE, Wire, WireCounts};

/// One end of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::A, Side::B];

    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

/// The gap between two `RING`s, as on a phone line.
const RING_INTERVAL: Duration = Duration::from_secs(2);
/// How long a caller listens to the engaged tone before the modem says `BUSY`.
const BUSY_DELAY: Duration = Duration::from_secs(1);
/// Bytes kept for a client that does not read its pty; the line's bytes beyond it are lost
/// (counted), so a stalled client cannot make the instrument grow without bound.
const OUTBOX_LIMIT: usize = 64 * 1024;
/// The longest command line a modem keeps; a longer one answers `ERROR`.
const COMMAND_LINE_LIMIT: usize = 255;

/// The modems' registers after `ATZ`: S0 (rings before auto-answer) is 0, so a modem answers
/// only when told to; the rest are the usual Hayes values, kept only to be read back.
const DEFAULT_REGISTERS: [(usize, u8); 13] = [
    (0, 0),
    (1, 0),
    (2, 43),
    (3, 13),
    (4, 10),
    (5, 8),
    (6, 2),
    (7, 50),
    (8, 2),
    (9, 6),
    (10, 14),
    (11, 95),
    (12, 50),
];

/// What the exchange has counted since it started, for the stats file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub a_to_b: WireCounts,
    pub b_to_a: WireCounts,
    /// Times the line was cut.
    pub cuts: u64,
    pub calls_connected: u64,
    /// Calls ended by `ATH` (or `ATZ`) on either side.
    pub calls_hung_up: u64,
    /// Calls ended by a cut.
    pub calls_dropped: u64,
}

/// Where one modem stands in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    /// Command mode, no call.
    OnHook,
    /// Dialled; the result comes at `outcome_at` unless the other modem answers first.
    Dialling {
        outcome_at: Instant,
        outcome: DialOutcome,
    },
    /// Being called: the next `RING` is due at `next_ring`.
    Ringing { next_ring: Instant, rings: u32 },
    /// In a call, passing bytes in data mode or taking commands in online command mode.
    /// `carrier_lost_at`: the other side hung up, and the carrier goes at that moment.
    Connected {
        data_mode: bool,
        carrier_lost_at: Option<Instant>,
    },
}

/// What a dial comes to if nobody answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialOutcome {
    Busy,
    NoAnswer,
}

/// Watches data mode for the escape: `+++` with a guard time of silence on both sides.
#[derive(Debug)]
struct EscapeWatch {
    guard: Duration,
    last_input: Instant,
    pluses: u8,
    last_plus: Instant,
}

impl EscapeWatch {
    fn new(guard: Duration, now: Instant) -> Self {
        EscapeWatch {
            guard,
            last_input: now,
            pluses: 0,
            last_plus: now,
        }
    }

    /// Data mode (re)starts: the silence before an escape counts from now.
    fn restart(&mut self, now: Instant) {
        self.last_input = now;
        self.pluses = 0;
    }

    fn saw(&mut self, byte: u8, now: Instant) {
        let continues =
            matches!(self.pluses, 1 | 2) && now.duration_since(self.last_plus) <= self.guard;
        let starts = now.duration_since(self.last_input) >= self.guard;
        self.pluses = match byte {
            b'+' if continues => self.pluses + 1,
            b'+' if starts => 1,
            _ => 0,
        };
        if self.pluses > 0 {
            self.last_plus = now;
        }
        self.last_input = now;
    }

    /// When the modem leaves data mode, if the three `+` have come and nothing after them.
    fn due(&self) -> Option<Instant> {
        (self.pluses == 3).then(|| self.last_plus + self.guard)
    }
}

#[derive(Debug)]
struct Modem {
    echo: bool,
    registers: [u8; 256],
    /// The command line typed so far, without its CR.
    typed: Vec<u8>,
    typed_too_long: bool,
    state: CallState,
    escape: EscapeWatch,
}

impl Modem {
    fn new(guard: Duration, now: Instant) -> Self {
        let mut modem = Modem {
            echo: true,
            registers: [0; 256],
            typed: Vec::new(),
            typed_too_long: false,
            state: CallState::OnHook,
            escape: EscapeWatch::new(guard, now),
        };
        modem.reset_settings();
        modem
    }

    fn reset_settings(&mut self) {
        self.echo = true;
        self.registers = [0; 256];
        for (index, value) in DEFAULT_REGISTERS {
            self.registers[index] = value;
        }
    }

    fn in_call(&self) -> bool {
        matches!(self.state, CallState::Connected { .. })
    }

    fn in_data_mode(&self) -> bool {
        matches!(
            self.state,
            CallState::Connected {
                data_mode: true,
                ..
            }
        )
    }
}

/// When the line is next cut, and until when a plain line stays dead.
#[derive(Debug)]
struct CutSchedule {
    mean_gap: Option<Duration>,
    rng: fastrand::Rng,
    next_cut: Option<Instant>,
    dead_until: Option<Instant>,
}

impl CutSchedule {
    /// Cuts come as a Poisson process: exponentially distributed gaps with the given mean.
    fn schedule_after(&mut self, now: Instant) {
        self.next_cut = self.mean_gap.and_then(|mean| {
            let gap = -(1.0 - self.rng.f64()).ln() * mean.as_secs_f64();
            now.checked_add(Duration::try_from_secs_f64(gap).ok()?)
        });
    }
}

/// Both ends, both wires, and in modem mode both modems.
#[derive(Debug)]
pub struct Exchange {
    config: LineConfig,
    /// `wires[A]` carries A→B, `wires[B]` carries B→A.
    wires: [Wire; 2],
    modems: [Modem; 2],
    outboxes: [VecDeque<u8>; 2],
    cuts: CutSchedule,
    stats: Stats,
}

impl Exchange {
    pub fn new(config: LineConfig, now: Instant) -> Self {
        // One generator per direction and one for cuts, each seeded from the run's seed, so
        // a byte's damage does not depend on how much went the other way.
        let mut seeds = fastrand::Rng::with_seed(config.seed);
        let wire = |seed| {
            Wire::new(
                config.byte_time(),
                config.latency,
                config.error_rate,
                seed,
                now,
            )
        };
        let wires = [wire(seeds.u64(..)), wire(seeds.u64(..))];
        let mut cuts = CutSchedule {
            mean_gap: config.cut_mean.filter(|mean| !mean.is_zero()),
            rng: fastrand::Rng::with_seed(seeds.u64(..)),
            next_cut: None,
            dead_until: None,
        };
        cuts.schedule_after(now);
        Exchange {
            modems: [Modem::new(config.guard, now), Modem::new(config.guard, now)],
            config,
            wires,
            outboxes: [VecDeque::new(), VecDeque::new()],
            cuts,
            stats: Stats::default(),
        }
    }

    /// The client on `side` wrote `bytes`, read at `now`.
    pub fn from_client(&mut self, side: Side, bytes: &[u8], now: Instant) {
        self.tick(now);
        match self.config.mode {
            Mode::Plain if self.cuts.dead_until.is_some() => {
                self.wires[side.index()].counts.lost += bytes.len() as u64;
            }
            Mode::Plain => {
                for &byte in bytes {
                    self.wires[side.index()].send(byte, now);
                }
            }
            Mode::Modem => {
                for &byte in bytes {
                    self.modem_input(side, byte, now);
                }
            }
        }
        self.tick(now);
    }

    /// Whether to read more from `side`'s client. No while its transmitter has a full queue:
    /// the pty's own buffer then fills and the client's writes block (back-pressure, not
    /// loss).
    pub fn wants_input(&self, side: Side) -> bool {
        let filling_the_wire =
            self.config.mode == Mode::Plain || self.modems[side.index()].in_data_mode();
        !filling_the_wire || self.wires[side.index()].waiting() < TRANSMIT_QUEUE
    }

    /// What `side`'s client has to read: taken from the front as it is written to the pty.
    pub fn outbox(&mut self, side: Side) -> &mut VecDeque<u8> {
        &mut self.outboxes[side.index()]
    }

    pub fn stats(&self) -> Stats {
        Stats {
            a_to_b: self.wires[0].counts,
            b_to_a: self.wires[1].counts,
            ..self.stats
        }
    }

    /// The next moment something happens without any client writing.
    pub fn next_wake(&self) -> Option<Instant> {
        let wires = self.wires.iter().filter_map(Wire::next_event);
        wires.chain(self.next_timer()).min()
    }

    /// Brings everything up to `now`: bytes move, rings ring, escapes and cuts happen, each at
    /// its own moment and in order.
    pub fn tick(&mut self, now: Instant) {
        while let Some(at) = self.next_timer().filter(|at| *at <= now) {
            self.move_bytes(at);
            self.fire_timers(at);
        }
        self.move_bytes(now);
    }

    fn next_timer(&self) -> Option<Instant> {
        let modems = self.modems.iter().filter_map(|modem| match modem.state {
            CallState::OnHook => None,
            CallState::Dialling { outcome_at, .. } => Some(outcome_at),
            CallState::Ringing { next_ring, .. } => Some(next_ring),
            CallState::Connected {
                data_mode,
                carrier_lost_at,
            } => {
                let escape = if data_mode { modem.escape.due() } else { None };
                [carrier_lost_at, escape].into_iter().flatten().min()
            }
        });
        modems
            .chain(self.cuts.next_cut)
            .chain(self.cuts.dead_until)
            .min()
    }

    fn move_bytes(&mut self, now: Instant) {
        for sender in Side::BOTH {
            let arrived = self.wires[sender.index()].advance(now);
            if arrived.is_empty() {
                continue;
            }
            let receiver = sender.other();
            let listening =
                self.config.mode == Mode::Plain || self.modems[receiver.index()].in_data_mode();
            let outbox = &mut self.outboxes[receiver.index()];
            let room = if listening {
                OUTBOX_LIMIT.saturating_sub(outbox.len())
            } else {
                0
            };
            let taken = arrived.len().min(room);
            outbox.extend(&arrived[..taken]);
            let counts = &mut self.wires[sender.index()].counts;
            counts.delivered += taken as u64;
            counts.lost += (arrived.len() - taken) as u64;
        }
    }

    /// Handles every timer due at or before `at`; each one handled moves past `at`, so
    /// `tick` always ends.
    fn fire_timers(&mut self, at: Instant) {
        if self.cuts.next_cut.is_some_and(|cut| cut <= at) {
            self.cut(at);
        }
        if self.cuts.dead_until.is_some_and(|until| until <= at) {
            self.cuts.dead_until = None;
            self.cuts.schedule_after(at);
        }
        for side in Side::BOTH {
            self.modem_timers(side, at);
        }
    }

    /// The line goes dead: what it carries is lost. A plain line stays dead for the cut's
    /// length; in modem mode the call drops and the modems may dial again at once.
    fn cut(&mut self, at: Instant) {
        self.stats.cuts += 1;
        for wire in &mut self.wires {
            wire.lose_all();
        }
        match self.config.mode {
            Mode::Plain => {
                self.cuts.next_cut = None;
                self.cuts.dead_until = Some(at + self.config.cut_length);
            }
            Mode::Modem => {
                let whole_call = self.modems.iter().any(|modem| {
                    matches!(
                        modem.state,
                        CallState::Connected {
                            carrier_lost_at: None,
                            ..
                        }
                    )
                });
                if whole_call {
                    self.stats.calls_dropped += 1;
                }
                for side in Side::BOTH {
                    if self.modems[side.index()].in_call() {
                        self.modems[side.index()].state = CallState::OnHook;
                        self.say(side, Reply::NoCarrier);
                    }
                }
                self.cuts.schedule_after(at);
            }
        }
    }

    fn modem_timers(&mut self, side: Side, at: Instant) {
        let modem = &mut self.modems[side.index()];
        match modem.state {
            CallState::Dialling {
                outcome_at,
                outcome,
            } if outcome_at <= at => {
                modem.state = CallState::OnHook;
                match outcome {
                    DialOutcome::Busy => self.say(side, Reply::Busy),
                    DialOutcome::NoAnswer => {
                        self.stop_ringing(side.other());
                        self.say(side, Reply::NoCarrier);
                    }
                }
            }
            CallState::Ringing { next_ring, rings } if next_ring <= at => {
                let rings = rings + 1;
                modem.state = CallState::Ringing {
                    next_ring: next_ring + RING_INTERVAL,
                    rings,
                };
                let auto_answer = u32::from(modem.registers[0]);
                self.say(side, Reply::Ring);
                if auto_answer > 0 && rings >= auto_answer {
                    self.connect(at);
                }
            }
            CallState::Connected {
                carrier_lost_at: Some(lost),
                ..
            } if lost <= at => {
                modem.state = CallState::OnHook;
                for wire in &mut self.wires {
                    wire.lose_all();
                }
                self.say(side, Reply::NoCarrier);
            }
            CallState::Connected {
                data_mode: true,
                carrier_lost_at,
            } if modem.escape.due().is_some_and(|due| due <= at) => {
                modem.state = CallState::Connected {
                    data_mode: false,
                    carrier_lost_at,
                };
                modem.escape.restart(at);
                self.say(side, Reply::Ok);
            }
            _ => {}
        }
    }

    fn modem_input(&mut self, side: Side, byte: u8, now: Instant) {
        let modem = &mut self.modems[side.index()];
        match modem.state {
            CallState::Connected {
                data_mode: true,
                carrier_lost_at,
            } => {
                // The `+` of an escape are sent too, as a real modem cannot know in advance.
                modem.escape.saw(byte, now);
                let wire = &mut self.wires[side.index()];
                if carrier_lost_at.is_some() {
                    wire.counts.lost += 1;
                } else {
                    wire.send(byte, now);
                }
            }
            // A key pressed while dialling abandons the call, as on a real modem; CR and LF
            // are let through because clients often end the dial line with CR LF.
            CallState::Dialling { .. } if byte == b'\r' || byte == b'\n' => {}
            CallState::Dialling { .. } => {
                modem.state = CallState::OnHook;
                self.stop_ringing(side.other());
                self.say(side, Reply::NoCarrier);
            }
            _ => self.command_char(side, byte, now),
        }
    }

    fn command_char(&mut self, side: Side, byte: u8, now: Instant) {
        let modem = &mut self.modems[side.index()];
        if modem.echo {
            self.outboxes[side.index()].push_back(byte);
        }
        match byte {
            b'\r' => {
                let typed = std::mem::take(&mut modem.typed);
                let too_long = std::mem::take(&mut modem.typed_too_long);
                self.run_line(side, &typed, too_long, now);
            }
            b'\n' => {}
            // Backspace and delete, for someone typing at the modem in a terminal.
            0x08 | 0x7f => {
                modem.typed.pop();
            }
            _ if modem.typed.len() < COMMAND_LINE_LIMIT => modem.typed.push(byte),
            _ => modem.typed_too_long = true,
        }
    }

    fn run_line(&mut self, side: Side, typed: &[u8], too_long: bool, now: Instant) {
        let commands = match parse_line(typed) {
            None => return,
            Some(Ok(_)) if too_long => return self.say(side, Reply::Error),
            Some(Err(_)) => return self.say(side, Reply::Error),
            Some(Ok(commands)) => commands,
        };
        let mut reply = Some(Reply::Ok);
        for command in commands {
            match command {
                Command::Echo(on) => self.modems[side.index()].echo = on,
                Command::SetRegister { index, value } => {
                    self.modems[side.index()].registers[usize::from(index)] = value;
                }
                Command::QueryRegister(index) => {
                    let value = self.modems[side.index()].registers[usize::from(index)];
                    self.say_text(side, &format!("\r\n{value:03}\r\n"));
                }
                Command::Reset => {
                    self.hang_up(side, now);
                    self.modems[side.index()].reset_settings();
                }
                Command::HangUp => self.hang_up(side, now),
                Command::Accepted => {}
                Command::Dial { number } => reply = self.dial(side, &number, now),
                Command::Answer => reply = self.answer(side, now),
                Command::Online => reply = Some(self.go_online(side, now)),
            }
        }
        if let Some(reply) = reply {
            self.say(side, reply);
        }
    }

    /// Starts a call. `None`: the result comes later (`CONNECT`, `BUSY` or `NO CARRIER`).
    fn dial(&mut self, side: Side, number: &str, now: Instant) -> Option<Reply> {
        if self.modems[side.index()].in_call() {
            return Some(Reply::Error);
        }
        if !self.config.dialtone {
            return Some(Reply::NoDialtone);
        }
        let engaged = self.config.busy_number.as_deref() == Some(number)
            || self.modems[side.other().index()].state != CallState::OnHook;
        let (wait, outcome) = if engaged {
            (BUSY_DELAY, DialOutcome::Busy)
        } else {
            self.modems[side.other().index()].state = CallState::Ringing {
                next_ring: now,
                rings: 0,
            };
            (self.config.answer_timeout, DialOutcome::NoAnswer)
        };
        self.modems[side.index()].state = CallState::Dialling {
            outcome_at: now + wait,
            outcome,
        };
        None
    }

    fn answer(&mut self, side: Side, now: Instant) -> Option<Reply> {
        match self.modems[side.index()].state {
            CallState::Ringing { .. } => {
                self.connect(now);
                None
            }
            CallState::Connected { .. } => Some(Reply::Error),
            // Nobody is calling: a real modem would wait for a carrier that never comes.
            _ => Some(Reply::NoCarrier),
        }
    }

    /// Both modems go to data mode in a fresh call.
    fn connect(&mut self, now: Instant) {
        self.stats.calls_connected += 1;
        for wire in &mut self.wires {
            wire.lose_all();
        }
        for side in Side::BOTH {
            let modem = &mut self.modems[side.index()];
            modem.state = CallState::Connected {
                data_mode: true,
                carrier_lost_at: None,
            };
            modem.escape.restart(now);
            self.say(side, Reply::Connect(self.config.baud));
        }
    }

    fn go_online(&mut self, side: Side, now: Instant) -> Reply {
        let modem = &mut self.modems[side.index()];
        match modem.state {
            CallState::Connected {
                data_mode: false,
                carrier_lost_at: None,
            } => {
                modem.state = CallState::Connected {
                    data_mode: true,
                    carrier_lost_at: None,
                };
                modem.escape.restart(now);
                Reply::Connect(self.config.baud)
            }
            _ => {
                if modem.in_call() {
                    modem.state = CallState::OnHook;
                }
                Reply::NoCarrier
            }
        }
    }

    /// `side` hangs up. What it already sent still arrives; then the other modem loses the
    /// carrier, one line delay later at the soonest, and says `NO CARRIER`.
    fn hang_up(&mut self, side: Side, now: Instant) {
        let CallState::Connected {
            carrier_lost_at, ..
        } = self.modems[side.index()].state
        else {
            return;
        };
        self.modems[side.index()].state = CallState::OnHook;
        if carrier_lost_at.is_some() {
            // The other side hung up first; this call is already counted.
            return;
        }
        self.stats.calls_hung_up += 1;
        self.wires[side.index()].lose_waiting();
        self.wires[side.other().index()].lose_all();
        let last_byte = self.wires[side.index()].last_arrival().unwrap_or(now);
        let carrier_gone = (now + self.config.latency).max(last_byte);
        if let CallState::Connected {
            carrier_lost_at, ..
        } = &mut self.modems[side.other().index()].state
        {
            *carrier_lost_at = Some(carrier_gone);
        }
    }

    fn stop_ringing(&mut self, side: Side) {
        let modem = &mut self.modems[side.index()];
        if matches!(modem.state, CallState::Ringing { .. }) {
            modem.state = CallState::OnHook;
        }
    }

    fn say(&mut self, side: Side, reply: Reply) {
        self.say_text(side, &reply.text());
    }

    fn say_text(&mut self, side: Side, text: &str) {
        self.outboxes[side.index()].extend(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// An exchange with a clock the test moves by hand.
    struct Bench {
        exchange: Exchange,
        now: Instant,
    }

    impl Bench {
        fn new(config: LineConfig) -> Self {
            let now = Instant::now();
            Bench {
                exchange: Exchange::new(config, now),
                now,
            }
        }

        fn modems() -> Self {
            let mut config = LineConfig::clean(Mode::Modem);
            config.baud = 115_200;
            config.latency = 50 * MS;
            config.guard = 200 * MS;
            config.answer_timeout = Duration::from_secs(5);
            config.busy_number = Some("555".into());
            Bench::new(config)
        }

        fn wait(&mut self, time: Duration) {
            self.now += time;
            self.exchange.tick(self.now);
        }

        fn write(&mut self, side: Side, text: &str) {
            self.exchange.from_client(side, text.as_bytes(), self.now);
        }

        /// Everything `side` has to read, as text.
        fn read(&mut self, side: Side) -> String {
            let bytes: Vec<u8> = self.exchange.outbox(side).drain(..).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }

        fn call(&mut self) {
            self.write(Side::A, "ATE0\r");
            self.write(Side::B, "ATE0\r");
            self.read(Side::A);
            self.read(Side::B);
            self.write(Side::A, "ATD123\r");
            assert_eq!(self.read(Side::B), "\r\nRING\r\n");
            self.write(Side::B, "ATA\r");
            assert_eq!(self.read(Side::A), "\r\nCONNECT 115200\r\n");
            assert_eq!(self.read(Side::B), "\r\nCONNECT 115200\r\n");
        }
    }

    #[test]
    fn a_plain_line_delays_and_paces_bytes() {
        let mut bench = Bench::new(LineConfig::clean(Mode::Plain));
        bench.write(Side::A, "0123456789");
        bench.wait(300 * MS);
        assert_eq!(bench.read(Side::B), "");
        // At 9600 baud a byte takes 1.04 ms, so ten bytes have arrived after 310.5 ms.
        bench.wait(10 * MS);
        assert_eq!(bench.read(Side::B), "012345678");
        bench.wait(MS);
        assert_eq!(bench.read(Side::B), "9");
        assert_eq!(bench.exchange.stats().a_to_b.delivered, 10);
    }

    #[test]
    fn a_full_transmit_queue_stops_reading() {
        let mut bench = Bench::new(LineConfig::clean(Mode::Plain));
        bench.write(Side::A, &"x".repeat(TRANSMIT_QUEUE + 1));
        assert!(!bench.exchange.wants_input(Side::A));
        assert!(bench.exchange.wants_input(Side::B));
        bench.wait(100 * MS);
        assert!(bench.exchange.wants_input(Side::A));
    }

    #[test]
    fn commands_echo_and_answer() {
        let mut bench = Bench::modems();
        bench.write(Side::A, "AT\r");
        assert_eq!(bench.read(Side::A), "AT\r\r\nOK\r\n");
        bench.write(Side::A, "ATE0\r");
        assert_eq!(bench.read(Side::A), "ATE0\r\r\nOK\r\n");
        bench.write(Side::A, "ats0=2s0?\r");
        assert_eq!(bench.read(Side::A), "\r\n002\r\n\r\nOK\r\n");
        bench.write(Side::A, "ATQ5\r");
        assert_eq!(bench.read(Side::A), "\r\nERROR\r\n");
        bench.write(Side::A, "noise\r\n");
        assert_eq!(bench.read(Side::A), "");
        bench.write(Side::A, "ATZ\r");
        assert_eq!(bench.read(Side::A), "\r\nOK\r\n");
        bench.write(Side::A, "ATS0?\r");
        assert_eq!(bench.read(Side::A), "ATS0?\r\r\n000\r\n\r\nOK\r\n");
        bench.write(Side::A, "ATO\r");
        assert_eq!(bench.read(Side::A), "ATO\r\r\nNO CARRIER\r\n");
    }

    #[test]
    fn a_call_passes_data_escapes_and_hangs_up() {
        let mut bench = Bench::modems();
        bench.call();
        bench.write(Side::A, "hello");
        bench.write(Side::B, "hi");
        bench.wait(100 * MS);
        assert_eq!(bench.read(Side::B), "hello");
        assert_eq!(bench.read(Side::A), "hi");

        bench.wait(300 * MS);
        bench.write(Side::A, "+++");
        bench.wait(199 * MS);
        assert_eq!(bench.read(Side::A), "");
        bench.wait(MS);
        assert_eq!(bench.read(Side::A), "\r\nOK\r\n");
        assert_eq!(bench.read(Side::B), "+++");

        bench.write(Side::A, "ATO\r");
        assert_eq!(bench.read(Side::A), "\r\nCONNECT 115200\r\n");
        bench.wait(300 * MS);
        bench.write(Side::A, "+++");
        bench.wait(300 * MS);
        assert_eq!(bench.read(Side::A), "\r\nOK\r\n");
        bench.write(Side::A, "ATH\r");
        assert_eq!(bench.read(Side::A), "\r\nOK\r\n");
        bench.wait(49 * MS);
        assert_eq!(bench.read(Side::B), "+++");
        bench.wait(MS);
        assert_eq!(bench.read(Side::B), "\r\nNO CARRIER\r\n");
        let stats = bench.exchange.stats();
        assert_eq!((stats.calls_connected, stats.calls_hung_up), (1, 1));

        // Both are back in command mode, and may call again.
        bench.write(Side::B, "ATD1\r");
        assert_eq!(bench.read(Side::A), "\r\nRING\r\n");
    }

    #[test]
    fn plus_signs_without_guard_time_are_data() {
        let mut bench = Bench::modems();
        bench.call();
        bench.write(Side::A, "a+++");
        bench.wait(Duration::from_secs(1));
        bench.write(Side::A, "++");
        bench.wait(100 * MS);
        bench.write(Side::A, "+b");
        bench.wait(Duration::from_secs(1));
        assert_eq!(bench.read(Side::A), "");
        assert_eq!(bench.read(Side::B), "a++++++b");
    }

    #[test]
    fn dials_meet_busy_lines_no_dialtone_and_no_answer() {
        let mut bench = Bench::modems();
        bench.write(Side::A, "ATE0\r");
        bench.read(Side::A);
        bench.write(Side::A, "ATDT555\r");
        bench.wait(999 * MS);
        assert_eq!(bench.read(Side::A), "");
        bench.wait(MS);
        assert_eq!(bench.read(Side::A), "\r\nBUSY\r\n");

        bench.write(Side::A, "ATD123\r");
        bench.wait(Duration::from_secs(5));
        assert_eq!(bench.read(Side::A), "\r\nNO CARRIER\r\n");
        assert_eq!(bench.read(Side::B), "\r\nRING\r\n".repeat(3));
        bench.wait(Duration::from_secs(5));
        assert_eq!(bench.read(Side::B), "");

        let mut config = LineConfig::clean(Mode::Modem);
        config.dialtone = false;
        let mut bench = Bench::new(config);
        bench.write(Side::A, "ATD1\r");
        assert_eq!(bench.read(Side::A), "ATD1\r\r\nNO DIALTONE\r\n");
    }

    #[test]
    fn a_modem_in_a_call_is_busy_and_a_keypress_abandons_a_dial() {
        let mut bench = Bench::modems();
        bench.write(Side::A, "ATE0D123\r");
        assert_eq!(bench.read(Side::A), "ATE0D123\r");
        bench.write(Side::B, "ATE0D456\r");
        bench.wait(Duration::from_secs(1));
        assert_eq!(bench.read(Side::B), "\r\nRING\r\nATE0D456\r\r\nBUSY\r\n");
        bench.write(Side::A, "x");
        assert_eq!(bench.read(Side::A), "\r\nNO CARRIER\r\n");
        bench.wait(Duration::from_secs(10));
        assert_eq!(bench.read(Side::B), "");
    }

    #[test]
    fn register_zero_answers_by_itself() {
        let mut bench = Bench::modems();
        bench.write(Side::B, "ATE0S0=2\r");
        bench.read(Side::B);
        bench.write(Side::A, "ATE0D123\r");
        assert_eq!(bench.read(Side::B), "\r\nRING\r\n");
        bench.wait(Duration::from_secs(2));
        assert_eq!(bench.read(Side::B), "\r\nRING\r\n\r\nCONNECT 115200\r\n");
        assert_eq!(bench.read(Side::A), "ATE0D123\r\r\nCONNECT 115200\r\n");
    }

    #[test]
    fn a_cut_drops_the_call() {
        let mut config = LineConfig::clean(Mode::Modem);
        config.baud = 115_200;
        config.cut_mean = Some(Duration::from_secs(3600));
        let mut bench = Bench::new(config);
        bench.call();
        bench.write(Side::A, "lost in the cut");
        bench.exchange.cuts.next_cut = Some(bench.now + 10 * MS);
        bench.wait(10 * MS);
        assert_eq!(bench.read(Side::A), "\r\nNO CARRIER\r\n");
        assert_eq!(bench.read(Side::B), "\r\nNO CARRIER\r\n");
        let stats = bench.exchange.stats();
        assert_eq!((stats.cuts, stats.calls_dropped), (1, 1));
        assert!(stats.a_to_b.lost > 0);
        bench.write(Side::A, "ATD1\r");
        assert_eq!(bench.read(Side::B), "\r\nRING\r\n");
    }

    #[test]
    fn a_cut_kills_a_plain_line_for_a_while() {
        let mut config = LineConfig::clean(Mode::Plain);
        config.cut_mean = Some(Duration::from_secs(3600));
        config.cut_length = Duration::from_secs(3);
        let mut bench = Bench::new(config);
        bench.exchange.cuts.next_cut = Some(bench.now + 10 * MS);
        bench.wait(10 * MS);
        bench.write(Side::A, "gone");
        bench.wait(Duration::from_secs(3));
        bench.write(Side::A, "back");
        bench.wait(Duration::from_secs(1));
        assert_eq!(bench.read(Side::B), "back");
        assert_eq!(bench.exchange.stats().a_to_b.lost, 4);
        assert_eq!(bench.exchange.stats().cuts, 1);
    }
}
