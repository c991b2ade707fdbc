//! `import`: 100,000 MARC21 records (an ISO 2709 file made from the sample library, as a
//! province library would send it) imported by a real `tusach import marc` process into an
//! empty data folder, then searched. Reports the import's wall time and peak memory and, as
//! the baseline in the same run, the time to only parse the same file, so the cost of
//! planning and storing shows.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use crate::cataloguing::marc;
use crate::data_dir::DataDir;
use crate::db;
use crate::sample::SampleLibrary;
use crate::search::{self, SearchQuery};

pub fn run(records: u64) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("finding the tusach binary")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("province.mrc");
    let bytes = SampleLibrary::new(2026).marc_file(records);
    std::fs::write(&path, &bytes)?;
    let file_mb = bytes.len() as f64 / 1e6;

    let parsing = Instant::now();
    let (_, parsed_records) = marc::check(&bytes)?;
    let parse_only_seconds = parsing.elapsed().as_secs_f64();
    drop(bytes);

    let data = dir.path().join("data");
    let started = Instant::now();
    let output = Command::new(&exe)
        .arg("--data")
        .arg(&data)
        .args(["import", "marc"])
        .arg(&path)
        .arg("--json")
        .env("TUSACH_REPORT_PEAK_RSS", "1")
        .output()
        .context("running tusach import marc")?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "tusach import marc failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let peak_rss_mb = String::from_utf8_lossy(&output.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb ")?.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);

    let conn = Connection::open_with_flags(
        DataDir::new(&data).database_path(),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let indexed = db::record_count(&conn)?;
    let last = SampleLibrary::new(2026).record(records.saturating_sub(1));
    let searching = Instant::now();
    let found = search::search(
        &conn,
        &SearchQuery {
            text: &last.title,
            limit: 1000,
        },
    )?
    .iter()
    .any(|r| r.title == last.title);
    let search_ms = searching.elapsed().as_secs_f64() * 1000.0;
    Ok(json!({
        "bench": "import",
        "records": records,
        "file_mb": file_mb,
        "parsed_records": parsed_records,
        "created": report["created"],
        "seconds": seconds,
        "import_parse_seconds": report["parse_seconds"],
        "parse_only_seconds": parse_only_seconds,
        "peak_rss_mb": peak_rss_mb,
        "indexed_records": indexed,
        "last_record_found": found,
        "search_ms": search_ms,
        "goal_met": seconds <= 60.0
            && peak_rss_mb.is_some_and(|mb| mb <= 200.0)
            && found
            && report["created"].as_i64() == Some(indexed),
    }))
}
