//! Shared harness for the cross-crate tests: replicas on temporary SQLite files, sessions joined
//! in memory with every byte each side sent recorded, decoding of recorded streams, and seeds
//! for randomized tests.
//!
//! Everything here drives the real store and the real sans-I/O session; nothing is mocked.
//! Real `tusach` processes are [`process`]'s business; [`network`] enrols data folders. LANs of
//! network namespaces are `tusach::bench::netns`, shared with the `neighbours` bench.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use tusach_sync::identity::{self, DeviceKey};
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::protocol::wire::{self, Message, WireError};
use tusach_sync::store::Durability;
use tusach_sync::transport::memory::{self, FaultyLink, LinkOutcome};
use tusach_sync::{
    AllowAll, DeviceId, EntityKey, Role, Scope, ScopePolicy, Session, SessionError, SessionReport,
    Store, StoreOptions,
};

pub fn scope(name: &str) -> Scope {
    Scope::new(name).expect("a valid scope name")
}

pub fn key(scope_name: &str, collection: &str, id: &str) -> EntityKey {
    EntityKey::new(&scope(scope_name), collection, id)
}

/// A store on its own temporary file; the file goes when the replica is dropped.
pub struct Replica {
    pub store: Store,
    options: StoreOptions,
    _dir: tempfile::TempDir,
}

impl Default for Replica {
    fn default() -> Self {
        Replica::new()
    }
}

impl Replica {
    /// A replica with a fresh random identity and a cache of 8 shards.
    pub fn new() -> Replica {
        Replica::with_cache(8)
    }

    pub fn with_cache(cache_shards: usize) -> Replica {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = StoreOptions {
            durability: Durability::Relaxed,
            cache_shards,
        };
        let store = Store::open_with(&dir.path().join("store.db"), options.clone())
            .expect("a new store opens");
        Replica {
            store,
            options,
            _dir: dir,
        }
    }

    /// A replica whose device key is derived from `seed`, so a replayed randomized test gives
    /// every replica the same id again: automerge breaks ties between concurrent writes by actor
    /// id, and the actor is the device id.
    ///
    /// The store has no option for a fixed key, so this adds one to its identity table (the
    /// newest row is the current identity) and reopens. If the table changes shape this fails
    /// loudly rather than silently giving up on replayable seeds.
    pub fn seeded(seed: u64, cache_shards: usize) -> Replica {
        let mut replica = Replica::with_cache(cache_shards);
        let mut secret = [0u8; 32];
        fastrand::Rng::with_seed(seed).fill(&mut secret);
        let key = DeviceKey::from_secret(&secret);
        let path = replica.store.path().to_path_buf();
        let fingerprint = identity::fingerprint(&path);
        replica
            .store
            .connection()
            .execute(
                "INSERT INTO identities (device, secret, fingerprint) VALUES (?1, ?2, ?3)",
                [&key.device_id().0[..], &secret[..], &fingerprint[..]],
            )
            .expect("a seeded identity is recorded");
        replica.open_again();
        assert_eq!(
            replica.store.device_id(),
            key.device_id(),
            "the store did not take the seeded identity"
        );
        replica
    }

    pub fn id(&self) -> DeviceId {
        self.store.device_id()
    }

    /// Closes the store and opens it again from its file: what is on disk must be what was
    /// in memory, and the identity must stay.
    pub fn reopen(&mut self) {
        let id = self.store.device_id();
        self.open_again();
        assert!(
            !self.store.identity_renewed(),
            "reopening in place must keep the identity"
        );
        assert_eq!(self.store.device_id(), id);
    }

    fn open_again(&mut self) {
        let path = self.store.path().to_path_buf();
        // A database admits one open store at a time, so the current one must close before
        // the file opens again; a throwaway store in the same folder holds its place meanwhile.
        let placeholder =
            Store::open_with(&path.with_extension("placeholder.db"), self.options.clone())
                .expect("a placeholder store opens");
        drop(std::mem::replace(&mut self.store, placeholder));
        self.store = Store::open_with(&path, self.options.clone()).expect("the store reopens");
    }

