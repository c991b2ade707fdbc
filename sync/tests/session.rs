//! Sessions between real stores over the in-memory link: what is sent, what is not, and that
//! replicas end up identical.

use std::sync::Arc;

use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::store::Durability;
use tusach_sync::transport::memory::{self, FaultyLink};
use tusach_sync::{
    AllowAll, EntityKey, Role, Scope, ScopePolicy, Session, SessionReport, Store, StoreOptions,
    WriteBatch,
};

struct Replica {
    store: Store,
    _dir: tempfile::TempDir,
}

fn replica() -> Replica {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_with(
        &dir.path().join("store.db"),
        StoreOptions {
            durability: Durability::Relaxed,
            cache_shards: 8,
        },
    )
    .expect("open");
    Replica { store, _dir: dir }
}

fn network() -> Scope {
    Scope::new("network").expect("scope")
}

fn write_records(store: &mut Store, range: std::ops::Range<u32>, title: &str) {
    for n in range {
        let key = EntityKey::new(&network(), "records", format!("rec-{n}"));
        let mut batch = WriteBatch::new();
        batch.put(&key, "title", format!("{title} {n}"));
        store.commit(&batch).expect("commit");
    }
}

fn sync(a: &mut Replica, b: &mut Replica) -> (SessionReport, SessionReport) {
    let (mut sa, mut sb) = session_pair(a, b, &SessionOptions::default());
    let outcome = memory::run(
        &mut a.store,
        &mut sa,
        &mut b.store,
        &mut sb,
        &FaultyLink::perfect(),
    );
    assert!(outcome.both_finished(), "{outcome:?}");
    (sa.report().clone(), sb.report().clone())
}

#[test]
fn records_reach_a_new_peer_and_a_second_sync_sends_nothing() {
    let mut a = replica();
    let mut b = replica();
    write_records(&mut a.store, 0..200, "Truyện Kiều");
    let (ra, _) = sync(&mut a, &mut b);
    assert!(ra.batches_sent >= 1);
    assert_eq!(
        a.store.content_digest().expect("digest"),
        b.store.content_digest().expect("digest")
    );
    let (ra, rb) = sync(&mut a, &mut b);
    assert_eq!((ra.batches_sent, rb.batches_sent), (0, 0));
    assert_eq!(ra.received.new_changes + rb.received.new_changes, 0);
}

#[test]
fn concurrent_edits_on_both_sides_converge() {
    let mut a = replica();
    let mut b = replica();
    write_records(&mut a.store, 0..20, "Dế Mèn");
    sync(&mut a, &mut b);
    write_records(&mut a.store, 0..10, "sửa ở A");
    write_records(&mut b.store, 5..15, "sửa ở B");
    sync(&mut b, &mut a);
    assert_eq!(
        a.store.content_digest().expect("digest"),
        b.store.content_digest().expect("digest")
    );
}

#[test]
fn a_change_that_arrived_by_another_path_is_not_sent_again() {
    let mut a = replica();
    let mut hub = replica();
    let mut laptop = replica();
    write_records(&mut a.store, 0..50, "Chí Phèo");
    sync(&mut laptop, &mut a); // the district laptop visits the commune
    sync(&mut laptop, &mut hub); // and brings the changes to the hub
    let (ra, rhub) = sync(&mut a, &mut hub); // later the commune reaches the hub directly
    assert_eq!(ra.changes_sent, 0, "{ra:?}");
    assert_eq!(rhub.changes_sent, 0, "{rhub:?}");
    assert_eq!(ra.received.duplicates + rhub.received.duplicates, 0);
}

#[test]
fn edits_after_a_sync_travel_as_individual_changes() {
    let mut a = replica();
    let mut b = replica();
    write_records(&mut a.store, 0..300, "Số đỏ");
    sync(&mut a, &mut b);
    write_records(&mut a.store, 0..5, "Số đỏ, bản sửa");
    let (ra, _) = sync(&mut a, &mut b);
    assert_eq!(ra.changes_sent, 5);
    assert_eq!(
        a.store.content_digest().expect("digest"),
        b.store.content_digest().expect("digest")
    );
}

