-- The raw bytes of each change in the feed, so serving a delta reads rows in feed order
-- instead of loading shard documents. NULL for changes that arrived inside a whole document
-- (bootstrap); those are read from the document when needed.
ALTER TABLE feed ADD COLUMN change BLOB;

-- A digest of each shard's heads, for the manifest a replica with gaps in its counters sends.
ALTER TABLE shards ADD COLUMN heads_digest BLOB;