    pub fn state(&mut self) -> StoreState {
        state(&mut self.store)
    }
}

/// What a replica holds, in a form two replicas (or two moments) can be compared by.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StoreState {
    pub digest: [u8; 32],
    pub feed_len: i64,
}

impl fmt::Debug for StoreState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.digest[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        write!(f, "digest {hex}…, {} changes in feed", self.feed_len)
    }
}

pub fn state(store: &mut Store) -> StoreState {
    StoreState {
        digest: store.content_digest().expect("the digest can be computed"),
        feed_len: store.feed_len().expect("the feed can be counted"),
    }
}

/// Two distinct elements of a slice, both mutable.
pub fn two_mut<T>(items: &mut [T], i: usize, j: usize) -> (&mut T, &mut T) {
    assert_ne!(i, j, "two_mut needs two different indices");
    if i < j {
        let (left, right) = items.split_at_mut(j);
        (&mut left[i], &mut right[0])
    } else {
        let (left, right) = items.split_at_mut(i);
        (&mut right[0], &mut left[j])
    }
}

pub fn allow_all() -> Arc<dyn ScopePolicy> {
    Arc::new(AllowAll)
}

pub fn session(role: Role, store: &Store, policy: Arc<dyn ScopePolicy>) -> Session {
    session_with(role, store, policy, SessionOptions::default())
}

pub fn session_with(
    role: Role,
    store: &Store,
    policy: Arc<dyn ScopePolicy>,
    options: SessionOptions,
) -> Session {
    Session::new(role, store, policy, options).expect("a session starts")
}

/// How a session over the in-memory link went, with each side's report.
#[derive(Debug)]
pub struct LinkRun {
    pub outcome: LinkOutcome,
    pub a: SessionReport,
    pub b: SessionReport,
}

/// A session between `a` (initiator) and `b` (responder) over the in-memory link, both
/// allowing every scope.
pub fn run_link(
    a: &mut Replica,
    b: &mut Replica,
    link: &FaultyLink,
    options: SessionOptions,
) -> LinkRun {
    let mut sa = session_with(Role::Initiator, &a.store, allow_all(), options.clone());
    let mut sb = session_with(Role::Responder, &b.store, allow_all(), options);
    let outcome = memory::run(&mut a.store, &mut sa, &mut b.store, &mut sb, link);
    LinkRun {
        outcome,
        a: sa.report().clone(),
        b: sb.report().clone(),
    }
}

/// A session over a perfect link that must finish on both sides.
pub fn sync(a: &mut Replica, b: &mut Replica) -> LinkRun {
    let run = run_link(a, b, &FaultyLink::perfect(), SessionOptions::default());
    assert!(run.outcome.both_finished(), "a clean sync failed: {run:?}");
    run
}

/// Everything each side of a session sent, and how each ended.
#[derive(Default)]
pub struct Recorded {
    pub a_sent: Vec<u8>,
    pub b_sent: Vec<u8>,
    pub a_error: Option<SessionError>,
    pub b_error: Option<SessionError>,
    pub a_finished: bool,
    pub b_finished: bool,
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorded")
            .field("a_sent", &format_args!("{} bytes", self.a_sent.len()))
            .field("b_sent", &format_args!("{} bytes", self.b_sent.len()))
            .field("a_error", &self.a_error)
            .field("b_error", &self.b_error)
            .field("a_finished", &self.a_finished)
            .field("b_finished", &self.b_finished)
            .finish()
    }
}

