//! The I/O loop: moves bytes between the two ptys and the exchange, wakes the exchange when it
//! asks to be, keeps the stats file fresh, and stops when the stop fd becomes readable.
//!
//! One thread and `poll`: the exchange decides everything, this loop only reads, writes and
//! reads the clock. Timers have the kernel's millisecond resolution, but bytes keep the
//! exchange's exact times, so a late wake-up never slows the line.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::config::LineConfig;
use crate::exchange::{Exchange, Side, Stats};
use crate::port::Port;
use crate::stats;

/// The stats file is rewritten at most this often, so a busy line does not spend its time
/// renaming files.
const STATS_EVERY: Duration = Duration::from_millis(100);
/// The loop wakes at least this often even with nothing to do; it costs nothing and bounds
/// the damage of a missed wake-up.
const LONGEST_SLEEP_MS: u16 = 1000;

/// Why the line stopped other than by being told to.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("poll failed: {0}")]
    Poll(Errno),
    #[error("reading side {side:?}'s pty failed: {source}")]
    Read { side: Side, source: io::Error },
    #[error("writing side {side:?}'s pty failed: {source}")]
    Write { side: Side, source: io::Error },
    #[error("side {0:?}'s pty hung up, which cannot happen while the slave is held open")]
    HungUp(Side),
    #[error("could not write the stats file {path}: {source}")]
    Stats { path: PathBuf, source: io::Error },
}

/// Runs the line between `ports[0]` (A) and `ports[1]` (B) until `stop` is readable.
pub fn serve(
    config: LineConfig,
    ports: &mut [Port; 2],
    stats_path: Option<&Path>,
    stop: BorrowedFd,
) -> Result<(), ServeError> {
    let mut exchange = Exchange::new(config, Instant::now());
    let mut stats_file = stats_path.map(StatsFile::new);
    let mut buffer = [0u8; 1024];
    loop {
        let now = Instant::now();
        exchange.tick(now);
        for side in Side::BOTH {
            flush(side, &mut ports[side.index()].master, exchange.outbox(side))?;
        }
        let mut wake = exchange.next_wake();
        if let Some(file) = &mut stats_file {
            file.write_if_due(exchange.stats(), now)?;
            wake = wake
                .into_iter()
                .chain(file.next_write(exchange.stats(), now))
                .min();
        }
        let sleep_ms = wake.map_or(u128::from(LONGEST_SLEEP_MS), |at| {
            at.saturating_duration_since(now).as_micros().div_ceil(1000)
        });
        let timeout = PollTimeout::from(
            u16::try_from(sleep_ms)
                .unwrap_or(LONGEST_SLEEP_MS)
                .min(LONGEST_SLEEP_MS),
        );

        let [port_a, port_b] = &*ports;
        let mut fds = [
            PollFd::new(stop, PollFlags::POLLIN),
            PollFd::new(port_a.master.as_fd(), interest(&mut exchange, Side::A)),
            PollFd::new(port_b.master.as_fd(), interest(&mut exchange, Side::B)),
        ];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => return Err(ServeError::Poll(error)),
        }
        if fds[0].any().unwrap_or(false) {
            return Ok(());
        }
        let ready: Vec<PollFlags> = fds[1..]
            .iter()
            .map(|fd| fd.revents().unwrap_or(PollFlags::empty()))
            .collect();
        let now = Instant::now();
        for (side, revents) in Side::BOTH.into_iter().zip(ready) {
            if revents.contains(PollFlags::POLLIN) {
                read_client(
                    side,
                    &mut ports[side.index()].master,
                    &mut exchange,
                    &mut buffer,
                    now,
                )?;
            } else if revents
                .intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
            {
                return Err(ServeError::HungUp(side));
            }
        }
    }
}

/// Read when the transmitter has room (back-pressure otherwise); write when there is output.
fn interest(exchange: &mut Exchange, side: Side) -> PollFlags {
    let mut flags = PollFlags::empty();
    if exchange.wants_input(side) {
        flags |= PollFlags::POLLIN;
    }
    if !exchange.outbox(side).is_empty() {
        flags |= PollFlags::POLLOUT;
    }
    flags
}

fn read_client(
    side: Side,
    master: &mut std::fs::File,
    exchange: &mut Exchange,
    buffer: &mut [u8],
    now: Instant,
) -> Result<(), ServeError> {
    while exchange.wants_input(side) {
        match master.read(buffer) {
            Ok(0) => break,
            Ok(read) => exchange.from_client(side, &buffer[..read], now),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(ServeError::Read { side, source }),
        }
    }
    Ok(())
}

/// Writes as much of `outbox` as the pty takes now; the rest waits for `POLLOUT`.
fn flush(
    side: Side,
    master: &mut std::fs::File,
    outbox: &mut std::collections::VecDeque<u8>,
) -> Result<(), ServeError> {
    while !outbox.is_empty() {
        match master.write(outbox.as_slices().0) {
            Ok(0) => break,
            Ok(written) => {
                outbox.drain(..written);
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(ServeError::Write { side, source }),
        }
    }
    Ok(())
}

/// The stats file and what was last written to it.
struct StatsFile {
    path: PathBuf,
    written: Option<(Stats, Instant)>,
}

impl StatsFile {
    fn new(path: &Path) -> Self {
        StatsFile {
            path: path.to_owned(),
            written: None,
        }
    }

    /// When the file should next be written: at once the first time, then no sooner than
    /// `STATS_EVERY` after the last write, and only if a counter changed.
    fn next_write(&self, stats: Stats, now: Instant) -> Option<Instant> {
        match self.written {
            None => Some(now),
            Some((written, _)) if written == stats => None,
            Some((_, at)) => Some(at + STATS_EVERY),
        }
    }

    fn write_if_due(&mut self, stats: Stats, now: Instant) -> Result<(), ServeError> {
        if self.next_write(stats, now).is_some_and(|due| due <= now) {
            stats::write_atomically(&self.path, &stats).map_err(|source| ServeError::Stats {
                path: self.path.clone(),
                source,
            })?;
            self.written = Some((stats, now));
        }
        Ok(())
    }
}
