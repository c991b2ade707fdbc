-- The replicated store: identities, shard documents, the change feed and per-origin marks.
-- Append-only: a later change to this schema is a new numbered file, never an edit here.

-- Every identity this database has had; the newest is the current one. Older ones stay so
-- their changes keep a known origin after a copy or restore forced a new identity.
CREATE TABLE identities (
    id          INTEGER PRIMARY KEY,
    device      BLOB NOT NULL UNIQUE,
    secret      BLOB NOT NULL,
    fingerprint BLOB NOT NULL
);

-- One row per shard document: a bucket of a collection within a scope.
CREATE TABLE shards (
    id             INTEGER PRIMARY KEY,
    scope          TEXT NOT NULL,
    collection     TEXT NOT NULL,
    bucket         INTEGER NOT NULL,
    changes        INTEGER NOT NULL DEFAULT 0,
    snapshot_bytes INTEGER NOT NULL DEFAULT 0,
    tail_bytes     INTEGER NOT NULL DEFAULT 0,
    tail_chunks    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (scope, collection, bucket)
);

-- A shard document is its snapshot chunk followed by incremental chunks, in id order.
-- codec 0 = raw automerge bytes, 1 = zstd.
CREATE TABLE chunks (
    id       INTEGER PRIMARY KEY,
    shard    INTEGER NOT NULL REFERENCES shards (id),
    snapshot INTEGER NOT NULL,
    codec    INTEGER NOT NULL,
    data     BLOB NOT NULL
);
CREATE INDEX chunks_by_shard ON chunks (shard, id);

-- The change feed: every automerge change this replica holds, local or received, numbered in
-- the order it arrived (a causal order), with its origin device and that origin's counter.
CREATE TABLE feed (
    seq    INTEGER PRIMARY KEY,
    shard  INTEGER NOT NULL REFERENCES shards (id),
    scope  TEXT NOT NULL,
    hash   BLOB NOT NULL UNIQUE,
    origin BLOB NOT NULL,
    oseq   INTEGER NOT NULL
);
CREATE INDEX feed_by_origin ON feed (scope, origin, oseq);
CREATE INDEX feed_by_shard ON feed (shard);

-- Per scope and origin: every change of that origin numbered 1..=contiguous is held here.
CREATE TABLE marks (
    scope      TEXT NOT NULL,
    origin     BLOB NOT NULL,
    contiguous INTEGER NOT NULL,
    PRIMARY KEY (scope, origin)
) WITHOUT ROWID;

-- What each peer was last known to hold, per scope and origin; bundles for that peer carry
-- everything past it.
CREATE TABLE peer_marks (
    peer   BLOB NOT NULL,
    scope  TEXT NOT NULL,
    origin BLOB NOT NULL,
    oseq   INTEGER NOT NULL,
    PRIMARY KEY (peer, scope, origin)
) WITHOUT ROWID;
