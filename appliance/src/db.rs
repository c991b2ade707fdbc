//! All of the appliance's own SQL: its numbered migrations and the statements on its query
//! tables. The documents themselves belong to the store; these tables are derived from them
//! and written only inside the store's transactions (see [`crate::query_tables::QueryTables`]).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// The appliance's migrations, in order. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_catalogue_index.sql"),
    include_str!("migrations/0002_toned_search_column.sql"),
    include_str!("migrations/0003_circulation_index.sql"),
    include_str!("migrations/0004_appliance_settings.sql"),
    include_str!("migrations/0005_readers_and_copies_index.sql"),
    include_str!("migrations/0006_copy_index.sql"),
    include_str!("migrations/0007_loans_kept_and_registrations.sql"),
    include_str!("migrations/0008_record_edits_and_merges.sql"),
    include_str!("migrations/0009_search_hash_size.sql"),
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

pub const LIST_SEPARATOR: &str = "; ";

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
    // Plain single-row statements on purpose: an UPSERT, or a DELETE from the search table,
    // opens a statement journal, and SQLite then asks FTS5 for a savepoint, which writes its
    // pending terms out as a new segment — per record, and a bulk load spends its time
    // merging thousands of one-record segments.
    let authors = row.authors.join(LIST_SEPARATOR);
    let subjects = row.subjects.join(LIST_SEPARATOR);
    let existing: Option<i64> = tx
        .prepare_cached("SELECT rowid FROM record_index WHERE id = ?1")?
        .query_row([&row.id], |r| r.get(0))
        .optional()?;
    // ?1 is the record's id in both statements, so they share one list of values.
    let values = params![
        row.id,
        row.title,
        authors,
        row.publisher,
        row.year,
        row.isbn,
        row.language,
        row.ddc,
        subjects,
        toned
    ];
    let rowid = match existing {
        Some(rowid) => {
            tx.prepare_cached(
                "UPDATE record_index SET title = ?2, authors = ?3, publisher = ?4, year = ?5,
                    isbn = ?6, language = ?7, ddc = ?8, subjects = ?9, toned = ?10
                 WHERE id = ?1",
            )?
            .execute(values)?;
            // The search row of an updated record is replaced.
            tx.prepare_cached("DELETE FROM record_search WHERE rowid = ?1")?
                .execute([rowid])?;
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
    record_from_row_at(row, 0)
}

/// A record from the [`RECORD_COLUMNS`] starting at column `at`.
fn record_from_row_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: row.get(at)?,
        title: row.get(at + 1)?,
        authors: split_list(row.get(at + 2)?),
        publisher: row.get(at + 3)?,
        year: row.get(at + 4)?,
        isbn: row.get(at + 5)?,
        language: row.get(at + 6)?,
        ddc: row.get(at + 7)?,
        subjects: split_list(row.get(at + 8)?),
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
    // Ranking costs a bm25 score for every match, and a common word ("lịch sử" among 100,000
    // records) matches tens of thousands: 130 ms for one query. Counting up to a bound stops
    // early; past it the words do not pick anything out, and newest first is as good.
    let matches: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM
               (SELECT 1 FROM record_search WHERE record_search MATCH ?1 LIMIT ?2)",
        )?
        .query_row(params![fts_query, RANK_AT_MOST], |r| r.get(0))?;
    if matches >= RANK_AT_MOST {
        return search_newest(conn, fts_query, limit);
    }
    search_ordered(conn, fts_query, "record_search.rank", limit)
}

/// Matches beyond which a query is answered newest first instead of by relevance.
const RANK_AT_MOST: i64 = 1_000;

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

/// Every row of the catalogue index with its rowid (which keys its search row).
pub fn all_records_by_rowid(conn: &Connection) -> rusqlite::Result<Vec<(i64, RecordRow)>> {
    let sql = format!("SELECT ri.rowid, {RECORD_COLUMNS} FROM record_index ri ORDER BY ri.rowid");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        let rowid: i64 = r.get(0)?;
        Ok((rowid, record_from_row_at(r, 1)?))
    })?;
    rows.collect()
}

