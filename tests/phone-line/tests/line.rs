//! The built `phone-line` binary, driven through its two pty paths with plain file I/O, the
//! way the serial transport will drive a serial port: pacing, delay and noise on a plain line,
//! and a whole modem call.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running `phone-line` in its own temporary folder, stopped with SIGTERM when dropped.
struct PhoneLine {
    child: Child,
    folder: tempfile::TempDir,
}

impl PhoneLine {
    fn start(args: &[&str]) -> PhoneLine {
        let folder = tempfile::Builder::new()
            .prefix("line-")
            .tempdir()
            .expect("temporary folder");
        let stderr = File::create(folder.path().join("stderr.log")).expect("stderr log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_phone-line"))
            .arg("--a")
            .arg(folder.path().join("a"))
            .arg("--b")
            .arg(folder.path().join("b"))
            .arg("--stats")
            .arg(folder.path().join("stats.json"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("phone-line starts");
        let mut ready = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        BufReader::new(stdout)
            .read_line(&mut ready)
            .expect("stdout readable");
        let line = PhoneLine { child, folder };
        assert_eq!(
            ready,
            "ready\n",
            "phone-line did not say ready; its stderr: {}",
            line.stderr()
        );
        line
    }

    fn path(&self, end: &str) -> PathBuf {
        self.folder.path().join(end)
    }

    fn port(&self, end: &str) -> Port {
        Port::open(&self.path(end))
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("stderr.log")).unwrap_or_default()
    }

    fn stats(&self) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.folder.path().join("stats.json")).expect("stats file");
        serde_json::from_str(&text).expect("stats are JSON")
    }

    /// Waits until the stats satisfy `done`, and returns them.
    fn stats_when(
        &self,
        within: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let stats = self.stats();
            if done(&stats) {
                return stats;
            }
            assert!(Instant::now() < deadline, "stats never got there: {stats}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) -> ExitStatus {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"));
        let _ = kill(pid, Signal::SIGTERM);
        self.child.wait().expect("phone-line stops")
    }
}

impl Drop for PhoneLine {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// A client's open serial port: writes go straight to the pty, reads are gathered by a
/// thread so the test can wait for them with a deadline.
struct Port {
    file: File,
    arrivals: Receiver<(Instant, Vec<u8>)>,
    /// Read and not yet taken by `expect`.
    unread: Vec<u8>,
    /// Tells the reading thread to stop and close its copy of the fd, so dropping a `Port`
    /// really closes the port (a blocked `read` would keep it open and eat the next byte).
    closing: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Drop for Port {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Port {
    fn open(path: &Path) -> Port {
        // O_NOCTTY: the test process must not adopt the pty as its controlling terminal.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(path)
            .expect("the port opens");
        let mut copy = file.try_clone().expect("the port's fd clones");
        let (sender, arrivals) = channel();
        let closing = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&closing);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                let mut fds = [PollFd::new(copy.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, PollTimeout::from(20u16)).unwrap_or(0) == 0 {
                    continue;
                }
                // Ends when phone-line exits (EIO) or the test is gone (send fails).
                match copy.read(&mut buffer) {
                    Ok(read @ 1..)
                        if sender
                            .send((Instant::now(), buffer[..read].to_vec()))
                            .is_ok() => {}
                    _ => break,
                }
            }
        });
        Port {
            file,
            arrivals,
            unread: Vec::new(),
            closing,
            reader: Some(reader),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.file
            .write_all(bytes)
            .expect("the port takes the bytes");
    }

    /// Waits for `text`; returns what came up to and including it, and keeps the rest.
    fn expect(&mut self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(at) = self
                .unread
                .windows(text.len())
                .position(|window| window == text.as_bytes())
            {
                let taken: Vec<u8> = self.unread.drain(..at + text.len()).collect();
                return String::from_utf8_lossy(&taken).into_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.arrivals.recv_timeout(left) {
                Ok((_, bytes)) => self.unread.extend(bytes),
                Err(_) => panic!(
                    "{text:?} did not come within {within:?}; got {:?}",
                    String::from_utf8_lossy(&self.unread)
                ),
            }
        }
    }

