//! Randomized convergence. Five replicas on real SQLite files (a small shard cache, so documents
//! are dropped and reloaded all the time) edit overlapping entities — the same field of the same
//! entity on several replicas, list inserts and removes, counters, deletes, batches across
//! scopes and collections — and meet in random pairs over links that cut, drop, corrupt, split
//! and delay bytes, or through bundles, some of them damaged. Then a few clean syncs must leave
//! every replica with the same content, and every counter must hold the sum of all increments.
//!
//! Along the way: a session that finishes on both sides leaves both replicas identical; a clean
//! link always finishes; a refused bundle changes nothing; a bundle brings its destination at
//! least up to its sender's knowledge; importing it again changes nothing; reopening a store
//! shows what it showed before.
//!
//! Every seed replays exactly, narrating each step:
//! `TUSACH_SEED=<seed> cargo test -p tusach-tests --test convergence -- --nocapture`.
//! `TUSACH_SEEDS=<n>` runs n seeds instead of the default 500.

use std::collections::{BTreeMap, BTreeSet};

use tusach_sync::bundle::{self, BundleError};
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::memory::{Direction, Fault, FaultyLink};
use tusach_sync::{AllowAll, Entity, EntityKey, Value, WriteBatch};
use tusach_tests::{Replica, StoreState, for_each_seed, key, replaying, run_link, seeds, two_mut};

const REPLICAS: usize = 5;
const DEFAULT_SEEDS: u64 = 500;
const PARTS: u64 = 4;
const REPLAY: &str = "cargo test -p tusach-tests --test convergence -- --nocapture";

/// A small cache so shard documents are evicted and reloaded from disk between uses.
const CACHE_SHARDS: usize = 4;

const SCOPES: [&str; 2] = ["network", "library:a"];
const COLLECTIONS: [&str; 2] = ["records", "copies"];
/// Few ids, so replicas keep editing the same entities.
const IDS: [&str; 4] = ["e0", "e1", "e2", "e3"];
const FIELDS: [&str; 3] = ["title", "status", "year"];
const LIST_FIELD: &str = "tags";
/// Counters live in their own collection, never deleted or overwritten, so their expected
/// value is simply the sum of the increments.
const TALLIES: &str = "tallies";
const COUNTER_FIELD: &str = "visits";
const COUNTERS: [(&str, &str); 3] = [("network", "c0"), ("library:a", "c1"), ("library:a", "c2")];

#[test]
fn convergence_part_0() {
    run_part(0);
}

#[test]
fn convergence_part_1() {
    run_part(1);
}

#[test]
fn convergence_part_2() {
    run_part(2);
}

#[test]
fn convergence_part_3() {
    run_part(3);
}

/// Regression (seed 66 and others): the first change of two new shards in different scopes,
/// made by one device in one commit with the same edits, is the same automerge change byte for
/// byte. The feed allowed each hash once in the whole store, so the second shard's change was
/// never offered to a peer and a peer took it for a duplicate.
#[test]
fn the_same_edit_in_two_scopes_reaches_every_peer_in_both() {
    let mut a = Replica::new();
    let mut b = Replica::new();
    let mut c = Replica::new();
    let mut batch = WriteBatch::new();
    for scope in SCOPES {
        batch.put(&key(scope, "records", "e1"), "year", Value::Null);
    }
    a.store.commit(&batch).expect("commit");
    tusach_tests::sync(&mut a, &mut b);
    let mut bytes = Vec::new();
    bundle::write_bundle(&mut a.store, c.id(), &AllowAll, 1 << 16, &mut bytes).expect("bundle");
    bundle::read_bundle(&mut c.store, &bytes, &AllowAll).expect("bundle");
    for (name, replica) in [("a", &mut a), ("b", &mut b), ("c", &mut c)] {
        for scope in SCOPES {
            let entity = replica
                .store
                .get(&key(scope, "records", "e1"))
                .expect("get");
            assert_eq!(
                entity.and_then(|e| e.get("year").cloned()),
                Some(Value::Null),
                "{name} lacks the edit in {scope}"
            );
        }
    }
}

/// `scope/collection/id`, for narration and failure messages.
fn path(entity: &EntityKey) -> String {
    format!("{}/{}/{}", entity.scope, entity.collection, entity.id)
}

fn run_part(part: u64) {
    for_each_seed(&seeds(part, PARTS, DEFAULT_SEEDS), REPLAY, check_seed);
}