/// Whether an FTS5 query on the search table finds the row `rowid`.
pub fn search_finds(conn: &Connection, fts_query: &str, rowid: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT count(*) FROM record_search WHERE record_search MATCH ?1 AND rowid = ?2",
    )?
    .query_row(params![fts_query, rowid], |r| r.get::<_, i64>(0))
    .map(|n| n > 0)
}

/// Rows in the search table.
pub fn search_row_count(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("SELECT count(*) FROM record_search", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as usize)
}

/// Whether the database has a table of that name (the query tables of a database whose
/// first open was cut short may not exist yet).
pub fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// One record by id.
pub fn record_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<RecordRow>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM record_index ri WHERE ri.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], record_from_row)
        .optional()
}

/// The records this replica learned of last first (record_index's rowid is assigned when a
/// record first arrives and kept on updates), `limit` from `offset`.
pub fn newest_records(
    conn: &Connection,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Vec<RecordRow>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM record_index ri ORDER BY ri.rowid DESC LIMIT ?1 OFFSET ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![limit as i64, offset as i64], record_from_row)?;
    rows.collect()
}

/// The records of copies with this barcode (in any library), as typed or in capitals.
pub fn records_by_barcode(conn: &Connection, barcode: &str) -> rusqlite::Result<Vec<RecordRow>> {
    let sql = format!(
        "SELECT DISTINCT {RECORD_COLUMNS} FROM copy_index c
         JOIN record_index ri ON ri.id = c.record
         WHERE c.barcode IN (?1, ?2) LIMIT 10"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![barcode, barcode.to_uppercase()], record_from_row)?;
    rows.collect()
}

pub fn records_by_isbn(conn: &Connection, isbn: &str) -> rusqlite::Result<Vec<RecordRow>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM record_index ri WHERE ri.isbn = ?1 LIMIT 50");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([isbn], record_from_row)?;
    rows.collect()
}

/// A loan as the circulation query table holds it (dates as ISO text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanRow {
    pub id: String,
    pub scope: String,
    pub copy: String,
    pub reader: String,
    pub out: String,
    pub due: String,
    /// Read from the table: the day the loan ended, `None` while it is open (see
    /// [`upsert_loan`] for a loan closed as lent by mistake in favour of another mistaken
    /// one). Given to [`upsert_loan`]: the day recorded in the loan entity.
    pub returned: Option<String>,
    pub renewals: i64,
    pub desk: String,
    /// How a librarian closed it (`lent_by_mistake`, `paired_by_librarian`, ...), if so.
    pub closed_as: Option<String>,
    /// For a loan closed as lent by mistake: the loan kept instead of it.
    pub kept: Option<String>,
    /// The day the copy physically came back on this loan, if it did.
    pub back: Option<String>,
}

/// A loan's effective return day: the day its copy came back if it did; else its recorded
/// one, except that a loan closed as lent by mistake in favour of a loan that is itself closed
/// as lent by mistake and was never seen back (two desks kept different loans of one copy
/// while apart) is open again.
const EFFECTIVE_RETURNED: &str = "UPDATE loan_index SET returned = CASE
        WHEN back IS NOT NULL THEN back
        WHEN closed_as = 'lent_by_mistake' AND EXISTS (
            SELECT 1 FROM loan_index k WHERE k.id = loan_index.kept
              AND k.closed_as = 'lent_by_mistake' AND k.back IS NULL)
        THEN NULL ELSE recorded_returned END
     WHERE id = ?1 OR kept = ?1";

pub fn upsert_loan(tx: &Transaction<'_>, row: &LoanRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO loan_index
            (id, scope, copy, reader, out, due, returned, renewals, desk,
             recorded_returned, closed_as, kept, back)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?7, ?10, ?11, ?12)",
    )?
    .execute(params![
        row.id,
        row.scope,
        row.copy,
        row.reader,
        row.out,
        row.due,
        row.returned,
        row.renewals,
        row.desk,
        row.closed_as,
        row.kept,
        row.back
    ])?;
    // This loan's openness depends on the loan it names as kept, and the loans naming it as
    // kept depend on it: both are settled here, whichever of them a merge applies last.
    tx.prepare_cached(EFFECTIVE_RETURNED)?.execute([&row.id])?;
    Ok(())
}

