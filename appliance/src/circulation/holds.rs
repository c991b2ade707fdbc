//! Holds (reservations): a queue of readers waiting for a record, and who gets a copy when
//! one comes back. Pure decisions over the holds the desk can see, like [`super::desk`].
//!
//! The queue is ordered by when each hold was placed, then by its id, so every replica agrees
//! on who is first after a merge. A copy set aside for a reader waits on the pickup shelf for
//! a few open days; unclaimed, it passes to the next in the queue.

use chrono::NaiveDate;

use super::policy::ClosedDays;

/// A reader waiting for a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    pub id: String,
    pub record: String,
    pub reader: String,
    pub placed: NaiveDate,
    /// Set once a copy was put aside for this reader: which one, and until when.
    pub waiting: Option<Shelved>,
}

/// A copy on the pickup shelf for a hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shelved {
    pub copy: String,
    pub until: NaiveDate,
}

/// Why a hold cannot be placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldRefusal {
    AlreadyQueued,
    AlreadyBorrowed,
    TooManyHolds { max: usize },
}

/// How many holds a reader may have at once.
pub const MAX_HOLDS: usize = 5;
/// How many open days a copy waits on the pickup shelf.
pub const PICKUP_OPEN_DAYS: u32 = 3;

/// May `reader` place a hold on `record`? `holds` are all holds of the library; `borrowing`
/// are the records the reader has on loan now.
pub fn check_hold(
    reader: &str,
    record: &str,
    holds: &[Hold],
    borrowing: &[String],
) -> Result<(), Vec<HoldRefusal>> {
    let mut refusals = Vec::new();
    let own: Vec<&Hold> = holds.iter().filter(|h| h.reader == reader).collect();
    if own.iter().any(|h| h.record == record) {
        refusals.push(HoldRefusal::AlreadyQueued);
    }
    if borrowing.iter().any(|r| r == record) {
        refusals.push(HoldRefusal::AlreadyBorrowed);
    }
    if own.len() >= MAX_HOLDS {
        refusals.push(HoldRefusal::TooManyHolds { max: MAX_HOLDS });
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

/// The queue for a record, first in line first.
pub fn queue<'a>(record: &str, holds: &'a [Hold]) -> Vec<&'a Hold> {
    let mut line: Vec<&Hold> = holds.iter().filter(|h| h.record == record).collect();
    line.sort_by(|a, b| (a.placed, &a.id).cmp(&(b.placed, &b.id)));
    line
}

/// What to do with a copy of `record` that came back (or whose pickup time ran out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyGoes {
    /// Put it on the pickup shelf for this hold until the day given.
    ToPickupShelf { hold: String, until: NaiveDate },
    /// Nobody is waiting: back to the shelf.
    ToShelf,
}

/// Who gets `copy` of `record` today: the first hold in line that is not already waiting for
/// another copy.
pub fn route_returned_copy(
    record: &str,
    holds: &[Hold],
    closed: &ClosedDays,
    today: NaiveDate,
) -> CopyGoes {
    match queue(record, holds)
        .into_iter()
        .find(|h| h.waiting.is_none())
    {
        Some(hold) => CopyGoes::ToPickupShelf {
            hold: hold.id.clone(),
            until: pickup_deadline(closed, today),
        },
        None => CopyGoes::ToShelf,
    }
}

/// The last day a shelved copy waits: `PICKUP_OPEN_DAYS` open days after today.
pub fn pickup_deadline(closed: &ClosedDays, today: NaiveDate) -> NaiveDate {
    let mut day = today;
    for _ in 0..PICKUP_OPEN_DAYS {
        day = closed.next_open(day.succ_opt().unwrap_or(day));
    }
    day
}

/// Holds whose copy waited past its deadline: they lapse, and their copies go to the next in
/// line (route each again with [`route_returned_copy`] once the lapsed hold is removed).
pub fn lapsed(holds: &[Hold], today: NaiveDate) -> Vec<&Hold> {
    holds
        .iter()
        .filter(|h| h.waiting.as_ref().is_some_and(|w| w.until < today))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("valid date")
    }

    fn hold(id: &str, reader: &str, placed: u32) -> Hold {
        Hold {
            id: id.into(),
            record: "rec-kieu".into(),
            reader: reader.into(),
            placed: date(placed),
            waiting: None,
        }
    }

    fn sundays_closed() -> ClosedDays {
        let mut closed = ClosedDays::default();
        closed.close_weekly(Weekday::Sun);
        closed
    }

    #[test]
    fn a_hold_is_refused_when_queued_already_borrowed_or_one_too_many() {
        let holds: Vec<Hold> = (0..5)
            .map(|n| Hold {
                record: format!("rec-{n}"),
                ..hold(&format!("h{n}"), "BD01", 1)
            })
            .collect();
        assert_eq!(
            check_hold("BD01", "rec-0", &holds, &["rec-0".into()]),
            Err(vec![
                HoldRefusal::AlreadyQueued,
                HoldRefusal::AlreadyBorrowed,
                HoldRefusal::TooManyHolds { max: MAX_HOLDS }
            ])
        );
        assert_eq!(check_hold("BD02", "rec-0", &holds, &[]), Ok(()));
    }

    #[test]
    fn the_queue_is_first_come_first_served_and_the_same_on_every_replica() {
        let holds = [
            hold("h3", "BD03", 4),
            hold("h1", "BD01", 2),
            hold("h2", "BD02", 2),
        ];
        let order: Vec<&str> = queue("rec-kieu", &holds)
            .iter()
            .map(|h| h.id.as_str())
            .collect();
        assert_eq!(order, vec!["h1", "h2", "h3"]);
    }

    #[test]
    fn a_returned_copy_goes_to_the_first_reader_not_already_served() {
        let closed = sundays_closed();
        let mut first = hold("h1", "BD01", 2);
        first.waiting = Some(Shelved {
            copy: "TS001".into(),
            until: date(9),
        });
        let holds = [first, hold("h2", "BD02", 3)];
        // Thursday the 5th: three open days later is Monday the 9th (Sunday is closed).
        assert_eq!(
            route_returned_copy("rec-kieu", &holds, &closed, date(5)),
            CopyGoes::ToPickupShelf {
                hold: "h2".into(),
                until: date(9)
            }
        );
        assert_eq!(
            route_returned_copy("rec-other", &holds, &closed, date(5)),
            CopyGoes::ToShelf
        );
    }

    #[test]
    fn an_unclaimed_copy_lapses_after_its_deadline() {
        let mut waiting = hold("h1", "BD01", 2);
        waiting.waiting = Some(Shelved {
            copy: "TS001".into(),
            until: date(9),
        });
        let holds = [waiting, hold("h2", "BD02", 3)];
        assert!(lapsed(&holds, date(9)).is_empty());
        let gone: Vec<&str> = lapsed(&holds, date(10))
            .iter()
            .map(|h| h.id.as_str())
            .collect();
        assert_eq!(gone, vec!["h1"]);
    }
}
