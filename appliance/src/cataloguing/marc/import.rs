//! Importing MARC21 records into the union catalogue, in two steps: [`plan`] decides for each
//! record whether it is new (create), a book we already have (merge: fill the fields our
//! record leaves empty and keep the original MARC if it has none) or to be skipped (with the
//! reason), and writes nothing, so it is also the preview; [`apply`] writes the whole plan as
//! one commit, so a cut or a kill leaves all of it or none of it.
//!
//! A record is the same book as one we have when its 001 is our record's id (it came from a
//! Tủ Sách export), or it shares an ISBN or a control number (001 with 003, or 035) with it.
//! The whole file is read and checked before a plan is made (see [`super::read`]).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use tusach_sync::{Store, StoreError, Value, WriteBatch};

use super::mapping::{self, BookFields, CONTROL_NUMBERS, MARC};
use super::{Format, Record, iso2709};
use crate::catalogue::{RECORDS, network_scope, record_key};
use crate::cataloguing::CatalogueError;

/// Why a record of the file is not imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("no title (245 $a)")]
    NoTitle,
    #[error("the same book as record {0} of this file")]
    SameAsRecord(usize),
}

/// What happens to one record of the file.
#[derive(Clone, Debug)]
pub enum Outcome {
    Create {
        record: usize,
        id: String,
        book: BookFields,
        control_numbers: Vec<String>,
        marc: Option<String>,
    },
    Merge {
        record: usize,
        into: String,
        fill: Vec<(&'static str, Value)>,
        /// The record's control numbers with this one's added, when that adds any.
        control_numbers: Option<Vec<String>>,
        marc: Option<String>,
    },
    Skip {
        record: usize,
        reason: SkipReason,
    },
}

/// What an import will do (or did), record by record.
#[derive(Clone, Debug)]
pub struct ImportPlan {
    pub format: Format,
    pub outcomes: Vec<Outcome>,
}

impl ImportPlan {
    pub fn created(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Create { .. }))
    }

    pub fn merged(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Merge { .. }))
    }

    /// The records skipped, by number, with the reason.
    pub fn skipped(&self) -> Vec<(usize, &SkipReason)> {
        self.outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Skip { record, reason } => Some((*record, reason)),
                _ => None,
            })
            .collect()
    }

    /// The ids of the records created, in file order.
    pub fn created_ids(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Create { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    fn count(&self, which: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| which(o)).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Marc(#[from] super::MarcError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no randomness for a new id: {0}")]
    Random(String),
}

/// The catalogue's records by the keys an import matches on.
#[derive(Default)]
struct Matcher {
    ids: HashSet<String>,
    by_isbn: HashMap<String, String>,
    by_control: HashMap<String, String>,
    /// Keys of the records planned so far in this file, to their record numbers.
    planned_isbn: HashMap<String, usize>,
    planned_control: HashMap<String, usize>,
    merged_into: HashMap<String, usize>,
}

impl Matcher {
    fn load(store: &mut Store) -> Result<Matcher, StoreError> {
        let mut matcher = Matcher::default();
        store.scan(&network_scope(), RECORDS, |id, fields| {
            // A merged record stands for its survivor, which is found on its own.
            if fields.get("merged_into").and_then(Value::as_str).is_some() {
                return;
            }
            matcher.ids.insert(id.to_owned());
            if let Some(isbn) = fields.get("isbn").and_then(Value::as_str) {
                matcher.by_isbn.insert(isbn.to_owned(), id.to_owned());
            }
            if let Some(Value::List(numbers)) = fields.get(CONTROL_NUMBERS) {
                for number in numbers.iter().filter_map(Value::as_str) {
                    matcher.by_control.insert(number.to_owned(), id.to_owned());
                }
            }
        })?;
        Ok(matcher)
    }

    /// Our record this one describes, if any.
    fn existing(&self, own: Option<&str>, isbns: &[String], controls: &[String]) -> Option<String> {
        own.filter(|id| self.ids.contains(*id))
            .map(str::to_owned)
            .or_else(|| isbns.iter().find_map(|i| self.by_isbn.get(i).cloned()))
            .or_else(|| {
                controls
                    .iter()
                    .find_map(|c| self.by_control.get(c).cloned())
            })
    }

    /// The record of this file that already stands for the same book, if any.
    fn earlier(&self, isbns: &[String], controls: &[String]) -> Option<usize> {
        isbns
            .iter()
            .find_map(|i| self.planned_isbn.get(i))
            .or_else(|| controls.iter().find_map(|c| self.planned_control.get(c)))
            .copied()
    }

    fn note(&mut self, record: usize, isbns: &[String], controls: &[String]) {
        for isbn in isbns {
            self.planned_isbn.entry(isbn.clone()).or_insert(record);
        }
        for control in controls {
            self.planned_control
                .entry(control.clone())
                .or_insert(record);
        }
    }
}

/// Decides what importing `records` would do; writes nothing. The records come one at a
/// time (read again after [`super::check`]), so only the plan is held, never the whole file
/// as records.
pub fn plan(
    store: &mut Store,
    format: Format,
    records: impl IntoIterator<Item = Result<Record, super::MarcError>>,
) -> Result<ImportPlan, ImportError> {
    let mut matcher = Matcher::load(store)?;
    let mut outcomes = Vec::new();
    for (index, marc_record) in records.into_iter().enumerate() {
        let marc_record = &marc_record?;
        let record = index + 1;
        let book = BookFields::of_marc(marc_record);
        if book.title.is_empty() {
            outcomes.push(Outcome::Skip {
                record,
                reason: SkipReason::NoTitle,
            });
            continue;
        }
        let isbns = mapping::isbns(marc_record);
        let controls = mapping::control_numbers(marc_record);
        let own = mapping::own_number(marc_record);
        if let Some(earlier) = matcher.earlier(&isbns, &controls) {
            outcomes.push(Outcome::Skip {
                record,
                reason: SkipReason::SameAsRecord(earlier),
            });
            continue;
        }
        let outcome = match matcher.existing(own, &isbns, &controls) {
            Some(into) => {
                if let Some(&earlier) = matcher.merged_into.get(&into) {
                    outcomes.push(Outcome::Skip {
                        record,
                        reason: SkipReason::SameAsRecord(earlier),
                    });
                    continue;
                }
                matcher.merged_into.insert(into.clone(), record);
                merge(store, &matcher, record, into, marc_record, &book, &controls)?
            }
            None => Outcome::Create {
                record,
                id: crate::cataloguing::new_record_id().map_err(|e| match e {
                    CatalogueError::Random(why) => ImportError::Random(why),
                    other => ImportError::Random(other.to_string()),
                })?,
                book,
                control_numbers: controls.clone(),
                marc: original_text(marc_record),
            },
        };
        matcher.note(record, &isbns, &controls);
        outcomes.push(outcome);
    }
    Ok(ImportPlan { format, outcomes })
}

fn merge(
    store: &mut Store,
    matcher: &Matcher,
    record: usize,
    into: String,
    marc_record: &Record,
    book: &BookFields,
    controls: &[String],
) -> Result<Outcome, ImportError> {
    let fields = store.get(&record_key(&into))?.unwrap_or_default();
    let existing = BookFields::of_entity(&fields);
    let fill = book
        .fill(&existing)
        .into_iter()
        // An ISBN another record already has stays there.
        .filter(|(name, value)| {
            *name != "isbn"
                || value
                    .as_str()
                    .is_none_or(|isbn| !matcher.by_isbn.contains_key(isbn))
        })
        .collect();
    let mut known: Vec<String> = match fields.get(CONTROL_NUMBERS) {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let before = known.len();
    for control in controls {
        // Our own id in 001 is how a Tủ Sách export finds its record already.
        if !known.contains(control) && *control != into {
            known.push(control.clone());
        }
    }
    let from_our_export = mapping::own_number(marc_record) == Some(into.as_str());
    let marc = match fields.get(MARC) {
        None if !from_our_export => original_text(marc_record),
        _ => None,
    };
    Ok(Outcome::Merge {
        record,
        into,
        fill,
        control_numbers: (known.len() > before).then_some(known),
        marc,
    })
}

/// The record as ISO 2709 text to keep beside ours; `None` when it is too long for ISO 2709
/// (only a MARCXML record can be), in which case exports make it from our fields.
fn original_text(record: &Record) -> Option<String> {
    let mut bytes = Vec::new();
    iso2709::write(record, &mut bytes)?;
    String::from_utf8(bytes).ok()
}

/// Writes `plan` as one commit; records created get `today` as the day they were added.
/// The values move from the plan into the commit, one shard's records at a time, so a large
/// import holds its edits once and never all of them as edits at the same time; the plan
/// keeps what it reports: which records were created, merged and skipped.
pub fn apply(
    store: &mut Store,
    plan: &mut ImportPlan,
    today: NaiveDate,
) -> Result<(), ImportError> {
    apply_counting(store, plan, today, &mut |_| {})
}

/// [`apply`], telling `written` how many of the records it writes have gone into the store
/// (the import page's progress bar); the commit still lands all at once at the end.
pub fn apply_counting(
    store: &mut Store,
    plan: &mut ImportPlan,
    today: NaiveDate,
    written: &mut dyn FnMut(usize),
) -> Result<(), ImportError> {
    let added = today.format("%Y-%m-%d").to_string();
    // The outcomes that write, in the order of the shard their record lives in.
    let mut order: Vec<(u16, usize)> = plan
        .outcomes
        .iter()
        .enumerate()
        .filter_map(|(index, outcome)| match outcome {
            Outcome::Create { id, .. } => Some((record_key(id).shard().bucket, index)),
            Outcome::Merge { into, .. } => Some((record_key(into).shard().bucket, index)),
            Outcome::Skip { .. } => None,
        })
        .collect();
    order.sort_by_key(|(bucket, _)| *bucket);
    let outcomes = &mut plan.outcomes;
    let mut next = 0;
    let parts = std::iter::from_fn(|| {
        // The store asks for the next part once it has written the last one.
        written(next);
        let (bucket, _) = *order.get(next)?;
        let mut batch = WriteBatch::new();
        while let Some(&(b, index)) = order.get(next)
            && b == bucket
        {
            put_outcome(&mut batch, &mut outcomes[index], &added);
            next += 1;
        }
        Some(batch)
    });
    store.commit_parts(parts)?;
    Ok(())
}

/// Adds the edits of one outcome to `batch`, moving its values out of the plan.
fn put_outcome(batch: &mut WriteBatch, outcome: &mut Outcome, added: &str) {
    let list = |items: Vec<String>| Value::List(items.into_iter().map(Value::Str).collect());
    match outcome {
        Outcome::Create {
            id,
            book,
            control_numbers,
            marc,
            ..
        } => {
            let key = record_key(id);
            for (name, value) in std::mem::take(book).into_values() {
                batch.put(&key, name, value);
            }
            batch.put(&key, "added", added);
            if !control_numbers.is_empty() {
                batch.put(&key, CONTROL_NUMBERS, list(std::mem::take(control_numbers)));
            }
            if let Some(marc) = marc.take() {
                batch.put(&key, MARC, marc);
            }
        }
        Outcome::Merge {
            into,
            fill,
            control_numbers,
            marc,
            ..
        } => {
            let key = record_key(into);
            for (name, value) in std::mem::take(fill) {
                batch.put(&key, name, value);
            }
            if let Some(numbers) = control_numbers.take() {
                batch.put(&key, CONTROL_NUMBERS, list(numbers));
            }
            if let Some(marc) = marc.take() {
                batch.put(&key, MARC, marc);
            }
        }
        Outcome::Skip { .. } => {}
    }
}
