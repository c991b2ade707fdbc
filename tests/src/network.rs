//! Enrolment for process tests: enrols a device's data folder at a hub's (making the hub's
//! network if it has none), in-process on the real stores with the real handshake, so tests
//! that exercise something else start from two members. `tests/tests/network.rs` tests
//! enrolment itself through the `tusach network` commands over TCP.
//!
//! [`join`] also does what `network join` does next (take the library, sync once), so that a
//! `serve` started on the folder has heard from its library and may make a first admin.
//!
//! Both data folders must be free (no `tusach` process holding them).

use std::path::Path;

use tusach::data_dir::DataDir;

/// Enrols `device` at `hub`: as an appliance of `library`, or with `None` as a mule carrying
/// every library (for tests of sync mechanics that seed data in any scope).
pub fn enrol(hub: &Path, device: &Path, library: Option<&str>) {
    tusach::network_cmd::enrol_locally(&DataDir::new(hub), &DataDir::new(device), library)
        .expect("enrolment");
}

/// Enrols `device` at `hub` as an appliance of `library`, then syncs it once with the hub.
pub fn join(hub: &Path, device: &Path, library: &str) {
    tusach::network_cmd::join_locally(&DataDir::new(hub), &DataDir::new(device), library)
        .expect("joining");
}
