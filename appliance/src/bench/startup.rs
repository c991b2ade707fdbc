//! `startup`: a cold `tusach serve` on 100,000 records, timed from starting the process to its
//! first real answer: a readers' search page with results, over HTTP on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::data_dir::DataDir;

pub fn run(records: u64) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("finding the tusach binary")?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    crate::dev::seed(&DataDir::new(&data), 0, records, 500, true)?;
    let cold = drop_page_cache();

    let started = Instant::now();
    let mut server = super::serve::spawn_serve(&exe, &data)?;
    let result = first_answer(&mut server, started);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let (seconds, bytes) = result?;
    Ok(json!({
        "bench": "startup",
        "records": records,
        "seconds_to_first_answer": seconds,
        "first_answer_bytes": bytes,
        "page_cache_dropped": cold,
        "goal_met": seconds <= 1.0,
    }))
}

/// Empties the kernel's page cache so the database is read from disk as after a reboot. Needs
/// root; without it the start is warm, and the result says so.
fn drop_page_cache() -> bool {
    let synced = Command::new("sync").status().is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", b"3\n").is_ok()
}

/// Waits for the address line, then asks for a search page until one arrives.
fn first_answer(
    server: &mut std::process::Child,
    started: Instant,
) -> anyhow::Result<(f64, usize)> {
    let addr = super::serve::address(server)?;
    let addr = addr.as_str();
    let deadline = started + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(page) = get(addr, "/search?q=nguyen+du")
            && page.starts_with("HTTP/1.1 200")
            && page.contains("Nguyễn Du")
        {
            return Ok((started.elapsed().as_secs_f64(), page.len()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    bail!("no answer from tusach serve within 60 s")
}

fn get(addr: &str, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: tusach\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}
