//! `kill -9` on a real `tusach` process, over and over, on the same data folders.
//!
//! - `killed_during_acknowledged_writes`: `dev write-stream` commits records one by one and
//!   prints `ack ID` after each durable commit; the test kills it at a random moment, then
//!   reopens the database: `PRAGMA integrity_check` says ok, every acknowledged record is there,
//!   at most the one commit in flight landed beyond the last acknowledgement, and the device
//!   keeps its identity (a crash must not look like a copied database).
//! - `killed_during_sync`: a hub with a few thousand records and an appliance that starts empty
//!   sync over TCP while the test kills one side or the other, at delays spread from before the
//!   connection to past the end of the session; both sides also keep writing between rounds.
//!   After every kill both databases pass the integrity check, keep their device ids and still
//!   hold a sample of the writes they acknowledged; at the end one clean sync completes, leaves
//!   both with the same content, and each holds every write either side acknowledged.
//! - `killed_during_a_large_import`: `tusach import marc` of a few thousand records (one
//!   commit, written shard by shard) killed at random moments into fresh folders: each folder
//!   then holds none of the records or all of them, in the documents and in the search table.
//! - `killed_during_a_bootstrap`: new replicas receiving 8,000 records as whole documents are
//!   killed at random moments within the time an uncut bootstrap takes; after every kill the
//!   catalogue's query tables equal what a rebuild from the documents would write
//!   (`search::check_index`), and the last cut replica resumes to the hub's content.
//!
//! The kills are real signals against real processes, so timing varies between runs; the
//! seed fixes the choices (delays, targets, writes) and is printed for replay:
//! `TUSACH_SEED=<seed> cargo test -p tusach-tests --test crash -- --nocapture`.
//! `TUSACH_CRASH_ROUNDS=<n>` changes the number of kills per test (default 24; at most 4 for
//! the import, whose rounds take seconds each).
//!
//! These tests need the binary: `cargo build --workspace --bins` first (tests/run does it).

use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use tusach::sample::SampleLibrary;
use tusach_sync::{DeviceId, EntityKey, Scope, Store, StoreOptions, Value};
use tusach_tests::process::{Tusach, env_number, run_ok, seed_from_env};

const DEFAULT_ROUNDS: u64 = 24;
const REPLAY: &str = "cargo test -p tusach-tests --test crash -- --nocapture";

/// How long a command that should simply finish may take, even on a slow, busy board.
const FINISH: Duration = Duration::from_secs(60);

fn rounds() -> u64 {
    env_number("TUSACH_CRASH_ROUNDS")
        .unwrap_or(DEFAULT_ROUNDS)
        .max(1)
}

#[test]
fn killed_during_acknowledged_writes() {
    let started = Instant::now();
    let seed = seed_from_env();
    println!("seed {seed} (replay: TUSACH_SEED={seed} {REPLAY} killed_during_acknowledged_writes)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let folder = tempfile::tempdir().expect("a temporary data folder");
    let data = folder.path();
    let device = device_id_of(data);

    // Per round: how many writes were acknowledged before the kill.
    let mut acked_per_round: Vec<u64> = Vec::new();
    let mut in_flight_landed = 0;
    for round in 0..rounds() {
        let prefix = format!("round{round}");
        let delay = Duration::from_millis(rng.u64(10..=400));
        let mut writer = Tusach::spawn(data, &["dev", "write-stream", "--prefix", &prefix]);
        thread::sleep(delay);
        let cut = writer.kill_hard();
        assert!(
            cut,
            "write-stream ended by itself before the kill\n{}",
            writer.diagnostics()
        );
        let acked = acknowledged(&writer.stdout_lines(), &prefix, &writer);
        acked_per_round.push(acked);

        let mut store = open_unused(data, &device);
        let records = titles(&mut store);
        drop(store);
        for (earlier, &count) in acked_per_round.iter().enumerate() {
            for n in 0..count {
                let id = format!("round{earlier}-{n}");
                match records.get(&id) {
                    Some(title) if !title.is_empty() => {}
                    Some(_) => panic!(
                        "round {round}: acknowledged record {id} came back without a title \
                         (seed {seed})"
                    ),
                    None => panic!(
                        "round {round}: acknowledged record {id} is gone after kill -9 \
                         (seed {seed})"
                    ),
                }
            }
        }
        // Commits land in order, and at most the one whose `ack` was not printed yet may be
        // there beyond the acknowledged ones.
        let own = format!("{prefix}-");
        let mut on_disk: Vec<u64> = records
            .keys()
            .filter_map(|id| id.strip_prefix(&own)?.parse().ok())
            .collect();
        on_disk.sort_unstable();
        let contiguous = on_disk.iter().enumerate().all(|(i, &n)| i as u64 == n);
        let count = on_disk.len() as u64;
        assert!(
            contiguous && (count == acked || count == acked + 1),
            "round {round}: {acked} acknowledged but on disk {on_disk:?} (seed {seed})"
        );
        if count == acked + 1 {
            in_flight_landed += 1;
        }
        println!(
            "round {round}: killed after {} ms, {acked} acknowledged, {count} on disk",
            delay.as_millis()
        );
    }

    let total: u64 = acked_per_round.iter().sum();
    let rounds_with_acks = acked_per_round.iter().filter(|&&n| n > 0).count();
    println!(
        "{} kills; {rounds_with_acks} rounds acknowledged writes, {total} in all; \
         {in_flight_landed} kills found the commit in flight already on disk; {:.1} s",
        acked_per_round.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        rounds_with_acks * 2 >= acked_per_round.len(),
        "only {rounds_with_acks} of {} rounds acknowledged anything before the kill: the test \
         barely exercised acknowledged writes (is the machine very slow?)",
        acked_per_round.len()
    );
    assert_eq!(
        device_id_of(data),
        device,
        "after the crashes the binary reports another device id"
    );
}

/// Which side of the sync a round kills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Appliance,
    Hub,
}

