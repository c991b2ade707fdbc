//! A desk joining its library: the one join sequence behind `tusach network join` and the
//! staff page's join form, and the rule for when a desk may make a first admin.
//!
//! **Joining.** The enrolment code a hub made names the library (`network code --library ID`);
//! the certificate the desk receives carries it. Joining takes the library from there, not
//! from a command-line default: a data folder that serves no library yet becomes a desk of
//! that library, and one that already serves another is refused before anything of it is sent.
//! A desk that ran on its own before (and so made its own first admin, perhaps already used
//! to reach the join form) holds its accounts back before the first sync, so that none of them
//! can win a merge over the library's account of the same name; after the sync, each comes
//! back unless the library has its own of that name. Then the first sync brings the library's
//! staff and name before anything else.
//!
//! **The first admin.** Made only when the library has no staff account anywhere this device
//! has heard of. A desk that is not enrolled as a library's appliance has heard of nothing but
//! itself: it is the library's first desk and makes one at first start. An enrolled desk has
//! not heard enough until a session with a member has finished: until then it makes none, and
//! after its first finished session it makes one only if the library still has no staff.
//! A competing `admin` created apart would merge field by field with the library's, and the
//! merge could keep the newcomer's password (see `accounts::directory`).
//!
//! It does not decide what sessions send (that is `tusach_sync`) nor print anything: `serve`
//! and the console turn its answers into words.

use std::time::Duration;

use tusach_sync::trust::{EnrolmentCode, MemberRole};
use tusach_sync::{SessionReport, Store, StoreError};

use crate::accounts::{BackendError, HeldBack, InvalidLibrary, OneTimePassword, StaffDirectory};
use crate::home_library::{self, HomeLibrary, HomeLibraryError};
use crate::sync_service::{LinkKind, SyncError, SyncService};

/// What [`settle_first_admin`] did.
#[derive(Debug)]
pub enum FirstAdmin {
    /// There was no staff anywhere this device has heard of: here is the new admin's one-time
    /// password, for the console.
    Made(OneTimePassword),
    /// The library has staff already.
    NotNeeded,
    /// Enrolled in a library but never synced with a member: the library may well have an
    /// admin this desk has not heard of yet. Asked again after each finished session.
    WaitingForFirstSync,
}

/// True once a session with any member has finished here (the sync service records each).
pub fn has_heard_from_peers(store: &Store) -> Result<bool, StoreError> {
    Ok(store.peer_statuses()?.iter().any(|peer| peer.sessions > 0))
}

/// True when this desk is enrolled as an appliance and has not yet finished a session: it may
/// not make a first admin, nor name its library.
pub fn is_waiting_for_first_sync(store: &mut Store) -> Result<bool, StoreError> {
    Ok(home_library::certified_library(store)?.is_some() && !has_heard_from_peers(store)?)
}

#[derive(Debug, thiserror::Error)]
pub enum FirstAdminError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    InvalidLibrary(#[from] InvalidLibrary),
}

impl From<StoreError> for FirstAdminError {
    fn from(error: StoreError) -> Self {
        FirstAdminError::Backend(error.into())
    }
}

