-- When this replica last finished a sync session with each peer, and how many it finished.
-- Local and never replicated: what the sync status page shows. Written by whoever drives the
-- session (the protocol core reads no clock); `at` is Unix seconds.
CREATE TABLE peer_contacts (
    peer     BLOB PRIMARY KEY,
    at       INTEGER NOT NULL,
    sessions INTEGER NOT NULL
) WITHOUT ROWID;
