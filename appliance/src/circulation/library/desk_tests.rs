//! Holds, in-house use, fines and reader registration on real stores.

use chrono::NaiveDate;
use tusach_sync::Store;

use super::*;
use crate::catalogue;
use crate::circulation::readers::NewReader;
use crate::sample::SampleLibrary;

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("valid date")
}

struct Device {
    store: Store,
    desk: Desk,
    record: String,
    _dir: tempfile::TempDir,
}

fn device(name: &str, fine_per_day: i64) -> Device {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    let mut policy = PolicyMatrix::default();
    policy.set_fine_per_day(fine_per_day);
    let desk = Desk::new("xa-nghi-phu", policy, ClosedDays::default(), name).expect("desk");
    let record = SampleLibrary::new(1).record(0);
    let mut batch = WriteBatch::new();
    catalogue::put_record(&mut batch, &record);
    store.commit(&batch).expect("record");
    for barcode in ["TS001", "TS002"] {
        desk.add_copy(&mut store, barcode, &record.id, "book")
            .expect("copy");
    }
    for (card, name) in [
        ("BD01", "Trần Thị Mai"),
        ("BD02", "Lê Văn An"),
        ("BD03", "Hồ Xuân"),
    ] {
        desk.add_reader(&mut store, card, name, "adult", date(31), date(1))
            .expect("reader");
    }
    Device {
        store,
        desk,
        record: record.id,
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

#[test]
fn a_returned_copy_goes_to_the_first_reader_in_the_queue() {
    let mut d = device("desk-a", 0);
    let record = d.record.clone();
    d.desk
        .lend(&mut d.store, "BD01", "TS001", date(2))
        .expect("lend");
    d.desk
        .lend(&mut d.store, "BD01", "TS002", date(2))
        .expect("lend");
    // BD01 has the record: a hold of theirs is refused; BD03 then BD02 queue.
    assert!(matches!(
        d.desk.place_hold(&mut d.store, "BD01", &record, date(3)),
        Err(DeskError::HoldRefused(_))
    ));
    let first = d
        .desk
        .place_hold(&mut d.store, "BD03", &record, date(3))
        .expect("hold");
    let second = d
        .desk
        .place_hold(&mut d.store, "BD02", &record, date(4))
        .expect("hold");
    assert!(matches!(
        d.desk
            .place_hold(&mut d.store, "BD02", "no-such-record", date(4)),
        Err(DeskError::UnknownRecord(_))
    ));
    // The reader placing a hold learns where they stand.
    let position = |d: &mut Device, hold: &str| d.desk.queue_position(&mut d.store, hold);
    assert_eq!(position(&mut d, &first).expect("position"), Some(1));
    assert_eq!(position(&mut d, &second).expect("position"), Some(2));
    assert_eq!(position(&mut d, "hold-unknown").expect("position"), None);
    let slip = d
        .desk
        .check_in(&mut d.store, "TS001", date(5))
        .expect("return");
    let route = slip.hold.expect("routed");
    assert_eq!(
        (route.hold.as_str(), route.reader.as_str()),
        (first.as_str(), "BD03")
    );
    assert_eq!(route.until, date(8));
    // The next copy back goes to the second in line, not again to the first.
    let slip = d
        .desk
        .check_in(&mut d.store, "TS002", date(5))
        .expect("return");
    assert_eq!(slip.hold.expect("routed").hold, second);
    // BD03 collects: their hold is closed. BD02 cancels: the copy has nobody left.
    d.desk
        .lend(&mut d.store, "BD03", "TS001", date(6))
        .expect("collect");
    assert_eq!(
        d.desk
            .cancel_hold(&mut d.store, &second, date(6))
            .expect("cancel"),
        None
    );
    let holds = d.desk.holds(&mut d.store).expect("holds");
    assert!(holds.iter().all(|h| !h.is_open()), "{holds:?}");
    assert!(matches!(
        d.desk.cancel_hold(&mut d.store, &second, date(6)),
        Err(DeskError::UnknownHold(_))
    ));
}

#[test]
fn a_hold_not_picked_up_in_time_lapses_and_the_copy_moves_on() {
    let mut d = device("desk-a", 0);
    let record = d.record.clone();
    d.desk
        .lend(&mut d.store, "BD01", "TS001", date(2))
        .expect("lend");
    d.desk
        .lend(&mut d.store, "BD01", "TS002", date(2))
        .expect("lend");
    d.desk
        .place_hold(&mut d.store, "BD02", &record, date(3))
        .expect("hold");
    let next = d
        .desk
        .place_hold(&mut d.store, "BD03", &record, date(4))
        .expect("hold");
    d.desk
        .check_in(&mut d.store, "TS001", date(4))
        .expect("return");
    assert!(
        d.desk
            .lapse_holds(&mut d.store, date(7))
            .expect("lapse")
            .is_empty()
    );
    let moved = d.desk.lapse_holds(&mut d.store, date(8)).expect("lapse");
    assert_eq!(moved.len(), 1);
    assert_eq!(
        (moved[0].hold.as_str(), moved[0].copy.as_str()),
        (next.as_str(), "TS001")
    );
}

#[test]
fn fines_show_only_when_the_library_charges_them() {
    for (fine_per_day, owed) in [(0, 0), (1_000, 3_000)] {
        let mut d = device("desk-a", fine_per_day);
        let loan = d
            .desk
            .lend(&mut d.store, "BD01", "TS001", date(2))
            .expect("lend");
        let late_day = loan
            .due
            .checked_add_days(chrono::Days::new(3))
            .expect("date");
        let slip = d
            .desk
            .check_in(&mut d.store, "TS001", late_day)
            .expect("return");
        assert_eq!(
            (slip.late_days, slip.fine),
            (3, owed),
            "fine {fine_per_day}"
        );
        // On time: nothing owed either way.
        d.desk
            .lend(&mut d.store, "BD01", "TS002", date(2))
            .expect("lend");
        let slip = d
            .desk
            .check_in(&mut d.store, "TS002", date(3))
            .expect("return");
        assert_eq!(slip.fine, 0);
    }
}

#[test]
fn in_house_uses_counted_at_two_offline_desks_add_up() {
    let mut a = device("desk-a", 0);
    let mut b = device("desk-b", 0);
    send(&mut a.store, &mut b.store);
    a.desk
        .count_in_house(&mut a.store, "TS001", date(2))
        .expect("count");
    a.desk
        .count_in_house(&mut a.store, "TS001", date(2))
        .expect("count");
    b.desk
        .count_in_house(&mut b.store, "TS001", date(2))
        .expect("count");
    b.desk
        .count_in_house(&mut b.store, "TS002", date(3))
        .expect("count");
    assert!(matches!(
        a.desk.count_in_house(&mut a.store, "TS999", date(2)),
        Err(DeskError::UnknownCopy(_))
    ));
    send(&mut a.store, &mut b.store);
    send(&mut b.store, &mut a.store);
    for device in [&mut a, &mut b] {
        let desk = &device.desk;
        assert_eq!(
            desk.in_house_uses(&mut device.store, date(1), date(31))
                .expect("uses"),
            4
        );
        assert_eq!(
            desk.in_house_uses(&mut device.store, date(2), date(2))
                .expect("uses"),
            3
        );
        assert_eq!(
            desk.in_house_uses(&mut device.store, date(4), date(9))
                .expect("uses"),
            0
        );
    }
}

#[test]
fn readers_register_once_block_unblock_and_open_my_loans_with_their_pin() {
    let mut d = device("desk-a", 0);
    let new = NewReader {
        card: "BD10".into(),
        name: "Nguyễn Thị <Bé> & Co".into(),
        category: "child".into(),
        card_expires: date(31),
        class: Some("4A".into()),
        school: None,
        contact: None,
        pin: Some("2468".into()),
    };
    d.desk
        .register_reader(&mut d.store, &new, date(2))
        .expect("register");
    assert!(matches!(
        d.desk.register_reader(&mut d.store, &new, date(2)),
        Err(DeskError::CardTaken(_))
    ));
    assert!(d.desk.check_pin(&mut d.store, "BD10", "2468").expect("pin"));
    assert!(!d.desk.check_pin(&mut d.store, "BD10", "2469").expect("pin"));
    assert!(!d.desk.check_pin(&mut d.store, "BD99", "2468").expect("pin"));
    assert!(
        !d.desk
            .check_pin(&mut d.store, "BD01", "2468")
            .expect("no pin set")
    );
    d.desk
        .set_block(&mut d.store, "BD10", Some("mất sách"), date(3))
        .expect("block");
    let row = crate::db::reader_by_card(d.store.connection(), d.desk.scope().as_str(), "BD10")
        .expect("row")
        .expect("indexed");
    assert_eq!(row.blocked.as_deref(), Some("mất sách"));
    d.desk
        .set_block(&mut d.store, "BD10", None, date(4))
        .expect("unblock");
    let profile = d
        .desk
        .reader_profile(&mut d.store, "BD10")
        .expect("profile");
    assert_eq!(
        (profile.blocked, profile.class.as_deref()),
        (None, Some("4A"))
    );
    d.desk
        .lend(&mut d.store, "BD10", "TS001", date(5))
        .expect("lend after unblock");
    // Readers list in Vietnamese order of given names: An, Bé/Co…, Mai, Xuân.
    let sorted: Vec<String> =
        crate::db::readers_sorted(d.store.connection(), d.desk.scope().as_str(), None, 10)
            .expect("list")
            .into_iter()
            .map(|r| r.card)
            .collect();
    assert_eq!(sorted, vec!["BD02", "BD10", "BD01", "BD03"]);
}

#[test]
fn reader_and_copy_tables_are_rebuilt_from_the_documents_when_empty() {
    let mut d = device("desk-a", 0);
    let scope = d.desk.scope().as_str().to_owned();
    // A database from before migration 0005 has the documents but empty tables.
    d.store
        .connection()
        .execute_batch("DELETE FROM reader_index; DELETE FROM copy_index;")
        .expect("empty the tables");
    assert!(
        crate::db::reader_by_card(d.store.connection(), &scope, "BD01")
            .expect("read")
            .is_none()
    );
    crate::query_tables::attach(&mut d.store).expect("attach again");
    let reader = crate::db::reader_by_card(d.store.connection(), &scope, "BD01")
        .expect("read")
        .expect("rebuilt");
    assert_eq!(reader.name, "Trần Thị Mai");
    let (copy, title) = crate::db::copy_by_barcode(d.store.connection(), &scope, "TS002")
        .expect("read")
        .expect("rebuilt");
    assert_eq!(copy.record, d.record);
    assert!(!title.is_empty());
}
