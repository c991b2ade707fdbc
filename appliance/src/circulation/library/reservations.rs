//! Holds as entities (collection `holds`), the return that routes a copy to the first reader
//! waiting for it, and in-house use counted per copy per day.
//!
//! A hold's `status` is one of `queued`, `waiting` (a copy is on the pickup shelf: `copy`,
//! `until`), `collected`, `cancelled` or `lapsed`. Who is first is decided by
//! [`crate::circulation::holds`] from the holds still open, so every replica agrees after a
//! merge. Holds are few (a commune library has tens, not thousands), so they are read by
//! scanning the collection rather than through a query table.

use chrono::NaiveDate;
use tusach_sync::{Entity, Store, Value, WriteBatch};

use super::{COPIES, Desk, DeskError, HOLDS, IN_HOUSE, READERS, ReturnReceipt, iso, new_id};
use crate::circulation::desk::Refusal;
use crate::circulation::holds::{self, CopyGoes, Hold, Shelved};
use crate::db;

/// Where a hold stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldStatus {
    Queued,
    Waiting { copy: String, until: NaiveDate },
    Collected,
    Cancelled,
    Lapsed,
}

/// A hold as the staff and the reader see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldEntry {
    pub id: String,
    pub record: String,
    pub reader: String,
    pub placed: NaiveDate,
    pub status: HoldStatus,
}

impl HoldEntry {
    pub fn is_open(&self) -> bool {
        matches!(self.status, HoldStatus::Queued | HoldStatus::Waiting { .. })
    }

    fn as_hold(&self) -> Option<Hold> {
        let waiting = match &self.status {
            HoldStatus::Queued => None,
            HoldStatus::Waiting { copy, until } => Some(Shelved {
                copy: copy.clone(),
                until: *until,
            }),
            _ => return None,
        };
        Some(Hold {
            id: self.id.clone(),
            record: self.record.clone(),
            reader: self.reader.clone(),
            placed: self.placed,
            waiting,
        })
    }
}

/// A copy put on the pickup shelf for a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRoute {
    pub hold: String,
    pub reader: String,
    pub copy: String,
    pub until: NaiveDate,
}

/// Everything a return at the desk did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnSlip {
    pub receipt: ReturnReceipt,
    /// The record the copy belongs to, when known.
    pub record: Option<String>,
    /// Days past due (0 when on time or when no loan was open here).
    pub late_days: i64,
    /// The fine owed in đồng; 0 when the library charges none.
    pub fine: i64,
    /// Someone is waiting for this record: the copy goes on the pickup shelf for them.
    pub hold: Option<HoldRoute>,
}

fn text<'a>(fields: &'a Entity, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