fn check_seed(seed: u64) {
    let mut world = World::new(seed);
    let edits = world.rng.usize(20..=40);
    let exchanges = world.rng.usize(8..=15);
    let reopens = world.rng.usize(0..=2);
    let mut steps: Vec<Step> = std::iter::repeat_n(Step::Edit, edits)
        .chain(std::iter::repeat_n(Step::Exchange, exchanges))
        .chain(std::iter::repeat_n(Step::Reopen, reopens))
        .collect();
    world.rng.shuffle(&mut steps);
    for step in steps {
        match step {
            Step::Edit => world.edit(),
            Step::Exchange => world.exchange(),
            Step::Reopen => world.reopen(),
        }
    }
    world.converge();
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Edit,
    Exchange,
    Reopen,
}

struct CounterModel {
    key: EntityKey,
    created: bool,
    /// The sum of every increment committed anywhere.
    total: i64,
}

struct World {
    seed: u64,
    rng: fastrand::Rng,
    replicas: Vec<Replica>,
    counters: Vec<CounterModel>,
    narrate: bool,
    step: usize,
}

impl World {
    fn new(seed: u64) -> World {
        let replicas = (0..REPLICAS as u64)
            .map(|n| Replica::seeded(seed.wrapping_mul(31).wrapping_add(n + 1), CACHE_SHARDS))
            .collect();
        let counters = COUNTERS
            .iter()
            .map(|(scope, id)| CounterModel {
                key: key(scope, TALLIES, id),
                created: false,
                total: 0,
            })
            .collect();
        World {
            seed,
            rng: fastrand::Rng::with_seed(seed),
            replicas,
            counters,
            narrate: replaying(),
            step: 0,
        }
    }

    fn say(&mut self, what: impl FnOnce() -> String) {
        self.step += 1;
        if self.narrate {
            println!("[seed {} step {}] {}", self.seed, self.step, what());
        }
    }

    fn random_entity(&mut self) -> EntityKey {
        let scope = SCOPES[self.rng.usize(..SCOPES.len())];
        let collection = COLLECTIONS[self.rng.usize(..COLLECTIONS.len())];
        let id = IDS[self.rng.usize(..IDS.len())];
        key(scope, collection, id)
    }

    fn random_value(&mut self, at: usize) -> Value {
        match self.rng.u32(..10) {
            0..=3 => {
                let words = ["Truyện Kiều", "Dế Mèn", "đang mượn", "trên kệ", ""];
                let word = words[self.rng.usize(..words.len())];
                // Distinct per replica and step, so a lost write would show in the digest.
                Value::Str(format!("{word} r{at} s{}", self.step))
            }
            4..=5 => Value::Int(self.rng.i64(1900..2030)),
            6 => Value::Bool(self.rng.bool()),
            7 => Value::Null,
            8 => Value::Float(f64::from(self.rng.u16(..)) / 8.0),
            _ => Value::Bytes(vec![self.rng.u8(..); self.rng.usize(0..4)]),
        }
    }

    /// One local commit on a random replica.
    fn edit(&mut self) {
        let at = self.rng.usize(..REPLICAS);
        let mut batch = WriteBatch::new();
        let mut increments: Vec<(usize, i64)> = Vec::new();
        let mut created: Vec<usize> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let ops = if self.rng.u32(..100) < 20 {
            self.rng.usize(2..=4)
        } else {
            1
        };
        for _ in 0..ops {
            let single = ops == 1;
            match self.rng.u32(..100) {
                0..=39 => self.put_field(at, &mut batch, &mut notes),
                40..=54 => self.list_insert(at, single, &mut batch, &mut notes),
                55..=64 if single => self.list_remove(at, &mut batch, &mut notes),
                55..=79 => {
                    self.counter_op(at, &mut batch, &mut increments, &mut created, &mut notes)
                }
                _ => {
                    let entity = self.random_entity();
                    notes.push(format!("delete {}", path(&entity)));
                    batch.delete(&entity);
                }
            }
        }
        self.say(|| format!("replica {at} commits: {}", notes.join("; ")));
        let seed = self.seed;
        self.replicas[at]
            .store
            .commit(&batch)
            .unwrap_or_else(|e| panic!("seed {seed}: a valid local commit failed: {e}"));
        for counter in created {
            self.counters[counter].created = true;
        }
        for (counter, by) in increments {
            self.counters[counter].total += by;
        }
    }

