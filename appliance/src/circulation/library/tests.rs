//! The desk on real stores: lending, returning, renewing, and two offline desks merging.

use chrono::NaiveDate;
use tusach_sync::Store;

use super::*;
use crate::circulation::policy::{LoanRule, PolicyMatrix};

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("valid date")
}

struct Device {
    store: Store,
    desk: Desk,
    _dir: tempfile::TempDir,
}

fn device(name: &str) -> Device {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    let mut policy = PolicyMatrix::default();
    policy.set_category_default(
        "child",
        LoanRule {
            loan_days: 7,
            max_loans: 3,
            max_renewals: 1,
        },
    );
    let desk = Desk::new("xa-nghi-phu", policy, ClosedDays::default(), name).expect("desk");
    Device {
        store,
        desk,
        _dir: dir,
    }
}

/// Both ways, everything: what a sync session does, without the wire.
fn merge(a: &mut Device, b: &mut Device) {
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

fn stock(device: &mut Device) {
    for barcode in ["TS001", "TS002", "TS003"] {
        device
            .desk
            .add_copy(&mut device.store, barcode, "rec-00000001", "book")
            .expect("copy");
    }
    device
        .desk
        .add_reader(
            &mut device.store,
            "BD01",
            "Trần Thị Mai",
            "child",
            date(31),
            date(1),
        )
        .expect("reader");
}

#[test]
fn a_librarian_lends_two_copies_takes_one_back_and_sees_the_other_out() {
    let mut d = device("desk-a");
    stock(&mut d);
    let first = d
        .desk
        .lend(&mut d.store, "BD01", "TS001", date(2))
        .expect("lend");
    assert_eq!(first.due, date(9));
    d.desk
        .lend(&mut d.store, "BD01", "TS002", date(2))
        .expect("lend");
    assert_eq!(
        d.desk
            .return_copy(&mut d.store, "TS001", date(5))
            .expect("return"),
        ReturnReceipt::Closed {
            loan: first.loan.clone(),
            late_days: 0
        }
    );
    let out: Vec<String> = d
        .desk
        .loans_of(d.store.connection(), "BD01")
        .expect("loans")
        .into_iter()
        .map(|l| l.copy)
        .collect();
    assert_eq!(out, vec!["TS002"]);
    // The copy still out cannot go out again; the one returned can.
    assert!(matches!(
        d.desk.lend(&mut d.store, "BD01", "TS002", date(5)),
        Err(DeskError::Refused(r)) if matches!(r[0], Refusal::CopyOnLoan { .. })
    ));
    d.desk
        .lend(&mut d.store, "BD01", "TS001", date(5))
        .expect("lend again");
}

#[test]
fn renewals_extend_the_due_date_up_to_the_limit() {
    let mut d = device("desk-a");
    stock(&mut d);
    let loan = d
        .desk
        .lend(&mut d.store, "BD01", "TS001", date(2))
        .expect("lend");
    assert_eq!(
        d.desk
            .renew(&mut d.store, &loan.loan, date(8))
            .expect("renew"),
        date(15)
    );
    assert!(matches!(
        d.desk.renew(&mut d.store, &loan.loan, date(14)),
        Err(DeskError::Refused(r)) if r == vec![Refusal::RenewalLimit { max: 1 }]
    ));
    assert!(matches!(
        d.desk.renew(&mut d.store, "loan-nope", date(8)),
        Err(DeskError::UnknownLoan(_))
    ));
}

#[test]
fn unknown_cards_and_barcodes_are_named_in_the_error() {
    let mut d = device("desk-a");
    stock(&mut d);
    assert!(matches!(
        d.desk.lend(&mut d.store, "BD99", "TS001", date(2)),
        Err(DeskError::UnknownReader(card)) if card == "BD99"
    ));
    assert!(matches!(
        d.desk.lend(&mut d.store, "BD01", "TS999", date(2)),
        Err(DeskError::UnknownCopy(barcode)) if barcode == "TS999"
    ));
    assert!(matches!(
        Desk::new("", PolicyMatrix::default(), ClosedDays::default(), "x"),
        Err(DeskError::InvalidLibrary(_))
    ));
}

#[test]
fn the_same_copy_lent_at_two_offline_desks_reaches_the_inbox_on_both() {
    let mut a = device("desk-a");
    let mut b = device("desk-b");
    stock(&mut a);
    merge(&mut a, &mut b);
    // The link is down; both desks lend TS003.
    a.desk
        .lend(&mut a.store, "BD01", "TS003", date(2))
        .expect("lend at A");
    b.desk
        .lend(&mut b.store, "BD01", "TS003", date(3))
        .expect("lend at B");
    merge(&mut a, &mut b);
    for device in [&mut a, &mut b] {
        let inbox = device.desk.exceptions(&mut device.store).expect("inbox");
        assert!(
            matches!(&inbox[..], [Exception::CopyLentTwice { copy, loans }] if copy == "TS003" && loans.len() == 2),
            "{inbox:?}"
        );
    }
}

#[test]
fn a_copy_lent_at_one_desk_and_returned_at_another_settles_by_itself() {
    let mut a = device("desk-a");
    let mut b = device("desk-b");
    stock(&mut a);
    merge(&mut a, &mut b);
    a.desk
        .lend(&mut a.store, "BD01", "TS001", date(2))
        .expect("lend at A");
    // B has not heard of the loan and takes the book back.
    assert_eq!(
        b.desk
            .return_copy(&mut b.store, "TS001", date(6))
            .expect("return at B"),
        ReturnReceipt::Recorded
    );
    merge(&mut a, &mut b);
    assert!(a.desk.exceptions(&mut a.store).expect("inbox").is_empty());
    assert_eq!(a.desk.settle_returns(&mut a.store).expect("settle"), 1);
    assert!(
        a.desk
            .loans_of(a.store.connection(), "BD01")
            .expect("loans")
            .is_empty()
    );
    merge(&mut a, &mut b);
    assert!(
        b.desk
            .loans_of(b.store.connection(), "BD01")
            .expect("loans")
            .is_empty()
    );
    assert_eq!(b.desk.settle_returns(&mut b.store).expect("settle"), 0);
}

#[test]
fn a_loan_made_after_another_desk_blocked_the_reader_is_flagged() {
    let mut a = device("desk-a");
    let mut b = device("desk-b");
    stock(&mut a);
    merge(&mut a, &mut b);
    b.desk
        .block_reader(&mut b.store, "BD01", "làm mất sách", date(3))
        .expect("block at B");
    a.desk
        .lend(&mut a.store, "BD01", "TS002", date(4))
        .expect("lend at A, unaware");
    merge(&mut a, &mut b);
    let inbox = a.desk.exceptions(&mut a.store).expect("inbox");
    assert!(
        matches!(
            &inbox[..],
            [Exception::LoanDespiteBlock {
                reader_blocked: true,
                ..
            }]
        ),
        "{inbox:?}"
    );
}

#[test]
fn visits_counted_at_two_offline_desks_add_up() {
    let mut a = device("desk-a");
    let mut b = device("desk-b");
    a.desk
        .count_visits(&mut a.store, date(2), 12)
        .expect("count at A");
    a.desk
        .count_visits(&mut a.store, date(2), 3)
        .expect("count at A");
    b.desk
        .count_visits(&mut b.store, date(2), 7)
        .expect("count at B");
    b.desk
        .count_visits(&mut b.store, date(3), 1)
        .expect("count at B");
    merge(&mut a, &mut b);
    for device in [&mut a, &mut b] {
        assert_eq!(
            device
                .desk
                .visits_on(&mut device.store, date(2))
                .expect("visits"),
            22
        );
        assert_eq!(
            device
                .desk
                .visits_on(&mut device.store, date(3))
                .expect("visits"),
            1
        );
        assert_eq!(
            device
                .desk
                .visits_on(&mut device.store, date(4))
                .expect("visits"),
            0
        );
    }
    // Counting goes on after the merge on both sides, and still adds up.
    a.desk
        .count_visits(&mut a.store, date(2), 1)
        .expect("count at A");
    b.desk
        .count_visits(&mut b.store, date(2), 1)
        .expect("count at B");
    merge(&mut a, &mut b);
    assert_eq!(a.desk.visits_on(&mut a.store, date(2)).expect("visits"), 24);
    assert_eq!(b.desk.visits_on(&mut b.store, date(2)).expect("visits"), 24);
}

/// Desk A keeps one loan of a copy lent twice, desk B (apart) keeps the other: after the
/// merge nobody may be left without the book while it shows on the shelf.
#[test]
fn two_desks_keeping_different_loans_apart_show_the_case_again_and_a_later_choice_settles_it() {
    use crate::circulation::exceptions::Resolution;
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    stock(&mut a);
    merge(&mut a, &mut b);
    b.desk
        .add_reader(
            &mut b.store,
            "BD02",
            "Lê Văn Nam",
            "child",
            date(31),
            date(1),
        )
        .expect("reader");
    let la = a
        .desk
        .lend(&mut a.store, "BD01", "TS001", date(2))
        .expect("lend a");
    let lb = b
        .desk
        .lend(&mut b.store, "BD02", "TS001", date(2))
        .expect("lend b");
    merge(&mut a, &mut b);
    let case = a.desk.inbox(&mut a.store).expect("inbox");
    assert_eq!(case.len(), 1, "{case:?}");
    let id = case[0].id.clone();

    // Apart again: each desk keeps its own loan.
    for (d, kept) in [(&mut a, &la.loan), (&mut b, &lb.loan)] {
        let keep = Resolution::KeepLoan { loan: kept.clone() };
        d.desk
            .resolve(&mut d.store, &id, &keep, date(3))
            .expect("resolve");
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
    }
    merge(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        let inbox = d.desk.inbox(&mut d.store).expect("inbox");
        assert_eq!(inbox.len(), 1, "one case again, not a lost copy: {inbox:?}");
        assert_eq!(inbox[0].id, id, "the same case");
        assert!(matches!(
            d.desk.copy(&mut d.store, "TS001").expect("copy").status,
            super::CopyStatus::OnLoan(_)
        ));
        assert_eq!(
            d.desk
                .loans_of(d.store.connection(), "BD01")
                .expect("loans")
                .len(),
            1
        );
        assert_eq!(
            d.desk
                .loans_of(d.store.connection(), "BD02")
                .expect("loans")
                .len(),
            1
        );
        // Both choices stay in the history, neither overwrote the other.
        assert_eq!(
            d.desk
                .resolution_history(&mut d.store, &id)
                .expect("history")
                .len(),
            2
        );
        assert_eq!(
            d.desk.inbox(&mut d.store).expect("inbox")[0].history.len(),
            2
        );
    }

    // Seeing both, desk B keeps A's loan after all: that settles it everywhere, and B's own
    // loan (closed by A as lent by mistake) stays closed.
    let keep = Resolution::KeepLoan {
        loan: la.loan.clone(),
    };
    b.desk
        .resolve(&mut b.store, &id, &keep, date(4))
        .expect("resolve again");
    merge(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
        let open: Vec<String> = d
            .desk
            .loans_of(d.store.connection(), "BD01")
            .expect("loans")
            .into_iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(open, vec![la.loan.clone()]);
        assert!(
            d.desk
                .loans_of(d.store.connection(), "BD02")
                .expect("loans")
                .is_empty()
        );
        assert!(matches!(
            d.desk.copy(&mut d.store, "TS001").expect("copy").status,
            super::CopyStatus::OnLoan(ref l) if l.id == la.loan
        ));
    }
    // And once the reader brings it back, the copy is on the shelf.
    a.desk
        .return_copy(&mut a.store, "TS001", date(9))
        .expect("return");
    merge(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        assert!(matches!(
            d.desk.copy(&mut d.store, "TS001").expect("copy").status,
            super::CopyStatus::Available
        ));
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
    }
}

/// Two desks give card BD07 to two people while apart, and each lends to its own person.
#[test]
fn a_card_registered_at_two_desks_keeps_both_people_and_one_takes_a_new_card() {
    use crate::circulation::exceptions::{Exception, Resolution};
    use crate::circulation::readers::NewReader;
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    stock(&mut a);
    merge(&mut a, &mut b);
    let person = |name: &str, contact: &str, pin: &str| NewReader {
        card: "BD07".into(),
        name: name.into(),
        category: "child".into(),
        card_expires: date(31),
        class: None,
        school: None,
        contact: Some(contact.into()),
        pin: Some(pin.into()),
    };
    a.desk
        .register_reader(
            &mut a.store,
            &person("Nguyễn Văn An", "0901", "1111"),
            date(2),
        )
        .expect("register a");
    b.desk
        .register_reader(
            &mut b.store,
            &person("Phạm Thị Bình", "0902", "2222"),
            date(2),
        )
        .expect("register b");
    let la = a
        .desk
        .lend(&mut a.store, "BD07", "TS001", date(3))
        .expect("lend a");
    let lb = b
        .desk
        .lend(&mut b.store, "BD07", "TS002", date(3))
        .expect("lend b");
    merge(&mut a, &mut b);

    let inbox = a.desk.inbox(&mut a.store).expect("inbox");
    assert_eq!(inbox, b.desk.inbox(&mut b.store).expect("inbox"));
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let Exception::CardRegisteredTwice {
        card,
        registrations,
    } = &inbox[0].exception
    else {
        panic!("expected a card registered twice: {inbox:?}");
    };
    assert_eq!(card, "BD07");
    let names: Vec<&str> = registrations.iter().map(|r| r.name.as_str()).collect();
    assert!(names.contains(&"Nguyễn Văn An") && names.contains(&"Phạm Thị Bình"));
    let binh = registrations
        .iter()
        .find(|r| r.name == "Phạm Thị Bình")
        .expect("Bình")
        .id
        .clone();
    // A card already in use is refused, writing nothing.
    let taken = Resolution::GiveNewCard {
        registration: binh.clone(),
        card: "BD01".into(),
    };
    assert!(matches!(
        a.desk.resolve(&mut a.store, &inbox[0].id, &taken, date(4)),
        Err(ResolveError::CardUnavailable(_))
    ));
    let give = Resolution::GiveNewCard {
        registration: binh,
        card: "BD08".into(),
    };
    a.desk
        .resolve(&mut a.store, &inbox[0].id, &give, date(4))
        .expect("new card");
    merge(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
        let an = d.desk.reader_profile(&mut d.store, "BD07").expect("BD07");
        let binh = d.desk.reader_profile(&mut d.store, "BD08").expect("BD08");
        assert_eq!(
            (an.name.as_str(), an.contact.as_deref()),
            ("Nguyễn Văn An", Some("0901"))
        );
        assert_eq!(
            (binh.name.as_str(), binh.contact.as_deref()),
            ("Phạm Thị Bình", Some("0902"))
        );
        assert!(d.desk.check_pin(&mut d.store, "BD07", "1111").expect("pin"));
        assert!(d.desk.check_pin(&mut d.store, "BD08", "2222").expect("pin"));
        let ids = |card: &str| -> Vec<String> {
            d.desk
                .loans_of(d.store.connection(), card)
                .expect("loans")
                .into_iter()
                .map(|l| l.id)
                .collect()
        };
        assert_eq!(ids("BD07"), vec![la.loan.clone()]);
        assert_eq!(ids("BD08"), vec![lb.loan.clone()]);
    }
    // A third registration of a used card is refused at the desk.
    assert!(matches!(
        a.desk
            .register_reader(&mut a.store, &person("Lê C", "0903", "3333"), date(5)),
        Err(DeskError::CardTaken(_))
    ));
}

/// The card registered twice, resolved differently at two desks while apart: each gives the
/// other person the new card. Both people keep their loans, and the old card, which now
/// describes nobody it belongs to, comes back as one case until retired.
#[test]
fn two_desks_giving_new_cards_differently_leave_one_case_for_the_old_card() {
    use crate::circulation::exceptions::{Exception, Resolution};
    use crate::circulation::readers::NewReader;
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    stock(&mut a);
    merge(&mut a, &mut b);
    let person = |name: &str| NewReader {
        card: "BD07".into(),
        name: name.into(),
        category: "child".into(),
        card_expires: date(31),
        class: None,
        school: None,
        contact: None,
        pin: None,
    };
    a.desk
        .register_reader(&mut a.store, &person("An"), date(2))
        .expect("register a");
    b.desk
        .register_reader(&mut b.store, &person("Bình"), date(2))
        .expect("register b");
    let la = a
        .desk
        .lend(&mut a.store, "BD07", "TS001", date(3))
        .expect("lend a");
    let lb = b
        .desk
        .lend(&mut b.store, "BD07", "TS002", date(3))
        .expect("lend b");
    merge(&mut a, &mut b);
    let case = a.desk.inbox(&mut a.store).expect("inbox").remove(0);
    let Exception::CardRegisteredTwice { registrations, .. } = &case.exception else {
        panic!("expected a card registered twice: {case:?}");
    };
    let id_of = |name: &str| {
        registrations
            .iter()
            .find(|r| r.name == name)
            .expect("person")
            .id
            .clone()
    };
    let (an, binh) = (id_of("An"), id_of("Bình"));
    a.desk
        .resolve(
            &mut a.store,
            &case.id,
            &Resolution::GiveNewCard {
                registration: an,
                card: "BD08".into(),
            },
            date(4),
        )
        .expect("A gives An a new card");
    b.desk
        .resolve(
            &mut b.store,
            &case.id,
            &Resolution::GiveNewCard {
                registration: binh,
                card: "BD09".into(),
            },
            date(4),
        )
        .expect("B gives Bình a new card");
    merge(&mut a, &mut b);
    let inbox = a.desk.inbox(&mut a.store).expect("inbox");
    assert_eq!(inbox, b.desk.inbox(&mut b.store).expect("inbox"));
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(matches!(&inbox[0].exception, Exception::CardReplaced { card, .. } if card == "BD07"));
    a.desk
        .resolve(
            &mut a.store,
            &inbox[0].id,
            &Resolution::RetireCard {
                card: "BD07".into(),
            },
            date(5),
        )
        .expect("retire");
    merge(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
        let loans = |d: &Device, card: &str| -> Vec<String> {
            d.desk
                .loans_of(d.store.connection(), card)
                .expect("loans")
                .into_iter()
                .map(|l| l.id)
                .collect()
        };
        assert_eq!(
            d.desk
                .reader_profile(&mut d.store, "BD08")
                .expect("An")
                .name,
            "An"
        );
        assert_eq!(
            d.desk
                .reader_profile(&mut d.store, "BD09")
                .expect("Bình")
                .name,
            "Bình"
        );
        assert_eq!(loans(d, "BD08"), vec![la.loan.clone()]);
        assert_eq!(loans(d, "BD09"), vec![lb.loan.clone()]);
        assert!(loans(d, "BD07").is_empty());
        assert!(matches!(
            d.desk.lend(&mut d.store, "BD07", "TS003", date(6)),
            Err(DeskError::Refused(_))
        ));
    }
}

/// Desk A keeps its loan and then takes the copy back; desk B, apart, kept the other loan.
/// The copy was seen back: it is on the shelf after the merge, and nothing is left open.
#[test]
fn a_copy_seen_back_stays_back_whatever_another_desk_chose_apart() {
    use crate::circulation::exceptions::Resolution;
    let (mut a, mut b) = (device("desk-a"), device("desk-b"));
    stock(&mut a);
    merge(&mut a, &mut b);
    b.desk
        .add_reader(
            &mut b.store,
            "BD02",
            "Lê Văn Nam",
            "child",
            date(31),
            date(1),
        )
        .expect("reader");
    let la = a
        .desk
        .lend(&mut a.store, "BD01", "TS001", date(2))
        .expect("lend a");
    let lb = b
        .desk
        .lend(&mut b.store, "BD02", "TS001", date(2))
        .expect("lend b");
    merge(&mut a, &mut b);
    let id = a.desk.inbox(&mut a.store).expect("inbox")[0].id.clone();
    let keep_a = Resolution::KeepLoan {
        loan: la.loan.clone(),
    };
    a.desk
        .resolve(&mut a.store, &id, &keep_a, date(3))
        .expect("keep at A");
    a.desk
        .return_copy(&mut a.store, "TS001", date(4))
        .expect("back at A");
    let keep_b = Resolution::KeepLoan {
        loan: lb.loan.clone(),
    };
    b.desk
        .resolve(&mut b.store, &id, &keep_b, date(3))
        .expect("keep at B");
    merge(&mut a, &mut b);
    for d in [&mut a, &mut b] {
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
        assert!(matches!(
            d.desk.copy(&mut d.store, "TS001").expect("copy").status,
            super::CopyStatus::Available
        ));
    }
}
