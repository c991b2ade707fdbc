//! The files waiting between the steps of the import page, in memory: each under a random
//! id, owned by the session that uploaded it (only that session can map, preview or import
//! it), and forgotten after [`KEPT_FOR`] without a visit.
//!
//! Memory is bounded: a file is at most [`MAX_FILE_BYTES`], a session has one file waiting
//! (a new upload replaces one not yet imported), and all waiting files together at most
//! [`MAX_HELD_BYTES`]. A power cut forgets them, which costs an upload again; nothing of an
//! import that has not run is ever in the store. Time is passed in, never read here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ImportFile, ImportProgress, ListChoices};

/// The largest file the page takes: a commune's list is a few hundred kilobytes, and a
/// district's MARC file of 20 MB is some 35,000 records, about what a Pi plans in one go.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// All files waiting, together.
pub const MAX_HELD_BYTES: usize = 64 * 1024 * 1024;

/// How long a file waits after its last visit; an import that is running is never forgotten,
/// and one that ended is kept this long after its last visit for its result page.
pub const KEPT_FOR: Duration = Duration::from_secs(30 * 60);

/// One import, from upload to result.
#[derive(Debug)]
pub struct PendingImport {
    owner: String,
    /// The file; taken by the import when it starts.
    pub file: Option<Arc<ImportFile>>,
    /// Kept for the pages after the file is taken.
    pub file_name: String,
    pub choices: ListChoices,
    /// Set once the import started.
    pub progress: Option<Arc<ImportProgress>>,
    touched: Instant,
}

impl PendingImport {
    fn running(&self) -> bool {
        self.progress
            .as_ref()
            .is_some_and(|progress| !progress.view().phase.is_over())
    }
}

/// Why an upload is not kept.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PendingError {
    #[error("the file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    /// Other librarians' files fill the memory set aside; they go within [`KEPT_FOR`].
    #[error("too many files are waiting to be imported")]
    Full,
    #[error("no randomness for an id: {0}")]
    Random(String),
}

/// The imports of every session.
#[derive(Debug, Default)]
pub struct PendingImports {
    by_id: HashMap<String, PendingImport>,
}

impl PendingImports {
    pub fn new() -> PendingImports {
        PendingImports::default()
    }

    /// Keeps `file` for `owner` (an opaque name of a session) and returns its id.
    pub fn add(
        &mut self,
        owner: &str,
        file: ImportFile,
        choices: ListChoices,
        now: Instant,
    ) -> Result<String, PendingError> {
        if file.bytes.len() > MAX_FILE_BYTES {
            return Err(PendingError::TooLarge);
        }
        self.expire(now);
        // One file waiting per session: the last upload is the one the librarian means.
        self.by_id
            .retain(|_, pending| pending.owner != owner || pending.progress.is_some());
        let held: usize = self
            .by_id
            .values()
            .filter_map(|pending| pending.file.as_ref())
            .map(|file| file.bytes.len())
            .sum();
        if held + file.bytes.len() > MAX_HELD_BYTES {
            return Err(PendingError::Full);
        }
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| PendingError::Random(e.to_string()))?;
        let id = hex::encode(random);
        self.by_id.insert(
            id.clone(),
            PendingImport {
                owner: owner.to_owned(),
                file_name: file.name.clone(),
                file: Some(Arc::new(file)),
                choices,
                progress: None,
                touched: now,
            },
        );
        Ok(id)
    }

    /// The import `id` if `owner` uploaded it and it is still kept; another session's id
    /// answers as an unknown one.
    pub fn get(&mut self, id: &str, owner: &str, now: Instant) -> Option<&mut PendingImport> {
        self.expire(now);
        let pending = self.by_id.get_mut(id).filter(|p| p.owner == owner)?;
        pending.touched = now;
        Some(pending)
    }

    fn expire(&mut self, now: Instant) {
        self.by_id.retain(|_, pending| {
            pending.running() || now.saturating_duration_since(pending.touched) < KEPT_FOR
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::FileFormat;
    use crate::spreadsheets::RowKind;

    fn file(bytes: usize) -> ImportFile {
        ImportFile {
            name: "sach.csv".into(),
            format: FileFormat::Csv,
            bytes: vec![b'x'; bytes],
        }
    }

    fn choices() -> ListChoices {
        ListChoices::new(RowKind::Books)
    }

    #[test]
    fn a_file_is_its_sessions_only_and_is_forgotten_after_a_while() {
        let start = Instant::now();
        let mut pending = PendingImports::new();
        let id = pending.add("an", file(10), choices(), start).expect("kept");
        assert_eq!(id.len(), 32);
        assert!(pending.get(&id, "binh", start).is_none(), "another session");
        assert!(pending.get("0123", "an", start).is_none());
        let later = start + KEPT_FOR - Duration::from_secs(1);
        assert!(pending.get(&id, "an", later).is_some(), "a visit keeps it");
        assert!(
            pending.get(&id, "an", later + KEPT_FOR).is_none(),
            "forgotten"
        );

        // A running import is never forgotten.
        let id = pending.add("an", file(10), choices(), start).expect("kept");
        let progress = Arc::new(ImportProgress::new());
        pending.get(&id, "an", start).expect("kept").progress = Some(progress.clone());
        assert!(pending.get(&id, "an", start + 3 * KEPT_FOR).is_some());
        progress.finish(Err(crate::imports::ImportError::OldExcel));
        assert!(pending.get(&id, "an", start + 5 * KEPT_FOR).is_none());
    }

    #[test]
    fn memory_is_bounded_per_file_per_session_and_in_all() {
        let now = Instant::now();
        let mut pending = PendingImports::new();
        assert_eq!(
            pending.add("an", file(MAX_FILE_BYTES + 1), choices(), now),
            Err(PendingError::TooLarge)
        );
        let first = pending.add("an", file(10), choices(), now).expect("kept");
        let second = pending.add("an", file(10), choices(), now).expect("kept");
        assert!(pending.get(&first, "an", now).is_none(), "replaced");
        assert!(pending.get(&second, "an", now).is_some());
        for owner in ["a", "b", "c"] {
            pending
                .add(owner, file(MAX_FILE_BYTES), choices(), now)
                .expect("kept");
        }
        assert_eq!(
            pending.add("d", file(MAX_FILE_BYTES), choices(), now),
            Err(PendingError::Full)
        );
    }
}