    fn put_field(&mut self, at: usize, batch: &mut WriteBatch, notes: &mut Vec<String>) {
        let entity = self.random_entity();
        if self.rng.u32(..8) == 0 {
            let items: Vec<Value> = (0..self.rng.usize(0..3))
                .map(|_| self.random_value(at))
                .collect();
            notes.push(format!("{}.{LIST_FIELD} = {items:?}", path(&entity)));
            batch.put(&entity, LIST_FIELD, Value::List(items));
        } else {
            let field = FIELDS[self.rng.usize(..FIELDS.len())];
            let value = self.random_value(at);
            notes.push(format!("{}.{field} = {value:?}", path(&entity)));
            batch.put(&entity, field, value);
        }
    }

    fn list_len(&mut self, at: usize, entity: &EntityKey) -> Option<usize> {
        let read = self.replicas[at].store.get(entity).expect("get");
        match read.and_then(|e| e.get(LIST_FIELD).cloned()) {
            Some(Value::List(items)) => Some(items.len()),
            Some(other) => panic!(
                "seed {}: {}.{LIST_FIELD} holds {other:?}, but only lists are put there",
                self.seed,
                path(entity)
            ),
            None => None,
        }
    }

    /// Inserts at a valid index of the list as this replica sees it. Inside a batch of several
    /// edits only at the front, which stays valid whatever the other edits do.
    fn list_insert(
        &mut self,
        at: usize,
        single: bool,
        batch: &mut WriteBatch,
        notes: &mut Vec<String>,
    ) {
        let entity = self.random_entity();
        let len = self.list_len(at, &entity).unwrap_or(0);
        let index = if single { self.rng.usize(..=len) } else { 0 };
        let value = self.random_value(at);
        notes.push(format!(
            "{}.{LIST_FIELD}.insert({index}, {value:?})",
            path(&entity)
        ));
        batch.list_insert(&entity, LIST_FIELD, index, value);
    }

    fn list_remove(&mut self, at: usize, batch: &mut WriteBatch, notes: &mut Vec<String>) {
        let entity = self.random_entity();
        match self.list_len(at, &entity) {
            Some(len) if len > 0 => {
                let index = self.rng.usize(..len);
                notes.push(format!("{}.{LIST_FIELD}.remove({index})", path(&entity)));
                batch.list_remove(&entity, LIST_FIELD, index);
            }
            _ => self.put_field(at, batch, notes),
        }
    }

    /// Creates a counter once, on one replica; increments it on any replica that holds it.
    fn counter_op(
        &mut self,
        at: usize,
        batch: &mut WriteBatch,
        increments: &mut Vec<(usize, i64)>,
        created: &mut Vec<usize>,
        notes: &mut Vec<String>,
    ) {
        let counter = self.rng.usize(..self.counters.len());
        let by = self.rng.i64(-3..=9);
        let entity = self.counters[counter].key.clone();
        if !self.counters[counter].created {
            if !created.contains(&counter) {
                created.push(counter);
                notes.push(format!("create counter {}", path(&entity)));
                batch.put(&entity, COUNTER_FIELD, Value::Counter(0));
            }
            return;
        }
        let read = self.replicas[at].store.get(&entity).expect("get");
        match read.as_ref().and_then(|e| e.get(COUNTER_FIELD)) {
            Some(Value::Counter(_)) => {
                notes.push(format!("{} += {by}", path(&entity)));
                batch.increment(&entity, COUNTER_FIELD, by);
                increments.push((counter, by));
            }
            Some(other) => panic!(
                "seed {}: counter {} reads as {other:?}",
                self.seed,
                path(&entity)
            ),
            None => notes.push(format!("{} not here yet", path(&entity))),
        }
    }

    fn exchange(&mut self) {
        let i = self.rng.usize(..REPLICAS);
        let j = (i + self.rng.usize(1..REPLICAS)) % REPLICAS;
        match self.rng.u32(..100) {
            0..=59 => {
                let link = self.faulty_link();
                self.session(i, j, link);
            }
            60..=84 => self.bundle_hop(i, j),
            _ => {
                let link = self.clean_link();
                self.session(i, j, link);
            }
        }
    }

    /// Splits and delays bytes but loses none: a session over it must finish.
    fn clean_link(&mut self) -> FaultyLink {
        FaultyLink {
            faults: Vec::new(),
            max_chunk: [1, 5, 64, usize::MAX][self.rng.usize(..4)],
            max_delay: self.rng.u32(0..=3),
            seed: self.rng.u64(..),
        }
    }