/// Drives two sessions against each other, delivering everything at once each way, and records
/// every byte each sent. Unlike the memory transport it keeps the bytes, so a test can check
/// what crossed the wire.
pub fn drive(
    store_a: &mut Store,
    session_a: &mut Session,
    store_b: &mut Store,
    session_b: &mut Session,
) -> Recorded {
    let mut recorded = Recorded::default();
    for _ in 0..100_000 {
        let mut moved = false;
        let out = drain(store_a, session_a, &mut recorded.a_error);
        if !out.is_empty() {
            moved = true;
            recorded.a_sent.extend_from_slice(&out);
            if let Err(e) = session_b.receive(store_b, &out) {
                recorded.b_error.get_or_insert(e);
            }
        }
        let out = drain(store_b, session_b, &mut recorded.b_error);
        if !out.is_empty() {
            moved = true;
            recorded.b_sent.extend_from_slice(&out);
            if let Err(e) = session_a.receive(store_a, &out) {
                recorded.a_error.get_or_insert(e);
            }
        }
        if !moved {
            break;
        }
    }
    recorded.a_finished = session_a.is_finished();
    recorded.b_finished = session_b.is_finished();
    recorded
}

/// Everything a session has to send right now.
pub fn drain(
    store: &mut Store,
    session: &mut Session,
    error: &mut Option<SessionError>,
) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match session.poll_transmit(store) {
            Ok(Some(bytes)) => out.extend_from_slice(&bytes),
            Ok(None) => break,
            Err(e) => {
                error.get_or_insert(e);
                break;
            }
        }
    }
    out
}

/// Splits a recorded stream or bundle (preamble, then frames) into its frames, each checked.
pub fn split_frames(stream: &[u8], magic: &[u8; 4]) -> Result<Vec<Vec<u8>>, WireError> {
    wire::check_preamble(stream, magic)?;
    let mut rest = &stream[wire::PREAMBLE_LEN..];
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let len = wire::check_frame(rest)?;
        frames.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    Ok(frames)
}

/// Decodes every frame of a recorded stream or bundle.
pub fn decode_stream(stream: &[u8], magic: &[u8; 4]) -> Result<Vec<Message>, WireError> {
    split_frames(stream, magic)?
        .iter()
        .map(|frame| Message::decode(frame))
        .collect()
}

/// A frame with a valid checksum around any payload, for input the encoder would never make.
pub fn raw_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The seeds one part of a randomized test runs: by default `0..default_count` spread over
/// `parts` test functions (so they run in parallel); `TUSACH_SEEDS=n` changes the count and
/// `TUSACH_SEED=s` replays one seed (in whichever part owns it).
pub fn seeds(part: u64, parts: u64, default_count: u64) -> Vec<u64> {
    if let Some(seed) = env_u64("TUSACH_SEED") {
        return if seed % parts == part {
            vec![seed]
        } else {
            Vec::new()
        };
    }
    let count = env_u64("TUSACH_SEEDS").unwrap_or(default_count);
    (0..count).filter(|seed| seed % parts == part).collect()
}

/// True when one seed is being replayed: tests then narrate every step.
pub fn replaying() -> bool {
    std::env::var_os("TUSACH_SEED").is_some()
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let parsed = value.trim().parse();
    Some(parsed.unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")))
}

/// Runs `check` for every seed; any panic becomes a failure that names the seed and how to
/// replay it. Stops after a few failing seeds: one is enough to debug.
pub fn for_each_seed(seeds: &[u64], replay: &str, mut check: impl FnMut(u64)) {
    let mut failures: Vec<(u64, String)> = Vec::new();
    for &seed in seeds {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| check(seed)));
        if let Err(payload) = outcome {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(a panic without a message)".into());
            failures.push((seed, message));
            if failures.len() >= 3 {
                break;
            }
        }
    }
    if let Some((first, _)) = failures.first() {
        let list: Vec<String> = failures
            .iter()
            .map(|(seed, message)| format!("seed {seed}: {message}"))
            .collect();
        panic!(
            "{} seed(s) failed:\n{}\nreplay with: TUSACH_SEED={first} {replay}",
            failures.len(),
            list.join("\n")
        );
    }
}
pub mod cli;
pub mod line;
pub mod network;
pub mod process;
pub mod sheets;
pub mod web;
