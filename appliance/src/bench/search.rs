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
    let times = measure(&data)?;
    Ok(json!({
        "bench": "search",
        "records": records,
        "queries": times.queries,
        "searches": times.ours.len(),
        "results_per_search": times.results_per_search,
        "p50_ms": percentile(&times.ours, 0.5),
        "p95_ms": times.p95(),
        "bare_fts5_p50_ms": percentile(&times.bare, 0.5),
        "bare_fts5_p95_ms": percentile(&times.bare, 0.95),
        "seed_seconds": seed_seconds,
        "p95_ms_by_query": times.by_query,
        "goal_met": times.p95() <= 10.0 && times.p95() <= 2.0 * percentile(&times.bare, 0.95),
    }))
}

/// Search latencies on one data folder: ours and the bare FTS5 baseline, each sorted.
pub(super) struct SearchTimes {
    queries: usize,
    pub ours: Vec<f64>,
    bare: Vec<f64>,
    results_per_search: f64,
    by_query: serde_json::Map<String, serde_json::Value>,
}

impl SearchTimes {
    pub fn p95(&self) -> f64 {
        percentile(&self.ours, 0.95)
    }
}

/// Runs the fixed query mix [`ROUNDS`] times on a data folder's catalogue (read-only).
pub(super) fn measure(data: &DataDir) -> anyhow::Result<SearchTimes> {
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
    bare.sort_by(f64::total_cmp);
    let by_query = queries
        .iter()
        .zip(by_query.iter_mut())
        .map(|(q, times)| {
            times.sort_by(f64::total_cmp);
            (q.clone(), json!(percentile(times, 0.95)))
        })
        .collect();
    Ok(SearchTimes {
        queries: queries.len(),
        results_per_search: found as f64 / ours.len().max(1) as f64,
        ours,
        bare,
        by_query,
    })
}
