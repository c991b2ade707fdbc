//! Catalogue search: query tables kept in step with the store, and the query a reader types.
//!
//! Readers type Vietnamese without diacritics on cheap phones ("nguyen du"), or with them, and
//! old and new tone placement both occur ("hòa"/"hoà"). So every record is indexed twice: a
//! folded key ([`fold::fold`]) in an FTS5 table matches regardless of marks, and a toned key
//! ([`fold::toned`]) ranks exact accented forms first when the query has marks, because
//! dương, đương and đường are different words. Queries match as prefixes, so results appear
//! while typing; a query of 10 or 13 digits is looked up as an ISBN.
//!
//! [`crate::query_tables::QueryTables`] writes these tables inside the store's own
//! transactions, through [`index_record`]. This module knows nothing about HTTP.

pub mod fold;

use rusqlite::{Connection, Transaction};
use tusach_sync::{Entity, Store, StoreError, Value};

use crate::catalogue::{RECORDS, network_scope};
use crate::db::{self, RecordRow};

/// The most words of a query that are searched; the rest are ignored.
const MAX_QUERY_WORDS: usize = 8;

/// Writes a record's row and search keys (called by [`crate::query_tables::QueryTables`]).
pub(crate) fn index_record(tx: &Transaction<'_>, row: &RecordRow) -> rusqlite::Result<()> {
    let text = searchable_text(row);
    db::upsert_record(tx, row, &fold::fold(&text), &fold::toned(&text))
}

fn searchable_text(row: &RecordRow) -> String {
    let mut text = row.title.clone();
    for part in row.authors.iter().chain(row.subjects.iter()) {
        text.push(' ');
        text.push_str(part);
    }
    text.push(' ');
    text.push_str(&row.publisher);
    text
}

fn text(fields: &Entity, name: &str) -> Option<String> {
    fields.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn texts(fields: &Entity, name: &str) -> Vec<String> {
    match fields.get(name) {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A record entity as the query tables hold it. Missing fields stay empty: a record merged
/// from an older or careless device must still be findable by what it has.
pub fn record_row(id: &str, fields: &Entity) -> RecordRow {
    RecordRow {
        id: id.to_owned(),
        title: text(fields, "title").unwrap_or_default(),
        authors: texts(fields, "authors"),
        publisher: text(fields, "publisher").unwrap_or_default(),
        year: fields.get("year").and_then(Value::as_int),
        isbn: text(fields, "isbn").filter(|s| !s.is_empty()),
        language: text(fields, "language"),
        ddc: text(fields, "ddc"),
        subjects: texts(fields, "subjects"),
    }
}

/// Fills the catalogue index from the documents when it is empty: a database written before
/// the index existed, or one whose index a migration emptied to rebuild it.
pub(crate) fn rebuild_if_empty(store: &mut Store) -> Result<(), StoreError> {
    if db::record_count(store.connection())? > 0 {
        return Ok(());
    }
    let mut rows = Vec::new();
    store.scan(&network_scope(), RECORDS, |id, fields| {
        rows.push(record_row(id, fields))
    })?;
    let tx = store.connection_mut().transaction()?;
    for row in &rows {
        index_record(&tx, row)?;
    }
    tx.commit()?;
    Ok(())
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the catalogue index cannot be read: {0}")]
    Database(#[from] rusqlite::Error),
}

/// A search as asked: the text typed and how many results are wanted.
pub struct SearchQuery<'a> {
    pub text: &'a str,
    pub limit: usize,
}

/// An ISBN typed with or without hyphens or spaces, as 10 or 13 digits (an ISBN-10 may end
/// in X).
fn as_isbn(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    let digits = compact.chars().filter(char::is_ascii_digit).count();
    let valid = match compact.len() {
        13 => digits == 13,
        10 => digits == 10 || (digits == 9 && compact.ends_with(['X', 'x'])),
        _ => false,
    };
    valid.then(|| compact.to_uppercase())
}

/// Which indexed key a query searches.
#[derive(Clone, Copy)]
pub enum Key {
    /// Accent-free: matches however the reader typed.
    Folded,
    /// Accents kept, tone placement normalised: matches the exact accented words.
    Toned,
}

/// The FTS5 query for a key's words, limited to that key's column: every word required, as a
/// whole word or, with `prefix`, as the start of one. Keys hold letters and digits only, so
/// quoting the words is enough to keep FTS5 syntax out.
pub fn fts_query(key: &str, column: Key, prefix: bool) -> Option<String> {
    let star = if prefix { "*" } else { "" };
    let terms: Vec<String> = fold::words(key)
        .take(MAX_QUERY_WORDS)
        .map(|w| format!("\"{w}\"{star}"))
        .collect();
    let column = match column {
        Key::Folded => "folded",
        Key::Toned => "toned",
    };
    (!terms.is_empty()).then(|| format!("{column} : ({})", terms.join(" ")))
}

/// Finds records for what a reader typed, best first:
/// 1. for an accented query, records with the words exactly as typed (tone placement aside);
/// 2. records with the words whatever their accents ("nguyen du" is the poet before every
///    Nguyễn … Dương);
/// 3. if still short, records with words that start so (the reader is still typing).
pub fn search(conn: &Connection, query: &SearchQuery<'_>) -> Result<Vec<RecordRow>, SearchError> {
    let text = query.text.trim();
    let limit = query.limit.clamp(1, 200);
    if let Some(isbn) = as_isbn(text) {
        let found = db::records_by_isbn(conn, &isbn)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    let folded = fold::fold(text);
    let mut found = Found::new(limit);
    if fold::has_marks(text)
        && let Some(exact) = fts_query(&fold::toned(text), Key::Toned, false)
    {
        found.add(db::search_ranked(conn, &exact, limit)?);
    }
    if !found.is_full()
        && let Some(whole) = fts_query(&folded, Key::Folded, false)
    {
        found.add(db::search_ranked(conn, &whole, limit)?);
    }
    if !found.is_full()
        && let Some(started) = fts_query(&folded, Key::Folded, true)
    {
        found.add(db::search_newest(conn, &started, limit)?);
    }
    Ok(found.rows)
}

/// Results gathered from several queries, without repeats, up to a limit.
struct Found {
    rows: Vec<RecordRow>,
    seen: std::collections::HashSet<String>,
    limit: usize,
}

impl Found {
    fn new(limit: usize) -> Found {
        Found {
            rows: Vec::new(),
            seen: std::collections::HashSet::new(),
            limit,
        }
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= self.limit
    }

    fn add(&mut self, more: Vec<RecordRow>) {
        for row in more {
            if self.is_full() {
                return;
            }
            if self.seen.insert(row.id.clone()) {
                self.rows.push(row);
            }
        }
    }
}

#[cfg(test)]
mod tests;
