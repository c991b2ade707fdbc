//! Each library's devices as the hub sees them: when each last finished a session with this
//! device and how many changes it still lacks, for the district page's "who has not been
//! heard from" view.
//!
//! A device belongs to the libraries its certificate names (`library:<id>` scopes); a hub or
//! laptop that may hold every library belongs to none. Members enrolled but never met are
//! listed too, with no contact: that is the commune to phone.

use std::collections::{BTreeMap, HashMap};

use tusach_sync::trust::MemberRole;
use tusach_sync::{Store, StoreError};

use super::peers::{identities, named_peers};

/// One device of a library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceContact {
    /// Its device id (hex).
    pub device: String,
    pub role: MemberRole,
    /// What its issuer named it.
    pub label: String,
    /// When a session with it last finished here, in Unix seconds.
    pub last_contact: Option<i64>,
    /// Changes held here that it was last known to lack, in the scopes it may hold.
    pub pending: i64,
}

/// The devices of every library, by library id, most recently heard from first.
pub fn by_library(
    store: &mut Store,
    now: u64,
) -> Result<BTreeMap<String, Vec<DeviceContact>>, StoreError> {
    let statuses: HashMap<String, (Option<i64>, i64)> = named_peers(store, now)?
        .into_iter()
        .map(|named| {
            let status = named.status;
            (status.peer.to_hex(), (status.last_contact, status.pending))
        })
        .collect();
    let this_device = store.device_id().to_hex();
    let mut libraries: BTreeMap<String, Vec<DeviceContact>> = BTreeMap::new();
    for (device, identity) in identities(store)? {
        if identity.all_libraries || device == this_device {
            continue;
        }
        let (last_contact, pending) = statuses.get(&device).copied().unwrap_or((None, 0));
        for (library, _name) in &identity.libraries {
            libraries
                .entry(library.clone())
                .or_default()
                .push(DeviceContact {
                    device: device.clone(),
                    role: identity.role,
                    label: identity.label.clone(),
                    last_contact,
                    pending,
                });
        }
    }
    for devices in libraries.values_mut() {
        devices.sort_by(|a, b| {
            b.last_contact
                .cmp(&a.last_contact)
                .then_with(|| a.device.cmp(&b.device))
        });
    }
    Ok(libraries)
}
