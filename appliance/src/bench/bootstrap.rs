//! `bootstrap`: a new replica receives 100,000 records over loopback TCP. Sender and receiver
//! are separate `tusach` processes so each one's peak memory is its own. Both are members of
//! one network, so the session is authenticated and encrypted.
//!
//! A second phase sends the same records to another new replica from a running `tusach serve`
//! while a reader searches the catalogue over HTTP: the search's p99 before the bootstrap
//! (same server, same run) and during it show what a sync costs the readers.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tusach_sync::Knowledge;

use super::serve::{Connection, QUERIES, Request, addresses, encode, percentile, spawn_serve};
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
    let db_bytes = database_bytes(&DataDir::new(&receiver_dir));
    // The readers' search on what the bootstrap built, not on a separately seeded catalogue.
    let search = super::search::measure(&DataDir::new(&receiver_dir))?;
    let apply_only_seconds = apply_only(&sender_dir, dir.path())?;
    let goals_met = converged
        && goal_met(
            records,
            seed_seconds,
            seconds,
            apply_only_seconds,
            sender_peak,
            receiver_peak,
            search.p95(),
        );
    // A second bootstrap from `serve` shows what it costs the readers; at a province's size it
    // would double a long run to say the same.
    let served = if records <= 100_000 {
        let served = bootstrap_from_serve(&exe, &sender_dir, &dir.path().join("receiver-2"))?;
        json!({
            "serve_bootstrap_seconds": served.seconds,
            "serve_search_p99_ms_idle": percentile(&served.idle, 0.99),
            "serve_search_p99_ms_during": percentile(&served.during, 0.99),
            "serve_search_p50_ms_during": percentile(&served.during, 0.50),
            "serve_searches_during": served.during.len(),
            "serve_search_errors": served.errors,
        })
    } else {
        json!(null)
    };
    Ok(json!({
        "bench": "bootstrap",
        "records": records,
        "seconds": seconds,
        "wire_bytes": wire_bytes,
        "handshake_bytes": report["handshake_bytes"].as_u64().unwrap_or(0),
        "sender_peak_rss_mb": sender_peak,
        "receiver_peak_rss_mb": receiver_peak,
        "seed_seconds": seed_seconds,
        "apply_only_seconds": apply_only_seconds,
        "receiver_stages": report["stages"],
        "db_bytes": db_bytes,
        "receiver_search_p50_ms": search.ours.get(search.ours.len() / 2).copied().unwrap_or(0.0),
        "receiver_search_p95_ms": search.p95(),
        "from_serve": served,
        "converged": converged,
        "goal_met": goals_met,
    }))
}

/// Issue 15's goals: at 100,000 records (or fewer) ≤ 5 s and ≤ 2 × the apply-only baseline;
/// at a province's 1,000,000 ≤ 60 s; peak RSS ≤ 300 MB on each side; the readers' search
/// p95 on the result ≤ 10 ms; seeding the sender ≤ 10 s per 100,000 records.
fn goal_met(
    records: u64,
    seed_seconds: f64,
    seconds: f64,
    apply_only_seconds: f64,
    sender_peak: Option<f64>,
    receiver_peak: Option<f64>,
    search_p95: f64,
) -> bool {
    let time_ok = if records <= 100_000 {
        seconds <= 5.0 && seconds <= 2.0 * apply_only_seconds
    } else {
        seconds <= 60.0 * records as f64 / 1_000_000.0
    };
    time_ok
        && seed_seconds <= 10.0 * records as f64 / 100_000.0
        && sender_peak.is_some_and(|mb| mb <= 300.0)
        && receiver_peak.is_some_and(|mb| mb <= 300.0)
        && search_p95 <= 10.0
}

/// The database's size on disk, with its write-ahead log.
fn database_bytes(data: &DataDir) -> u64 {
    let path = data.database_path();
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    [path, wal.into()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// The baseline: the same whole documents cut into the same batches and merged into a bare
/// store (no query tables, no network, no encryption) in this process.
fn apply_only(sender: &std::path::Path, scratch: &std::path::Path) -> anyhow::Result<f64> {
    let mut source = DataDir::new(sender).open_store()?;
    let mut replica = super::bench_store(scratch, "apply-only.db")?;
    let mut plan = source.plan_for(&Knowledge::default(), |_| true)?;
    let mut batches = Vec::new();
    while let Some(batch) = source.next_batch(&mut plan, 256 * 1024)? {
        batches.push(batch);
    }
    let started = Instant::now();
    for batch in &batches {
        replica.apply_batch(batch)?;
    }
    Ok(started.elapsed().as_secs_f64())
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

/// Search latencies around a bootstrap from a running `serve`.
struct Served {
    seconds: f64,
    idle: Vec<f64>,
    during: Vec<f64>,
    errors: u64,
}

/// Starts `serve` on `sender`, searches for a few seconds, then bootstraps `receiver` from it
/// while still searching; sorts the latencies into before and during.
fn bootstrap_from_serve(
    exe: &std::path::Path,
    sender: &std::path::Path,
    receiver: &std::path::Path,
) -> anyhow::Result<Served> {
    crate::network_cmd::enrol_locally(&DataDir::new(sender), &DataDir::new(receiver), None)?;
    let mut server = spawn_serve(exe, sender)?;
    let result = (|| {
        let (web, sync) = addresses(&mut server)?;
        let stop = Arc::new(AtomicBool::new(false));
        let searcher = {
            let stop = stop.clone();
            std::thread::spawn(move || -> (Vec<(Instant, f64)>, u64) {
                let mut samples = Vec::new();
                let mut errors = 0;
                let Ok(mut connection) = Connection::open(&web) else {
                    return (samples, 1);
                };
                for query in QUERIES.iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let started = Instant::now();
                    let request = Request::get(&format!("/search?q={}", encode(query)));
                    match connection.exchange(&request) {
                        Ok((200, _, _)) => {
                            samples.push((started, started.elapsed().as_secs_f64() * 1000.0))
                        }
                        _ => {
                            errors += 1;
                            match Connection::open(&web) {
                                Ok(fresh) => connection = fresh,
                                Err(_) => break,
                            }
                        }
                    }
                }
                (samples, errors)
            })
        };
        std::thread::sleep(Duration::from_secs(3));
        let started = Instant::now();
        let receiving = Command::new(exe)
            .arg("--data")
            .arg(receiver)
            .args(["sync", "--peer", &sync, "--json", "--timeout-secs", "300"])
            .output()
            .context("running the receiving tusach")?;
        let ended = Instant::now();
        stop.store(true, Ordering::Relaxed);
        let (samples, errors) = searcher
            .join()
            .map_err(|_| anyhow::anyhow!("the searching thread panicked"))?;
        if !receiving.status.success() {
            bail!(
                "the receiver failed: {}",
                String::from_utf8_lossy(&receiving.stderr)
            );
        }
        Ok(Served {
            seconds: (ended - started).as_secs_f64(),
            idle: samples
                .iter()
                .filter(|(at, _)| *at < started)
                .map(|(_, ms)| *ms)
                .collect(),
            during: samples
                .iter()
                .filter(|(at, _)| *at >= started && *at < ended)
                .map(|(_, ms)| *ms)
                .collect(),
            errors,
        })
    })();
    let _ = stop(server);
    result
}