pub fn delete_loan(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM loan_index WHERE id = ?1")?
        .execute([id])?;
    tx.prepare_cached(EFFECTIVE_RETURNED)?.execute([id])?;
    Ok(())
}

fn loan_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LoanRow> {
    Ok(LoanRow {
        id: row.get(0)?,
        scope: row.get(1)?,
        copy: row.get(2)?,
        reader: row.get(3)?,
        out: row.get(4)?,
        due: row.get(5)?,
        returned: row.get(6)?,
        renewals: row.get(7)?,
        desk: row.get(8)?,
        closed_as: row.get(9)?,
        kept: row.get(10)?,
        back: row.get(11)?,
    })
}

const LOAN_COLUMNS: &str =
    "id, scope, copy, reader, out, due, returned, renewals, desk, closed_as, kept, back";

fn loans_where(
    conn: &Connection,
    condition: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<Vec<LoanRow>> {
    let sql = format!("SELECT {LOAN_COLUMNS} FROM loan_index WHERE {condition} ORDER BY out, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, loan_from_row)?;
    rows.collect()
}

pub fn open_loans_of_copy(
    conn: &Connection,
    scope: &str,
    copy: &str,
) -> rusqlite::Result<Vec<LoanRow>> {
    loans_where(
        conn,
        "scope = ?1 AND copy = ?2 AND returned IS NULL",
        params![scope, copy],
    )
}

pub fn open_loans_of_reader(
    conn: &Connection,
    scope: &str,
    reader: &str,
) -> rusqlite::Result<Vec<LoanRow>> {
    loans_where(
        conn,
        "scope = ?1 AND reader = ?2 AND returned IS NULL",
        params![scope, reader],
    )
}

pub fn all_loans(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<LoanRow>> {
    loans_where(conn, "scope = ?1", params![scope])
}

/// Every loan to a reader card, open or not.
pub fn loans_to_card(conn: &Connection, scope: &str, card: &str) -> rusqlite::Result<Vec<LoanRow>> {
    loans_where(conn, "scope = ?1 AND reader = ?2", params![scope, card])
}

pub fn upsert_registration(
    tx: &Transaction<'_>,
    scope: &str,
    id: &str,
    card: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO registration_index (scope, id, card) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![scope, id, card])?;
    Ok(())
}

pub fn delete_registration(tx: &Transaction<'_>, scope: &str, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM registration_index WHERE scope = ?1 AND id = ?2")?
        .execute(params![scope, id])?;
    Ok(())
}

/// The ids of the registrations of `card`, in id order.
pub fn registrations_of_card(
    conn: &Connection,
    scope: &str,
    card: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM registration_index WHERE scope = ?1 AND card = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![scope, card], |row| row.get(0))?;
    rows.collect()
}

/// A note of a resolution as `resolution_index` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolutionRow {
    pub id: String,
    pub exception: String,
    pub resolution: String,
    pub desk: String,
    pub day: String,
}

pub fn upsert_resolution(
    tx: &Transaction<'_>,
    scope: &str,
    row: &ResolutionRow,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO resolution_index (scope, id, exception, resolution, desk, day)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        scope,
        row.id,
        row.exception,
        row.resolution,
        row.desk,
        row.day
    ])?;
    Ok(())
}

pub fn delete_resolution(tx: &Transaction<'_>, scope: &str, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM resolution_index WHERE scope = ?1 AND id = ?2")?
        .execute(params![scope, id])?;
    Ok(())
}

/// Every note of a library's resolutions, by day, desk and choice.
pub fn resolutions(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<ResolutionRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, exception, resolution, desk, day FROM resolution_index WHERE scope = ?1
         ORDER BY day, desk, resolution, id",
    )?;
    let rows = stmt.query_map([scope], |row| {
        Ok(ResolutionRow {
            id: row.get(0)?,
            exception: row.get(1)?,
            resolution: row.get(2)?,
            desk: row.get(3)?,
            day: row.get(4)?,
        })
    })?;
    rows.collect()
}

