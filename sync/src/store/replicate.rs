//! The store's side of replication: what this replica knows (per-scope origin vectors), what a
//! peer lacks given what it knows, producing batches of that, and merging batches received.
//!
//! Knowledge is counted per (scope, origin device): every change carries its origin's counter
//! for that scope in its commit message, and a replica's mark says "I hold every change of this
//! origin up to n". A peer's vector is therefore all a sender needs to skip what the peer has,
//! however it got there — directly, through the hub, a carried laptop or a USB stick.
//!
//! A shard the peer lacks entirely travels as its stored chunks (snapshot plus tail) instead of
//! change by change: that is how a new replica bootstraps cheaply.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use automerge::{Automerge, Change, ChangeHash, PatchLog, ReadDoc};
use rusqlite::TransactionBehavior;

use super::shard;
use super::types::{ChangeOrigin, EntityChange, EntityKey, Scope, ShardKey, bucket_of};
use super::{Store, StoreError, codec, compact_if_due, db};
use crate::identity::DeviceId;

/// What a replica holds, compactly: per scope, per origin, the highest counter held
/// contiguously from 1. When the replica also holds changes beyond those counters (data that
/// arrived as whole documents, in an order other than the counters'), `shards` adds a manifest
/// of shard heads digests so a sender can skip shards the replica already has in full.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Knowledge {
    pub vectors: BTreeMap<Scope, BTreeMap<DeviceId, u64>>,
    pub shards: BTreeMap<ShardKey, u64>,
}

impl Knowledge {
    /// Keeps only the scopes `keep` accepts.
    pub fn restricted(&self, keep: impl Fn(&Scope) -> bool) -> Knowledge {
        Knowledge {
            vectors: self
                .vectors
                .iter()
                .filter(|(scope, _)| keep(scope))
                .map(|(s, v)| (s.clone(), v.clone()))
                .collect(),
            shards: self
                .shards
                .iter()
                .filter(|(shard, _)| keep(&shard.scope))
                .map(|(k, d)| (k.clone(), *d))
                .collect(),
        }
    }
}

/// What one shard contributes to a batch.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Payload {
    /// Raw automerge changes, in an order where dependencies come first.
    Changes(Vec<Vec<u8>>),
    /// Stored document chunks (a snapshot and its tail), for a peer that has none of the shard.
    Document(Vec<u8>),
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ShardPayload {
    pub shard: ShardKey,
    pub payload: Payload,
}

/// A unit of transfer, applied atomically by the receiver.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Batch {
    pub shards: Vec<ShardPayload>,
}

impl Batch {
    /// Bytes of changes and documents, before compression: what batch sizes count.
    pub fn raw_size(&self) -> usize {
        self.shards
            .iter()
            .map(|s| match &s.payload {
                Payload::Changes(c) => c.iter().map(Vec::len).sum(),
                Payload::Document(d) => d.len(),
            })
            .sum()
    }

    pub fn change_count(&self) -> usize {
        self.shards
            .iter()
            .map(|s| match &s.payload {
                Payload::Changes(c) => c.len(),
                Payload::Document(_) => 1,
            })
            .sum()
    }
}

/// How many times a batch's byte budget whole documents may fill (see [`Store::next_batch`]).
const DOCUMENTS_PER_BUDGET: usize = 8;

/// A change to send: where it is in the feed and which shard it belongs to.
struct PlannedChange {
    seq: i64,
    shard_id: i64,
    hash: Vec<u8>,
}

/// What remains to be sent to one peer; batches are cut from its front on demand so a large
/// transfer never sits in memory at once. Whole documents go first, then single changes in
/// feed order: feed order is causal, and per origin it is counter order, so whatever prefix the
/// peer applied before a cut leaves its counters contiguous and nothing applied is sent again.
#[derive(Default)]
pub struct OutgoingPlan {
    documents: VecDeque<(i64, ShardKey)>,
    changes: VecDeque<PlannedChange>,
    keys: BTreeMap<i64, ShardKey>,
    /// Single changes planned.
    pub planned_changes: usize,
    /// Whole shard documents planned.
    pub planned_documents: usize,
}

impl OutgoingPlan {
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.changes.is_empty()
    }
}

/// What merging a batch did.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct ApplyReport {
    /// Changes new to this replica.
    pub new_changes: usize,
    /// Changes received that were already here (another path brought them first).
    pub duplicates: usize,
    /// Entities changed, as the observer was told.
    pub entities: usize,
    /// Where the time went.
    pub stages: ApplyStages,
}

