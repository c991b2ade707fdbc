//! Circulation on the replicated store: copies, readers, loans and stray returns as entities
//! of a library's scope (`library:<id>`), and the [`Desk`] that turns a scan into a decision
//! and a durable write.
//!
//! What a desk sees is read from the store (copies, readers) and the circulation query tables
//! (open loans), decided by [`super::desk`], and written as one commit. A copy's status is never
//! stored: it is on loan because an open loan exists.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::Connection;
use tusach_sync::{EntityKey, Scope, Store, StoreError, Value, WriteBatch};

use super::desk::{
    CopyState, CopyStatus, OpenLoan, ReaderState, Refusal, ReturnOutcome, check_lend, check_renew,
    check_return,
};
use super::exceptions::{self, Exception, LoanRecord, ReaderStanding, Registration, StrayReturn};
use super::policy::{ClosedDays, PolicyMatrix};
use crate::db::{self, LoanRow};

pub const COPIES: &str = "copies";
pub const READERS: &str = "readers";
pub const LOANS: &str = "loans";
pub const RETURNS: &str = "returns";
pub const VISITS: &str = "visits";
pub const HOLDS: &str = "holds";
pub const IN_HOUSE: &str = "in_house";
/// The loan's field saying the copy physically came back (a return scanned, or a librarian
/// pairing or closing it), beside `returned`. A resolution that closes a loan as lent by
/// mistake writes `returned` but never this: a copy seen back at one desk stays back even when
/// another desk, apart, chose that loan's rival.
pub const BACK: &str = "back";
/// One entity per registration of a reader card, with a random id, so two desks that gave
/// one card number to two people while apart keep both (see [`registry`]).
pub const REGISTRATIONS: &str = "registrations";

mod registry;
mod reservations;
pub use reservations::{HoldEntry, HoldRoute, HoldStatus, ReturnSlip};

const DATE_FORMAT: &str = "%Y-%m-%d";

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("no reader has card {0}")]
    UnknownReader(String),
    #[error("no copy has barcode {0}")]
    UnknownCopy(String),
    #[error("no loan {0}")]
    UnknownLoan(String),
    #[error("'{0}' is not a valid library id")]
    InvalidLibrary(String),
    #[error("refused: {0:?}")]
    Refused(Vec<Refusal>),
    #[error("card {0} is already registered")]
    CardTaken(String),
    #[error("no record {0}")]
    UnknownRecord(String),
    #[error("no open hold {0}")]
    UnknownHold(String),
    #[error("hold refused: {0:?}")]
    HoldRefused(Vec<super::holds::HoldRefusal>),
    #[error("not acceptable: {0}")]
    Invalid(String),
    #[error("stored data is not what circulation expects: {0}")]
    BadData(String),
    #[error("no randomness for a new id: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

/// What a granted loan gave the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanReceipt {
    pub loan: String,
    pub due: NaiveDate,
}

/// What scanning a copy at the return desk did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnReceipt {
    Closed {
        loan: String,
        late_days: i64,
    },
    /// No open loan was known here; the return is recorded for the merge to pair.
    Recorded,
}

/// One library's circulation desk on this device.
pub struct Desk {
    scope: Scope,
    policy: PolicyMatrix,
    closed: ClosedDays,
    desk: String,
}

fn iso(date: NaiveDate) -> String {
    date.format(DATE_FORMAT).to_string()
}

fn parse_date(text: &str, what: &str) -> Result<NaiveDate, DeskError> {
    NaiveDate::parse_from_str(text, DATE_FORMAT)
        .map_err(|_| DeskError::BadData(format!("{what} is not a date: {text:?}")))
}

