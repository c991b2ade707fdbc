-- This device's membership and what it trusts. Local, never replicated: a certificate chain
-- and the network root are public, but the root's secret (kept by the hub that ran
-- `tusach network init`) and pending enrolment codes are not.
-- Names: network_root (32 bytes), network_name (UTF-8), chain (this device's chain),
-- root_secret (32 bytes, only where the network was made).
CREATE TABLE trust_settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Keys whose revocation this device has verified. Nothing deletes a row: a member that later
-- deletes the replicated revocation cannot un-revoke anyone here.
CREATE TABLE revoked_keys (
    key     BLOB PRIMARY KEY,
    seen_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Connections refused for want of trust, newest last; shown on the sync page.
CREATE TABLE refused_peers (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    address     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    reason      TEXT NOT NULL
);

-- One-time enrolment codes this hub has shown, with what they grant.
CREATE TABLE enrolment_codes (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    label       TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    cert_days   INTEGER NOT NULL,
    made_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    used_by     BLOB
) WITHOUT ROWID;
