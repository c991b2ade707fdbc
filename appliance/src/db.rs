//! All of the appliance's own SQL: its numbered migrations and the statements on its query
//! tables. The documents themselves belong to the store; these tables are derived from them
//! and written only inside the store's transactions (see [`crate::search::CatalogueIndex`]).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// The appliance's migrations, in order. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_catalogue_index.sql"),
    include_str!("migrations/0002_toned_search_column.sql"),
];

pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    tusach_sync::store::migrate(conn, "appliance", MIGRATIONS)
}

/// A record as the query tables hold it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordRow {
    pub id: String,
    pub title: String,
    pub authors: Vec<String>,
    pub publisher: String,
    pub year: Option<i64>,
    pub isbn: Option<String>,
    pub language: Option<String>,
    pub ddc: Option<String>,
    pub subjects: Vec<String>,
}

const LIST_SEPARATOR: &str = "; ";

fn split_list(joined: String) -> Vec<String> {
    if joined.is_empty() {
        Vec::new()
    } else {
        joined.split(LIST_SEPARATOR).map(str::to_owned).collect()
    }
}

/// Inserts or replaces a record and its search text.
pub fn upsert_record(
    tx: &Transaction<'_>,
    row: &RecordRow,
    folded: &str,
    toned: &str,
) -> rusqlite::Result<()> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT rowid FROM record_index WHERE id = ?1")?
        .query_row([&row.id], |r| r.get(0))
        .optional()?;
    let values = params![
        row.id,
        row.title,
        row.authors.join(LIST_SEPARATOR),
        row.publisher,
        row.year,
        row.isbn,
        row.language,
        row.ddc,
        row.subjects.join(LIST_SEPARATOR),
        toned
    ];
    let rowid = match existing {
        Some(rowid) => {
            tx.prepare_cached("DELETE FROM record_search WHERE rowid = ?1")?
                .execute([rowid])?;
            tx.prepare_cached(
                "UPDATE record_index SET id = ?1, title = ?2, authors = ?3, publisher = ?4,
                        year = ?5, isbn = ?6, language = ?7, ddc = ?8, subjects = ?9, toned = ?10
                 WHERE rowid = ?11",
            )?
            .execute(params![
                row.id,
                row.title,
                row.authors.join(LIST_SEPARATOR),
                row.publisher,
                row.year,
                row.isbn,
                row.language,
                row.ddc,
                row.subjects.join(LIST_SEPARATOR),
                toned,
                rowid
            ])?;
            rowid
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO record_index
                    (id, title, authors, publisher, year, isbn, language, ddc, subjects, toned)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(values)?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("INSERT INTO record_search (rowid, folded, toned) VALUES (?1, ?2, ?3)")?
        .execute(params![rowid, folded, toned])?;
    Ok(())
}

pub fn delete_record(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT rowid FROM record_index WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(rowid) = existing {
        tx.prepare_cached("DELETE FROM record_search WHERE rowid = ?1")?
            .execute([rowid])?;
        tx.prepare_cached("DELETE FROM record_index WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    Ok(())
}

pub fn record_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM record_index", [], |r| r.get(0))
}

const RECORD_COLUMNS: &str =
    "ri.id, ri.title, ri.authors, ri.publisher, ri.year, ri.isbn, ri.language, ri.ddc, ri.subjects";

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: row.get(0)?,
        title: row.get(1)?,
        authors: split_list(row.get(2)?),
        publisher: row.get(3)?,
        year: row.get(4)?,
        isbn: row.get(5)?,
        language: row.get(6)?,
        ddc: row.get(7)?,
        subjects: split_list(row.get(8)?),
    })
}

fn search_ordered(
    conn: &Connection,
    fts_query: &str,
    order: &str,
    limit: usize,
) -> rusqlite::Result<Vec<RecordRow>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM record_search
         JOIN record_index ri ON ri.rowid = record_search.rowid
         WHERE record_search MATCH ?1 ORDER BY {order} LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![fts_query, limit as i64], record_from_row)?;
    rows.collect()
}

/// Records matching an FTS5 query, most relevant first (bm25).
pub fn search_ranked(
    conn: &Connection,
    fts_query: &str,
    limit: usize,
) -> rusqlite::Result<Vec<RecordRow>> {
    search_ordered(conn, fts_query, "record_search.rank", limit)
}

/// Records matching an FTS5 query, newest first. Used for words still being typed: a short
/// prefix matches a large part of the catalogue, and ranking all of it by relevance costs tens
/// of milliseconds, while rowid order lets FTS5 stop after `limit` matches.
pub fn search_newest(
    conn: &Connection,
    fts_query: &str,
    limit: usize,
) -> rusqlite::Result<Vec<RecordRow>> {
    search_ordered(conn, fts_query, "record_search.rowid DESC", limit)
}

/// The bare FTS5 query the search bench compares against: the same MATCH, rowids only.
pub fn bare_fts(conn: &Connection, fts_query: &str, limit: usize) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rowid FROM record_search WHERE record_search MATCH ?1 ORDER BY rank LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![fts_query, limit as i64], |r| r.get(0))?;
    rows.collect()
}

pub fn records_by_isbn(conn: &Connection, isbn: &str) -> rusqlite::Result<Vec<RecordRow>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM record_index ri WHERE ri.isbn = ?1 LIMIT 50");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([isbn], record_from_row)?;
    rows.collect()
}