/// The time a merge spent in each of its stages, so a slow bootstrap says which one is slow.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ApplyStages {
    /// Decoding and merging changes or documents into the automerge documents.
    pub merge: Duration,
    /// Writing the change feed, marks and document chunks (encoding and compressing them).
    pub record: Duration,
    /// Reading the changed entities' states out of the documents.
    pub read: Duration,
    /// The observer: the domain's query tables.
    pub observe: Duration,
    /// SQLite's commit.
    pub commit: Duration,
}

impl std::ops::AddAssign for ApplyStages {
    fn add_assign(&mut self, other: ApplyStages) {
        self.merge += other.merge;
        self.record += other.record;
        self.read += other.read;
        self.observe += other.observe;
        self.commit += other.commit;
    }
}

impl std::ops::AddAssign for ApplyReport {
    fn add_assign(&mut self, other: ApplyReport) {
        self.new_changes += other.new_changes;
        self.duplicates += other.duplicates;
        self.entities += other.entities;
        self.stages += other.stages;
    }
}

impl Store {
    /// This replica's knowledge, for the scopes `keep` accepts. The shard manifest is added
    /// only when the counters leave gaps; otherwise they say everything.
    pub fn knowledge(&self, keep: impl Fn(&Scope) -> bool) -> Result<Knowledge, StoreError> {
        let shards = if db::has_gaps(&self.conn)? {
            db::heads_digests(&self.conn)?.into_iter().collect()
        } else {
            BTreeMap::new()
        };
        Ok(Knowledge {
            vectors: db::all_marks(&self.conn)?,
            shards,
        }
        .restricted(keep))
    }

    /// What this replica last knew a peer to hold (empty for a stranger).
    pub fn peer_knowledge(&self, peer: &DeviceId) -> Result<Knowledge, StoreError> {
        Ok(Knowledge {
            vectors: db::peer_marks(&self.conn, peer)?,
            shards: BTreeMap::new(),
        })
    }

