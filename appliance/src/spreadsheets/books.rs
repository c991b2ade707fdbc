//! A books list into the catalogue: every row makes or finds a record and adds its copies
//! (one per barcode in the "Số ĐKCB" cell) to this library.
//!
//! A row is the same book as a record of the catalogue when it has that record's ISBN, or,
//! without an ISBN, the same title, first author and year (compared without marks or case);
//! likewise for an earlier row of the file, whose record the row then shares. Every row is
//! checked before anything is written ([`plan`]); [`apply`] writes records to the network
//! scope and copies to the library's scope in one commit, and only for a plan with no errors.

use std::collections::HashMap;

use chrono::NaiveDate;
use tusach_sync::{EntityKey, Store, StoreError, Value, WriteBatch};

use super::headers::{ColumnMap, Field, MapError, MapOverride, folded, map_columns};
use super::{Problem, Row, RowError, RowKind, parse_year};
use crate::catalogue::{RECORDS, network_scope, record_key};
use crate::cataloguing::{self, CatalogueError, isbn, valid_barcode};
use crate::circulation::library::{COPIES, Desk};

/// Longest title, author list or publisher a cell may hold (a longer one is a pasted note).
const MAX_TEXT_CHARS: usize = 500;

/// The fields of a new record, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookFields {
    pub title: String,
    pub authors: Vec<String>,
    pub publisher: String,
    pub year: Option<i64>,
    pub isbn: Option<String>,
    pub ddc: String,
    pub pages: Option<i64>,
    pub language: String,
}

/// Which record a row's copies go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A record this import makes.
    New { id: String, book: BookFields },
    /// A record already in the catalogue.
    Existing { id: String },
    /// The record an earlier row of the file makes or finds.
    SameAs { line: usize, id: String },
}

impl Target {
    pub fn id(&self) -> &str {
        match self {
            Target::New { id, .. } | Target::Existing { id } | Target::SameAs { id, .. } => id,
        }
    }
}

/// One row of the list, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookRow {
    pub line: usize,
    pub target: Target,
    pub barcodes: Vec<String>,
    pub shelf: String,
}

/// What importing a books list will do, or why it cannot.
#[derive(Clone, Debug)]
pub struct BooksPlan {
    pub columns: ColumnMap,
    pub rows: Vec<BookRow>,
    /// Every problem found, by line; a plan with any imports nothing.
    pub errors: Vec<RowError>,
}

impl BooksPlan {
    pub fn new_records(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.target, Target::New { .. }))
            .count()
    }

    /// Records already in the catalogue that rows add copies to (each counted once).
    pub fn existing_records(&self) -> usize {
        let mut ids: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| matches!(r.target, Target::Existing { .. }))
            .map(|r| r.target.id())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    pub fn copies(&self) -> usize {
        self.rows.iter().map(|r| r.barcodes.len()).sum()
    }

    /// The lines that have an error (a line with two errors counted once).
    pub fn bad_lines(&self) -> usize {
        lines_with_errors(&self.errors)
    }
}

pub(super) fn lines_with_errors(errors: &[RowError]) -> usize {
    let mut lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    lines.len()
}

#[derive(Debug, thiserror::Error)]
pub enum BooksError {
    #[error(transparent)]
    Columns(#[from] MapError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(
        "Tệp có {0} dòng lỗi: không nhập gì. / The file has {0} line(s) with errors: nothing was imported."
    )]
    HasErrors(usize),
}

/// What a record is matched on when it has no ISBN.
type BookKey = (String, String, Option<i64>);

fn book_key(title: &str, first_author: Option<&str>, year: Option<i64>) -> BookKey {
    (folded(title), folded(first_author.unwrap_or("")), year)
}

/// The catalogue's records by ISBN and by title, first author and year.
#[derive(Default)]
struct Catalogue {
    by_isbn: HashMap<String, String>,
    by_key: HashMap<BookKey, String>,
}

impl Catalogue {
    fn load(store: &mut Store) -> Result<Catalogue, StoreError> {
        let mut catalogue = Catalogue::default();
        store.scan(&network_scope(), RECORDS, |id, fields| {
            // A merged record stands for its survivor, which is found on its own.
            if fields.get("merged_into").and_then(Value::as_str).is_some() {
                return;
            }
            if let Some(isbn) = fields.get("isbn").and_then(Value::as_str) {
                catalogue.by_isbn.insert(isbn.to_owned(), id.to_owned());
            }
            let title = fields.get("title").and_then(Value::as_str).unwrap_or("");
            let first_author = match fields.get("authors") {
                Some(Value::List(authors)) => authors.first().and_then(Value::as_str),
                _ => None,
            };
            let year = fields.get("year").and_then(Value::as_int);
            catalogue
                .by_key
                .entry(book_key(title, first_author, year))
                .or_insert_with(|| id.to_owned());
        })?;
        Ok(catalogue)
    }
}

