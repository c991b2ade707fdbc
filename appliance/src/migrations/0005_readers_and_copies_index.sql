-- Query tables for the circulation desk, kept in step with the `readers` and `copies` entities
-- of each library scope by `query_tables::QueryTables`, and rebuilt from the documents when
-- empty (a database that predates them).

-- One row per reader card: the readers list (sorted by `circulation::collation::name_key`),
-- name search (`folded`, from `search::fold::fold`), the desk's card lookup and the overdue list.
CREATE TABLE reader_index (
    scope        TEXT NOT NULL,
    card         TEXT NOT NULL,
    name         TEXT NOT NULL,
    sort_key     TEXT NOT NULL,
    folded       TEXT NOT NULL,
    category     TEXT NOT NULL,
    card_expires TEXT NOT NULL,   -- ISO date
    blocked      TEXT,            -- the librarian's note, NULL when not blocked
    PRIMARY KEY (scope, card)
) WITHOUT ROWID;
CREATE INDEX reader_index_sorted ON reader_index (scope, sort_key);

-- One row per copy: barcode lookup at the desk and the title of what is on loan.
CREATE TABLE copy_index (
    scope     TEXT NOT NULL,
    barcode   TEXT NOT NULL,
    record    TEXT NOT NULL,
    item_type TEXT NOT NULL,
    status    TEXT NOT NULL,      -- '' or lost / withdrawn / not_for_loan
    PRIMARY KEY (scope, barcode)
) WITHOUT ROWID;
CREATE INDEX copy_index_record ON copy_index (scope, record);