/// Every reader card of a library with its expiry (ISO) and whether it is blocked, for the
/// inbox: only blocked readers need their entity read (for the day of the block).
pub fn reader_standings(
    conn: &Connection,
    scope: &str,
) -> rusqlite::Result<Vec<(String, String, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT card, card_expires, blocked IS NOT NULL FROM reader_index WHERE scope = ?1",
    )?;
    let rows = stmt.query_map([scope], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    rows.collect()
}

/// Records which registration the reader entity of `card` describes (after its upsert).
pub fn set_reader_registration(
    tx: &Transaction<'_>,
    scope: &str,
    card: &str,
    registration: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE reader_index SET registration = ?3 WHERE scope = ?1 AND card = ?2")?
        .execute(params![scope, card, registration])?;
    Ok(())
}

/// Reader cards whose entity describes a registration that now has another card, with that
/// registration's id, in card order.
pub fn cards_left_behind(
    conn: &Connection,
    scope: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.card, g.id FROM reader_index r
         JOIN registration_index g ON g.scope = r.scope AND g.id = r.registration
         WHERE r.scope = ?1 AND g.card <> r.card ORDER BY r.card",
    )?;
    let rows = stmt.query_map([scope], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Cards with more than one registration (two desks gave one card to two people), in order.
pub fn cards_registered_twice(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT card FROM registration_index WHERE scope = ?1
         GROUP BY card HAVING count(*) > 1 ORDER BY card",
    )?;
    let rows = stmt.query_map([scope], |row| row.get(0))?;
    rows.collect()
}

/// A stray return as the query table holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrayReturnRow {
    pub id: String,
    pub scope: String,
    pub copy: String,
    pub day: String,
    pub desk: String,
}

pub fn upsert_stray_return(tx: &Transaction<'_>, row: &StrayReturnRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO stray_return_index (id, scope, copy, day, desk) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![row.id, row.scope, row.copy, row.day, row.desk])?;
    Ok(())
}

pub fn delete_stray_return(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM stray_return_index WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

pub fn stray_returns(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<StrayReturnRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, scope, copy, day, desk FROM stray_return_index WHERE scope = ?1 ORDER BY day, id",
    )?;
    let rows = stmt.query_map([scope], |row| {
        Ok(StrayReturnRow {
            id: row.get(0)?,
            scope: row.get(1)?,
            copy: row.get(2)?,
            day: row.get(3)?,
            desk: row.get(4)?,
        })
    })?;
    rows.collect()
}

/// A local, unreplicated setting of this appliance.
pub fn setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT value FROM appliance_settings WHERE key = ?1",
        [key],
        |row| row.get(0),
    )
    .optional()
}

pub fn set_setting(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO appliance_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Every local setting whose key starts with `prefix`, by key.
pub fn settings_with_prefix(
    conn: &Connection,
    prefix: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT key, value FROM appliance_settings WHERE substr(key, 1, length(?1)) = ?1
         ORDER BY key",
    )?;
    let rows = statement.query_map([prefix], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

pub fn delete_setting(conn: &Connection, key: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM appliance_settings WHERE key = ?1", [key])?;
    Ok(())
}

/// The latest day any loan (made here or merged) went out, as an ISO date.
pub fn latest_loan_day(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT max(out) FROM loan_index", [], |row| row.get(0))
}

/// A reader as the desk's query table holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderRow {
    pub scope: String,
    pub card: String,
    pub name: String,
    pub sort_key: String,
    pub folded: String,
    pub category: String,
    pub card_expires: String,
    pub blocked: Option<String>,
}

pub fn upsert_reader(tx: &Transaction<'_>, row: &ReaderRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO reader_index
            (scope, card, name, sort_key, folded, category, card_expires, blocked)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        row.scope,
        row.card,
        row.name,
        row.sort_key,
        row.folded,
        row.category,
        row.card_expires,
        row.blocked
    ])?;
    Ok(())
}

pub fn delete_reader(tx: &Transaction<'_>, scope: &str, card: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM reader_index WHERE scope = ?1 AND card = ?2")?
        .execute([scope, card])?;
    Ok(())
}

