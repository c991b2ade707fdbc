//! Shard documents in memory: loading them from their chunks, a bounded cache, and the mapping
//! between automerge's object model and entities (the document root maps entity id → a map of
//! fields).

use std::collections::{BTreeSet, HashMap};

use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue,
    ScalarValueRef, hydrate, transaction::Transactable,
};
use rusqlite::Connection;

use super::StoreError;
use super::codec;
use super::db;
use super::types::{Entity, EntityChangeKind, EntityOp, ShardKey, Value};

pub(crate) struct CachedShard {
    pub doc: Automerge,
    last_used: u64,
}

/// Loaded shard documents, at most `capacity` of them; the least recently used is dropped
/// first. Dropping is always safe: every document is persisted before a commit returns.
pub(crate) struct ShardCache {
    docs: HashMap<i64, CachedShard>,
    capacity: usize,
    clock: u64,
}

impl ShardCache {
    pub fn new(capacity: usize) -> ShardCache {
        ShardCache {
            docs: HashMap::new(),
            capacity: capacity.max(1),
            clock: 0,
        }
    }

    /// The document of a shard, loaded from its chunks if it is not in memory.
    pub fn load(
        &mut self,
        conn: &Connection,
        shard: i64,
        key: &ShardKey,
        actor: &ActorId,
    ) -> Result<&mut CachedShard, StoreError> {
        self.clock += 1;
        if !self.docs.contains_key(&shard) {
            let doc = load_document(conn, shard, key, actor)?;
            self.make_room();
            self.docs.insert(shard, CachedShard { doc, last_used: 0 });
        }
        let clock = self.clock;
        match self.docs.get_mut(&shard) {
            Some(cached) => {
                cached.last_used = clock;
                Ok(cached)
            }
            None => Err(StoreError::Corrupt(format!(
                "shard {key:?} vanished from the cache"
            ))),
        }
    }

    fn make_room(&mut self) {
        while self.docs.len() >= self.capacity {
            let oldest = self
                .docs
                .iter()
                .min_by_key(|(_, cached)| cached.last_used)
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => {
                    self.docs.remove(&id);
                }
                None => break,
            }
        }
    }

    /// Forgets a shard so the next use reloads it from disk: after a failed commit the
    /// in-memory document may hold changes the database does not.
    pub fn evict(&mut self, shard: i64) {
        self.docs.remove(&shard);
    }
}

fn load_document(
    conn: &Connection,
    shard: i64,
    key: &ShardKey,
    actor: &ActorId,
) -> Result<Automerge, StoreError> {
    let mut bytes = Vec::new();
    for chunk in db::shard_chunks(conn, shard)? {
        bytes.extend_from_slice(&codec::decode_chunk(chunk.codec, &chunk.data)?);
    }
    let doc = if bytes.is_empty() {
        Automerge::new()
    } else {
        Automerge::load(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("shard {key:?} does not load: {e}")))?
    };
    Ok(doc.with_actor(actor.clone()))
}

/// Applies one entity edit inside an automerge transaction. `known` carries the entity's maps
/// from the previous edit of the same entity in this transaction (`None`: look them up):
/// finding an entity among a shard's thousands costs more than writing one field, and a
/// record arrives as a dozen edits in a row.
pub(crate) fn apply_op(
    tx: &mut impl Transactable,
    id: &str,
    op: &EntityOp,
    known: &mut Option<Vec<ObjId>>,
) -> Result<(), StoreError> {
    if let EntityOp::Delete = op {
        *known = None;
        if tx.get(ROOT, id)?.is_some() {
            tx.delete(ROOT, id)?;
        }
        return Ok(());
    }
    let maps = match known.take() {
        Some(maps) if !maps.is_empty() => maps,
        _ => entity_maps(&*tx, id),
    };
    let (entity, maps) = match maps.first() {
        Some(winner) => (winner.clone(), maps),
        None => {
            let created = tx.put_object(ROOT, id, ObjType::Map)?;
            (created.clone(), vec![created])
        }
    };
    let result = apply_to_maps(tx, op, &entity, &maps);
    *known = Some(maps);
    result
}

