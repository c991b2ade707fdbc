//! All of the store's SQL, in one place: connection settings, migrations and the statements
//! the store runs. Nothing else in this crate writes SQL.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::types::{Scope, ShardKey};
use crate::identity::DeviceId;

/// How hard a commit waits for the disk. `Full` is what acknowledges a librarian's action:
/// the commit survives a power cut once it returns. `Relaxed` may lose the last commits on a
/// power cut (never corrupts); it exists for bulk tests and benches that make throwaway data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Durability {
    Full,
    Relaxed,
}

/// The store's own migrations, in order. Append only.
const STORE_MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_store.sql"),
    include_str!("migrations/0002_feed_hash_per_shard.sql"),
    include_str!("migrations/0003_feed_bytes_and_heads.sql"),
    include_str!("migrations/0004_peer_contacts.sql"),
    include_str!("migrations/0005_trust.sql"),
];

pub(crate) fn open(path: &Path, durability: Durability) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn, durability)?;
    Ok(conn)
}

fn configure(conn: &Connection, durability: Durability) -> rusqlite::Result<()> {
    // WAL keeps readers and the writer apart and makes a commit one append plus fsync.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Relaxed => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Runs the numbered migrations of one component (`store`, or the appliance's own) that this
/// database has not seen yet, each in its own transaction. Components share one database file
/// so the domain's query tables commit in the same transaction as the documents.
pub fn migrate(
    conn: &mut Connection,
    component: &str,
    migrations: &[&str],
) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             component TEXT NOT NULL,
             version   INTEGER NOT NULL,
             PRIMARY KEY (component, version)
         ) WITHOUT ROWID;",
    )?;
    let applied: i64 = conn.query_row(
        "SELECT count(*) FROM schema_migrations WHERE component = ?1",
        [component],
        |row| row.get(0),
    )?;
    for (index, sql) in migrations.iter().enumerate().skip(applied as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (component, version) VALUES (?1, ?2)",
            params![component, index as i64 + 1],
        )?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn migrate_store(conn: &mut Connection) -> rusqlite::Result<()> {
    migrate(conn, "store", STORE_MIGRATIONS)
}

pub(crate) struct IdentityRow {
    pub secret: [u8; 32],
    pub fingerprint: Vec<u8>,
}

pub(crate) fn current_identity(conn: &Connection) -> rusqlite::Result<Option<IdentityRow>> {
    conn.query_row(
        "SELECT secret, fingerprint FROM identities ORDER BY id DESC LIMIT 1",
        [],
        |row| {
            let secret: Vec<u8> = row.get(0)?;
            let mut fixed = [0u8; 32];
            if secret.len() == 32 {
                fixed.copy_from_slice(&secret);
            }
            Ok(IdentityRow {
                secret: fixed,
                fingerprint: row.get(1)?,
            })
        },
    )
    .optional()
}

pub(crate) fn insert_identity(
    conn: &Connection,
    device: &DeviceId,
    secret: &[u8; 32],
    fingerprint: &[u8; 32],
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO identities (device, secret, fingerprint) VALUES (?1, ?2, ?3)",
        params![&device.0[..], &secret[..], &fingerprint[..]],
    )?;
    Ok(())
}

pub(crate) fn identity_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM identities", [], |row| row.get(0))
}

pub(crate) fn shard_id(conn: &Connection, key: &ShardKey) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM shards WHERE scope = ?1 AND collection = ?2 AND bucket = ?3",
        params![key.scope.as_str(), key.collection, key.bucket],
        |row| row.get(0),
    )
    .optional()
}

pub(crate) fn ensure_shard(conn: &Connection, key: &ShardKey) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT OR IGNORE INTO shards (scope, collection, bucket) VALUES (?1, ?2, ?3)",
        params![key.scope.as_str(), key.collection, key.bucket],
    )?;
    conn.query_row(
        "SELECT id FROM shards WHERE scope = ?1 AND collection = ?2 AND bucket = ?3",
        params![key.scope.as_str(), key.collection, key.bucket],
        |row| row.get(0),
    )
}

