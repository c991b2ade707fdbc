//! `serial`: the `sync-delta` workload (100 edits among 10,000 records) over a real serial
//! line: two pseudo-terminals joined by the `phone-line` instrument at 9600 baud with 300 ms
//! of latency each way, handshake included. Once on a clean line and once with a byte in a
//! thousand flipped or dropped (another 100 records edited, so both runs carry the same
//! amount). The floor is what the bytes alone need on that line plus the protocol's own
//! waits, computed from the same run.
//!
//! `phone-line` is a test instrument (`tests/phone-line`); it must sit beside this binary
//! (`cargo build --workspace --bins` puts it there).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tusach_sync::Store;
use tusach_sync::protocol::resume::Tickets;
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::serial::{
    CallPolicy, Device, SerialLine, SerialReport, answer_calls, sync_over_serial,
};

use super::{bench_store, edit_record, seed_records};
use crate::sample::SampleLibrary;

const BAUD: u32 = 9600;
const LATENCY_MS: u64 = 300;
/// What a 9600-baud 8N1 line carries each way per second.
const BYTES_PER_SECOND: f64 = 960.0;
/// Waits for the other side that no link can avoid: the full Noise XX handshake (1.5 round
/// trips: msg1→msg2, msg3 goes with the HELLO), the HELLO's answer before batches flow (0.5),
/// and the last batch's ACK and the DONEs (1).
const PROTOCOL_ROUND_TRIPS: f64 = 3.0;

pub fn run(records: u64, edits: u64) -> anyhow::Result<serde_json::Value> {
    let instrument = phone_line_binary()?;
    let library = SampleLibrary::new(2026);
    let dir = tempfile::tempdir()?;
    let mut appliance = bench_store(dir.path(), "appliance.db")?;
    let mut hub = bench_store(dir.path(), "hub.db")?;
    super::sync_delta::enrol(&mut appliance, &mut hub)?;
    seed_records(&mut appliance, &library, records)?;
    super::sync_delta::sync(&mut appliance, &mut hub)?;
    let appliance = Arc::new(Mutex::new(appliance));
    let hub = Arc::new(Mutex::new(hub));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let run_once = |round: u64, error_rate: f64| -> anyhow::Result<Run> {
        {
            let mut store = lock(&appliance)?;
            for i in 0..edits {
                // Spread over the records; the second round edits others.
                let n = (i * records / edits.max(1) + round * 7) % records.max(1);
                edit_record(&mut store, &library, n, round)?;
            }
        }
        runtime.block_on(one_run(
            &instrument,
            dir.path(),
            &appliance,
            &hub,
            error_rate,
            round,
        ))
    };
    let clean = run_once(1, 0.0)?;
    let noisy = run_once(2, 1e-3)?;
    let floor = |run: &Run| {
        run.wire_bytes as f64 / BYTES_PER_SECOND
            + PROTOCOL_ROUND_TRIPS * 2.0 * LATENCY_MS as f64 / 1000.0
    };
    let (floor_seconds, noisy_floor_seconds) = (floor(&clean), floor(&noisy));
    let converged = clean.converged && noisy.converged;
    Ok(json!({
        "bench": "serial",
        "records": records,
        "edits": edits,
        "baud": BAUD,
        "latency_ms": LATENCY_MS,
        "seconds": clean.seconds,
        "wire_bytes": clean.wire_bytes,
        "retransmitted_bytes": clean.retransmitted_bytes,
        "handshake_bytes": clean.handshake_bytes,
        "floor_seconds": floor_seconds,
        "seconds_over_floor": clean.seconds / floor_seconds,
        "noisy_error_rate": 1e-3,
        "noisy_seconds": noisy.seconds,
        "noisy_wire_bytes": noisy.wire_bytes,
        "noisy_retransmitted_bytes": noisy.retransmitted_bytes,
        "noisy_damaged_frames": noisy.damaged_frames,
        "noisy_floor_seconds": noisy_floor_seconds,
        "noisy_over_clean": noisy.seconds / clean.seconds,
        "converged": converged,
        "goal_met": converged
            && clean.seconds <= 20.0
            && clean.seconds <= 1.3 * floor_seconds
            && noisy.seconds <= 2.0 * clean.seconds,
    }))
}

