-- Copies as a query table, kept in step with the `copies` entities of every library scope by
-- `query_tables::QueryTables`. A copy is available when its status is empty and no open loan
-- for it exists in loan_index (a join, never a stored availability). `status` is the copy's
-- `status` field (lost, withdrawn, not_for_loan) or ''; `shelf` is the shelf location and call
-- number ("Kệ 9 – 895.922"). Filled from the documents on the first start after this
-- migration (`holdings::rebuild_if_empty`).
--
-- The desk's migration 0005 made a copy_index without shelves, with the same other columns;
-- this one replaces it (or makes it, where 0005 never ran), so the two can be applied in
-- either history.
DROP TABLE IF EXISTS copy_index;
CREATE TABLE copy_index (
    scope     TEXT NOT NULL,
    barcode   TEXT NOT NULL,
    record    TEXT NOT NULL,
    item_type TEXT NOT NULL,
    status    TEXT NOT NULL,
    shelf     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scope, barcode)
) WITHOUT ROWID;
CREATE INDEX copy_index_record ON copy_index (scope, record);
CREATE INDEX copy_index_by_record ON copy_index (record);
CREATE INDEX copy_index_barcode ON copy_index (barcode);
