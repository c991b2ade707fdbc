//! Session resumption: a short handshake with a peer met moments ago.
//!
//! On a line that drops every few seconds, the full handshake (three messages carrying both
//! certificate chains, about 690 bytes) would be paid again on every redial: at 960 B/s with a
//! cut every 12 s that is a twentieth of the line. So every completed sync handshake leaves
//! both sides a ticket: a secret only they can know (derived from that session's keys), an id,
//! and the peer's proven key and certificate chain. The next connection to the same address
//! may open with `Noise_NNpsk0` keyed by the secret: two messages of 68 and 50 bytes, a fresh
//! ephemeral Diffie-Hellman (forward secrecy as before), and proof that the other side holds
//! the ticket, which only the peer proven in the first handshake can. Before any data moves,
//! each side checks the remembered chain against its trust as it is now, so a revocation or an
//! expiry applies exactly as in a full handshake.
//!
//! Tickets live in memory only: a restarted device does one full handshake, and no secret that
//! opens sessions is ever written to disk. `sync/PROTOCOL.md` §5 has the bytes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::trust::cert::Chain;

/// How long a ticket may open sessions: a day of calls on a bad line, then a full handshake.
pub const TICKET_LIFETIME_SECS: u64 = 6 * 3600;
/// The most tickets a responder keeps; the oldest go first (a hub answers many desks).
pub const MAX_ISSUED: usize = 4096;
/// Length of a ticket's id, sent in the clear in the first message.
pub const TICKET_ID_LEN: usize = 16;

/// What a finished handshake leaves for the next one with the same peer.
#[derive(Clone)]
pub struct Ticket {
    pub(crate) id: [u8; TICKET_ID_LEN],
    pub(crate) secret: [u8; 32],
    /// The peer's X25519 static key, as the first handshake proved it.
    pub(crate) peer_static: [u8; 32],
    /// The peer's certificate chain, checked again at every resumption.
    pub(crate) peer_chain: Chain,
    /// Unix seconds when the ticket was made.
    pub(crate) made_at: u64,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Ticket")
            .field("id", &hex::encode(self.id))
            .field("made_at", &self.made_at)
            .finish_non_exhaustive()
    }
}

impl Ticket {
    /// The ticket of a session whose raw split keys are `k1`, `k2`: both sides compute the same
    /// id and secret, and nobody without the session's keys can.
    pub(crate) fn derive(
        k1: &[u8; 32],
        k2: &[u8; 32],
        peer_static: [u8; 32],
        peer_chain: Chain,
        now: u64,
    ) -> Ticket {
        let hash = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(k1);
            h.update(k2);
            h.finalize().into()
        };
        let mut id = [0u8; TICKET_ID_LEN];
        id.copy_from_slice(&hash(b"tusach resume id v1\0")[..TICKET_ID_LEN]);
        Ticket {
            id,
            secret: hash(b"tusach resume secret v1\0"),
            peer_static,
            peer_chain,
            made_at: now,
        }
    }

    fn is_fresh(&self, now: u64) -> bool {
        // A clock that went back (a Pi without a clock) keeps the ticket; one far ahead ends it.
        now.saturating_sub(self.made_at) < TICKET_LIFETIME_SECS
    }
}

/// A device's tickets: those it holds for addresses it dials, and those it issued as a
/// responder. Shared by every connection of one process.
#[derive(Default)]
pub struct Tickets {
    inner: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    held: HashMap<String, Ticket>,
    issued: HashMap<[u8; TICKET_ID_LEN], Ticket>,
    issued_order: VecDeque<[u8; TICKET_ID_LEN]>,
}

impl Tickets {
    pub fn new() -> Tickets {
        Tickets::default()
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        // A panic while holding the lock leaves a book that is still consistent (every
        // operation is one insert or remove), so a poisoned lock is used as it is.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ticket to resume with when dialling `address`, if a fresh one is held.
    pub fn held_for(&self, address: &str, now: u64) -> Option<Ticket> {
        let mut book = self.book();
        match book.held.get(address) {
            Some(ticket) if ticket.is_fresh(now) => Some(ticket.clone()),
            Some(_) => {
                book.held.remove(address);
                None
            }
            None => None,
        }
    }

    /// Keeps the ticket a session with `address` left, replacing the one before.
    pub fn hold(&self, address: &str, ticket: Ticket) {
        self.book().held.insert(address.to_owned(), ticket);
    }

    /// Drops the ticket for `address` (the peer no longer knows it).
    pub fn forget(&self, address: &str) {
        self.book().held.remove(address);
    }

    /// Remembers a ticket this device issued as a responder.
    pub(crate) fn issue(&self, ticket: Ticket) {
        let mut book = self.book();
        let id = ticket.id;
        if book.issued.insert(id, ticket).is_none() {
            book.issued_order.push_back(id);
        }
        while book.issued.len() > MAX_ISSUED {
            let Some(oldest) = book.issued_order.pop_front() else {
                break;
            };
            book.issued.remove(&oldest);
        }
    }

    /// The issued ticket with this id, if it is still fresh. A ticket stays usable until it
    /// expires: a resumed session cut before its own ticket reached the peer is resumed again
    /// with the same one.
    pub(crate) fn redeem(&self, id: &[u8; TICKET_ID_LEN], now: u64) -> Option<Ticket> {
        let book = self.book();
        book.issued.get(id).filter(|t| t.is_fresh(now)).cloned()
    }

    /// Withdraws an issued ticket (its peer is no longer trusted).
    pub(crate) fn withdraw(&self, id: &[u8; TICKET_ID_LEN]) {
        let mut book = self.book();
        book.issued.remove(id);
        book.issued_order.retain(|t| t != id);
    }

    /// How many tickets this device issued and still keeps.
    pub fn issued_count(&self) -> usize {
        self.book().issued.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(seed: u8, now: u64) -> Ticket {
        Ticket::derive(&[seed; 32], &[1; 32], [2; 32], Chain::default(), now)
    }

    #[test]
    fn both_sides_derive_the_same_ticket_and_other_keys_another() {
        let a = ticket(7, 0);
        let b = ticket(7, 0);
        let c = ticket(8, 0);
        assert_eq!((a.id, a.secret), (b.id, b.secret));
        assert_ne!(a.id, c.id);
        assert_ne!(a.secret, c.secret);
        assert_ne!(&a.secret[..TICKET_ID_LEN], &a.id[..]);
    }

    #[test]
    fn tickets_expire_and_the_oldest_issued_go_first() {
        let tickets = Tickets::new();
        tickets.hold("hub:7000", ticket(1, 100));
        assert!(
            tickets
                .held_for("hub:7000", 100 + TICKET_LIFETIME_SECS - 1)
                .is_some()
        );
        assert!(
            tickets
                .held_for("hub:7000", 100 + TICKET_LIFETIME_SECS)
                .is_none()
        );
        assert!(
            tickets.held_for("hub:7000", 100).is_none(),
            "an expired ticket is dropped"
        );

        for seed in 0..=(MAX_ISSUED as u32) {
            let mut t = ticket(0, 0);
            t.id[..4].copy_from_slice(&seed.to_le_bytes());
            tickets.issue(t);
        }
        assert_eq!(tickets.issued_count(), MAX_ISSUED);
        let mut first = [0u8; TICKET_ID_LEN];
        first[..4].copy_from_slice(&0u32.to_le_bytes());
        first[4..].copy_from_slice(&ticket(0, 0).id[4..]);
        assert!(tickets.redeem(&first, 0).is_none());
    }
}
