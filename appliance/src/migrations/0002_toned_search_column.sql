-- Accented queries search the toned key directly instead of re-ranking folded matches, so
-- "đường" finds its exact form without scoring every "duong" in the catalogue. The search
-- table gains a `toned` column; emptying record_index makes `search::attach` rebuild both
-- from the documents on the next start.
DROP TABLE record_search;
CREATE VIRTUAL TABLE record_search USING fts5 (
    folded,
    toned,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);
DELETE FROM record_index;
