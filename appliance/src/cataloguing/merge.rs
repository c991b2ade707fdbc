//! Merging records that describe one book (the same ISBN catalogued at two desks, or a
//! duplicate a librarian found).
//!
//! The surviving id is always the smallest of the ids merged, whichever record the librarian
//! started from: two desks that merge the same records while apart, in either direction,
//! agree on the survivor without talking, and `merged_into` always points to a smaller id, so
//! no chain of merges can loop. The fields come from the record the librarian chose to keep,
//! gaps filled from the others in order; each field the survivor gains is an ordinary edit
//! with a history entry. A merged record is never deleted: it keeps its fields and gets
//! `merged_into`, so links, holds and copies that still name it (from a desk that had not
//! heard of the merge, or another library's copies, which this desk may not write) follow it
//! to the survivor (`db::canonical_record`, `record_redirect`). This library's own copies and
//! holds are moved to the survivor in the same commit.

use tusach_sync::{Scope, Store, Value, WriteBatch};

use super::CatalogueError;
use super::edits::{self, EDITABLE, Editor, MERGED, MERGED_INTO};
use crate::catalogue::record_key;
use crate::circulation::library::{COPIES, HOLDS};

/// What a merge did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The record that stands for all of them now.
    pub survivor: String,
    /// The records merged into it.
    pub merged: Vec<String>,
    /// This library's copies that now name the survivor.
    pub copies_moved: usize,
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Str(s) => s.trim().is_empty(),
        Value::List(items) => items.is_empty(),
        _ => false,
    }
}

/// Merges `others` with `keep` (whose fields win) as one commit. `library` is this desk's
/// library scope: its copies and holds of the merged records move to the survivor.
pub fn merge_records(
    store: &mut Store,
    keep: &str,
    others: &[String],
    library: &Scope,
    editor: &Editor,
) -> Result<Merged, CatalogueError> {
    let mut order = vec![keep.to_owned()];
    for other in others {
        if !order.contains(other) {
            order.push(other.clone());
        }
    }
    if order.len() < 2 {
        return Err(CatalogueError::NothingToMerge);
    }
    let mut records = Vec::new();
    for id in &order {
        records.push(edits::live_record(store, id)?);
    }
    let survivor = order
        .iter()
        .min()
        .cloned()
        .unwrap_or_else(|| keep.to_owned());
    let survivor_fields = records[order.iter().position(|id| *id == survivor).unwrap_or(0)].clone();

    let mut batch = WriteBatch::new();
    // The survivor's fields: the kept record's value, or the first non-empty one in order.
    for field in EDITABLE {
        let chosen = records
            .iter()
            .filter_map(|fields| fields.get(*field))
            .find(|value| !is_empty(value));
        let Some(chosen) = chosen else { continue };
        let current = survivor_fields.get(*field).cloned().unwrap_or(Value::Null);
        if &current != chosen {
            edits::put_field_edit(
                store, &mut batch, &survivor, field, &current, chosen, editor,
            )?;
        }
    }
    let merged: Vec<String> = order
        .iter()
        .filter(|id| **id != survivor)
        .cloned()
        .collect();
    for id in &merged {
        let key = record_key(id);
        batch.put(&key, MERGED_INTO, survivor.as_str());
        let after = edits::field_heads(store.connection(), id, MERGED_INTO)?;
        edits::put_history(
            &mut batch,
            id,
            MERGED_INTO,
            &Value::Null,
            &Value::Str(survivor.clone()),
            &after,
            editor,
        )?;
        edits::put_history(
            &mut batch,
            &survivor,
            MERGED,
            &Value::Null,
            &Value::Str(id.clone()),
            &[],
            editor,
        )?;
    }
    let copies_moved = move_references(store, &mut batch, library, &merged, &survivor)?;
    store.commit(&batch)?;
    Ok(Merged {
        survivor,
        merged,
        copies_moved,
    })
}

/// Points this library's copies and holds of the merged records at the survivor.
fn move_references(
    store: &mut Store,
    batch: &mut WriteBatch,
    library: &Scope,
    merged: &[String],
    survivor: &str,
) -> Result<usize, CatalogueError> {
    let mut copies = Vec::new();
    store.scan(library, COPIES, |barcode, fields| {
        if let Some(record) = fields.get("record").and_then(Value::as_str)
            && merged.iter().any(|m| m == record)
        {
            copies.push(barcode.to_owned());
        }
    })?;
    for barcode in &copies {
        batch.put(
            &tusach_sync::EntityKey::new(library, COPIES, barcode.as_str()),
            "record",
            survivor,
        );
    }
    let mut holds = Vec::new();
    store.scan(library, HOLDS, |id, fields| {
        if let Some(record) = fields.get("record").and_then(Value::as_str)
            && merged.iter().any(|m| m == record)
        {
            holds.push(id.to_owned());
        }
    })?;
    for id in &holds {
        batch.put(
            &tusach_sync::EntityKey::new(library, HOLDS, id.as_str()),
            "record",
            survivor,
        );
    }
    Ok(copies.len())
}
