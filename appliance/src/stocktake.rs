//! Stocktake: librarians walk the shelves with phones, choose a shelf, scan every copy on it,
//! and get a report of what is missing, misplaced, unknown, or back on a shelf without its
//! return having been scanned.
//!
//! A stocktake is one entity of the library's scope (collection `stocktakes`). Each scan is
//! its own field, `scan:<barcode>` = the shelf it was found on, and each counted shelf is a
//! field `shelf:<shelf>`. Two phones scanning different shelves at once, even offline, write
//! different fields, so their merge holds both. The report is derived from those fields and
//! `copy_index`/`loan_index`, never stored. This module knows nothing about HTTP.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rusqlite::Connection;
use tusach_sync::{EntityKey, Scope, Store, StoreError, Value, WriteBatch};

use crate::cataloguing::valid_barcode;
use crate::circulation::library::COPIES;
use crate::db::{self, HoldingRow};
use crate::holdings::{CopyState, copy_state, shelf_location};

pub const STOCKTAKES: &str = "stocktakes";

const SCAN: &str = "scan:";
const SHELF: &str = "shelf:";
const MAX_SHELF_CHARS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum StocktakeError {
    #[error("no stocktake {0}")]
    Unknown(String),
    #[error("stocktake {0} is closed")]
    Closed(String),
    #[error("'{0}' is not a barcode")]
    InvalidBarcode(String),
    #[error("a shelf name needs 1 to {MAX_SHELF_CHARS} characters")]
    InvalidShelf,
    #[error("no randomness for a new id: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

/// A stocktake as merged from every phone that scanned for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stocktake {
    pub id: String,
    pub started: String,
    pub closed: Option<String>,
    /// Shelves counted (by their location, e.g. "Kệ 3").
    pub shelves: BTreeSet<String>,
    /// Barcode → the shelf it was found on.
    pub scans: BTreeMap<String, String>,
}

fn key(scope: &Scope, id: &str) -> EntityKey {
    EntityKey::new(scope, STOCKTAKES, id)
}

fn from_fields(id: &str, fields: &tusach_sync::Entity) -> Stocktake {
    let mut stocktake = Stocktake {
        id: id.to_owned(),
        ..Stocktake::default()
    };
    for (name, value) in fields {
        let text = value.as_str().unwrap_or_default();
        if let Some(barcode) = name.strip_prefix(SCAN) {
            stocktake.scans.insert(barcode.to_owned(), text.to_owned());
            stocktake.shelves.insert(text.to_owned());
        } else if let Some(shelf) = name.strip_prefix(SHELF) {
            stocktake.shelves.insert(shelf.to_owned());
        } else if name == "started" {
            stocktake.started = text.to_owned();
        } else if name == "closed" {
            stocktake.closed = Some(text.to_owned());
        }
    }
    stocktake
}

/// Starts a stocktake today and returns its id.
pub fn start(store: &mut Store, scope: &Scope, today: NaiveDate) -> Result<String, StocktakeError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| StocktakeError::Random(e.to_string()))?;
    let id = format!(
        "kk-{}-{}",
        today.format("%Y%m%d"),
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let mut batch = WriteBatch::new();
    batch.put(
        &key(scope, &id),
        "started",
        today.format("%Y-%m-%d").to_string(),
    );
    store.commit(&batch)?;
    Ok(id)
}

/// One stocktake, or `None`.
pub fn load(
    store: &mut Store,
    scope: &Scope,
    id: &str,
) -> Result<Option<Stocktake>, StocktakeError> {
    let key = key(scope, id);
    if !key.is_valid() {
        return Ok(None);
    }
    Ok(store.get(&key)?.map(|fields| from_fields(id, &fields)))
}

/// Every stocktake of the library, newest first.
pub fn list(store: &mut Store, scope: &Scope) -> Result<Vec<Stocktake>, StocktakeError> {
    let mut all = Vec::new();
    store.scan(scope, STOCKTAKES, |id, fields| {
        all.push(from_fields(id, fields))
    })?;
    all.sort_by(|a, b| b.started.cmp(&a.started).then(b.id.cmp(&a.id)));
    Ok(all)
}

fn open(store: &mut Store, scope: &Scope, id: &str) -> Result<Stocktake, StocktakeError> {
    let stocktake =
        load(store, scope, id)?.ok_or_else(|| StocktakeError::Unknown(id.to_owned()))?;
    if stocktake.closed.is_some() {
        return Err(StocktakeError::Closed(id.to_owned()));
    }
    Ok(stocktake)
}

/// A shelf name as typed, checked.
pub fn check_shelf(shelf: &str) -> Result<String, StocktakeError> {
    let shelf = shelf_location(shelf.trim());
    if shelf.is_empty() || shelf.chars().count() > MAX_SHELF_CHARS {
        return Err(StocktakeError::InvalidShelf);
    }
    Ok(shelf.to_owned())
}

