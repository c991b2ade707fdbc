//! The replicated store: entities in automerge shard documents, persisted in SQLite.
//!
//! Entities are grouped into shard documents per (scope, collection, bucket) — see
//! [`types::BUCKETS_PER_COLLECTION`] — because one document per record costs ~18 KiB of RAM each
//! and makes per-document sync hopeless. A shard is stored as a snapshot chunk followed by
//! incremental chunks and compacted when the tail outgrows the snapshot. Documents are loaded
//! lazily into a bounded cache.
//!
//! Every commit (a local [`WriteBatch`] or a batch merged from a peer) is one SQLite
//! transaction that appends the document chunks, the change feed rows and the per-origin marks,
//! and calls the [`ChangeObserver`] with the entities that changed — so the domain's query
//! tables commit together with the documents or not at all. With [`Durability::Full`] a commit
//! is on disk when it returns.
//!
//! What the store does not do: decide what a peer should get (that is [`replicate`], driven by
//! the protocol session), or know what any collection means.

mod codec;
pub(crate) mod db;
mod peers;
pub mod replicate;
mod shard;
pub mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use automerge::{ActorId, transaction::CommitOptions};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

pub use db::{Durability, migrate};
pub use peers::PeerStatus;
pub use replicate::{
    ApplyReport, ApplyStages, Batch, Knowledge, OutgoingPlan, Payload, ShardPayload,
};
pub use types::{
    BUCKETS_PER_COLLECTION, ChangeOrigin, Entity, EntityChange, EntityChangeKind, EntityKey, Scope,
    ShardKey, Value, WriteBatch,
};

use crate::identity::{self, DeviceId, DeviceKey};
use shard::ShardCache;

/// Errors of the store. `is_permanent` tells whether retrying the same call can help.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("this edit cannot be applied: {0}")]
    InvalidEdit(String),
    #[error("invalid entity key: {0}")]
    InvalidKey(String),
    #[error("a received change is not valid: {0}")]
    InvalidChange(String),
    #[error("the query tables refused the change: {0}")]
    Observer(Box<dyn std::error::Error + Send + Sync>),
    #[error("the operating system gave no randomness for a device key: {0}")]
    Random(String),
    #[error("another tusach process is using {0}; stop it first (only one may use a data folder)")]
    InUse(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    /// True when the same call will fail again (bad input or damaged data); false for
    /// passing conditions such as a busy or full disk.
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            StoreError::Sqlite(_)
                | StoreError::Random(_)
                | StoreError::InUse(_)
                | StoreError::Lock { .. }
        )
    }
}

/// Told about every entity change inside the transaction that makes it durable.
pub trait ChangeObserver: Send {
    fn entities_changed(
        &mut self,
        tx: &Transaction<'_>,
        changes: &[EntityChange],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub durability: Durability,
    /// How many shard documents may stay loaded. 64 shards of a 100,000-record catalogue use
    /// roughly 90 MB; 16 keep the appliance well inside its memory budget.
    pub cache_shards: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Full,
            cache_shards: 16,
        }
    }
}

pub struct Store {
    conn: Connection,
    /// Held open for the store's lifetime: the operating system releases the lock when the
    /// process ends, even on kill -9.
    _lock: std::fs::File,
    path: PathBuf,
    key: DeviceKey,
    actor: ActorId,
    identity_renewed: bool,
    shard_ids: HashMap<ShardKey, i64>,
    cache: ShardCache,
    observer: Option<Box<dyn ChangeObserver>>,
}