pub fn reader_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM reader_index", [], |r| r.get(0))
}

const READER_COLUMNS: &str = "scope, card, name, sort_key, folded, category, card_expires, blocked";

fn reader_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReaderRow> {
    Ok(ReaderRow {
        scope: row.get(0)?,
        card: row.get(1)?,
        name: row.get(2)?,
        sort_key: row.get(3)?,
        folded: row.get(4)?,
        category: row.get(5)?,
        card_expires: row.get(6)?,
        blocked: row.get(7)?,
    })
}

pub fn reader_by_card(
    conn: &Connection,
    scope: &str,
    card: &str,
) -> rusqlite::Result<Option<ReaderRow>> {
    let sql = format!("SELECT {READER_COLUMNS} FROM reader_index WHERE scope = ?1 AND card = ?2");
    conn.prepare_cached(&sql)?
        .query_row([scope, card], reader_from_row)
        .optional()
}

/// Readers in collation order; with `search`, those whose folded name contains it or whose
/// card starts with it (case-insensitive).
pub fn readers_sorted(
    conn: &Connection,
    scope: &str,
    search: Option<&str>,
    limit: usize,
) -> rusqlite::Result<Vec<ReaderRow>> {
    let sql = format!(
        "SELECT {READER_COLUMNS} FROM reader_index
         WHERE scope = ?1 AND (?2 IS NULL OR instr(folded, ?2) > 0 OR card LIKE ?2 || '%')
         ORDER BY sort_key, card LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![scope, search, limit as i64], reader_from_row)?;
    rows.collect()
}

/// The cards of one library's readers of a category, in name order.
pub fn cards_of_category(
    conn: &Connection,
    scope: &str,
    category: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT card FROM reader_index WHERE scope = ?1 AND category = ?2 ORDER BY sort_key, card",
    )?;
    let rows = stmt.query_map([scope, category], |r| r.get(0))?;
    rows.collect()
}

/// A copy as the query table holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyRow {
    pub scope: String,
    pub barcode: String,
    pub record: String,
    pub item_type: String,
    /// The copy's `status` field: lost, withdrawn, not_for_loan, or empty.
    pub status: String,
    /// Shelf location and call number, e.g. "Kệ 9 – 895.922".
    pub shelf: String,
}

pub fn upsert_copy(tx: &Transaction<'_>, row: &CopyRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO copy_index (scope, barcode, record, item_type, status, shelf)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        row.scope,
        row.barcode,
        row.record,
        row.item_type,
        row.status,
        row.shelf
    ])?;
    Ok(())
}

pub fn delete_copy(tx: &Transaction<'_>, scope: &str, barcode: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM copy_index WHERE scope = ?1 AND barcode = ?2")?
        .execute(params![scope, barcode])?;
    Ok(())
}

pub fn copy_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM copy_index", [], |r| r.get(0))
}

/// A copy and the title of its record ('' when the record is not known here).
pub fn copy_by_barcode(
    conn: &Connection,
    scope: &str,
    barcode: &str,
) -> rusqlite::Result<Option<(CopyRow, String)>> {
    conn.prepare_cached(
        "SELECT c.scope, c.barcode, c.record, c.item_type, c.status, c.shelf, coalesce(r.title, '')
         FROM copy_index c LEFT JOIN record_index r ON r.id = c.record
         WHERE c.scope = ?1 AND c.barcode = ?2",
    )?
    .query_row([scope, barcode], |row| {
        Ok((
            CopyRow {
                scope: row.get(0)?,
                barcode: row.get(1)?,
                record: row.get(2)?,
                item_type: row.get(3)?,
                status: row.get(4)?,
                shelf: row.get(5)?,
            },
            row.get(6)?,
        ))
    })
    .optional()
}

/// A loan with what the desk shows beside it: the title and the reader's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanLine {
    pub loan: LoanRow,
    pub record: String,
    pub title: String,
    pub reader_name: String,
}

