//! `neighbours`: three appliances of one library, each a real `tusach serve` in its own network
//! namespace on one bridge ([`super::netns::Lan`]), find each other by mDNS alone.
//!
//! - `seconds_to_converge`: a change made at one desk (a staff account, through the console)
//!   until both other desks list it, with nothing typed there. Each desk makes one in turn;
//!   the slowest counts. Goal ≤ 10 s.
//! - `idle_bytes_per_minute`: what each node sends on its cable while nothing changes (mDNS
//!   upkeep, and any session started for nothing), once the first meeting has settled. The
//!   largest counts. Goal ≤ 2,000: the hotspot's airtime belongs to readers.
//!
//! Needs root for the namespaces.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::netns::Lan;
use crate::data_dir::DataDir;

const NODES: usize = 3;
const LIBRARY: &str = "xa-nghi-phu";
/// How long a change may take before the bench gives up.
const GIVE_UP: Duration = Duration::from_secs(120);
/// After the first meeting, the sessions it set off are left this long to end.
const SETTLE: Duration = Duration::from_secs(15);

pub fn run(idle_secs: u64) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("finding the tusach binary")?;
    let lan = Lan::new(NODES)?;
    let dir = tempfile::tempdir()?;
    let hub = DataDir::new(dir.path().join("hub"));
    let desks: Vec<PathBuf> = (0..NODES)
        .map(|i| dir.path().join(format!("desk-{i}")))
        .collect();
    for desk in &desks {
        crate::network_cmd::join_locally(&hub, &DataDir::new(desk), LIBRARY)?;
    }
    let mut servers = Servers(Vec::new());
    for (i, desk) in desks.iter().enumerate() {
        servers.0.push(start(&lan, i, &exe, desk)?);
    }
    for desk in &desks {
        wait_for_console(desk)?;
    }

    // The first meeting: certificates and the library's first data travel; not measured.
    let first = converge(&exe, &desks, 0, "gap-nhau")?;
    std::thread::sleep(SETTLE);

    let before: Vec<u64> = (0..NODES)
        .map(|i| lan.sent_bytes(i))
        .collect::<anyhow::Result<_>>()?;
    std::thread::sleep(Duration::from_secs(idle_secs));
    let idle: Vec<f64> = (0..NODES)
        .map(|i| {
            let sent = lan.sent_bytes(i)?.saturating_sub(before[i]);
            Ok(sent as f64 * 60.0 / idle_secs as f64)
        })
        .collect::<anyhow::Result<_>>()?;

    let mut per_desk = Vec::new();
    for i in 0..NODES {
        per_desk.push(converge(&exe, &desks, i, &format!("ban-doc-{i}"))?);
    }
    drop(servers);

    let slowest = per_desk.iter().copied().fold(0.0, f64::max);
    let loudest = idle.iter().copied().fold(0.0, f64::max);
    Ok(json!({
        "bench": "neighbours",
        "nodes": NODES,
        "first_meeting_seconds": first,
        "seconds_to_converge": slowest,
        "seconds_to_converge_per_desk": per_desk,
        "idle_seconds": idle_secs,
        "idle_bytes_per_minute": loudest,
        "idle_bytes_per_minute_per_node": idle,
        "goal_seconds_to_converge": 10,
        "goal_idle_bytes_per_minute": 2000,
        "goal_met": slowest <= 10.0 && loudest <= 2000.0,
    }))
}

/// The serve processes, stopped with SIGTERM (so mDNS says goodbye) when dropped.
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

fn start(lan: &Lan, i: usize, exe: &Path, data: &Path) -> anyhow::Result<Child> {
    let log = std::fs::File::create(log_of(data)).context("creating a serve log")?;
    lan.command(i, exe)
        .arg("--data")
        .arg(data)
        .args([
            "serve",
            "--listen",
            "0.0.0.0:8080",
            "--sync-listen",
            "0.0.0.0:7654",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting tusach serve in a namespace")
}

/// Where a desk's serve writes its stderr, beside its data folder.
fn log_of(data: &Path) -> PathBuf {
    data.with_extension("log")
}

/// The end of every desk's log, for an error that says what the desks were doing.
fn logs(desks: &[PathBuf]) -> String {
    desks
        .iter()
        .map(|desk| {
            let log = std::fs::read_to_string(log_of(desk)).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("--- {}\n{}", desk.display(), tail.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `tusach --data DATA ARGS…` through the running serve's console, with `input` on stdin.
fn console(exe: &Path, data: &Path, args: &[&str], input: &str) -> anyhow::Result<String> {
    let mut child = Command::new(exe)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "tusach {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits until the serve on `data` has its control socket, so console commands go through it
/// (before that, a command would open the folder itself and race the starting serve).
fn wait_for_console(data: &Path) -> anyhow::Result<()> {
    let socket = DataDir::new(data).control_socket_path();
    let deadline = Instant::now() + GIVE_UP;
    while !socket.exists() {
        if Instant::now() > deadline {
            bail!(
                "serve on {} did not start\n{}",
                data.display(),
                logs(&[data.to_owned()])
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Adds staff account `username` at desk `from` and times it until every other desk lists it.
fn converge(exe: &Path, desks: &[PathBuf], from: usize, username: &str) -> anyhow::Result<f64> {
    console(
        exe,
        &desks[from],
        &[
            "staff",
            "add",
            "--username",
            username,
            "--display-name",
            username,
        ],
        "Mật khẩu đủ dài 2026\n",
    )?;
    let started = Instant::now();
    let mut waiting: Vec<&PathBuf> = desks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != from)
        .map(|(_, desk)| desk)
        .collect();
    while !waiting.is_empty() {
        if started.elapsed() > GIVE_UP {
            bail!(
                "{username} did not reach every desk within {GIVE_UP:?}\n{}",
                logs(desks)
            );
        }
        let mut still = Vec::new();
        for desk in waiting {
            let listed = console(exe, desk, &["staff", "list"], "")?;
            if !listed.split_whitespace().any(|word| word == username) {
                still.push(desk);
            }
        }
        waiting = still;
        if !waiting.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