/// Where a round's kill landed, judged by how the session ended and by the change feeds of
/// both sides before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Landed {
    /// The appliance had not connected yet.
    BeforeConnecting,
    /// Connected, but no batch had been committed on either side.
    BeforeAnyBatch,
    /// Some of what was waiting had been committed by its receiver, not all.
    MidTransfer,
    /// Every change had arrived, but the session was killed before it finished.
    BeforeFinish,
    /// The session finished before the kill.
    AfterCompletion,
}

/// What one round's sync did before and after its kill.
struct Round {
    completed: bool,
    connected: bool,
    feeds_before: (i64, i64),
    feeds_after: (i64, i64),
}

impl Round {
    fn landed(&self) -> Landed {
        let (hub_after, appliance_after) = self.feeds_after;
        if self.completed {
            Landed::AfterCompletion
        } else if !self.connected {
            Landed::BeforeConnecting
        } else if self.feeds_before == self.feeds_after {
            Landed::BeforeAnyBatch
        } else if hub_after != appliance_after {
            Landed::MidTransfer
        } else {
            Landed::BeforeFinish
        }
    }
}

#[test]
fn killed_during_sync() {
    let started = Instant::now();
    let seed = seed_from_env();
    println!("seed {seed} (replay: TUSACH_SEED={seed} {REPLAY} killed_during_sync)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let folders = tempfile::tempdir().expect("a temporary folder");
    let hub = folders.path().join("hub");
    let appliance = folders.path().join("appliance");
    tusach_tests::network::enrol(&hub, &appliance, None);

    // Bulk seeding skips fsync (it is no acknowledged work); the edits commit one by one.
    run_ok(
        &hub,
        &["dev", "seed", "--records", "3000", "--relaxed"],
        FINISH,
    );
    run_ok(
        &hub,
        &["dev", "edit", "--records", "300", "--round", "1"],
        FINISH,
    );
    let hub_device = device_id_of(&hub);
    let appliance_device = device_id_of(&appliance);
    println!(
        "hub and appliance ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut hub_acked: Vec<String> = Vec::new();
    let mut appliance_acked: Vec<String> = Vec::new();
    let mut next_new_record = 3000u64;
    let mut landed: BTreeMap<Landed, u32> = BTreeMap::new();
    for round in 0..rounds() {
        // New work on both sides while no sync runs, so later rounds have something to send
        // both ways: librarians' edits on the hub, now and then a batch of new acquisitions
        // large enough for several batches, and acknowledged writes on either side.
        match rng.u8(0..6) {
            0..=2 => {
                let records = rng.u64(30..=120).to_string();
                let edit_round = (round + 2).to_string();
                run_ok(
                    &hub,
                    &["dev", "edit", "--records", &records, "--round", &edit_round],
                    FINISH,
                );
            }
            3 | 4 => {
                let start = next_new_record.to_string();
                next_new_record += 600;
                run_ok(
                    &hub,
                    &[
                        "dev",
                        "seed",
                        "--records",
                        "600",
                        "--start",
                        &start,
                        "--per-commit",
                        "1",
                        "--relaxed",
                    ],
                    FINISH,
                );
            }
            _ => {}
        }
        if rng.bool() {
            appliance_acked.extend(write_stream(&appliance, &format!("app{round}"), 20));
        }
        if rng.u8(0..4) == 0 {
            hub_acked.extend(write_stream(&hub, &format!("hub{round}"), 20));
        }

        let feeds_before = (
            feed_len(&hub, &hub_device),
            feed_len(&appliance, &appliance_device),
        );
        let target = if round % 2 == 0 {
            Side::Appliance
        } else {
            Side::Hub
        };
        // Spread evenly over orders of magnitude, from 5 ms to 1.5 s: a session here takes a
        // few hundred milliseconds (each side loads the shard documents it touches), so some
        // kills land before the connection, some in the handshake, many during the transfer
        // and some after the end.
        let delay = Duration::from_secs_f64(0.005 * 300f64.powf(rng.f64()));
        let (completed, connected, error) = sync_and_kill(&hub, &appliance, target, delay, round);

        // Both processes are gone: reopen both databases and check them.
        let mut hub_store = open_unused(&hub, &hub_device);
        let mut appliance_store = open_unused(&appliance, &appliance_device);
        // Reading every record of both sides takes most of a second; a seeded sample per
        // round keeps the test short, and the end checks every acknowledged write on both.
        let at = format!("round {round}");
        expect_records(&mut hub_store, &sample(&mut rng, &hub_acked), "hub", &at);
        expect_records(
            &mut appliance_store,
            &sample(&mut rng, &appliance_acked),
            "appliance",
            &at,
        );
        let outcome = Round {
            completed,
            connected,
            feeds_before,
            feeds_after: (
                hub_store.feed_len().expect("hub feed"),
                appliance_store.feed_len().expect("appliance feed"),
            ),
        };
        drop((hub_store, appliance_store));
        if completed {
            assert_eq!(
                outcome.feeds_after.0, outcome.feeds_after.1,
                "round {round}: the session finished but the feeds differ (seed {seed})"
            );
        }
        *landed.entry(outcome.landed()).or_default() += 1;
        println!(
            "round {round}: killed {target:?} after {} ms: {:?}; feeds hub {}→{}, appliance {}→{} {error}",
            delay.as_millis(),
            outcome.landed(),
            feeds_before.0,
            outcome.feeds_after.0,
            feeds_before.1,
            outcome.feeds_after.1,
        );
    }

    // One clean sync must now bring both sides together.
    let mut listener = Tusach::spawn(
        &hub,
        &["sync", "--listen", "127.0.0.1:0", "--timeout-secs", "30"],
    );
    let addr = listener.listening_address();
    let report = run_ok(&appliance, &["sync", "--peer", &addr, "--json"], FINISH);
    assert!(
        listener.terminate(Duration::from_secs(10)),
        "the hub listener did not stop on SIGTERM\n{}",
        listener.diagnostics()
    );
    println!("final sync: {}", report.stdout.join(" "));

    let hub_digest = run_ok(&hub, &["dev", "digest"], FINISH).stdout;
    let appliance_digest = run_ok(&appliance, &["dev", "digest"], FINISH).stdout;
    assert!(
        hub_digest.iter().any(|l| l == "integrity ok")
            && appliance_digest.iter().any(|l| l == "integrity ok"),
        "integrity after the final sync: hub {hub_digest:?}, appliance {appliance_digest:?}"
    );
    assert_eq!(
        hub_digest, appliance_digest,
        "after a clean sync the hub and the appliance differ (seed {seed})"
    );
    let everything: Vec<String> = hub_acked.iter().chain(&appliance_acked).cloned().collect();
    for (folder, device, name) in [
        (&hub, &hub_device, "hub"),
        (&appliance, &appliance_device, "appliance"),
    ] {
        expect_records(
            &mut open_unused(folder, device),
            &everything,
            name,
            "after the final sync",
        );
    }

    let cut: u32 = landed
        .iter()
        .filter(|(l, _)| **l != Landed::AfterCompletion)
        .map(|(_, n)| n)
        .sum();
    println!(
        "{} kills, {cut} cut a session short: {landed:?}; {} acknowledged writes on the hub, \
         {} on the appliance; {:.1} s",
        rounds(),
        hub_acked.len(),
        appliance_acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        cut > 0,
        "no kill landed before a session finished: the test did not exercise a crash during sync"
    );
}

/// Starts the hub's listener and the appliance's `sync --peer`, kills `target` with SIGKILL
/// after `delay` and stops the other side. Returns whether the session finished before the
/// kill, whether the appliance had connected, and the appliance's error if it failed.
fn sync_and_kill(
    hub: &Path,
    appliance: &Path,
    target: Side,
    delay: Duration,
    round: u64,
) -> (bool, bool, String) {
    let mut listener = Tusach::spawn(
        hub,
        &["sync", "--listen", "127.0.0.1:0", "--timeout-secs", "5"],
    );
    let addr = listener.listening_address();
    let mut peer = Tusach::spawn(
        appliance,
        &["sync", "--peer", &addr, "--json", "--timeout-secs", "5"],
    );
    // Stop waiting early if the session ends first: the kill lands after the end either way.
    peer.wait_timeout(delay);
    match target {
        Side::Appliance => {
            let cut = peer.kill_hard();
            // The hub reports every session it started, finished or failed; give it a moment
            // to notice that its peer vanished.
            let connected =
                !cut || listener.wait_for_stderr("session with", Duration::from_millis(300));
            assert!(
                listener.terminate(Duration::from_secs(10)),
                "round {round}: the hub listener did not stop on SIGTERM\n{}",
                listener.diagnostics()
            );
            if !cut {
                let status = peer.try_wait().expect("the peer has ended");
                assert!(
                    status.success(),
                    "round {round}: sync failed although nothing was killed yet\n{}\nhub: {}",
                    peer.diagnostics(),
                    listener.stderr()
                );
            }
            (!cut, connected, String::new())
        }
        Side::Hub => {
            listener.kill_hard();
            // With its peer gone the sync must give up promptly, not hang.
            let completed = peer.wait(Duration::from_secs(30)).success();
            let error = if completed {
                String::new()
            } else {
                error_summary(&peer.stderr())
            };
            let connected = completed || !error.contains("could not connect");
            (completed, connected, error)
        }
    }
}

#[test]
fn killed_during_a_large_import() {
    const RECORDS: u64 = 3_000;
    let seed = seed_from_env();
    println!("seed {seed} (replay: TUSACH_SEED={seed} {REPLAY} killed_during_a_large_import)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let file = folder.path().join("province.mrc");
    let province = SampleLibrary::new(7).marc_file(RECORDS);
    std::fs::write(&file, province).expect("the MARC file is written");
    let file = file.to_string_lossy().into_owned();
    let network = Scope::new("network").expect("a valid scope name");
    let mut outcomes = Vec::new();
    // The last round is never killed: it shows what "all" is.
    let rounds = rounds().min(4);
    for round in 0..=rounds {
        let data = folder.path().join(format!("library-{round}"));
        let device = device_id_of(&data);
        let mut import = Tusach::spawn(&data, &["import", "marc", &file]);
        if round < rounds {
            thread::sleep(Duration::from_millis(rng.u64(200..=5_000)));
            import.kill_hard();
        } else {
            let status = import.wait_timeout(Duration::from_secs(600));
            assert!(
                status.is_some_and(|s| s.success()),
                "the import that was not killed failed"
            );
        }
        let mut store = open_unused(&data, &device);
        let mut in_documents: i64 = 0;
        store
            .scan(&network, "records", |_, _| in_documents += 1)
            .expect("the records can be read");
        let searchable =
            tusach::db::record_count(store.connection()).expect("the search table is counted");
        assert_eq!(
            in_documents, searchable,
            "round {round}: {in_documents} records in the documents, {searchable} searchable"
        );
        outcomes.push(in_documents);
    }
    let all = *outcomes.last().expect("a last round");
    assert!(
        all > RECORDS as i64 / 2,
        "the clean import made {all} records"
    );
    for (round, found) in outcomes.iter().enumerate() {
        assert!(
            *found == 0 || *found == all,
            "round {round}: a killed import left {found} of {all} records"
        );
    }
    println!("killed imports left {outcomes:?} records");
}

#[test]
fn killed_during_a_bootstrap() {
    const RECORDS: u64 = 8_000;
    let seed = seed_from_env();
    println!("seed {seed} (replay: TUSACH_SEED={seed} {REPLAY} killed_during_a_bootstrap)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let folders = tempfile::tempdir().expect("a temporary folder");
    let hub = folders.path().join("hub");
    let records = RECORDS.to_string();
    run_ok(
        &hub,
        &[
            "dev",
            "seed",
            "--records",
            &records,
            "--per-commit",
            "500",
            "--relaxed",
        ],
        FINISH,
    );
    // Round 0 is not cut: it shows how long a bootstrap takes here. Every later round starts
    // a new replica and kills it at a random moment within that time.
    let mut bootstrap_time = Duration::ZERO;
    let mut held = Vec::new();
    let mut last = None;
    for round in 0..=rounds().min(6) {
        let appliance = folders.path().join(format!("appliance-{round}"));
        tusach_tests::network::enrol(&hub, &appliance, None);
        let device = device_id_of(&appliance);
        let started = Instant::now();
        let cut = bootstrap(&hub, &appliance, round, |receiver| {
            if round == 0 {
                assert!(
                    receiver.wait(Duration::from_secs(120)).success(),
                    "the bootstrap that was not cut failed\n{}",
                    receiver.diagnostics()
                );
                false
            } else {
                let delay = rng.u64(0..=bootstrap_time.as_millis() as u64 * 6 / 5);
                receiver.wait_timeout(Duration::from_millis(delay));
                receiver.kill_hard()
            }
        });
        if round == 0 {
            bootstrap_time = started.elapsed();
        }
        held.push((cut, check_tables_match(&appliance, &device, round)));
        last = Some((appliance, device));
    }
    println!(
        "an uncut bootstrap took {:.1} s; (cut, records held) per round: {held:?}",
        bootstrap_time.as_secs_f64()
    );
    assert_eq!(
        held[0].1, RECORDS as usize,
        "the uncut bootstrap ended short"
    );

    // The last cut replica finishes its bootstrap with one clean sync.
    let (appliance, device) = last.expect("a last round");
    bootstrap(&hub, &appliance, 99, |receiver| {
        assert!(
            receiver.wait(Duration::from_secs(120)).success(),
            "resuming the cut bootstrap failed\n{}",
            receiver.diagnostics()
        );
        false
    });
    assert_eq!(
        check_tables_match(&appliance, &device, 99),
        RECORDS as usize
    );
    // (Each enrolment wrote to the hub too, so its digest is taken only now.)
    let hub_digest = open_unused(&hub, &device_id_of(&hub))
        .content_digest()
        .expect("the hub's digest");
    assert_eq!(
        open_unused(&appliance, &device)
            .content_digest()
            .expect("the appliance's digest"),
        hub_digest,
        "the resumed replica does not hold what the hub holds"
    );
    // The engineer's tool says the same.
    let said = run_ok(&appliance, &["dev", "check-tables"], FINISH);
    assert!(
        said.stdout
            .iter()
            .any(|line| line.starts_with("query tables match the documents (8000 records)")),
        "{:?}",
        said.stdout
    );
}

/// One sync of `appliance` from the hub; `finish` waits for it or kills it and says whether
/// it cut the session.
fn bootstrap(
    hub: &Path,
    appliance: &Path,
    round: u64,
    finish: impl FnOnce(&mut Tusach) -> bool,
) -> bool {
    let mut listener = Tusach::spawn(
        hub,
        &["sync", "--listen", "127.0.0.1:0", "--timeout-secs", "10"],
    );
    let addr = listener.listening_address();
    let mut receiver = Tusach::spawn(
        appliance,
        &["sync", "--peer", &addr, "--json", "--timeout-secs", "10"],
    );
    let cut = finish(&mut receiver);
    assert!(
        listener.terminate(Duration::from_secs(10)),
        "round {round}: the hub listener did not stop on SIGTERM\n{}",
        listener.diagnostics()
    );
    cut
}

/// Whatever a kill cut, the documents and the catalogue's query tables agree row for row, as
/// a rebuild from the documents would write them. Returns the records held.
fn check_tables_match(appliance: &Path, device: &DeviceId, round: u64) -> usize {
    let mut store = open_unused(appliance, device);
    let check = tusach::search::check_index(&mut store).expect("the tables can be checked");
    assert!(
        check.problems.is_empty(),
        "round {round}: {} records in the documents, and the query tables differ:\n{}",
        check.records,
        check.problems.join("\n")
    );
    check.records
}

fn feed_len(data: &Path, device: &DeviceId) -> i64 {
    open_unused(data, device)
        .feed_len()
        .expect("the feed can be counted")
}

/// The device id `tusach id` prints for a data folder (made on first use).
fn device_id_of(data: &Path) -> DeviceId {
    let out = run_ok(data, &["id"], FINISH);
    let line = out.stdout.first().map(String::as_str).unwrap_or_default();
    DeviceId::parse_hex(line).unwrap_or_else(|| panic!("`tusach id` printed {:?}", out.stdout))
}

/// Opens a data folder's store in this process. Only call when no `tusach` process uses the
/// folder. Checks what every reopen after a crash must show: a sound file, and the same
/// device (a crash must not look like a copied or restored database).
fn open_unused(data: &Path, device: &DeviceId) -> Store {
    let options = StoreOptions {
        // Every shard stays loaded while the test reads all records.
        cache_shards: 64,
        ..StoreOptions::default()
    };
    let path = data.join("tusach.db");
    let store = Store::open_with(&path, options)
        .unwrap_or_else(|e| panic!("{} does not open after the crash: {e}", path.display()));
    let integrity = store.integrity_check().expect("the integrity check runs");
    assert_eq!(
        integrity,
        "ok",
        "{}: integrity check failed",
        path.display()
    );
    assert!(
        !store.identity_renewed(),
        "{}: reopening after a crash took a new identity",
        path.display()
    );
    assert_eq!(&store.device_id(), device, "{}", path.display());
    store
}

/// Every catalogue record's id with its title ("" if it has none).
fn titles(store: &mut Store) -> BTreeMap<String, String> {
    let mut titles = BTreeMap::new();
    let network = Scope::new("network").expect("a valid scope name");
    store
        .scan(&network, "records", |id, entity| {
            let title = match entity.get("title") {
                Some(Value::Str(title)) => title.clone(),
                _ => String::new(),
            };
            titles.insert(id.to_owned(), title);
        })
        .expect("the records can be read");
    titles
}

/// Fails unless every record in `ids` is in the store with a title.
fn expect_records(store: &mut Store, ids: &[String], side: &str, when: &str) {
    let network = Scope::new("network").expect("a valid scope name");
    for id in ids {
        let record = store
            .get(&EntityKey::new(&network, "records", id.as_str()))
            .unwrap_or_else(|e| panic!("{when}: the {side} cannot read record {id}: {e}"));
        let title = record.as_ref().and_then(|r| r.get("title"));
        assert!(
            matches!(title, Some(Value::Str(t)) if !t.is_empty()),
            "{when}: the {side} lost acknowledged record {id}: {record:?}"
        );
    }
}

/// The newest acknowledged id and a few others at random.
fn sample(rng: &mut fastrand::Rng, ids: &[String]) -> Vec<String> {
    let mut picked: Vec<String> = ids.last().into_iter().cloned().collect();
    for _ in 0..8.min(ids.len()) {
        picked.push(ids[rng.usize(..ids.len())].clone());
    }
    picked
}

/// How many `ack PREFIX-N` lines a write stream printed; they must come in order from 0.
fn acknowledged(lines: &[String], prefix: &str, process: &Tusach) -> u64 {
    let mut count = 0;
    for line in lines {
        let expected = format!("ack {prefix}-{count}");
        assert_eq!(
            line,
            &expected,
            "write-stream printed something unexpected\n{}",
            process.diagnostics()
        );
        count += 1;
    }
    count
}

/// Runs a write stream of `count` records to its end; returns the acknowledged ids.
fn write_stream(data: &Path, prefix: &str, count: u64) -> Vec<String> {
    let out = run_ok(
        data,
        &[
            "dev",
            "write-stream",
            "--prefix",
            prefix,
            "--count",
            &count.to_string(),
        ],
        FINISH,
    );
    let ids: Vec<String> = out
        .stdout
        .iter()
        .filter_map(|line| line.strip_prefix("ack ").map(str::to_owned))
        .collect();
    assert_eq!(
        ids.len() as u64,
        count,
        "write-stream output: {:?}",
        out.stdout
    );
    ids
}

/// The error chain `tusach` printed, on one line and without any backtrace.
fn error_summary(stderr: &str) -> String {
    let chain: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("Error:"))
        .take_while(|l| !l.starts_with("Stack backtrace:"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Caused by:")
        .collect();
    if chain.is_empty() {
        String::new()
    } else {
        format!("({})", chain.join(" / "))
    }
}
