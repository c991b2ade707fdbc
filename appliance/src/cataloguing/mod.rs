//! Cataloguing: adding copies to a record of the union catalogue, and making a new record when
//! none matches. Copy cataloguing comes first because most books a commune library receives
//! are already catalogued somewhere in the network.
//!
//! Records are written to the network scope (they reach the union catalogue through sync);
//! copies to the library's own scope through its [`Desk`]. Each action checks everything before
//! it writes, and writes one commit. `edits` changes records field by field with a history,
//! `merge` merges records that describe one book, and `conflicts` is the catalogue's part of
//! the exceptions inbox; `marc` brings MARC21 records in and out. This module knows nothing
//! about HTTP.

pub mod conflicts;
pub mod edits;
pub mod isbn;
pub mod marc;
pub mod merge;

use chrono::NaiveDate;
use tusach_sync::{EntityKey, Store, StoreError, Value, WriteBatch};

use crate::catalogue::record_key;
use crate::circulation::library::{COPIES, Desk};
use crate::db;

/// The kinds of copy a library holds; loan rules are set per kind.
pub const ITEM_TYPES: &[&str] = &["book", "reference", "periodical", "av"];

/// The most copies one action adds (a box of donated books, scanned one after another).
pub const MAX_COPIES_PER_ACTION: usize = 200;

/// Longest barcode accepted; real labels are 6 to 14 characters.
pub const MAX_BARCODE_CHARS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("no record {0}")]
    UnknownRecord(String),
    #[error("'{0}' is not a barcode: use letters, digits and '-'")]
    InvalidBarcode(String),
    #[error("barcode {barcode} already belongs to a copy of {record}")]
    BarcodeTaken { barcode: String, record: String },
    #[error("barcode {0} is listed twice")]
    BarcodeTwice(String),
    #[error("no barcodes were given")]
    NoBarcodes,
    #[error("at most {MAX_COPIES_PER_ACTION} copies at a time")]
    TooManyCopies,
    #[error("item type {0} is not one of {ITEM_TYPES:?}")]
    InvalidItemType(String),
    #[error("'{0}' is not a valid ISBN (check digit)")]
    InvalidIsbn(String),
    #[error("ISBN {isbn} is already catalogued as {record}")]
    IsbnTaken { isbn: String, record: String },
    #[error("a record needs a title")]
    NoTitle,
    #[error("record {record} was merged into {into}")]
    Merged { record: String, into: String },
    #[error("field {0} of a record cannot be edited")]
    NotEditable(String),
    #[error("a merge needs at least two different records")]
    NothingToMerge,
    #[error("no randomness for a new id: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

/// A barcode as a scanner types it: letters, digits and '-', at most [`MAX_BARCODE_CHARS`].
pub fn valid_barcode(barcode: &str) -> bool {
    (1..=MAX_BARCODE_CHARS).contains(&barcode.len())
        && barcode
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Barcodes from a box where a scanner typed one per line (or a librarian separated them
/// with spaces or commas).
pub fn split_barcodes(typed: &str) -> Vec<String> {
    typed
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// New copies of one record for one library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCopies {
    pub record: String,
    pub barcodes: Vec<String>,
    pub shelf: String,
    pub item_type: String,
    /// The day the library received them, for the acquisitions report.
    pub acquired: NaiveDate,
}

/// Adds copies to a record of the catalogue, all or none: refuses unknown records, bad or
/// repeated barcodes and barcodes this library already uses.
pub fn add_copies(
    store: &mut Store,
    desk: &Desk,
    copies: &NewCopies,
) -> Result<usize, CatalogueError> {
    if copies.barcodes.is_empty() {
        return Err(CatalogueError::NoBarcodes);
    }
    if copies.barcodes.len() > MAX_COPIES_PER_ACTION {
        return Err(CatalogueError::TooManyCopies);
    }
    if !ITEM_TYPES.contains(&copies.item_type.as_str()) {
        return Err(CatalogueError::InvalidItemType(copies.item_type.clone()));
    }
    if store.get(&record_key(&copies.record))?.is_none() {
        return Err(CatalogueError::UnknownRecord(copies.record.clone()));
    }
    let mut seen = std::collections::HashSet::new();
    for barcode in &copies.barcodes {
        if !valid_barcode(barcode) {
            return Err(CatalogueError::InvalidBarcode(barcode.clone()));
        }
        if !seen.insert(barcode.as_str()) {
            return Err(CatalogueError::BarcodeTwice(barcode.clone()));
        }
        if let Some(existing) =
            store.get(&EntityKey::new(desk.scope(), COPIES, barcode.as_str()))?
        {
            return Err(CatalogueError::BarcodeTaken {
                barcode: barcode.clone(),
                record: existing
                    .get("record")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    let mut batch = WriteBatch::new();
    for barcode in &copies.barcodes {
        desk.put_copy_on_shelf(
            &mut batch,
            barcode,
            &copies.record,
            &copies.item_type,
            &copies.shelf,
        );
        desk.put_acquired(&mut batch, barcode, copies.acquired);
    }
    store.commit(&batch)?;
    Ok(copies.barcodes.len())
}

/// A record as a cataloguer enters it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordDraft {
    pub title: String,
    pub authors: Vec<String>,
    pub publisher: String,
    pub year: Option<i64>,
    /// As typed; checked and normalised by [`create_record`].
    pub isbn: Option<String>,
    pub language: String,
    pub ddc: String,
    pub subjects: Vec<String>,
    pub summary: Option<String>,
}

pub(crate) fn new_record_id() -> Result<String, CatalogueError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| CatalogueError::Random(e.to_string()))?;
    Ok(format!(
        "rec-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Creates a record in the union catalogue and returns its id. Refuses an ISBN whose check
/// digit is wrong, and one already catalogued (the cataloguer should add copies to that
/// record instead).
pub fn create_record(
    store: &mut Store,
    draft: &RecordDraft,
    today: NaiveDate,
) -> Result<String, CatalogueError> {
    if draft.title.trim().is_empty() {
        return Err(CatalogueError::NoTitle);
    }
    let isbn = match &draft.isbn {
        None => None,
        Some(typed) => {
            Some(isbn::normalise(typed).ok_or_else(|| CatalogueError::InvalidIsbn(typed.clone()))?)
        }
    };
    if let Some(isbn) = &isbn
        && let Some(existing) = db::records_by_isbn(store.connection(), isbn)?.first()
    {
        return Err(CatalogueError::IsbnTaken {
            isbn: isbn.clone(),
            record: existing.id.clone(),
        });
    }
    let id = new_record_id()?;
    let key = record_key(&id);
    let strings =
        |items: &[String]| Value::List(items.iter().map(|s| Value::Str(s.clone())).collect());
    let mut batch = WriteBatch::new();
    batch
        .put(&key, "title", draft.title.as_str())
        .put(&key, "authors", strings(&draft.authors))
        .put(&key, "publisher", draft.publisher.as_str())
        .put(&key, "language", draft.language.as_str())
        .put(&key, "ddc", draft.ddc.as_str())
        .put(&key, "subjects", strings(&draft.subjects))
        .put(&key, "added", today.format("%Y-%m-%d").to_string());
    if let Some(year) = draft.year {
        batch.put(&key, "year", year);
    }
    if let Some(isbn) = isbn {
        batch.put(&key, "isbn", isbn);
    }
    if let Some(summary) = &draft.summary {
        batch.put(&key, "summary", summary.as_str());
    }
    store.commit(&batch)?;
    Ok(id)
}

#[cfg(test)]
mod record_tests;
#[cfg(test)]
mod tests;
