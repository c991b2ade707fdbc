//! Record editing, history, merging and the catalogue's exceptions on real stores, with two
//! desks diverging while apart and then merging.

use chrono::NaiveDate;
use tusach_sync::{Store, Value};

use super::conflicts::{self, CatalogueConflict, ConflictChoice};
use super::edits::{self, Editor};
use super::merge;
use super::*;
use crate::demo::demo_desk;
use crate::search::{SearchQuery, search};

struct Device {
    store: Store,
    desk: Desk,
    name: &'static str,
    _dir: tempfile::TempDir,
}

fn device(name: &'static str) -> Device {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    Device {
        store,
        desk: demo_desk(name).expect("desk"),
        name,
        _dir: dir,
    }
}

fn editor(device: &Device, username: &str) -> Editor {
    Editor {
        username: username.into(),
        desk: device.store.device_id().to_hex(),
        library: "demo".into(),
        at: format!("2026-03-04T10:00:00Z {}", device.name),
    }
}

/// Both ways, everything: what a sync session does, without the wire.
fn merge_devices(a: &mut Device, b: &mut Device) {
    send(&mut a.store, &mut b.store);
    send(&mut b.store, &mut a.store);
}

fn send(from: &mut Store, to: &mut Store) {
    let known = to.knowledge(|_| true).expect("knowledge");
    let mut plan = from.plan_for(&known, |_| true).expect("plan");
    while let Some(batch) = from.next_batch(&mut plan, 1 << 20).expect("batch") {
        to.apply_batch(&batch).expect("apply");
    }
}

fn draft(title: &str, isbn: Option<&str>) -> RecordDraft {
    RecordDraft {
        title: title.into(),
        authors: vec!["Tô Hoài".into()],
        publisher: "Kim Đồng".into(),
        year: Some(2019),
        isbn: isbn.map(str::to_owned),
        language: "vie".into(),
        ddc: "895.922".into(),
        subjects: vec!["Văn học thiếu nhi".into()],
        summary: None,
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 4).expect("date")
}

