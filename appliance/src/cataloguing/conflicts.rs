//! The catalogue's part of the exceptions inbox: what a merge of two desks' cataloguing can
//! leave that a librarian should decide.
//!
//! - **A record edited differently at two desks**: one field has two history heads with
//!   different values (see [`super::edits`]). The store kept one value (automerge picks);
//!   the inbox shows both. "Keep this value" writes the chosen value with a history entry
//!   that names both heads, which settles it at every desk once it syncs. Two desks that
//!   chose different values while apart leave two new heads, so the case comes back once,
//!   with both choices.
//! - **The same ISBN catalogued twice**: two live records carry one ISBN. "Merge these
//!   records" merges them ([`super::merge`]); a merged record leaves the catalogue, so the
//!   case leaves with it, whichever desk merged and in whichever direction.
//!
//! Everything is derived from the query tables at each read, so every desk that holds the same
//! data shows the same cases with the same ids. Nothing here knows HTTP.

use tusach_sync::{Scope, Store};

use super::CatalogueError;
use super::edits::{self, EDITABLE, Editor};
use super::merge::{self, Merged};
use crate::catalogue::record_key;
use crate::db::{self, RecordEditRow, RecordRow};

/// One case for the inbox.
#[derive(Clone, Debug, PartialEq)]
pub enum CatalogueConflict {
    /// One field of `record` was changed to different values at desks that had not seen each
    /// other's change. `versions` are the competing history entries; `current` is the value
    /// the store kept.
    EditedDifferently {
        id: String,
        record: Box<RecordRow>,
        field: String,
        current: String,
        versions: Vec<RecordEditRow>,
    },
    /// Several records of the catalogue carry one ISBN (ordered by id; the first survives a
    /// merge).
    IsbnTwice {
        id: String,
        isbn: String,
        records: Vec<RecordRow>,
    },
}

impl CatalogueConflict {
    pub fn id(&self) -> &str {
        match self {
            CatalogueConflict::EditedDifferently { id, .. }
            | CatalogueConflict::IsbnTwice { id, .. } => id,
        }
    }
}

/// What a librarian can choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConflictChoice {
    /// Keep the value of this history entry (one of the case's versions).
    KeepEdit(String),
    /// Merge the records of an ISBN case.
    MergeRecords,
}

#[derive(Debug, thiserror::Error)]
pub enum ConflictError {
    #[error("no catalogue exception {0} (resolved already?)")]
    Unknown(String),
    #[error("that choice does not apply to this exception")]
    NotOffered,
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

impl From<rusqlite::Error> for ConflictError {
    fn from(error: rusqlite::Error) -> ConflictError {
        ConflictError::Catalogue(CatalogueError::Database(error))
    }
}

/// Every catalogue case this replica can see, fields edited differently first.
pub fn conflicts(store: &mut Store) -> Result<Vec<CatalogueConflict>, CatalogueError> {
    let mut cases = Vec::new();
    let conn = store.connection();
    let contested = db::record_edits_of_contested_fields(conn)?;
    let mut pending = Vec::new();
    let mut start = 0;
    while start < contested.len() {
        let (record, field) = (&contested[start].record, &contested[start].field);
        let end = contested[start..]
            .iter()
            .position(|e| (&e.record, &e.field) != (record, field))
            .map_or(contested.len(), |n| start + n);
        let group = &contested[start..end];
        start = end;
        if !EDITABLE.contains(&group[0].field.as_str()) {
            continue;
        }
        let mut heads: Vec<RecordEditRow> = edits::heads(group).into_iter().cloned().collect();
        heads.sort_by(|a, b| a.id.cmp(&b.id));
        let mut values: Vec<&str> = heads.iter().map(|h| h.new.as_str()).collect();
        values.sort_unstable();
        values.dedup();
        if values.len() < 2 {
            continue;
        }
        // A merged record has left the catalogue, and its case with it.
        let Some(row) = db::record_by_id(conn, &group[0].record)? else {
            continue;
        };
        pending.push((row, group[0].field.clone(), heads));
    }
    for (row, field, heads) in pending {
        let current = store
            .get(&record_key(&row.id))?
            .and_then(|fields| fields.get(field.as_str()).map(edits::value_text))
            .unwrap_or_default();
        cases.push(CatalogueConflict::EditedDifferently {
            id: format!(
                "edited:{}:{}:{}",
                row.id,
                field,
                heads
                    .iter()
                    .map(|h| h.id.as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            ),
            record: Box::new(row),
            field,
            current,
            versions: heads,
        });
    }
    let conn = store.connection();
    for (isbn, ids) in db::duplicate_isbns(conn)? {
        let mut records = Vec::new();
        for id in &ids {
            if let Some(row) = db::record_by_id(conn, id)? {
                records.push(row);
            }
        }
        if records.len() > 1 {
            cases.push(CatalogueConflict::IsbnTwice {
                id: format!("isbn:{isbn}:{}", ids.join("+")),
                isbn,
                records,
            });
        }
    }
    Ok(cases)
}

/// Applies a librarian's choice as one commit. `library` is this desk's library scope (a
/// merge moves its copies and holds).
pub fn resolve(
    store: &mut Store,
    id: &str,
    choice: &ConflictChoice,
    library: &Scope,
    editor: &Editor,
) -> Result<Option<Merged>, ConflictError> {
    let case = conflicts(store)?
        .into_iter()
        .find(|c| c.id() == id)
        .ok_or_else(|| ConflictError::Unknown(id.to_owned()))?;
    match (&case, choice) {
        (
            CatalogueConflict::EditedDifferently {
                record,
                field,
                versions,
                ..
            },
            ConflictChoice::KeepEdit(edit),
        ) => {
            if !versions.iter().any(|v| &v.id == edit) {
                return Err(ConflictError::NotOffered);
            }
            let value = edits::edit_value(store, edit)?.unwrap_or(tusach_sync::Value::Null);
            let old = edits::live_record(store, &record.id)?
                .get(field.as_str())
                .cloned()
                .unwrap_or(tusach_sync::Value::Null);
            let mut batch = tusach_sync::WriteBatch::new();
            edits::put_field_edit(store, &mut batch, &record.id, field, &old, &value, editor)
                .map_err(ConflictError::Catalogue)?;
            store.commit(&batch).map_err(CatalogueError::from)?;
            Ok(None)
        }
        (CatalogueConflict::IsbnTwice { records, .. }, ConflictChoice::MergeRecords) => {
            let others: Vec<String> = records[1..].iter().map(|r| r.id.clone()).collect();
            Ok(Some(merge::merge_records(
                store,
                &records[0].id,
                &others,
                library,
                editor,
            )?))
        }
        _ => Err(ConflictError::NotOffered),
    }
}