fn session_pair(a: &Replica, b: &Replica, options: &SessionOptions) -> (Session, Session) {
    let policy: Arc<dyn ScopePolicy> = Arc::new(AllowAll);
    let sa =
        Session::new(Role::Initiator, &a.store, policy.clone(), options.clone()).expect("session");
    let sb = Session::new(Role::Responder, &b.store, policy, options.clone()).expect("session");
    (sa, sb)
}

/// What one cut-and-resume run observed.
struct Resumed {
    cut: u64,
    total_bytes: u64,
    applied_before_cut: usize,
    resumed_sender: SessionReport,
    resumed_receiver: SessionReport,
}

/// Syncs `setup()`'s sender into its receiver, cut at `pieces - 1` points spread over the whole
/// exchange (each on a fresh setup), then resumed over a perfect link; checks that both end
/// identical and hands each run to `check`.
fn cut_and_resume(
    setup: impl Fn() -> (Replica, Replica),
    options: &SessionOptions,
    pieces: u64,
    max_chunk: usize,
    check: impl Fn(&Resumed),
) {
    use tusach_sync::transport::memory::Fault;
    let run = |sender: &mut Replica, receiver: &mut Replica, link: &FaultyLink| {
        let (mut sa, mut sb) = session_pair(sender, receiver, options);
        let outcome = memory::run(
            &mut sender.store,
            &mut sa,
            &mut receiver.store,
            &mut sb,
            link,
        );
        (outcome, sa.report().clone(), sb.report().clone())
    };
    let total_bytes = {
        let (mut sender, mut receiver) = setup();
        let (outcome, sent, _) = run(&mut sender, &mut receiver, &FaultyLink::perfect());
        assert!(outcome.both_finished());
        assert!(sent.batches_sent > 5, "the test needs several batches");
        outcome.bytes_delivered
    };
    for cut in (1..pieces).map(|i| total_bytes * i / pieces) {
        let (mut sender, mut receiver) = setup();
        let link = FaultyLink {
            faults: vec![Fault::CutAfter(cut)],
            max_chunk,
            max_delay: 0,
            seed: cut,
        };
        let (outcome, _, received) = run(&mut sender, &mut receiver, &link);
        assert!(outcome.cut, "cut at {cut} of {total_bytes}");
        let (outcome, resumed_sender, resumed_receiver) =
            run(&mut sender, &mut receiver, &FaultyLink::perfect());
        assert!(outcome.both_finished(), "resume after a cut at {cut}");
        assert_eq!(
            sender.store.content_digest().expect("digest"),
            receiver.store.content_digest().expect("digest"),
            "cut at {cut}"
        );
        check(&Resumed {
            cut,
            total_bytes,
            applied_before_cut: received.received.new_changes,
            resumed_sender,
            resumed_receiver,
        });
    }
}

#[test]
fn after_a_cut_at_any_point_nothing_acknowledged_is_sent_again() {
    let edits = 120;
    // A commune edits 120 records its hub already has; the link drops somewhere.
    let setup = || {
        let mut commune = replica();
        let mut hub = replica();
        write_records(&mut commune.store, 0..edits, "Nhật ký trong tù");
        sync(&mut commune, &mut hub);
        write_records(&mut commune.store, 0..edits, "bản sửa");
        (commune, hub)
    };
    let options = SessionOptions {
        batch_bytes: 2_000,
        window: 2,
        ..SessionOptions::default()
    };
    cut_and_resume(setup, &options, 25, 97, |run| {
        assert_eq!(
            run.resumed_receiver.received.duplicates, 0,
            "cut at {}: acknowledged changes came again",
            run.cut
        );
        assert_eq!(
            run.applied_before_cut + run.resumed_sender.changes_sent,
            edits as usize,
            "cut at {}: the resumed session sent exactly the rest",
            run.cut
        );
    });
}

