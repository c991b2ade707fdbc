//! Copies of records across the network's libraries: the `copy_index` query table's rows
//! (written by [`crate::query_tables::QueryTables`]) and what a reader wants to know from them,
//! availability per library and shelf.
//!
//! A copy's availability is derived, never stored: it is out because an open loan exists in
//! `loan_index`, unavailable because its `status` says lost or withdrawn. This module knows
//! nothing about HTTP; library names come from the `libraries` entities of the network scope.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rusqlite::Connection;
use tusach_sync::{Entity, EntityKey, Store, StoreError, Value};

use crate::catalogue::network_scope;
use crate::circulation::library::COPIES;
use crate::db::{self, CopyRow, HoldingRow};
use crate::home_library::LIBRARIES;

/// Scopes of libraries are named `library:<id>`.
pub const LIBRARY_SCOPE_PREFIX: &str = "library:";

/// The library id of a library scope.
pub fn library_id(scope: &str) -> Option<&str> {
    scope.strip_prefix(LIBRARY_SCOPE_PREFIX)
}

/// The shelf part of a shelf field: "Kệ 9 – 895.922" is on shelf "Kệ 9". A shelf written
/// without a call number is all shelf.
pub fn shelf_location(shelf: &str) -> &str {
    shelf
        .split_once(" – ")
        .or_else(|| shelf.split_once(" - "))
        .map_or(shelf, |(place, _)| place)
        .trim()
}

/// Where a library shelves a book: one shelf per DDC hundred ("Kệ 9" holds 800–899, Vietnamese
/// literature among them), reference books apart, and the call number after the shelf.
pub fn suggested_shelf(ddc: &str, item_type: &str) -> String {
    let call: String = ddc.trim().chars().take(7).collect();
    let shelf = match ddc.trim().chars().next().and_then(|c| c.to_digit(10)) {
        _ if item_type == "reference" => "Kệ tra cứu".to_owned(),
        Some(hundreds) => format!("Kệ {}", hundreds + 1),
        None => "Kệ chung".to_owned(),
    };
    if call.is_empty() {
        shelf
    } else {
        format!("{shelf} – {call}")
    }
}

fn text(fields: &Entity, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A copy entity as the query table holds it.
pub fn copy_row(scope: &str, barcode: &str, fields: &Entity) -> CopyRow {
    CopyRow {
        scope: scope.to_owned(),
        barcode: barcode.to_owned(),
        record: text(fields, "record"),
        item_type: fields
            .get("item_type")
            .and_then(Value::as_str)
            .unwrap_or("book")
            .to_owned(),
        status: text(fields, "status"),
        shelf: text(fields, "shelf"),
    }
}

/// Fills `copy_index` from the documents when it is empty (a database that predates it).
pub(crate) fn rebuild_if_empty(store: &mut Store) -> Result<(), StoreError> {
    if db::copy_count(store.connection())? > 0 {
        return Ok(());
    }
    let mut rows = Vec::new();
    for scope in store.scopes()? {
        if library_id(scope.as_str()).is_none() {
            continue;
        }
        store.scan(&scope, COPIES, |barcode, fields| {
            rows.push(copy_row(scope.as_str(), barcode, fields))
        })?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    let tx = store.connection_mut().transaction()?;
    for row in &rows {
        db::upsert_copy(&tx, row)?;
    }
    tx.commit()?;
    Ok(())
}

/// What one copy is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyState {
    /// On its shelf and may be borrowed.
    OnShelf,
    /// On its shelf, to be read in the library only (reference, or marked not for loan).
    ReadingRoom,
    OnLoan {
        due: Option<NaiveDate>,
    },
    /// Lost or withdrawn.
    Gone,
}

pub fn copy_state(row: &HoldingRow) -> CopyState {
    match (row.copy.status.as_str(), &row.due) {
        ("lost" | "withdrawn", _) => CopyState::Gone,
        (_, Some(due)) => CopyState::OnLoan {
            due: NaiveDate::parse_from_str(due, "%Y-%m-%d").ok(),
        },
        ("not_for_loan", None) => CopyState::ReadingRoom,
        _ if row.copy.item_type == "reference" => CopyState::ReadingRoom,
        _ => CopyState::OnShelf,
    }
}

/// A record's copies on one shelf of one library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShelfAvailability {
    /// The library's id (from its scope).
    pub library: String,
    pub shelf: String,
    /// On the shelf, to borrow.
    pub on_shelf: usize,
    /// On the shelf, to read there only.
    pub reading_room: usize,
    pub on_loan: usize,
    /// The earliest due date among the copies out.
    pub next_due: Option<NaiveDate>,
}

/// Groups a record's copies by library and shelf; lost and withdrawn copies are left out.
pub fn availability(rows: &[HoldingRow]) -> Vec<ShelfAvailability> {
    let mut groups: BTreeMap<(String, String), ShelfAvailability> = BTreeMap::new();
    for row in rows {
        let Some(library) = library_id(&row.copy.scope) else {
            continue;
        };
        let state = copy_state(row);
        if state == CopyState::Gone {
            continue;
        }
        let group = groups
            .entry((library.to_owned(), row.copy.shelf.clone()))
            .or_insert_with(|| ShelfAvailability {
                library: library.to_owned(),
                shelf: row.copy.shelf.clone(),
                on_shelf: 0,
                reading_room: 0,
                on_loan: 0,
                next_due: None,
            });
        match state {
            CopyState::OnShelf => group.on_shelf += 1,
            CopyState::ReadingRoom => group.reading_room += 1,
            CopyState::OnLoan { due } => {
                group.on_loan += 1;
                if let Some(due) = due {
                    group.next_due = Some(group.next_due.map_or(due, |d| d.min(due)));
                }
            }
            CopyState::Gone => {}
        }
    }
    groups.into_values().collect()
}

/// A record's availability in every library that holds it.
pub fn availability_of(
    conn: &Connection,
    record: &str,
) -> rusqlite::Result<Vec<ShelfAvailability>> {
    Ok(availability(&db::holdings_of_record(conn, record)?))
}

/// The display names of libraries, from the network scope; an unnamed library shows its id.
pub fn library_names(
    store: &mut Store,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, StoreError> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        let key = EntityKey::new(&network_scope(), LIBRARIES, id.as_str());
        let name = if key.is_valid() {
            store
                .get(&key)?
                .and_then(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
        } else {
            None
        };
        names.insert(id.clone(), name.unwrap_or(id));
    }
    Ok(names)
}

#[cfg(test)]
mod tests;
