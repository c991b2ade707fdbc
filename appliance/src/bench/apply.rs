//! `apply`: how fast a replica merges a feed of changes. 10,000 records are shared first; then
//! 100,000 one-field edits made on one replica are merged into the other, batch by batch, each
//! batch one durable transaction with feed, marks and chunks.

use std::time::Instant;

use serde_json::json;

use super::{bench_store, edit_record, seed_records};
use crate::sample::SampleLibrary;

pub fn run(records: u64, changes: u64) -> anyhow::Result<serde_json::Value> {
    let library = SampleLibrary::new(2026);
    let dir = tempfile::tempdir()?;
    let mut source = bench_store(dir.path(), "source.db")?;
    let mut replica = bench_store(dir.path(), "replica.db")?;
    seed_records(&mut source, &library, records)?;
    let everything = source.knowledge(|_| false)?;
    let mut plan = source.plan_for(&everything, |_| true)?;
    while let Some(batch) = source.next_batch(&mut plan, 256 * 1024)? {
        replica.apply_batch(&batch)?;
    }

    let known = replica.knowledge(|_| true)?;
    for i in 0..changes {
        edit_record(
            &mut source,
            &library,
            i % records.max(1),
            1 + i / records.max(1),
        )?;
    }
    let mut plan = source.plan_for(&known, |_| true)?;
    let mut batches = Vec::new();
    while let Some(batch) = source.next_batch(&mut plan, 256 * 1024)? {
        batches.push(batch);
    }

    let started = Instant::now();
    let mut merged = 0usize;
    for batch in &batches {
        merged += replica.apply_batch(batch)?.new_changes;
    }
    let seconds = started.elapsed().as_secs_f64();
    let converged = source.content_digest()? == replica.content_digest()?;
    Ok(json!({
        "bench": "apply",
        "changes": merged,
        "batches": batches.len(),
        "seconds": seconds,
        "changes_per_second": merged as f64 / seconds.max(1e-9),
        "converged": converged,
    }))
}
