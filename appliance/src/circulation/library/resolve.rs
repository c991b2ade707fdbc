//! Working the exceptions inbox: each [`Exception`] gets a stable id, the librarian picks one
//! of its resolutions, and [`Desk::resolve`] applies it as one commit.
//!
//! Every resolution also leaves a note in `exception_resolutions` (which exception, what was
//! chosen, at which desk, on which day), one entity per resolution with an id of its own, so
//! two desks' choices for one case are both kept as history and nothing leaves the inbox
//! without a trace.
//!
//! Two kinds of exception leave the inbox differently. A copy lent twice or a card registered
//! twice is settled by the data a resolution writes, on every desk that has it, and shows
//! again whenever the merged data shows it again (two desks kept different loans while apart:
//! each closed the other's kept loan as lent by mistake, and such a pair counts as open, see
//! `db::upsert_loan`); a note never hides it. The others (a loan despite a block stays one
//! after it is returned; a return without a loan stays without one) are hidden once a note
//! names them; one that changes gets a new id and shows again.
//!
//! What this module does not do: word the explanation (the web layer does), or decide anything
//! on its own: every write here follows a librarian's click.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use tusach_sync::{Store, Value, WriteBatch};

use super::{BACK, Desk, DeskError, LOANS, READERS, REGISTRATIONS, RETURNS, iso, new_id};
use crate::circulation::exceptions::{Exception, LoanRecord, Resolution};
use crate::db;

/// Notes of resolutions, one entity per resolution (`<exception id>@<random>`; notes written
/// before that are keyed by the exception id alone). The field `exception` names the case.
pub const RESOLUTIONS: &str = "exception_resolutions";

/// The note's field listing the loans a resolution closed as lent by mistake.
pub const LENT_BY_MISTAKE: &str = "lent_by_mistake";

/// Entity ids may be at most 256 bytes; exception ids of a copy lent many times could be more,
/// and the note id adds a random suffix of 26.
const MAX_NOTE_ID: usize = 200;

/// How a loan closed by a resolution is marked (`closed_as`) when it never left with its reader.
const MISTAKE: &str = LENT_BY_MISTAKE;

/// Longest card number the desk accepts (as `http::desk` scans them).
const MAX_CARD: usize = 64;

/// One exception as the inbox shows it, with what a librarian needs to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxItem {
    /// Stable while the situation is the same: derived from the loans or return involved.
    pub id: String,
    pub exception: Exception,
    /// What a librarian may choose, in the order to offer them.
    pub resolutions: Vec<Resolution>,
    /// Loans a resolution would touch that the exception itself does not name (for a return
    /// without a loan: the open loans of that copy made after the return day).
    pub related_loans: Vec<LoanRecord>,
    /// Titles of the copies involved (barcode → title), where known.
    pub copy_titles: BTreeMap<String, String>,
    /// Names of the readers involved (card → name), where known.
    pub reader_names: BTreeMap<String, String>,
    /// What librarians already chose for this very case, at any desk (a case two desks
    /// resolved differently while apart shows again with both choices).
    pub history: Vec<ResolutionNote>,
}

/// One resolution as its note records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolutionNote {
    /// As [`resolution_text`] writes it ("keep loan-…", "new card BD8 for reg-…").
    pub resolution: String,
    pub desk: String,
    /// The day, as ISO text.
    pub on: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Already resolved (here or at another desk), or it never existed.
    #[error("no exception {0} in the inbox")]
    UnknownException(String),
    /// The resolution is not one the exception offers.
    #[error("{0:?} is not offered for exception {1}")]
    NotOffered(Resolution, String),
    /// The new card number typed for a person is already used (or not a card number).
    #[error("card {0} cannot be given: it is in use or not a card number")]
    CardUnavailable(String),
    #[error(transparent)]
    Desk(#[from] DeskError),
}

impl From<tusach_sync::StoreError> for ResolveError {
    fn from(error: tusach_sync::StoreError) -> Self {
        ResolveError::Desk(DeskError::Store(error))
    }
}

