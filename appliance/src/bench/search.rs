//! `search`: catalogue queries on 100,000 records, server side. A fixed mix of accented,
//! unaccented, as-you-type prefix and ISBN queries runs through [`crate::search::search`] and,
//! as the baseline in the same run, as a bare FTS5 MATCH of the same folded prefix query on
//! the same table.

use std::time::Instant;

use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use crate::data_dir::DataDir;
use crate::sample::SampleLibrary;
use crate::search::{self, SearchQuery, fold};

const ROUNDS: usize = 50;
const LIMIT: usize = 20;

fn queries(library: &SampleLibrary) -> Vec<String> {
    let mut queries: Vec<String> = [
        // accented
        "Nguyễn Du",
        "Truyện Kiều",
        "đường",
        "Kỹ thuật trồng lúa",
        "Lịch sử Nghệ An",
        // unaccented
        "nguyen du",
        "truyen co tich",
        "ky thuat trong lua",
        "lich su nghe an",
        "cam nang suc khoe",
        // typed so far
        "ngu",
        "truy",
        "ky th",
        "dế m",
        "lich s",
    ]
    .iter()
    .map(|q| (*q).to_owned())
    .collect();
    queries.extend(
        (0..100)
            .map(|n| library.record(n).isbn)
            .filter(|i| !i.is_empty())
            .take(5),
    );
    queries
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

pub fn run(records: u64) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let data = DataDir::new(dir.path().join("data"));
    let seeding = Instant::now();
    crate::dev::seed(&data, 0, records, 500, true)?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    let conn = Connection::open_with_flags(data.database_path(), OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let library = SampleLibrary::new(2026);
    let queries = queries(&library);

    let mut ours = Vec::with_capacity(ROUNDS * queries.len());
    let mut bare = Vec::with_capacity(ROUNDS * queries.len());
    let mut found = 0usize;
    let mut by_query: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
    for _ in 0..ROUNDS {
        for (i, text) in queries.iter().enumerate() {
            let started = Instant::now();
            found += search::search(&conn, &SearchQuery { text, limit: LIMIT })?.len();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            ours.push(ms);
            by_query[i].push(ms);

            let started = Instant::now();
            if let Some(fts) = search::fts_query(&fold::fold(text), search::Key::Folded, true) {
                crate::db::bare_fts(&conn, &fts, LIMIT)?;
            }
            bare.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ours.sort_by(f64::total_cmp);
    let slowest: serde_json::Map<String, serde_json::Value> = queries
        .iter()
        .zip(by_query.iter_mut())
        .map(|(q, times)| {
            times.sort_by(f64::total_cmp);
            (q.clone(), json!(percentile(times, 0.95)))
        })
        .collect();
    bare.sort_by(f64::total_cmp);
    let p95 = percentile(&ours, 0.95);
    let bare_p95 = percentile(&bare, 0.95);
    Ok(json!({
        "bench": "search",
        "records": records,
        "queries": queries.len(),
        "searches": ours.len(),
        "results_per_search": found as f64 / ours.len().max(1) as f64,
        "p50_ms": percentile(&ours, 0.5),
        "p95_ms": p95,
        "bare_fts5_p50_ms": percentile(&bare, 0.5),
        "bare_fts5_p95_ms": bare_p95,
        "seed_seconds": seed_seconds,
        "p95_ms_by_query": slowest,
        "goal_met": p95 <= 10.0 && p95 <= 2.0 * bare_p95,
    }))
}
