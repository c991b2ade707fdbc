//! `cuts`: a new desk bootstraps the demo library through a slow line that drops. A relay on
//! localhost (real TCP, threads) carries 960 bytes a second each way, as a 9600-baud modem
//! would, and closes both sides of every connection 12 seconds after it opened. The desk
//! dials again at once, as `serve --hub` would, through the real encrypted session, until the
//! bootstrap finishes. At the same time another new desk bootstraps through a relay of the
//! same rate without cuts: `clean_wire_bytes` is the baseline, counted the same way (bytes
//! the relay forwarded, both directions).
//!
//! Goal: it completes, and `wire_bytes` ≤ 1.3 × `clean_wire_bytes`.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tusach_sync::{Durability, Store, StoreOptions};

use crate::data_dir::DataDir;
use crate::sync_service::{LinkKind, SyncService};

/// What the run is asked to do.
pub struct CutsOptions {
    /// Sample records instead of the demo library (quick runs); `None`: the demo library.
    pub records: Option<u64>,
    /// Bytes per second each way.
    pub rate: u64,
    /// Seconds a connection lives before the relay cuts it.
    pub cut_secs: u64,
}

pub fn run(options: CutsOptions) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let sender_dir = DataDir::new(dir.path().join("hub"));
    let clean_dir = DataDir::new(dir.path().join("clean"));
    let cut_dir = DataDir::new(dir.path().join("cut"));
    seed(&sender_dir, options.records)?;
    crate::network_cmd::enrol_locally(&sender_dir, &clean_dir, None)?;
    crate::network_cmd::enrol_locally(&sender_dir, &cut_dir, None)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let sender = SyncService::new(Arc::new(Mutex::new(sender_dir.open_store()?)));
    let changes = lock(sender.store())?.feed_len()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let upstream = listener.local_addr()?;
    let (stop_listening, stopped) = tokio::sync::oneshot::channel::<()>();
    let listening = {
        let sender = sender.clone();
        runtime.spawn(async move {
            sender
                .listen(listener, Duration::from_secs(120), async {
                    let _ = stopped.await;
                })
                .await
        })
    };

    // Both bootstraps are bound by their line, not the CPU, so they run side by side, each
    // through its own relay into its own store; the hub serves both as it would two desks.
    let (clean, cut) = std::thread::scope(|scope| {
        let clean = scope.spawn(|| bootstrap(&runtime, &clean_dir, upstream, options.rate, None));
        let cut = bootstrap(
            &runtime,
            &cut_dir,
            upstream,
            options.rate,
            Some(Duration::from_secs(options.cut_secs)),
        );
        let clean = clean
            .join()
            .map_err(|_| anyhow::anyhow!("the bootstrap without cuts panicked"))?;
        anyhow::Ok((clean?, cut?))
    })?;
    let _ = stop_listening.send(());
    let _ = runtime.block_on(listening);

    let source = lock(sender.store())?.content_digest()?;
    let converged = clean.digest == source && cut.digest == source;
    let ratio = cut.wire_bytes as f64 / clean.wire_bytes.max(1) as f64;
    Ok(json!({
        "bench": "cuts",
        "library": match options.records {
            Some(n) => format!("{n} sample records"),
            None => "demo".to_owned(),
        },
        "changes": changes,
        "rate_bytes_per_second": options.rate,
        "cut_every_seconds": options.cut_secs,
        "seconds": cut.seconds,
        "wire_bytes": cut.wire_bytes,
        "attempts": cut.attempts,
        "attempts_without_progress": cut.attempts_without_progress,
        "fewest_changes_in_an_attempt": cut.fewest_changes,
        "batches_acked_last_attempt": cut.last_batches,
        "first_commit_seconds": cut.first_commit_seconds,
        "clean_seconds": clean.seconds,
        "clean_wire_bytes": clean.wire_bytes,
        "clean_batches": clean.last_batches,
        // The hub's batches, as the desk received them: the wire bytes of the unbroken run
        // (both directions, handshake included) over their number, an upper bound.
        "clean_mean_batch_bytes": clean.wire_bytes / clean.last_batches.max(1),
        "clean_first_commit_seconds": clean.first_commit_seconds,
        "wire_ratio": ratio,
        "converged": converged,
        "goal_met": converged && ratio <= 1.3,
    }))
}

fn seed(data: &DataDir, records: Option<u64>) -> anyhow::Result<()> {
    let mut store = data.open_store_with(StoreOptions {
        durability: Durability::Relaxed,
        ..StoreOptions::default()
    })?;
    match records {
        Some(n) => super::seed_records(&mut store, &crate::sample::SampleLibrary::new(7), n)?,
        None => {
            crate::demo::seed(&mut store, chrono::Local::now().date_naive())?
                .context("the demo library was already there")?;
        }
    }
    Ok(())
}

fn lock(store: &Mutex<Store>) -> anyhow::Result<std::sync::MutexGuard<'_, Store>> {
    store
        .lock()
        .map_err(|_| anyhow::anyhow!("the store's lock is poisoned"))
}

