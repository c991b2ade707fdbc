//! What to print: one library's copies (of a record, on a shelf, or a list of scanned
//! barcodes) as spine labels, and its readers (by card, category or class) for cards.
//!
//! Copies come from the query tables, read-only; readers from the store's entities, because
//! the class and school a card shows are not in the readers' query table. An unknown barcode
//! or card is an error naming it, so a typing mistake is not silently left out of the sheet.

use rusqlite::Connection;
use tusach_sync::{EntityKey, Scope, Store};

use super::{LabelError, MAX_LABELS, SpineLabel, text};
use crate::circulation::collation;
use crate::circulation::library::READERS;
use crate::circulation::readers::Reader;
use crate::db::{self, CopyLabelRow};
use crate::holdings::shelf_location;

/// Which copies get spine labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyChoice {
    /// Every copy of a record (and of records merged into it).
    Record(String),
    /// Every copy on a shelf ("Kệ 9"), whatever its call number.
    Shelf(String),
    /// These barcodes, in this order.
    Barcodes(Vec<String>),
}

/// Which readers get cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderChoice {
    /// These cards, in this order.
    Cards(Vec<String>),
    /// Every reader of a category ("child", "student"…), in name order.
    Category(String),
    /// Every reader of a class ("5A"), compared without case, in name order.
    Class(String),
}

fn label(row: &CopyLabelRow) -> SpineLabel {
    SpineLabel::of_copy(
        &row.barcode,
        &row.shelf,
        row.ddc.as_deref(),
        &row.authors,
        &row.title,
    )
}

/// The spine labels of the copies `choice` names, in library `scope`.
pub fn spine_labels(
    conn: &Connection,
    scope: &str,
    choice: &CopyChoice,
) -> Result<Vec<SpineLabel>, LabelError> {
    let rows = match choice {
        CopyChoice::Record(record) => {
            let rows = db::copy_labels_of_record(conn, scope, record)?;
            if rows.is_empty() {
                return Err(LabelError::NoCopiesOfRecord(record.clone()));
            }
            rows
        }
        CopyChoice::Shelf(shelf) => {
            let wanted = text::clean(shelf);
            let rows: Vec<_> = db::copy_labels_of_scope(conn, scope)?
                .into_iter()
                .filter(|row| shelf_location(&text::clean(&row.shelf)) == wanted)
                .collect();
            if rows.is_empty() {
                return Err(LabelError::EmptyShelf(wanted));
            }
            rows
        }
        CopyChoice::Barcodes(barcodes) => {
            if barcodes.len() > MAX_LABELS {
                return Err(LabelError::TooMany(barcodes.len()));
            }
            let mut rows = Vec::with_capacity(barcodes.len());
            for barcode in barcodes {
                // Scanners in lower-case mode type "ts000123" for "TS000123".
                let row = match db::copy_label(conn, scope, barcode)? {
                    Some(row) => row,
                    None => db::copy_label(conn, scope, &barcode.to_uppercase())?
                        .ok_or_else(|| LabelError::UnknownCopy(barcode.clone()))?,
                };
                rows.push(row);
            }
            rows
        }
    };
    Ok(rows.iter().map(label).collect())
}

/// The shelves of library `scope` that copies stand on, for the form's list.
pub fn shelves(conn: &Connection, scope: &str) -> Result<Vec<String>, LabelError> {
    let mut shelves: Vec<String> = db::shelves_of_scope(conn, scope)?
        .iter()
        .map(|s| shelf_location(&text::clean(s)).to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    shelves.sort_by_key(|s| collation::name_key(s));
    shelves.dedup();
    Ok(shelves)
}

/// The readers `choice` names, in library `scope`.
pub fn readers(
    store: &mut Store,
    scope: &Scope,
    choice: &ReaderChoice,
) -> Result<Vec<Reader>, LabelError> {
    let read = |store: &mut Store, card: &str| -> Result<Option<Reader>, LabelError> {
        let key = EntityKey::new(scope, READERS, card);
        if !key.is_valid() {
            return Ok(None);
        }
        Ok(store.get(&key)?.map(|f| Reader::from_entity(card, &f)))
    };
    let mut readers = Vec::new();
    match choice {
        ReaderChoice::Cards(cards) => {
            if cards.len() > MAX_LABELS {
                return Err(LabelError::TooMany(cards.len()));
            }
            for card in cards {
                let reader = match read(store, card)? {
                    Some(reader) => reader,
                    None => read(store, &card.to_uppercase())?
                        .ok_or_else(|| LabelError::UnknownReader(card.clone()))?,
                };
                readers.push(reader);
            }
        }
        ReaderChoice::Category(category) => {
            for card in db::cards_of_category(store.connection(), scope.as_str(), category)? {
                if let Some(reader) = read(store, &card)? {
                    readers.push(reader);
                }
            }
        }
        ReaderChoice::Class(class) => {
            let wanted = text::clean(class).to_lowercase();
            store.scan(scope, READERS, |card, fields| {
                let reader = Reader::from_entity(card, fields);
                let class = reader.class.as_deref().map(text::clean);
                if class.is_some_and(|c| c.to_lowercase() == wanted) {
                    readers.push(reader);
                }
            })?;
            readers.sort_by_cached_key(|r| (collation::name_key(&r.name), r.card.clone()));
        }
    }
    if readers.is_empty() {
        return Err(match choice {
            ReaderChoice::Cards(_) => LabelError::NothingSelected,
            ReaderChoice::Category(c) | ReaderChoice::Class(c) => LabelError::NoReaders(c.clone()),
        });
    }
    Ok(readers)
}
