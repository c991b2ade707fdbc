//! `tusach import xlsx|csv FILE --as books|readers`: a commune's books or readers list into
//! the catalogue and the desk, all or nothing. Every row is checked first; a file with any bad
//! row imports nothing and lists each problem with its line and column, in Vietnamese and
//! English; `--dry-run` stops after the check and says what would happen.
//!
//! The file is read into rows before the store is taken, so `serve` keeps answering while it
//! is parsed. Like every console command this runs alone or inside `serve` (see
//! [`crate::console`]); the work is [`crate::spreadsheets`]'s.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::clock::WallClock;
use crate::console::Console;
use crate::home_library::{HomeLibrary, LibraryChoice};
use crate::spreadsheets::headers::{ColumnMap, parse_overrides};
use crate::spreadsheets::{self, RowError, RowKind, SheetFormat, books, readers};

/// What the list holds, as `--as` takes it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ListKind {
    Books,
    Readers,
}

#[derive(clap::Args)]
pub struct ListArgs {
    pub file: PathBuf,
    /// What the list holds: books (with their copies' barcodes) or readers.
    #[arg(long = "as", value_enum)]
    pub kind: ListKind,
    /// A column whose header is not recognised, as "Header=field" (repeatable), e.g.
    /// --map "Tên truyện=title". Fields: title, authors, publisher, year, isbn, barcode, ddc,
    /// shelf, pages, language; name, class, school, card, category, born, contact, expires.
    #[arg(long = "map")]
    pub map: Vec<String>,
    /// Only check the list and say what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object instead of sentences.
    #[arg(long)]
    pub json: bool,
}

pub fn run(
    console: &mut Console<'_>,
    format: SheetFormat,
    args: ListArgs,
    sheet: Option<String>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let kind = match args.kind {
        ListKind::Books => RowKind::Books,
        ListKind::Readers => RowKind::Readers,
    };
    let overrides = parse_overrides(kind, &args.map)?;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let rows = spreadsheets::read_rows(format, &bytes, sheet.as_deref())
        .with_context(|| format!("{}: nothing was imported", args.file.display()))?;
    drop(bytes);
    let store = console.sync.store().clone();
    let mut store = store
        .lock()
        .map_err(|_| anyhow::anyhow!("the store is unavailable"))?;
    let today = WallClock::load(store.connection())?.today();
    let library = HomeLibrary::settle(&mut store, &LibraryChoice::default())?;
    let desk = library.desk(&store.device_id().to_hex())?;
    let mut report = serde_json::json!({
        "file": args.file.display().to_string(),
        "format": format.name(),
        "dry_run": args.dry_run,
    });
    let (sentence, errors, columns) = match kind {
        RowKind::Books => {
            let plan = books::plan(&mut store, &desk, &rows, &overrides, today)?;
            let clean = plan.errors.is_empty();
            if clean && !args.dry_run {
                books::apply(&mut store, &desk, &plan, today)
                    .context("writing the import: nothing was imported")?;
            }
            let created: Vec<&str> = plan
                .rows
                .iter()
                .filter(|r| matches!(r.target, books::Target::New { .. }))
                .map(|r| r.target.id())
                .collect();
            report["kind"] = "books".into();
            report["new_records"] = plan.new_records().into();
            report["existing_records"] = plan.existing_records().into();
            report["copies"] = plan.copies().into();
            report["created_ids"] = created.into();
            let sentence = format!(
                "{} sách mới, {} đã có trong mục lục (thêm bản), {} bản sách / \
                 {} new books, {} already in the catalogue (copies added), {} copies",
                plan.new_records(),
                plan.existing_records(),
                plan.copies(),
                plan.new_records(),
                plan.existing_records(),
                plan.copies(),
            );
            (sentence, plan.errors, plan.columns)
        }
        RowKind::Readers => {
            let plan = readers::plan(&mut store, &desk, &rows, &overrides, today)?;
            let clean = plan.errors.is_empty();
            if clean && !args.dry_run {
                readers::apply(&mut store, &desk, &plan, today)
                    .context("writing the import: nothing was imported")?;
            }
            let cards: Vec<&str> = plan.rows.iter().map(|r| r.reader.card.as_str()).collect();
            let generated: Vec<&str> = plan
                .rows
                .iter()
                .filter(|r| r.card_generated)
                .map(|r| r.reader.card.as_str())
                .collect();
            report["kind"] = "readers".into();
            report["new_readers"] = plan.rows.len().into();
            report["cards"] = cards.into();
            report["already"] = plan
                .already
                .iter()
                .map(|(line, card)| serde_json::json!({"line": line, "card": card}))
                .collect::<Vec<_>>()
                .into();
            let mut sentence = format!(
                "{} bạn đọc mới, {} đã có (để nguyên) / {} new readers, {} already registered (left as they are)",
                plan.rows.len(),
                plan.already.len(),
                plan.rows.len(),
                plan.already.len(),
            );
            if let (Some(first), Some(last)) = (generated.first(), generated.last()) {
                sentence.push_str(&format!(
                    "\nSố thẻ tự cấp: {first}–{last} / Card numbers given: {first}–{last}"
                ));
            }
            (sentence, plan.errors, plan.columns)
        }
    };
    drop(store);
    let imported = errors.is_empty() && !args.dry_run;
    let out = &mut *console.out;
    if args.json {
        report["imported"] = imported.into();
        report["header_line"] = columns.header_line.into();
        report["columns"] = columns
            .recognised()
            .into_iter()
            .map(|(field, header)| (field.name().to_owned(), header.into()))
            .collect::<serde_json::Map<_, _>>()
            .into();
        report["ignored"] = columns.ignored.clone().into();
        report["errors"] = errors
            .iter()
            .map(|e| serde_json::json!({"line": e.line, "column": e.column, "vi": e.vi(), "en": e.en()}))
            .collect::<Vec<_>>()
            .into();
        report["seconds"] = started.elapsed().as_secs_f64().into();
        writeln!(out, "{report}")?;
    } else {
        write_sentences(out, &sentence, &columns, &errors, args.dry_run)?;
    }
    if !errors.is_empty() {
        anyhow::bail!(
            "{}: {} dòng lỗi, không nhập gì / errors on {} line(s), nothing was imported",
            args.file.display(),
            lines(&errors),
            lines(&errors)
        );
    }
    Ok(())
}

fn lines(errors: &[RowError]) -> usize {
    let mut lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    lines.len()
}

fn write_sentences(
    out: &mut dyn std::io::Write,
    sentence: &str,
    columns: &ColumnMap,
    errors: &[RowError],
    dry_run: bool,
) -> std::io::Result<()> {
    if !columns.ignored.is_empty() {
        let ignored = columns.ignored.join(", ");
        writeln!(out, "Bỏ qua cột: {ignored} / Columns ignored: {ignored}")?;
    }
    if !errors.is_empty() {
        let n = lines(errors);
        writeln!(
            out,
            "Không nhập gì: {n} dòng lỗi. Sửa các dòng này rồi nhập lại cả tệp. / \
             Nothing was imported: errors on {n} line(s). Correct them and import the whole file again."
        )?;
        for error in errors {
            writeln!(out, "  {} / {}", error.vi(), error.en())?;
        }
        return Ok(());
    }
    if dry_run {
        writeln!(
            out,
            "Sẽ nhập (chưa ghi gì) / Would import (nothing written): {sentence}"
        )
    } else {
        writeln!(out, "{sentence}")
    }
}
