//! The copy index on a real store: kept in step, rebuilt, and read as availability.

use chrono::NaiveDate;
use tusach_sync::{EntityKey, Store, WriteBatch};

use super::*;
use crate::circulation::library::Desk;
use crate::demo::demo_desk;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("date")
}

fn open() -> (Store, Desk, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    (store, demo_desk("desk-a").expect("desk"), dir)
}

fn stock(store: &mut Store, desk: &Desk) {
    let mut batch = WriteBatch::new();
    for (barcode, shelf) in [
        ("TS1", "Kệ 9 – 895.922"),
        ("TS2", "Kệ 9 – 895.922"),
        ("TS3", "Kệ 9 – 895.922"),
        ("TS4", "Kệ 9 – 895.922"),
    ] {
        desk.put_copy_on_shelf(&mut batch, barcode, "kieu", "book", shelf);
    }
    desk.put_copy_on_shelf(
        &mut batch,
        "TS5",
        "kieu",
        "reference",
        "Kệ tra cứu – 895.922",
    );
    desk.put_reader(&mut batch, "BD1", "Trần Thị Mai", "adult", day(31), day(1));
    store.commit(&batch).expect("stock");
}

#[test]
fn the_copy_index_follows_the_copies_and_is_rebuilt_when_empty() {
    let (mut store, desk, _dir) = open();
    stock(&mut store, &desk);
    let scope = desk.scope().as_str().to_owned();
    let rows = db::holdings_of_record(store.connection(), "kieu").expect("rows");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].copy.shelf, "Kệ 9 – 895.922");
    let mut batch = WriteBatch::new();
    batch.put(
        &EntityKey::new(desk.scope(), COPIES, "TS4"),
        "status",
        "lost",
    );
    batch.delete(&EntityKey::new(desk.scope(), COPIES, "TS3"));
    // A copy in a scope that is not a library's is not a library's copy.
    batch.put(
        &EntityKey::new(&network_scope(), COPIES, "X1"),
        "record",
        "kieu",
    );
    store.commit(&batch).expect("edit");
    let rows = db::holdings_of_record(store.connection(), "kieu").expect("rows");
    assert_eq!(rows.len(), 4);
    let lost = db::holding(store.connection(), &scope, "TS4")
        .expect("read")
        .expect("row");
    assert_eq!(lost.copy.status, "lost");

    store
        .connection()
        .execute("DELETE FROM copy_index", [])
        .expect("empty");
    rebuild_if_empty(&mut store).expect("rebuild");
    assert_eq!(
        db::holdings_of_record(store.connection(), "kieu").expect("rows"),
        rows
    );
}

#[test]
fn availability_counts_shelf_loans_and_leaves_lost_copies_out() {
    let (mut store, desk, _dir) = open();
    stock(&mut store, &desk);
    let receipt = desk.lend(&mut store, "BD1", "TS1", day(2)).expect("lend");
    let mut batch = WriteBatch::new();
    batch.put(
        &EntityKey::new(desk.scope(), COPIES, "TS4"),
        "status",
        "lost",
    );
    let elsewhere = Desk::new(
        "xa-nghi-thai",
        crate::circulation::policy::PolicyMatrix::default(),
        crate::circulation::policy::ClosedDays::default(),
        "x",
    )
    .expect("desk");
    elsewhere.put_copy_on_shelf(&mut batch, "NT1", "kieu", "book", "Kệ 2");
    store.commit(&batch).expect("edit");
    let found = availability_of(store.connection(), "kieu").expect("availability");
    assert_eq!(
        found,
        vec![
            ShelfAvailability {
                library: "xa-nghi-phu".into(),
                shelf: "Kệ 9 – 895.922".into(),
                on_shelf: 2,
                reading_room: 0,
                on_loan: 1,
                next_due: Some(receipt.due),
            },
            ShelfAvailability {
                library: "xa-nghi-phu".into(),
                shelf: "Kệ tra cứu – 895.922".into(),
                on_shelf: 0,
                reading_room: 1,
                on_loan: 0,
                next_due: None,
            },
            ShelfAvailability {
                library: "xa-nghi-thai".into(),
                shelf: "Kệ 2".into(),
                on_shelf: 1,
                reading_room: 0,
                on_loan: 0,
                next_due: None,
            },
        ]
    );
    desk.return_copy(&mut store, "TS1", day(5)).expect("return");
    let back = availability_of(store.connection(), "kieu").expect("availability");
    assert_eq!((back[0].on_shelf, back[0].on_loan), (3, 0));
}

#[test]
fn shelf_locations_and_library_names() {
    assert_eq!(shelf_location("Kệ 9 – 895.922"), "Kệ 9");
    assert_eq!(shelf_location("Kệ 3 - 372"), "Kệ 3");
    assert_eq!(shelf_location(" Kệ 3 "), "Kệ 3");
    assert_eq!(library_id("library:xa-nghi-phu"), Some("xa-nghi-phu"));
    assert_eq!(library_id("network"), None);
    let (mut store, _desk, _dir) = open();
    let mut batch = WriteBatch::new();
    batch.put(
        &EntityKey::new(&network_scope(), LIBRARIES, "xa-nghi-phu"),
        "name",
        "Thư viện xã Nghi Phú",
    );
    store.commit(&batch).expect("name");
    let names =
        library_names(&mut store, ["xa-nghi-phu".to_owned(), "xa-khac".to_owned()]).expect("names");
    assert_eq!(names["xa-nghi-phu"], "Thư viện xã Nghi Phú");
    assert_eq!(names["xa-khac"], "xa-khac");
}
