//! Which scopes a peer may exchange with us. The session asks its caller's policy; where the
//! answer comes from (membership certificates, a config file, a test) is the caller's business.

use std::collections::{BTreeSet, HashMap};

use crate::identity::DeviceId;
use crate::store::Scope;

/// A set of scopes: all of them, or a named few.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ScopeSet {
    All,
    Only(BTreeSet<Scope>),
}

impl ScopeSet {
    pub fn none() -> ScopeSet {
        ScopeSet::Only(BTreeSet::new())
    }

    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> ScopeSet {
        ScopeSet::Only(names.into_iter().filter_map(Scope::new).collect())
    }

    pub fn allows(&self, scope: &Scope) -> bool {
        match self {
            ScopeSet::All => true,
            ScopeSet::Only(scopes) => scopes.contains(scope),
        }
    }
}

/// Decides, per peer, the scopes it may receive from us and send to us.
pub trait ScopePolicy: Send + Sync {
    fn scopes_for(&self, peer: &DeviceId) -> ScopeSet;
}

/// Every peer may exchange every scope. Until membership certificates exist this is what the
/// CLI uses between a library's own devices; tests use [`PeerScopes`] to restrict.
pub struct AllowAll;

impl ScopePolicy for AllowAll {
    fn scopes_for(&self, _peer: &DeviceId) -> ScopeSet {
        ScopeSet::All
    }
}

/// A fixed table: named peers get their scopes, everyone else `default`.
pub struct PeerScopes {
    pub default: ScopeSet,
    pub peers: HashMap<DeviceId, ScopeSet>,
}

impl ScopePolicy for PeerScopes {
    fn scopes_for(&self, peer: &DeviceId) -> ScopeSet {
        self.peers
            .get(peer)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }
}