/// What one bootstrap through the relay took.
struct Bootstrap {
    seconds: f64,
    wire_bytes: u64,
    attempts: u64,
    attempts_without_progress: u64,
    fewest_changes: i64,
    last_batches: u64,
    first_commit_seconds: Option<f64>,
    digest: [u8; 32],
}

/// Dials the sender through a relay until a session finishes.
fn bootstrap(
    runtime: &tokio::runtime::Runtime,
    desk: &DataDir,
    upstream: SocketAddr,
    rate: u64,
    cut: Option<Duration>,
) -> anyhow::Result<Bootstrap> {
    let relay = Relay::start(upstream, rate, cut)?;
    let service = SyncService::new(Arc::new(Mutex::new(desk.open_store()?)));
    let started = Instant::now();
    let first_commit = watch_first_commit(service.clone(), started);
    let address = relay.address.to_string();
    let mut attempts = 0;
    let mut without_progress = 0;
    let mut fewest = i64::MAX;
    let report = loop {
        attempts += 1;
        if attempts > 1000 {
            bail!("no bootstrap after 1000 attempts");
        }
        let before = lock(service.store())?.feed_len()?;
        let result = runtime.block_on(service.sync_with(
            &address,
            LinkKind::Command,
            Duration::from_secs(60),
        ));
        let gained = lock(service.store())?.feed_len()? - before;
        match result {
            Ok(report) => break report,
            Err(error) if cut.is_none() => bail!("the bootstrap without cuts failed: {error}"),
            Err(_) => {
                fewest = fewest.min(gained);
                if gained == 0 {
                    without_progress += 1;
                }
            }
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    relay.stop();
    let first_commit_seconds = first_commit.join().ok().flatten();
    let digest = lock(service.store())?.content_digest()?;
    Ok(Bootstrap {
        seconds,
        wire_bytes: relay.bytes.load(Ordering::Relaxed),
        attempts,
        attempts_without_progress: without_progress,
        fewest_changes: if fewest == i64::MAX { 0 } else { fewest },
        last_batches: report.batches_received,
        first_commit_seconds,
        digest,
    })
}

/// Seconds until the desk first holds a committed change, watched from the side.
fn watch_first_commit(
    service: Arc<SyncService>,
    started: Instant,
) -> std::thread::JoinHandle<Option<f64>> {
    std::thread::spawn(move || {
        let initial = service.store().lock().ok()?.feed_len().ok()?;
        while started.elapsed() < Duration::from_secs(600) {
            std::thread::sleep(Duration::from_millis(100));
            let now = service.store().lock().ok()?.feed_len().ok()?;
            if now > initial {
                return Some(started.elapsed().as_secs_f64());
            }
        }
        None
    })
}

/// A throttling, cutting TCP relay on localhost.
struct Relay {
    address: SocketAddr,
    bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn start(upstream: SocketAddr, rate: u64, cut: Option<Duration>) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let relay = Relay {
            address: listener.local_addr()?,
            bytes: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (bytes, stop) = (relay.bytes.clone(), relay.stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if let Ok(server) = TcpStream::connect(upstream) {
                            connect(client, server, rate, cut, bytes.clone());
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(relay)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Pumps both ways between `client` and `server` until either closes or the cut comes.
fn connect(
    client: TcpStream,
    server: TcpStream,
    rate: u64,
    cut: Option<Duration>,
    bytes: Arc<AtomicU64>,
) {
    let deadline = cut.map(|cut| Instant::now() + cut);
    let pairs = [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ];
    for (from, to) in pairs {
        let (Ok(from), Ok(to)) = (from, to) else {
            continue;
        };
        let bytes = bytes.clone();
        std::thread::spawn(move || pump(from, to, rate, deadline, &bytes));
    }
}

/// Carries bytes one way at `rate`: reads at most a twentieth of a second's worth at a time,
/// so the rest waits in the sender's socket (as it would in a modem's buffer), and forwards
/// each piece only when the line is free.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    rate: u64,
    deadline: Option<Instant>,
    bytes: &AtomicU64,
) {
    let piece = (rate / 20).max(1) as usize;
    let mut buf = vec![0u8; piece];
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut line_free_at = Instant::now();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => {
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        };
        let now = Instant::now();
        line_free_at = line_free_at.max(now) + Duration::from_secs_f64(n as f64 / rate as f64);
        if let Some(d) = deadline
            && line_free_at > d
        {
            // The cut comes while this piece is on the line: only what crossed counts.
            let crossing =
                ((d.saturating_duration_since(now)).as_secs_f64() * rate as f64) as usize;
            std::thread::sleep(d.saturating_duration_since(now));
            if crossing > 0 && to.write_all(&buf[..crossing.min(n)]).is_ok() {
                bytes.fetch_add(crossing.min(n) as u64, Ordering::Relaxed);
            }
            continue;
        }
        std::thread::sleep(line_free_at.saturating_duration_since(now));
        if to.write_all(&buf[..n]).is_err() {
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}