fn day(fields: &Entity, name: &str) -> Option<NaiveDate> {
    text(fields, name).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn entry(id: &str, fields: &Entity) -> Option<HoldEntry> {
    let status = match text(fields, "status").unwrap_or("queued") {
        "waiting" => match (text(fields, "copy"), day(fields, "until")) {
            (Some(copy), Some(until)) => HoldStatus::Waiting {
                copy: copy.to_owned(),
                until,
            },
            _ => HoldStatus::Queued,
        },
        "collected" => HoldStatus::Collected,
        "cancelled" => HoldStatus::Cancelled,
        "lapsed" => HoldStatus::Lapsed,
        _ => HoldStatus::Queued,
    };
    Some(HoldEntry {
        id: id.to_owned(),
        record: text(fields, "record")?.to_owned(),
        reader: text(fields, "reader")?.to_owned(),
        placed: day(fields, "placed")?,
        status,
    })
}

fn open_holds(entries: &[HoldEntry]) -> Vec<Hold> {
    entries.iter().filter_map(HoldEntry::as_hold).collect()
}

impl Desk {
    /// Every hold of the library, by record, then first in line first.
    pub fn holds(&self, store: &mut Store) -> Result<Vec<HoldEntry>, DeskError> {
        let mut entries = Vec::new();
        store.scan(&self.scope, HOLDS, |id, fields| {
            // A hold merged from a careless device without a record or date is not shown
            // rather than failing the whole page.
            if let Some(entry) = entry(id, fields) {
                entries.push(entry);
            }
        })?;
        // A hold placed on a record that was later merged (here or at a desk that had not
        // heard of the merge) waits for the surviving record's copies.
        for entry in &mut entries {
            entry.record = db::canonical_record(store.connection(), &entry.record)?;
        }
        entries.sort_by(|a, b| (&a.record, a.placed, &a.id).cmp(&(&b.record, b.placed, &b.id)));
        Ok(entries)
    }

    /// A reader's reservation of a record.
    pub fn place_hold(
        &self,
        store: &mut Store,
        card: &str,
        record: &str,
        today: NaiveDate,
    ) -> Result<String, DeskError> {
        let reader = self.reader(store, card)?;
        if db::record_title(store.connection(), record)?.is_none() {
            return Err(DeskError::UnknownRecord(record.to_owned()));
        }
        let mut borrowing = Vec::new();
        for loan in &reader.open_loans {
            if let Some((copy, _)) =
                db::copy_by_barcode(store.connection(), self.scope.as_str(), &loan.copy)?
            {
                borrowing.push(copy.record);
            }
        }
        let open = open_holds(&self.holds(store)?);
        holds::check_hold(card, record, &open, &borrowing).map_err(DeskError::HoldRefused)?;
        let id = new_id("hold")?;
        let key = self.key(HOLDS, &id);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "record", record)
            .put(&key, "reader", card)
            .put(&key, "placed", iso(today))
            .put(&key, "status", "queued");
        store.commit(&batch)?;
        Ok(id)
    }

    /// Where an open hold stands in its record's queue: 1 is first in line. `None` when the
    /// hold is not open (or unknown).
    pub fn queue_position(
        &self,
        store: &mut Store,
        hold: &str,
    ) -> Result<Option<usize>, DeskError> {
        let entries = self.holds(store)?;
        let open = open_holds(&entries);
        let Some(record) = open.iter().find(|h| h.id == hold).map(|h| h.record.clone()) else {
            return Ok(None);
        };
        Ok(holds::queue(&record, &open)
            .iter()
            .position(|h| h.id == hold)
            .map(|n| n + 1))
    }

    /// Cancels an open hold. A copy that was waiting for it goes to the next in line, if any.
    pub fn cancel_hold(
        &self,
        store: &mut Store,
        hold: &str,
        today: NaiveDate,
    ) -> Result<Option<HoldRoute>, DeskError> {
        let mut entries = self.holds(store)?;
        let Some(position) = entries.iter().position(|h| h.id == hold && h.is_open()) else {
            return Err(DeskError::UnknownHold(hold.to_owned()));
        };
        let cancelled = entries.remove(position);
        let mut batch = WriteBatch::new();
        batch.put(&self.key(HOLDS, hold), "status", "cancelled");
        let route = match &cancelled.status {
            HoldStatus::Waiting { copy, .. } => {
                self.route(&mut batch, &entries, &cancelled.record, copy, today)
            }
            _ => None,
        };
        store.commit(&batch)?;
        Ok(route)
    }

    /// Holds whose copy waited past its pickup day lapse; each copy goes to the next in line.
    pub fn lapse_holds(
        &self,
        store: &mut Store,
        today: NaiveDate,
    ) -> Result<Vec<HoldRoute>, DeskError> {
        let mut entries = self.holds(store)?;
        let lapsed: Vec<String> = holds::lapsed(&open_holds(&entries), today)
            .iter()
            .map(|h| h.id.clone())
            .collect();
        let mut batch = WriteBatch::new();
        let mut routes = Vec::new();
        for id in lapsed {
            let Some(position) = entries.iter().position(|h| h.id == id) else {
                continue;
            };
            let gone = entries.remove(position);
            batch.put(&self.key(HOLDS, &id), "status", "lapsed");
            if let HoldStatus::Waiting { copy, .. } = &gone.status
                && let Some(route) = self.route(&mut batch, &entries, &gone.record, copy, today)
            {
                if let Some(next) = entries.iter_mut().find(|h| h.id == route.hold) {
                    next.status = HoldStatus::Waiting {
                        copy: route.copy.clone(),
                        until: route.until,
                    };
                }
                routes.push(route);
            }
        }
        if !batch.is_empty() {
            store.commit(&batch)?;
        }
        Ok(routes)
    }

    /// Puts `copy` on the pickup shelf for the first open hold of `record` not yet served.
    fn route(
        &self,
        batch: &mut WriteBatch,
        entries: &[HoldEntry],
        record: &str,
        copy: &str,
        today: NaiveDate,
    ) -> Option<HoldRoute> {
        let open = open_holds(entries);
        match holds::route_returned_copy(record, &open, &self.closed, today) {
            CopyGoes::ToShelf => None,
            CopyGoes::ToPickupShelf { hold, until } => {
                let key = self.key(HOLDS, &hold);
                batch
                    .put(&key, "status", "waiting")
                    .put(&key, "copy", copy)
                    .put(&key, "until", iso(until));
                let reader = open
                    .iter()
                    .find(|h| h.id == hold)
                    .map(|h| h.reader.clone())
                    .unwrap_or_default();
                Some(HoldRoute {
                    hold,
                    reader,
                    copy: copy.to_owned(),
                    until,
                })
            }
        }
    }

    fn record_of_copy(
        &self,
        store: &mut Store,
        barcode: &str,
    ) -> Result<Option<String>, DeskError> {
        let record = store
            .get(&self.key(COPIES, barcode))?
            .and_then(|fields| text(&fields, "record").map(str::to_owned));
        // A copy catalogued under a record merged since belongs to the survivor.
        Ok(match record {
            Some(record) => Some(db::canonical_record(store.connection(), &record)?),
            None => None,
        })
    }

    /// The refusal to lend a copy that waits on the pickup shelf for someone else's hold.
    pub(super) fn held_for_other(
        holds: &[HoldEntry],
        card: &str,
        barcode: &str,
    ) -> Option<Refusal> {
        holds.iter().find_map(|hold| match &hold.status {
            HoldStatus::Waiting { copy, until } if copy == barcode && hold.reader != card => {
                Some(Refusal::CopyHeldForReader {
                    reader: hold.reader.clone(),
                    until: *until,
                })
            }
            _ => None,
        })
    }

    /// Lending closes the reader's own hold on the record; a copy that was on the pickup shelf
    /// for someone else sends that hold back to the queue for the next copy.
    pub(super) fn collect_holds(
        &self,
        store: &mut Store,
        holds: &[HoldEntry],
        batch: &mut WriteBatch,
        card: &str,
        barcode: &str,
        loan: &str,
    ) -> Result<(), DeskError> {
        if !holds.iter().any(HoldEntry::is_open) {
            return Ok(());
        }
        let Some(record) = self.record_of_copy(store, barcode)? else {
            return Ok(());
        };
        for hold in holds.iter().filter(|h| h.is_open()) {
            let key = self.key(HOLDS, &hold.id);
            if hold.record == record && hold.reader == card {
                batch
                    .put(&key, "status", "collected")
                    .put(&key, "loan", loan);
            } else if matches!(&hold.status, HoldStatus::Waiting { copy, .. } if copy == barcode) {
                batch
                    .put(&key, "status", "queued")
                    .put(&key, "copy", Value::Null)
                    .put(&key, "until", Value::Null);
            }
        }
        Ok(())
    }

    /// Takes a copy back, routes it to the first reader waiting for its record, and works out
    /// the fine (if the library charges fines). One commit.
    pub fn check_in(
        &self,
        store: &mut Store,
        barcode: &str,
        today: NaiveDate,
    ) -> Result<ReturnSlip, DeskError> {
        let mut batch = WriteBatch::new();
        let receipt = self.return_edits(store, &mut batch, barcode, today)?;
        let late_days = match &receipt {
            ReturnReceipt::Closed { late_days, .. } => *late_days,
            ReturnReceipt::Recorded => 0,
        };
        let record = self.record_of_copy(store, barcode)?;
        let hold = match &record {
            Some(record) => {
                let entries = self.holds(store)?;
                // A copy already on the shelf for someone (scanned twice) stays theirs.
                let already = entries.iter().find(
                    |h| matches!(&h.status, HoldStatus::Waiting { copy, .. } if copy == barcode),
                );
                match already {
                    Some(HoldEntry {
                        id,
                        reader,
                        status: HoldStatus::Waiting { until, .. },
                        ..
                    }) => Some(HoldRoute {
                        hold: id.clone(),
                        reader: reader.clone(),
                        copy: barcode.to_owned(),
                        until: *until,
                    }),
                    _ => self.route(&mut batch, &entries, record, barcode, today),
                }
            }
            None => None,
        };
        store.commit(&batch)?;
        Ok(ReturnSlip {
            receipt,
            record,
            late_days,
            fine: self.policy.fine(late_days),
            hold,
        })
    }

    /// Counts one in-house use of a copy (read in the library, put back on the cart) today.
    ///
    /// One entity per copy and day; each desk counts in its own counter field, as
    /// [`Desk::count_visits`] does, so uses counted offline at two desks add up.
    pub fn count_in_house(
        &self,
        store: &mut Store,
        barcode: &str,
        day: NaiveDate,
    ) -> Result<i64, DeskError> {
        if store.get(&self.key(COPIES, barcode))?.is_none() {
            return Err(DeskError::UnknownCopy(barcode.to_owned()));
        }
        let key = self.key(IN_HOUSE, &format!("{}/{barcode}", iso(day)));
        let mut batch = WriteBatch::new();
        batch.increment(&key, &self.desk, 1);
        store.commit(&batch)?;
        Ok(store
            .get(&key)?
            .map(|desks| desks.values().filter_map(Value::as_int).sum())
            .unwrap_or(0))
    }

    /// In-house uses counted by all desks from `from` to `to`, both included.
    pub fn in_house_uses(
        &self,
        store: &mut Store,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, DeskError> {
        let (from, to) = (iso(from), iso(to));
        let mut total = 0;
        store.scan(&self.scope, IN_HOUSE, |id, desks| {
            let day = id.split('/').next().unwrap_or_default();
            if day >= from.as_str() && day <= to.as_str() {
                total += desks.values().filter_map(Value::as_int).sum::<i64>();
            }
        })?;
        Ok(total)
    }

    /// Whether a reader card exists (the desk page tells cards from copies this way too).
    pub fn reader_exists(&self, store: &mut Store, card: &str) -> Result<bool, DeskError> {
        Ok(store.get(&self.key(READERS, card))?.is_some())
    }
}
