//! `tusach import`: records from a file into the catalogue. MARC21 (ISO 2709 or MARCXML,
//! told apart by their content) here; books and readers lists (`.xlsx`, `.csv`) in
//! [`crate::import_sheet_cmd`]. A MARC21 import is planned in full first (`--dry-run`
//! stops there and says what would happen) and then written as one commit.
//!
//! The file is read and parsed before the store is taken, so `serve` keeps answering while a
//! large file is parsed. Like every console command this runs alone on the data folder or
//! inside `serve` (see [`crate::console`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::cataloguing::marc::{self, import::ImportPlan};
use crate::clock::WallClock;
use crate::console::Console;
use crate::spreadsheets::SheetFormat;

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    what: ImportWhat,
}

#[derive(clap::Subcommand)]
enum ImportWhat {
    /// MARC21 records from an ISO 2709 (.mrc, UTF-8 or MARC-8) or MARCXML file.
    Marc {
        file: PathBuf,
        /// Only say what would be created, merged and skipped; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Books or readers from an Excel workbook (.xlsx), as communes keep their lists.
    Xlsx {
        #[command(flatten)]
        list: crate::import_sheet_cmd::ListArgs,
        /// The worksheet to read (by its name); the first when left out.
        #[arg(long)]
        sheet: Option<String>,
    },
    /// Books or readers from a .csv file (comma or semicolon separated, UTF-8).
    Csv {
        #[command(flatten)]
        list: crate::import_sheet_cmd::ListArgs,
    },
}

impl ImportArgs {
    pub fn resolve_paths(&mut self, cwd: &Path) {
        let file = match &mut self.what {
            ImportWhat::Marc { file, .. } => file,
            ImportWhat::Xlsx { list, .. } | ImportWhat::Csv { list } => &mut list.file,
        };
        if file.is_relative() {
            *file = cwd.join(&*file);
        }
    }
}

pub fn run(console: &mut Console<'_>, args: ImportArgs) -> anyhow::Result<()> {
    let (file, dry_run, json) = match args.what {
        ImportWhat::Marc {
            file,
            dry_run,
            json,
        } => (file, dry_run, json),
        ImportWhat::Xlsx { list, sheet } => {
            return crate::import_sheet_cmd::run(console, SheetFormat::Xlsx, list, sheet);
        }
        ImportWhat::Csv { list } => {
            return crate::import_sheet_cmd::run(console, SheetFormat::Csv, list, None);
        }
    };
    let started = Instant::now();
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    // The whole file is read and checked before anything is planned, record by record so a
    // large file is never all in memory as records.
    let (format, count) =
        marc::check(&bytes).with_context(|| format!("{}: nothing was imported", file.display()))?;
    let parsed = started.elapsed();
    let store = console.sync.store().clone();
    let mut store = store
        .lock()
        .map_err(|_| anyhow::anyhow!("the store is unavailable"))?;
    let (_, records) = marc::records(&bytes)?;
    let mut plan = marc::import::plan(&mut store, format, records)
        .context("planning the import: nothing was imported")?;
    drop(bytes);
    if !dry_run {
        let today = WallClock::load(store.connection())?.today();
        marc::import::apply(&mut store, &mut plan, today)
            .context("writing the import: nothing was imported")?;
    }
    drop(store);
    crate::process::report_peak_rss_if_asked();
    let out = &mut *console.out;
    if json {
        let skipped: Vec<serde_json::Value> = plan
            .skipped()
            .iter()
            .map(|(record, reason)| serde_json::json!({"record": record, "reason": reason.to_string()}))
            .collect();
        let report = serde_json::json!({
            "file": file.display().to_string(),
            "format": format.name(),
            "dry_run": dry_run,
            "records": count,
            "created": plan.created(),
            "merged": plan.merged(),
            "skipped": skipped,
            "created_ids": plan.created_ids(),
            "parse_seconds": parsed.as_secs_f64(),
            "seconds": started.elapsed().as_secs_f64(),
        });
        writeln!(out, "{report}")?;
    } else {
        writeln!(out, "{}", summary(&plan, dry_run))?;
    }
    Ok(())
}

/// "created 120, merged 3, skipped 2 (record 17: no title; …)", or what would happen.
pub fn summary(plan: &ImportPlan, dry_run: bool) -> String {
    let skipped = plan.skipped();
    let (create, merge, skip) = if dry_run {
        ("would create", "merge", "skip")
    } else {
        ("created", "merged", "skipped")
    };
    let mut line = format!(
        "{create} {}, {merge} {}, {skip} {}",
        plan.created(),
        plan.merged(),
        skipped.len()
    );
    if !skipped.is_empty() {
        let reasons: Vec<String> = skipped
            .iter()
            .map(|(record, reason)| format!("record {record}: {reason}"))
            .collect();
        line.push_str(&format!(" ({})", reasons.join("; ")));
    }
    line
}
