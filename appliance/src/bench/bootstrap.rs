//! `bootstrap`: a new replica receives 100,000 records over loopback TCP. Sender and receiver
//! are separate `tusach` processes so each one's peak memory is its own.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use crate::data_dir::DataDir;

pub fn run(records: u64) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("finding the tusach binary")?;
    let dir = tempfile::tempdir()?;
    let sender_dir = dir.path().join("sender");
    let receiver_dir = dir.path().join("receiver");
    let seeding = Instant::now();
    crate::dev::seed(&DataDir::new(&sender_dir), 0, records, 500, true)?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    // Two members of one network: every session is authenticated and encrypted.
    crate::network_cmd::enrol_locally(
        &DataDir::new(&sender_dir),
        &DataDir::new(&receiver_dir),
        None,
    )?;

    let mut sender = Command::new(&exe)
        .arg("--data")
        .arg(&sender_dir)
        .args(["sync", "--listen", "127.0.0.1:0", "--timeout-secs", "300"])
        .env("TUSACH_REPORT_PEAK_RSS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the sending tusach")?;
    let addr = match listening_address(&mut sender) {
        Ok(addr) => addr,
        Err(e) => {
            let _ = sender.kill();
            return Err(e);
        }
    };

    let started = Instant::now();
    let receiver = Command::new(&exe)
        .arg("--data")
        .arg(&receiver_dir)
        .args(["sync", "--peer", &addr, "--json", "--timeout-secs", "300"])
        .env("TUSACH_REPORT_PEAK_RSS", "1")
        .output()
        .context("running the receiving tusach")?;
    let seconds = started.elapsed().as_secs_f64();
    let sender_stderr = stop(sender)?;
    let receiver_stderr = String::from_utf8_lossy(&receiver.stderr).into_owned();
    if !receiver.status.success() {
        bail!("the receiver failed: {receiver_stderr}");
    }
    let report: serde_json::Value = serde_json::from_slice(&receiver.stdout)
        .with_context(|| format!("the receiver printed no report: {receiver_stderr}"))?;
    let wire_bytes =
        report["bytes_in"].as_u64().unwrap_or(0) + report["bytes_out"].as_u64().unwrap_or(0);

    let sender_digest = DataDir::new(&sender_dir).open_store()?.content_digest()?;
    let receiver_digest = DataDir::new(&receiver_dir).open_store()?.content_digest()?;
    let sender_peak = peak_rss_mb(&sender_stderr);
    let receiver_peak = peak_rss_mb(&receiver_stderr);
    let converged = sender_digest == receiver_digest;
    Ok(json!({
        "bench": "bootstrap",
        "records": records,
        "seconds": seconds,
        "wire_bytes": wire_bytes,
        "handshake_bytes": report["handshake_bytes"].as_u64().unwrap_or(0),
        "sender_peak_rss_mb": sender_peak,
        "receiver_peak_rss_mb": receiver_peak,
        "seed_seconds": seed_seconds,
        "converged": converged,
        "goal_met": converged && seconds <= 30.0
            && sender_peak.is_some_and(|mb| mb <= 200.0)
            && receiver_peak.is_some_and(|mb| mb <= 200.0),
    }))
}

/// Reads the sender's `listening on ADDR` line.
fn listening_address(sender: &mut Child) -> anyhow::Result<String> {
    let stdout = sender.stdout.take().context("no stdout from the sender")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    match line.trim().strip_prefix("listening on ") {
        Some(addr) => Ok(addr.to_owned()),
        None => bail!("the sender did not start listening: {line:?}"),
    }
}

/// Stops the sender the way systemd would (SIGTERM) and returns what it printed on stderr.
fn stop(mut sender: Child) -> anyhow::Result<String> {
    let pid = sender.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let mut stderr = String::new();
    if let Some(mut pipe) = sender.stderr.take() {
        pipe.read_to_string(&mut stderr)?;
    }
    sender.wait()?;
    Ok(stderr)
}

fn peak_rss_mb(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb "))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}
