//! What this device carries, destination by destination: for a district laptop (a mule) that
//! goes from commune hotspot to office, the answer to "what am I holding for whom, and what
//! has the hub still not got?". Counted from this device's feed against what each destination
//! was last known to hold (its marks, raised by sessions, bundles and receipts), in the
//! scopes the two share: the same true pending count as the sync page's ([`super::peers`]).
//!
//! "Undelivered" is per library: changes in that library's scope held here that the hub was
//! last known to lack. Whatever the hub lacks did not come from the hub, so it is the
//! library's own work (or this device's) still on its way. With several hubs, the one that
//! lacks the most counts.
//!
//! It reads and decides nothing; destinations are the members whose certificates this device
//! holds, so a desk it never heard of is not listed until a session or the hub brings its
//! certificate.

use std::collections::{BTreeMap, HashMap};

use tusach_sync::protocol::secure::{LinkTrust, device_of};
use tusach_sync::trust::{self, MemberRole};
use tusach_sync::{DeviceId, Store, StoreError};

use crate::holdings::library_names;

/// One device this device could hand changes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub device: DeviceId,
    pub role: MemberRole,
    /// What its issuer named it (an appliance's library id, a hub's name).
    pub label: String,
    /// Changes held here that it was last known to lack, in the scopes the two share.
    pub carries: i64,
    /// Unix seconds of the last session with it (None: never recorded).
    pub last_contact: Option<i64>,
}

/// One library's desks, and what of its work the hub still lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryLoad {
    pub id: String,
    pub name: String,
    pub devices: Vec<Destination>,
    /// Changes of this library held here that the hub was last known to lack; `None` when
    /// no hub is known here.
    pub undelivered: Option<i64>,
}

/// The whole answer, hubs first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carrying {
    pub hubs: Vec<Destination>,
    pub libraries: Vec<LibraryLoad>,
}

/// Counts what this device carries for every member it knows, at `now` (Unix seconds).
pub fn carrying(store: &mut Store, now: u64) -> Result<Carrying, StoreError> {
    let me = store.device_id();
    let ours = LinkTrust::load(store, now)?.scopes;
    let contacts: HashMap<DeviceId, Option<i64>> = store
        .peer_statuses()?
        .into_iter()
        .map(|status| (status.peer, status.last_contact))
        .collect();
    let mut hubs = Vec::new();
    let mut by_library: BTreeMap<String, Vec<Destination>> = BTreeMap::new();
    for cert in trust::known_members(store)? {
        let device = device_of(&cert.subject);
        // Another laptop is a fellow carrier, not a destination.
        if device == me || cert.role == MemberRole::Mule {
            continue;
        }
        let shared = trust::verify::shared_scopes(&ours, &cert.scope_set());
        let destination = Destination {
            device,
            role: cert.role,
            label: cert.label.clone(),
            carries: store.pending_for(&device, |scope| shared.allows(scope))?,
            last_contact: contacts.get(&device).copied().flatten(),
        };
        if cert.role == MemberRole::Hub {
            hubs.push(destination);
            continue;
        }
        for library in cert
            .scopes
            .iter()
            .filter_map(|s| s.strip_prefix("library:"))
        {
            by_library
                .entry(library.to_owned())
                .or_default()
                .push(destination.clone());
        }
    }
    hubs.sort_by(|a, b| a.label.cmp(&b.label));
    let names = library_names(store, by_library.keys().cloned())?;
    let mut libraries = Vec::new();
    for (id, mut devices) in by_library {
        devices.sort_by(|a, b| a.label.cmp(&b.label).then(a.device.0.cmp(&b.device.0)));
        let scope = format!("library:{id}");
        let mut undelivered = None;
        for hub in &hubs {
            let lacking = store.pending_for(&hub.device, |s| s.as_str() == scope)?;
            undelivered = Some(undelivered.map_or(lacking, |most: i64| most.max(lacking)));
        }
        libraries.push(LibraryLoad {
            name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
            id,
            devices,
            undelivered,
        });
    }
    libraries.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(Carrying { hubs, libraries })
}
