//! `tusach serve --demo`: fills an empty data folder with a living Vietnamese commune library,
//! so a newcomer sees search results, loans and an exceptions inbox at once.
//!
//! Records come from [`crate::sample`]; copies, readers (registered over the past five years,
//! some in each recent month), a year of loans and returns, and two months of in-house uses
//! go through the real [`Desk`], so the demo data obeys the same rules as real work. The few
//! exceptions are made the way an offline desk would: a loan recorded without seeing the
//! other desk's loan.

use chrono::{Datelike, Days, NaiveDate};
use tusach_sync::{EntityKey, Store, StoreError, Value, WriteBatch};

use crate::catalogue;
use crate::circulation::library::{Desk, DeskError, LOANS};
use crate::circulation::policy::commune_defaults;
use crate::sample::SampleLibrary;

/// The demo library's id (its scope is `library:xa-nghi-phu`).
pub const DEMO_LIBRARY: &str = "xa-nghi-phu";
pub const DEMO_LIBRARY_NAME: &str = "Thư viện xã Nghi Phú";

/// What `seed` made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub records: u64,
    pub copies: u64,
    pub readers: u64,
    pub loans: u64,
    pub returns: u64,
    pub visits: i64,
}

/// The demo library's desk, with the rules every commune library starts with.
pub fn demo_desk(desk: &str) -> Result<Desk, DeskError> {
    let (policy, closed) = commune_defaults();
    Desk::new(DEMO_LIBRARY, policy, closed, desk)
}

/// Seeds an empty store; does nothing if it already holds data.
pub fn seed(store: &mut Store, today: NaiveDate) -> Result<Option<DemoSummary>, DeskError> {
    // Empty means no library data yet: a folder enrolled in a network already holds the
    // network's certificates, and still gets the demo library.
    if crate::db::record_count(store.connection())? > 0
        || crate::db::reader_count(store.connection())? > 0
    {
        return Ok(None);
    }
    let library = SampleLibrary::new(2026);
    let mut summary = DemoSummary {
        records: 2_000,
        ..DemoSummary::default()
    };
    for start in (0..summary.records).step_by(100) {
        let mut batch = WriteBatch::new();
        for n in start..start + 100 {
            catalogue::put_record(&mut batch, &library.record(n));
        }
        store.commit(&batch)?;
    }
    let desk = demo_desk(&store.device_id().to_hex())?;
    summary.copies = add_copies(store, &desk, &library, today)?;
    summary.readers = add_readers(store, &desk, &library, today)?;
    let (loans, returns, visits) = a_year_of_loans(store, &desk, today)?;
    summary.loans = loans;
    summary.returns = returns;
    summary.visits = visits;
    add_offline_conflicts(store, &desk, today)?;
    Ok(Some(summary))
}

fn barcode(n: u64) -> String {
    format!("TS{n:06}")
}

fn card(n: u64) -> String {
    format!("BD{n:04}")
}

/// About 3,000 copies: one per record, a second for every second record; every 50th record
/// is a reference book. Most were acquired years ago; every 25th copy in the past year, so
/// each month's acquisitions report has some.
fn add_copies(
    store: &mut Store,
    desk: &Desk,
    library: &SampleLibrary,
    today: NaiveDate,
) -> Result<u64, DeskError> {
    let mut count = 0;
    for start in (0..2_000u64).step_by(100) {
        let mut batch = WriteBatch::new();
        for record in start..start + 100 {
            let copies = if record % 2 == 0 { 2 } else { 1 };
            let item_type = if record % 50 == 0 {
                "reference"
            } else {
                "book"
            };
            let sample = library.record(record);
            let shelf = crate::holdings::suggested_shelf(&sample.ddc, item_type);
            for _ in 0..copies {
                desk.put_copy_on_shelf(&mut batch, &barcode(count), &sample.id, item_type, &shelf);
                let days_ago = if count % 25 == 7 {
                    (count / 25) * 3 % 365
                } else {
                    400 + (count * 53) % (6 * 365)
                };
                let acquired = today.checked_sub_days(Days::new(days_ago)).unwrap_or(today);
                desk.put_acquired(&mut batch, &barcode(count), acquired);
                count += 1;
            }
        }
        store.commit(&batch)?;
    }
    Ok(count)
}

/// The day reader `n` registered. Most joined over the past five years; every tenth reader
/// joined in the last six months, about one a week, so each recent month has new readers.
fn registered_on(n: u64, today: NaiveDate) -> NaiveDate {
    let days_ago = if n % 10 == 3 {
        1 + (n / 10) * 6
    } else {
        180 + (n * 37) % (5 * 365)
    };
    today.checked_sub_days(Days::new(days_ago)).unwrap_or(today)
}

fn add_readers(
    store: &mut Store,
    desk: &Desk,
    library: &SampleLibrary,
    today: NaiveDate,
) -> Result<u64, DeskError> {
    let mut batch = WriteBatch::new();
    for n in 0..300u64 {
        let category = match n % 10 {
            0..=4 => "child",
            5..=7 => "student",
            8 => "teacher",
            _ => "adult",
        };
        // A few cards ran out last month: the desk will say so.
        let expires = if n % 37 == 0 {
            today.checked_sub_days(Days::new(20)).unwrap_or(today)
        } else {
            today.checked_add_days(Days::new(200 + n)).unwrap_or(today)
        };
        desk.put_reader(
            &mut batch,
            &card(n),
            &library.reader_name(n),
            category,
            expires,
            registered_on(n, today),
        );
    }
    store.commit(&batch)?;
    Ok(300)
}