impl Store {
    /// Opens (or creates) the store in a SQLite file. A database that was copied or restored
    /// from elsewhere takes a new device identity here, before anything is written.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        // One process per database: each keeps documents in memory and writes as the same
        // actor, so a second writer would corrupt documents or overwrite acknowledged work.
        let lock = lock_exclusively(path)?;
        let mut conn = db::open(path, options.durability)?;
        db::migrate_store(&mut conn)?;
        let fingerprint = identity::fingerprint(path);
        let (key, identity_renewed) = match db::current_identity(&conn)? {
            Some(row) if row.fingerprint == fingerprint => {
                (DeviceKey::from_secret(&row.secret), false)
            }
            existing => {
                let key = DeviceKey::generate().map_err(|e| StoreError::Random(e.to_string()))?;
                db::insert_identity(&conn, &key.device_id(), &key.secret_bytes(), &fingerprint)?;
                (key, existing.is_some())
            }
        };
        let actor = ActorId::from(key.device_id().0.to_vec());
        Ok(Store {
            conn,
            _lock: lock,
            path: path.to_path_buf(),
            key,
            actor,
            identity_renewed,
            shard_ids: HashMap::new(),
            cache: ShardCache::new(options.cache_shards),
            observer: None,
        })
    }

    pub fn device_id(&self) -> DeviceId {
        self.key.device_id()
    }

    /// This device's key: it signs what this device vouches for and is its Noise static key.
    pub fn device_key(&self) -> &DeviceKey {
        &self.key
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when this open found the database copied or restored and took a new identity.
    pub fn identity_renewed(&self) -> bool {
        self.identity_renewed
    }

    /// How many identities this database has had (1 unless it was copied or restored).
    pub fn identity_generations(&self) -> Result<i64, StoreError> {
        Ok(db::identity_count(&self.conn)?)
    }

    pub fn set_observer(&mut self, observer: Box<dyn ChangeObserver>) {
        self.observer = Some(observer);
    }

    /// The underlying connection, for the domain's own read queries on its query tables.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection for running the domain's own migrations at start-up.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Applies a batch of edits as one durable commit and returns the entities it changed and
    /// how, in key order (their fields went to the [`ChangeObserver`]; [`Store::get`] reads
    /// them). On error nothing is written, in the database or in memory.
    pub fn commit(&mut self, batch: &WriteBatch) -> Result<Vec<EntityChange>, StoreError> {
        self.commit_all(std::iter::once(batch))
    }

    /// Applies batches as one durable commit, all or nothing like [`Store::commit`], taking
    /// each part as it is made: a large import builds the next part after the last one went
    /// into the documents, so it never holds every edit at once. A part should keep to a few
    /// shards (a shard met in several parts is one automerge change per part).
    pub fn commit_parts(
        &mut self,
        parts: impl IntoIterator<Item = WriteBatch>,
    ) -> Result<Vec<EntityChange>, StoreError> {
        self.commit_all(parts.into_iter())
    }

    fn commit_all<B: std::borrow::Borrow<WriteBatch>>(
        &mut self,
        parts: impl Iterator<Item = B>,
    ) -> Result<Vec<EntityChange>, StoreError> {
        let mut touched = Vec::new();
        let result = self.commit_in_transaction(parts, &mut touched);
        if result.is_err() {
            self.forget_shards(&touched);
        }
        result
    }

    fn commit_in_transaction<B: std::borrow::Borrow<WriteBatch>>(
        &mut self,
        parts: impl Iterator<Item = B>,
        touched: &mut Vec<i64>,
    ) -> Result<Vec<EntityChange>, StoreError> {
        let me = self.device_id();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut next_oseq: BTreeMap<Scope, u64> = BTreeMap::new();
        let mut changed: Vec<EntityChange> = Vec::new();
        let want_fields = self.observer.is_some();
        for part in parts {
            let mut by_shard: BTreeMap<ShardKey, Vec<&(EntityKey, Vec<types::EntityOp>)>> =
                BTreeMap::new();
            for entry in &part.borrow().ops {
                if !entry.0.is_valid() {
                    return Err(StoreError::InvalidKey(format!("{:?}", entry.0)));
                }
                by_shard.entry(entry.0.shard()).or_default().push(entry);
            }
            for (key, ops) in &by_shard {
                let shard_id = db::ensure_shard(&tx, key)?;
                self.shard_ids.insert(key.clone(), shard_id);
                touched.push(shard_id);
                let oseq = match next_oseq.get(&key.scope) {
                    Some(n) => n + 1,
                    None => db::mark(&tx, &key.scope, &me)? + 1,
                };
                let cached = self.cache.load(&tx, shard_id, key, &self.actor)?;
                let before = cached.doc.get_heads();
                let message = oseq.to_string();
                let outcome = cached.doc.transact_with(
                    |_| CommitOptions::default().with_message(message.clone()),
                    |tx| {
                        for (entity, run) in ops.iter().map(|e| (&e.0, &e.1)) {
                            if shard::create_entity(tx, &entity.id, run)? {
                                continue;
                            }
                            let mut known = None;
                            for op in run {
                                shard::apply_op(tx, &entity.id, op, &mut known)?;
                            }
                        }
                        Ok::<(), StoreError>(())
                    },
                );
                let hash = match outcome {
                    Ok(success) => success.hash,
                    Err(failure) => return Err(failure.error),
                };
                // Each changed entity is read once, however many of its fields the batch set, and
                // the observer is told shard by shard (in the same transaction), so a large import
                // never holds every entity's fields at once.
                let mut seen = BTreeSet::new();
                let mut shard_changes = Vec::new();
                for entity in ops.iter().map(|e| &e.0) {
                    if seen.insert(entity.id.as_str()) {
                        let (kind, fields) =
                            shard::entity_state(&cached.doc, &entity.id, want_fields);
                        shard_changes.push(EntityChange {
                            key: entity.clone(),
                            kind,
                            origin: ChangeOrigin::Local,
                            fields,
                        });
                    }
                }
                if let Some(observer) = self.observer.as_mut() {
                    observer
                        .entities_changed(&tx, &shard_changes)
                        .map_err(StoreError::Observer)?;
                }
                changed.extend(shard_changes.into_iter().map(|change| EntityChange {
                    fields: None,
                    ..change
                }));
                let Some(hash) = hash else { continue };
                next_oseq.insert(key.scope.clone(), oseq);
                let tail = cached.doc.save_after(&before);
                let (codec, data) = codec::encode_chunk(&tail);
                db::append_chunk(&tx, shard_id, codec, &data, 1)?;
                db::feed_append(
                    &tx,
                    &db::NewFeedEntry {
                        shard: shard_id,
                        scope: &key.scope,
                        hash: &hash.0,
                        origin: &me,
                        oseq,
                        change: Some(&tail),
                    },
                )?;
                db::set_heads_digest(&tx, shard_id, shard::heads_digest(&cached.doc.get_heads()))?;
                compact_if_due(&tx, shard_id, &mut cached.doc)?;
            }
        }
        for scope in next_oseq.keys() {
            db::advance_mark(&tx, scope, &me)?;
        }
        tx.commit()?;
        changed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(changed)
    }

    /// After a failed transaction: its documents in memory may hold changes the database does
    /// not, and shard rows it created are rolled back — SQLite may hand their ids to the next
    /// new shard, so a remembered id would read another shard's document.
    fn forget_shards(&mut self, touched: &[i64]) {
        for shard in touched {
            self.cache.evict(*shard);
        }
        self.shard_ids.retain(|_, id| !touched.contains(id));
    }

    fn shard_row(&mut self, key: &ShardKey) -> Result<Option<i64>, StoreError> {
        if let Some(id) = self.shard_ids.get(key) {
            return Ok(Some(*id));
        }
        let id = db::shard_id(&self.conn, key)?;
        if let Some(id) = id {
            self.shard_ids.insert(key.clone(), id);
        }
        Ok(id)
    }

    /// Reads one entity, or `None` if it does not exist.
    pub fn get(&mut self, key: &EntityKey) -> Result<Option<Entity>, StoreError> {
        if !key.is_valid() {
            return Err(StoreError::InvalidKey(format!("{key:?}")));
        }
        let shard = key.shard();
        let Some(shard_id) = self.shard_row(&shard)? else {
            return Ok(None);
        };
        let cached = self.cache.load(&self.conn, shard_id, &shard, &self.actor)?;
        Ok(shard::read_entity(&cached.doc, &key.id))
    }

    /// Calls `visit` for every entity of a collection in a scope, shard by shard, so memory
    /// stays bounded by the cache.
    pub fn scan(
        &mut self,
        scope: &Scope,
        collection: &str,
        mut visit: impl FnMut(&str, &Entity),
    ) -> Result<(), StoreError> {
        for bucket in 0..BUCKETS_PER_COLLECTION {
            let key = ShardKey {
                scope: scope.clone(),
                collection: collection.to_owned(),
                bucket,
            };
            let Some(shard_id) = self.shard_row(&key)? else {
                continue;
            };
            let cached = self.cache.load(&self.conn, shard_id, &key, &self.actor)?;
            shard::read_all_entities(&cached.doc, true, |id, entity| {
                if let Some(entity) = entity
                    && types::bucket_of(collection, id) == bucket
                {
                    visit(id, &entity);
                }
            });
        }
        Ok(())
    }

    /// A digest of everything this replica holds, as values: two replicas with the same digest
    /// show the same entities with the same fields. Used by tests and `tusach dev digest`.
    pub fn content_digest(&mut self) -> Result<[u8; 32], StoreError> {
        let mut hasher = Sha256::new();
        for (shard_id, key) in db::all_shards(&self.conn)? {
            let cached = self.cache.load(&self.conn, shard_id, &key, &self.actor)?;
            let mut ids = shard::entity_ids(&cached.doc);
            ids.sort();
            for id in ids {
                if types::bucket_of(&key.collection, &id) != key.bucket {
                    continue;
                }
                if let Some(entity) = shard::read_entity(&cached.doc, &id) {
                    hasher.update(format!(
                        "{}\0{}\0{}\0{:?}\n",
                        key.scope, key.collection, id, entity
                    ));
                }
            }
        }
        Ok(hasher.finalize().into())
    }

    /// How many changes the feed holds (local and received).
    pub fn feed_len(&self) -> Result<i64, StoreError> {
        Ok(db::feed_len(&self.conn)?)
    }

    /// The sequence number of the newest change in the feed (0 when empty). It moves whenever
    /// the feed grows and, since the feed only grows, by exactly the number of changes added:
    /// cheap enough to read on every tick of a scheduler (the feed's primary key).
    pub fn feed_head(&self) -> Result<u64, StoreError> {
        Ok(db::feed_head(&self.conn)?)
    }

    /// `PRAGMA integrity_check`: "ok" for a healthy database file.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(db::integrity_check(&self.conn)?)
    }

    /// The scopes this replica holds data in.
    pub fn scopes(&self) -> Result<BTreeSet<Scope>, StoreError> {
        Ok(db::scopes(&self.conn)?.into_iter().collect())
    }
}

/// Takes the exclusive lock on `<database>.lock`, or says who holds it.
fn lock_exclusively(database: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StoreError::Lock {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(database.to_path_buf())),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock { path, source }),
    }
}

/// Folds a shard's tail into a fresh snapshot once the tail is as large as the snapshot, or
/// has many small chunks: loading then reads one compact chunk instead of thousands.
fn compact_if_due(
    tx: &Transaction<'_>,
    shard_id: i64,
    doc: &mut automerge::Automerge,
) -> Result<(), StoreError> {
    let sizes = db::shard_sizes(tx, shard_id)?;
    let due = sizes.tail_chunks >= 256
        || (sizes.tail_bytes >= 8 * 1024 && sizes.tail_bytes >= sizes.snapshot_bytes);
    if due {
        let (codec, data) = codec::encode_chunk(&doc.save());
        db::replace_with_snapshot(tx, shard_id, codec, &data, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
