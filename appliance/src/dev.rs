//! `tusach dev …`: hidden tools for process-level tests and diagnosis.
//!
//! - `write-stream` commits records one by one and prints `ack ID` only after each commit is
//!   durable: a crash test kills the process at random and then checks every acknowledged id.
//! - `seed` and `edit` make realistic catalogue data in a data folder.
//! - `digest` prints what the store holds, so tests compare replicas across processes.
//! - `check-tables` compares the catalogue's query tables with the documents, after a kill.

use std::io::Write;

use tusach_sync::{Durability, Store, StoreOptions, WriteBatch};

use crate::catalogue;
use crate::data_dir::DataDir;
use crate::sample::SampleLibrary;

#[derive(clap::Args)]
pub struct DevArgs {
    #[command(subcommand)]
    command: DevCommand,
}

#[derive(clap::Subcommand)]
enum DevCommand {
    /// Commit records `PREFIX-0`, `PREFIX-1`, … one per commit; print `ack ID` after each.
    WriteStream {
        #[arg(long)]
        prefix: String,
        #[arg(long, default_value_t = u64::MAX)]
        count: u64,
    },
    /// Add sample catalogue records `rec-START` … in commits of `--per-commit`.
    Seed {
        #[arg(long)]
        records: u64,
        #[arg(long, default_value_t = 0)]
        start: u64,
        #[arg(long, default_value_t = 100)]
        per_commit: u64,
        /// Skip fsync per commit (throwaway benchmark data only).
        #[arg(long)]
        relaxed: bool,
    },
    /// Edit one field of each of `--records` records (rec-0 …), one commit per edit.
    Edit {
        #[arg(long)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        round: u64,
    },
    /// Print the content digest, feed length and integrity check.
    Digest,
    /// Compare the catalogue's query tables with the documents, as a rebuild would write them;
    /// fails if they differ.
    CheckTables,
}

pub fn run(data: &DataDir, args: DevArgs) -> anyhow::Result<()> {
    match args.command {
        DevCommand::WriteStream { prefix, count } => write_stream(data, &prefix, count),
        DevCommand::Seed {
            records,
            start,
            per_commit,
            relaxed,
        } => {
            seed(data, start, records, per_commit, relaxed)?;
            println!("seeded {records} records");
            Ok(())
        }
        DevCommand::Edit { records, round } => edit(data, records, round),
        DevCommand::Digest => digest(data),
        DevCommand::CheckTables => check_tables(data),
    }
}

fn check_tables(data: &DataDir) -> anyhow::Result<()> {
    // The bare store: attaching the query tables would rebuild empty ones from the documents
    // and hide the very fault this looks for.
    let mut store = Store::open(&data.database_path())?;
    let check = crate::search::check_index(&mut store)?;
    for problem in check.problems.iter().take(20) {
        println!("{problem}");
    }
    if !check.problems.is_empty() {
        anyhow::bail!(
            "the query tables differ from the documents in {} ways ({} records)",
            check.problems.len(),
            check.records
        );
    }
    println!(
        "query tables match the documents ({} records)",
        check.records
    );
    Ok(())
}

fn write_stream(data: &DataDir, prefix: &str, count: u64) -> anyhow::Result<()> {
    let mut store = data.open_store()?;
    let stdout = std::io::stdout();
    let library = SampleLibrary::new(7);
    for n in 0..count {
        let id = format!("{prefix}-{n}");
        let mut record = library.record(n);
        record.id = id.clone();
        let mut batch = WriteBatch::new();
        catalogue::put_record(&mut batch, &record);
        store.commit(&batch)?;
        // Printed only once the commit returned: synchronous=FULL has made it durable.
        let mut out = stdout.lock();
        writeln!(out, "ack {id}")?;
        out.flush()?;
    }
    Ok(())
}

pub fn seed(
    data: &DataDir,
    start: u64,
    records: u64,
    per_commit: u64,
    relaxed: bool,
) -> anyhow::Result<()> {
    let durability = if relaxed {
        Durability::Relaxed
    } else {
        Durability::Full
    };
    let mut store = data.open_store_with(StoreOptions {
        durability,
        cache_shards: 64,
    })?;
    let library = SampleLibrary::new(2026);
    let per_commit = per_commit.max(1);
    let end = start + records;
    let mut n = start;
    while n < end {
        let mut batch = WriteBatch::new();
        for i in n..(n + per_commit).min(end) {
            catalogue::put_record(&mut batch, &library.record(i));
        }
        store.commit(&batch)?;
        n += per_commit;
    }
    Ok(())
}

fn edit(data: &DataDir, records: u64, round: u64) -> anyhow::Result<()> {
    let mut store = data.open_store()?;
    let library = SampleLibrary::new(2026);
    for n in 0..records {
        let (field, value) = library.edit(n, round);
        let mut batch = WriteBatch::new();
        catalogue::put_field(&mut batch, &format!("rec-{n:08}"), field, &value);
        store.commit(&batch)?;
    }
    println!("edited {records} records");
    Ok(())
}

fn digest(data: &DataDir) -> anyhow::Result<()> {
    let mut store = data.open_store()?;
    println!("digest {}", hex_of(&store.content_digest()?));
    println!("feed {}", store.feed_len()?);
    println!("integrity {}", store.integrity_check()?);
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