#[test]
fn a_bootstrap_cut_midway_resumes_without_sending_applied_shards_again() {
    let setup = || {
        let mut hub = replica();
        write_records(&mut hub.store, 0..400, "Truyện cổ tích Việt Nam");
        (hub, replica())
    };
    // Whole documents may fill eight budgets: 500 bytes makes batches of about 4 KB.
    let options = SessionOptions {
        batch_bytes: 500,
        window: 2,
        ..SessionOptions::default()
    };
    cut_and_resume(setup, &options, 10, 211, |run| {
        assert_eq!(
            run.resumed_receiver.received.duplicates, 0,
            "cut at {} of {}: shards applied before the cut were sent again",
            run.cut, run.total_bytes
        );
    });
}

/// A 9600-baud line (960 bytes a second) that drops every 12 seconds: every attempt commits
/// something, nothing committed crosses twice, and the whole costs little more than one
/// unbroken session on the same line.
#[test]
fn a_slow_line_cut_every_twelve_seconds_makes_progress_on_every_attempt() {
    use tusach_sync::transport::memory::SlowLink;
    let setup = || {
        let mut hub = replica();
        for n in 0..1000u64 {
            let key = EntityKey::new(&network(), "records", format!("rec-{n}"));
            let mut batch = WriteBatch::new();
            // Varied text, so the line carries what zstd cannot fold away.
            let noise = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            batch.put(
                &key,
                "title",
                format!("Truyện Kiều {noise:x} {:x}", noise >> 7),
            );
            hub.store.commit(&batch).expect("commit");
        }
        (hub, replica())
    };
    let attempt = |hub: &mut Replica, commune: &mut Replica, cut: Option<u64>| {
        let (mut sa, mut sb) = session_pair(commune, hub, &SessionOptions::default());
        let outcome = memory::run_slow(
            &mut commune.store,
            &mut sa,
            &mut hub.store,
            &mut sb,
            SlowLink {
                bytes_per_second: 960,
                cut_after_millis: cut,
            },
        );
        (outcome, sa.report().clone(), sb.report().clone())
    };
    let clean_bytes = {
        let (mut hub, mut commune) = setup();
        let (outcome, received, sent) = attempt(&mut hub, &mut commune, None);
        assert!(outcome.both_finished(), "{outcome:?}");
        assert!(!sent.whole_documents, "a slow line travels in feed order");
        assert!(
            sent.largest_batch <= 9 * 1024,
            "a batch of {} bytes takes more than 10 s at 960 B/s",
            sent.largest_batch
        );
        assert_eq!(received.received.new_changes, 1000);
        outcome.bytes_delivered
    };
    let (mut hub, mut commune) = setup();
    let mut total = 0u64;
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts < 60, "no end after {attempts} attempts");
        let (outcome, received, _) = attempt(&mut hub, &mut commune, Some(12_000));
        total += outcome.bytes_delivered;
        assert_eq!(
            received.received.duplicates, 0,
            "attempt {attempts}: committed changes crossed again"
        );
        if outcome.both_finished() {
            break;
        }
        assert!(outcome.cut);
        assert!(
            received.received.new_changes > 0,
            "attempt {attempts} committed nothing in 12 s"
        );
    }
    println!("{attempts} attempts, {total} bytes; unbroken: {clean_bytes} bytes");
    assert!(attempts > 3, "the test needs several cuts ({attempts})");
    assert_eq!(
        hub.store.content_digest().expect("digest"),
        commune.store.content_digest().expect("digest")
    );
    assert!(
        total as f64 <= 1.3 * clean_bytes as f64,
        "{total} bytes over {attempts} attempts against {clean_bytes} unbroken"
    );
}
