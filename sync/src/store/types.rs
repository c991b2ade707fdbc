//! The vocabulary the domain uses to talk to the store: scopes, shards, entity keys, values,
//! write batches and the change notes the observer receives.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

/// How many shard documents a collection is spread over. Part of the data format: every replica
/// must place an entity in the same shard, so this never changes without a format version.
pub const BUCKETS_PER_COLLECTION: u16 = 64;

/// Who may hold a piece of data, e.g. `network` (the union catalogue), `library:<id>` (a
/// library's copies, readers and loans) or `admin`. The store treats it as an opaque name; the
/// session's policy decides which peers get which scopes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    /// Scope names are short printable ASCII or UTF-8 without control characters.
    pub fn new(name: impl Into<String>) -> Option<Scope> {
        let name = name.into();
        let valid = !name.is_empty() && name.len() <= 128 && !name.chars().any(char::is_control);
        valid.then_some(Scope(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({})", self.0)
    }
}

/// One shard document: a bucket of one collection within one scope.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ShardKey {
    pub scope: Scope,
    pub collection: String,
    pub bucket: u16,
}

impl ShardKey {
    pub fn is_valid(&self) -> bool {
        valid_name(&self.collection) && self.bucket < BUCKETS_PER_COLLECTION
    }
}

/// The address of an entity: which scope and collection it belongs to and its id there.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EntityKey {
    pub scope: Scope,
    pub collection: String,
    pub id: String,
}

impl EntityKey {
    pub fn new(scope: &Scope, collection: &str, id: impl Into<String>) -> EntityKey {
        EntityKey {
            scope: scope.clone(),
            collection: collection.to_owned(),
            id: id.into(),
        }
    }

    /// The shard this entity lives in: a hash of collection and id, so every replica agrees.
    pub fn shard(&self) -> ShardKey {
        ShardKey {
            scope: self.scope.clone(),
            collection: self.collection.clone(),
            bucket: bucket_of(&self.collection, &self.id),
        }
    }

    pub fn is_valid(&self) -> bool {
        valid_name(&self.collection) && !self.id.is_empty() && self.id.len() <= 256
    }
}

pub(crate) fn bucket_of(collection: &str, id: &str) -> u16 {
    let mut hasher = Sha256::new();
    hasher.update(collection.as_bytes());
    hasher.update([0]);
    hasher.update(id.as_bytes());
    let digest = hasher.finalize();
    u16::from_le_bytes([digest[0], digest[1]]) % BUCKETS_PER_COLLECTION
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && !name.chars().any(char::is_control)
}

/// A field value. Lists hold values; counters merge by adding concurrent increments.
#[derive(Clone, PartialEq, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Counter(i64),
    List(Vec<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::Counter(n) => Some(*n),
            _ => None,
        }
    }
}

/// An entity as read: its fields by name.
pub type Entity = BTreeMap<String, Value>;

/// One edit inside a [`WriteBatch`].
#[derive(Clone, Debug)]
pub(crate) enum EntityOp {
    Put {
        field: String,
        value: Value,
    },
    Increment {
        field: String,
        by: i64,
    },
    ListInsert {
        field: String,
        index: usize,
        value: Value,
    },
    ListRemove {
        field: String,
        index: usize,
    },
    Delete,
}

/// Edits to apply together: they become durable together or not at all.
///
/// Fields are written into the entity's map, which is created on first write. Counters should
/// be created once (with [`Value::Counter`]) when the entity is made; after that, concurrent
/// increments on any replica add up.
#[derive(Default, Debug, Clone)]
pub struct WriteBatch {
    /// Runs of edits to one entity, in order: a record's dozen fields share one key instead
    /// of a dozen copies (a 100,000-record import held ~240 MB of repeated keys).
    pub(crate) ops: Vec<(EntityKey, Vec<EntityOp>)>,
}

impl WriteBatch {
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn put(&mut self, key: &EntityKey, field: &str, value: impl Into<Value>) -> &mut Self {
        self.push(
            key,
            EntityOp::Put {
                field: field.to_owned(),
                value: value.into(),
            },
        )
    }

    pub fn increment(&mut self, key: &EntityKey, field: &str, by: i64) -> &mut Self {
        self.push(
            key,
            EntityOp::Increment {
                field: field.to_owned(),
                by,
            },
        )
    }

    pub fn list_insert(
        &mut self,
        key: &EntityKey,
        field: &str,
        index: usize,
        value: impl Into<Value>,
    ) -> &mut Self {
        self.push(
            key,
            EntityOp::ListInsert {
                field: field.to_owned(),
                index,
                value: value.into(),
            },
        )
    }

    pub fn list_remove(&mut self, key: &EntityKey, field: &str, index: usize) -> &mut Self {
        self.push(
            key,
            EntityOp::ListRemove {
                field: field.to_owned(),
                index,
            },
        )
    }

    pub fn delete(&mut self, key: &EntityKey) -> &mut Self {
        self.push(key, EntityOp::Delete)
    }

    fn push(&mut self, key: &EntityKey, op: EntityOp) -> &mut Self {
        match self.ops.last_mut() {
            Some((last, run)) if last == key => run.push(op),
            _ => self.ops.push((key.clone(), vec![op])),
        }
        self
    }
}

/// Whether a change was made here or merged from a peer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChangeOrigin {
    Local,
    Merged,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EntityChangeKind {
    /// The entity exists after the change (created or modified).
    Upserted,
    /// The entity no longer exists.
    Deleted,
}

/// What the observer learns: this entity changed, and how.
#[derive(Clone, PartialEq, Debug)]
pub struct EntityChange {
    pub key: EntityKey,
    pub kind: EntityChangeKind,
    pub origin: ChangeOrigin,
    /// The entity's fields after the change (None when deleted, or when no observer is set:
    /// only an observer needs them, and reading costs a little per entity).
    pub fields: Option<Entity>,
}
