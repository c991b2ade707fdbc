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

/// Keeps a query table of titles, as the domain's search tables will, inside the store's
/// transaction; fails on demand to prove a refused change leaves nothing behind.
struct TitleIndex {
    fail_on: Option<String>,
}

impl ChangeObserver for TitleIndex {
    fn entities_changed(
        &mut self,
        tx: &Transaction<'_>,
        changes: &[EntityChange],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        for change in changes {
            if self.fail_on.as_deref() == Some(change.key.id.as_str()) {
                return Err("the index refuses this id".into());
            }
            let origin = format!("{:?}", change.origin);
            match change.kind {
                EntityChangeKind::Upserted => tx.execute(
                    "INSERT OR REPLACE INTO titles (id, origin) VALUES (?1, ?2)",
                    rusqlite::params![change.key.id, origin],
                )?,
                EntityChangeKind::Deleted => {
                    tx.execute("DELETE FROM titles WHERE id = ?1", [&change.key.id])?
                }
            };
        }
        Ok(())
    }
}

fn indexed_store(dir: &tempfile::TempDir, name: &str, fail_on: Option<&str>) -> Store {
    let mut store = open(dir, name);
    store
        .connection()
        .execute_batch("CREATE TABLE IF NOT EXISTS titles (id TEXT PRIMARY KEY, origin TEXT)")
        .expect("query table");
    store.set_observer(Box::new(TitleIndex {
        fail_on: fail_on.map(str::to_owned),
    }));
    store
}

fn indexed(store: &Store) -> Vec<(String, String)> {
    let mut stmt = store
        .connection()
        .prepare("SELECT id, origin FROM titles ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn the_observer_sees_local_and_merged_changes_in_the_same_transaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = indexed_store(&dir, "a.db", None);
    let mut b = indexed_store(&dir, "b.db", None);
    let one = EntityKey::new(&network(), "records", "one");
    let two = EntityKey::new(&network(), "records", "two");
    let mut batch = WriteBatch::new();
    batch.put(&one, "title", "Một").put(&two, "title", "Hai");
    a.commit(&batch).expect("commit");
    assert_eq!(
        indexed(&a),
        vec![
            ("one".into(), "Local".into()),
            ("two".into(), "Local".into())
        ]
    );

    let mut plan = a
        .plan_for(&b.knowledge(|_| true).expect("k"), |_| true)
        .expect("plan");
    while let Some(batch) = a.next_batch(&mut plan, 1 << 20).expect("batch") {
        b.apply_batch(&batch).expect("apply");
    }
    assert_eq!(
        indexed(&b),
        vec![
            ("one".into(), "Merged".into()),
            ("two".into(), "Merged".into())
        ]
    );

    let mut delete = WriteBatch::new();
    delete.delete(&one);
    a.commit(&delete).expect("delete");
    let mut plan = a
        .plan_for(&b.knowledge(|_| true).expect("k"), |_| true)
        .expect("plan");
    while let Some(batch) = a.next_batch(&mut plan, 1 << 20).expect("batch") {
        b.apply_batch(&batch).expect("apply");
    }
    assert_eq!(indexed(&b), vec![("two".into(), "Merged".into())]);
    assert_eq!(b.get(&one).expect("get"), None);
}

#[test]
fn a_change_the_observer_refuses_is_not_written_anywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut source = open(&dir, "source.db");
    let mut store = indexed_store(&dir, "a.db", Some("bad"));
    let good = EntityKey::new(&network(), "records", "good");
    let bad = EntityKey::new(&network(), "records", "bad");

    let mut batch = WriteBatch::new();
    batch.put(&good, "title", "Tốt").put(&bad, "title", "Xấu");
    assert!(matches!(store.commit(&batch), Err(StoreError::Observer(_))));
    assert_eq!(store.get(&good).expect("get"), None);
    assert_eq!(store.feed_len().expect("feed"), 0);
    assert!(indexed(&store).is_empty());

    // The same for a merged batch: nothing of it lands, and the store stays usable.
    source.commit(&batch).expect("source commit");
    let mut plan = source
        .plan_for(&Knowledge::default(), |_| true)
        .expect("plan");
    let merged = source
        .next_batch(&mut plan, 1 << 20)
        .expect("batch")
        .expect("some");
    assert!(matches!(
        store.apply_batch(&merged),
        Err(StoreError::Observer(_))
    ));
    assert_eq!(store.get(&good).expect("get"), None);
    assert_eq!(store.feed_len().expect("feed"), 0);
    let mut fine = WriteBatch::new();
    fine.put(&good, "title", "Tốt");
    store.commit(&fine).expect("a later commit works");
    assert_eq!(indexed(&store), vec![("good".into(), "Local".into())]);
}

#[test]
fn a_second_store_on_the_same_file_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open(&dir, "a.db");
    match Store::open(&dir.path().join("a.db")) {
        Err(StoreError::InUse(path)) => assert_eq!(path, dir.path().join("a.db")),
        Err(other) => panic!("expected InUse, got {other}"),
        Ok(_) => panic!("two stores opened the same database"),
    }
    drop(first);
    let again = open(&dir, "a.db");
    assert!(!again.identity_renewed());
}

