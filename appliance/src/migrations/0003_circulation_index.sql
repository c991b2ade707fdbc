-- Query tables for circulation, kept in step with the `loans` and `returns` entities of each
-- library scope by `query_tables::QueryTables`. A copy's status is derived from here: it is on
-- loan because an open loan (returned IS NULL) exists.
CREATE TABLE loan_index (
    id        TEXT PRIMARY KEY,
    scope     TEXT NOT NULL,
    copy      TEXT NOT NULL,
    reader    TEXT NOT NULL,
    out       TEXT NOT NULL,   -- ISO dates, YYYY-MM-DD
    due       TEXT NOT NULL,
    returned  TEXT,
    renewals  INTEGER NOT NULL,
    desk      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX loan_index_open_by_copy ON loan_index (scope, copy) WHERE returned IS NULL;
CREATE INDEX loan_index_open_by_reader ON loan_index (scope, reader) WHERE returned IS NULL;

-- Copies scanned back at a desk that knew no open loan for them.
CREATE TABLE stray_return_index (
    id    TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    copy  TEXT NOT NULL,
    day   TEXT NOT NULL,
    desk  TEXT NOT NULL
) WITHOUT ROWID;