fn new_id(prefix: &str) -> Result<String, DeskError> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| DeskError::Random(e.to_string()))?;
    Ok(format!(
        "{prefix}-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

impl Desk {
    /// A desk of library `library_id`, identified in loans by `desk` (usually the device id).
    pub fn new(
        library_id: &str,
        policy: PolicyMatrix,
        closed: ClosedDays,
        desk: &str,
    ) -> Result<Desk, DeskError> {
        let scope = Scope::new(format!("library:{library_id}"))
            .filter(|_| !library_id.is_empty())
            .ok_or_else(|| DeskError::InvalidLibrary(library_id.to_owned()))?;
        Ok(Desk {
            scope,
            policy,
            closed,
            desk: desk.to_owned(),
        })
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    fn key(&self, collection: &str, id: &str) -> EntityKey {
        EntityKey::new(&self.scope, collection, id)
    }

    /// Adds the edits that create a copy of `record` to `batch` (for bulk imports).
    pub fn put_copy(&self, batch: &mut WriteBatch, barcode: &str, record: &str, item_type: &str) {
        let key = self.key(COPIES, barcode);
        batch
            .put(&key, "record", record)
            .put(&key, "item_type", item_type);
    }

    /// Like [`Desk::put_copy`], with the copy's shelf location and call number
    /// ("Kệ 9 – 895.922"), which readers see and stocktakes check.
    pub fn put_copy_on_shelf(
        &self,
        batch: &mut WriteBatch,
        barcode: &str,
        record: &str,
        item_type: &str,
        shelf: &str,
    ) {
        self.put_copy(batch, barcode, record, item_type);
        batch.put(&self.key(COPIES, barcode), "shelf", shelf);
    }

    /// Records the day a copy came into the library, which the acquisitions report counts.
    pub fn put_acquired(&self, batch: &mut WriteBatch, barcode: &str, day: chrono::NaiveDate) {
        batch.put(
            &self.key(COPIES, barcode),
            "acquired",
            day.format("%Y-%m-%d").to_string(),
        );
    }

    pub fn add_copy(
        &self,
        store: &mut Store,
        barcode: &str,
        record: &str,
        item_type: &str,
    ) -> Result<(), DeskError> {
        let mut batch = WriteBatch::new();
        self.put_copy(&mut batch, barcode, record, item_type);
        store.commit(&batch)?;
        Ok(())
    }

    /// Adds the edits that register a reader on day `registered` to `batch` (for bulk
    /// imports). The day is what the monthly report counts as a new reader.
    pub fn put_reader(
        &self,
        batch: &mut WriteBatch,
        card: &str,
        name: &str,
        category: &str,
        card_expires: NaiveDate,
        registered: NaiveDate,
    ) {
        let key = self.key(READERS, card);
        batch
            .put(&key, "name", name)
            .put(&key, "category", category)
            .put(&key, "card_expires", iso(card_expires))
            .put(&key, "registered", iso(registered));
    }

    pub fn add_reader(
        &self,
        store: &mut Store,
        card: &str,
        name: &str,
        category: &str,
        card_expires: NaiveDate,
        registered: NaiveDate,
    ) -> Result<(), DeskError> {
        let mut batch = WriteBatch::new();
        self.put_reader(&mut batch, card, name, category, card_expires, registered);
        store.commit(&batch)?;
        Ok(())
    }

    pub fn block_reader(
        &self,
        store: &mut Store,
        card: &str,
        note: &str,
        since: NaiveDate,
    ) -> Result<(), DeskError> {
        self.reader(store, card)?;
        let key = self.key(READERS, card);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "blocked_note", note)
            .put(&key, "blocked_since", iso(since));
        store.commit(&batch)?;
        Ok(())
    }

    fn reader(&self, store: &mut Store, card: &str) -> Result<ReaderState, DeskError> {
        let fields = store
            .get(&self.key(READERS, card))?
            .ok_or_else(|| DeskError::UnknownReader(card.to_owned()))?;
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
        let open_loans = db::open_loans_of_reader(store.connection(), self.scope.as_str(), card)?
            .iter()
            .map(open_loan)
            .collect::<Result<_, _>>()?;
        Ok(ReaderState {
            card: card.to_owned(),
            category: text("category").unwrap_or_default(),
            card_expires: parse_date(&text("card_expires").unwrap_or_default(), "card expiry")?,
            blocked: text("blocked_note"),
            open_loans,
        })
    }

    fn copy(&self, store: &mut Store, barcode: &str) -> Result<CopyState, DeskError> {
        let fields = store
            .get(&self.key(COPIES, barcode))?
            .ok_or_else(|| DeskError::UnknownCopy(barcode.to_owned()))?;
        let flag = fields.get("status").and_then(Value::as_str).unwrap_or("");
        let open = db::open_loans_of_copy(store.connection(), self.scope.as_str(), barcode)?;
        let status = match (flag, open.first()) {
            ("lost", _) => CopyStatus::Lost,
            ("withdrawn", _) => CopyStatus::Withdrawn,
            (_, Some(loan)) => CopyStatus::OnLoan(open_loan(loan)?),
            ("not_for_loan", None) => CopyStatus::NotForLoan,
            _ => CopyStatus::Available,
        };
        Ok(CopyState {
            barcode: barcode.to_owned(),
            item_type: fields
                .get("item_type")
                .and_then(Value::as_str)
                .unwrap_or("book")
                .to_owned(),
            status,
        })
    }

    /// Lends a copy to a reader, or says every reason why not.
    pub fn lend(
        &self,
        store: &mut Store,
        card: &str,
        barcode: &str,
        today: NaiveDate,
    ) -> Result<LoanReceipt, DeskError> {
        let reader = self.reader(store, card)?;
        let copy = self.copy(store, barcode)?;
        // Holds are read once per loan: a copy on the pickup shelf for someone else is refused,
        // and the reader's own hold on the record is closed by the loan.
        let holds = self.holds(store)?;
        let held = Self::held_for_other(&holds, card, barcode);
        let terms = match (
            check_lend(&reader, &copy, &self.policy, &self.closed, today),
            held,
        ) {
            (Ok(terms), None) => terms,
            (Ok(_), Some(held)) => return Err(DeskError::Refused(vec![held])),
            (Err(mut refusals), Some(held)) => {
                refusals.push(held);
                return Err(DeskError::Refused(refusals));
            }
            (Err(refusals), None) => return Err(DeskError::Refused(refusals)),
        };
        let loan = new_id("loan")?;
        let key = self.key(LOANS, &loan);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "copy", barcode)
            .put(&key, "reader", card)
            .put(&key, "out", iso(today))
            .put(&key, "due", iso(terms.due))
            .put(&key, "renewals", Value::Counter(0))
            .put(&key, "desk", self.desk.as_str());
        // The person this desk knows under the card: if another desk gave the card to someone
        // else while apart, the loan follows the right person when one of them takes a new
        // card.
        if let Some(registration) = self.registration_of_card(store, card)? {
            batch.put(&key, "registration", registration);
        }
        self.collect_holds(store, &holds, &mut batch, card, barcode, &loan)?;
        store.commit(&batch)?;
        Ok(LoanReceipt {
            loan,
            due: terms.due,
        })
    }

    /// Takes a copy back: closes its open loan, or records the return for the merge to pair.
    /// [`Desk::check_in`] says also who is waiting for the copy and what fine is owed.
    pub fn return_copy(
        &self,
        store: &mut Store,
        barcode: &str,
        today: NaiveDate,
    ) -> Result<ReturnReceipt, DeskError> {
        Ok(self.check_in(store, barcode, today)?.receipt)
    }

    /// The return's edits without committing them, for [`Desk::check_in`].
    fn return_edits(
        &self,
        store: &mut Store,
        batch: &mut WriteBatch,
        barcode: &str,
        today: NaiveDate,
    ) -> Result<ReturnReceipt, DeskError> {
        let copy = self.copy(store, barcode)?;
        Ok(match check_return(&copy, today) {
            ReturnOutcome::Closes { loan, late_days } => {
                batch
                    .put(&self.key(LOANS, &loan.id), "returned", iso(today))
                    .put(&self.key(LOANS, &loan.id), BACK, iso(today));
                ReturnReceipt::Closed {
                    loan: loan.id,
                    late_days,
                }
            }
            ReturnOutcome::NoOpenLoan => {
                let key = self.key(RETURNS, &new_id("return")?);
                batch
                    .put(&key, "copy", barcode)
                    .put(&key, "day", iso(today))
                    .put(&key, "desk", self.desk.as_str());
                ReturnReceipt::Recorded
            }
        })
    }

    /// Renews an open loan from today, within the renewal limit.
    pub fn renew(
        &self,
        store: &mut Store,
        loan: &str,
        today: NaiveDate,
    ) -> Result<NaiveDate, DeskError> {
        let row = db::all_loans(store.connection(), self.scope.as_str())?
            .into_iter()
            .find(|l| l.id == loan && l.returned.is_none())
            .ok_or_else(|| DeskError::UnknownLoan(loan.to_owned()))?;
        let open = open_loan(&row)?;
        let reader = self.reader(store, &row.reader)?;
        let copy = self.copy(store, &row.copy)?;
        let due = check_renew(&open, &reader, &copy, &self.policy, &self.closed, today)
            .map_err(DeskError::Refused)?;
        let key = self.key(LOANS, loan);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "due", iso(due))
            .increment(&key, "renewals", 1);
        store.commit(&batch)?;
        Ok(due)
    }

    /// Counts `people` more visitors today at this desk.
    ///
    /// Each day is one entity; each desk counts in its own counter field of it. Two desks that
    /// both created one shared counter while offline would conflict, and the merge would keep
    /// only one of the two counters with its increments; separate fields always add up.
    pub fn count_visits(
        &self,
        store: &mut Store,
        day: NaiveDate,
        people: i64,
    ) -> Result<(), DeskError> {
        let key = self.key(VISITS, &iso(day));
        let mut batch = WriteBatch::new();
        batch.increment(&key, &self.desk, people);
        store.commit(&batch)?;
        Ok(())
    }

    /// How many visitors all desks counted on `day`.
    pub fn visits_on(&self, store: &mut Store, day: NaiveDate) -> Result<i64, DeskError> {
        Ok(store
            .get(&self.key(VISITS, &iso(day)))?
            .map(|desks| desks.values().filter_map(Value::as_int).sum())
            .unwrap_or(0))
    }

    /// A reader's open loans, oldest first.
    pub fn loans_of(&self, conn: &Connection, card: &str) -> Result<Vec<OpenLoan>, DeskError> {
        db::open_loans_of_reader(conn, self.scope.as_str(), card)?
            .iter()
            .map(open_loan)
            .collect()
    }

    /// Closes the loans that returns scanned at other desks explain, and drops those returns.
    /// Safe on every replica at once: all write the same values.
    pub fn settle_returns(&self, store: &mut Store) -> Result<usize, DeskError> {
        let (loans, strays) = self.merged(store.connection())?;
        let (paired, _) = exceptions::pair_stray_returns(&loans, &strays);
        if paired.is_empty() {
            return Ok(0);
        }
        let mut batch = WriteBatch::new();
        for pair in &paired {
            batch
                .put(&self.key(LOANS, &pair.loan), "returned", iso(pair.on))
                .put(&self.key(LOANS, &pair.loan), BACK, iso(pair.on));
            batch.delete(&self.key(RETURNS, &pair.stray));
        }
        store.commit(&batch)?;
        Ok(paired.len())
    }

    /// The exceptions inbox of this library.
    pub fn exceptions(&self, store: &mut Store) -> Result<Vec<Exception>, DeskError> {
        let (loans, strays) = self.merged(store.connection())?;
        let lent_to: std::collections::BTreeSet<&str> =
            loans.iter().map(|l| l.reader.as_str()).collect();
        let mut readers = HashMap::new();
        // The readers' table says each card's expiry and whether it is blocked; only a blocked
        // reader's entity is read (for the day of the block), not every borrower's shard.
        for (card, expires, blocked) in
            db::reader_standings(store.connection(), self.scope.as_str())?
        {
            if !lent_to.contains(card.as_str()) {
                continue;
            }
            if !blocked {
                let standing = ReaderStanding {
                    card_expires: parse_date(&expires, "card expiry")?,
                    blocked_since: None,
                };
                readers.insert(card, standing);
                continue;
            }
            if let Some(fields) = store.get(&self.key(READERS, &card))? {
                let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
                let standing = ReaderStanding {
                    card_expires: parse_date(
                        &text("card_expires").unwrap_or_default(),
                        "card expiry",
                    )?,
                    blocked_since: text("blocked_since")
                        .map(|d| parse_date(&d, "block date"))
                        .transpose()?,
                };
                readers.insert(card, standing);
            }
        }
        let mut found = exceptions::find_exceptions(&loans, &strays, &readers);
        for card in db::cards_registered_twice(store.connection(), self.scope.as_str())? {
            let mut registrations = Vec::new();
            for id in db::registrations_of_card(store.connection(), self.scope.as_str(), &card)? {
                registrations.push(self.registration(store, &id)?);
            }
            found.push(Exception::CardRegisteredTwice {
                card,
                registrations,
            });
        }
        for (card, registration) in db::cards_left_behind(store.connection(), self.scope.as_str())?
        {
            let person = self.registration(store, &registration)?;
            found.push(Exception::CardReplaced { card, person });
        }
        Ok(found)
    }

    /// A registration of a reader card, as the inbox shows it.
    fn registration(&self, store: &mut Store, id: &str) -> Result<Registration, DeskError> {
        let fields = store.get(&self.key(REGISTRATIONS, id))?.unwrap_or_default();
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(Registration {
            id: id.to_owned(),
            card: text("card").unwrap_or_default(),
            name: text("name").unwrap_or_default(),
            contact: text("contact").filter(|c| !c.is_empty()),
            desk: text("desk").unwrap_or_default(),
            registered: text("registered").and_then(|d| parse_date(&d, "registration day").ok()),
        })
    }

    fn merged(&self, conn: &Connection) -> Result<(Vec<LoanRecord>, Vec<StrayReturn>), DeskError> {
        let loans = db::all_loans(conn, self.scope.as_str())?
            .into_iter()
            .map(|row| {
                Ok(LoanRecord {
                    out: parse_date(&row.out, "loan date")?,
                    due: parse_date(&row.due, "due date")?,
                    returned: row
                        .returned
                        .as_deref()
                        .map(|d| parse_date(d, "return date"))
                        .transpose()?,
                    id: row.id,
                    copy: row.copy,
                    reader: row.reader,
                    desk: row.desk,
                })
            })
            .collect::<Result<Vec<_>, DeskError>>()?;
        let strays = db::stray_returns(conn, self.scope.as_str())?
            .into_iter()
            .map(|row| {
                Ok(StrayReturn {
                    on: parse_date(&row.day, "return date")?,
                    id: row.id,
                    copy: row.copy,
                    desk: row.desk,
                })
            })
            .collect::<Result<Vec<_>, DeskError>>()?;
        Ok((loans, strays))
    }
}

fn open_loan(row: &LoanRow) -> Result<OpenLoan, DeskError> {
    Ok(OpenLoan {
        id: row.id.clone(),
        copy: row.copy.clone(),
        reader: row.reader.clone(),
        out: parse_date(&row.out, "loan date")?,
        due: parse_date(&row.due, "due date")?,
        renewals: u32::try_from(row.renewals).unwrap_or(u32::MAX),
    })
}

mod resolve;
pub use resolve::{
    InboxItem, LENT_BY_MISTAKE, RESOLUTIONS, ResolutionNote, ResolveError, exception_id,
};

#[cfg(test)]
mod desk_tests;
#[cfg(test)]
mod tests;