    /// Everything that arrives until the line has been quiet for `quiet`, with the moments the
    /// first and last bytes arrived.
    fn gather(
        &mut self,
        quiet: Duration,
        within: Duration,
    ) -> (Vec<u8>, Option<(Instant, Instant)>) {
        let deadline = Instant::now() + within;
        let mut bytes = std::mem::take(&mut self.unread);
        let mut times: Option<(Instant, Instant)> = None;
        while Instant::now() < deadline {
            match self.arrivals.recv_timeout(quiet) {
                Ok((at, chunk)) => {
                    bytes.extend(chunk);
                    times = Some((times.map_or(at, |(first, _)| first), at));
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => panic!("the port closed"),
            }
        }
        (bytes, times)
    }

    /// Nothing arrives for `time`, as when a modem must stay silent.
    fn silent_for(&mut self, time: Duration) {
        let (bytes, _) = self.gather(time, time * 2);
        assert!(
            bytes.is_empty(),
            "expected silence, got {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Bytes that are not all alike, so a damaged or missing byte shows.
fn pattern(count: usize) -> Vec<u8> {
    (0..count).map(|i| (i * 7 % 251) as u8).collect()
}

const SECOND: Duration = Duration::from_secs(1);
/// How long to wait for something that comes in well under a second; generous because CI
/// shares two cores with the builds, and an `expect` returns as soon as its text comes.
const WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_clean_plain_line_is_paced_and_delayed() {
    let line = PhoneLine::start(&[
        "--baud",
        "9600",
        "--latency-ms",
        "300",
        "--error-rate",
        "0",
        "--seed",
        "1",
    ]);
    let mut a = line.port("a");
    let mut b = line.port("b");
    let sent = pattern(2000);
    let start = Instant::now();
    a.send(&sent);
    let (received, times) = b.gather(SECOND, 10 * SECOND);
    let (first, last) = times.expect("bytes arrived");
    assert_eq!(received, sent);
    let first_after = first - start;
    let all_after = last - start;
    eprintln!(
        "2000 bytes at 9600 baud: first after {first_after:?}, all after {all_after:?}, {:.0} bytes/s",
        2000.0
            / all_after
                .saturating_sub(Duration::from_millis(300))
                .as_secs_f64()
    );
    assert!(
        first_after >= Duration::from_millis(300),
        "the first byte came after {first_after:?}"
    );
    assert!(
        all_after >= Duration::from_millis(1500),
        "2000 bytes at 9600 baud took only {all_after:?}"
    );
    assert!(all_after < 10 * SECOND, "2000 bytes took {all_after:?}");

    // The other way too, and after the client closed and reopened its port (a redial).
    drop(a);
    let mut a = line.port("a");
    b.send(b"and back");
    assert_eq!(a.expect("and back", WAIT), "and back");
    let stats = line.stats_when(WAIT, |stats| stats["b_to_a"]["delivered"] == 8);
    assert_eq!(stats["a_to_b"]["delivered"], 2000);
    assert_eq!(stats["a_to_b"]["dropped"], 0);
}

#[test]
fn noise_damages_bytes_and_the_seed_replays_it() {
    let run = || {
        let line = PhoneLine::start(&[
            "--baud",
            "115200",
            "--latency-ms",
            "20",
            "--error-rate",
            "0.05",
            "--seed",
            "42",
        ]);
        let mut a = line.port("a");
        let mut b = line.port("b");
        let sent = pattern(2000);
        a.send(&sent);
        let stats = line.stats_when(WAIT, |stats| {
            stats["a_to_b"]["delivered"].as_u64().unwrap_or(0)
                + stats["a_to_b"]["dropped"].as_u64().unwrap_or(0)
                == 2000
        });
        let (received, _) = b.gather(Duration::from_millis(300), 5 * SECOND);
        assert_ne!(received, sent, "5% noise left 2000 bytes intact");
        let dropped = stats["a_to_b"]["dropped"].as_u64().expect("a count");
        let flipped = stats["a_to_b"]["flipped"].as_u64().expect("a count");
        assert!(dropped > 0 && flipped > 0, "{stats}");
        assert_eq!(received.len() as u64, 2000 - dropped);
        (dropped, flipped, received)
    };
    let first = run();
    let second = run();
    assert_eq!(first, second, "the same seed damaged different bytes");
}

/// Phone-line in modem mode, quick: fast baud, short delay, short guard time.
fn modems(extra: &[&str]) -> PhoneLine {
    let mut args = vec![
        "--mode",
        "modem",
        "--baud",
        "115200",
        "--latency-ms",
        "50",
        "--error-rate",
        "0",
        "--guard-ms",
        "200",
    ];
    args.extend(extra);
    PhoneLine::start(&args)
}

#[test]
fn a_modem_call_from_dial_to_hang_up() {
    let line = modems(&["--busy-number", "555", "--answer-timeout-secs", "2"]);
    let mut a = line.port("a");
    let mut b = line.port("b");
    a.send(b"ATE0\r");
    assert_eq!(a.expect("OK\r\n", WAIT), "ATE0\r\r\nOK\r\n");
    b.send(b"ATE0\r");
    b.expect("OK\r\n", WAIT);
    a.send(b"AT S0?\r");
    assert_eq!(a.expect("OK\r\n", WAIT), "\r\n000\r\n\r\nOK\r\n");
    a.send(b"ATX9\r");
    assert_eq!(a.expect("ERROR\r\n", WAIT), "\r\nERROR\r\n");

    // An engaged number, then a call nobody answers.
    a.send(b"ATDT555\r");
    assert_eq!(a.expect("BUSY\r\n", WAIT), "\r\nBUSY\r\n");
    a.send(b"ATD777\r");
    assert_eq!(b.expect("RING\r\n", WAIT), "\r\nRING\r\n");
    assert_eq!(a.expect("NO CARRIER\r\n", WAIT), "\r\nNO CARRIER\r\n");

    // A call answered by hand.
    a.send(b"ATD123\r");
    b.expect("RING\r\n", WAIT);
    b.send(b"ATA\r");
    assert_eq!(
        b.expect("CONNECT 115200\r\n", WAIT),
        "\r\nCONNECT 115200\r\n"
    );
    assert_eq!(
        a.expect("CONNECT 115200\r\n", WAIT),
        "\r\nCONNECT 115200\r\n"
    );
    a.send(b"books for the district");
    assert_eq!(b.expect("district", WAIT), "books for the district");
    b.send(b"thanks");
    assert_eq!(a.expect("thanks", WAIT), "thanks");

    // Escape with guard times, then hang up: the other side hears the +++ and loses carrier.
    std::thread::sleep(Duration::from_millis(300));
    a.send(b"+++");
    assert_eq!(a.expect("OK\r\n", WAIT), "\r\nOK\r\n");
    a.send(b"ATH\r");
    assert_eq!(a.expect("OK\r\n", WAIT), "\r\nOK\r\n");
    assert_eq!(b.expect("NO CARRIER\r\n", WAIT), "+++\r\nNO CARRIER\r\n");

    // B answers by itself after one ring.
    b.send(b"ATS0=1\r");
    b.expect("OK\r\n", WAIT);
    a.send(b"ATD123\r");
    assert_eq!(
        b.expect("CONNECT 115200\r\n", WAIT),
        "\r\nRING\r\n\r\nCONNECT 115200\r\n"
    );
    a.expect("CONNECT 115200\r\n", WAIT);
    b.send(b"again");
    assert_eq!(a.expect("again", WAIT), "again");

    let stats = line.stats_when(WAIT, |stats| stats["calls_connected"] == 2);
    assert_eq!(stats["calls_hung_up"], 1);
    a.silent_for(Duration::from_millis(300));
}

#[test]
fn a_modem_without_dial_tone() {
    let line = modems(&["--no-dialtone"]);
    let mut a = line.port("a");
    a.send(b"ATD123\r");
    assert_eq!(
        a.expect("NO DIALTONE\r\n", WAIT),
        "ATD123\r\r\nNO DIALTONE\r\n"
    );
}

#[test]
fn sigterm_removes_the_links() {
    let mut line = modems(&[]);
    assert!(std::fs::read_link(line.path("a")).is_ok_and(|target| target.starts_with("/dev/pts")));
    let status = line.stop();
    assert!(status.success(), "{status}; stderr: {}", line.stderr());
    assert!(std::fs::symlink_metadata(line.path("a")).is_err());
    assert!(std::fs::symlink_metadata(line.path("b")).is_err());
}
