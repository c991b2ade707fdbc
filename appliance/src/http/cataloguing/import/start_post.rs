//! `POST /staff/catalogue/import/{id}/start` (form: `csrf`): starts the import on a thread of
//! its own and redirects to its progress page. The import plans the file again before it
//! writes (the catalogue may have changed since the preview), so a row that went bad in the
//! meantime stops it with nothing written. Posting twice starts it once.
//!
//! A thread of its own rather than the blocking pool: an import of a district's file takes
//! minutes, and the pool's few threads are for the pages every phone is waiting on.

use std::sync::Arc;

use super::{PATH, to_step, with_pending};
use crate::http::auth::Staff;
use crate::http::cataloguing::form_error;
use crate::http::input::Input;
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::imports::{self, ImportError, ImportProgress};

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    input: &Input,
) -> warp::reply::Response {
    match start(state, staff, id, input) {
        Ok(()) => to_step(id, "progress"),
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: import start: {detail}");
            }
            form_error(state, staff, request, &error, PATH)
        }
    }
}

fn start(state: &AppState, staff: &Staff, id: &str, input: &Input) -> Result<(), ApiError> {
    check_form_csrf(staff, input)?;
    let desk = state
        .library
        .desk(&state.device.to_hex())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let progress = Arc::new(ImportProgress::new());
    // Taken under the lock, so a second post finds the import started and only redirects.
    let taken = with_pending(state, staff, id, |pending| {
        if pending.progress.is_some() {
            return None;
        }
        let file = pending.file.take()?;
        pending.progress = Some(progress.clone());
        Some((file, pending.choices.clone()))
    })?;
    let Some((file, choices)) = taken else {
        return Ok(());
    };
    let store = state.store.clone();
    let today = state.today();
    let running = progress.clone();
    let spawned = std::thread::Builder::new()
        .name("import".into())
        .spawn(move || imports::run(&store, &desk, &file, &choices, today, &running));
    if let Err(error) = spawned {
        progress.finish(Err(ImportError::Internal(format!(
            "no thread for the import: {error}"
        ))));
    }
    Ok(())
}
