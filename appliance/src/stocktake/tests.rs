//! Stocktakes on real stores: two phones scanning different shelves at once, merged.

use chrono::NaiveDate;
use tusach_sync::{Store, WriteBatch};

use super::*;
use crate::circulation::library::Desk;
use crate::demo::demo_desk;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("date")
}

struct Phone {
    store: Store,
    desk: Desk,
    _dir: tempfile::TempDir,
}

fn phone(name: &str) -> Phone {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    Phone {
        store,
        desk: demo_desk(name).expect("desk"),
        _dir: dir,
    }
}

fn send(from: &mut Store, to: &mut Store) {
    let known = to.knowledge(|_| true).expect("knowledge");
    let mut plan = from.plan_for(&known, |_| true).expect("plan");
    while let Some(batch) = from.next_batch(&mut plan, 1 << 20).expect("batch") {
        to.apply_batch(&batch).expect("apply");
    }
}

fn stock(p: &mut Phone) {
    let mut batch = WriteBatch::new();
    for (barcode, shelf) in [
        ("A1", "Kệ 1 – 001"),
        ("A2", "Kệ 1 – 001"),
        ("A3", "Kệ 1 – 002"),
        ("B1", "Kệ 2 – 100"),
        ("B2", "Kệ 2 – 100"),
        ("B3", "Kệ 2 – 100"),
        ("C1", "Kệ 3 – 200"),
    ] {
        p.desk
            .put_copy_on_shelf(&mut batch, barcode, "rec", "book", shelf);
    }
    p.desk
        .put_reader(&mut batch, "BD1", "Lê Văn An", "adult", day(31), day(1));
    p.store.commit(&batch).expect("stock");
    p.desk
        .lend(&mut p.store, "BD1", "B3", day(1))
        .expect("lend");
}

#[test]
fn two_phones_scan_two_shelves_and_the_merged_report_finds_missing_and_misplaced() {
    let mut a = phone("phone-a");
    stock(&mut a);
    let mut b = phone("phone-b");
    send(&mut a.store, &mut b.store);
    let scope = a.desk.scope().clone();
    let id = start(&mut a.store, &scope, day(2)).expect("start");
    send(&mut a.store, &mut b.store);

    // Offline from each other: phone A counts shelf 1, phone B shelf 2.
    for barcode in ["A1", "A3", "C1"] {
        record_scan(&mut a.store, &scope, &id, "Kệ 1", barcode).expect("scan");
    }
    for barcode in ["B1", "B2", "B3", "ZZ9"] {
        record_scan(&mut b.store, &scope, &id, "Kệ 2 – 100", barcode).expect("scan");
    }
    send(&mut a.store, &mut b.store);
    send(&mut b.store, &mut a.store);

    let merged_a = load(&mut a.store, &scope, &id)
        .expect("load")
        .expect("exists");
    let merged_b = load(&mut b.store, &scope, &id)
        .expect("load")
        .expect("exists");
    assert_eq!(merged_a, merged_b);
    assert_eq!(merged_a.scans.len(), 7);
    let report = report_of(a.store.connection(), &scope, &merged_a).expect("report");
    let barcodes = |list: &[Finding]| list.iter().map(|f| f.barcode.clone()).collect::<Vec<_>>();
    assert_eq!(barcodes(&report.missing), ["A2"]);
    assert_eq!(barcodes(&report.misplaced), ["C1"]);
    assert_eq!(report.misplaced[0].found_on.as_deref(), Some("Kệ 1"));
    assert_eq!(barcodes(&report.on_loan_found), ["B3"]);
    assert_eq!(report.unknown, [("ZZ9".to_owned(), "Kệ 2".to_owned())]);
    assert_eq!((report.expected, report.found), (5, 4));

    assert_eq!(
        mark_missing_lost(&mut a.store, &scope, &id, day(3)).expect("mark"),
        1
    );
    let lost = db::holding(a.store.connection(), scope.as_str(), "A2")
        .expect("read")
        .expect("row");
    assert_eq!(lost.copy.status, "lost");
    assert!(matches!(
        record_scan(&mut a.store, &scope, &id, "Kệ 1", "A2"),
        Err(StocktakeError::Closed(_))
    ));
    assert!(matches!(
        record_scan(&mut a.store, &scope, "kk-none", "Kệ 1", "A2"),
        Err(StocktakeError::Unknown(_))
    ));
    assert_eq!(list(&mut a.store, &scope).expect("list").len(), 1);
}

#[test]
fn an_empty_counted_shelf_makes_its_copies_missing() {
    let mut a = phone("phone-a");
    stock(&mut a);
    let scope = a.desk.scope().clone();
    let id = start(&mut a.store, &scope, day(2)).expect("start");
    count_shelf(&mut a.store, &scope, &id, "Kệ 3").expect("count");
    let stocktake = load(&mut a.store, &scope, &id)
        .expect("load")
        .expect("exists");
    let report = report_of(a.store.connection(), &scope, &stocktake).expect("report");
    assert_eq!(report.missing.len(), 1);
    assert!(check_shelf("  ").is_err());
}
