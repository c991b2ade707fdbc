-- FTS5 keeps new terms in memory and writes them out as a segment when they pass its hash
-- size (1 MiB by default). With three prefix indexes every word is four entries, so a bulk
-- load (a bootstrap, an import) wrote a small segment every few hundred records and spent
-- its time merging them. 8 MiB is still small beside the shard cache.
INSERT INTO record_search (record_search, rank) VALUES ('hashsize', 8388608);
