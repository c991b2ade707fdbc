//! The replicated document store and its sync protocol.
//!
//! Tủ Sách keeps every piece of data in automerge documents persisted in SQLite, and merges
//! replicas over whatever link exists. This crate is that machinery and nothing else: it knows
//! automerge, SQLite, byte streams and device keys; it knows nothing about books, readers or
//! loans (those live in the `appliance` crate, which stores them here as *entities*).
//!
//! Module map:
//! - [`identity`]: the device's Ed25519 key and id; noticing a copied or restored database.
//! - [`store`]: entities grouped into shard documents per (scope, collection), persisted as
//!   snapshots plus incremental chunks; the change feed and per-origin counters; the observer
//!   hook through which the domain keeps its query tables in step.
//! - [`protocol`]: the versioned wire format and the sans-I/O [`protocol::Session`] that decides
//!   what to send. It does no I/O of its own and reads no clock.
//! - [`transport`]: byte movers for a session: TCP (tokio), in-memory with fault injection.
//! - [`discovery`]: announcing this device and seeing neighbours over mDNS: hints, never trust.
//! - [`bundle`]: files for a USB stick carrying what a named device lacks.
//! - [`trust`]: the network's root key, membership certificates, enrolment codes and
//!   revocations: who may sync at all, and which scopes.

pub mod bundle;
pub mod discovery;
pub mod identity;
pub mod protocol;
pub mod store;
pub mod transport;
pub mod trust;

pub use identity::DeviceId;
pub use protocol::policy::{AllowAll, ScopePolicy, ScopeSet};
pub use protocol::session::{Role, Session, SessionError, SessionReport};
pub use store::{
    ApplyReport, ApplyStages, Batch, ChangeObserver, ChangeOrigin, Durability, Entity,
    EntityChange, EntityChangeKind, EntityKey, Knowledge, Payload, Scope, ShardKey, Store,
    StoreError, StoreOptions, Value, WriteBatch,
};
