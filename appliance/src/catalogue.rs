//! Bibliographic records as entities of the replicated store: the union catalogue lives in the
//! `network` scope, one entity per record in the `records` collection.

use tusach_sync::{EntityKey, Scope, Value, WriteBatch};

use crate::sample::SampleRecord;

pub const RECORDS: &str = "records";
pub const NETWORK_SCOPE: &str = "network";

pub fn network_scope() -> Scope {
    // A constant, valid name: `Scope::new` only refuses empty or control-character names.
    Scope::new(NETWORK_SCOPE).unwrap_or_else(|| unreachable!("'network' is a valid scope name"))
}

pub fn record_key(id: &str) -> EntityKey {
    EntityKey::new(&network_scope(), RECORDS, id)
}

/// Adds the edits that create (or overwrite) a record to `batch`.
pub fn put_record(batch: &mut WriteBatch, record: &SampleRecord) {
    let key = record_key(&record.id);
    let strings =
        |items: &[String]| Value::List(items.iter().map(|s| Value::Str(s.clone())).collect());
    batch
        .put(&key, "title", record.title.as_str())
        .put(&key, "authors", strings(&record.authors))
        .put(&key, "publisher", record.publisher.as_str())
        .put(&key, "year", record.year)
        .put(&key, "language", record.language.as_str())
        .put(&key, "ddc", record.ddc.as_str())
        .put(&key, "subjects", strings(&record.subjects))
        .put(&key, "pages", record.pages)
        .put(&key, "summary", record.summary.as_str());
    if !record.isbn.is_empty() {
        batch.put(&key, "isbn", record.isbn.as_str());
    }
}

/// A one-field edit of a record, as a librarian correcting the catalogue would make.
pub fn put_field(batch: &mut WriteBatch, id: &str, field: &str, value: &str) {
    let key = record_key(id);
    match field {
        "pages" | "year" => match value.parse::<i64>() {
            Ok(n) => batch.put(&key, field, n),
            Err(_) => batch.put(&key, field, value),
        },
        _ => batch.put(&key, field, value),
    };
}