    fn faulty_link(&mut self) -> FaultyLink {
        let mut link = self.clean_link();
        if link.max_chunk == 1 {
            // Byte-at-a-time delivery is slow to simulate; the clean links cover it.
            link.max_chunk = 7;
        }
        for _ in 0..self.rng.usize(1..=2) {
            let direction = if self.rng.bool() {
                Direction::AToB
            } else {
                Direction::BToA
            };
            // Most sessions here move a few hundred bytes to a few kilobytes; offsets skewed
            // towards the start land inside them most of the time.
            let reach = self.rng.u64(40..3000);
            let offset = self.rng.u64(0..=reach);
            let fault = match self.rng.u32(..3) {
                0 => Fault::CutAfter(offset),
                1 => Fault::Drop {
                    direction,
                    offset,
                    len: self.rng.u64(1..40),
                },
                _ => Fault::Corrupt { direction, offset },
            };
            link.faults.push(fault);
        }
        link
    }

    fn session(&mut self, i: usize, j: usize, link: FaultyLink) {
        let options = SessionOptions {
            batch_bytes: [200, 2000, 256 * 1024][self.rng.usize(..3)],
            window: self.rng.u64(1..=4),
            ..SessionOptions::default()
        };
        let seed = self.seed;
        let clean = link.faults.is_empty();
        let (a, b) = two_mut(&mut self.replicas, i, j);
        let run = run_link(a, b, &link, options.clone());
        let outcome = &run.outcome;
        let finished = outcome.both_finished();
        let (state_a, state_b) = (a.state(), b.state());
        self.say(|| {
            let side = |r: &tusach_sync::SessionReport| {
                format!(
                    "sent {} batches ({} changes), received {} batches ({:?})",
                    r.batches_sent, r.changes_sent, r.batches_received, r.received
                )
            };
            format!(
                "session {i} -> {j} over {link:?} with {options:?}: {i} {:?}, {}; {j} {:?}, {}; \
                 cut {}",
                outcome.a,
                side(&run.a),
                outcome.b,
                side(&run.b),
                outcome.cut
            )
        });
        assert!(
            !clean || finished,
            "seed {seed}: a session {i} -> {j} over a link that loses nothing did not finish: \
             {outcome:?}"
        );
        if finished && state_a.digest != state_b.digest {
            panic!(
                "seed {seed}: replicas {i} and {j} differ after a session both finished:\n{}",
                self.difference(i, j)
            );
        }
    }

    fn bundle_hop(&mut self, from: usize, to: usize) {
        let seed = self.seed;
        let batch_bytes = [300, 64 * 1024][self.rng.usize(..2)];
        let to_id = self.replicas[to].id();
        let mut bytes = Vec::new();
        bundle::write_bundle(
            &mut self.replicas[from].store,
            to_id,
            &AllowAll,
            batch_bytes,
            &mut bytes,
        )
        .unwrap_or_else(|e| panic!("seed {seed}: writing a bundle failed: {e}"));
        let sender_knows = self.replicas[from]
            .store
            .knowledge(|_| true)
            .expect("knowledge");
        let before = self.replicas[to].state();
        match self.rng.u32(..10) {
            0..=2 => {
                let cut = self.rng.usize(..bytes.len());
                self.say(|| format!("bundle {from} -> {to} cut at {cut} of {}", bytes.len()));
                self.refused_bundle(to, &bytes[..cut], before);
            }
            3 => {
                let at = self.rng.usize(..bytes.len());
                let bit = self.rng.u32(..8);
                bytes[at] ^= 1 << bit;
                self.say(|| format!("bundle {from} -> {to} with byte {at} damaged"));
                self.refused_bundle(to, &bytes, before);
            }
            _ => {
                let again = self.rng.bool();
                self.say(|| format!("bundle {from} -> {to}, {} bytes", bytes.len()));
                let store = &mut self.replicas[to].store;
                bundle::read_bundle(store, &bytes, &AllowAll)
                    .unwrap_or_else(|e| panic!("seed {seed}: a sound bundle was refused: {e}"));
                let knows = store.knowledge(|_| true).expect("knowledge");
                for (scope, vector) in &sender_knows.vectors {
                    for (origin, n) in vector {
                        let held = knows
                            .vectors
                            .get(scope)
                            .and_then(|v| v.get(origin))
                            .copied()
                            .unwrap_or(0);
                        assert!(
                            held >= *n,
                            "seed {seed}: after a bundle {from} -> {to}, replica {to} holds \
                             {scope}/{origin:?} up to {held}, its sender up to {n}"
                        );
                    }
                }
                if again {
                    let after = self.replicas[to].state();
                    let report =
                        bundle::read_bundle(&mut self.replicas[to].store, &bytes, &AllowAll)
                            .unwrap_or_else(|e| panic!("seed {seed}: a bundle read twice: {e}"));
                    assert_eq!(
                        report.new_changes, 0,
                        "seed {seed}: a bundle imported twice brought new changes"
                    );
                    assert_eq!(
                        self.replicas[to].state(),
                        after,
                        "seed {seed}: a bundle imported twice changed the store"
                    );
                }
            }
        }
    }