/// Every shard, ordered by key, with its row id.
pub(crate) fn all_shards(conn: &Connection) -> rusqlite::Result<Vec<(i64, ShardKey)>> {
    let mut stmt = conn.prepare(
        "SELECT id, scope, collection, bucket FROM shards ORDER BY scope, collection, bucket",
    )?;
    let rows = stmt.query_map([], |row| {
        let scope: String = row.get(1)?;
        Ok((row.get(0)?, scope, row.get(2)?, row.get(3)?))
    })?;
    let mut shards = Vec::new();
    for row in rows {
        let (id, scope, collection, bucket): (i64, String, String, u16) = row?;
        if let Some(scope) = Scope::new(scope) {
            shards.push((
                id,
                ShardKey {
                    scope,
                    collection,
                    bucket,
                },
            ));
        }
    }
    Ok(shards)
}

pub(crate) struct Chunk {
    pub codec: i64,
    pub data: Vec<u8>,
}

pub(crate) fn shard_chunks(conn: &Connection, shard: i64) -> rusqlite::Result<Vec<Chunk>> {
    let mut stmt =
        conn.prepare_cached("SELECT codec, data FROM chunks WHERE shard = ?1 ORDER BY id")?;
    let rows = stmt.query_map([shard], |row| {
        Ok(Chunk {
            codec: row.get(0)?,
            data: row.get(1)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn append_chunk(
    tx: &Transaction<'_>,
    shard: i64,
    codec: i64,
    data: &[u8],
    new_changes: usize,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO chunks (shard, snapshot, codec, data) VALUES (?1, 0, ?2, ?3)")?
        .execute(params![shard, codec, data])?;
    tx.prepare_cached(
        "UPDATE shards SET tail_bytes = tail_bytes + ?2, tail_chunks = tail_chunks + 1,
                changes = changes + ?3 WHERE id = ?1",
    )?
    .execute(params![shard, data.len() as i64, new_changes as i64])?;
    Ok(())
}

/// Replaces all of a shard's chunks with one snapshot.
pub(crate) fn replace_with_snapshot(
    tx: &Transaction<'_>,
    shard: i64,
    codec: i64,
    data: &[u8],
    new_changes: usize,
) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM chunks WHERE shard = ?1")?
        .execute([shard])?;
    tx.prepare_cached("INSERT INTO chunks (shard, snapshot, codec, data) VALUES (?1, 1, ?2, ?3)")?
        .execute(params![shard, codec, data])?;
    tx.prepare_cached(
        "UPDATE shards SET snapshot_bytes = ?2, tail_bytes = 0, tail_chunks = 0,
                changes = changes + ?3 WHERE id = ?1",
    )?
    .execute(params![shard, data.len() as i64, new_changes as i64])?;
    Ok(())
}

pub(crate) struct ShardSizes {
    pub changes: i64,
    pub snapshot_bytes: i64,
    pub tail_bytes: i64,
    pub tail_chunks: i64,
}

pub(crate) fn shard_sizes(conn: &Connection, shard: i64) -> rusqlite::Result<ShardSizes> {
    conn.prepare_cached(
        "SELECT changes, snapshot_bytes, tail_bytes, tail_chunks FROM shards WHERE id = ?1",
    )?
    .query_row([shard], |row| {
        Ok(ShardSizes {
            changes: row.get(0)?,
            snapshot_bytes: row.get(1)?,
            tail_bytes: row.get(2)?,
            tail_chunks: row.get(3)?,
        })
    })
}

/// Whether a shard already holds a change. Hashes are unique per shard document only: two
/// shards can hold byte-identical changes.
pub(crate) fn feed_contains(conn: &Connection, shard: i64, hash: &[u8]) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM feed WHERE shard = ?1 AND hash = ?2")?
        .exists(params![shard, hash])
}

/// A change to record in the feed.
pub(crate) struct NewFeedEntry<'a> {
    pub shard: i64,
    pub scope: &'a Scope,
    pub hash: &'a [u8],
    pub origin: &'a DeviceId,
    pub oseq: u64,
    /// Raw change bytes, when the change was made here or arrived on its own.
    pub change: Option<&'a [u8]>,
}

pub(crate) fn feed_append(tx: &Transaction<'_>, entry: &NewFeedEntry<'_>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO feed (shard, scope, hash, origin, oseq, change)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        entry.shard,
        entry.scope.as_str(),
        entry.hash,
        &entry.origin.0[..],
        entry.oseq as i64,
        entry.change
    ])?;
    Ok(())
}

