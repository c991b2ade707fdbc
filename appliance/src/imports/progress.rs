//! How far an import running in the background has come, for the page that shows its progress
//! bar: the phase it is in, how many rows or records of that phase are done, and at the end
//! what it did or why it did nothing.
//!
//! The import writes here as it goes; the page reads a [`ProgressView`] copy. Nothing here is
//! kept on disk: after a restart an import is either in the store (one commit) or not at all.

use std::sync::{Arc, Mutex};

use super::{ImportError, ImportSummary};

/// The steps of an import, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Started, not yet reading.
    Queued,
    /// Reading the file into rows or records (MARC: counting the records as they are read).
    Reading,
    /// Waiting for the store, which another import, an edit or a sync holds.
    Waiting,
    /// Checking each row or record against the store and the rest of the file.
    Checking,
    /// Writing the one commit.
    Writing,
    Done,
    Failed,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Reading => "reading",
            Phase::Waiting => "waiting",
            Phase::Checking => "checking",
            Phase::Writing => "writing",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }

    pub fn is_over(self) -> bool {
        matches!(self, Phase::Done | Phase::Failed)
    }
}

/// A copy of an import's progress at one moment.
#[derive(Clone, Debug)]
pub struct ProgressView {
    pub phase: Phase,
    /// Rows or records done in this phase.
    pub done: usize,
    /// Rows or records this phase has in all; 0 while unknown (reading a MARC file).
    pub total: usize,
    /// What the import did, or why it did nothing; set once it is over.
    pub outcome: Option<Arc<Result<ImportSummary, ImportError>>>,
}

/// Shared by the import's thread (which writes) and the pages (which read).
#[derive(Debug)]
pub struct ImportProgress {
    state: Mutex<ProgressView>,
}

impl Default for ImportProgress {
    fn default() -> Self {
        ImportProgress::new()
    }
}

impl ImportProgress {
    pub fn new() -> ImportProgress {
        ImportProgress {
            state: Mutex::new(ProgressView {
                phase: Phase::Queued,
                done: 0,
                total: 0,
                outcome: None,
            }),
        }
    }

    /// Starts a phase of `total` rows or records.
    pub fn enter(&self, phase: Phase, total: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.phase = phase;
            state.done = 0;
            state.total = total;
        }
    }

    /// `done` rows or records of the phase are done.
    pub fn advance(&self, done: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.done = done;
        }
    }

    /// The import is over.
    pub fn finish(&self, outcome: Result<ImportSummary, ImportError>) {
        if let Ok(mut state) = self.state.lock() {
            state.phase = if outcome.is_ok() {
                Phase::Done
            } else {
                Phase::Failed
            };
            state.done = state.total;
            state.outcome = Some(Arc::new(outcome));
        }
    }

    /// Where the import is now. A thread that panicked while holding the state leaves it
    /// failed rather than hiding it.
    pub fn view(&self) -> ProgressView {
        match self.state.lock() {
            Ok(state) => state.clone(),
            Err(_) => ProgressView {
                phase: Phase::Failed,
                done: 0,
                total: 0,
                outcome: Some(Arc::new(Err(ImportError::Internal(
                    "the import stopped unexpectedly".into(),
                )))),
            },
        }
    }
}
