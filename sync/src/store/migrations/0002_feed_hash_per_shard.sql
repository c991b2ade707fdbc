-- A change hash identifies a change within one shard document, not across shards: the first
-- change of two new shards in different scopes, written by the same device with the same
-- counter and the same edits (say, the same field of entity "e1" in `network` and in
-- `library:a`), is byte for byte the same change. With `hash` unique across the whole feed the
-- second shard's change got no feed row, so it was never offered to any peer, and a peer
-- receiving it took it for a duplicate and never applied it. Hashes are now unique per shard.
CREATE TABLE feed_per_shard (
    seq    INTEGER PRIMARY KEY,
    shard  INTEGER NOT NULL REFERENCES shards (id),
    scope  TEXT NOT NULL,
    hash   BLOB NOT NULL,
    origin BLOB NOT NULL,
    oseq   INTEGER NOT NULL,
    UNIQUE (shard, hash)
);
INSERT INTO feed_per_shard (seq, shard, scope, hash, origin, oseq)
    SELECT seq, shard, scope, hash, origin, oseq FROM feed;
DROP TABLE feed;
ALTER TABLE feed_per_shard RENAME TO feed;
-- The unique index on (shard, hash) also serves lookups by shard.
CREATE INDEX feed_by_origin ON feed (scope, origin, oseq);
