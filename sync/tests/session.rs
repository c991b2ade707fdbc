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
    let policy: Arc<dyn ScopePolicy> = Arc::new(AllowAll);
    let mut sa = Session::new(
        Role::Initiator,
        &a.store,
        policy.clone(),
        SessionOptions::default(),
    )
    .expect("session");
    let mut sb = Session::new(Role::Responder, &b.store, policy, SessionOptions::default())
        .expect("session");
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

#[test]
fn after_a_cut_at_any_point_nothing_acknowledged_is_sent_again() {
    use tusach_sync::transport::memory::Fault;
    let small_batches = SessionOptions {
        batch_bytes: 2_000,
        window: 2,
    };
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
    let total_bytes = {
        let (mut commune, mut hub) = setup();
        let (mut sa, mut sb) = session_pair(&commune, &hub, &small_batches);
        let outcome = memory::run(
            &mut commune.store,
            &mut sa,
            &mut hub.store,
            &mut sb,
            &FaultyLink::perfect(),
        );
        assert!(outcome.both_finished());
        assert!(
            sa.report().batches_sent > 5,
            "the test needs several batches"
        );
        outcome.bytes_delivered
    };
    for cut in (1..25).map(|i| total_bytes * i / 25) {
        let (mut commune, mut hub) = setup();
        let (mut sa, mut sb) = session_pair(&commune, &hub, &small_batches);
        let link = FaultyLink {
            faults: vec![Fault::CutAfter(cut)],
            max_chunk: 97,
            max_delay: 0,
            seed: cut,
        };
        let outcome = memory::run(&mut commune.store, &mut sa, &mut hub.store, &mut sb, &link);
        assert!(outcome.cut, "cut at {cut} of {total_bytes}");
        let applied_before_cut = sb.report().received.new_changes;

        let (mut sa, mut sb) = session_pair(&commune, &hub, &small_batches);
        let outcome = memory::run(
            &mut commune.store,
            &mut sa,
            &mut hub.store,
            &mut sb,
            &FaultyLink::perfect(),
        );
        assert!(outcome.both_finished(), "resume after a cut at {cut}");
        assert_eq!(
            sb.report().received.duplicates,
            0,
            "cut at {cut}: acknowledged changes came again"
        );
        assert_eq!(
            applied_before_cut + sa.report().changes_sent,
            edits as usize,
            "cut at {cut}: the resumed session sent exactly the rest"
        );
        assert_eq!(
            commune.store.content_digest().expect("digest"),
            hub.store.content_digest().expect("digest")
        );
    }
}

#[test]
fn a_bootstrap_cut_midway_resumes_without_sending_applied_shards_again() {
    use tusach_sync::transport::memory::Fault;
    let small_batches = SessionOptions {
        batch_bytes: 4_000,
        window: 2,
    };
    let setup = || {
        let mut hub = replica();
        write_records(&mut hub.store, 0..400, "Truyện cổ tích Việt Nam");
        (hub, replica())
    };
    let total_bytes = {
        let (mut hub, mut fresh) = setup();
        let (mut sa, mut sb) = session_pair(&hub, &fresh, &small_batches);
        let outcome = memory::run(
            &mut hub.store,
            &mut sa,
            &mut fresh.store,
            &mut sb,
            &FaultyLink::perfect(),
        );
        assert!(outcome.both_finished());
        assert!(
            sa.report().batches_sent > 5,
            "the test needs several batches"
        );
        outcome.bytes_delivered
    };
    for cut in (1..10).map(|i| total_bytes * i / 10) {
        let (mut hub, mut fresh) = setup();
        let (mut sa, mut sb) = session_pair(&hub, &fresh, &small_batches);
        let link = FaultyLink {
            faults: vec![Fault::CutAfter(cut)],
            max_chunk: 211,
            max_delay: 0,
            seed: cut,
        };
        let outcome = memory::run(&mut hub.store, &mut sa, &mut fresh.store, &mut sb, &link);
        assert!(outcome.cut);
        let (mut sa, mut sb) = session_pair(&hub, &fresh, &small_batches);
        let outcome = memory::run(
            &mut hub.store,
            &mut sa,
            &mut fresh.store,
            &mut sb,
            &FaultyLink::perfect(),
        );
        assert!(outcome.both_finished(), "resume after a cut at {cut}");
        assert_eq!(
            sb.report().received.duplicates,
            0,
            "cut at {cut} of {total_bytes}: shards applied before the cut were sent again"
        );
        assert_eq!(
            hub.store.content_digest().expect("digest"),
            fresh.store.content_digest().expect("digest")
        );
    }
}