    /// Remembers that `peer` holds at least `knowledge`.
    pub fn record_peer_knowledge(
        &mut self,
        peer: &DeviceId,
        knowledge: &Knowledge,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (scope, vector) in &knowledge.vectors {
            for (origin, n) in vector {
                db::raise_peer_mark(&tx, peer, scope, origin, *n)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Everything in the allowed scopes that a peer with `theirs` lacks, shards it lacks
    /// entirely as whole documents.
    pub fn plan_for(
        &mut self,
        theirs: &Knowledge,
        allowed: impl Fn(&Scope) -> bool,
    ) -> Result<OutgoingPlan, StoreError> {
        self.plan_for_link(theirs, allowed, true)
    }

    /// Everything in the allowed scopes that a peer with `theirs` lacks. Without
    /// `whole_documents` (a slow link) every change travels singly in feed order, so any
    /// prefix the peer commits before a cut leaves its counters contiguous.
    pub fn plan_for_link(
        &mut self,
        theirs: &Knowledge,
        allowed: impl Fn(&Scope) -> bool,
        whole_documents: bool,
    ) -> Result<OutgoingPlan, StoreError> {
        let keys: BTreeMap<i64, ShardKey> = db::all_shards(&self.conn)?.into_iter().collect();
        let ours: BTreeMap<ShardKey, u64> = if theirs.shards.is_empty() {
            BTreeMap::new()
        } else {
            db::heads_digests(&self.conn)?.into_iter().collect()
        };
        let mut by_shard: BTreeMap<i64, Vec<(i64, Vec<u8>)>> = BTreeMap::new();
        for scope in db::scopes(&self.conn)? {
            if !allowed(&scope) {
                continue;
            }
            let vector = theirs.vectors.get(&scope);
            for origin in db::origins_in_scope(&self.conn, &scope)? {
                let held = vector.and_then(|v| v.get(&origin)).copied().unwrap_or(0);
                for entry in db::feed_after(&self.conn, &scope, &origin, held)? {
                    by_shard
                        .entry(entry.shard)
                        .or_default()
                        .push((entry.seq, entry.hash));
                }
            }
        }
        let mut plan = OutgoingPlan::default();
        let mut changes = Vec::new();
        for (shard_id, entries) in by_shard {
            let Some(key) = keys.get(&shard_id) else {
                continue;
            };
            // The peer's manifest says it holds this shard exactly as we do.
            if theirs
                .shards
                .get(key)
                .is_some_and(|d| ours.get(key) == Some(d))
            {
                continue;
            }
            let total = db::shard_sizes(&self.conn, shard_id)?.changes;
            // A peer lacking every change of a shard gets the stored document: automerge's
            // columnar encoding is several times smaller than the same changes one by one.
            if whole_documents && entries.len() > 1 && entries.len() as i64 >= total {
                plan.planned_documents += 1;
                plan.documents.push_back((shard_id, key.clone()));
            } else {
                plan.planned_changes += entries.len();
                changes.extend(entries.into_iter().map(|(seq, hash)| PlannedChange {
                    seq,
                    shard_id,
                    hash,
                }));
            }
        }
        changes.sort_by_key(|c| c.seq);
        plan.changes = changes.into();
        plan.keys = keys;
        Ok(plan)
    }

    /// Cuts the next batch of about `max_bytes` from the front of a plan.
    pub fn next_batch(
        &mut self,
        plan: &mut OutgoingPlan,
        max_bytes: usize,
    ) -> Result<Option<Batch>, StoreError> {
        let mut batch = Batch::default();
        let mut size = 0usize;
        // Whole documents go only over fast links, and a receiver loads a batch's documents in
        // parallel and commits them once: several per batch halve a bootstrap's time.
        let document_bytes = max_bytes.saturating_mul(DOCUMENTS_PER_BUDGET);
        while size < document_bytes {
            let Some((shard_id, key)) = plan.documents.pop_front() else {
                break;
            };
            let mut bytes = Vec::new();
            for chunk in db::shard_chunks(&self.conn, shard_id)? {
                bytes.extend_from_slice(&codec::decode_chunk(chunk.codec, &chunk.data)?);
            }
            size += bytes.len();
            batch.shards.push(ShardPayload {
                shard: key,
                payload: Payload::Document(bytes),
            });
        }
        // Within a batch, changes are grouped per shard in feed order; shards are independent
        // documents, so the batch (applied atomically) keeps every dependency satisfied.
        let mut groups: BTreeMap<i64, usize> = BTreeMap::new();
        while size < max_bytes {
            let Some(planned) = plan.changes.pop_front() else {
                break;
            };
            let Some(key) = plan.keys.get(&planned.shard_id) else {
                return Err(StoreError::Corrupt(format!(
                    "the feed names unknown shard {}",
                    planned.shard_id
                )));
            };
            let bytes = match db::feed_change(&self.conn, planned.seq)? {
                Some(bytes) => bytes,
                // Arrived inside a whole document: read it back from there.
                None => {
                    let hash = ChangeHash::try_from(planned.hash.as_slice())
                        .map_err(|e| StoreError::Corrupt(format!("feed hash: {e}")))?;
                    let cached = self
                        .cache
                        .load(&self.conn, planned.shard_id, key, &self.actor)?;
                    let change = cached.doc.get_change_by_hash(&hash).ok_or_else(|| {
                        StoreError::Corrupt(format!("the feed names a change not in {key:?}"))
                    })?;
                    change.raw_bytes().to_vec()
                }
            };
            // Stay within the budget unless the batch would be empty: on a slow line the batch
            // in flight at a cut is lost, so an overshoot is paid at every cut.
            if size > 0 && size + bytes.len() > max_bytes {
                plan.changes.push_front(planned);
                break;
            }
            size += bytes.len();
            let index = *groups.entry(planned.shard_id).or_insert_with(|| {
                batch.shards.push(ShardPayload {
                    shard: key.clone(),
                    payload: Payload::Changes(Vec::new()),
                });
                batch.shards.len() - 1
            });
            if let Payload::Changes(list) = &mut batch.shards[index].payload {
                list.push(bytes);
            }
        }
        Ok((!batch.shards.is_empty()).then_some(batch))
    }

    /// Merges a batch from a peer as one durable commit. On error nothing of it is kept.
    pub fn apply_batch(&mut self, batch: &Batch) -> Result<ApplyReport, StoreError> {
        let mut touched = Vec::new();
        let result = self.apply_batch_inner(batch, &mut touched);
        if result.is_err() {
            self.forget_shards(&touched);
        }
        result
    }

    fn apply_batch_inner(
        &mut self,
        batch: &Batch,
        touched: &mut Vec<i64>,
    ) -> Result<ApplyReport, StoreError> {
        let mut report = ApplyReport::default();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut origins: BTreeSet<(Scope, DeviceId)> = BTreeSet::new();
        let mut changes: BTreeMap<EntityKey, (super::EntityChangeKind, Option<super::Entity>)> =
            BTreeMap::new();
        let want_fields = self.observer.is_some();
        let preloading = Instant::now();
        let mut preloaded = load_documents(batch, want_fields);
        report.stages.merge += preloading.elapsed();
        for (item, preloaded) in batch.shards.iter().zip(preloaded.iter_mut()) {
            let key = &item.shard;
            if !key.is_valid() {
                return Err(StoreError::InvalidChange(format!("invalid shard {key:?}")));
            }
            let shard_id = db::ensure_shard(&tx, key)?;
            self.shard_ids.insert(key.clone(), shard_id);
            touched.push(shard_id);
            let merging = Instant::now();
            let cached = self.cache.load(&tx, shard_id, key, &self.actor)?;
            let before = cached.doc.get_heads();
            let mut arrived: HashMap<ChangeHash, &[u8]> = HashMap::new();
            let mut patch_log = PatchLog::active();
            let mut fresh_entities = None;
            match &item.payload {
                super::Payload::Changes(raw) => {
                    let mut fresh = Vec::new();
                    for bytes in raw {
                        let change = Change::from_bytes(bytes.clone())
                            .map_err(|e| StoreError::InvalidChange(e.to_string()))?;
                        if db::feed_contains(&tx, shard_id, &change.hash().0)? {
                            report.duplicates += 1;
                        } else {
                            arrived.insert(change.hash(), bytes.as_slice());
                            fresh.push(change);
                        }
                    }
                    if fresh.is_empty() {
                        continue;
                    }
                    cached
                        .doc
                        .apply_changes_log_patches(fresh, &mut patch_log)
                        .map_err(|e| StoreError::InvalidChange(e.to_string()))?;
                }
                super::Payload::Document(bytes) => {
                    let incoming = preloaded.take().ok_or_else(|| {
                        StoreError::Corrupt("a received document was not loaded".into())
                    })??;
                    if before.is_empty() {
                        cached.doc = incoming.doc.with_actor(self.actor.clone());
                        fresh_entities = Some(incoming.entities);
                    } else {
                        cached
                            .doc
                            .load_incremental_log_patches(bytes, &mut patch_log)
                            .map_err(|e| StoreError::InvalidChange(e.to_string()))?;
                    }
                }
            }
            let after = cached.doc.get_heads();
            let recording = Instant::now();
            report.stages.merge += recording - merging;
            if after == before {
                if let super::Payload::Document(_) = item.payload {
                    report.duplicates += 1;
                }
                continue;
            }
            let mut new_changes = 0usize;
            for meta in cached.doc.get_changes_meta(&before) {
                let origin = DeviceId::from_slice(meta.actor.to_bytes()).ok_or_else(|| {
                    StoreError::InvalidChange("a change's actor is not a device id".into())
                })?;
                let oseq: u64 = meta
                    .message
                    .as_deref()
                    .and_then(|m| m.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        StoreError::InvalidChange("a change carries no origin counter".into())
                    })?;
                db::feed_append(
                    &tx,
                    &db::NewFeedEntry {
                        shard: shard_id,
                        scope: &key.scope,
                        hash: &meta.hash.0,
                        origin: &origin,
                        oseq,
                        change: arrived.get(&meta.hash).copied(),
                    },
                )?;
                origins.insert((key.scope.clone(), origin));
                new_changes += 1;
            }
            report.new_changes += new_changes;
            db::set_heads_digest(&tx, shard_id, shard::heads_digest(&after))?;
            if before.is_empty() {
                // A whole document that loaded is kept as it came: saving it again would
                // spend as long as loading it to write the same changes.
                let snapshot = match &item.payload {
                    super::Payload::Document(bytes) => std::borrow::Cow::Borrowed(bytes.as_slice()),
                    super::Payload::Changes(_) => std::borrow::Cow::Owned(cached.doc.save()),
                };
                let (codec, data) = codec::encode_chunk(&snapshot);
                db::replace_with_snapshot(&tx, shard_id, codec, &data, new_changes)?;
            } else {
                let (codec, data) = codec::encode_chunk(&cached.doc.save_after(&before));
                db::append_chunk(&tx, shard_id, codec, &data, new_changes)?;
                compact_if_due(&tx, shard_id, &mut cached.doc)?;
            }
            let reading = Instant::now();
            report.stages.record += reading - recording;
            // An entity filed under the wrong bucket can only come from a faulty or hostile
            // peer; it stays inert in the document and is never shown.
            if before.is_empty() {
                // A shard new to this replica: every entity in it is new, read in one pass.
                let entities = fresh_entities.unwrap_or_else(|| {
                    let mut entities = Vec::new();
                    shard::read_all_entities(&cached.doc, want_fields, |id, fields| {
                        entities.push((id.to_owned(), fields))
                    });
                    entities
                });
                for (id, fields) in entities {
                    if bucket_of(&key.collection, &id) == key.bucket {
                        changes.insert(
                            EntityKey::new(&key.scope, &key.collection, id),
                            (super::EntityChangeKind::Upserted, fields),
                        );
                    }
                }
            } else {
                let patches = cached.doc.make_patches(&mut patch_log);
                for id in shard::touched_entities(patches) {
                    if bucket_of(&key.collection, &id) == key.bucket {
                        let state = shard::entity_state(&cached.doc, &id, want_fields);
                        changes.insert(EntityKey::new(&key.scope, &key.collection, id), state);
                    }
                }
            }
            report.stages.read += reading.elapsed();
        }
        for (scope, origin) in &origins {
            db::advance_mark(&tx, scope, origin)?;
        }
        let changes: Vec<EntityChange> = changes
            .into_iter()
            .map(|(key, (kind, fields))| EntityChange {
                key,
                kind,
                origin: ChangeOrigin::Merged,
                fields,
            })
            .collect();
        report.entities = changes.len();
        let observing = Instant::now();
        if !changes.is_empty()
            && let Some(observer) = self.observer.as_mut()
        {
            observer
                .entities_changed(&tx, &changes)
                .map_err(StoreError::Observer)?;
        }
        let committing = Instant::now();
        report.stages.observe += committing - observing;
        tx.commit()?;
        report.stages.commit += committing.elapsed();
        Ok(report)
    }
}

/// A whole document from a peer, loaded and read before the batch's transaction.
struct LoadedDocument {
    doc: Automerge,
    /// Every entity in it, with fields when `with_fields` (what a new shard tells the observer).
    entities: Vec<(String, Option<super::Entity>)>,
}

/// Loads the batch's whole documents and reads their entities, on as many threads as there
/// are cores and documents: the slowest part of a bootstrap needs no database, so it runs in
/// parallel, and the transaction that follows only writes. One slot per shard of the batch,
/// `None` for shards that came as changes.
fn load_documents(
    batch: &Batch,
    with_fields: bool,
) -> Vec<Option<Result<LoadedDocument, StoreError>>> {
    let load = |bytes: &[u8]| -> Result<LoadedDocument, StoreError> {
        // `load_incremental` keeps whatever part of the bytes parses and drops the rest
        // without a word; a document from a peer must load whole or be refused.
        let doc = Automerge::load(bytes).map_err(|e| StoreError::InvalidChange(e.to_string()))?;
        let mut entities = Vec::new();
        shard::read_all_entities(&doc, with_fields, |id, fields| {
            entities.push((id.to_owned(), fields))
        });
        Ok(LoadedDocument { doc, entities })
    };
    let documents: Vec<(usize, &[u8])> = batch
        .shards
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.payload {
            Payload::Document(bytes) => Some((i, bytes.as_slice())),
            Payload::Changes(_) => None,
        })
        .collect();
    let mut slots: Vec<Option<Result<LoadedDocument, StoreError>>> =
        batch.shards.iter().map(|_| None).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(documents.len());
    if threads <= 1 {
        for (i, bytes) in documents {
            slots[i] = Some(load(bytes));
        }
        return slots;
    }
    let results: Vec<(usize, Result<LoadedDocument, StoreError>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let mine: Vec<(usize, &[u8])> = documents
                    .iter()
                    .skip(worker)
                    .step_by(threads)
                    .copied()
                    .collect();
                scope.spawn(move || {
                    mine.into_iter()
                        .map(|(i, bytes)| (i, load(bytes)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for (i, result) in results {
        slots[i] = Some(result);
    }
    slots
}
