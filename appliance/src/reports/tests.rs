//! Reports from a small library with known figures, on a real store.

use chrono::NaiveDate;
use tusach_sync::{Store, WriteBatch};

use super::*;
use crate::catalogue;
use crate::circulation::library::Desk;
use crate::circulation::policy::{ClosedDays, PolicyMatrix};

fn day(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, d).expect("valid date")
}

/// Two records (literature and science), three copies, three readers, five loans over two
/// months, visits at two desks.
fn small_library() -> (LibraryFacts, tempfile::TempDir) {
    let (mut store, desk, dir) = small_store();
    let facts = LibraryFacts::gather(&mut store, desk.scope()).expect("facts");
    (facts, dir)
}

fn small_store() -> (Store, Desk, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    let mut batch = WriteBatch::new();
    for (id, title, ddc) in [
        ("rec-kieu", "Truyện Kiều", "895.9221"),
        ("rec-sao", "Bầu trời sao", "523.8"),
    ] {
        catalogue::put_field(&mut batch, id, "title", title);
        catalogue::put_field(&mut batch, id, "ddc", ddc);
    }
    store.commit(&batch).expect("records");
    let desk = |name: &str| {
        Desk::new(
            "xa-nghi-phu",
            PolicyMatrix::default(),
            ClosedDays::default(),
            name,
        )
        .expect("desk")
    };
    let (a, b) = (desk("desk-a"), desk("desk-b"));
    for (barcode, record) in [
        ("TS1", "rec-kieu"),
        ("TS2", "rec-kieu"),
        ("TS3", "rec-sao"),
        ("TS4", "rec-unknown"),
    ] {
        a.add_copy(&mut store, barcode, record, "book")
            .expect("copy");
    }
    // Each joined the month before their first loan, or that month.
    for (card, category, registered) in [
        ("BD1", "child", day(3, 1)),
        ("BD2", "child", day(4, 1)),
        ("BD3", "teacher", day(2, 20)),
    ] {
        a.add_reader(
            &mut store,
            card,
            "Lê Văn Tám",
            category,
            day(12, 31),
            registered,
        )
        .expect("reader");
    }
    // March: BD1 borrows TS1 and TS3, BD3 borrows TS2; TS1 comes back in April.
    a.lend(&mut store, "BD1", "TS1", day(3, 2)).expect("lend");
    a.lend(&mut store, "BD1", "TS3", day(3, 2)).expect("lend");
    let renewed = a.lend(&mut store, "BD3", "TS2", day(3, 9)).expect("lend");
    a.renew(&mut store, &renewed.loan, day(3, 16))
        .expect("renew");
    a.return_copy(&mut store, "TS1", day(4, 6)).expect("return");
    // April: BD2 borrows TS1 and the unclassified TS4.
    a.lend(&mut store, "BD2", "TS1", day(4, 7)).expect("lend");
    a.lend(&mut store, "BD2", "TS4", day(4, 7)).expect("lend");
    a.count_visits(&mut store, day(3, 2), 10).expect("visits");
    b.count_visits(&mut store, day(3, 2), 5).expect("visits");
    b.count_visits(&mut store, day(3, 30), 1).expect("visits");
    a.count_visits(&mut store, day(4, 1), 7).expect("visits");
    // In-house uses: TS1 twice in March (at two desks), TS3 once in March, TS2 once in April.
    a.count_in_house(&mut store, "TS1", day(3, 2))
        .expect("in-house");
    b.count_in_house(&mut store, "TS1", day(3, 2))
        .expect("in-house");
    a.count_in_house(&mut store, "TS3", day(3, 31))
        .expect("in-house");
    b.count_in_house(&mut store, "TS2", day(4, 1))
        .expect("in-house");
    (store, a, dir)
}

#[test]
fn monthly_figures_of_a_small_library() {
    let (facts, _dir) = small_library();
    let march = PeriodReport::of(
        &facts,
        Period::Month {
            year: 2026,
            month: 3,
        },
    );
    assert_eq!(
        (march.loans, march.returns, march.renewals, march.visits),
        (3, 0, 1, 16)
    );
    assert_eq!((march.active_readers, march.first_time_borrowers), (2, 2));
    assert_eq!((march.in_house_uses, march.new_readers), (3, 1));
    assert_eq!(
        march.loans_by_category,
        vec![
            ("child".to_owned(), 2),
            ("student".to_owned(), 0),
            ("teacher".to_owned(), 1),
            ("adult".to_owned(), 0)
        ]
    );
    assert_eq!((march.loans_by_class[8], march.loans_by_class[5]), (2, 1));
    assert_eq!(march.loans_unclassified, 0);
    assert_eq!(march.collection_by_class.iter().sum::<i64>(), 3);
    assert_eq!(march.collection_unclassified, 1);

    let april = PeriodReport::of(
        &facts,
        Period::Month {
            year: 2026,
            month: 4,
        },
    );
    assert_eq!(
        (
            april.loans,
            april.returns,
            april.visits,
            april.active_readers
        ),
        (2, 1, 7, 1)
    );
    assert_eq!(april.first_time_borrowers, 1);
    assert_eq!((april.in_house_uses, april.new_readers), (1, 1));
    let february = PeriodReport::of(
        &facts,
        Period::Month {
            year: 2026,
            month: 2,
        },
    );
    assert_eq!((february.new_readers, february.in_house_uses), (1, 0));
    assert_eq!((april.loans_by_class[8], april.loans_unclassified), (1, 1));
    assert_eq!(
        PeriodReport::of(
            &facts,
            Period::Month {
                year: 2025,
                month: 3
            }
        )
        .loans,
        0
    );
}

