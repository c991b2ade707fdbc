//! Which library this appliance serves, and the desk it runs for it.
//!
//! An appliance belongs to exactly one library: its copies, readers and loans live in that
//! library's scope. The choice is a local, unreplicated setting made at first start (from
//! `serve --library`, `--demo`, or the Pi's first-boot file); the library's display name is a
//! replicated entity in the network scope, so the hub and other libraries see it too. Loan
//! rules are the commune defaults ([`commune_defaults`]) until librarians can edit them.

use tusach_sync::{EntityKey, Store, StoreError, Value, WriteBatch};

use crate::catalogue::network_scope;
use crate::circulation::library::{Desk, DeskError};
use crate::circulation::policy::commune_defaults;
use crate::db;

/// Libraries of the network, in the network scope.
pub const LIBRARIES: &str = "libraries";

/// The library used when nothing says otherwise.
pub const DEFAULT_ID: &str = "thu-vien";
pub const DEFAULT_NAME: &str = "Thư viện";

const SETTING: &str = "library_id";
const MAX_NAME_CHARS: usize = 80;

/// The library this appliance serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomeLibrary {
    pub id: String,
    pub name: String,
}

/// What the command line (or first-boot file) asks for.
#[derive(Clone, Debug, Default)]
pub struct LibraryChoice {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HomeLibraryError {
    #[error(
        "'{0}' is not a library id: use 2 to 40 lowercase letters, digits or '-', e.g. xa-nghi-phu"
    )]
    InvalidId(String),
    #[error("the library name must be 1 to {MAX_NAME_CHARS} characters without < or >")]
    InvalidName,
    #[error(
        "this data folder belongs to library '{stored}', not '{asked}'; use another --data folder"
    )]
    OtherLibrary { stored: String, asked: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
}

/// A library id: 2 to 40 lowercase letters, digits or '-'.
pub fn is_valid_id(id: &str) -> bool {
    (2..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_name(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&chars)
        && !name.contains(['<', '>'])
        && !name.contains(char::is_control)
}

fn library_key(id: &str) -> EntityKey {
    EntityKey::new(&network_scope(), LIBRARIES, id)
}

impl HomeLibrary {
    /// Reads the library this appliance serves; on first start records the one `choice` names
    /// (or the default). A name in `choice` renames the library.
    pub fn settle(
        store: &mut Store,
        choice: &LibraryChoice,
    ) -> Result<HomeLibrary, HomeLibraryError> {
        if let Some(id) = &choice.id
            && !is_valid_id(id)
        {
            return Err(HomeLibraryError::InvalidId(id.clone()));
        }
        let name = choice.name.as_deref().map(str::trim);
        if let Some(name) = name
            && !valid_name(name)
        {
            return Err(HomeLibraryError::InvalidName);
        }
        let id = match db::setting(store.connection(), SETTING)? {
            Some(stored) => {
                if let Some(asked) = &choice.id
                    && *asked != stored
                {
                    return Err(HomeLibraryError::OtherLibrary {
                        stored,
                        asked: asked.clone(),
                    });
                }
                stored
            }
            None => {
                let id = choice.id.clone().unwrap_or_else(|| DEFAULT_ID.to_owned());
                db::set_setting(store.connection(), SETTING, &id)?;
                id
            }
        };
        let stored_name = store.get(&library_key(&id))?.and_then(|fields| {
            fields
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let name = match (name, stored_name) {
            (Some(wanted), Some(stored)) if wanted == stored => stored,
            (None, Some(stored)) => stored,
            (wanted, _) => {
                let name = wanted.unwrap_or(DEFAULT_NAME).to_owned();
                let mut batch = WriteBatch::new();
                batch.put(&library_key(&id), "name", name.as_str());
                store.commit(&batch)?;
                name
            }
        };
        Ok(HomeLibrary { id, name })
    }

    /// The circulation desk of this library on this device.
    pub fn desk(&self, desk: &str) -> Result<Desk, DeskError> {
        let (policy, closed) = commune_defaults();
        Desk::new(&self.id, policy, closed, desk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir) -> Store {
        let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
        crate::query_tables::attach(&mut store).expect("attach");
        store
    }

    #[test]
    fn the_first_choice_sticks_and_a_name_can_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = store(&dir);
        let first = HomeLibrary::settle(
            &mut store,
            &LibraryChoice {
                id: Some("xa-nghi-phu".into()),
                name: Some("Thư viện xã Nghi Phú".into()),
            },
        )
        .expect("settle");
        assert_eq!(first.name, "Thư viện xã Nghi Phú");
        let again = HomeLibrary::settle(&mut store, &LibraryChoice::default()).expect("again");
        assert_eq!(again, first);
        let renamed = HomeLibrary::settle(
            &mut store,
            &LibraryChoice {
                id: None,
                name: Some("Thư viện Nghi Phú".into()),
            },
        )
        .expect("rename");
        assert_eq!(renamed.name, "Thư viện Nghi Phú");
        let other = HomeLibrary::settle(
            &mut store,
            &LibraryChoice {
                id: Some("xa-khac".into()),
                name: None,
            },
        );
        assert!(matches!(other, Err(HomeLibraryError::OtherLibrary { .. })));
    }

    #[test]
    fn bad_ids_and_names_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = store(&dir);
        for (id, name) in [
            (Some("X"), None),
            (Some("Xã Nghi Phú"), None),
            (None, Some("<script>")),
            (None, Some("")),
        ] {
            let choice = LibraryChoice {
                id: id.map(str::to_owned),
                name: name.map(str::to_owned),
            };
            assert!(
                HomeLibrary::settle(&mut store, &choice).is_err(),
                "{choice:?}"
            );
        }
        assert_eq!(store.feed_len().expect("feed"), 0);
        let default = HomeLibrary::settle(&mut store, &LibraryChoice::default()).expect("default");
        assert_eq!(
            (default.id.as_str(), default.name.as_str()),
            (DEFAULT_ID, DEFAULT_NAME)
        );
    }
}