fn loan_lines(
    conn: &Connection,
    condition: &str,
    order: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<Vec<LoanLine>> {
    let sql = format!(
        "SELECT l.id, l.scope, l.copy, l.reader, l.out, l.due, l.returned, l.renewals, l.desk,
                l.closed_as, l.kept, l.back,
                coalesce(c.record, ''), coalesce(r.title, ''), coalesce(p.name, '')
         FROM loan_index l
         LEFT JOIN copy_index c ON c.scope = l.scope AND c.barcode = l.copy
         LEFT JOIN record_index r ON r.id = c.record
         LEFT JOIN reader_index p ON p.scope = l.scope AND p.card = l.reader
         WHERE {condition} ORDER BY {order}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |row| {
        Ok(LoanLine {
            loan: loan_from_row(row)?,
            record: row.get(12)?,
            title: row.get(13)?,
            reader_name: row.get(14)?,
        })
    })?;
    rows.collect()
}

/// A reader's open loans with titles, oldest first.
pub fn open_loan_lines_of_reader(
    conn: &Connection,
    scope: &str,
    reader: &str,
) -> rusqlite::Result<Vec<LoanLine>> {
    loan_lines(
        conn,
        "l.scope = ?1 AND l.reader = ?2 AND l.returned IS NULL",
        "l.out, l.id",
        params![scope, reader],
    )
}

/// A reader's loans, open and returned, newest first.
pub fn loan_history_of_reader(
    conn: &Connection,
    scope: &str,
    reader: &str,
    limit: usize,
) -> rusqlite::Result<Vec<LoanLine>> {
    loan_lines(
        conn,
        "l.scope = ?1 AND l.reader = ?2",
        &format!("l.out DESC, l.id LIMIT {limit}"),
        params![scope, reader],
    )
}

/// Open loans due before `today` (ISO date), the longest overdue first.
pub fn overdue_loan_lines(
    conn: &Connection,
    scope: &str,
    today: &str,
) -> rusqlite::Result<Vec<LoanLine>> {
    loan_lines(
        conn,
        "l.scope = ?1 AND l.returned IS NULL AND l.due < ?2",
        "l.due, l.out, l.id",
        params![scope, today],
    )
}

/// A copy with the due date of its open loan, if it is out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldingRow {
    pub copy: CopyRow,
    /// The earliest due date of an open loan of this copy (ISO), when it is on loan.
    pub due: Option<String>,
}

const HOLDING_COLUMNS: &str = "c.scope, c.barcode, c.record, c.item_type, c.status, c.shelf,
    (SELECT min(l.due) FROM loan_index l
     WHERE l.scope = c.scope AND l.copy = c.barcode AND l.returned IS NULL)";

fn holding_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<HoldingRow> {
    Ok(HoldingRow {
        copy: CopyRow {
            scope: row.get(0)?,
            barcode: row.get(1)?,
            record: row.get(2)?,
            item_type: row.get(3)?,
            status: row.get(4)?,
            shelf: row.get(5)?,
        },
        due: row.get(6)?,
    })
}

/// Every copy of a record in every library, by library, shelf and barcode.
pub fn holdings_of_record(conn: &Connection, record: &str) -> rusqlite::Result<Vec<HoldingRow>> {
    let sql = format!(
        "{MERGED_FAMILY} SELECT {HOLDING_COLUMNS} FROM copy_index c
         WHERE c.record IN (SELECT id FROM family)
         ORDER BY c.scope, c.shelf, c.barcode"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([record], holding_from_row)?;
    rows.collect()
}

/// A record and every record merged into it (at any depth), as the CTE `family(id)`: copies
/// catalogued under a merged record, at a desk that had not heard of the merge, still show
/// under the survivor. UNION (not UNION ALL) stops at a cycle a careless peer might write.
const MERGED_FAMILY: &str = "WITH RECURSIVE family(id) AS (
        SELECT ?1 UNION SELECT r.id FROM record_redirect r JOIN family f ON r.into_record = f.id
    )";

