//! `tusach sync`: one session with a peer, a bundle written for a device or read back, or a
//! listener that answers peers until stopped.
//!
//! Every session is authenticated and encrypted, and a peer exchanges only the scopes its
//! membership certificate and ours share (`tusach network` enrols devices). Bundles are sealed:
//! encrypted for the destination device and signed by their maker.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use tusach_sync::bundle;
use tusach_sync::protocol::secure::LinkTrust;
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::tcp;
use tusach_sync::transport::tcp::unix_now;
use tusach_sync::{DeviceId, SessionReport, Store};

use crate::data_dir::DataDir;

#[derive(clap::Args)]
pub struct SyncArgs {
    /// Sync once with a peer at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["bundle_out", "bundle_in", "listen"])]
    peer: Option<String>,
    /// Write a bundle file with everything DEVICE_ID lacks.
    #[arg(long, value_name = "FILE", requires = "for_device", conflicts_with_all = ["bundle_in", "listen"])]
    bundle_out: Option<PathBuf>,
    /// The device a bundle is for (its `tusach id`).
    #[arg(long = "for", value_name = "DEVICE_ID")]
    for_device: Option<String>,
    /// Check and merge a bundle file made for this device.
    #[arg(long, value_name = "FILE", conflicts_with = "listen")]
    bundle_in: Option<PathBuf>,
    /// Answer peers at ADDR until stopped (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Give up when a peer is silent this long.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataDir, args: SyncArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let result = if let Some(peer) = &args.peer {
        sync_with_peer(data, peer, timeout, args.json)
    } else if let Some(file) = &args.bundle_out {
        let Some(device) = args.for_device.as_deref() else {
            bail!("--bundle-out needs --for DEVICE_ID");
        };
        let device = DeviceId::parse_hex(device).with_context(|| {
            format!("'{device}' is not a device id (32 hex digits, see `tusach id`)")
        })?;
        write_bundle(data, file, device, args.json)
    } else if let Some(file) = &args.bundle_in {
        read_bundle(data, file, args.json)
    } else if let Some(addr) = args.listen {
        listen(data, addr, timeout)
    } else {
        bail!(
            "say what to sync with: --peer HOST:PORT, --bundle-out FILE --for DEVICE_ID, --bundle-in FILE or --listen ADDR"
        )
    };
    crate::process::report_peak_rss_if_asked();
    result
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn sync_with_peer(data: &DataDir, peer: &str, timeout: Duration, json: bool) -> anyhow::Result<()> {
    let store = Mutex::new(data.open_store()?);
    let started = std::time::Instant::now();
    let report = runtime()?
        .block_on(tcp::sync_with(
            peer,
            &store,
            SessionOptions::default(),
            timeout,
        ))
        .with_context(|| format!("sync with {peer} failed"))?;
    note_contact(&store, &report);
    print_report(&report, started.elapsed(), json);
    Ok(())
}

/// Records when a session with its peer finished, for the sync status page. Best effort: a
/// failure here loses a timestamp, never data, so it is only logged.
pub fn note_contact(store: &Mutex<Store>, report: &SessionReport) {
    let Some(peer) = report.peer else { return };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match store.lock() {
        Ok(mut store) => {
            if let Err(error) = store.record_peer_contact(&peer, now) {
                eprintln!("could not record the contact with {peer}: {error}");
            }
        }
        Err(_) => eprintln!("could not record the contact with {peer}: store unavailable"),
    }
}

fn print_report(report: &SessionReport, elapsed: Duration, json: bool) {
    let peer = report.peer.map(|p| p.to_hex()).unwrap_or_default();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "peer": peer,
                "batches_sent": report.batches_sent,
                "changes_sent": report.changes_sent,
                "batches_received": report.batches_received,
                "new_changes": report.received.new_changes,
                "duplicates": report.received.duplicates,
                "entities_changed": report.received.entities,
                "bytes_in": report.bytes_in,
                "bytes_out": report.bytes_out,
                "handshake_bytes": report.handshake_bytes,
                "seconds": elapsed.as_secs_f64(),
            })
        );
    } else {
        println!(
            "synced with {peer}: sent {} changes in {} batches; received {} new changes ({} already here); {} bytes out, {} bytes in, {:.2} s",
            report.changes_sent,
            report.batches_sent,
            report.received.new_changes,
            report.received.duplicates,
            report.bytes_out,
            report.bytes_in,
            elapsed.as_secs_f64()
        );
    }
}

fn write_bundle(data: &DataDir, file: &Path, device: DeviceId, json: bool) -> anyhow::Result<()> {
    let mut store = data.open_store()?;
    // Write beside the target and rename, so a pulled USB stick never holds half a bundle
    // under the real name.
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let summary = {
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        let trust = LinkTrust::load(&mut store, unix_now())?;
        let summary = bundle::write_sealed(&mut store, device, &trust, 256 * 1024, &mut out)?;
        out.flush()?;
        summary
    };
    temp.as_file().sync_all()?;
    temp.persist(file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"batches": summary.batches, "changes": summary.changes, "bytes": summary.bytes})
        );
    } else {
        println!(
            "wrote {} for {device}: {} changes in {} batches, {} bytes",
            file.display(),
            summary.changes,
            summary.batches,
            summary.bytes
        );
    }
    Ok(())
}

fn read_bundle(data: &DataDir, file: &Path, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut store = data.open_store()?;
    let trust = LinkTrust::load(&mut store, unix_now())?;
    let report = bundle::read_sealed(&mut store, &bytes, &trust)
        .with_context(|| format!("{} was not imported", file.display()))?
        .report;
    if json {
        println!(
            "{}",
            serde_json::json!({"new_changes": report.new_changes, "duplicates": report.duplicates, "entities_changed": report.entities})
        );
    } else {
        println!(
            "imported {}: {} new changes, {} already here, {} entities changed",
            file.display(),
            report.new_changes,
            report.duplicates,
            report.entities
        );
    }
    Ok(())
}

fn listen(data: &DataDir, addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let store = Arc::new(Mutex::new(data.open_store()?));
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        println!("listening on {local}");
        std::io::stdout().flush()?;
        let contacts = store.clone();
        let on_session = Arc::new(
            move |peer: SocketAddr, result: Result<SessionReport, tcp::TcpSyncError>| match result {
                Ok(report) => {
                    note_contact(&contacts, &report);
                    eprintln!(
                        "session with {peer} finished: sent {} changes, received {} new",
                        report.changes_sent, report.received.new_changes
                    )
                }
                Err(error) => eprintln!("session with {peer} failed: {error}"),
            },
        );
        tcp::serve(
            listener,
            store,
            SessionOptions::default(),
            timeout,
            on_session,
            crate::serve::shutdown_signal(),
        )
        .await?;
        Ok(())
    })
}
