-- Query tables for the catalogue, kept in step with the `records` entities by
-- `search::CatalogueIndex` inside the store's own transactions. Append-only: a change to this
-- schema is a new numbered file.

-- One row per bibliographic record, as search results and record lists show it.
CREATE TABLE record_index (
    rowid     INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    title     TEXT NOT NULL,
    authors   TEXT NOT NULL,          -- joined with "; "
    publisher TEXT NOT NULL,
    year      INTEGER,
    isbn      TEXT,
    language  TEXT,
    ddc       TEXT,
    subjects  TEXT NOT NULL,          -- joined with "; "
    toned     TEXT NOT NULL           -- search::fold::toned of the searchable text, for ranking
);
CREATE INDEX record_index_isbn ON record_index (isbn) WHERE isbn IS NOT NULL;

-- Full-text search over the folded (accent-free) text. Contentless: the text lives in
-- record_index; unicode61 without its own diacritic removal because folding already did it
-- the Vietnamese way (đ → d, which unicode61 does not know).
CREATE VIRTUAL TABLE record_search USING fts5 (
    folded,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);
