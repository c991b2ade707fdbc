//! `tusach sync`: one session with a peer, a bundle written for a device or read back, or a
//! listener that answers peers until stopped. Every session and bundle goes through
//! [`crate::sync_service::SyncService`]; this module only reads the arguments and prints.
//! Sessions are authenticated and encrypted and bundles sealed (`tusach network` enrols).
//!
//! While `serve` holds the data folder these run inside it (see [`crate::console`]); then
//! `--listen` is refused, since serve already answers peers.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tusach_sync::{DeviceId, SessionReport};

use crate::console::Console;
use crate::sync_service::LinkKind;

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
    /// Answer peers at ADDR until stopped (port 0 picks a free port). Not while `serve` runs:
    /// it answers peers itself.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Give up when a peer is silent this long.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

impl SyncArgs {
    /// Makes the bundle file names absolute against `cwd`.
    pub fn resolve_paths(&mut self, cwd: &Path) {
        for file in [&mut self.bundle_out, &mut self.bundle_in]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = cwd.join(&*file);
            }
        }
    }
}

pub fn run(console: &mut Console<'_>, args: SyncArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let result = if let Some(peer) = &args.peer {
        sync_with_peer(console, peer, timeout, args.json)
    } else if let Some(file) = &args.bundle_out {
        let Some(device) = args.for_device.as_deref() else {
            bail!("--bundle-out needs --for DEVICE_ID");
        };
        let device = DeviceId::parse_hex(device).with_context(|| {
            format!("'{device}' is not a device id (32 hex digits, see `tusach id`)")
        })?;
        write_bundle(console, file, device, args.json)
    } else if let Some(file) = &args.bundle_in {
        read_bundle(console, file, args.json)
    } else if let Some(addr) = args.listen {
        listen(console, addr, timeout)
    } else {
        bail!(
            "say what to sync with: --peer HOST:PORT, --bundle-out FILE --for DEVICE_ID, --bundle-in FILE or --listen ADDR"
        )
    };
    crate::process::report_peak_rss_if_asked();
    result
}

fn sync_with_peer(
    console: &mut Console<'_>,
    peer: &str,
    timeout: Duration,
    json: bool,
) -> anyhow::Result<()> {
    if console.sync.is_busy_with(peer) {
        writeln!(
            console.out,
            "a session with {peer} is running; this one starts when it ends"
        )?;
    }
    let started = Instant::now();
    let service = console.sync.clone();
    let report = console
        .runtime
        .block_on(service.sync_with(peer, LinkKind::Command, timeout))
        .with_context(|| format!("sync with {peer} failed"))?;
    print_report(console.out, &report, started.elapsed(), json)?;
    Ok(())
}

fn print_report(
    out: &mut dyn Write,
    report: &SessionReport,
    elapsed: Duration,
    json: bool,
) -> std::io::Result<()> {
    let peer = report.peer.map(|p| p.to_hex()).unwrap_or_default();
    if json {
        writeln!(
            out,
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
        )
    } else {
        writeln!(
            out,
            "synced with {peer}: sent {} changes in {} batches; received {} new changes ({} already here); {} bytes out, {} bytes in, {:.2} s",
            report.changes_sent,
            report.batches_sent,
            report.received.new_changes,
            report.received.duplicates,
            report.bytes_out,
            report.bytes_in,
            elapsed.as_secs_f64()
        )
    }
}

fn write_bundle(
    console: &mut Console<'_>,
    file: &Path,
    device: DeviceId,
    json: bool,
) -> anyhow::Result<()> {
    let summary = console.sync.write_bundle(file, device)?;
    if json {
        writeln!(
            console.out,
            "{}",
            serde_json::json!({"batches": summary.batches, "changes": summary.changes, "bytes": summary.bytes})
        )?;
    } else {
        writeln!(
            console.out,
            "wrote {} for {device}: {} changes in {} batches, {} bytes",
            file.display(),
            summary.changes,
            summary.batches,
            summary.bytes
        )?;
    }
    Ok(())
}

/// Where the receipt for bundle `file` goes: beside it, `FILE.receipt`.
pub fn receipt_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".receipt");
    PathBuf::from(name)
}

/// Imports a bundle, then writes a receipt for its maker beside it (a receipt itself gets
/// none back). A receipt that cannot be written (a read-only stick) costs only a re-carried
/// bundle, so the import still succeeds with a warning.
fn read_bundle(console: &mut Console<'_>, file: &Path, json: bool) -> anyhow::Result<()> {
    let opened = console
        .sync
        .read_bundle(file)
        .with_context(|| format!("{} was not imported", file.display()))?;
    let report = &opened.report;
    let maker = opened.maker.device;
    let receipt = if opened.batches > 0 {
        let path = receipt_path(file);
        match console.sync.write_receipt(&path, maker) {
            Ok(_) => Some(path),
            Err(error) => {
                eprintln!("warning: no receipt written: {error}");
                None
            }
        }
    } else {
        None
    };
    if json {
        writeln!(
            console.out,
            "{}",
            serde_json::json!({
                "from": maker.to_hex(),
                "batches": opened.batches,
                "new_changes": report.new_changes,
                "duplicates": report.duplicates,
                "entities_changed": report.entities,
                "receipt": receipt.as_ref().map(|p| p.display().to_string()),
            })
        )?;
    } else {
        writeln!(
            console.out,
            "imported {} from {maker}: {} new changes, {} already here, {} entities changed",
            file.display(),
            report.new_changes,
            report.duplicates,
            report.entities
        )?;
        if let Some(path) = receipt {
            writeln!(
                console.out,
                "receipt written to {}: carry it back to {maker} and import it there with `tusach sync --bundle-in`, so its next bundle carries only what is new",
                path.display()
            )?;
        } else if opened.batches == 0 {
            writeln!(
                console.out,
                "it was a receipt: the next bundle for {maker} carries only what it lacks"
            )?;
        }
    }
    Ok(())
}

fn listen(console: &mut Console<'_>, addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    if console.inside_serve {
        match console.sync.listening_on() {
            Some(serving) => bail!(
                "`tusach serve` holds this data folder and already answers peers on {serving}; \
                 point peers there, or stop serve to listen on {addr} instead"
            ),
            None => {
                bail!("`tusach serve` holds this data folder; stop it to listen on {addr} instead")
            }
        }
    }
    let service = console.sync.clone();
    let out = &mut *console.out;
    console.runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
        service
            .listen(listener, timeout, crate::serve::shutdown_signal())
            .await?;
        Ok(())
    })
}