/// Checks every row of `rows` (a books list) against the catalogue, this library's copies and
/// the rest of the file; writes nothing.
pub fn plan(
    store: &mut Store,
    desk: &Desk,
    rows: &[Row],
    overrides: &[MapOverride],
    today: NaiveDate,
) -> Result<BooksPlan, BooksError> {
    let columns = map_columns(RowKind::Books, rows, overrides)?;
    plan_mapped(store, desk, rows, columns, today, &mut |_| {})
}

/// [`plan`] with the columns already mapped (by a librarian on the import page, say), telling
/// `checked` how many rows after the header it has checked as it goes.
pub fn plan_mapped(
    store: &mut Store,
    desk: &Desk,
    rows: &[Row],
    columns: ColumnMap,
    today: NaiveDate,
    checked: &mut dyn FnMut(usize),
) -> Result<BooksPlan, BooksError> {
    let catalogue = Catalogue::load(store)?;
    let mut planned_isbn: HashMap<String, (usize, String)> = HashMap::new();
    let mut planned_key: HashMap<BookKey, (usize, String)> = HashMap::new();
    let mut barcode_lines: HashMap<String, usize> = HashMap::new();
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for (done, row) in rows.iter().skip(columns.header_index + 1).enumerate() {
        checked(done);
        if row.is_blank() {
            continue;
        }
        let before = errors.len();
        let cells = Cells {
            row,
            columns: &columns,
        };
        let book = cells.book(today, &mut errors);
        let barcodes = cells.barcodes(&mut errors);
        for barcode in &barcodes {
            if let Some(&line) = barcode_lines.get(barcode) {
                errors.push(cells.error(
                    Field::Barcode,
                    Problem::BarcodeTwice {
                        barcode: barcode.clone(),
                        line,
                    },
                ));
                continue;
            }
            barcode_lines.insert(barcode.clone(), row.line);
            if let Some(copy) =
                store.get(&EntityKey::new(desk.scope(), COPIES, barcode.as_str()))?
            {
                let record = copy
                    .get("record")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let title = crate::db::record_title(store.connection(), &record)
                    .ok()
                    .flatten()
                    .unwrap_or(record);
                errors.push(cells.error(
                    Field::Barcode,
                    Problem::BarcodeTaken {
                        barcode: barcode.clone(),
                        record: title,
                    },
                ));
            }
        }
        if errors.len() > before {
            continue;
        }
        let key = book_key(
            &book.title,
            book.authors.first().map(String::as_str),
            book.year,
        );
        let earlier = match &book.isbn {
            Some(isbn) => planned_isbn.get(isbn),
            None => planned_key.get(&key),
        };
        let existing = match &book.isbn {
            Some(isbn) => catalogue.by_isbn.get(isbn),
            None => catalogue.by_key.get(&key),
        };
        let target = match (earlier, existing) {
            (Some((line, id)), _) => Target::SameAs {
                line: *line,
                id: id.clone(),
            },
            (None, Some(id)) => Target::Existing { id: id.clone() },
            (None, None) => Target::New {
                id: cataloguing::new_record_id()?,
                book: book.clone(),
            },
        };
        if earlier.is_none() {
            let noted = (row.line, target.id().to_owned());
            if let Some(isbn) = &book.isbn {
                planned_isbn.insert(isbn.clone(), noted.clone());
            }
            // A later row without an ISBN but with the same title, author and year is the
            // same book too.
            planned_key.entry(key).or_insert(noted);
        }
        planned.push(BookRow {
            line: row.line,
            target,
            barcodes,
            shelf: cells.text(Field::Shelf),
        });
    }
    Ok(BooksPlan {
        columns,
        rows: planned,
        errors,
    })
}

/// One row's cells, read by field.
struct Cells<'a> {
    row: &'a Row,
    columns: &'a ColumnMap,
}

