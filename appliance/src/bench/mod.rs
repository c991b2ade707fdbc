//! `tusach bench NAME --json`: performance goals as measurements. Each bench prints one JSON
//! object on stdout and measures its baseline in the same run, so ratios hold on a noisy
//! machine. Realistic data comes from [`crate::sample`].
//!
//! - `sync-delta`: bytes on the wire for 100 edits among 10,000 records, against the raw
//!   changes compressed and against automerge's own per-document sync.
//! - `bootstrap`: a new replica receiving 100,000 records over loopback TCP, two processes.
//! - `apply`: merging a feed of 100,000 changes.
//! - `search`: catalogue queries on 100,000 records against bare FTS5 on the same table.
//! - `serve`: 50 clients searching, lending and returning against `tusach serve` for 30 s.
//! - `startup`: a cold `tusach serve` on 100,000 records until its first search page.
//! - `neighbours`: three appliances in network namespaces find each other by mDNS; how long
//!   a change takes to reach the others, and the bytes each sends per minute while idle.
//! - `cuts`: a new desk bootstraps the demo library through a 960 B/s line cut every 12 s,
//!   against the same line without cuts.
//! - `import`: 100,000 MARC21 records imported by `tusach import marc` into an empty folder
//!   and searched, against parsing the same file only.
//! - `serial`: the `sync-delta` workload over a real 9600-baud serial line with 300 ms of
//!   latency (the `phone-line` instrument), clean and noisy, against the line's floor.

mod apply;
mod bootstrap;
mod cuts;
mod import;
mod neighbours;
pub mod netns;
mod search;
mod serial;
mod serve;
mod startup;
mod sync_delta;

use anyhow::bail;
use tusach_sync::{Durability, Store, StoreOptions, WriteBatch};

use crate::catalogue;
use crate::sample::SampleLibrary;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// sync-delta, bootstrap, apply, search, serve, startup, cuts, neighbours, serial or import.
    name: String,
    /// Print one JSON object (the default output is the same object, indented).
    #[arg(long)]
    json: bool,
    /// Override the number of records (smaller runs for a quick look).
    #[arg(long)]
    records: Option<u64>,
    /// Override the number of edits or changes.
    #[arg(long)]
    changes: Option<u64>,
    /// Override how long a load bench runs.
    #[arg(long)]
    seconds: Option<u64>,
    /// `cuts`: the line's rate in bytes per second each way (default 960, a 9600-baud modem).
    #[arg(long)]
    rate: Option<u64>,
    /// `cuts`: seconds a connection lives before the line drops (default 12).
    #[arg(long)]
    cut_secs: Option<u64>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let result = match args.name.as_str() {
        "sync-delta" => {
            sync_delta::run(args.records.unwrap_or(10_000), args.changes.unwrap_or(100))?
        }
        "bootstrap" => bootstrap::run(args.records.unwrap_or(100_000))?,
        "apply" => apply::run(
            args.records.unwrap_or(10_000),
            args.changes.unwrap_or(100_000),
        )?,
        "search" => search::run(args.records.unwrap_or(100_000))?,
        "startup" => startup::run(args.records.unwrap_or(100_000))?,
        "serve" => serve::run(args.records.unwrap_or(100_000), args.seconds.unwrap_or(30))?,
        "cuts" => cuts::run(cuts::CutsOptions {
            records: args.records,
            rate: args.rate.unwrap_or(960).max(1),
            cut_secs: args.cut_secs.unwrap_or(12).max(1),
        })?,
        "neighbours" => neighbours::run(args.seconds.unwrap_or(60).max(1))?,
        "serial" => serial::run(args.records.unwrap_or(10_000), args.changes.unwrap_or(100))?,
        "import" => import::run(args.records.unwrap_or(100_000))?,
        other => {
            bail!(
                "unknown bench '{other}': try sync-delta, bootstrap, apply, search, serve, startup, cuts, neighbours, serial or import"
            )
        }
    };
    if args.json {
        println!("{result}");
    } else {
        println!("{}", serde_json::to_string_pretty(&result)?);
    }
    Ok(())
}

/// A throwaway store for a bench: fsync per commit would only measure the disk.
fn bench_store(dir: &std::path::Path, name: &str) -> anyhow::Result<Store> {
    Ok(Store::open_with(
        &dir.join(name),
        StoreOptions {
            durability: Durability::Relaxed,
            cache_shards: 64,
        },
    )?)
}

/// Adds `count` sample records in commits of 500, as a bulk catalogue import would.
fn seed_records(store: &mut Store, library: &SampleLibrary, count: u64) -> anyhow::Result<()> {
    let mut n = 0;
    while n < count {
        let mut batch = WriteBatch::new();
        for i in n..(n + 500).min(count) {
            catalogue::put_record(&mut batch, &library.record(i));
        }
        store.commit(&batch)?;
        n += 500;
    }
    Ok(())
}

/// Edits one field of record `n` in its own commit: one automerge change.
fn edit_record(
    store: &mut Store,
    library: &SampleLibrary,
    n: u64,
    round: u64,
) -> anyhow::Result<()> {
    let record = library.record(n);
    let (field, value) = library.edit(n, round);
    let mut batch = WriteBatch::new();
    catalogue::put_field(&mut batch, &record.id, field, &value);
    store.commit(&batch)?;
    Ok(())
}
