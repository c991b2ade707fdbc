//! Editing records field by field, with a history of who changed what at which desk.
//!
//! Only the fields a librarian changed are written, so two desks that correct different fields
//! of one record while apart both keep their work after the merge. Each changed field also
//! gets a history entry: an entity of its own in the network scope (collection
//! `record_edits`, a random id), so no desk's entry ever overwrites another's. An entry names
//! the edits of that field its desk had already seen (`after`); an entry no later entry names
//! is a *head*. One head is the normal state; two heads with different values mean two desks
//! edited the field differently while apart (see [`super::conflicts`]), and the next edit of
//! the field, which names both, settles it.
//!
//! This module knows nothing about HTTP; the history reads come from `record_edit_index`.

use rusqlite::Connection;
use tusach_sync::{Entity, EntityKey, Store, Value, WriteBatch};

use super::{CatalogueError, isbn};
use crate::catalogue::{network_scope, record_key};
use crate::db::{self, RecordEditRow};

/// The collection of history entries in the network scope.
pub const RECORD_EDITS: &str = "record_edits";

/// The fields of a record a librarian may change, in the order the edit page shows them.
pub const EDITABLE: &[&str] = &[
    "title",
    "authors",
    "publisher",
    "year",
    "isbn",
    "language",
    "ddc",
    "subjects",
    "pages",
    "summary",
];

/// History entries for what a merge did, which are not fields of the record: a merged record
/// gets `merged_into`, the survivor `merged` (the id it took in).
pub const MERGED_INTO: &str = "merged_into";
pub const MERGED: &str = "merged";

/// Who edits, where and when: written into every history entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Editor {
    /// The staff member's username.
    pub username: String,
    /// The desk's device id (hex).
    pub desk: String,
    /// The desk's library id.
    pub library: String,
    /// When, as the desk's (corrected) clock read it, RFC 3339 in UTC. Shown, never ordered by.
    pub at: String,
}

/// A value as the history page shows it: lists joined with "; ", nothing as "".
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) | Value::Counter(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => format!("{} bytes", b.len()),
        Value::List(items) => items
            .iter()
            .map(value_text)
            .collect::<Vec<_>>()
            .join(db::LIST_SEPARATOR),
    }
}

fn text(fields: &Entity, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The `record_edit_index` row of a history entry.
pub fn edit_row(id: &str, fields: &Entity) -> RecordEditRow {
    RecordEditRow {
        id: id.to_owned(),
        record: text(fields, "record"),
        field: text(fields, "field"),
        old: fields.get("old").map(value_text).unwrap_or_default(),
        new: fields.get("new").map(value_text).unwrap_or_default(),
        by: text(fields, "by"),
        desk: text(fields, "desk"),
        library: text(fields, "library"),
        at: text(fields, "at"),
        after: text(fields, "after")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    }
}

fn edit_key(id: &str) -> EntityKey {
    EntityKey::new(&network_scope(), RECORD_EDITS, id)
}

fn new_edit_id() -> Result<String, CatalogueError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| CatalogueError::Random(e.to_string()))?;
    Ok(format!(
        "edit-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// The heads among the edits of one field: those no other edit of it names in `after`.
pub fn heads(edits: &[RecordEditRow]) -> Vec<&RecordEditRow> {
    edits
        .iter()
        .filter(|e| !edits.iter().any(|other| other.after.contains(&e.id)))
        .collect()
}

/// The ids of the current heads of one field of a record, as this replica knows them.
pub fn field_heads(
    conn: &Connection,
    record: &str,
    field: &str,
) -> Result<Vec<String>, CatalogueError> {
    let edits: Vec<RecordEditRow> = db::record_edits(conn, record)?
        .into_iter()
        .filter(|e| e.field == field)
        .collect();
    Ok(heads(&edits).into_iter().map(|e| e.id.clone()).collect())
}

/// Adds one history entry to `batch`. `after` lists the edits of the field this desk has
/// seen; the entry supersedes them.
pub(crate) fn put_history(
    batch: &mut WriteBatch,
    record: &str,
    field: &str,
    old: &Value,
    new: &Value,
    after: &[String],
    editor: &Editor,
) -> Result<String, CatalogueError> {
    let id = new_edit_id()?;
    let key = edit_key(&id);
    batch
        .put(&key, "record", record)
        .put(&key, "field", field)
        .put(&key, "old", old.clone())
        .put(&key, "new", new.clone())
        .put(&key, "by", editor.username.as_str())
        .put(&key, "desk", editor.desk.as_str())
        .put(&key, "library", editor.library.as_str())
        .put(&key, "at", editor.at.as_str())
        .put(&key, "after", after.join(" "));
    Ok(id)
}

/// Writes one field of a record and its history entry (always, even when the value is the
/// one already stored: a settled conflict must supersede both heads).
pub(crate) fn put_field_edit(
    store: &Store,
    batch: &mut WriteBatch,
    record: &str,
    field: &str,
    old: &Value,
    new: &Value,
    editor: &Editor,
) -> Result<String, CatalogueError> {
    let after = field_heads(store.connection(), record, field)?;
    batch.put(&record_key(record), field, new.clone());
    put_history(batch, record, field, old, new, &after, editor)
}

/// The typed value a history entry set, read from its entity.
pub fn edit_value(store: &mut Store, edit: &str) -> Result<Option<Value>, CatalogueError> {
    Ok(store
        .get(&edit_key(edit))?
        .and_then(|fields| fields.get("new").cloned()))
}

/// Reads a record that may be edited: it exists and was not merged into another.
pub(crate) fn live_record(store: &mut Store, id: &str) -> Result<Entity, CatalogueError> {
    let fields = store
        .get(&record_key(id))?
        .ok_or_else(|| CatalogueError::UnknownRecord(id.to_owned()))?;
    if let Some(into) = fields
        .get(MERGED_INTO)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        return Err(CatalogueError::Merged {
            record: id.to_owned(),
            into: into.to_owned(),
        });
    }
    Ok(fields)
}

/// Equal values, where nothing, an empty text and an empty list are all "empty": an edit form
/// that sends a blank summary does not change a record that has none.
fn same(a: &Value, b: &Value) -> bool {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::List(items) => items.is_empty(),
        _ => false,
    };
    a == b || (empty(a) && empty(b))
}