/// Each open day of the past year, a few readers borrow and earlier loans come back; a loan
/// the desk refuses (expired card, too many books) is simply not made, as at a real desk.
fn a_year_of_loans(
    store: &mut Store,
    desk: &Desk,
    today: NaiveDate,
) -> Result<(u64, u64, i64), DeskError> {
    let mut rng = fastrand::Rng::with_seed(7);
    // Its own sequence, so counting in-house uses does not change which loans are made.
    let mut in_house = fastrand::Rng::with_seed(11);
    let mut open: Vec<(String, NaiveDate)> = Vec::new();
    let (mut loans, mut returns, mut visits) = (0, 0, 0);
    for days_ago in (1..=365u64).rev() {
        let Some(day) = today.checked_sub_days(Days::new(days_ago)) else {
            continue;
        };
        if day.weekday() == chrono::Weekday::Sun {
            continue;
        }
        // Visitors counted at the door: more on Saturdays, fewer in the Tết weeks.
        let visitors = match (day.weekday(), day.month()) {
            (chrono::Weekday::Sat, _) => rng.i64(25..60),
            (_, 2) => rng.i64(2..10),
            _ => rng.i64(8..30),
        };
        desk.count_visits(store, day, visitors)?;
        visits += visitors;
        for _ in 0..rng.usize(4..12) {
            let n = rng.u64(0..300);
            let copy = barcode(rng.u64(0..3_000));
            // Nobody borrows before they joined.
            if registered_on(n, today) > day {
                continue;
            }
            match desk.lend(store, &card(n), &copy, day) {
                Ok(_) => {
                    loans += 1;
                    open.push((copy, day));
                }
                Err(DeskError::Refused(_)) => {}
                Err(other) => return Err(other),
            }
        }
        // Most books come back within two to three weeks; some stay out and become overdue.
        let mut still_out = Vec::new();
        for (copy, out) in open.drain(..) {
            let kept = (day - out).num_days();
            if kept >= 5 && rng.u32(0..100) < 12 && days_ago > 3 {
                desk.return_copy(store, &copy, day)?;
                returns += 1;
            } else {
                still_out.push((copy, out));
            }
        }
        open = still_out;
        // Over the last two months, a few books read in the library each open day.
        if days_ago <= 60 {
            for _ in 0..in_house.usize(0..4) {
                desk.count_in_house(store, &barcode(in_house.u64(0..3_000)), day)?;
            }
        }
    }
    Ok((loans, returns, visits))
}

/// Two loans recorded as an offline desk would have: for copies already out, without seeing
/// the loan made here. They show in the exceptions inbox.
fn add_offline_conflicts(
    store: &mut Store,
    desk: &Desk,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT copy, reader FROM loan_index WHERE returned IS NULL ORDER BY out LIMIT 2",
    )?;
    let out: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    let mut batch = WriteBatch::new();
    for (n, (copy, reader)) in out.into_iter().enumerate() {
        let key = EntityKey::new(desk.scope(), LOANS, format!("loan-offline-{n}"));
        let day = today.checked_sub_days(Days::new(2)).unwrap_or(today);
        let due = today.checked_add_days(Days::new(12)).unwrap_or(today);
        batch
            .put(&key, "copy", copy.as_str())
            .put(&key, "reader", reader.as_str())
            .put(&key, "out", day.format("%Y-%m-%d").to_string())
            .put(&key, "due", due.format("%Y-%m-%d").to_string())
            .put(&key, "renewals", Value::Counter(0))
            .put(&key, "desk", "desk-offline-laptop");
    }
    if !batch.is_empty() {
        store.commit(&batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_library_is_alive_and_seeding_twice_does_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
        crate::query_tables::attach(&mut store).expect("attach");
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let summary = seed(&mut store, today).expect("seed").expect("seeded");
        assert_eq!((summary.records, summary.readers), (2_000, 300));
        assert!(summary.copies >= 3_000, "{summary:?}");
        assert!(
            summary.loans > 1_000 && summary.returns > 500,
            "{summary:?}"
        );
        assert!(summary.visits > 3_000, "{summary:?}");
        let desk = demo_desk("test").expect("desk");
        let facts = crate::reports::LibraryFacts::gather(&mut store, desk.scope()).expect("facts");
        let october = crate::reports::PeriodReport::of(
            &facts,
            crate::reports::Period::Month {
                year: 2026,
                month: 10,
            },
        );
        assert!(
            october.new_readers > 0 && october.in_house_uses > 0,
            "{october:?}"
        );
        let inbox = desk.exceptions(&mut store).expect("inbox");
        assert!(
            inbox.iter().any(|e| matches!(
                e,
                crate::circulation::exceptions::Exception::CopyLentTwice { .. }
            )),
            "{inbox:?}"
        );
        assert_eq!(seed(&mut store, today).expect("second seed"), None);
    }
}