    fn refused_bundle(&mut self, to: usize, bytes: &[u8], before: StoreState) {
        let seed = self.seed;
        let store = &mut self.replicas[to].store;
        match bundle::read_bundle(store, bytes, &AllowAll) {
            Err(BundleError::Damaged(_) | BundleError::Incomplete(_)) => {}
            other => panic!("seed {seed}: a damaged bundle was not refused as such: {other:?}"),
        }
        assert_eq!(
            self.replicas[to].state(),
            before,
            "seed {seed}: a refused bundle changed replica {to}"
        );
    }

    fn reopen(&mut self) {
        let at = self.rng.usize(..REPLICAS);
        self.say(|| format!("replica {at} reopens"));
        let before = self.replicas[at].state();
        self.replicas[at].reopen();
        assert_eq!(
            self.replicas[at].state(),
            before,
            "seed {}: replica {at} shows something else after reopening",
            self.seed
        );
    }

    /// Clean syncs along the chain and back, then every replica must be identical and a
    /// further round must find nothing to send.
    fn converge(&mut self) {
        let seed = self.seed;
        let forth = (0..REPLICAS - 1).map(|i| (i, i + 1));
        let back = (0..REPLICAS - 2).rev().map(|i| (i + 1, i));
        for (i, j) in forth.chain(back) {
            self.say(|| format!("final sync {i} -> {j}"));
            self.clean_sync(i, j);
        }
        let first = self.replicas[0].state().digest;
        for n in 1..REPLICAS {
            if self.replicas[n].state().digest != first {
                panic!(
                    "seed {seed}: replica {n} differs from replica 0 after the final syncs:\n{}",
                    self.difference(0, n)
                );
            }
        }
        for (i, j) in [(0, REPLICAS - 1), (2, 1)] {
            let (a, b) = two_mut(&mut self.replicas, i, j);
            let run = run_link(a, b, &FaultyLink::perfect(), SessionOptions::default());
            assert!(run.outcome.both_finished(), "seed {seed}: {run:?}");
            assert_eq!(
                (run.a.changes_sent, run.b.changes_sent),
                (0, 0),
                "seed {seed}: converged replicas {i} and {j} still sent changes"
            );
        }
        for n in 0..REPLICAS {
            for counter in &self.counters {
                let read = self.replicas[n].store.get(&counter.key).expect("get");
                let value = read.as_ref().and_then(|e| e.get(COUNTER_FIELD));
                if counter.created {
                    assert_eq!(
                        value,
                        Some(&Value::Counter(counter.total)),
                        "seed {seed}: replica {n} has the wrong count for {:?}",
                        counter.key
                    );
                } else {
                    assert_eq!(value, None, "seed {seed}: a counter nobody created");
                }
            }
            let check = self.replicas[n].store.integrity_check().expect("check");
            assert_eq!(
                check, "ok",
                "seed {seed}: replica {n}'s database is damaged"
            );
        }
    }

    /// The entities two replicas show differently, for a failure message.
    fn difference(&mut self, i: usize, j: usize) -> String {
        let (left, right) = (self.contents(i), self.contents(j));
        let mut lines = Vec::new();
        for key in left.keys().chain(right.keys()).collect::<BTreeSet<_>>() {
            let (l, r) = (left.get(key), right.get(key));
            if l != r {
                lines.push(format!("  {key}\n    {i}: {l:?}\n    {j}: {r:?}"));
            }
        }
        if lines.is_empty() {
            lines.push("  (every entity reads the same; the digests still differ)".into());
        }
        lines.join("\n")
    }

    fn contents(&mut self, at: usize) -> BTreeMap<String, Entity> {
        let mut all = BTreeMap::new();
        for scope in SCOPES {
            for collection in COLLECTIONS.iter().chain([&TALLIES]) {
                self.replicas[at]
                    .store
                    .scan(&tusach_tests::scope(scope), collection, |id, entity| {
                        all.insert(format!("{scope}/{collection}/{id}"), entity.clone());
                    })
                    .expect("scan");
            }
        }
        all
    }

    fn clean_sync(&mut self, i: usize, j: usize) {
        let seed = self.seed;
        let (a, b) = two_mut(&mut self.replicas, i, j);
        let run = run_link(a, b, &FaultyLink::perfect(), SessionOptions::default());
        assert!(
            run.outcome.both_finished(),
            "seed {seed}: a final sync {i} -> {j} failed: {run:?}"
        );
    }
}
