//! Real `tusach` processes on temporary data folders, for tests that kill them.
//!
//! [`Tusach`] spawns the binary built by `cargo build --workspace --bins`, reads its stdout line
//! by line on a thread (so a test can wait for `listening on …` or collect `ack …` lines after a
//! `kill -9`), keeps its stderr for failure messages, and kills the process when dropped, so a
//! failing test leaves nothing running. Only whole lines count: a process killed in the middle
//! of `ack x-12` must not be read as having acknowledged `x-1`.
//!
//! This module does not open stores or decide what a test checks; it only starts, waits for and
//! stops processes.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The `tusach` binary next to the test executable (`target/debug/deps/crash-HASH` →
/// `target/debug/tusach`). Cargo does not build other crates' binaries for a test, so it must
/// have been built first.
pub fn tusach_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let binary = profile_dir.join(format!("tusach{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} does not exist: run `cargo build --workspace --bins` first (tests/run does), \
         then run the tests again",
        binary.display()
    );
    binary
}

/// Polls `check` every 300 ms until it holds; fails the test after `timeout`, naming `what`.
pub fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Reads a seed from `TUSACH_SEED`, or picks a fresh one. Tests print it so a failure can be
/// replayed (timing still varies between runs; the choices do not).
pub fn seed_from_env() -> u64 {
    env_number("TUSACH_SEED").unwrap_or_else(|| fastrand::u64(..))
}

/// A number from the environment, or `None` when unset. A value that is not a number is a
/// mistake worth stopping for.
pub fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name} must be a number, not {value:?}"),
    }
}

/// A running (or finished) `tusach` process. Dropping it kills the process if it still runs.
pub struct Tusach {
    label: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
}

impl Tusach {
    /// Starts `tusach --data DATA ARGS…`.
    pub fn spawn(data: &Path, args: &[&str]) -> Tusach {
        Tusach::spawn_with(Command::new(tusach_binary()), data, args)
    }

    /// Starts `tusach --data DATA ARGS…` through `launcher`, a command that runs the binary
    /// (`ip netns exec NS tusach`, say) and becomes it.
    pub fn spawn_with(mut launcher: Command, data: &Path, args: &[&str]) -> Tusach {
        let label = format!("tusach {}", args.join(" "));
        let mut child = launcher
            .arg("--data")
            .arg(data)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{label}`: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        let stdout_reader = thread::spawn(move || read_whole_lines(stdout, sender));
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_sink = stderr.clone();
        thread::spawn(move || {
            let mut pipe = stderr_pipe;
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                if let Ok(mut sink) = stderr_sink.lock() {
                    sink.push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            }
        });
        Tusach {
            label,
            child,
            lines,
            seen: Vec::new(),
            stdout_reader: Some(stdout_reader),
            stderr,
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for a stdout line starting with `prefix` and returns the rest of
    /// it; `None` if the process ended or the time ran out first.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let rest = line.strip_prefix(prefix).map(str::to_owned);
                    self.seen.push(line);
                    if rest.is_some() {
                        return rest;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The stdout lines read so far (by [`Tusach::wait_for_line`]), while the process runs.
    pub fn seen_lines(&self) -> &[String] {
        &self.seen
    }

    /// Waits up to `timeout` for `needle` to appear in what the process wrote to stderr.
    pub fn wait_for_stderr(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for the `listening on ADDR` line of `sync --listen` and returns ADDR.
    pub fn listening_address(&mut self) -> String {
        match self.wait_for_line("listening on ", Duration::from_secs(20)) {
            Some(addr) => addr.trim().to_owned(),
            None => panic!(
                "`{}` did not say where it listens within 20 s\n{}",
                self.label,
                self.diagnostics()
            ),
        }
    }

    /// The exit status if the process has ended on its own (or was stopped and waited for).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .unwrap_or_else(|e| panic!("cannot ask whether `{}` ended: {e}", self.label));
        }
        self.status
    }

    /// Waits up to `timeout` for the process to end.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for the process to end by itself; fails the test if it takes longer than
    /// `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        match self.wait_timeout(timeout) {
            Some(status) => status,
            None => panic!(
                "`{}` did not end within {timeout:?}\n{}",
                self.label,
                self.diagnostics()
            ),
        }
    }

    /// `kill -9`, then waits. Returns `true` if the signal cut the process short, `false` if
    /// it had already ended by itself.
    pub fn kill_hard(&mut self) -> bool {
        if self.try_wait().is_some() {
            return false;
        }
        // `Child::kill` sends SIGKILL on Unix. It fails only if the process is already reaped,
        // which `try_wait` just ruled out.
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("cannot kill `{}`: {e}", self.label));
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("cannot wait for `{}`: {e}", self.label));
        self.status = Some(status);
        // A process that finished just before the signal keeps its own exit status.
        status.code().is_none()
    }

    /// Asks the process to stop with SIGTERM (a clean stop) and waits up to `grace`; kills it
    /// if it is still there after that. Returns `true` if it stopped cleanly.
    pub fn terminate(&mut self, grace: Duration) -> bool {
        if self.try_wait().is_some() {
            return true;
        }
        // The child is not reaped until we wait for it, so its pid still names it.
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if sent && self.wait_timeout(grace).is_some() {
            return true;
        }
        self.kill_hard();
        false
    }

    /// Every whole stdout line the process printed. Call once it has ended: reads to the end
    /// of its output.
    pub fn stdout_lines(&mut self) -> Vec<String> {
        assert!(
            self.try_wait().is_some(),
            "`{}` still runs; stop it before reading all of its output",
            self.label
        );
        // Once the process is gone its end of the pipe is closed, so the reader finishes.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(20)) {
            self.seen.push(line);
        }
        if let Some(reader) = self.stdout_reader.take() {
            let _ = reader.join();
        }
        self.seen.clone()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The command, its status and its output so far, for failure messages.
    pub fn diagnostics(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\nstdout so far: {:?}\nstderr: {}",
            self.label,
            self.status,
            self.seen,
            self.stderr()
        )
    }
}

impl Drop for Tusach {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends every newline-terminated line; a last line cut off without its newline is dropped.
fn read_whole_lines(stdout: ChildStdout, sender: mpsc::Sender<String>) {
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let Some(whole) = line.strip_suffix('\n') else {
                    return;
                };
                if sender.send(whole.to_owned()).is_err() {
                    return;
                }
            }
        }
    }
}

/// What a command that ran to its end printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: String,
}

/// Runs `tusach --data DATA ARGS…` to its end and fails the test unless it succeeds.
pub fn run_ok(data: &Path, args: &[&str], timeout: Duration) -> Finished {
    let mut process = Tusach::spawn(data, args);
    let status = process.wait(timeout);
    let stdout = process.stdout_lines();
    assert!(
        status.success(),
        "`tusach {}` failed\n{}",
        args.join(" "),
        process.diagnostics()
    );
    Finished {
        status,
        stdout,
        stderr: process.stderr(),
    }
}