/// Every copy of one library, by shelf and barcode.
pub fn holdings_of_scope(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<HoldingRow>> {
    let sql = format!(
        "SELECT {HOLDING_COLUMNS} FROM copy_index c WHERE c.scope = ?1
         ORDER BY c.shelf, c.barcode"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([scope], holding_from_row)?;
    rows.collect()
}

/// One copy of one library.
pub fn holding(
    conn: &Connection,
    scope: &str,
    barcode: &str,
) -> rusqlite::Result<Option<HoldingRow>> {
    let sql =
        format!("SELECT {HOLDING_COLUMNS} FROM copy_index c WHERE c.scope = ?1 AND c.barcode = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![scope, barcode], holding_from_row)
        .optional()
}

/// The distinct shelves of one library.
pub fn shelves_of_scope(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT shelf FROM copy_index WHERE scope = ?1 AND shelf != '' ORDER BY shelf",
    )?;
    let rows = stmt.query_map([scope], |r| r.get(0))?;
    rows.collect()
}

/// (record, scope) pairs for the libraries holding a copy of any of `records`.
pub fn scopes_holding(
    conn: &Connection,
    records: &[String],
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    // In chunks, well under SQLite's limit on bound parameters.
    for chunk in records.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql =
            format!("SELECT DISTINCT record, scope FROM copy_index WHERE record IN ({marks})");
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(chunk.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        for row in rows {
            pairs.push(row?);
        }
    }
    Ok(pairs)
}

/// A copy with what its spine label shows from its record ('' and no authors when the record
/// is not known here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyLabelRow {
    pub barcode: String,
    pub shelf: String,
    pub title: String,
    pub authors: Vec<String>,
    pub ddc: Option<String>,
}

const COPY_LABEL_COLUMNS: &str =
    "c.barcode, c.shelf, coalesce(r.title, ''), coalesce(r.authors, ''), r.ddc";

fn copy_label_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CopyLabelRow> {
    Ok(CopyLabelRow {
        barcode: row.get(0)?,
        shelf: row.get(1)?,
        title: row.get(2)?,
        authors: split_list(row.get(3)?),
        ddc: row.get(4)?,
    })
}

/// One library's copies of a record (and of records merged into it), by shelf and barcode.
pub fn copy_labels_of_record(
    conn: &Connection,
    scope: &str,
    record: &str,
) -> rusqlite::Result<Vec<CopyLabelRow>> {
    let sql = format!(
        "{MERGED_FAMILY} SELECT {COPY_LABEL_COLUMNS} FROM copy_index c
         LEFT JOIN record_index r ON r.id = c.record
         WHERE c.scope = ?2 AND c.record IN (SELECT id FROM family)
         ORDER BY c.shelf, c.barcode"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![record, scope], copy_label_from_row)?;
    rows.collect()
}

/// Every copy of one library, by shelf and barcode.
pub fn copy_labels_of_scope(conn: &Connection, scope: &str) -> rusqlite::Result<Vec<CopyLabelRow>> {
    let sql = format!(
        "SELECT {COPY_LABEL_COLUMNS} FROM copy_index c
         LEFT JOIN record_index r ON r.id = c.record
         WHERE c.scope = ?1 ORDER BY c.shelf, c.barcode"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([scope], copy_label_from_row)?;
    rows.collect()
}

/// One copy of one library.
pub fn copy_label(
    conn: &Connection,
    scope: &str,
    barcode: &str,
) -> rusqlite::Result<Option<CopyLabelRow>> {
    let sql = format!(
        "SELECT {COPY_LABEL_COLUMNS} FROM copy_index c
         LEFT JOIN record_index r ON r.id = c.record
         WHERE c.scope = ?1 AND c.barcode = ?2"
    );
    conn.prepare_cached(&sql)?
        .query_row([scope, barcode], copy_label_from_row)
        .optional()
}

/// A record's title, if the catalogue holds it.
pub fn record_title(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT title FROM record_index WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()
}

/// Every record's id, title and DDC number, for the statistics.
pub fn record_titles_and_classes(
    conn: &Connection,
) -> rusqlite::Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached("SELECT id, title, ddc FROM record_index")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    rows.collect()
}

/// One edit of one field of a record, as `record_edit_index` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordEditRow {
    pub id: String,
    pub record: String,
    pub field: String,
    pub old: String,
    pub new: String,
    pub by: String,
    /// The editing desk's device id, and its library.
    pub desk: String,
    pub library: String,
    pub at: String,
    /// The edits of this field the editing desk had seen.
    pub after: Vec<String>,
}

pub fn upsert_record_edit(tx: &Transaction<'_>, row: &RecordEditRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO record_edit_index
             (id, record, field, old, new, by, desk, library, at, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        row.id,
        row.record,
        row.field,
        row.old,
        row.new,
        row.by,
        row.desk,
        row.library,
        row.at,
        row.after.join(" "),
    ])?;
    Ok(())
}