impl Cells<'_> {
    fn text(&self, field: Field) -> String {
        self.columns
            .column(field)
            .map(|column| self.row.cell(column).to_owned())
            .unwrap_or_default()
    }

    fn error(&self, field: Field, problem: Problem) -> RowError {
        RowError::new(self.row.line, self.columns.header(field), problem)
    }

    /// A text cell no longer than [`MAX_TEXT_CHARS`].
    fn bounded(&self, field: Field, errors: &mut Vec<RowError>) -> String {
        let text = self.text(field);
        if text.chars().count() > MAX_TEXT_CHARS {
            errors.push(self.error(
                field,
                Problem::TooLong {
                    max: MAX_TEXT_CHARS,
                },
            ));
            return String::new();
        }
        text
    }

    fn book(&self, today: NaiveDate, errors: &mut Vec<RowError>) -> BookFields {
        let title = self.bounded(Field::Title, errors);
        if self.text(Field::Title).is_empty() {
            errors.push(self.error(Field::Title, Problem::Missing));
        }
        let year = match self.text(Field::Year) {
            text if text.is_empty() => None,
            text => match parse_year(&text, today) {
                Some(year) => Some(year),
                None => {
                    errors.push(self.error(Field::Year, Problem::NotYear(text)));
                    None
                }
            },
        };
        let pages = match self.text(Field::Pages) {
            text if text.is_empty() => None,
            text => match text.trim_end_matches(['.', 't', 'r']).trim().parse::<i64>() {
                Ok(pages) if pages > 0 => Some(pages),
                _ => {
                    errors.push(self.error(Field::Pages, Problem::NotNumber(text)));
                    None
                }
            },
        };
        let isbn = match self.text(Field::Isbn) {
            text if text.is_empty() => None,
            text => match isbn::normalise(&text) {
                Some(isbn) => Some(isbn),
                None => {
                    errors.push(self.error(Field::Isbn, Problem::NotIsbn(text)));
                    None
                }
            },
        };
        BookFields {
            title,
            authors: split_authors(&self.bounded(Field::Authors, errors)),
            publisher: self.bounded(Field::Publisher, errors),
            year,
            isbn,
            ddc: self.bounded(Field::Ddc, errors),
            pages,
            language: language_code(&self.text(Field::Language)),
        }
    }

    /// The barcodes of the row: one, or several separated by commas, semicolons or spaces
    /// (a list that gives one line per title and every copy's number on it).
    fn barcodes(&self, errors: &mut Vec<RowError>) -> Vec<String> {
        let mut barcodes = Vec::new();
        for barcode in cataloguing::split_barcodes(&self.text(Field::Barcode)) {
            if valid_barcode(&barcode) {
                barcodes.push(barcode);
            } else {
                errors.push(self.error(Field::Barcode, Problem::NotBarcode(barcode)));
            }
        }
        barcodes
    }
}

/// The authors of a cell: split on `;` always; on `,` only when every part is a whole name
/// of two words or more ("Nguyễn Du, Tố Hữu"), so "Tolstoy, Lev" stays one author.
pub fn split_authors(cell: &str) -> Vec<String> {
    let parts = |separator: char| -> Vec<String> {
        cell.split(separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if cell.contains(';') {
        return parts(';');
    }
    let by_comma = parts(',');
    if by_comma.len() > 1 && by_comma.iter().all(|p| p.split_whitespace().count() >= 2) {
        return by_comma;
    }
    parts('\u{0}')
}

/// A language as our records store it (ISO 639-2, like MARC 008): Vietnamese unless the
/// cell says otherwise; a language we do not know is kept as written.
pub fn language_code(cell: &str) -> String {
    let key = folded(cell);
    let key = key.strip_prefix("tieng ").unwrap_or(&key);
    match key {
        "" | "viet" | "vi" | "vie" | "viet nam" | "vietnamese" => "vie",
        "anh" | "en" | "eng" | "english" => "eng",
        "phap" | "fr" | "fre" | "fra" | "french" => "fra",
        "nga" | "ru" | "rus" | "russian" => "rus",
        "trung" | "hoa" | "zh" | "chi" | "zho" | "chinese" => "chi",
        _ => return cell.trim().to_owned(),
    }
    .to_owned()
}

/// Writes a plan with no errors as one commit: new records (added `today`) to the network
/// scope, every copy to the library's scope.
pub fn apply(
    store: &mut Store,
    desk: &Desk,
    plan: &BooksPlan,
    today: NaiveDate,
) -> Result<(), BooksError> {
    if !plan.errors.is_empty() {
        return Err(BooksError::HasErrors(plan.bad_lines()));
    }
    let mut batch = WriteBatch::new();
    let added = today.format("%Y-%m-%d").to_string();
    let strings =
        |items: &[String]| Value::List(items.iter().map(|s| Value::Str(s.clone())).collect());
    for row in &plan.rows {
        if let Target::New { id, book } = &row.target {
            let key = record_key(id);
            batch
                .put(&key, "title", book.title.as_str())
                .put(&key, "authors", strings(&book.authors))
                .put(&key, "publisher", book.publisher.as_str())
                .put(&key, "language", book.language.as_str())
                .put(&key, "ddc", book.ddc.as_str())
                .put(&key, "subjects", Value::List(Vec::new()))
                .put(&key, "added", added.as_str());
            if let Some(year) = book.year {
                batch.put(&key, "year", year);
            }
            if let Some(isbn) = &book.isbn {
                batch.put(&key, "isbn", isbn.as_str());
            }
            if let Some(pages) = book.pages {
                batch.put(&key, "pages", pages);
            }
        }
        for barcode in &row.barcodes {
            desk.put_copy_on_shelf(&mut batch, barcode, row.target.id(), "book", &row.shelf);
            desk.put_acquired(&mut batch, barcode, today);
        }
    }
    if !batch.is_empty() {
        store.commit(&batch)?;
    }
    Ok(())
}