/// The stored bytes of a feed entry (None when it arrived inside a whole document).
pub(crate) fn feed_change(conn: &Connection, seq: i64) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT change FROM feed WHERE seq = ?1")?
        .query_row([seq], |row| row.get(0))
        .optional()
        .map(Option::flatten)
}

/// True when some change is held beyond its origin's contiguous mark: the counters alone then
/// under-state what this replica holds.
pub(crate) fn has_gaps(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM feed f JOIN marks m ON m.scope = f.scope AND m.origin = f.origin
         WHERE f.oseq > m.contiguous LIMIT 1",
    )?
    .exists([])
}

pub(crate) fn set_heads_digest(
    tx: &Transaction<'_>,
    shard: i64,
    digest: u64,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE shards SET heads_digest = ?2 WHERE id = ?1")?
        .execute(params![shard, digest.to_le_bytes().to_vec()])?;
    Ok(())
}

/// Every shard with its heads digest, for the manifest.
pub(crate) fn heads_digests(conn: &Connection) -> rusqlite::Result<Vec<(ShardKey, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT scope, collection, bucket, heads_digest FROM shards WHERE heads_digest IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, u16>(2)?,
            row.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    let mut manifest = Vec::new();
    for row in rows {
        let (scope, collection, bucket, digest) = row?;
        let (Some(scope), Ok(digest)) = (Scope::new(scope), <[u8; 8]>::try_from(digest.as_slice()))
        else {
            continue;
        };
        let shard = ShardKey {
            scope,
            collection,
            bucket,
        };
        manifest.push((shard, u64::from_le_bytes(digest)));
    }
    Ok(manifest)
}

/// Moves the contiguous mark of (scope, origin) forward over every change now held.
pub(crate) fn advance_mark(
    tx: &Transaction<'_>,
    scope: &Scope,
    origin: &DeviceId,
) -> rusqlite::Result<u64> {
    let mut contiguous: i64 = tx
        .prepare_cached("SELECT contiguous FROM marks WHERE scope = ?1 AND origin = ?2")?
        .query_row(params![scope.as_str(), &origin.0[..]], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    let mut next =
        tx.prepare_cached("SELECT 1 FROM feed WHERE scope = ?1 AND origin = ?2 AND oseq = ?3")?;
    while next.exists(params![scope.as_str(), &origin.0[..], contiguous + 1])? {
        contiguous += 1;
    }
    tx.prepare_cached(
        "INSERT INTO marks (scope, origin, contiguous) VALUES (?1, ?2, ?3)
         ON CONFLICT (scope, origin) DO UPDATE SET contiguous = excluded.contiguous",
    )?
    .execute(params![scope.as_str(), &origin.0[..], contiguous])?;
    Ok(contiguous as u64)
}

pub(crate) fn mark(conn: &Connection, scope: &Scope, origin: &DeviceId) -> rusqlite::Result<u64> {
    let value: Option<i64> = conn
        .prepare_cached("SELECT contiguous FROM marks WHERE scope = ?1 AND origin = ?2")?
        .query_row(params![scope.as_str(), &origin.0[..]], |row| row.get(0))
        .optional()?;
    Ok(value.unwrap_or(0) as u64)
}

pub(crate) type Vectors = BTreeMap<Scope, BTreeMap<DeviceId, u64>>;

fn collect_vectors(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vectors> {
    let rows = stmt.query_map(params, |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Vec<u8>>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    let mut vectors = Vectors::new();
    for row in rows {
        let (scope, origin, n) = row?;
        if let (Some(scope), Some(origin)) = (Scope::new(scope), DeviceId::from_slice(&origin)) {
            vectors.entry(scope).or_default().insert(origin, n as u64);
        }
    }
    Ok(vectors)
}

pub(crate) fn all_marks(conn: &Connection) -> rusqlite::Result<Vectors> {
    let mut stmt = conn.prepare("SELECT scope, origin, contiguous FROM marks")?;
    collect_vectors(&mut stmt, [])
}

pub(crate) fn peer_marks(conn: &Connection, peer: &DeviceId) -> rusqlite::Result<Vectors> {
    let mut stmt = conn.prepare("SELECT scope, origin, oseq FROM peer_marks WHERE peer = ?1")?;
    collect_vectors(&mut stmt, [&peer.0[..]])
}

pub(crate) fn raise_peer_mark(
    tx: &Transaction<'_>,
    peer: &DeviceId,
    scope: &Scope,
    origin: &DeviceId,
    oseq: u64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO peer_marks (peer, scope, origin, oseq) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (peer, scope, origin) DO UPDATE SET oseq = max(oseq, excluded.oseq)",
    )?
    .execute(params![
        &peer.0[..],
        scope.as_str(),
        &origin.0[..],
        oseq as i64
    ])?;
    Ok(())
}

/// A feed entry the peer lacks: where it lives and which change it is.
pub(crate) struct FeedEntry {
    pub seq: i64,
    pub shard: i64,
    pub hash: Vec<u8>,
}

/// Feed entries of one origin in one scope past the given counter, in feed order.
pub(crate) fn feed_after(
    conn: &Connection,
    scope: &Scope,
    origin: &DeviceId,
    after: u64,
) -> rusqlite::Result<Vec<FeedEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, shard, hash FROM feed WHERE scope = ?1 AND origin = ?2 AND oseq > ?3",
    )?;
    let rows = stmt.query_map(
        params![scope.as_str(), &origin.0[..], after as i64],
        |row| {
            Ok(FeedEntry {
                seq: row.get(0)?,
                shard: row.get(1)?,
                hash: row.get(2)?,
            })
        },
    )?;
    rows.collect()
}