/// Checks one new value of an editable field; returns it as stored (an ISBN normalised).
fn checked(field: &str, value: Value) -> Result<Value, CatalogueError> {
    match (field, value) {
        ("title", Value::Str(title)) if title.trim().is_empty() => Err(CatalogueError::NoTitle),
        ("isbn", Value::Str(typed)) if !typed.is_empty() => isbn::normalise(&typed)
            .map(Value::Str)
            .ok_or(CatalogueError::InvalidIsbn(typed)),
        ("isbn", Value::Str(_)) => Ok(Value::Null),
        (field, value) if EDITABLE.contains(&field) => Ok(value),
        (field, _) => Err(CatalogueError::NotEditable(field.to_owned())),
    }
}

/// Changes the given fields of a record and returns the names of those that changed. Fields
/// whose new value equals the stored one are not written (and get no history entry), so an
/// edit page that sends every field still writes only what the librarian changed. Refuses an
/// unknown or merged record, a field that cannot be edited, an empty title, and an ISBN that
/// is wrong or already another record's; all or none.
pub fn edit_record(
    store: &mut Store,
    record: &str,
    changes: &[(String, Value)],
    editor: &Editor,
) -> Result<Vec<String>, CatalogueError> {
    let current = live_record(store, record)?;
    let mut batch = WriteBatch::new();
    let mut changed = Vec::new();
    for (field, value) in changes {
        let new = checked(field, value.clone())?;
        let old = current.get(field.as_str()).cloned().unwrap_or(Value::Null);
        if same(&old, &new) || changed.contains(field) {
            continue;
        }
        if let ("isbn", Value::Str(isbn)) = (field.as_str(), &new)
            && let Some(other) = db::records_by_isbn(store.connection(), isbn)?
                .into_iter()
                .find(|r| r.id != record)
        {
            return Err(CatalogueError::IsbnTaken {
                isbn: isbn.clone(),
                record: other.id,
            });
        }
        put_field_edit(store, &mut batch, record, field, &old, &new, editor)?;
        changed.push(field.clone());
    }
    if !batch.is_empty() {
        store.commit(&batch)?;
    }
    Ok(changed)
}

/// A record's history, oldest first.
pub fn history(conn: &Connection, record: &str) -> Result<Vec<RecordEditRow>, CatalogueError> {
    Ok(db::record_edits(conn, record)?)
}
