-- Record edits and merges as query tables, kept in step with the network scope's entities by
-- `query_tables::QueryTables`.
--
-- record_edit_index: one row per `record_edits` entity (a librarian's change of one field of
-- a record). `after` holds the ids of the edits of that field the editing desk had seen,
-- separated by spaces: an edit no other edit lists is a head, and two heads with different
-- values are a record edited differently at two desks. old/new are the values as text for
-- the history page; the typed values stay in the entity.
CREATE TABLE record_edit_index (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    field  TEXT NOT NULL,
    old    TEXT NOT NULL,
    new    TEXT NOT NULL,
    by     TEXT NOT NULL,
    desk   TEXT NOT NULL,
    library TEXT NOT NULL,
    at     TEXT NOT NULL,
    after  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX record_edit_index_record ON record_edit_index (record, field);

-- record_redirect: a record merged into another (its `merged_into` field). Merged records
-- leave record_index (search shows the survivor only); copies and holds that still name
-- them are found through this table.
CREATE TABLE record_redirect (
    id          TEXT PRIMARY KEY,
    into_record TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX record_redirect_into ON record_redirect (into_record);