/// Everything `from` has that `to` lacks, as a sync session would carry it.
fn send(from: &mut Store, to: &mut Store) {
    let known = to.knowledge(|_| true).expect("knowledge");
    let mut plan = from.plan_for(&known, |_| true).expect("plan");
    while let Some(batch) = from.next_batch(&mut plan, 1 << 20).expect("batch") {
        to.apply_batch(&batch).expect("apply");
    }
}

#[test]
fn an_entity_created_on_two_replicas_while_apart_keeps_both_sides_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = open(&dir, "a.db");
    let mut b = open(&dir, "b.db");
    let day = EntityKey::new(&network(), "visits", "2026-03-02");
    let mut at_a = WriteBatch::new();
    at_a.put(&day, "note", "mưa to")
        .increment(&day, "desk-a", 12);
    a.commit(&at_a).expect("commit at A");
    let mut at_b = WriteBatch::new();
    at_b.increment(&day, "desk-b", 7)
        .put(&day, "tags", Value::List(vec!["hội chợ".into()]));
    b.commit(&at_b).expect("commit at B");
    send(&mut a, &mut b);
    send(&mut b, &mut a);

    // Both maps survive the merge; each replica shows their union.
    let expected = Entity::from([
        ("desk-a".to_owned(), Value::Counter(12)),
        ("desk-b".to_owned(), Value::Counter(7)),
        ("note".to_owned(), Value::Str("mưa to".into())),
        ("tags".to_owned(), Value::List(vec!["hội chợ".into()])),
    ]);
    assert_eq!(a.get(&day).expect("get"), Some(expected.clone()));
    assert_eq!(b.get(&day).expect("get"), Some(expected));

    // Later edits reach the field wherever it lives, on either side.
    let mut more = WriteBatch::new();
    more.increment(&day, "desk-b", 1)
        .increment(&day, "desk-a", 1)
        .list_insert(&day, "tags", 1, "mất điện");
    a.commit(&more).expect("commit after merge");
    send(&mut a, &mut b);
    let merged = b.get(&day).expect("get").expect("exists");
    assert_eq!(merged["desk-a"], Value::Counter(13));
    assert_eq!(merged["desk-b"], Value::Counter(8));
    assert_eq!(
        merged["tags"],
        Value::List(vec!["hội chợ".into(), "mất điện".into()])
    );
    assert_eq!(
        a.content_digest().expect("digest"),
        b.content_digest().expect("digest")
    );
}

/// Records what the observer is told.
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<EntityChange>>>);

impl ChangeObserver for Recorder {
    fn entities_changed(
        &mut self,
        _tx: &Transaction<'_>,
        changes: &[EntityChange],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.lock().expect("lock").extend(changes.iter().cloned());
        Ok(())
    }
}

#[test]
fn a_batch_that_edits_an_entity_in_several_places_tells_the_observer_once_with_its_end_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&dir, "a.db");
    let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    store.set_observer(Box::new(Recorder(told.clone())));
    let key = |id: &str| EntityKey::new(&network(), "records", id);
    let mut first = WriteBatch::new();
    first.put(&key("old"), "title", "Cũ");
    store.commit(&first).expect("first");
    told.lock().expect("lock").clear();

    // Runs of edits to one entity, interleaved with others across many shards; an entity
    // deleted and written again in the same batch.
    let mut batch = WriteBatch::new();
    for n in 0..200 {
        batch.put(&key(&format!("r{n}")), "title", format!("Sách {n}"));
    }
    batch.put(&key("r7"), "year", 1999);
    batch.delete(&key("old")).put(&key("old"), "title", "Mới");
    batch.put(&key("r7"), "authors", Value::List(vec!["Tô Hoài".into()]));
    let returned = store.commit(&batch).expect("commit");

    let told = told.lock().expect("lock").clone();
    assert_eq!(told.len(), 201, "each entity once");
    let r7 = told.iter().find(|c| c.key == key("r7")).expect("r7 told");
    let fields = r7.fields.as_ref().expect("fields");
    assert_eq!(fields["title"], Value::Str("Sách 7".into()));
    assert_eq!(fields["year"], Value::Int(1999));
    assert_eq!(fields["authors"], Value::List(vec!["Tô Hoài".into()]));
    let old = told.iter().find(|c| c.key == key("old")).expect("old told");
    assert_eq!(old.kind, EntityChangeKind::Upserted);
    assert_eq!(
        old.fields.as_ref().expect("fields")["title"],
        Value::Str("Mới".into())
    );
    assert_eq!(returned.len(), 201);
    assert!(
        returned.windows(2).all(|w| w[0].key < w[1].key),
        "key order"
    );
    assert_eq!(
        store.get(&key("r7")).expect("get").expect("r7")["year"],
        Value::Int(1999)
    );
}