fn field(store: &mut Store, record: &str, name: &str) -> Value {
    store
        .get(&crate::catalogue::record_key(record))
        .expect("get")
        .expect("record")
        .get(name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn set(name: &str, value: impl Into<Value>) -> (String, Value) {
    (name.to_owned(), value.into())
}

fn add(device: &mut Device, record: &str, barcodes: &[&str]) {
    add_copies(
        &mut device.store,
        &device.desk,
        &NewCopies {
            record: record.into(),
            barcodes: barcodes.iter().map(|b| (*b).to_owned()).collect(),
            shelf: "Kệ 1".into(),
            item_type: "book".into(),
            acquired: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("day"),
        },
    )
    .expect("copies");
}

#[test]
fn an_edit_writes_only_changed_fields_with_a_history_entry_each() {
    let mut a = device("desk-a");
    let id = create_record(&mut a.store, &draft("Dế Mèn", None), today()).expect("record");
    let who = editor(&a, "lan");
    let changed = edits::edit_record(
        &mut a.store,
        &id,
        &[
            set("title", "Dế Mèn phiêu lưu ký"),
            set("publisher", "Kim Đồng"),
            set("year", 2020i64),
            set("isbn", "978-604-2-08812-1"),
        ],
        &who,
    )
    .expect("edit");
    assert_eq!(
        changed,
        ["title", "year", "isbn"],
        "publisher was unchanged"
    );
    assert_eq!(
        field(&mut a.store, &id, "isbn"),
        Value::Str("9786042088121".into())
    );
    let history = edits::history(a.store.connection(), &id).expect("history");
    assert_eq!(history.len(), 3);
    let title = history.iter().find(|e| e.field == "title").expect("title");
    assert_eq!(
        (title.old.as_str(), title.new.as_str(), title.by.as_str()),
        ("Dế Mèn", "Dế Mèn phiêu lưu ký", "lan")
    );
    assert_eq!(title.desk, a.store.device_id().to_hex());
    assert_eq!(title.library, "demo");

    let feed = a.store.feed_len().expect("feed");
    type Refused<'a> = (&'a str, Vec<(String, Value)>, &'a str);
    let refused: &[Refused] = &[
        ("rec-nope", vec![set("title", "x")], "no record"),
        (&id, vec![set("title", "  ")], "title"),
        (
            &id,
            vec![set("isbn", "978-604-2-08812-3")],
            "not a valid ISBN",
        ),
        (&id, vec![set("added", "2020-01-01")], "cannot be edited"),
        (
            &id,
            vec![set("publisher", "NXB Trẻ"), set("merged_into", "x")],
            "cannot be edited",
        ),
    ];
    for (record, changes, expected) in refused {
        let error = edits::edit_record(&mut a.store, record, changes, &who).expect_err("refused");
        assert!(error.to_string().contains(expected), "{error}");
    }
    assert_eq!(a.store.feed_len().expect("feed"), feed, "nothing written");
    let other = create_record(&mut a.store, &draft("Khác", None), today()).expect("record");
    let error = edits::edit_record(&mut a.store, &other, &[set("isbn", "9786042088121")], &who)
        .expect_err("taken");
    assert!(matches!(error, CatalogueError::IsbnTaken { .. }), "{error}");
}

#[test]
fn two_desks_editing_one_field_differently_show_both_values_until_one_is_kept() {
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    let id = create_record(&mut a.store, &draft("Dế Mèn", None), today()).expect("record");
    merge_devices(&mut a, &mut b);
    let (lan, hoa) = (editor(&a, "lan"), editor(&b, "hoa"));
    // Apart: both change the title, A also the publisher, B the year.
    edits::edit_record(
        &mut a.store,
        &id,
        &[
            set("title", "Dế Mèn phiêu lưu ký"),
            set("publisher", "NXB Trẻ"),
        ],
        &lan,
    )
    .expect("edit a");
    edits::edit_record(
        &mut b.store,
        &id,
        &[set("title", "De Men phieu luu ky"), set("year", 2021i64)],
        &hoa,
    )
    .expect("edit b");
    assert!(
        conflicts::conflicts(&mut a.store)
            .expect("cases")
            .is_empty()
    );
    merge_devices(&mut a, &mut b);

    // Different fields both kept; the same field shows both values at both desks.
    for device in [&mut a, &mut b] {
        assert_eq!(
            field(&mut device.store, &id, "publisher"),
            Value::Str("NXB Trẻ".into())
        );
        assert_eq!(field(&mut device.store, &id, "year"), Value::Int(2021));
    }
    let cases_a = conflicts::conflicts(&mut a.store).expect("cases");
    assert_eq!(cases_a, conflicts::conflicts(&mut b.store).expect("cases"));
    let [
        CatalogueConflict::EditedDifferently {
            id: case,
            field: title_field,
            current,
            versions,
            ..
        },
    ] = cases_a.as_slice()
    else {
        panic!("one case expected: {cases_a:?}");
    };
    assert_eq!(title_field, "title");
    let mut values: Vec<&str> = versions.iter().map(|v| v.new.as_str()).collect();
    values.sort_unstable();
    assert_eq!(values, ["De Men phieu luu ky", "Dế Mèn phiêu lưu ký"]);
    assert!(values.contains(&current.as_str()), "the store kept one");
    let by: Vec<&str> = versions.iter().map(|v| v.by.as_str()).collect();
    assert!(by.contains(&"lan") && by.contains(&"hoa"), "{by:?}");

    // B keeps A's value (whichever the store picked): settled at both after the next sync.
    let keep = versions
        .iter()
        .find(|v| v.by == "lan")
        .expect("lan's")
        .id
        .clone();
    conflicts::resolve(
        &mut b.store,
        case,
        &ConflictChoice::KeepEdit(keep),
        b.desk.scope(),
        &hoa,
    )
    .expect("resolve");
    merge_devices(&mut a, &mut b);
    for device in [&mut a, &mut b] {
        assert!(
            conflicts::conflicts(&mut device.store)
                .expect("cases")
                .is_empty()
        );
        assert_eq!(
            field(&mut device.store, &id, "title"),
            Value::Str("Dế Mèn phiêu lưu ký".into())
        );
    }
    // A stale choice is refused, and writes nothing.
    let feed = a.store.feed_len().expect("feed");
    let error = conflicts::resolve(
        &mut a.store,
        case,
        &ConflictChoice::MergeRecords,
        a.desk.scope(),
        &lan,
    )
    .expect_err("gone");
    assert!(matches!(error, conflicts::ConflictError::Unknown(_)));
    assert_eq!(a.store.feed_len().expect("feed"), feed);
}

#[test]
fn desks_that_settle_an_edit_differently_while_apart_see_the_case_again() {
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    let id = create_record(&mut a.store, &draft("Dế Mèn", None), today()).expect("record");
    merge_devices(&mut a, &mut b);
    let (lan, hoa) = (editor(&a, "lan"), editor(&b, "hoa"));
    edits::edit_record(&mut a.store, &id, &[set("ddc", "895.9223")], &lan).expect("a");
    edits::edit_record(&mut b.store, &id, &[set("ddc", "895.92")], &hoa).expect("b");
    merge_devices(&mut a, &mut b);
    let cases = conflicts::conflicts(&mut a.store).expect("cases");
    let CatalogueConflict::EditedDifferently {
        id: case, versions, ..
    } = &cases[0]
    else {
        panic!("{cases:?}");
    };
    let keep_a = versions
        .iter()
        .find(|v| v.by == "lan")
        .expect("a")
        .id
        .clone();
    let keep_b = versions
        .iter()
        .find(|v| v.by == "hoa")
        .expect("b")
        .id
        .clone();
    conflicts::resolve(
        &mut a.store,
        case,
        &ConflictChoice::KeepEdit(keep_a),
        a.desk.scope(),
        &lan,
    )
    .expect("a keeps its own");
    conflicts::resolve(
        &mut b.store,
        case,
        &ConflictChoice::KeepEdit(keep_b),
        b.desk.scope(),
        &hoa,
    )
    .expect("b keeps its own");
    merge_devices(&mut a, &mut b);
    let again = conflicts::conflicts(&mut a.store).expect("cases");
    assert_eq!(again.len(), 1, "{again:?}");
    assert_ne!(again[0].id(), case, "a new case, with both choices");
    assert_eq!(again, conflicts::conflicts(&mut b.store).expect("cases"));
}

#[test]
fn one_isbn_catalogued_at_two_desks_is_merged_with_every_copy_and_hold() {
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    let isbn = Some("978-604-2-08812-1");
    let ra = create_record(&mut a.store, &draft("Dế Mèn phiêu lưu ký", isbn), today()).expect("a");
    let mut draft_b = draft("De Men phieu luu ky", isbn);
    draft_b.summary = Some("Chú dế phiêu lưu.".into());
    draft_b.publisher = String::new();
    let rb = create_record(&mut b.store, &draft_b, today()).expect("b");
    add(&mut a, &ra, &["A1", "A2"]);
    add(&mut b, &rb, &["B1"]);
    b.desk
        .add_reader(
            &mut b.store,
            "BD01",
            "Trần Thị Mai",
            "adult",
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
            today(),
        )
        .expect("reader");
    let hold = b
        .desk
        .place_hold(&mut b.store, "BD01", &rb, today())
        .expect("hold");
    merge_devices(&mut a, &mut b);
    let cases = conflicts::conflicts(&mut a.store).expect("cases");
    assert_eq!(cases, conflicts::conflicts(&mut b.store).expect("cases"));
    let [
        CatalogueConflict::IsbnTwice {
            id: case, records, ..
        },
    ] = cases.as_slice()
    else {
        panic!("{cases:?}");
    };
    assert_eq!(records.len(), 2);

    // A merges; B, apart again, adds a copy to its own (now merged) record.
    let lan = editor(&a, "lan");
    let merged = conflicts::resolve(
        &mut a.store,
        case,
        &ConflictChoice::MergeRecords,
        a.desk.scope(),
        &lan,
    )
    .expect("merge")
    .expect("merged");
    let survivor = merged.survivor.clone();
    assert_eq!(survivor, ra.clone().min(rb.clone()));
    add(&mut b, &rb, &["B2"]);
    merge_devices(&mut a, &mut b);
    for device in [&mut a, &mut b] {
        assert!(
            conflicts::conflicts(&mut device.store)
                .expect("c")
                .is_empty()
        );
        let conn = device.store.connection();
        let mut copies: Vec<String> = db::holdings_of_record(conn, &survivor)
            .expect("holdings")
            .into_iter()
            .map(|h| h.copy.barcode)
            .collect();
        copies.sort();
        assert_eq!(copies, ["A1", "A2", "B1", "B2"], "every copy follows");
        let found = search(
            conn,
            &SearchQuery {
                text: "Dế Mèn",
                limit: 10,
            },
        )
        .expect("search");
        assert_eq!(found.len(), 1, "search shows one record");
        assert_eq!(found[0].id, survivor);
        let gone = if survivor == ra { &rb } else { &ra };
        assert_eq!(db::canonical_record(conn, gone).expect("c"), survivor);
        // Gaps are filled from the other record.
        assert_eq!(
            field(&mut device.store, &survivor, "summary"),
            Value::Str("Chú dế phiêu lưu.".into())
        );
    }
    // The hold placed on B's record waits for the survivor's copies.
    let holds = b.desk.holds(&mut b.store).expect("holds");
    let placed = holds.iter().find(|h| h.id == hold).expect("hold");
    assert_eq!(placed.record, survivor);
    // A merged record cannot be edited or merged again; nothing was deleted.
    let gone = if survivor == ra {
        rb.clone()
    } else {
        ra.clone()
    };
    let error =
        edits::edit_record(&mut a.store, &gone, &[set("title", "x")], &lan).expect_err("merged");
    assert!(matches!(error, CatalogueError::Merged { .. }), "{error}");
    assert!(field(&mut a.store, &gone, "title") != Value::Null);
}

#[test]
fn opposite_merges_at_two_desks_agree_on_one_record() {
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    let r1 = create_record(&mut a.store, &draft("Tắt đèn", None), today()).expect("r1");
    let r2 = create_record(&mut a.store, &draft("Tat den", None), today()).expect("r2");
    add(&mut a, &r1, &["A1"]);
    add(&mut a, &r2, &["A2"]);
    merge_devices(&mut a, &mut b);
    let (lan, hoa) = (editor(&a, "lan"), editor(&b, "hoa"));
    merge::merge_records(
        &mut a.store,
        &r1,
        std::slice::from_ref(&r2),
        a.desk.scope(),
        &lan,
    )
    .expect("a merges r2 into r1");
    merge::merge_records(
        &mut b.store,
        &r2,
        std::slice::from_ref(&r1),
        b.desk.scope(),
        &hoa,
    )
    .expect("b merges r1 into r2");
    merge_devices(&mut a, &mut b);
    let survivor = r1.clone().min(r2.clone());
    for device in [&mut a, &mut b] {
        let conn = device.store.connection();
        assert_eq!(db::canonical_record(conn, &r1).expect("c"), survivor);
        assert_eq!(db::canonical_record(conn, &r2).expect("c"), survivor);
        assert_eq!(db::holdings_of_record(conn, &survivor).expect("h").len(), 2);
        assert!(db::record_by_id(conn, &survivor).expect("r").is_some());
        assert_eq!(db::record_count(conn).expect("n"), 1);
    }
    assert_eq!(
        a.store.content_digest().expect("a"),
        b.store.content_digest().expect("b")
    );
}