#[test]
fn the_year_has_twelve_months_and_a_top_list() {
    let (facts, _dir) = small_library();
    let year = YearStatistics::of(&facts, 2026);
    let mut expected = [0i64; 12];
    expected[2] = 3;
    expected[3] = 2;
    assert_eq!(year.loans_per_month, expected);
    assert_eq!(
        (year.visits_per_month[2], year.visits_per_month[3]),
        (16, 7)
    );
    assert_eq!(
        (year.in_house_per_month[2], year.in_house_per_month[3]),
        (3, 1)
    );
    assert_eq!(year.top_titles[0].title, "Truyện Kiều");
    assert_eq!(year.top_titles[0].loans, 3);
    assert_eq!(year.collection_by_class[8], 2);
    assert_eq!(year.unclassified_copies, 1);
    assert_eq!(YearStatistics::of(&facts, 2025).loans_per_month, [0; 12]);
}

#[test]
fn ddc_numbers_fall_into_their_main_class() {
    for (ddc, class) in [
        ("895.922", Some(8)),
        ("004", Some(0)),
        ("959.704", Some(9)),
        (" 500 ", Some(5)),
        ("5", None),
        ("", None),
        ("abc", None),
        ("1234", None),
    ] {
        assert_eq!(ddc_class(ddc), class, "{ddc:?}");
    }
}

#[test]
fn a_loan_closed_as_lent_by_mistake_is_not_counted() {
    let (mut store, desk, _dir) = small_store();
    // Another desk, offline, lent TS3 again in March although BD1 has it.
    let key = tusach_sync::EntityKey::new(desk.scope(), "loans", "loan-offline");
    let mut batch = WriteBatch::new();
    batch
        .put(&key, "copy", "TS3")
        .put(&key, "reader", "BD2")
        .put(&key, "out", "2026-03-20")
        .put(&key, "due", "2026-04-03")
        .put(&key, "renewals", tusach_sync::Value::Counter(0))
        .put(&key, "desk", "desk-b");
    store.commit(&batch).expect("offline loan");
    let facts = LibraryFacts::gather(&mut store, desk.scope()).expect("facts");
    assert_eq!(
        PeriodReport::of(
            &facts,
            Period::Month {
                year: 2026,
                month: 3
            }
        )
        .loans,
        4
    );

    let inbox = desk.inbox(&mut store).expect("inbox");
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let keep = inbox[0]
        .resolutions
        .iter()
        .find(|r| !matches!(r, crate::circulation::exceptions::Resolution::KeepLoan { loan } if loan == "loan-offline"))
        .expect("keep BD1's loan")
        .clone();
    desk.resolve(&mut store, &inbox[0].id, &keep, day(3, 25))
        .expect("resolve");
    let facts = LibraryFacts::gather(&mut store, desk.scope()).expect("facts");
    let march = PeriodReport::of(
        &facts,
        Period::Month {
            year: 2026,
            month: 3,
        },
    );
    assert_eq!((march.loans, march.active_readers), (3, 2));
}

