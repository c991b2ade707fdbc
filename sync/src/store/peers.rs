//! What this replica knows about its peers, for a status page: who it has synced with, when
//! it last finished a session with each, and how many of its changes each still lacks.
//!
//! Contact times are recorded by whoever drives a session (a transport's caller), because
//! the protocol core reads no clock. Nothing here is replicated.

use super::{Store, StoreError, db};
use crate::identity::DeviceId;

/// One peer as this replica knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub peer: DeviceId,
    /// When a session with it last finished, in Unix seconds (None: never recorded).
    pub last_contact: Option<i64>,
    /// Finished sessions recorded.
    pub sessions: i64,
    /// Changes held here past the peer's marks: what the next session or bundle would carry
    /// (before the scope policy narrows it).
    pub pending: i64,
}

impl Store {
    /// Notes that a session with `peer` finished at `at_unix_seconds`.
    pub fn record_peer_contact(
        &mut self,
        peer: &DeviceId,
        at_unix_seconds: i64,
    ) -> Result<(), StoreError> {
        Ok(db::record_peer_contact(&self.conn, peer, at_unix_seconds)?)
    }

    /// Changes held here past `peer`'s marks in the scopes `allowed` accepts: what the next
    /// session or bundle for it would carry once the scope policy narrows it (the page's true
    /// pending count, where [`PeerStatus::pending`] counts every scope).
    pub fn pending_for(
        &self,
        peer: &DeviceId,
        allowed: impl Fn(&super::Scope) -> bool,
    ) -> Result<i64, StoreError> {
        let mut pending = 0;
        for (scope, count) in db::pending_by_scope(&self.conn, peer)? {
            if super::Scope::new(scope).is_some_and(|s| allowed(&s)) {
                pending += count;
            }
        }
        Ok(pending)
    }

    /// Every peer this replica has exchanged with, most recent contact first.
    pub fn peer_statuses(&self) -> Result<Vec<PeerStatus>, StoreError> {
        let mut out = Vec::new();
        for (peer, last_contact, sessions) in db::known_peers(&self.conn)? {
            let Some(peer) = DeviceId::from_slice(&peer) else {
                continue;
            };
            out.push(PeerStatus {
                pending: db::pending_for_peer(&self.conn, &peer)?,
                peer,
                last_contact,
                sessions,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EntityKey, Scope, WriteBatch};

    fn send(from: &mut Store, to: &mut Store) {
        let known = to.knowledge(|_| true).expect("knowledge");
        let mut plan = from.plan_for(&known, |_| true).expect("plan");
        while let Some(batch) = from.next_batch(&mut plan, 1 << 20).expect("batch") {
            to.apply_batch(&batch).expect("apply");
        }
        let theirs = to.knowledge(|_| true).expect("knowledge");
        from.record_peer_knowledge(&to.device_id(), &theirs)
            .expect("peer knowledge");
    }

    fn write(store: &mut Store, id: &str) {
        let scope = Scope::new("library:a").expect("scope");
        let mut batch = WriteBatch::new();
        batch.put(&EntityKey::new(&scope, "things", id), "n", 1i64);
        store.commit(&batch).expect("commit");
    }

    #[test]
    fn a_peer_shows_with_its_contact_and_what_it_still_lacks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = Store::open(&dir.path().join("a.db")).expect("a");
        let mut b = Store::open(&dir.path().join("b.db")).expect("b");
        assert!(a.peer_statuses().expect("peers").is_empty());
        write(&mut a, "x");
        send(&mut a, &mut b);
        a.record_peer_contact(&b.device_id(), 1_700_000_000)
            .expect("contact");
        a.record_peer_contact(&b.device_id(), 1_700_000_100)
            .expect("contact");
        let peers = a.peer_statuses().expect("peers");
        assert_eq!(
            peers,
            vec![PeerStatus {
                peer: b.device_id(),
                last_contact: Some(1_700_000_100),
                sessions: 2,
                pending: 0
            }]
        );
        write(&mut a, "y");
        write(&mut a, "z");
        assert_eq!(a.peer_statuses().expect("peers")[0].pending, 2);
        let scope = Scope::new("library:other").expect("scope");
        let mut batch = WriteBatch::new();
        batch.put(&EntityKey::new(&scope, "things", "w"), "n", 1i64);
        a.commit(&batch).expect("commit");
        assert_eq!(a.peer_statuses().expect("peers")[0].pending, 3);
        let only_a = |s: &Scope| s.as_str() == "library:a";
        assert_eq!(a.pending_for(&b.device_id(), only_a).expect("pending"), 2);
    }
}