/// Notes a shelf as counted (an empty shelf has no scans to say so).
pub fn count_shelf(
    store: &mut Store,
    scope: &Scope,
    id: &str,
    shelf: &str,
) -> Result<(), StocktakeError> {
    let shelf = check_shelf(shelf)?;
    open(store, scope, id)?;
    let mut batch = WriteBatch::new();
    batch.put(&key(scope, id), &format!("{SHELF}{shelf}"), true);
    store.commit(&batch)?;
    Ok(())
}

/// Records that `barcode` was found on `shelf`.
pub fn record_scan(
    store: &mut Store,
    scope: &Scope,
    id: &str,
    shelf: &str,
    barcode: &str,
) -> Result<(), StocktakeError> {
    let shelf = check_shelf(shelf)?;
    if !valid_barcode(barcode) {
        return Err(StocktakeError::InvalidBarcode(barcode.to_owned()));
    }
    open(store, scope, id)?;
    let key = key(scope, id);
    let mut batch = WriteBatch::new();
    batch.put(&key, &format!("{SHELF}{shelf}"), true).put(
        &key,
        &format!("{SCAN}{barcode}"),
        shelf.as_str(),
    );
    store.commit(&batch)?;
    Ok(())
}

/// A copy the report names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub barcode: String,
    pub record: String,
    /// Where the catalogue says it belongs (its shelf field).
    pub shelf: String,
    /// Where it was scanned, when it was.
    pub found_on: Option<String>,
}

/// What a stocktake found, for the shelves it counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Copies expected on a counted shelf (not on loan, not lost or withdrawn) and scanned
    /// nowhere.
    pub missing: Vec<Finding>,
    /// Copies scanned on a shelf other than their own.
    pub misplaced: Vec<Finding>,
    /// Scanned barcodes no copy of this library has.
    pub unknown: Vec<(String, String)>,
    /// Copies on loan that were found on a shelf: a return nobody scanned.
    pub on_loan_found: Vec<Finding>,
    /// Copies marked lost or withdrawn that were found again.
    pub found_again: Vec<Finding>,
    /// Copies expected on the counted shelves, and how many of them were found.
    pub expected: usize,
    pub found: usize,
}

/// The report of a stocktake over the library's copies (pure: same input, same report on
/// every phone).
pub fn report(copies: &[HoldingRow], stocktake: &Stocktake) -> Report {
    let mut report = Report::default();
    let finding = |row: &HoldingRow, found_on: Option<&String>| Finding {
        barcode: row.copy.barcode.clone(),
        record: row.copy.record.clone(),
        shelf: row.copy.shelf.clone(),
        found_on: found_on.cloned(),
    };
    let mut known = BTreeSet::new();
    for row in copies {
        known.insert(row.copy.barcode.as_str());
        let home = shelf_location(&row.copy.shelf);
        let found_on = stocktake.scans.get(&row.copy.barcode);
        let state = copy_state(row);
        let expected = stocktake.shelves.contains(home)
            && matches!(state, CopyState::OnShelf | CopyState::ReadingRoom);
        if expected {
            report.expected += 1;
            if found_on.is_some() {
                report.found += 1;
            } else {
                report.missing.push(finding(row, None));
            }
        }
        if let Some(found) = found_on {
            match state {
                CopyState::OnLoan { .. } => report.on_loan_found.push(finding(row, found_on)),
                CopyState::Gone => report.found_again.push(finding(row, found_on)),
                _ if found != home => report.misplaced.push(finding(row, found_on)),
                _ => {}
            }
        }
    }
    for (barcode, shelf) in &stocktake.scans {
        if !known.contains(barcode.as_str()) {
            report.unknown.push((barcode.clone(), shelf.clone()));
        }
    }
    report
}

/// The report of one stocktake of the library in `scope`.
pub fn report_of(
    conn: &Connection,
    scope: &Scope,
    stocktake: &Stocktake,
) -> Result<Report, StocktakeError> {
    Ok(report(
        &db::holdings_of_scope(conn, scope.as_str())?,
        stocktake,
    ))
}

/// Marks every missing copy as lost and closes the stocktake, in one commit.
pub fn mark_missing_lost(
    store: &mut Store,
    scope: &Scope,
    id: &str,
    today: NaiveDate,
) -> Result<usize, StocktakeError> {
    let stocktake = open(store, scope, id)?;
    let report = report_of(store.connection(), scope, &stocktake)?;
    let mut batch = WriteBatch::new();
    for missing in &report.missing {
        let copy = EntityKey::new(scope, COPIES, missing.barcode.as_str());
        batch
            .put(&copy, "status", "lost")
            .put(&copy, "lost_in", Value::Str(id.to_owned()));
    }
    batch.put(
        &key(scope, id),
        "closed",
        today.format("%Y-%m-%d").to_string(),
    );
    store.commit(&batch)?;
    Ok(report.missing.len())
}

#[cfg(test)]
mod tests;
