//! A bad serial line for tests: the `phone-line` instrument (`tests/phone-line`) between two
//! pseudo-terminals, plain or with a fake Hayes modem at each end. Dropping it stops the
//! process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `phone-line` binary beside the test executable (built by `cargo build --workspace
/// --bins`, as `tests/run` does first).
pub fn phone_line_binary() -> PathBuf {
    let tusach = crate::process::tusach_binary();
    let binary = tusach.with_file_name(format!("phone-line{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} does not exist: run `cargo build --workspace --bins` first",
        binary.display()
    );
    binary
}

/// How the line misbehaves.
#[derive(Clone, Debug)]
pub struct LineFaults {
    pub baud: u32,
    pub latency_ms: u64,
    pub error_rate: f64,
    /// Mean seconds between cuts; 0: none.
    pub cut_mean_secs: f64,
    pub cut_secs: f64,
    pub seed: u64,
    /// Fake Hayes modems at both ends (else a plain cable or radio).
    pub modems: bool,
    /// Extra arguments (`--busy-number`, `--no-dialtone`, `--answer-timeout-secs`, …).
    pub extra: Vec<String>,
}

impl LineFaults {
    /// The line: 9600 baud, 300 ms each way, a byte in a thousand damaged.
    pub fn rural(seed: u64) -> LineFaults {
        LineFaults {
            baud: 9600,
            latency_ms: 300,
            error_rate: 1e-3,
            cut_mean_secs: 0.0,
            cut_secs: 3.0,
            seed,
            modems: false,
            extra: Vec::new(),
        }
    }
}

/// A running line; `a` and `b` are the two ends' device paths.
pub struct PhoneLine {
    child: Child,
    pub a: PathBuf,
    pub b: PathBuf,
    pub stats: PathBuf,
}

impl PhoneLine {
    pub fn start(dir: &Path, faults: &LineFaults) -> PhoneLine {
        let a = dir.join("line-a");
        let b = dir.join("line-b");
        let stats = dir.join("line-stats.json");
        let mut child = Command::new(phone_line_binary())
            .args(["--a", &a.to_string_lossy(), "--b", &b.to_string_lossy()])
            .args(["--baud", &faults.baud.to_string()])
            .args(["--latency-ms", &faults.latency_ms.to_string()])
            .args(["--error-rate", &faults.error_rate.to_string()])
            .args(["--cut-mean-secs", &faults.cut_mean_secs.to_string()])
            .args(["--cut-secs", &faults.cut_secs.to_string()])
            .args(["--seed", &faults.seed.to_string()])
            .args(["--mode", if faults.modems { "modem" } else { "plain" }])
            .args(["--stats", &stats.to_string_lossy()])
            .args(&faults.extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("phone-line starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        assert_eq!(first.trim(), "ready", "phone-line did not start");
        PhoneLine { child, a, b, stats }
    }

    /// Pulls the plug: the process dies at once and its pseudo-terminals with it, as a USB
    /// adapter yanked out mid-call.
    pub fn unplug(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.a);
        let _ = std::fs::remove_file(&self.b);
    }

    /// The instrument's counters (delivered, dropped, flipped, cuts, calls…).
    pub fn stats(&self) -> serde_json::Value {
        // Written at most every 100 ms: wait for the last change to land.
        std::thread::sleep(Duration::from_millis(250));
        let text = std::fs::read_to_string(&self.stats).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }
}

impl Drop for PhoneLine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
