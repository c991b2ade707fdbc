//! Imports a librarian starts from the staff pages rather than the console: a books or
//! readers list (`.xlsx`, `.csv`) or a MARC21 file (ISO 2709, MARCXML), taken through the
//! steps of the import page: upload, the columns of a list, the preview, then the import in
//! the background with its progress.
//!
//! [`ImportFile`] is the uploaded file and what kind it is; [`ListChoices`] what the librarian
//! chose for a list (what it holds, the sheet, the header row, what each column holds);
//! [`columns_view`] what the columns page shows; [`preview`] what importing would do;
//! [`run`] does it, reporting to an [`ImportProgress`] as it reads, checks and writes.
//! [`pending`] keeps the files between the steps, each owned by one session.
//!
//! The work itself is [`crate::spreadsheets`]' and [`crate::cataloguing::marc`]'s, with the
//! same guarantees as `tusach import`: every row or record is checked before anything is
//! written, one bad row writes nothing, and the import is one commit. This module knows
//! nothing about HTTP and reads no files: it takes the bytes the page received.

pub mod pending;
mod progress;

use std::sync::Mutex;

use chrono::NaiveDate;
use tusach_sync::{Store, StoreError};

use crate::cataloguing::marc::{self, MarcError, import::ImportPlan, import::SkipReason};
use crate::circulation::library::Desk;
use crate::spreadsheets::headers::{
    ColumnMap, Field, MapError, guess_columns, header_candidates, map_chosen, map_columns,
};
use crate::spreadsheets::{self, Row, RowError, RowKind, SheetError, SheetFormat, books, readers};

pub use progress::{ImportProgress, Phase, ProgressView};

/// The kinds of file the import page takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// An Excel workbook of books or readers.
    Xlsx,
    /// A CSV list of books or readers.
    Csv,
    /// MARC21 records, ISO 2709 or MARCXML (told apart by their content).
    Marc,
}

impl FileFormat {
    /// The format of an uploaded file, from its content first and then its name: a zip is a
    /// workbook whatever it is called; MARCXML starts with `<`; ISO 2709 with a record length
    /// and a leader. Anything else named `.csv` or `.txt`, or not named at all, is read as CSV.
    pub fn detect(name: &str, bytes: &[u8]) -> Result<FileFormat, ImportError> {
        let extension = name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        if bytes.starts_with(b"PK\x03\x04") {
            return Ok(FileFormat::Xlsx);
        }
        match extension.as_str() {
            // The Excel 97–2003 format: calamine reads it, but its cells' types differ and
            // nobody has tested it here; saving as .xlsx is one click.
            "xls" => return Err(ImportError::OldExcel),
            "ods" | "numbers" | "doc" | "docx" | "pdf" => {
                return Err(ImportError::UnknownFormat(extension));
            }
            "mrc" | "marc" | "iso" | "xml" => return Ok(FileFormat::Marc),
            _ => {}
        }
        if looks_like_marc(bytes) {
            return Ok(FileFormat::Marc);
        }
        Ok(FileFormat::Csv)
    }

    /// The lists' own formats (`None` for MARC).
    fn sheet_format(self) -> Option<SheetFormat> {
        match self {
            FileFormat::Xlsx => Some(SheetFormat::Xlsx),
            FileFormat::Csv => Some(SheetFormat::Csv),
            FileFormat::Marc => None,
        }
    }
}

/// ISO 2709 opens with five digits of record length and a leader whose bytes 10–11 are "22";
/// MARCXML with `<` and a mention of MARC.
fn looks_like_marc(bytes: &[u8]) -> bool {
    let iso =
        bytes.len() >= 24 && bytes[..5].iter().all(u8::is_ascii_digit) && &bytes[10..12] == b"22";
    let head = &bytes[..bytes.len().min(512)];
    let xml = marc::Format::detect(bytes) == marc::Format::MarcXml
        && String::from_utf8_lossy(head)
            .to_lowercase()
            .contains("marc");
    iso || xml
}

/// A file uploaded for import, kept until it is imported or forgotten.
#[derive(Clone, Debug)]
pub struct ImportFile {
    /// The name the librarian's device gave it (shown, never used as a path).
    pub name: String,
    pub format: FileFormat,
    pub bytes: Vec<u8>,
}

impl ImportFile {
    pub fn is_list(&self) -> bool {
        self.format != FileFormat::Marc
    }

    /// The worksheets of a workbook, in order (none for other files).
    pub fn sheets(&self) -> Result<Vec<String>, ImportError> {
        match self.format {
            FileFormat::Xlsx => Ok(spreadsheets::table::xlsx_sheet_names(&self.bytes)?),
            _ => Ok(Vec::new()),
        }
    }
}

