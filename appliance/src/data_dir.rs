//! The data folder: one SQLite database holding documents, feed, keys and query tables.
//! `tusach` uses `./tusach-data` unless `--data` says otherwise.

use std::path::{Path, PathBuf};

use tusach_sync::{Store, StoreError, StoreOptions};

pub struct DataDir {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create the data folder {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database in {path}: {source}")]
    Open {
        path: PathBuf,
        source: Box<StoreError>,
    },
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join("tusach.db")
    }

    /// Where a running `serve` takes console commands (see `control_socket`).
    pub fn control_socket_path(&self) -> PathBuf {
        self.root.join("control.sock")
    }

    pub fn open_store(&self) -> Result<Store, DataDirError> {
        self.open_store_with(StoreOptions::default())
    }

    pub fn open_store_with(&self, options: StoreOptions) -> Result<Store, DataDirError> {
        std::fs::create_dir_all(&self.root).map_err(|source| DataDirError::Create {
            path: self.root.clone(),
            source,
        })?;
        let path = self.database_path();
        // Every opener keeps the catalogue's query tables in step, whatever it writes.
        let store = Store::open_with(&path, options)
            .and_then(|mut store| crate::query_tables::attach(&mut store).map(|()| store))
            .map_err(|source| DataDirError::Open {
                path,
                source: Box::new(source),
            })?;
        if store.identity_renewed() {
            eprintln!(
                "note: this database was copied or restored; this device now writes as {}",
                store.device_id()
            );
        }
        Ok(store)
    }
}
