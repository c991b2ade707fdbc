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

/// A record's row with its two search keys, ready to be written.
pub(crate) struct IndexedRecord {
    row: RecordRow,
    folded: String,
    toned: String,
}

impl IndexedRecord {
    pub(crate) fn new(row: RecordRow) -> IndexedRecord {
        let text = searchable_text(&row);
        IndexedRecord {
            folded: fold::fold(&text),
            toned: fold::toned(&text),
            row,
        }
    }

    /// Writes the row and its search keys (called by [`crate::query_tables::QueryTables`]).
    pub(crate) fn write(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        db::upsert_record(tx, &self.row, &self.folded, &self.toned)
    }
}

/// Writes a record's row and search keys.
pub(crate) fn index_record(tx: &Transaction<'_>, row: &RecordRow) -> rusqlite::Result<()> {
    IndexedRecord::new(row.clone()).write(tx)
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
        // Merged records stay out of the catalogue (see `query_tables`).
        if crate::query_tables::merged_into(fields).is_none() {
            rows.push(record_row(id, fields))
        }
    })?;
    let tx = store.connection_mut().transaction()?;
    for row in &rows {
        index_record(&tx, row)?;
    }
    tx.commit()?;
    Ok(())
}

/// What [`check_index`] found.
#[derive(Debug, Default)]
pub struct IndexCheck {
    /// Catalogue records in the documents.
    pub records: usize,
    /// Each difference between the tables and the documents, in words.
    pub problems: Vec<String>,
}

/// Compares the catalogue's query tables with what a rebuild from the documents would write:
/// the same records with the same rows in `record_index`, and each one found in `record_search`
/// by both its keys under its own rowid, with no other search rows. Reads the tables as they
/// are (the store need not have the observer attached, which would rebuild empty tables).
pub fn check_index(store: &mut Store) -> Result<IndexCheck, StoreError> {
    let mut expected = std::collections::BTreeMap::new();
    store.scan(&network_scope(), RECORDS, |id, fields| {
        if crate::query_tables::merged_into(fields).is_none() {
            expected.insert(id.to_owned(), IndexedRecord::new(record_row(id, fields)));
        }
    })?;
    let conn = store.connection();
    let mut check = IndexCheck {
        records: expected.len(),
        problems: Vec::new(),
    };
    let actual = if db::has_table(conn, "record_index")? {
        db::all_records_by_rowid(conn)?
    } else {
        Vec::new()
    };
    let mut indexed = std::collections::BTreeSet::new();
    for (rowid, row) in &actual {
        indexed.insert(row.id.clone());
        let Some(wanted) = expected.get(&row.id) else {
            check
                .problems
                .push(format!("{} is indexed but not in the documents", row.id));
            continue;
        };
        if wanted.row != *row {
            check.problems.push(format!(
                "{}: the index holds {row:?}, the documents {:?}",
                row.id, wanted.row
            ));
        }
        for (key, column) in [(&wanted.folded, Key::Folded), (&wanted.toned, Key::Toned)] {
            if let Some(query) = fts_query(key, column, false)
                && !db::search_finds(conn, &query, *rowid)?
            {
                check.problems.push(format!(
                    "{}: the search table does not find it by {query}",
                    row.id
                ));
            }
        }
    }
    for id in expected.keys().filter(|id| !indexed.contains(*id)) {
        check
            .problems
            .push(format!("{id} is in the documents but not indexed"));
    }
    let search_rows = if actual.is_empty() {
        0
    } else {
        db::search_row_count(conn)?
    };
    if search_rows != actual.len() {
        check.problems.push(format!(
            "the search table has {search_rows} rows for {} indexed records",
            actual.len()
        ));
    }
    Ok(check)
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
///
/// A copy's barcode (as a scanner types it into the search box) finds its record too.
pub fn search(conn: &Connection, query: &SearchQuery<'_>) -> Result<Vec<RecordRow>, SearchError> {
    matching(conn, query.text, query.limit.clamp(1, 200))
}

/// A barcode-like word: letters and digits with at least one digit, as on copy labels.
fn as_barcode(text: &str) -> Option<&str> {
    (crate::cataloguing::valid_barcode(text) && text.bytes().any(|b| b.is_ascii_digit()))
        .then_some(text)
}

fn matching(conn: &Connection, text: &str, limit: usize) -> Result<Vec<RecordRow>, SearchError> {
    let text = text.trim();
    if let Some(isbn) = as_isbn(text) {
        let found = db::records_by_isbn(conn, &isbn)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    if let Some(barcode) = as_barcode(text) {
        let found = db::records_by_barcode(conn, barcode)?;
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

/// Facets are counted over at most this many best matches, so a one-letter query stays fast;
/// pages say when the cap was reached.
pub const MAX_MATCHED: usize = 150;

/// How many subjects a facet list shows.
const TOP_SUBJECTS: usize = 12;

/// What a reader narrowed the results to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// The first year of a decade (1990 = 1990–1999).
    pub decade: Option<i64>,
    pub language: Option<String>,
    pub subject: Option<String>,
    /// A library id: records with a copy there.
    pub library: Option<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self == &Filters::default()
    }
}

/// Counts of the matched (and filtered) records by a value, most first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facets {
    pub decades: Vec<(i64, usize)>,
    pub languages: Vec<(String, usize)>,
    pub subjects: Vec<(String, usize)>,
    pub libraries: Vec<(String, usize)>,
}

/// One page of filtered results with the facets of all of them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faceted {
    pub records: Vec<RecordRow>,
    /// How many records match after filtering (within [`MAX_MATCHED`]).
    pub total: usize,
    /// The query matched [`MAX_MATCHED`] records or more; facets count only those.
    pub capped: bool,
    pub facets: Facets,
}