/// What a librarian chose for a list. Until the columns are chosen, they are recognised by
/// their headers as `tusach import` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListChoices {
    pub kind: RowKind,
    /// The worksheet of a workbook (the first when `None`).
    pub sheet: Option<String>,
    /// The header row's line (found when `None`).
    pub header_line: Option<usize>,
    /// What each column of the header row holds, by column; `None` for a column to ignore.
    pub columns: Option<Vec<Option<Field>>>,
}

impl ListChoices {
    pub fn new(kind: RowKind) -> ListChoices {
        ListChoices {
            kind,
            sheet: None,
            header_line: None,
            columns: None,
        }
    }
}

/// Why a file cannot be imported (a problem with a row is a [`RowError`] in the plan).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("an Excel 97-2003 .xls file; it must be saved as .xlsx")]
    OldExcel,
    #[error("a .{0} file is neither a list nor MARC21")]
    UnknownFormat(String),
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(transparent)]
    Columns(#[from] MapError),
    #[error(transparent)]
    Marc(#[from] MarcError),
    /// The check made at import time found bad rows (the catalogue changed since the preview,
    /// say): nothing was written.
    #[error("{} line(s) with errors: nothing was imported", bad_lines(.0))]
    BadRows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the store is unavailable (a thread holding it failed)")]
    StoreUnavailable,
    #[error("{0}")]
    Internal(String),
}

impl ImportError {
    /// Whether trying again later may help (the store was busy or failed), as opposed to a
    /// file that needs mending.
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            ImportError::Store(_) | ImportError::StoreUnavailable | ImportError::Internal(_)
        )
    }
}

/// How many lines have errors (a line with two counted once).
pub fn bad_lines(errors: &[RowError]) -> usize {
    let mut lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.len()
}

impl From<books::BooksError> for ImportError {
    fn from(error: books::BooksError) -> ImportError {
        match error {
            books::BooksError::Columns(e) => ImportError::Columns(e),
            books::BooksError::Store(e) => ImportError::Store(e),
            other => ImportError::Internal(other.to_string()),
        }
    }
}

impl From<readers::ReadersError> for ImportError {
    fn from(error: readers::ReadersError) -> ImportError {
        match error {
            readers::ReadersError::Columns(e) => ImportError::Columns(e),
            readers::ReadersError::Store(e) => ImportError::Store(e),
            other => ImportError::Internal(other.to_string()),
        }
    }
}

impl From<marc::import::ImportError> for ImportError {
    fn from(error: marc::import::ImportError) -> ImportError {
        match error {
            marc::import::ImportError::Marc(e) => ImportError::Marc(e),
            marc::import::ImportError::Store(e) => ImportError::Store(e),
            other => ImportError::Internal(other.to_string()),
        }
    }
}

/// The rows of a list, from the chosen sheet.
fn read_list(file: &ImportFile, choices: &ListChoices) -> Result<Vec<Row>, ImportError> {
    let format = file
        .format
        .sheet_format()
        .ok_or_else(|| ImportError::Internal("a MARC file read as a list".into()))?;
    Ok(spreadsheets::read_rows(
        format,
        &file.bytes,
        choices.sheet.as_deref(),
    )?)
}

/// Which column holds what: the librarian's choice, else the headers as recognised.
fn column_map(rows: &[Row], choices: &ListChoices) -> Result<ColumnMap, ImportError> {
    match (&choices.columns, choices.header_line) {
        (Some(chosen), Some(line)) => Ok(map_chosen(choices.kind, rows, line, chosen)?),
        _ => Ok(map_columns(choices.kind, rows, &[])?),
    }
}

/// What the columns page shows of a list.
#[derive(Clone, Debug)]
pub struct ColumnsView {
    /// The workbook's sheets (empty for a CSV) and the one read.
    pub sheets: Vec<String>,
    pub sheet: Option<String>,
    /// The lines a librarian may take as the header, each with a glimpse of its cells.
    pub header_lines: Vec<(usize, String)>,
    pub header_line: usize,
    pub columns: Vec<ColumnView>,
}

/// One column of the header row.
#[derive(Clone, Debug)]
pub struct ColumnView {
    /// "A", "B"… as Excel shows it.
    pub letter: String,
    /// The header as written (may be empty).
    pub header: String,
    /// What it holds: the librarian's choice, else what its header names.
    pub field: Option<Field>,
    /// The first few values below the header, to recognise the column by.
    pub examples: Vec<String>,
}

/// Values shown beside each column.
const EXAMPLES: usize = 3;