fn lock(store: &Mutex<Store>) -> anyhow::Result<std::sync::MutexGuard<'_, Store>> {
    store
        .lock()
        .map_err(|_| anyhow::anyhow!("a store lock was poisoned"))
}

/// One sync through a fresh line.
struct Run {
    seconds: f64,
    /// Both directions, framing and resends included.
    wire_bytes: u64,
    retransmitted_bytes: u64,
    damaged_frames: u64,
    handshake_bytes: u64,
    converged: bool,
}

async fn one_run(
    instrument: &Path,
    dir: &Path,
    appliance: &Arc<Mutex<Store>>,
    hub: &Arc<Mutex<Store>>,
    error_rate: f64,
    round: u64,
) -> anyhow::Result<Run> {
    let a = dir.join(format!("line-{round}-a"));
    let b = dir.join(format!("line-{round}-b"));
    let _line = Instrument::start(instrument, &a, &b, error_rate, round)?;
    let (report_tx, mut report_rx) = tokio::sync::mpsc::unbounded_channel::<SerialReport>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let answering = tokio::spawn(answer_calls(
        plain(&b),
        hub.clone(),
        Arc::new(Tickets::new()),
        SessionOptions::default(),
        CallPolicy::default(),
        Arc::new(move |_, result| {
            if let Ok(report) = result {
                let _ = report_tx.send(report);
            }
        }),
        async {
            let _ = stop_rx.await;
        },
    ));
    let started = Instant::now();
    let report = sync_over_serial(
        &plain(&a),
        None,
        appliance.clone(),
        &Tickets::new(),
        SessionOptions::default(),
        &CallPolicy::default(),
    )
    .await
    .context("the sync over the line failed")?;
    let seconds = started.elapsed().as_secs_f64();
    let answered = tokio::time::timeout(Duration::from_secs(30), report_rx.recv())
        .await
        .ok()
        .flatten();
    let _ = stop_tx.send(());
    let _ = answering.await;
    let hub_resent = answered.map_or(0, |r| r.link.retransmitted_bytes);
    let converged = lock(appliance)?.content_digest()? == lock(hub)?.content_digest()?;
    Ok(Run {
        seconds,
        wire_bytes: report.link.wire_bytes_sent + report.link.wire_bytes_received,
        retransmitted_bytes: report.link.retransmitted_bytes + hub_resent,
        damaged_frames: report.link.frames_damaged,
        handshake_bytes: report.session.handshake_bytes,
        converged,
    })
}

fn plain(path: &Path) -> SerialLine {
    SerialLine {
        device: Device {
            path: path.to_owned(),
            baud: BAUD,
            hardware_flow: false,
        },
        modem: None,
    }
}

/// `phone-line` beside this binary.
fn phone_line_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe.with_file_name(format!("phone-line{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        bail!(
            "{} is missing: build it with `cargo build -p tusach-phone-line` (the serial bench runs its line through it)",
            binary.display()
        );
    }
    Ok(binary)
}

/// The running instrument; killed when dropped.
struct Instrument(Child);

impl Instrument {
    fn start(
        binary: &Path,
        a: &Path,
        b: &Path,
        error_rate: f64,
        seed: u64,
    ) -> anyhow::Result<Instrument> {
        use std::io::BufRead;
        let mut child = Command::new(binary)
            .args(["--a", &a.to_string_lossy(), "--b", &b.to_string_lossy()])
            .args(["--baud", &BAUD.to_string()])
            .args(["--latency-ms", &LATENCY_MS.to_string()])
            .args(["--error-rate", &error_rate.to_string()])
            .args(["--seed", &seed.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting phone-line")?;
        let mut ready = String::new();
        if let Some(stdout) = child.stdout.take() {
            std::io::BufReader::new(stdout).read_line(&mut ready)?;
        }
        if ready.trim() != "ready" {
            let _ = child.kill();
            bail!("phone-line did not start");
        }
        Ok(Instrument(child))
    }
}

impl Drop for Instrument {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
