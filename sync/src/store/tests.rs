//! Store unit tests on real SQLite files.

use super::*;

fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(name)).expect("open store")
}

fn network() -> Scope {
    Scope::new("network").expect("scope")
}

#[test]
fn a_committed_entity_reads_back_after_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = EntityKey::new(&network(), "records", "rec-1");
    {
        let mut store = open(&dir, "a.db");
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "title", "Truyện Kiều")
            .put(&key, "year", 1820)
            .put(&key, "authors", Value::List(vec!["Nguyễn Du".into()]))
            .put(&key, "loans", Value::Counter(0));
        let changes = store.commit(&batch).expect("commit");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, EntityChangeKind::Upserted);
        let mut more = WriteBatch::new();
        more.increment(&key, "loans", 2)
            .list_insert(&key, "authors", 1, "Tố Hữu");
        store.commit(&more).expect("second commit");
    }
    let mut store = open(&dir, "a.db");
    assert!(!store.identity_renewed());
    let entity = store.get(&key).expect("get").expect("exists");
    assert_eq!(entity["title"], Value::Str("Truyện Kiều".into()));
    assert_eq!(entity["year"], Value::Int(1820));
    assert_eq!(entity["loans"], Value::Counter(2));
    assert_eq!(
        entity["authors"],
        Value::List(vec!["Nguyễn Du".into(), "Tố Hữu".into()])
    );
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn a_failed_edit_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&dir, "a.db");
    let key = EntityKey::new(&network(), "records", "rec-1");
    let mut batch = WriteBatch::new();
    batch.put(&key, "title", "A");
    store.commit(&batch).expect("commit");
    let feed = store.feed_len().expect("feed");

    let mut bad = WriteBatch::new();
    bad.put(&key, "title", "B").increment(&key, "title", 1);
    assert!(matches!(
        store.commit(&bad),
        Err(StoreError::InvalidEdit(_))
    ));
    assert_eq!(store.feed_len().expect("feed"), feed);
    let entity = store.get(&key).expect("get").expect("exists");
    assert_eq!(entity["title"], Value::Str("A".into()));
}

#[test]
fn a_copied_database_takes_a_new_identity_for_new_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original_id = {
        let mut store = open(&dir, "a.db");
        let mut batch = WriteBatch::new();
        batch.put(&EntityKey::new(&network(), "records", "r"), "t", "x");
        store.commit(&batch).expect("commit");
        store.device_id()
    };
    std::fs::copy(dir.path().join("a.db"), dir.path().join("b.db")).expect("copy");
    let copy = open(&dir, "b.db");
    assert!(copy.identity_renewed());
    assert_ne!(copy.device_id(), original_id);
    assert_eq!(copy.identity_generations().expect("count"), 2);
    let original = open(&dir, "a.db");
    assert_eq!(original.device_id(), original_id);
}

#[test]
fn many_edits_compact_into_a_snapshot_and_still_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = EntityKey::new(&network(), "records", "rec-1");
    {
        let mut store = Store::open_with(
            &dir.path().join("a.db"),
            StoreOptions {
                durability: Durability::Relaxed,
                cache_shards: 1,
            },
        )
        .expect("open");
        for n in 0..600 {
            let mut batch = WriteBatch::new();
            batch.put(&key, "title", format!("Tập {n}"));
            store.commit(&batch).expect("commit");
        }
        let chunks: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .expect("count");
        assert!(
            chunks < 300,
            "compaction keeps chunks bounded, found {chunks}"
        );
    }
    let mut store = open(&dir, "a.db");
    let entity = store.get(&key).expect("get").expect("exists");
    assert_eq!(entity["title"], Value::Str("Tập 599".into()));
}