/// The most columns a librarian is asked about; the rest are ignored.
pub const MAX_COLUMNS: usize = 60;

/// The header row of a list (the librarian's, else the one it seems to be) and what each
/// column holds (the librarian's choice for that row, else what its header names).
pub fn columns_view(file: &ImportFile, choices: &ListChoices) -> Result<ColumnsView, ImportError> {
    let sheets = file.sheets()?;
    let rows = read_list(file, choices)?;
    let guess = guess_columns(choices.kind, &rows, choices.header_line)
        .or_else(|| guess_columns(choices.kind, &rows, None))
        .ok_or(SheetError::Empty)?;
    let chosen = choices
        .columns
        .as_ref()
        .filter(|_| choices.header_line == Some(guess.header_line));
    let below = &rows[guess.header_index + 1..];
    // Up to the last column with a header: a sheet's used range often runs further.
    let width = guess
        .columns
        .iter()
        .rposition(|(header, _)| !header.is_empty())
        .map_or(0, |last| last + 1)
        .min(MAX_COLUMNS);
    let columns = guess
        .columns
        .iter()
        .take(width)
        .enumerate()
        .map(|(column, (header, recognised))| ColumnView {
            letter: spreadsheets::headers::column_letter(column),
            header: header.clone(),
            field: match chosen {
                Some(chosen) => chosen.get(column).copied().flatten(),
                None => *recognised,
            },
            examples: below
                .iter()
                .map(|row| row.cell(column))
                .filter(|cell| !cell.is_empty())
                .take(EXAMPLES)
                .map(str::to_owned)
                .collect(),
        })
        .collect();
    let header_lines = header_candidates(&rows)
        .map(|row| {
            let cells: Vec<&str> = row
                .cells
                .iter()
                .map(String::as_str)
                .filter(|c| !c.is_empty())
                .take(4)
                .collect();
            (row.line, cells.join(" · "))
        })
        .collect();
    Ok(ColumnsView {
        sheets,
        sheet: choices.sheet.clone(),
        header_lines,
        header_line: guess.header_line,
        columns,
    })
}

/// Reads the whole file once, so a file that cannot be read is refused when it is uploaded
/// rather than at a later step: a list's chosen sheet, every record of a MARC file.
pub fn check_file(file: &ImportFile, choices: &ListChoices) -> Result<(), ImportError> {
    if file.is_list() {
        columns_view(file, choices).map(|_| ())
    } else {
        marc::check(&file.bytes)
            .map(|_| ())
            .map_err(ImportError::from)
    }
}

/// Checks a librarian's choice of columns against the list: two columns may not hold one
/// field, and the title (books) or name (readers) needs one.
pub fn check_columns(file: &ImportFile, choices: &ListChoices) -> Result<(), ImportError> {
    let rows = read_list(file, choices)?;
    column_map(&rows, choices).map(|_| ())
}

/// What importing a file would do; writes nothing.
#[derive(Debug)]
pub enum Preview {
    Books(books::BooksPlan),
    Readers(readers::ReadersPlan),
    Marc { records: usize, plan: ImportPlan },
}

impl Preview {
    /// Every bad row (MARC files have none: a damaged record stops the file).
    pub fn errors(&self) -> &[RowError] {
        match self {
            Preview::Books(plan) => &plan.errors,
            Preview::Readers(plan) => &plan.errors,
            Preview::Marc { .. } => &[],
        }
    }
}

/// Plans the import as [`run`] will, writing nothing: the preview.
pub fn preview(
    store: &mut Store,
    desk: &Desk,
    file: &ImportFile,
    choices: &ListChoices,
    today: NaiveDate,
) -> Result<Preview, ImportError> {
    if !file.is_list() {
        let (format, records) = marc::check(&file.bytes)?;
        let (_, read) = marc::records(&file.bytes)?;
        let plan = marc::import::plan(store, format, read)?;
        return Ok(Preview::Marc { records, plan });
    }
    let rows = read_list(file, choices)?;
    let columns = column_map(&rows, choices)?;
    Ok(match choices.kind {
        RowKind::Books => Preview::Books(books::plan_mapped(
            store,
            desk,
            &rows,
            columns,
            today,
            &mut |_| {},
        )?),
        RowKind::Readers => Preview::Readers(readers::plan_mapped(
            store,
            desk,
            &rows,
            columns,
            today,
            &mut |_| {},
        )?),
    })
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportSummary {
    Books {
        new_records: usize,
        existing_records: usize,
        copies: usize,
    },
    Readers {
        registered: usize,
        already: usize,
        /// The first and last card numbers the import made up, when the list had none.
        cards_given: Option<(String, String)>,
    },
    Marc {
        records: usize,
        created: usize,
        merged: usize,
        skipped: Vec<(usize, SkipReason)>,
    },
}

/// Imports `file` as one commit, planning it again first (the catalogue may have changed
/// since the preview), and tells `progress` how far it is and, at the end, what it did or
/// why it did nothing. The file is read before the store is taken, so pages keep answering
/// meanwhile; the store is then held from the check to the commit, so nothing written by
/// another desk in between can make the plan wrong.
pub fn run(
    store: &Mutex<Store>,
    desk: &Desk,
    file: &ImportFile,
    choices: &ListChoices,
    today: NaiveDate,
    progress: &ImportProgress,
) {
    // A bug in the importers must not leave the page saying "checking" forever; the store
    // itself is left as one commit makes it, all or nothing.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if file.is_list() {
            run_list(store, desk, file, choices, today, progress)
        } else {
            run_marc(store, file, today, progress)
        }
    }))
    .unwrap_or_else(|_| Err(ImportError::Internal("the import failed (a bug)".into())));
    progress.finish(outcome);
}