fn counted<T: Ord + Clone>(counts: std::collections::BTreeMap<T, usize>) -> Vec<(T, usize)> {
    let mut list: Vec<(T, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

/// Searches like [`search`], narrows by `filters`, and counts facets over the best
/// [`MAX_MATCHED`] matches: decade, language, subject and the libraries holding a copy.
pub fn search_faceted(
    conn: &Connection,
    text: &str,
    filters: &Filters,
    limit: usize,
) -> Result<Faceted, SearchError> {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let matched = matching(conn, text, MAX_MATCHED)?;
    let capped = matched.len() >= MAX_MATCHED;
    let ids: Vec<String> = matched.iter().map(|r| r.id.clone()).collect();
    let mut holders: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (record, scope) in db::scopes_holding(conn, &ids)? {
        if let Some(library) = crate::holdings::library_id(&scope) {
            holders
                .entry(record)
                .or_default()
                .insert(library.to_owned());
        }
    }
    let none = BTreeSet::new();
    let kept: Vec<RecordRow> = matched
        .into_iter()
        .filter(|r| {
            filters
                .decade
                .is_none_or(|d| r.year.is_some_and(|y| y - y.rem_euclid(10) == d))
                && filters
                    .language
                    .as_ref()
                    .is_none_or(|l| r.language.as_ref() == Some(l))
                && filters
                    .subject
                    .as_ref()
                    .is_none_or(|s| r.subjects.contains(s))
                && filters
                    .library
                    .as_ref()
                    .is_none_or(|l| holders.get(&r.id).unwrap_or(&none).contains(l))
        })
        .collect();
    let (mut decades, mut languages, mut subjects, mut libraries) = (
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
    );
    for r in &kept {
        if let Some(year) = r.year {
            *decades.entry(year - year.rem_euclid(10)).or_insert(0) += 1;
        }
        if let Some(language) = r.language.as_ref().filter(|l| !l.is_empty()) {
            *languages.entry(language.clone()).or_insert(0) += 1;
        }
        for subject in r.subjects.iter().collect::<BTreeSet<_>>() {
            *subjects.entry(subject.clone()).or_insert(0) += 1;
        }
        for library in holders.get(&r.id).unwrap_or(&none) {
            *libraries.entry(library.clone()).or_insert(0) += 1;
        }
    }
    let mut decades: Vec<(i64, usize)> = decades.into_iter().collect();
    decades.sort_by_key(|d| std::cmp::Reverse(d.0));
    let mut subjects = counted(subjects);
    subjects.truncate(TOP_SUBJECTS);
    Ok(Faceted {
        total: kept.len(),
        records: kept.into_iter().take(limit).collect(),
        capped,
        facets: Facets {
            decades,
            languages: counted(languages),
            subjects,
            libraries: counted(libraries),
        },
    })
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