/// The stable id of an exception, from the loans or the return involved.
pub fn exception_id(exception: &Exception) -> String {
    match exception {
        Exception::CopyLentTwice { copy, loans } => {
            let ids: Vec<&str> = loans.iter().map(|l| l.id.as_str()).collect();
            format!("twice:{copy}:{}", ids.join("+"))
        }
        Exception::ReturnWithoutLoan { stray } => format!("stray:{}", stray.id),
        Exception::LoanDespiteBlock { loan, .. } => format!("block:{}", loan.id),
        Exception::CardRegisteredTwice {
            card,
            registrations,
        } => {
            let ids: Vec<&str> = registrations.iter().map(|r| r.id.as_str()).collect();
            format!("card:{card}:{}", ids.join("+"))
        }
        Exception::CardReplaced { card, person } => format!("replaced:{card}:{}", person.id),
    }
}

fn note_id(exception_id: &str) -> Result<String, DeskError> {
    let mut end = exception_id.len().min(MAX_NOTE_ID);
    while !exception_id.is_char_boundary(end) {
        end -= 1;
    }
    Ok(format!("{}@{}", &exception_id[..end], new_id("note")?))
}

fn resolution_text(resolution: &Resolution) -> String {
    match resolution {
        Resolution::KeepLoan { loan } => format!("keep {loan}"),
        Resolution::CloseLoanAsReturned { loan, on } => format!("close {loan} on {}", iso(*on)),
        Resolution::Acknowledge => "acknowledge".to_owned(),
        Resolution::GiveNewCard { registration, card } => {
            format!("new card {card} for {registration}")
        }
        Resolution::RetireCard { card } => format!("retire card {card}"),
    }
}

/// Whether `card` can be typed as a card number (what the desk's scanner field accepts).
fn valid_card(card: &str) -> bool {
    !card.is_empty() && card.chars().count() <= MAX_CARD && !card.chars().any(char::is_whitespace)
}

