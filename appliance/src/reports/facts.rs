//! The snapshot reports count from, read from the store and the query tables in one go.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use tusach_sync::{Scope, Store, StoreError, Value};

use super::ddc::ddc_class;
use crate::circulation::library::{COPIES, IN_HOUSE, LENT_BY_MISTAKE, READERS, VISITS};
use crate::db;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

/// A loan, as reports need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanFact {
    pub reader: String,
    pub copy: String,
    pub out: NaiveDate,
    pub returned: Option<NaiveDate>,
    pub renewals: i64,
}

/// A reader, as reports need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderFact {
    pub category: String,
    /// The day the reader was registered, when the desk recorded it.
    pub registered: Option<NaiveDate>,
}

/// A catalogue record, as reports need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordFact {
    pub title: String,
    /// DDC main class 0–9, when the record has a readable DDC number.
    pub class: Option<usize>,
}

/// Everything reports count, for one library.
#[derive(Clone, Debug, Default)]
pub struct LibraryFacts {
    pub loans: Vec<LoanFact>,
    /// By card number.
    pub readers: HashMap<String, ReaderFact>,
    /// Barcode → record id.
    pub copies: HashMap<String, String>,
    /// Barcode → the day the copy was acquired, for copies that record it.
    pub acquired: HashMap<String, NaiveDate>,
    /// By record id.
    pub records: HashMap<String, RecordFact>,
    /// Visitors counted per day, all desks together.
    pub visits: BTreeMap<NaiveDate, i64>,
    /// Copies read in the library and put back on the cart, per day, all copies and desks
    /// together.
    pub in_house: BTreeMap<NaiveDate, i64>,
    /// Loans whose dates could not be read (damaged or foreign data): left out of the counts
    /// but counted here, so a report can say so.
    pub unreadable_loans: usize,
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

impl LibraryFacts {
    /// Reads the library of `scope`: a few thousand entities for a commune library, scanned
    /// shard by shard.
    pub fn gather(store: &mut Store, scope: &Scope) -> Result<LibraryFacts, ReportError> {
        let mut facts = LibraryFacts::default();
        for row in db::all_loans(store.connection(), scope.as_str())? {
            // A loan a librarian closed as lent by mistake (a copy lent at two desks) never
            // was; one that two desks' resolutions left open again still counts.
            if row.closed_as.as_deref() == Some(LENT_BY_MISTAKE) && row.returned.is_some() {
                continue;
            }
            let Some(out) = date(&row.out) else {
                facts.unreadable_loans += 1;
                continue;
            };
            facts.loans.push(LoanFact {
                reader: row.reader,
                copy: row.copy,
                out,
                returned: row.returned.as_deref().and_then(date),
                renewals: row.renewals,
            });
        }
        for (id, title, ddc) in db::record_titles_and_classes(store.connection())? {
            let class = ddc.as_deref().and_then(ddc_class);
            facts.records.insert(id, RecordFact { title, class });
        }
        let text = |fields: &tusach_sync::Entity, name: &str| {
            fields.get(name).and_then(Value::as_str).map(str::to_owned)
        };
        store.scan(scope, READERS, |card, fields| {
            facts.readers.insert(
                card.to_owned(),
                ReaderFact {
                    category: text(fields, "category").unwrap_or_default(),
                    registered: text(fields, "registered").as_deref().and_then(date),
                },
            );
        })?;
        store.scan(scope, COPIES, |barcode, fields| {
            if let Some(record) = text(fields, "record") {
                facts.copies.insert(barcode.to_owned(), record);
            }
            if let Some(day) = text(fields, "acquired").as_deref().and_then(date) {
                facts.acquired.insert(barcode.to_owned(), day);
            }
        })?;
        store.scan(scope, VISITS, |day, desks| {
            if let Some(day) = date(day) {
                let people: i64 = desks.values().filter_map(Value::as_int).sum();
                *facts.visits.entry(day).or_default() += people;
            }
        })?;
        // One entity per day and copy, `YYYY-MM-DD/barcode`, one counter per desk.
        store.scan(scope, IN_HOUSE, |id, desks| {
            if let Some(day) = id.split('/').next().and_then(date) {
                let uses: i64 = desks.values().filter_map(Value::as_int).sum();
                *facts.in_house.entry(day).or_default() += uses;
            }
        })?;
        Ok(facts)
    }

    /// The reader category of a card ("" when the reader is unknown here).
    pub fn category_of(&self, card: &str) -> &str {
        self.readers
            .get(card)
            .map(|r| r.category.as_str())
            .unwrap_or("")
    }

    /// The DDC main class of a copy, through its record.
    pub fn class_of_copy(&self, barcode: &str) -> Option<usize> {
        self.copies
            .get(barcode)
            .and_then(|record| self.records.get(record))
            .and_then(|r| r.class)
    }

    /// Copies per DDC main class, and copies without a class.
    pub fn collection_by_class(&self) -> ([i64; 10], i64) {
        let mut classes = [0i64; 10];
        let mut unclassified = 0;
        for barcode in self.copies.keys() {
            match self.class_of_copy(barcode) {
                Some(class) => classes[class] += 1,
                None => unclassified += 1,
            }
        }
        (classes, unclassified)
    }
}
