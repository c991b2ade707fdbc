//! What the sync status page says about each peer's last session: when it was tried, over
//! which kind of link, how it ended in plain words, and how many bytes moved. In memory only:
//! it answers "did the noon sync work?", while the store's peer contacts keep the durable
//! history.

use std::collections::HashMap;

use tusach_sync::SessionReport;

/// Peers remembered at most; a listener answering strangers must not grow without bound.
const MAX_PEERS: usize = 64;

/// How a session came about: who decided to start it, over what. Named where the session
/// starts (each scheduler, the listener, the console), because afterwards an address alone
/// cannot tell a typed address from a neighbour mDNS found. Code that names them in words
/// matches every variant, so a new one is not forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// A neighbour mDNS found on this network.
    Neighbour,
    /// An address an admin typed on the sync page (see [`super::manual_peers`]).
    Manual,
    /// The district hub: `serve --hub`'s schedule, or joining.
    Hub,
    /// The other device dialled this one.
    Incoming,
    /// A sealed bundle file carried on a USB stick.
    Usb,
    /// Someone typed `tusach sync --peer` at this device's console.
    Command,
    /// A modem, radio or cable on a serial port (see [`super::serial_line`]).
    Serial,
}

impl LinkKind {
    /// The stable name the JSON API uses.
    pub fn code(self) -> &'static str {
        match self {
            LinkKind::Neighbour => "neighbour",
            LinkKind::Manual => "manual",
            LinkKind::Hub => "hub",
            LinkKind::Incoming => "incoming",
            LinkKind::Usb => "usb",
            LinkKind::Command => "command",
            LinkKind::Serial => "serial",
        }
    }
}

/// How a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutcome {
    Synced {
        changes_sent: usize,
        new_changes: usize,
    },
    /// The error, in the words the log uses.
    Failed(String),
}

/// One peer's last session.
#[derive(Clone, Debug)]
pub struct PeerActivity {
    /// The address dialled, the peer's device id, or (when an incoming peer failed before
    /// saying who it is) its IP address.
    pub peer: String,
    pub link: LinkKind,
    /// Unix seconds when the session ended.
    pub last_attempt: i64,
    pub outcome: SessionOutcome,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

#[derive(Default)]
pub(super) struct ActivityLog {
    by_peer: HashMap<String, PeerActivity>,
}

impl ActivityLog {
    pub(super) fn note(
        &mut self,
        peer: String,
        link: LinkKind,
        now: i64,
        result: Result<&SessionReport, String>,
    ) {
        let (outcome, bytes_in, bytes_out) = match result {
            Ok(report) => (
                SessionOutcome::Synced {
                    changes_sent: report.changes_sent,
                    new_changes: report.received.new_changes,
                },
                report.bytes_in,
                report.bytes_out,
            ),
            Err(error) => (SessionOutcome::Failed(error), 0, 0),
        };
        if self.by_peer.len() >= MAX_PEERS && !self.by_peer.contains_key(&peer) {
            let oldest = self
                .by_peer
                .values()
                .min_by_key(|a| a.last_attempt)
                .map(|a| a.peer.clone());
            if let Some(oldest) = oldest {
                self.by_peer.remove(&oldest);
            }
        }
        self.by_peer.insert(
            peer.clone(),
            PeerActivity {
                peer,
                link,
                last_attempt: now,
                outcome,
                bytes_in,
                bytes_out,
            },
        );
    }

    /// Most recent first.
    pub(super) fn recent(&self) -> Vec<PeerActivity> {
        let mut all: Vec<PeerActivity> = self.by_peer.values().cloned().collect();
        all.sort_by(|a, b| {
            b.last_attempt
                .cmp(&a.last_attempt)
                .then_with(|| a.peer.cmp(&b.peer))
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_last_session_per_peer_and_forgets_the_oldest_peer_when_full() {
        let mut log = ActivityLog::default();
        let failed = || Err("the connection closed before the session finished".to_owned());
        log.note("hub:7654".into(), LinkKind::Hub, 10, failed());
        log.note(
            "hub:7654".into(),
            LinkKind::Command,
            20,
            Ok(&SessionReport::default()),
        );
        let recent = log.recent();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].last_attempt, 20);
        assert_eq!(recent[0].link, LinkKind::Command, "the last session's link");
        assert!(matches!(recent[0].outcome, SessionOutcome::Synced { .. }));

        for i in 0..MAX_PEERS {
            log.note(
                format!("10.0.0.{i}"),
                LinkKind::Incoming,
                100 + i as i64,
                failed(),
            );
        }
        let recent = log.recent();
        assert_eq!(recent.len(), MAX_PEERS);
        assert!(
            recent.iter().all(|a| a.peer != "hub:7654"),
            "the oldest went"
        );
        assert_eq!(recent[0].peer, format!("10.0.0.{}", MAX_PEERS - 1));
    }
}
