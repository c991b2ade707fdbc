//! Which library this appliance serves, and the desk it runs for it.
//!
//! An appliance belongs to exactly one library: its copies, readers and loans live in that
//! library's scope. The choice is a local, unreplicated setting made once: by joining (the
//! library named in the enrolment certificate, see [`crate::joining`]), or at first start
//! (from `serve --library`, `--demo`, or the Pi's `tusach.txt`). The library's display name is
//! a replicated entity in the network scope, so the hub and other libraries see it too.
//!
//! A name given at start only names a library that has no name yet: a second desk started with
//! another (or the default) name must never rename the library its first desk named, and no
//! default name is ever written. Loan rules are the commune defaults ([`commune_defaults`])
//! until librarians can edit them.

use tusach_sync::protocol::secure::LinkTrust;
use tusach_sync::transport::tcp::unix_now;
use tusach_sync::trust::MemberRole;
use tusach_sync::{EntityKey, ScopeSet, Store, StoreError, Value, WriteBatch};

use crate::catalogue::network_scope;
use crate::circulation::library::{Desk, DeskError};
use crate::circulation::policy::commune_defaults;
use crate::db;

/// Libraries of the network, in the network scope.
pub const LIBRARIES: &str = "libraries";

/// The library used when nothing says otherwise.
pub const DEFAULT_ID: &str = "thu-vien";
pub const DEFAULT_NAME: &str = "Thư viện";
/// The id the Pi image's `tusach.txt` ships with: a card nobody edited. Serving it would make
/// every such Pi the same library, so it is refused.
pub const PLACEHOLDER_ID: &str = "doi-ten-thu-vien";

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
        "Mã thư viện '{PLACEHOLDER_ID}' là mã mẫu: hãy ghi mã thật của thư viện vào \
         TUSACH_LIBRARY_ID trong tusach.txt (hoặc --library), ví dụ xa-nghi-phu. / \
         '{PLACEHOLDER_ID}' is the placeholder library id: set TUSACH_LIBRARY_ID in tusach.txt \
         (or --library) to your library's own id, e.g. xa-nghi-phu"
    )]
    PlaceholderId,
    #[error(
        "this data folder belongs to library '{stored}', not '{asked}'; use another --data folder"
    )]
    OtherLibrary { stored: String, asked: String },
    #[error(
        "this device is enrolled as a desk of library '{certified}', not '{asked}'; \
         leave out --library or use another --data folder"
    )]
    NotTheCertifiedLibrary { certified: String, asked: String },
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

impl LibraryChoice {
    /// Refuses the placeholder id, an invalid id or an invalid name, before anything opens.
    pub fn check(&self) -> Result<(), HomeLibraryError> {
        if let Some(id) = &self.id {
            if id == PLACEHOLDER_ID {
                return Err(HomeLibraryError::PlaceholderId);
            }
            if !is_valid_id(id) {
                return Err(HomeLibraryError::InvalidId(id.clone()));
            }
        }
        if let Some(name) = &self.name
            && !valid_name(name.trim())
        {
            return Err(HomeLibraryError::InvalidName);
        }
        Ok(())
    }
}

fn library_key(id: &str) -> EntityKey {
    EntityKey::new(&network_scope(), LIBRARIES, id)
}

/// The library this device's certificate makes it a desk of: an appliance's one `library:`
/// scope (its label when the scopes do not say). `None` when it is not enrolled or enrolled as a
/// mule or hub, which carry libraries rather than serve one. An expired or revoked
/// certificate still says which library the device was enrolled for.
pub fn certified_library(store: &mut Store) -> Result<Option<String>, StoreError> {
    let trust = LinkTrust::load(store, unix_now())?;
    let Some(leaf) = trust.chain.leaf() else {
        return Ok(None);
    };
    if leaf.role != MemberRole::Appliance {
        return Ok(None);
    }
    let from_scopes = match ScopeSet::of(leaf.scopes.iter().map(String::as_str)) {
        ScopeSet::Only(scopes) => {
            let mut libraries = scopes.iter().filter_map(|scope| {
                scope
                    .as_str()
                    .strip_prefix(crate::holdings::LIBRARY_SCOPE_PREFIX)
            });
            match (libraries.next(), libraries.next()) {
                (Some(one), None) => Some(one.to_owned()),
                _ => None,
            }
        }
        ScopeSet::All => None,
    };
    Ok(from_scopes
        .or_else(|| Some(leaf.label.clone()))
        .filter(|id| is_valid_id(id)))
}

/// The library's replicated display name, if any desk has named it.
pub fn stored_name(store: &mut Store, id: &str) -> Result<Option<String>, StoreError> {
    Ok(store.get(&library_key(id))?.and_then(|fields| {
        fields
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }))
}

