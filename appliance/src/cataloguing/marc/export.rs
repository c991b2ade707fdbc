//! Exporting the catalogue, or a selection of it, as MARC21. A record that came from an
//! import is written from the original it kept, with the librarian's edits laid over it (see
//! [`mapping::overlay`]); a record made in Tủ Sách gets a generated record whose 001 is our
//! id, so importing the export again finds every record it came from.

use chrono::{DateTime, NaiveDate, Utc};
use tusach_sync::{Entity, Store, StoreError, Value};

use super::mapping::{self, BookFields, MARC};
use super::{Format, Record, iso2709, marcxml};
use crate::catalogue::{RECORDS, network_scope, record_key};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no record {0} in the catalogue")]
    UnknownRecord(String),
    #[error("record {0} was merged into {1}: export {1} instead")]
    Merged(String, String),
    #[error("record {0} is longer than ISO 2709 allows (99,999 bytes): export as MARCXML")]
    TooLong(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The MARC21 records of `selection` (record ids), or of the whole catalogue in id order.
pub fn records(
    store: &mut Store,
    selection: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Record)>, ExportError> {
    let mut chosen: Vec<(String, Entity)> = Vec::new();
    match selection {
        Some(ids) => {
            for id in ids {
                let fields = store
                    .get(&record_key(id))?
                    .ok_or_else(|| ExportError::UnknownRecord(id.clone()))?;
                if let Some(into) = merged_into(&fields) {
                    return Err(ExportError::Merged(id.clone(), into.to_owned()));
                }
                chosen.push((id.clone(), fields));
            }
        }
        None => {
            store.scan(&network_scope(), RECORDS, |id, fields| {
                if merged_into(fields).is_none() {
                    chosen.push((id.to_owned(), fields.clone()));
                }
            })?;
            chosen.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }
    Ok(chosen
        .into_iter()
        .map(|(id, fields)| {
            let record = to_marc(&id, &fields, now);
            (id, record)
        })
        .collect())
}

fn merged_into(fields: &Entity) -> Option<&str> {
    fields
        .get("merged_into")
        .and_then(Value::as_str)
        .filter(|into| !into.is_empty())
}

/// One record of the store as MARC21.
pub fn to_marc(id: &str, fields: &Entity, now: DateTime<Utc>) -> Record {
    let book = BookFields::of_entity(fields);
    let original = fields
        .get(MARC)
        .and_then(Value::as_str)
        .and_then(|text| iso2709::read(text.as_bytes()).ok())
        .and_then(|records| records.into_iter().next());
    match original {
        Some(original) => mapping::overlay(original, &book, now),
        None => {
            let added = fields
                .get("added")
                .and_then(Value::as_str)
                .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok());
            mapping::generate(id, &book, added, now)
        }
    }
}

/// The file of `records` in `format`.
pub fn write(records: &[(String, Record)], format: Format) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Iso2709 => {
            let mut bytes = Vec::new();
            for (id, record) in records {
                iso2709::write(record, &mut bytes)
                    .ok_or_else(|| ExportError::TooLong(id.clone()))?;
            }
            Ok(bytes)
        }
        Format::MarcXml => {
            let only: Vec<Record> = records.iter().map(|(_, r)| r.clone()).collect();
            Ok(marcxml::write(&only))
        }
    }
}