fn run_list(
    store: &Mutex<Store>,
    desk: &Desk,
    file: &ImportFile,
    choices: &ListChoices,
    today: NaiveDate,
    progress: &ImportProgress,
) -> Result<ImportSummary, ImportError> {
    progress.enter(Phase::Reading, 0);
    let rows = read_list(file, choices)?;
    let columns = column_map(&rows, choices)?;
    let total = rows.len().saturating_sub(columns.header_index + 1);
    progress.enter(Phase::Waiting, total);
    let mut store = store.lock().map_err(|_| ImportError::StoreUnavailable)?;
    progress.enter(Phase::Checking, total);
    let mut checked = |done| progress.advance(done);
    match choices.kind {
        RowKind::Books => {
            let plan = books::plan_mapped(&mut store, desk, &rows, columns, today, &mut checked)?;
            if !plan.errors.is_empty() {
                return Err(ImportError::BadRows(plan.errors));
            }
            progress.enter(Phase::Writing, plan.copies());
            books::apply(&mut store, desk, &plan, today)?;
            Ok(ImportSummary::Books {
                new_records: plan.new_records(),
                existing_records: plan.existing_records(),
                copies: plan.copies(),
            })
        }
        RowKind::Readers => {
            let plan = readers::plan_mapped(&mut store, desk, &rows, columns, today, &mut checked)?;
            if !plan.errors.is_empty() {
                return Err(ImportError::BadRows(plan.errors));
            }
            progress.enter(Phase::Writing, plan.rows.len());
            readers::apply(&mut store, desk, &plan, today)?;
            let mut given = plan.rows.iter().filter(|r| r.card_generated);
            let first = given.next().map(|r| r.reader.card.clone());
            let last = given.next_back().map(|r| r.reader.card.clone());
            Ok(ImportSummary::Readers {
                registered: plan.rows.len(),
                already: plan.already.len(),
                cards_given: first.map(|first| {
                    let last = last.unwrap_or_else(|| first.clone());
                    (first, last)
                }),
            })
        }
    }
}

fn run_marc(
    store: &Mutex<Store>,
    file: &ImportFile,
    today: NaiveDate,
    progress: &ImportProgress,
) -> Result<ImportSummary, ImportError> {
    // The whole file is read and checked before anything is planned, as `tusach import marc`
    // does; how many records that is, is known only at its end.
    progress.enter(Phase::Reading, 0);
    let (format, read) = marc::records(&file.bytes)?;
    let mut records = 0;
    for record in read {
        record?;
        records += 1;
        progress.advance(records);
    }
    if records == 0 {
        return Err(MarcError::NoRecords.into());
    }
    progress.enter(Phase::Waiting, records);
    let mut store = store.lock().map_err(|_| ImportError::StoreUnavailable)?;
    progress.enter(Phase::Checking, records);
    let (_, read) = marc::records(&file.bytes)?;
    let mut seen = 0;
    let counted = read.inspect(|_| {
        seen += 1;
        progress.advance(seen);
    });
    let mut plan = marc::import::plan(&mut store, format, counted)?;
    progress.enter(Phase::Writing, plan.created() + plan.merged());
    marc::import::apply_counting(&mut store, &mut plan, today, &mut |done| {
        progress.advance(done)
    })?;
    Ok(ImportSummary::Marc {
        records,
        created: plan.created(),
        merged: plan.merged(),
        skipped: plan
            .skipped()
            .into_iter()
            .map(|(record, reason)| (record, reason.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests;