impl HomeLibrary {
    /// Reads the library this appliance serves; the first time, records the one `choice`
    /// names, else the one its certificate names, else the default. A name in `choice` names
    /// the library only when no desk has named it yet; `may_name` false (a desk enrolled in a
    /// library it has not synced with yet) writes no name at all, since its library's name may
    /// simply not have arrived.
    pub fn settle(
        store: &mut Store,
        choice: &LibraryChoice,
    ) -> Result<HomeLibrary, HomeLibraryError> {
        Self::settle_naming(store, choice, true)
    }

    /// [`HomeLibrary::settle`], saying whether this start may write the library's name.
    pub fn settle_naming(
        store: &mut Store,
        choice: &LibraryChoice,
        may_name: bool,
    ) -> Result<HomeLibrary, HomeLibraryError> {
        choice.check()?;
        let name = choice.name.as_deref().map(str::trim);
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
                let certified = certified_library(store)?;
                let id = match (&choice.id, certified) {
                    (Some(asked), Some(certified)) if *asked != certified => {
                        return Err(HomeLibraryError::NotTheCertifiedLibrary {
                            certified,
                            asked: asked.clone(),
                        });
                    }
                    (Some(asked), _) => asked.clone(),
                    (None, Some(certified)) => certified,
                    (None, None) => DEFAULT_ID.to_owned(),
                };
                db::set_setting(store.connection(), SETTING, &id)?;
                id
            }
        };
        let name = match (stored_name(store, &id)?, name) {
            (Some(stored), _) => stored,
            (None, Some(wanted)) if may_name => {
                let mut batch = WriteBatch::new();
                batch.put(&library_key(&id), "name", wanted);
                store.commit(&batch)?;
                wanted.to_owned()
            }
            (None, Some(wanted)) => wanted.to_owned(),
            (None, None) => DEFAULT_NAME.to_owned(),
        };
        Ok(HomeLibrary { id, name })
    }

    /// Makes `id` this data folder's library when it has none yet (joining takes the library of
    /// its certificate); refuses when the folder already serves another.
    pub fn adopt(store: &mut Store, id: &str) -> Result<(), HomeLibraryError> {
        match db::setting(store.connection(), SETTING)? {
            Some(stored) if stored == id => Ok(()),
            Some(stored) => Err(HomeLibraryError::OtherLibrary {
                stored,
                asked: id.to_owned(),
            }),
            None => Ok(db::set_setting(store.connection(), SETTING, id)?),
        }
    }

    /// Names this library if no desk has named it yet (a desk that waited for its first sync
    /// names it then, when the sync brought no name). Returns the name it has now.
    pub fn name_if_unnamed(
        &self,
        store: &mut Store,
        wanted: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        if let Some(stored) = stored_name(store, &self.id)? {
            return Ok(Some(stored));
        }
        let Some(wanted) = wanted.map(str::trim).filter(|name| valid_name(name)) else {
            return Ok(None);
        };
        let mut batch = WriteBatch::new();
        batch.put(&library_key(&self.id), "name", wanted);
        store.commit(&batch)?;
        Ok(Some(wanted.to_owned()))
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
    fn the_first_choice_sticks_and_a_later_name_renames_nothing() {
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
        let other_name = HomeLibrary::settle(
            &mut store,
            &LibraryChoice {
                id: Some("xa-nghi-phu".into()),
                name: Some("Thư viện".into()),
            },
        )
        .expect("another name");
        assert_eq!(other_name, first, "a name given later renames nothing");
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
    fn no_default_name_is_written_and_a_waiting_desk_names_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = store(&dir);
        let unnamed = HomeLibrary::settle(
            &mut store,
            &LibraryChoice {
                id: Some("xa-nghi-phu".into()),
                name: None,
            },
        )
        .expect("settle");
        assert_eq!(unnamed.name, DEFAULT_NAME);
        let waiting = HomeLibrary::settle_naming(
            &mut store,
            &LibraryChoice {
                id: None,
                name: Some("Thư viện xã Nghi Phú".into()),
            },
            false,
        )
        .expect("waiting");
        assert_eq!(waiting.name, "Thư viện xã Nghi Phú", "shown, not written");
        assert_eq!(store.feed_len().expect("feed"), 0, "nothing written");
        assert_eq!(
            waiting
                .name_if_unnamed(&mut store, Some("Thư viện xã Nghi Phú"))
                .expect("name"),
            Some("Thư viện xã Nghi Phú".to_owned())
        );
        assert_eq!(
            waiting
                .name_if_unnamed(&mut store, Some("Thư viện"))
                .expect("again"),
            Some("Thư viện xã Nghi Phú".to_owned())
        );
    }

    #[test]
    fn the_placeholder_id_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = store(&dir);
        let refused = HomeLibrary::settle(
            &mut store,
            &LibraryChoice {
                id: Some(PLACEHOLDER_ID.into()),
                name: Some("Thư viện xã".into()),
            },
        );
        let message = refused.expect_err("refused").to_string();
        assert!(message.contains("TUSACH_LIBRARY_ID"), "{message}");
        assert!(message.contains("mã mẫu"), "{message}");
        assert_eq!(store.feed_len().expect("feed"), 0);
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