/// The district's view on a store holding one named library and the name of another it
/// holds no data of; the store's own data in an unnamed library is not listed.
#[test]
fn the_district_lists_named_libraries_and_counts_those_it_holds() {
    let (mut store, _desk, _dir) = small_store();
    for (id, name) in [
        ("xa-nghi-phu", "Thư viện xã Nghi Phú"),
        ("xa-nghi-thai", "Thư viện xã Nghi Thái"),
    ] {
        crate::home_library::HomeLibrary {
            id: id.to_owned(),
            name: String::new(),
        }
        .name_if_unnamed(&mut store, Some(name))
        .expect("name");
    }
    let unnamed = Desk::new(
        "thu-vien-huyen",
        PolicyMatrix::default(),
        ClosedDays::default(),
        "hub",
    )
    .expect("desk");
    unnamed
        .count_visits(&mut store, day(3, 2), 4)
        .expect("visits");

    let months = district::report_by_library(
        &mut store,
        Period::Month {
            year: 2026,
            month: 3,
        },
    )
    .expect("district");
    let listed: Vec<(&str, bool)> = months
        .iter()
        .map(|m| (m.library.id.as_str(), m.library.held))
        .collect();
    assert_eq!(listed, [("xa-nghi-phu", true), ("xa-nghi-thai", false)]);
    let held = months[0]
        .report
        .as_ref()
        .expect("a report for the held library");
    assert_eq!((held.loans, held.visits), (3, 16));
    assert_eq!(
        held,
        &PeriodReport::of(
            &small_library().0,
            Period::Month {
                year: 2026,
                month: 3
            }
        )
    );
    assert!(months[1].report.is_none());

    let rows = ["rec-kieu", "rec-sao", "rec-none"]
        .iter()
        .map(|id| crate::search::record_row(id, &Default::default()))
        .collect();
    let titles = district::union_holdings(store.connection(), rows).expect("union");
    let copies = |i: usize| {
        titles[i]
            .libraries
            .get("xa-nghi-phu")
            .map(|c| (c.on_shelf, c.reading_room, c.on_loan, c.total()))
    };
    // In April TS1 went out again and TS2 is still out: both Truyện Kiều copies are lent.
    assert_eq!(copies(0), Some((0, 0, 2, 2)));
    assert_eq!(copies(1), Some((0, 0, 1, 1)));
    assert!(titles[2].libraries.is_empty());
}

#[test]
fn periods_are_months_or_years() {
    assert_eq!(
        Period::parse("2026-09"),
        Some(Period::Month {
            year: 2026,
            month: 9
        })
    );
    assert_eq!(Period::parse(" 2026 "), Some(Period::Year(2026)));
    for bad in [
        "",
        "2026-13",
        "2026-9",
        "26-09",
        "2026/09",
        "1999",
        "2101-01",
        "<b>",
        "2026-",
        "-09",
        "２０２６",
    ] {
        assert_eq!(Period::parse(bad), None, "{bad:?}");
    }
    for period in [
        Period::Year(2026),
        Period::Month {
            year: 2026,
            month: 1,
        },
    ] {
        assert_eq!(Period::parse(&period.label()), Some(period));
    }
}

#[test]
fn a_year_counts_what_its_months_count() {
    let (facts, _dir) = small_library();
    let year = PeriodReport::of(&facts, Period::Year(2026));
    let months: Vec<PeriodReport> = (1..=12)
        .map(|month| PeriodReport::of(&facts, Period::Month { year: 2026, month }))
        .collect();
    assert_eq!(year.loans, months.iter().map(|m| m.loans).sum::<i64>());
    assert_eq!(year.loans, 5);
    assert_eq!(year.visits, months.iter().map(|m| m.visits).sum::<i64>());
    assert_eq!(year.new_readers, 3);
    assert_eq!(year.active_readers, 3);
    assert_eq!(PeriodReport::of(&facts, Period::Year(2025)).loans, 0);
}

#[test]
fn readers_by_category_and_copies_acquired() {
    let (mut store, desk, _dir) = small_store();
    // Copies added through cataloguing record the day they came; the four of `small_store`
    // (added at the desk) do not, and are not counted as acquisitions.
    let new = crate::cataloguing::NewCopies {
        record: "rec-kieu".into(),
        barcodes: vec!["TS10".into(), "TS11".into()],
        shelf: "Kệ 9".into(),
        item_type: "book".into(),
        acquired: day(4, 20),
    };
    crate::cataloguing::add_copies(&mut store, &desk, &new).expect("copies");
    let facts = LibraryFacts::gather(&mut store, desk.scope()).expect("facts");
    let april = PeriodReport::of(
        &facts,
        Period::Month {
            year: 2026,
            month: 4,
        },
    );
    assert_eq!(april.new_copies, 2);
    assert_eq!(
        PeriodReport::of(
            &facts,
            Period::Month {
                year: 2026,
                month: 3
            }
        )
        .new_copies,
        0
    );
    assert_eq!(PeriodReport::of(&facts, Period::Year(2026)).new_copies, 2);
    assert_eq!(
        april.readers_by_category,
        vec![
            ("child".to_owned(), 2),
            ("student".to_owned(), 0),
            ("teacher".to_owned(), 1),
            ("adult".to_owned(), 0),
        ]
    );
    let collection: i64 =
        april.collection_by_class.iter().sum::<i64>() + april.collection_unclassified;
    assert_eq!(collection, 6);
}
