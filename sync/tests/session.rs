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
