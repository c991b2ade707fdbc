//! The district's figures, as its hub holds them: which libraries there are, one month's
//! report for each, and the union catalogue's answer to "which library holds this title, and
//! is a copy on the shelf?".
//!
//! A library is known to this device when the network scope names it or a member's
//! certificate names it: so a commune enrolled last week whose first sync has not come yet is
//! listed, with no figures, rather than missing. Its figures are counted when this device
//! holds its data (its `library:<id>` scope). A commune appliance holds only its own library and sees only that.
//!
//! Like the rest of [`crate::reports`] this only counts; it writes nothing and chooses no
//! words.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use tusach_sync::{Scope, Store};

use super::{LibraryFacts, Period, PeriodReport, ReportError};
use crate::catalogue::network_scope;
use crate::db::{self, RecordRow};
use crate::holdings::{self, LIBRARY_SCOPE_PREFIX, library_id, library_names};
use crate::home_library::LIBRARIES;

/// A library of the district.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictLibrary {
    pub id: String,
    /// Its display name (its id while the network scope names it not).
    pub name: String,
    /// This device holds the library's data, so its figures can be counted here.
    pub held: bool,
}

/// Every library this device knows of, by name (then id).
pub fn known_libraries(store: &mut Store) -> Result<Vec<DistrictLibrary>, ReportError> {
    let held: BTreeSet<String> = store
        .scopes()?
        .iter()
        .filter_map(|scope| library_id(scope.as_str()).map(str::to_owned))
        .collect();
    // Listed: libraries the network names or enrols. Data alone does not list one: a hub's
    // own unnamed default library only holds its staff accounts.
    let mut ids = BTreeSet::new();
    store.scan(&network_scope(), LIBRARIES, |id, _| {
        ids.insert(id.to_owned());
    })?;
    for member in tusach_sync::trust::known_members(store)? {
        ids.extend(
            member
                .scopes
                .iter()
                .filter_map(|scope| scope.strip_prefix(LIBRARY_SCOPE_PREFIX))
                .map(str::to_owned),
        );
    }
    let names = library_names(store, ids.iter().cloned())?;
    let mut libraries: Vec<DistrictLibrary> = ids
        .into_iter()
        .map(|id| DistrictLibrary {
            name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
            held: held.contains(&id),
            id,
        })
        .collect();
    libraries.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(libraries)
}

/// One library's period: `None` where this device holds none of its data.
#[derive(Clone, Debug)]
pub struct LibraryReport {
    pub library: DistrictLibrary,
    pub report: Option<PeriodReport>,
}

/// The period's report of every known library, counted as each library counts its own (the
/// same [`PeriodReport`]), so a hub's row and the commune's own CSV agree.
pub fn report_by_library(
    store: &mut Store,
    period: Period,
) -> Result<Vec<LibraryReport>, ReportError> {
    let mut months = Vec::new();
    for library in known_libraries(store)? {
        let report = match Scope::new(format!("{LIBRARY_SCOPE_PREFIX}{}", library.id)) {
            Some(scope) if library.held => {
                let facts = LibraryFacts::gather(store, &scope)?;
                Some(PeriodReport::of(&facts, period))
            }
            _ => None,
        };
        months.push(LibraryReport { library, report });
    }
    Ok(months)
}

/// A title's copies in one library, lost and withdrawn ones left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LibraryCopies {
    pub library: String,
    /// On the shelf, to borrow.
    pub on_shelf: usize,
    /// On the shelf, to read there only.
    pub reading_room: usize,
    pub on_loan: usize,
}

impl LibraryCopies {
    pub fn total(&self) -> usize {
        self.on_shelf + self.reading_room + self.on_loan
    }
}

/// A title of the union catalogue and where its copies are.
#[derive(Clone, Debug)]
pub struct TitleHoldings {
    pub record: RecordRow,
    /// By library id; libraries without a copy are absent.
    pub libraries: BTreeMap<String, LibraryCopies>,
}

/// Where the copies of each of `records` are, library by library (a record's merged
/// duplicates included, as on the record's own page).
pub fn union_holdings(
    conn: &Connection,
    records: Vec<RecordRow>,
) -> rusqlite::Result<Vec<TitleHoldings>> {
    records
        .into_iter()
        .map(|record| {
            let mut libraries: BTreeMap<String, LibraryCopies> = BTreeMap::new();
            for shelf in holdings::availability(&db::holdings_of_record(conn, &record.id)?) {
                let copies =
                    libraries
                        .entry(shelf.library.clone())
                        .or_insert_with(|| LibraryCopies {
                            library: shelf.library.clone(),
                            ..LibraryCopies::default()
                        });
                copies.on_shelf += shelf.on_shelf;
                copies.reading_room += shelf.reading_room;
                copies.on_loan += shelf.on_loan;
            }
            Ok(TitleHoldings { record, libraries })
        })
        .collect()
}