/// Origins that wrote anything in a scope, held contiguously or not.
pub(crate) fn origins_in_scope(
    conn: &Connection,
    scope: &Scope,
) -> rusqlite::Result<Vec<DeviceId>> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT origin FROM feed WHERE scope = ?1")?;
    let rows = stmt.query_map([scope.as_str()], |row| row.get::<_, Vec<u8>>(0))?;
    let mut origins = Vec::new();
    for row in rows {
        if let Some(origin) = DeviceId::from_slice(&row?) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

pub(crate) fn scopes(conn: &Connection) -> rusqlite::Result<Vec<Scope>> {
    let mut stmt = conn.prepare("SELECT DISTINCT scope FROM shards ORDER BY scope")?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    let mut scopes = Vec::new();
    for row in rows {
        if let Some(scope) = Scope::new(row?) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

pub(crate) fn feed_len(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM feed", [], |row| row.get(0))
}

pub(crate) fn feed_head(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM feed", [], |row| {
        row.get::<_, i64>(0)
    })
    .map(|seq| seq.max(0) as u64)
}

pub(crate) fn integrity_check(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
}

pub(crate) fn record_peer_contact(
    conn: &Connection,
    peer: &DeviceId,
    at_unix_seconds: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO peer_contacts (peer, at, sessions) VALUES (?1, ?2, 1)
         ON CONFLICT (peer) DO UPDATE SET at = max(at, excluded.at), sessions = sessions + 1",
        params![&peer.0[..], at_unix_seconds],
    )?;
    Ok(())
}

/// A peer's id bytes, its last contact (Unix seconds) and its finished sessions.
pub(crate) type PeerContactRow = (Vec<u8>, Option<i64>, i64);

/// Every peer with marks or a recorded contact.
pub(crate) fn known_peers(conn: &Connection) -> rusqlite::Result<Vec<PeerContactRow>> {
    let mut stmt = conn.prepare(
        "SELECT k.peer, c.at, coalesce(c.sessions, 0)
         FROM (SELECT peer FROM peer_marks UNION SELECT peer FROM peer_contacts) k
         LEFT JOIN peer_contacts c ON c.peer = k.peer
         ORDER BY c.at DESC, k.peer",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    rows.collect()
}

/// How many changes in the feed lie past what `peer` was last known to hold.
pub(crate) fn pending_for_peer(conn: &Connection, peer: &DeviceId) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM feed f
         LEFT JOIN peer_marks p ON p.peer = ?1 AND p.scope = f.scope AND p.origin = f.origin
         WHERE f.oseq > coalesce(p.oseq, 0)",
        [&peer.0[..]],
        |row| row.get(0),
    )
}