/// Writes a new entity made only of plain puts (a catalogued record, an imported reader) as
/// one nested value: automerge then splices the document twice instead of once per field and
/// list item, about five times faster, with the same end state. Returns false, having written
/// nothing, when the entity already exists or the run holds any other kind of edit; the
/// caller then applies the run edit by edit.
pub(crate) fn create_entity(
    tx: &mut impl Transactable,
    id: &str,
    run: &[EntityOp],
) -> Result<bool, StoreError> {
    if !run.iter().all(|op| matches!(op, EntityOp::Put { .. })) || tx.get(ROOT, id)?.is_some() {
        return Ok(false);
    }
    let mut fields: HashMap<String, hydrate::Value> = HashMap::with_capacity(run.len());
    for op in run {
        if let EntityOp::Put { field, value } = op {
            let value = match value {
                Value::List(items) => hydrate::Value::from(
                    items
                        .iter()
                        .map(|item| scalar(item).map(hydrate::Value::from))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                other => hydrate::Value::from(scalar(other)?),
            };
            fields.insert(field.clone(), value);
        }
    }
    tx.batch_create_object(ROOT, id, &hydrate::Map::from(fields).into(), false)?;
    Ok(true)
}

fn apply_to_maps(
    tx: &mut impl Transactable,
    op: &EntityOp,
    entity: &ObjId,
    maps: &[ObjId],
) -> Result<(), StoreError> {
    match op {
        EntityOp::Put { field, value } => match value {
            Value::List(items) => {
                let list = tx.put_object(entity, field.as_str(), ObjType::List)?;
                for (index, item) in items.iter().enumerate() {
                    tx.insert(&list, index, scalar(item)?)?;
                }
            }
            other => tx.put(entity, field.as_str(), scalar(other)?)?,
        },
        EntityOp::Increment { field, by } => {
            // The counter may live in a map another device created concurrently: add to it
            // there, or a new counter in the winning map would hide its count.
            let home = field_home(&*tx, maps, field).unwrap_or_else(|| entity.clone());
            increment(tx, &home, field, *by)?
        }

        EntityOp::ListInsert {
            field,
            index,
            value,
        } => {
            let home = field_home(&*tx, maps, field).unwrap_or_else(|| entity.clone());
            let list = list_of(tx, &home, field, true)?;
            if *index > tx.length(&list) {
                return Err(StoreError::InvalidEdit(format!(
                    "index {index} is past the end of list {field}"
                )));
            }
            tx.insert(&list, *index, scalar(value)?)?;
        }
        EntityOp::ListRemove { field, index } => {
            let home = field_home(&*tx, maps, field).unwrap_or_else(|| entity.clone());
            let list = list_of(tx, &home, field, false)?;
            if *index >= tx.length(&list) {
                return Err(StoreError::InvalidEdit(format!(
                    "index {index} is past the end of list {field}"
                )));
            }
            tx.delete(&list, *index)?;
        }
        EntityOp::Delete => {}
    }
    Ok(())
}

fn increment(
    tx: &mut impl Transactable,
    map: &ObjId,
    field: &str,
    by: i64,
) -> Result<(), StoreError> {
    match tx.get(map, field)? {
        Some((automerge::Value::Scalar(s), _)) if matches!(*s, ScalarValue::Counter(_)) => {
            Ok(tx.increment(map, field, by)?)
        }
        None => Ok(tx.put(map, field, ScalarValue::counter(by))?),
        Some(_) => Err(StoreError::InvalidEdit(format!(
            "field {field} is not a counter"
        ))),
    }
}

/// The map objects of an entity, the winning one first.
///
/// Two devices that create the same entity id while apart (the same day's visit tally, a
/// reader card typed at two desks) each make a map; automerge keeps both as a conflict and
/// `get` shows only the winner. The entity is the union of them all, so no device's fields
/// are lost.
fn entity_maps<R: ReadDoc + ?Sized>(doc: &R, id: &str) -> Vec<ObjId> {
    let Ok(Some((automerge::Value::Object(ObjType::Map), winner))) = doc.get(ROOT, id) else {
        return Vec::new();
    };
    let mut maps = vec![winner.clone()];
    if let Ok(all) = doc.get_all(ROOT, id) {
        for (value, obj) in all {
            if matches!(value, automerge::Value::Object(ObjType::Map)) && obj != winner {
                maps.push(obj);
            }
        }
    }
    maps
}

/// The first of an entity's maps (winner first) that holds `field`.
fn field_home<R: ReadDoc + ?Sized>(doc: &R, maps: &[ObjId], field: &str) -> Option<ObjId> {
    maps.iter()
        .find(|map| matches!(doc.get(*map, field), Ok(Some(_))))
        .cloned()
}

fn list_of(
    tx: &mut impl Transactable,
    entity: &ObjId,
    field: &str,
    create: bool,
) -> Result<ObjId, StoreError> {
    match tx.get(entity, field)? {
        Some((automerge::Value::Object(ObjType::List), list)) => Ok(list),
        None if create => Ok(tx.put_object(entity, field, ObjType::List)?),
        _ => Err(StoreError::InvalidEdit(format!(
            "field {field} is not a list"
        ))),
    }
}

fn scalar(value: &Value) -> Result<ScalarValue, StoreError> {
    Ok(match value {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Int(n) => ScalarValue::Int(*n),
        Value::Float(f) => ScalarValue::F64(*f),
        Value::Str(s) => ScalarValue::Str(s.as_str().into()),
        Value::Bytes(b) => ScalarValue::Bytes(b.clone()),
        Value::Counter(n) => ScalarValue::counter(*n),
        Value::List(_) => {
            return Err(StoreError::InvalidEdit(
                "lists hold plain values, not other lists".into(),
            ));
        }
    })
}

fn from_automerge(value: &automerge::Value<'_>, doc: &Automerge, obj: &ObjId) -> Value {
    match value {
        automerge::Value::Object(ObjType::List) => Value::List(
            doc.list_range(obj, ..)
                .map(|item| match item.value.into_value() {
                    automerge::Value::Scalar(s) => from_scalar(&s),
                    _ => Value::Null,
                })
                .collect(),
        ),
        automerge::Value::Object(_) => Value::Null,
        automerge::Value::Scalar(s) => from_scalar(s),
    }
}

fn from_scalar(s: &ScalarValue) -> Value {
    match s {
        ScalarValue::Null => Value::Null,
        ScalarValue::Boolean(b) => Value::Bool(*b),
        ScalarValue::Int(n) => Value::Int(*n),
        ScalarValue::Uint(n) => Value::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
        ScalarValue::F64(f) => Value::Float(*f),
        ScalarValue::Str(s) => Value::Str(s.to_string()),
        ScalarValue::Bytes(b) => Value::Bytes(b.clone()),
        ScalarValue::Counter(c) => Value::Counter(i64::from(c)),
        ScalarValue::Timestamp(t) => Value::Int(*t),
        _ => Value::Null,
    }
}

/// [`from_scalar`] without first copying the value out of the document.
fn from_scalar_ref(s: ScalarValueRef<'_>) -> Value {
    match s {
        ScalarValueRef::Null => Value::Null,
        ScalarValueRef::Boolean(b) => Value::Bool(b),
        ScalarValueRef::Int(n) => Value::Int(n),
        ScalarValueRef::Uint(n) => Value::Int(i64::try_from(n).unwrap_or(i64::MAX)),
        ScalarValueRef::F64(f) => Value::Float(f),
        ScalarValueRef::Str(s) => Value::Str(s.into_owned()),
        ScalarValueRef::Bytes(b) => Value::Bytes(b.into_owned()),
        ScalarValueRef::Counter(c) => Value::Counter(c),
        ScalarValueRef::Timestamp(t) => Value::Int(t),
        ScalarValueRef::Unknown { .. } => Value::Null,
    }
}

/// Reads one entity from a shard document: the union of its maps, where a field present in
/// several takes the value from the map that wins (the same on every replica).
pub(crate) fn read_entity(doc: &Automerge, id: &str) -> Option<Entity> {
    let maps = entity_maps(doc, id);
    (!maps.is_empty()).then(|| union_of(doc, &maps))
}

/// The fields of an entity's maps, winner first in `maps`: a field in the winner shows its
/// value there, one only in a losing map still shows.
fn union_of(doc: &Automerge, maps: &[ObjId]) -> Entity {
    let mut entity = Entity::new();
    for map in maps.iter().rev() {
        read_map(doc, map, &mut entity);
    }
    entity
}

/// Adds the fields of one entity map, in one pass over it (a `get` per field seeks each one
/// among the document's ops, several times slower).
fn read_map(doc: &Automerge, map: &ObjId, entity: &mut Entity) {
    for field in doc.map_range(map, ..) {
        let value = match field.value {
            // A counter's value is its increments' sum, which `get` adds up.
            automerge::ValueRef::Scalar(ScalarValueRef::Counter(_)) => {
                match doc.get(map, field.key.as_ref()) {
                    Ok(Some((value, child))) => from_automerge(&value, doc, &child),
                    _ => Value::Null,
                }
            }
            automerge::ValueRef::Scalar(scalar) => from_scalar_ref(scalar),
            automerge::ValueRef::Object(ObjType::List) => {
                let list = field.id();
                Value::List(
                    doc.list_range(&list, ..)
                        .map(|element| match element.value.into_value() {
                            automerge::Value::Scalar(s) => from_scalar(&s),
                            _ => Value::Null,
                        })
                        .collect(),
                )
            }
            automerge::ValueRef::Object(_) => Value::Null,
        };
        entity.insert(field.key.into_owned(), value);
    }
}

/// Every entity of a shard document with its fields, in one pass over the root map: the way
/// to read a whole shard (a bootstrap, a rebuild of the query tables). Reading entity by entity
/// seeks every field by key, several times slower at thousands of entities per shard. An
/// entity whose map itself is in conflict (two devices created it apart) takes the careful
/// path, [`read_entity`], for the union of its maps. Without `with_fields` only the ids are
/// visited.
pub(crate) fn read_all_entities(
    doc: &Automerge,
    with_fields: bool,
    mut visit: impl FnMut(&str, Option<Entity>),
) {
    for item in doc.map_range(ROOT, ..) {
        if !matches!(item.value, automerge::ValueRef::Object(ObjType::Map)) {
            continue;
        }
        if !with_fields {
            visit(&item.key, None);
            continue;
        }
        if item.conflict {
            if let Some(entity) = read_entity(doc, &item.key) {
                visit(&item.key, Some(entity));
            }
            continue;
        }
        let mut entity = Entity::new();
        read_map(doc, &item.id(), &mut entity);
        visit(&item.key, Some(entity));
    }
}

pub(crate) fn entity_ids(doc: &Automerge) -> Vec<String> {
    doc.keys(ROOT).map(|k| k.to_string()).collect()
}

/// A short digest of a document's heads: equal digests mean (with overwhelming probability)
/// the same set of changes, so a shard whose digest matches the peer's needs nothing sent.
pub(crate) fn heads_digest(heads: &[ChangeHash]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut sorted = heads.to_vec();
    sorted.sort();
    let mut hasher = Sha256::new();
    for head in &sorted {
        hasher.update(head.0);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Whether an entity exists after a change and, if asked, its fields.
pub(crate) fn entity_state(
    doc: &Automerge,
    id: &str,
    with_fields: bool,
) -> (EntityChangeKind, Option<Entity>) {
    let maps = entity_maps(doc, id);
    match (maps.is_empty(), with_fields) {
        (true, _) => (EntityChangeKind::Deleted, None),
        (false, false) => (EntityChangeKind::Upserted, None),
        (false, true) => (EntityChangeKind::Upserted, Some(union_of(doc, &maps))),
    }
}

/// The entities a merge into a non-empty document touched. `patches` come from a
/// [`automerge::PatchLog`] kept while applying, which costs in proportion to the change (a
/// `diff` between heads walks the whole document). A document that was empty before is read
/// whole instead ([`read_all_entities`]).
pub(crate) fn touched_entities(patches: Vec<automerge::Patch>) -> BTreeSet<String> {
    patches
        .into_iter()
        .filter_map(|patch| match patch.path.first() {
            Some((_, Prop::Map(id))) => Some(id.clone()),
            Some(_) => None,
            None => match patch.action {
                automerge::PatchAction::PutMap { key, .. } => Some(key),
                automerge::PatchAction::DeleteMap { key } => Some(key),
                _ => None,
            },
        })
        .collect()
}
