//! The peers of the sync page as a librarian knows them: by library and device, not by a
//! 32-character id. Names come from each peer's published certificate (its role, its label
//! and the `library:<id>` scopes it holds) and the libraries' display names in the network
//! scope. Pending counts are recomputed from this device's feed against what the peer is known
//! to hold (its marks, raised by sessions, bundles and receipts), in the scopes the two share:
//! what the next session or bundle would really carry.
//!
//! It reads; it decides nothing about syncing and renders nothing.

use std::collections::HashMap;

use tusach_sync::protocol::secure::{LinkTrust, device_of};
use tusach_sync::store::PeerStatus;
use tusach_sync::trust::{self, MemberRole};
use tusach_sync::{ScopeSet, Store, StoreError};

use crate::holdings::library_names;

/// What this device knows of a peer's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    pub role: MemberRole,
    /// What its issuer named it (an appliance's library id, a laptop's user).
    pub label: String,
    /// The libraries whose data it holds, as (id, display name); empty with `all_libraries`.
    pub libraries: Vec<(String, String)>,
    /// It may hold every scope (a hub or a district laptop).
    pub all_libraries: bool,
}

/// A peer on the sync page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPeer {
    pub status: PeerStatus,
    /// None: no certificate of it is known here (an old peer, or one whose certificate has
    /// not arrived yet).
    pub identity: Option<PeerIdentity>,
}

/// Every member whose certificate this device holds, by device id (hex).
pub fn identities(store: &mut Store) -> Result<HashMap<String, PeerIdentity>, StoreError> {
    let members = trust::known_members(store)?;
    let ids = members
        .iter()
        .flat_map(|cert| cert.scopes.iter())
        .filter_map(|scope| scope.strip_prefix("library:"))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let names = library_names(store, ids)?;
    Ok(members
        .into_iter()
        .map(|cert| {
            let all_libraries = cert.scopes.iter().any(|s| s == trust::cert::ALL_SCOPES);
            let libraries = cert
                .scopes
                .iter()
                .filter_map(|scope| scope.strip_prefix("library:"))
                .map(|id| {
                    let name = names.get(id).cloned().unwrap_or_else(|| id.to_owned());
                    (id.to_owned(), name)
                })
                .collect();
            let identity = PeerIdentity {
                role: cert.role,
                label: cert.label.clone(),
                libraries,
                all_libraries,
            };
            (device_of(&cert.subject).to_hex(), identity)
        })
        .collect())
}

/// The peers this device has exchanged with, named, with true pending counts.
pub fn named_peers(store: &mut Store, now: u64) -> Result<Vec<NamedPeer>, StoreError> {
    let ours = LinkTrust::load(store, now)?.scopes;
    let members = trust::known_members(store)?
        .into_iter()
        .map(|cert| (device_of(&cert.subject), cert.scope_set()))
        .collect::<HashMap<_, _>>();
    let names = identities(store)?;
    let mut out = Vec::new();
    for mut status in store.peer_statuses()? {
        // A peer without a known certificate gets nothing from us (sessions and bundles
        // need one), so only what our own scopes allow is counted, as an upper bound.
        let shared = match members.get(&status.peer) {
            Some(theirs) => trust::verify::shared_scopes(&ours, theirs),
            None => ours.clone(),
        };
        status.pending = match &shared {
            ScopeSet::All => status.pending,
            shared => store.pending_for(&status.peer, |s| shared.allows(s))?,
        };
        out.push(NamedPeer {
            identity: names.get(&status.peer.to_hex()).cloned(),
            status,
        });
    }
    Ok(out)
}