/// Applies the first-admin rule (see the module documentation) for `library`.
pub fn settle_first_admin(
    store: &mut Store,
    library: &HomeLibrary,
) -> Result<FirstAdmin, FirstAdminError> {
    let staff = StaffDirectory::new(&library.id)?;
    if staff.has_held_back(store)? && has_heard_from_peers(store)? {
        staff.restore_held_back(store)?;
    }
    // Cheap first: once the library has staff (nearly always), nothing else is read.
    if staff.has_any(store)? {
        return Ok(FirstAdmin::NotNeeded);
    }
    if is_waiting_for_first_sync(store)? || staff.has_held_back(store)? {
        return Ok(FirstAdmin::WaitingForFirstSync);
    }
    Ok(match staff.ensure_first_admin(store)? {
        Some(one_time) => FirstAdmin::Made(one_time),
        None => FirstAdmin::NotNeeded,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("enrolment with {hub} failed: {source}")]
    Enrol { hub: String, source: Box<SyncError> },
    #[error("the hub's answer holds no certificate; ask the hub for a new code")]
    NoCertificate,
    #[error(
        "the code made this device a desk of library '{certified}', but this data folder \
         serves library '{serving}'; ask the hub for a code for '{serving}', or join from a new \
         data folder (tusach --data NEW network join …, then tusach --data NEW serve)"
    )]
    OtherLibrary { serving: String, certified: String },
    #[error(transparent)]
    Library(HomeLibraryError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    InvalidLibrary(#[from] InvalidLibrary),
    #[error("the store is unavailable: another task panicked while holding it")]
    StorePoisoned,
}

/// What a join did.
#[derive(Debug)]
pub struct Joined {
    pub network: String,
    pub role: MemberRole,
    /// What the certificate says the device serves (an appliance's library id).
    pub label: String,
    /// The library this data folder now serves, for an appliance.
    pub library: Option<String>,
    /// Accounts this desk had before it heard from its library, held back for the first sync.
    pub held_back: Vec<String>,
    /// The first sync; a failure here is not a failed enrolment (the next sync retries).
    pub first_sync: Result<SessionReport, SyncError>,
    /// What became of the held-back accounts after a first sync that worked.
    pub after_sync: HeldBack,
}

/// Enrols at `hub` with `code`, takes the library from the certificate, then syncs once.
pub async fn join(
    service: &SyncService,
    hub: &str,
    code: EnrolmentCode,
    timeout: Duration,
) -> Result<Joined, JoinError> {
    let grant = service
        .enrol_with(hub, code, timeout)
        .await
        .map_err(|source| JoinError::Enrol {
            hub: hub.to_owned(),
            source: Box::new(source),
        })?;
    let leaf = grant.chain.leaf().ok_or(JoinError::NoCertificate)?.clone();
    let (library, held_back) = {
        let mut store = service
            .store()
            .lock()
            .map_err(|_| JoinError::StorePoisoned)?;
        prepare_first_sync(&mut store)?
    };
    let first_sync = service.sync_with(hub, LinkKind::Hub, timeout).await;
    let mut after_sync = HeldBack::default();
    if let (Some(library), Ok(_)) = (&library, &first_sync) {
        // Inside serve, its after-session hook may have restored them already; here it is for
        // a join run on its own.
        let mut store = service
            .store()
            .lock()
            .map_err(|_| JoinError::StorePoisoned)?;
        after_sync = StaffDirectory::new(library)?.restore_held_back(&mut store)?;
    }
    Ok(Joined {
        network: grant.network,
        role: leaf.role,
        label: leaf.label,
        library,
        held_back: held_back.iter().map(|u| u.as_str().to_owned()).collect(),
        first_sync,
        after_sync,
    })
}

/// After enrolment, before the first sync: the folder becomes a desk of the certified library
/// (or is refused), and a desk that never heard from its library holds its accounts back.
fn prepare_first_sync(
    store: &mut Store,
) -> Result<(Option<String>, Vec<crate::accounts::Username>), JoinError> {
    let Some(certified) = home_library::certified_library(store).map_err(store_error)? else {
        return Ok((None, Vec::new()));
    };
    HomeLibrary::adopt(store, &certified).map_err(|error| match error {
        HomeLibraryError::OtherLibrary { stored, asked } => JoinError::OtherLibrary {
            serving: stored,
            certified: asked,
        },
        other => JoinError::Library(other),
    })?;
    let held = if has_heard_from_peers(store).map_err(store_error)? {
        Vec::new()
    } else {
        StaffDirectory::new(&certified)?.hold_back(store)?
    };
    Ok((Some(certified), held))
}

fn store_error(error: StoreError) -> JoinError {
    JoinError::Backend(BackendError::Store(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_dir::DataDir;
    use crate::home_library::LibraryChoice;
    use crate::network_cmd::{enrol_locally, join_locally, sync_locally};

    const LIBRARY: &str = "xa-nghi-phu";

    fn open(dir: &DataDir) -> Store {
        dir.open_store().expect("open")
    }

    fn settle(store: &mut Store, name: Option<&str>) -> HomeLibrary {
        let waiting = is_waiting_for_first_sync(store).expect("standing");
        HomeLibrary::settle_naming(
            store,
            &LibraryChoice {
                id: Some(LIBRARY.into()),
                name: name.map(str::to_owned),
            },
            !waiting,
        )
        .expect("settle")
    }

    fn logs_in(store: &mut Store, password: &str) -> bool {
        StaffDirectory::new(LIBRARY)
            .expect("library")
            .verify_login(store, "admin", password)
            .is_ok()
    }

    /// The library's first desk, joined and synced, with its admin; returns its one-time
    /// password.
    fn first_desk(hub: &DataDir, first: &DataDir) -> String {
        join_locally(hub, first, LIBRARY).expect("join");
        let mut store = open(first);
        let library = settle(&mut store, Some("Thư viện xã Nghi Phú"));
        let FirstAdmin::Made(one_time) = settle_first_admin(&mut store, &library).expect("admin")
        else {
            panic!("the first desk of a library with no staff makes its admin");
        };
        drop(store);
        sync_locally(hub, first).expect("sync");
        one_time.as_str().to_owned()
    }

    #[test]
    fn an_enrolled_desk_waits_for_its_first_sync_and_then_finds_the_librarys_admin() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (hub, first, second) = (
            DataDir::new(dir.path().join("hub")),
            DataDir::new(dir.path().join("first")),
            DataDir::new(dir.path().join("second")),
        );
        let password = first_desk(&hub, &first);
        enrol_locally(&hub, &second, Some(LIBRARY)).expect("enrol");
        {
            let mut store = open(&second);
            let library = settle(&mut store, Some("Thư viện"));
            assert!(matches!(
                settle_first_admin(&mut store, &library).expect("rule"),
                FirstAdmin::WaitingForFirstSync
            ));
            assert_eq!(
                home_library::stored_name(&mut store, LIBRARY).expect("name"),
                None,
                "it named nothing"
            );
            assert!(
                !StaffDirectory::new(LIBRARY)
                    .expect("library")
                    .has_any(&mut store)
                    .expect("staff")
            );
        }
        sync_locally(&hub, &second).expect("sync");
        let mut store = open(&second);
        let library = settle(&mut store, Some("Thư viện"));
        assert_eq!(library.name, "Thư viện xã Nghi Phú", "not renamed");
        assert!(matches!(
            settle_first_admin(&mut store, &library).expect("rule"),
            FirstAdmin::NotNeeded
        ));
        assert!(logs_in(&mut store, &password));
    }

    /// A desk that ran on its own (its admin's password changed, as it is before anyone
    /// reaches the join form) joins: its `admin` never wins over the library's.
    #[test]
    fn a_standalone_desks_admin_gives_way_to_the_librarys_when_it_joins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub = DataDir::new(dir.path().join("hub"));
        let first = DataDir::new(dir.path().join("first"));
        let password = first_desk(&hub, &first);
        for newcomer in 0..2 {
            let newcomer = DataDir::new(dir.path().join(format!("newcomer-{newcomer}")));
            let own = standalone_desk_with_a_used_admin(&newcomer);
            enrol_locally(&hub, &newcomer, Some(LIBRARY)).expect("enrol");
            let (library, held) = prepare_first_sync(&mut open(&newcomer)).expect("prepare");
            assert_eq!(library.as_deref(), Some(LIBRARY));
            assert_eq!(held.len(), 1);
            sync_locally(&hub, &newcomer).expect("sync");
            let mut store = open(&newcomer);
            let restored = StaffDirectory::new(LIBRARY)
                .expect("library")
                .restore_held_back(&mut store)
                .expect("restore");
            assert_eq!((restored.restored.len(), restored.taken.len()), (0, 1));
            assert!(logs_in(&mut store, &password), "the library's admin");
            assert!(!logs_in(&mut store, &own), "the newcomer's own admin");
            drop(store);
            sync_locally(&hub, &first).expect("sync back");
            let mut store = open(&first);
            assert!(logs_in(&mut store, &password));
            assert!(!logs_in(&mut store, &own));
        }
    }

    /// The library's first desk that ran on its own and then joins keeps its admin: the
    /// library had none.
    #[test]
    fn a_standalone_desk_that_is_its_librarys_first_keeps_its_admin_when_it_joins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (hub, desk) = (
            DataDir::new(dir.path().join("hub")),
            DataDir::new(dir.path().join("desk")),
        );
        let own = standalone_desk_with_a_used_admin(&desk);
        enrol_locally(&hub, &desk, Some(LIBRARY)).expect("enrol");
        prepare_first_sync(&mut open(&desk)).expect("prepare");
        {
            let mut store = open(&desk);
            assert!(
                !logs_in(&mut store, &own),
                "held back during the first sync"
            );
            let library = settle(&mut store, None);
            assert!(matches!(
                settle_first_admin(&mut store, &library).expect("rule"),
                FirstAdmin::WaitingForFirstSync
            ));
        }
        sync_locally(&hub, &desk).expect("sync");
        let mut store = open(&desk);
        let library = settle(&mut store, None);
        assert!(matches!(
            settle_first_admin(&mut store, &library).expect("rule"),
            FirstAdmin::NotNeeded
        ));
        assert!(logs_in(&mut store, &own), "restored with its password");
    }

    fn standalone_desk_with_a_used_admin(data: &DataDir) -> String {
        let mut store = open(data);
        let library = settle(&mut store, None);
        let FirstAdmin::Made(one_time) = settle_first_admin(&mut store, &library).expect("rule")
        else {
            panic!("a desk on its own is a first desk");
        };
        let own = format!("mật khẩu riêng {}", store.device_id());
        StaffDirectory::new(LIBRARY)
            .expect("library")
            .change_password(
                &mut store,
                &mut crate::accounts::SessionBook::default(),
                "admin",
                one_time.as_str(),
                &own,
            )
            .expect("change");
        own
    }

    #[test]
    fn joining_another_library_than_the_folder_serves_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (hub, desk) = (
            DataDir::new(dir.path().join("hub")),
            DataDir::new(dir.path().join("desk")),
        );
        HomeLibrary::settle(&mut open(&desk), &LibraryChoice::default()).expect("default");
        enrol_locally(&hub, &desk, Some(LIBRARY)).expect("enrol");
        let refused = prepare_first_sync(&mut open(&desk));
        assert!(
            matches!(refused, Err(JoinError::OtherLibrary { .. })),
            "{refused:?}"
        );
    }
}