impl Desk {
    /// The inbox: every exception nobody has resolved yet, with its choices and the names a
    /// librarian recognises.
    pub fn inbox(&self, store: &mut Store) -> Result<Vec<InboxItem>, DeskError> {
        let mut notes = self.notes(store)?;
        let mut items = Vec::new();
        for exception in self.exceptions(store)? {
            let id = exception_id(&exception);
            if !exception.settled_by_data() && notes.contains_key(&id) {
                continue;
            }
            let history = notes.remove(&id).unwrap_or_default();
            let mut resolutions = exception.resolutions();
            let mut related_loans = Vec::new();
            if let Exception::ReturnWithoutLoan { stray } = &exception {
                // A loan of that copy made after the return day (a desk's clock was wrong,
                // or the loan was typed in late): the librarian may pair them.
                for loan in
                    db::open_loans_of_copy(store.connection(), self.scope.as_str(), &stray.copy)?
                {
                    let out = super::parse_date(&loan.out, "loan date")?;
                    resolutions.insert(
                        0,
                        Resolution::CloseLoanAsReturned {
                            loan: loan.id.clone(),
                            on: out.max(stray.on),
                        },
                    );
                    related_loans.push(LoanRecord {
                        out,
                        due: super::parse_date(&loan.due, "due date")?,
                        returned: None,
                        id: loan.id,
                        copy: loan.copy,
                        reader: loan.reader,
                        desk: loan.desk,
                    });
                }
            }
            let (copies, mut readers) = involved(&exception);
            readers.extend(related_loans.iter().map(|l| l.reader.clone()));
            let mut copy_titles = BTreeMap::new();
            for copy in copies {
                let record = store
                    .get(&self.key(super::COPIES, &copy))?
                    .and_then(|f| f.get("record").and_then(Value::as_str).map(str::to_owned));
                if let Some(title) = record
                    .map(|r| db::record_title(store.connection(), &r))
                    .transpose()?
                    .flatten()
                {
                    copy_titles.insert(copy, title);
                }
            }
            let mut reader_names = BTreeMap::new();
            for card in readers {
                if let Some(name) = store
                    .get(&self.key(READERS, &card))?
                    .and_then(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
                {
                    reader_names.insert(card, name);
                }
            }
            items.push(InboxItem {
                id,
                exception,
                resolutions,
                related_loans,
                copy_titles,
                reader_names,
                history,
            });
        }
        Ok(items)
    }

    /// Applies a librarian's choice for the exception `exception_id` as one commit, with a
    /// note of it. Refuses an exception no longer in the inbox or a choice it does not offer,
    /// writing nothing.
    pub fn resolve(
        &self,
        store: &mut Store,
        exception_id: &str,
        resolution: &Resolution,
        today: NaiveDate,
    ) -> Result<(), ResolveError> {
        let item = self
            .inbox(store)?
            .into_iter()
            .find(|item| item.id == exception_id)
            .ok_or_else(|| ResolveError::UnknownException(exception_id.to_owned()))?;
        let offered = item
            .resolutions
            .iter()
            .any(|offer| match (offer, resolution) {
                // The new card number is the librarian's to type: the offer names the person.
                (
                    Resolution::GiveNewCard { registration, .. },
                    Resolution::GiveNewCard {
                        registration: chosen,
                        ..
                    },
                ) => registration == chosen,
                _ => offer == resolution,
            });
        if !offered {
            return Err(ResolveError::NotOffered(
                resolution.clone(),
                exception_id.to_owned(),
            ));
        }
        let mut resolution = resolution.clone();
        let mut batch = WriteBatch::new();
        let mut mistaken = Vec::new();
        match (&item.exception, &mut resolution) {
            (Exception::CopyLentTwice { loans, .. }, Resolution::KeepLoan { loan: kept }) => {
                // The others never left the shelf with their reader: closed on the day they
                // were made, so they are neither overdue nor on the reader's card, and each
                // names the loan kept instead: if another desk, apart, kept one of these and
                // closed this desk's choice, both count as open and the case shows again.
                for other in loans.iter().filter(|l| &l.id != kept) {
                    mistaken.push(Value::Str(other.id.clone()));
                    let key = self.key(LOANS, &other.id);
                    batch
                        .put(&key, "returned", iso(other.out))
                        .put(&key, "closed_as", MISTAKE)
                        .put(&key, "kept", kept.as_str());
                }
                // The kept loan may be one another desk closed as lent by mistake: this
                // choice, made after seeing both, opens it again.
                let key = self.key(LOANS, kept);
                if store
                    .get(&key)?
                    .is_some_and(|f| f.get("closed_as").is_some_and(|v| *v != Value::Null))
                {
                    batch
                        .put(&key, "returned", Value::Null)
                        .put(&key, "closed_as", Value::Null)
                        .put(&key, "kept", Value::Null);
                }
            }
            (
                Exception::CardRegisteredTwice {
                    card: old_card,
                    registrations,
                },
                Resolution::GiveNewCard { registration, card },
            ) => {
                if card.is_empty() {
                    *card = self.free_card(store, old_card)?;
                }
                if !valid_card(card) || self.card_in_use(store, card)? {
                    return Err(ResolveError::CardUnavailable(card.clone()));
                }
                self.give_new_card(
                    store,
                    &mut batch,
                    old_card,
                    registrations,
                    registration,
                    card,
                )?;
            }
            (
                Exception::ReturnWithoutLoan { stray },
                Resolution::CloseLoanAsReturned { loan, on },
            ) => {
                batch
                    .put(&self.key(LOANS, loan), "returned", iso(*on))
                    .put(&self.key(LOANS, loan), BACK, iso(*on))
                    .put(&self.key(LOANS, loan), "closed_as", "paired_by_librarian");
                batch.delete(&self.key(RETURNS, &stray.id));
            }
            (_, Resolution::CloseLoanAsReturned { loan, on }) => {
                batch
                    .put(&self.key(LOANS, loan), "returned", iso(*on))
                    .put(&self.key(LOANS, loan), BACK, iso(*on))
                    .put(&self.key(LOANS, loan), "closed_as", "closed_by_librarian");
            }
            (Exception::CardReplaced { card, person }, Resolution::RetireCard { .. }) => {
                self.retire_card(store, &mut batch, card, &person.card, today)?;
            }
            (_, Resolution::KeepLoan { .. } | Resolution::Acknowledge)
            | (_, Resolution::GiveNewCard { .. } | Resolution::RetireCard { .. }) => {}
        }
        let note = self.key(RESOLUTIONS, &note_id(exception_id)?);
        batch
            .put(&note, "exception", exception_id)
            .put(&note, "resolution", resolution_text(&resolution))
            .put(&note, "desk", self.desk.as_str())
            .put(&note, "on", iso(today));
        if !mistaken.is_empty() {
            batch.put(&note, LENT_BY_MISTAKE, Value::List(mistaken));
        }
        store.commit(&batch)?;
        Ok(())
    }

    /// Every note of this library, by exception id, each list in (day, desk, choice) order.
    fn notes(&self, store: &mut Store) -> Result<BTreeMap<String, Vec<ResolutionNote>>, DeskError> {
        let mut notes: BTreeMap<String, Vec<ResolutionNote>> = BTreeMap::new();
        for row in db::resolutions(store.connection(), self.scope.as_str())? {
            notes
                .entry(row.exception)
                .or_default()
                .push(ResolutionNote {
                    resolution: row.resolution,
                    desk: row.desk,
                    on: row.day,
                });
        }
        Ok(notes)
    }

    /// Whether a librarian has resolved the exception `exception_id` (here or elsewhere).
    pub fn is_resolved(&self, store: &mut Store, exception_id: &str) -> Result<bool, DeskError> {
        Ok(self.notes(store)?.contains_key(exception_id))
    }

    /// The notes written for `exception_id`, at any desk, in (day, desk) order.
    pub fn resolution_history(
        &self,
        store: &mut Store,
        exception_id: &str,
    ) -> Result<Vec<ResolutionNote>, DeskError> {
        Ok(self.notes(store)?.remove(exception_id).unwrap_or_default())
    }

    /// The edits that retire `card`: each of its loans goes to the card its registration has
    /// now, and the card is blocked with a note naming `replaced_by`, so nobody lends on it.
    fn retire_card(
        &self,
        store: &mut Store,
        batch: &mut WriteBatch,
        card: &str,
        replaced_by: &str,
        today: NaiveDate,
    ) -> Result<(), DeskError> {
        for loan in db::loans_to_card(store.connection(), self.scope.as_str(), card)? {
            let key = self.key(LOANS, &loan.id);
            let made_under = store.get(&key)?.and_then(|f| {
                f.get("registration")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            let now = match made_under {
                Some(registration) => self.registration(store, &registration)?.card,
                None => continue,
            };
            if !now.is_empty() && now != card {
                batch.put(&key, "reader", now);
            }
        }
        let key = self.key(READERS, card);
        batch
            .put(&key, "registration", Value::Null)
            .put(
                &key,
                "blocked_note",
                format!(
                    "Thẻ cũ, đã thay bằng thẻ {replaced_by} / old card, replaced by {replaced_by}"
                ),
            )
            .put(&key, "blocked_since", iso(today));
        Ok(())
    }

    /// The first free card number `<card>-2`, `<card>-3`, ... for a person taking a new card.
    fn free_card(&self, store: &mut Store, card: &str) -> Result<String, DeskError> {
        for n in 2..1000 {
            let candidate = format!("{card}-{n}");
            if !self.card_in_use(store, &candidate)? {
                return Ok(candidate);
            }
        }
        Err(DeskError::Invalid(format!(
            "no free card number {card}-N: type one"
        )))
    }

    /// The edits that give the person of `registration` the card `new_card`: the
    /// registration moves, a reader entity for the new card is made from it, the loans made
    /// under it follow, and the old card's reader entity (fused by the merge) describes one of
    /// the people who keep the old card again.
    fn give_new_card(
        &self,
        store: &mut Store,
        batch: &mut WriteBatch,
        old_card: &str,
        registrations: &[crate::circulation::exceptions::Registration],
        registration: &str,
        new_card: &str,
    ) -> Result<(), DeskError> {
        let person = store
            .get(&self.key(REGISTRATIONS, registration))?
            .ok_or_else(|| DeskError::BadData(format!("registration {registration} is gone")))?;
        batch.put(&self.key(REGISTRATIONS, registration), "card", new_card);
        self.put_person(batch, new_card, registration, &person);
        for loan in db::loans_to_card(store.connection(), self.scope.as_str(), old_card)? {
            let key = self.key(LOANS, &loan.id);
            let made_under = store.get(&key)?.and_then(|f| {
                f.get("registration")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            if made_under.as_deref() == Some(registration) {
                batch.put(&key, "reader", new_card);
            }
        }
        if let Some(stays) = registrations.iter().find(|r| r.id != registration) {
            let fields = store
                .get(&self.key(REGISTRATIONS, &stays.id))?
                .unwrap_or_default();
            self.put_person(batch, old_card, &stays.id, &fields);
        }
        Ok(())
    }
}

/// The copies and readers an exception is about.
fn involved(exception: &Exception) -> (BTreeSet<String>, BTreeSet<String>) {
    match exception {
        Exception::CopyLentTwice { copy, loans } => (
            BTreeSet::from([copy.clone()]),
            loans.iter().map(|l| l.reader.clone()).collect(),
        ),
        Exception::ReturnWithoutLoan { stray } => {
            (BTreeSet::from([stray.copy.clone()]), BTreeSet::new())
        }
        Exception::LoanDespiteBlock { loan, .. } => (
            BTreeSet::from([loan.copy.clone()]),
            BTreeSet::from([loan.reader.clone()]),
        ),
        Exception::CardRegisteredTwice { .. } | Exception::CardReplaced { .. } => {
            (BTreeSet::new(), BTreeSet::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use tusach_sync::Store;

    use super::*;
    use crate::circulation::policy::{ClosedDays, PolicyMatrix};

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
        let desk = Desk::new(
            "xa-nghi-phu",
            PolicyMatrix::default(),
            ClosedDays::default(),
            name,
        )
        .expect("desk");
        let mut device = Device {
            store,
            desk,
            _dir: dir,
        };
        for barcode in ["TS001", "TS002"] {
            device
                .desk
                .add_copy(&mut device.store, barcode, "rec-1", "book")
                .expect("copy");
        }
        for card in ["BD01", "BD02"] {
            device
                .desk
                .add_reader(
                    &mut device.store,
                    card,
                    "Trần Thị Mai",
                    "child",
                    date(31),
                    date(1),
                )
                .expect("reader");
        }
        device
    }

    /// A loan as an offline desk would have written it, unseen by this one.
    fn offline_loan(device: &mut Device, id: &str, copy: &str, reader: &str, out: NaiveDate) {
        let key = device.desk.key(LOANS, id);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, "copy", copy)
            .put(&key, "reader", reader)
            .put(&key, "out", iso(out))
            .put(&key, "due", iso(out + chrono::Days::new(14)))
            .put(&key, "renewals", Value::Counter(0))
            .put(&key, "desk", "desk-offline");
        device.store.commit(&batch).expect("offline loan");
    }

    fn open_loans(device: &Device, card: &str) -> Vec<String> {
        device
            .desk
            .loans_of(device.store.connection(), card)
            .expect("loans")
            .into_iter()
            .map(|l| l.id)
            .collect()
    }

    #[test]
    fn keeping_one_of_two_loans_of_a_copy_closes_the_other_and_empties_the_inbox() {
        let mut d = device("desk-a");
        let kept = d
            .desk
            .lend(&mut d.store, "BD01", "TS001", date(2))
            .expect("lend");
        offline_loan(&mut d, "loan-offline", "TS001", "BD02", date(3));
        let inbox = d.desk.inbox(&mut d.store).expect("inbox");
        assert_eq!(inbox.len(), 1, "{inbox:?}");
        let item = &inbox[0];
        assert_eq!(item.id, format!("twice:TS001:{}+loan-offline", kept.loan));
        assert_eq!(
            item.copy_titles.len(),
            0,
            "no catalogue record in this store"
        );
        assert_eq!(item.reader_names.len(), 2);

        // A choice the exception does not offer, or an id no longer there, writes nothing.
        let feed = d.store.feed_len().expect("feed");
        let wrong = Resolution::KeepLoan {
            loan: "loan-other".into(),
        };
        assert!(matches!(
            d.desk.resolve(&mut d.store, &item.id, &wrong, date(5)),
            Err(ResolveError::NotOffered(..))
        ));
        assert!(matches!(
            d.desk.resolve(
                &mut d.store,
                "twice:TS001:nope",
                &Resolution::Acknowledge,
                date(5)
            ),
            Err(ResolveError::UnknownException(_))
        ));
        assert_eq!(d.store.feed_len().expect("feed"), feed);

        let keep = Resolution::KeepLoan {
            loan: kept.loan.clone(),
        };
        d.desk
            .resolve(&mut d.store, &item.id, &keep, date(5))
            .expect("resolve");
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
        assert_eq!(open_loans(&d, "BD01"), vec![kept.loan.clone()]);
        assert!(open_loans(&d, "BD02").is_empty());
        assert!(d.desk.is_resolved(&mut d.store, &item.id).expect("note"));
        // Resolving again says it is gone.
        assert!(matches!(
            d.desk.resolve(&mut d.store, &item.id, &keep, date(5)),
            Err(ResolveError::UnknownException(_))
        ));
    }

    #[test]
    fn a_return_without_a_loan_is_paired_with_a_later_loan_or_dismissed() {
        let mut d = device("desk-a");
        d.desk
            .return_copy(&mut d.store, "TS001", date(2))
            .expect("stray");
        d.desk
            .return_copy(&mut d.store, "TS002", date(2))
            .expect("stray");
        // A loan of TS001 typed in later, dated after the return.
        offline_loan(&mut d, "loan-late", "TS001", "BD01", date(4));
        let inbox = d.desk.inbox(&mut d.store).expect("inbox");
        assert_eq!(inbox.len(), 2, "{inbox:?}");
        let ts001 = inbox
            .iter()
            .find(|i| matches!(&i.exception, Exception::ReturnWithoutLoan { stray } if stray.copy == "TS001"))
            .expect("TS001 in inbox");
        let pair = Resolution::CloseLoanAsReturned {
            loan: "loan-late".into(),
            on: date(4),
        };
        assert_eq!(ts001.related_loans.len(), 1);
        assert_eq!(ts001.related_loans[0].id, "loan-late");
        assert!(ts001.reader_names.contains_key("BD01"), "{ts001:?}");
        assert_eq!(
            ts001.resolutions,
            vec![pair.clone(), Resolution::Acknowledge]
        );
        d.desk
            .resolve(&mut d.store, &ts001.id, &pair, date(6))
            .expect("pair");
        assert!(open_loans(&d, "BD01").is_empty());

        let inbox = d.desk.inbox(&mut d.store).expect("inbox");
        assert_eq!(inbox.len(), 1, "{inbox:?}");
        assert_eq!(inbox[0].resolutions, vec![Resolution::Acknowledge]);
        d.desk
            .resolve(
                &mut d.store,
                &inbox[0].id,
                &Resolution::Acknowledge,
                date(6),
            )
            .expect("dismiss");
        assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
        // The dismissed return is still there, noted, not dropped.
        assert_eq!(
            db::stray_returns(d.store.connection(), d.desk.scope().as_str())
                .expect("strays")
                .len(),
            1
        );
    }

    #[test]
    fn a_loan_despite_a_block_is_kept_or_closed() {
        for close in [false, true] {
            let mut d = device("desk-a");
            d.desk
                .block_reader(&mut d.store, "BD01", "làm mất sách", date(3))
                .expect("block");
            offline_loan(&mut d, "loan-blocked", "TS002", "BD01", date(4));
            let inbox = d.desk.inbox(&mut d.store).expect("inbox");
            assert_eq!(inbox.len(), 1, "{inbox:?}");
            let choice = if close {
                Resolution::CloseLoanAsReturned {
                    loan: "loan-blocked".into(),
                    on: date(4),
                }
            } else {
                Resolution::Acknowledge
            };
            d.desk
                .resolve(&mut d.store, &inbox[0].id, &choice, date(6))
                .expect("resolve");
            assert!(d.desk.inbox(&mut d.store).expect("inbox").is_empty());
            assert_eq!(open_loans(&d, "BD01").is_empty(), close);
        }
    }
}
