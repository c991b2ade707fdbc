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
use tusach_sync::{ApplyStages, DeviceId, SessionReport};

use tusach_sync::transport::serial::{Device, ModemSettings, SerialLine};

use crate::console::Console;
use crate::sync_service::LinkKind;
use crate::sync_service::SyncError;
use crate::sync_service::serial_line::{SerialProblem, SerialRole, SerialSettings};

/// A serial line, as `tusach sync` and `tusach serve` take it.
#[derive(clap::Args, Clone, Debug)]
pub struct SerialLineArgs {
    /// A serial device (modem, radio or null-modem cable); prefer its stable name under
    /// /dev/serial/by-id/.
    #[arg(long, value_name = "DEVICE")]
    pub serial: Option<PathBuf>,
    /// The line's speed in bits per second.
    #[arg(long, default_value_t = 9600, requires = "serial", value_parser = clap::value_parser!(u32).range(300..=4_000_000))]
    pub baud: u32,
    /// Dial this number on a Hayes (AT) modem.
    #[arg(long, value_name = "NUMBER", requires = "serial", conflicts_with_all = ["answer", "plain"])]
    pub dial: Option<String>,
    /// Answer calls on the line instead of calling (the hub's side).
    #[arg(long, requires = "serial")]
    pub answer: bool,
    /// No modem commands: a null-modem cable or a transparent radio.
    #[arg(long, requires = "serial")]
    pub plain: bool,
    /// A modem set-up command sent before each call instead of the default
    /// (ATE0V1Q0&D2S0=0); may be given more than once.
    #[arg(
        long = "init",
        value_name = "AT…",
        requires = "serial",
        conflicts_with = "plain"
    )]
    pub init: Vec<String>,
    /// The device has RTS/CTS wires (hardware flow control).
    #[arg(long, requires = "serial")]
    pub hardware_flow: bool,
}

impl SerialLineArgs {
    /// The line and who calls; `None` without `--serial`.
    pub fn settings(&self, every: Duration) -> anyhow::Result<Option<SerialSettings>> {
        let Some(path) = &self.serial else {
            return Ok(None);
        };
        if self.dial.as_deref().is_some_and(|n| {
            n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#,+WTPwtp".contains(c))
        }) {
            bail!("--dial takes a phone number: digits, and * # , + W T P only");
        }
        if !self.plain && !self.answer && self.dial.is_none() {
            bail!(
                "a modem line needs --dial NUMBER to call (or --answer to answer calls, or --plain for a cable or radio)"
            );
        }
        let modem = (!self.plain).then(|| {
            let mut settings = ModemSettings::default();
            if !self.init.is_empty() {
                settings.init = self.init.clone();
            }
            settings
        });
        Ok(Some(SerialSettings {
            line: SerialLine {
                device: Device {
                    path: path.clone(),
                    baud: self.baud,
                    hardware_flow: self.hardware_flow,
                },
                modem,
            },
            role: if self.answer {
                SerialRole::Answer
            } else {
                SerialRole::Call {
                    dial: self.dial.clone(),
                }
            },
            every,
        }))
    }
}

#[derive(clap::Args)]
pub struct SyncArgs {
    /// Sync once with a peer at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["bundle_out", "bundle_in", "listen", "serial"])]
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
    /// Sync once over a serial line (or, with --answer, answer calls until stopped).
    #[command(flatten)]
    serial_line: SerialLineArgs,
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
    let result = if let Some(settings) = args.serial_line.settings(Duration::ZERO)? {
        over_serial(console, settings, args.json)
    } else if let Some(peer) = &args.peer {
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
            "say what to sync with: --peer HOST:PORT, --serial DEVICE, --bundle-out FILE --for DEVICE_ID, --bundle-in FILE or --listen ADDR"
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

/// One sync over the line, or (with `--answer`) answering calls until stopped.
fn over_serial(
    console: &mut Console<'_>,
    settings: SerialSettings,
    json: bool,
) -> anyhow::Result<()> {
    let device = settings.line.device.path.display().to_string();
    let dial = match &settings.role {
        SerialRole::Call { dial } => dial.clone(),
        SerialRole::Answer => {
            if console.inside_serve {
                bail!(
                    "`tusach serve` holds this data folder: answer calls with `serve --serial {device} --answer`, or stop serve first"
                );
            }
            let service = console.sync.clone();
            let out = &mut *console.out;
            writeln!(out, "answering calls on {device}")?;
            out.flush()?;
            console
                .runtime
                .block_on(crate::sync_service::serial_line::run(
                    service,
                    settings,
                    crate::serve::shutdown_signal(),
                ));
            return Ok(());
        }
    };
    let started = Instant::now();
    let service = console.sync.clone();
    let result = console
        .runtime
        .block_on(service.sync_over_serial(&settings.line, dial.as_deref()));
    let report = match result {
        Ok(report) => report,
        Err(SyncError::Serial(error)) => {
            let problem = SerialProblem::of(&error);
            bail!("sync over {device} failed: {error} [{}]", problem.code());
        }
        Err(error) => return Err(error).with_context(|| format!("sync over {device} failed")),
    };
    if json {
        writeln!(
            console.out,
            "{}",
            serde_json::json!({
                "peer": report.session.peer.map(|p| p.to_hex()),
                "changes_sent": report.session.changes_sent,
                "new_changes": report.session.received.new_changes,
                "wire_bytes_out": report.link.wire_bytes_sent,
                "wire_bytes_in": report.link.wire_bytes_received,
                "retransmitted_bytes": report.link.retransmitted_bytes,
                "damaged_frames": report.link.frames_damaged,
                "calls": report.calls,
                "handshake_bytes": report.session.handshake_bytes,
                "seconds": started.elapsed().as_secs_f64(),
            })
        )?;
    } else {
        print_report(console.out, &report.session, started.elapsed(), false)?;
        writeln!(
            console.out,
            "the line carried {} bytes out and {} in ({} sent again) over {} calls",
            report.link.wire_bytes_sent,
            report.link.wire_bytes_received,
            report.link.retransmitted_bytes,
            report.calls
        )?;
    }
    Ok(())
}

/// Seconds per stage of merging what arrived, as `sync --json` and the benches report them.
pub(crate) fn stages_json(stages: &ApplyStages) -> serde_json::Value {
    serde_json::json!({
        "merge_seconds": stages.merge.as_secs_f64(),
        "record_seconds": stages.record.as_secs_f64(),
        "read_seconds": stages.read.as_secs_f64(),
        "index_seconds": stages.observe.as_secs_f64(),
        "commit_seconds": stages.commit.as_secs_f64(),
    })
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
                "stages": stages_json(&report.received.stages),
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