pub fn delete_record_edit(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM record_edit_index WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

fn record_edit_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordEditRow> {
    let after: String = row.get(9)?;
    Ok(RecordEditRow {
        id: row.get(0)?,
        record: row.get(1)?,
        field: row.get(2)?,
        old: row.get(3)?,
        new: row.get(4)?,
        by: row.get(5)?,
        desk: row.get(6)?,
        library: row.get(7)?,
        at: row.get(8)?,
        after: after.split_whitespace().map(str::to_owned).collect(),
    })
}

const RECORD_EDIT_COLUMNS: &str = "id, record, field, old, new, by, desk, library, at, after";

/// A record's edits, oldest first (by the editing desk's clock, then id: for display only).
pub fn record_edits(conn: &Connection, record: &str) -> rusqlite::Result<Vec<RecordEditRow>> {
    let sql = format!(
        "SELECT {RECORD_EDIT_COLUMNS} FROM record_edit_index WHERE record = ?1 ORDER BY at, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([record], record_edit_from_row)?;
    rows.collect()
}

/// The edits of every (record, field) that more than one edit touched: the only places two
/// desks can have edited differently.
pub fn record_edits_of_contested_fields(conn: &Connection) -> rusqlite::Result<Vec<RecordEditRow>> {
    let sql = format!(
        "SELECT {RECORD_EDIT_COLUMNS} FROM record_edit_index
         WHERE (record, field) IN (
             SELECT record, field FROM record_edit_index GROUP BY record, field HAVING count(*) > 1
         )
         ORDER BY record, field, at, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], record_edit_from_row)?;
    rows.collect()
}

pub fn upsert_record_redirect(tx: &Transaction<'_>, id: &str, into: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO record_redirect (id, into_record) VALUES (?1, ?2)")?
        .execute(params![id, into])?;
    Ok(())
}

pub fn delete_record_redirect(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM record_redirect WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Where a merged record went (one step), if it was merged.
pub fn record_redirect(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT into_record FROM record_redirect WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()
}

/// The record that stands for `id` now: itself, or the end of its chain of merges. A cycle
/// (which a careless peer could write) ends at the smallest id in it, the same on every
/// replica.
pub fn canonical_record(conn: &Connection, id: &str) -> rusqlite::Result<String> {
    let mut seen = vec![id.to_owned()];
    let mut current = id.to_owned();
    while let Some(next) = record_redirect(conn, &current)? {
        if seen.contains(&next) {
            let start = seen.iter().position(|s| *s == next).unwrap_or(0);
            return Ok(seen[start..].iter().min().cloned().unwrap_or(next));
        }
        seen.push(next.clone());
        current = next;
    }
    Ok(current)
}

/// ISBNs that more than one record of the catalogue carries, with those records' ids (merged
/// records have left record_index, so a merge settles its ISBN).
pub fn duplicate_isbns(conn: &Connection) -> rusqlite::Result<Vec<(String, Vec<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT isbn, group_concat(id, ' ') FROM (
             SELECT isbn, id FROM record_index
             WHERE isbn IS NOT NULL AND isbn != ''
               AND isbn IN (SELECT isbn FROM record_index WHERE isbn IS NOT NULL AND isbn != ''
                            GROUP BY isbn HAVING count(*) > 1)
             ORDER BY isbn, id
         ) GROUP BY isbn ORDER BY isbn",
    )?;
    let rows = stmt.query_map([], |row| {
        let ids: String = row.get(1)?;
        Ok((
            row.get::<_, String>(0)?,
            ids.split_whitespace().map(str::to_owned).collect(),
        ))
    })?;
    rows.collect()
}
