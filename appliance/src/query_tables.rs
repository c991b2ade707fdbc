//! The one store observer of the appliance: it keeps every query table in step with the
//! entities, inside the store's own transactions — the catalogue's search tables for `records`
//! and the circulation tables for `copies`, `loans`, `returns`, `readers` and `registrations` of
//! each library scope, with record edits and merges.

use rusqlite::Transaction;
use tusach_sync::{
    ChangeObserver, Entity, EntityChange, EntityChangeKind, Store, StoreError, Value,
};

use crate::catalogue::{RECORDS, network_scope};
use crate::cataloguing::edits::{self, RECORD_EDITS};
use crate::circulation::library::{
    BACK, COPIES, LOANS, READERS, REGISTRATIONS, RESOLUTIONS, RETURNS,
};
use crate::circulation::readers::reader_row;
use crate::db::{self, LoanRow, ResolutionRow, StrayReturnRow};
use crate::holdings;
use crate::search::{self, IndexedRecord};

pub struct QueryTables;

impl ChangeObserver for QueryTables {
    fn entities_changed(
        &mut self,
        tx: &Transaction<'_>,
        changes: &[EntityChange],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut prepared = prepare_records(changes);
        for (change, prepared) in changes.iter().zip(prepared.iter_mut()) {
            let key = &change.key;
            let fields = match (&change.kind, &change.fields) {
                (EntityChangeKind::Upserted, Some(fields)) => Some(fields),
                _ => None,
            };
            match (key.collection.as_str(), fields) {
                (RECORDS, _) if key.scope != network_scope() => {}
                (RECORDS, Some(fields)) => match merged_into(fields) {
                    // A merged record leaves the catalogue's search; its copies and holds
                    // are found through the redirect.
                    Some(into) => {
                        db::delete_record(tx, &key.id)?;
                        db::upsert_record_redirect(tx, &key.id, into)?;
                    }
                    None => {
                        db::delete_record_redirect(tx, &key.id)?;
                        match prepared.take() {
                            Some(record) => record.write(tx)?,
                            None => search::index_record(tx, &search::record_row(&key.id, fields))?,
                        }
                    }
                },
                (RECORDS, None) => db::delete_record(tx, &key.id)?,
                (RECORD_EDITS, _) if key.scope != network_scope() => {}
                (RECORD_EDITS, Some(fields)) => {
                    db::upsert_record_edit(tx, &edits::edit_row(&key.id, fields))?
                }
                (RECORD_EDITS, None) => db::delete_record_edit(tx, &key.id)?,
                (LOANS, Some(fields)) => {
                    db::upsert_loan(tx, &loan_row(key.scope.as_str(), &key.id, fields))?
                }
                (LOANS, None) => db::delete_loan(tx, &key.id)?,
                (RETURNS, Some(fields)) => {
                    db::upsert_stray_return(tx, &stray_row(key.scope.as_str(), &key.id, fields))?
                }
                (RETURNS, None) => db::delete_stray_return(tx, &key.id)?,
                (READERS, Some(fields)) => {
                    db::upsert_reader(tx, &reader_row(key.scope.as_str(), &key.id, fields))?;
                    let registration = fields.get("registration").and_then(Value::as_str);
                    db::set_reader_registration(tx, key.scope.as_str(), &key.id, registration)?
                }
                (READERS, None) => db::delete_reader(tx, key.scope.as_str(), &key.id)?,
                (REGISTRATIONS, Some(fields)) => {
                    db::upsert_registration(tx, key.scope.as_str(), &key.id, &text(fields, "card"))?
                }
                (REGISTRATIONS, None) => db::delete_registration(tx, key.scope.as_str(), &key.id)?,
                (RESOLUTIONS, Some(fields)) => {
                    db::upsert_resolution(tx, key.scope.as_str(), &resolution_row(&key.id, fields))?
                }
                (RESOLUTIONS, None) => db::delete_resolution(tx, key.scope.as_str(), &key.id)?,
                (COPIES, _) if holdings::library_id(key.scope.as_str()).is_none() => {}
                (COPIES, Some(fields)) => {
                    db::upsert_copy(tx, &holdings::copy_row(key.scope.as_str(), &key.id, fields))?
                }
                (COPIES, None) => db::delete_copy(tx, key.scope.as_str(), &key.id)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// From this many records on, a change set's search keys are made on every core: folding
/// Vietnamese text is most of the work of indexing a bootstrap or an import outside SQLite.
const PARALLEL_FROM: usize = 256;

/// The search rows of the catalogue records among `changes` (in step with them, `None` for
/// anything else), made before the writes so they can be made in parallel.
fn prepare_records(changes: &[EntityChange]) -> Vec<Option<IndexedRecord>> {
    let prepare = |change: &EntityChange| match (&change.key, &change.kind, &change.fields) {
        (key, EntityChangeKind::Upserted, Some(fields))
            if key.collection == RECORDS
                && key.scope == network_scope()
                && merged_into(fields).is_none() =>
        {
            Some(IndexedRecord::new(search::record_row(&key.id, fields)))
        }
        _ => None,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if changes.len() < PARALLEL_FROM || threads < 2 {
        return changes.iter().map(prepare).collect();
    }
    let per_thread = changes.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = changes
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(prepare).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The record a merged record went into (its `merged_into` field), if it was merged.
pub(crate) fn merged_into(fields: &Entity) -> Option<&str> {
    fields
        .get("merged_into")
        .and_then(Value::as_str)
        .filter(|into| !into.is_empty())
}

fn text(fields: &Entity, name: &str) -> String {
    fields
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn loan_row(scope: &str, id: &str, fields: &Entity) -> LoanRow {
    LoanRow {
        id: id.to_owned(),
        scope: scope.to_owned(),
        copy: text(fields, "copy"),
        reader: text(fields, "reader"),
        out: text(fields, "out"),
        due: text(fields, "due"),
        returned: fields
            .get("returned")
            .and_then(Value::as_str)
            .map(str::to_owned),
        renewals: fields.get("renewals").and_then(Value::as_int).unwrap_or(0),
        desk: text(fields, "desk"),
        closed_as: fields
            .get("closed_as")
            .and_then(Value::as_str)
            .map(str::to_owned),
        kept: fields
            .get("kept")
            .and_then(Value::as_str)
            .map(str::to_owned),
        back: fields.get(BACK).and_then(Value::as_str).map(str::to_owned),
    }
}

/// Fills `reader_index` from the documents when it is empty (a database that predates it).
/// `copy_index` has its own rebuild in [`holdings::rebuild_if_empty`].
fn rebuild_reader_index_if_empty(store: &mut Store) -> Result<(), StoreError> {
    if db::reader_count(store.connection())? > 0 {
        return Ok(());
    }
    let mut readers = Vec::new();
    for scope in store.scopes()? {
        if !scope.as_str().starts_with("library:") {
            continue;
        }
        store.scan(&scope, READERS, |card, fields| {
            readers.push(reader_row(scope.as_str(), card, fields))
        })?;
    }
    let tx = store.connection_mut().transaction()?;
    for row in &readers {
        db::upsert_reader(&tx, row)?;
    }
    tx.commit()?;
    Ok(())
}

fn resolution_row(id: &str, fields: &Entity) -> ResolutionRow {
    ResolutionRow {
        id: id.to_owned(),
        exception: text(fields, "exception"),
        resolution: text(fields, "resolution"),
        desk: text(fields, "desk"),
        day: text(fields, "on"),
    }
}

/// The setting that says [`fill_0007_once`] has run on this database.
const FILLED_0007: &str = "query_tables_0007_filled";

/// Fills what migration 0007 added from the documents, once per database: how each loan was
/// closed and which loan was kept (a database upgraded with loans already closed as lent by
/// mistake must not count them in reports), and the notes of resolutions.
fn fill_0007_once(store: &mut Store) -> Result<(), StoreError> {
    if db::setting(store.connection(), FILLED_0007)?.is_some() {
        return Ok(());
    }
    let mut loans = Vec::new();
    let mut notes = Vec::new();
    for scope in store.scopes()? {
        if !scope.as_str().starts_with("library:") {
            continue;
        }
        store.scan(&scope, LOANS, |id, fields| {
            loans.push(loan_row(scope.as_str(), id, fields))
        })?;
        store.scan(&scope, RESOLUTIONS, |id, fields| {
            notes.push((scope.as_str().to_owned(), resolution_row(id, fields)))
        })?;
    }
    let tx = store.connection_mut().transaction()?;
    for row in &loans {
        db::upsert_loan(&tx, row)?;
    }
    for (scope, row) in &notes {
        db::upsert_resolution(&tx, scope, row)?;
    }
    db::set_setting(&tx, FILLED_0007, "1")?;
    tx.commit()?;
    Ok(())
}

fn stray_row(scope: &str, id: &str, fields: &Entity) -> StrayReturnRow {
    StrayReturnRow {
        id: id.to_owned(),
        scope: scope.to_owned(),
        copy: text(fields, "copy"),
        day: text(fields, "day"),
        desk: text(fields, "desk"),
    }
}

/// Opens the query tables on a store: runs the appliance's migrations, fills the catalogue
/// index from the documents if it is empty (a database that predates it), and attaches the
/// observer.
pub fn attach(store: &mut Store) -> Result<(), StoreError> {
    db::migrate(store.connection_mut())?;
    search::rebuild_if_empty(store)?;
    rebuild_reader_index_if_empty(store)?;
    holdings::rebuild_if_empty(store)?;
    fill_0007_once(store)?;
    store.set_observer(Box::new(QueryTables));
    Ok(())
}