/// [`pending_for_peer`] per scope.
pub(crate) fn pending_by_scope(
    conn: &Connection,
    peer: &DeviceId,
) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT f.scope, count(*) FROM feed f
         LEFT JOIN peer_marks p ON p.peer = ?1 AND p.scope = f.scope AND p.origin = f.origin
         WHERE f.oseq > coalesce(p.oseq, 0)
         GROUP BY f.scope",
    )?;
    let rows = stmt.query_map([&peer.0[..]], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

// ---- trust: membership, revocations, refusals, enrolment codes (see `crate::trust`) ----

pub(crate) fn trust_setting(conn: &Connection, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT value FROM trust_settings WHERE name = ?1",
        [name],
        |row| row.get(0),
    )
    .optional()
}

pub(crate) fn set_trust_setting(
    conn: &Connection,
    name: &str,
    value: &[u8],
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO trust_settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

pub(crate) fn revoked_keys(conn: &Connection) -> rusqlite::Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached("SELECT key FROM revoked_keys")?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    rows.collect()
}

pub(crate) fn insert_revoked_key(conn: &Connection, key: &[u8], at: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO revoked_keys (key, seen_at) VALUES (?1, ?2)",
        params![key, at],
    )?;
    Ok(())
}

/// How many refused attempts the sync page keeps.
const REFUSALS_KEPT: i64 = 200;

pub(crate) fn insert_refusal(
    conn: &Connection,
    at: i64,
    address: &str,
    fingerprint: &str,
    reason: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO refused_peers (at, address, fingerprint, reason) VALUES (?1, ?2, ?3, ?4)",
        params![at, address, fingerprint, reason],
    )?;
    conn.execute(
        "DELETE FROM refused_peers WHERE id <= (SELECT max(id) FROM refused_peers) - ?1",
        [REFUSALS_KEPT],
    )?;
    Ok(())
}

/// (at, address, fingerprint, reason), newest first.
pub(crate) fn refusals(
    conn: &Connection,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, address, fingerprint, reason FROM refused_peers ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?;
    rows.collect()
}

pub(crate) struct CodeRow {
    pub code: String,
    pub role: String,
    pub label: String,
    pub scopes: String,
    pub cert_days: i64,
    pub expires_at: i64,
}

pub(crate) fn insert_code(conn: &Connection, row: &CodeRow, made_at: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO enrolment_codes (code, role, label, scopes, cert_days, made_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            row.code,
            row.role,
            row.label,
            row.scopes,
            row.cert_days,
            made_at,
            row.expires_at
        ],
    )?;
    Ok(())
}

/// Codes still usable at `now`: unexpired, unused, fewer than `max_failures` wrong tries.
pub(crate) fn pending_codes(
    conn: &Connection,
    now: i64,
    max_failures: i64,
) -> rusqlite::Result<Vec<CodeRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, role, label, scopes, cert_days, expires_at FROM enrolment_codes
         WHERE used_by IS NULL AND expires_at > ?1 AND failures < ?2 ORDER BY made_at",
    )?;
    let rows = stmt.query_map(params![now, max_failures], |row| {
        Ok(CodeRow {
            code: row.get(0)?,
            role: row.get(1)?,
            label: row.get(2)?,
            scopes: row.get(3)?,
            cert_days: row.get(4)?,
            expires_at: row.get(5)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn mark_code_used(conn: &Connection, code: &str, device: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE enrolment_codes SET used_by = ?2 WHERE code = ?1",
        params![code, device],
    )?;
    Ok(())
}

pub(crate) fn count_code_failure(conn: &Connection, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE enrolment_codes SET failures = failures + 1 WHERE used_by IS NULL AND expires_at > ?1",
        [now],
    )?;
    Ok(())
}
