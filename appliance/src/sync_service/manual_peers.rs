//! Peers at addresses an admin typed, for the members mDNS cannot find: a hub or a desk on
//! another subnet (the commune office behind one router, the library behind another). The
//! list is a local, unreplicated setting of this device, because an address only means
//! something on the networks this device sits on; at most [`MAX_ADDRESSES`] of them.
//!
//! Each address is dialled soon after start, at once when it is added or "sync now" is
//! pressed, a moment after this device's feed moved (a librarian's edits, a batch from
//! another peer), and every [`EVERY`] anyway, since the other side may hold news we cannot
//! see. A failure waits a doubling [`Backoff`] before the next try, up to [`EVERY`]. The
//! service's per-address guard keeps it to one session per address at a time.
//!
//! It only schedules: [`SyncService::sync_with`] runs the sessions and proves who answers
//! (an address is only where to knock; the certificates decide). It never checks that an
//! address is reachable when it is added: the office's router may be off that day.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tusach_sync::DeviceId;
use tusach_sync::transport::tcp::unix_now;

use super::retry::Backoff;
use super::{LinkKind, SyncError, SyncService};

/// The device setting that holds the addresses, one a line.
const SETTING: &str = "manual_peers";
/// More would be a list nobody keeps up to date, and a minute of dialling on every change.
pub const MAX_ADDRESSES: usize = 20;
/// How often each address is tried when nothing else calls for it.
pub const EVERY: Duration = Duration::from_secs(5 * 60);
/// The first retry after a failure; later ones double up to [`EVERY`].
const FIRST_RETRY: Duration = Duration::from_secs(15);
/// The first attempt after start waits this long, so the web server answers first.
const FIRST_ATTEMPT: Duration = Duration::from_secs(1);
/// How often the scheduler looks at the feed head.
const TICK: Duration = Duration::from_millis(500);
/// A change waits this long, so a burst of edits travels in one session, not ten.
const DEBOUNCE: Duration = Duration::from_millis(750);
/// How long a peer may stay silent within a session.
const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longer than any host name (253) plus a port and brackets; longer text is not an address.
const MAX_ADDRESS_CHARS: usize = 262;

/// A typed address that can be dialled: a host name or an IP address, and a port from 1 to
/// 65535. Kept as `host:port` (`[v6]:port`), host names in lowercase, so one peer typed twice
/// is one entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeerAddress(String);

/// Why typed text is not a [`PeerAddress`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("no address given")]
    Empty,
    #[error("the address is longer than any host name and port")]
    TooLong,
    #[error("no port: write HOST:PORT, e.g. 192.168.1.20:7654")]
    NoPort,
    #[error("'{0}' is not a port: use a number from 1 to 65535")]
    BadPort(String),
    #[error("'{0}' is neither a host name nor an IP address (an IPv6 address goes in [brackets])")]
    BadHost(String),
}

impl PeerAddress {
    pub fn parse(text: &str) -> Result<PeerAddress, AddressError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AddressError::Empty);
        }
        if text.chars().count() > MAX_ADDRESS_CHARS {
            return Err(AddressError::TooLong);
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| AddressError::BadHost(text.to_owned()))?;
            let port = after.strip_prefix(':').ok_or(AddressError::NoPort)?;
            let ip: Ipv6Addr = inside
                .parse()
                .map_err(|_| AddressError::BadHost(inside.to_owned()))?;
            (format!("[{ip}]"), port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or(AddressError::NoPort)?;
            (normal_host(host)?, port)
        };
        let port = parse_port(port)?;
        Ok(PeerAddress(format!("{host}:{port}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_port(port: &str) -> Result<u16, AddressError> {
    // Digits only: `u16::from_str` would take "+80".
    let bad = || AddressError::BadPort(port.to_owned());
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(port) => Ok(port),
    }
}

/// An IPv4 address as written, or a host name (RFC 1123 labels) in lowercase.
fn normal_host(host: &str) -> Result<String, AddressError> {
    let bad = || AddressError::BadHost(host.to_owned());
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(ip.to_string());
    }
    if host.is_empty() || host.len() > 253 {
        return Err(bad());
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    // "300.1.1.1" is a mistyped IP address, not a name: a top label is never all digits.
    let top_is_numeric = labels
        .last()
        .is_some_and(|top| top.bytes().all(|b| b.is_ascii_digit()));
    if !labels.iter().all(label_ok) || top_is_numeric {
        return Err(bad());
    }
    Ok(labels.join(".").to_ascii_lowercase())
}

/// Why the list could not be changed or read.
#[derive(Debug, thiserror::Error)]
pub enum ManualPeerError {
    #[error(transparent)]
    Invalid(#[from] AddressError),
    #[error("{0} is already in the list")]
    AlreadyListed(PeerAddress),
    #[error("the list holds {MAX_ADDRESSES} addresses already: remove one first")]
    Full,
    #[error("{0} is not in the list")]
    NotListed(String),
    #[error("the device's settings: {0}")]
    Settings(#[from] rusqlite::Error),
    #[error("the store is unavailable: another task panicked while holding it")]
    StorePoisoned,
}

/// What the scheduler last knew of one address, for the sync page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManualPeerStatus {
    pub address: String,
    /// The device that answered there last time.
    pub device: Option<DeviceId>,
    /// Unix seconds of the last session that worked.
    pub last_synced: Option<i64>,
    /// Failed sessions in a row.
    pub failures: u32,
    /// The last failure, in the service's words (cleared by a session that works).
    pub last_error: Option<String>,
    /// A session with it runs now.
    pub in_flight: bool,
}

/// What the page and the scheduler share through the service: edits to the list, and the
/// scheduler's view of each address.
pub(super) struct ManualPeerBoard {
    /// Counts edits to the list; the scheduler reloads the list when it moves.
    edits: tokio::sync::watch::Sender<u64>,
    statuses: Mutex<Vec<ManualPeerStatus>>,
}

impl Default for ManualPeerBoard {
    fn default() -> ManualPeerBoard {
        ManualPeerBoard {
            edits: tokio::sync::watch::Sender::new(0),
            statuses: Mutex::new(Vec::new()),
        }
    }
}

fn read_list(store: &tusach_sync::Store) -> Result<Vec<PeerAddress>, ManualPeerError> {
    let stored = crate::db::setting(store.connection(), SETTING)?.unwrap_or_default();
    // Written only by `write_list` from parsed addresses; a line that no longer parses (an
    // older, looser rule) is skipped rather than dialled.
    Ok(stored
        .lines()
        .filter_map(|line| PeerAddress::parse(line).ok())
        .collect())
}

fn write_list(
    store: &tusach_sync::Store,
    addresses: &[PeerAddress],
) -> Result<(), ManualPeerError> {
    if addresses.is_empty() {
        crate::db::delete_setting(store.connection(), SETTING)?;
    } else {
        let lines: Vec<&str> = addresses.iter().map(PeerAddress::as_str).collect();
        crate::db::set_setting(store.connection(), SETTING, &lines.join("\n"))?;
    }
    Ok(())
}

/// The typed addresses, in the order they were added.
pub fn addresses(service: &SyncService) -> Result<Vec<PeerAddress>, ManualPeerError> {
    let store = service
        .store()
        .lock()
        .map_err(|_| ManualPeerError::StorePoisoned)?;
    read_list(&store)
}

/// Adds `typed` to the list; the scheduler dials it at once. Nothing is written unless the
/// address is valid, new, and the list has room.
pub fn add(service: &SyncService, typed: &str) -> Result<PeerAddress, ManualPeerError> {
    let address = PeerAddress::parse(typed)?;
    {
        let store = service
            .store()
            .lock()
            .map_err(|_| ManualPeerError::StorePoisoned)?;
        // Read and written under one lock: two admins adding at once both land.
        let mut list = read_list(&store)?;
        if list.contains(&address) {
            return Err(ManualPeerError::AlreadyListed(address));
        }
        if list.len() >= MAX_ADDRESSES {
            return Err(ManualPeerError::Full);
        }
        list.push(address.clone());
        write_list(&store, &list)?;
    }
    service.manual_peers.edits.send_modify(|n| *n += 1);
    Ok(address)
}

/// Removes `listed` (as the list shows it); its scheduler stops dialling it. A session already
/// running with it ends normally.
pub fn remove(service: &SyncService, listed: &str) -> Result<(), ManualPeerError> {
    {
        let store = service
            .store()
            .lock()
            .map_err(|_| ManualPeerError::StorePoisoned)?;
        let mut list = read_list(&store)?;
        let before = list.len();
        list.retain(|a| a.as_str() != listed.trim());
        if list.len() == before {
            return Err(ManualPeerError::NotListed(listed.trim().to_owned()));
        }
        write_list(&store, &list)?;
    }
    service.manual_peers.edits.send_modify(|n| *n += 1);
    Ok(())
}

/// Every listed address with what its scheduler last knew (nothing yet when it has not run).
pub fn statuses(service: &SyncService) -> Result<Vec<ManualPeerStatus>, ManualPeerError> {
    let known = service
        .manual_peers
        .statuses
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    Ok(addresses(service)?
        .into_iter()
        .map(|address| {
            known
                .iter()
                .find(|s| s.address == address.as_str())
                .cloned()
                .unwrap_or_else(|| ManualPeerStatus {
                    address: address.to_string(),
                    ..ManualPeerStatus::default()
                })
        })
        .collect())
}

/// One address in the scheduler's book.
struct Dialled {
    status: ManualPeerStatus,
    /// When the interval or the backoff next calls for a session.
    next: Instant,
    /// This device's feed head as the last session with it left it; `None` before one.
    synced_head: Option<u64>,
    /// The number of the last session with its device this book accounts for
    /// ([`super::LastSession::number`]).
    session_seen: Option<u64>,
}

impl Dialled {
    fn new(address: &PeerAddress, first: Instant) -> Dialled {
        Dialled {
            status: ManualPeerStatus {
                address: address.to_string(),
                ..ManualPeerStatus::default()
            },
            next: first,
            synced_head: None,
            session_seen: None,
        }
    }
}

/// A session the scheduler started, as it ended.
struct Outcome {
    address: String,
    result: Result<tusach_sync::SessionReport, SyncError>,
    head_at_start: u64,
}

const BACKOFF: Backoff = Backoff {
    first: FIRST_RETRY,
    ceiling: EVERY,
};

/// Dials the listed addresses (see the module documentation) until `shutdown` resolves.
pub async fn run(service: Arc<SyncService>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut edits = service.manual_peers.edits.subscribe();
    let mut presses = service.sync_now_presses();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
    let mut book: BTreeMap<String, Dialled> = BTreeMap::new();
    reload(&service, &mut book, Instant::now() + FIRST_ATTEMPT);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut head = service.feed_head().unwrap_or(0);
    let mut head_moved_at: Option<Instant> = None;
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            Ok(()) = presses.changed() => {
                let now = Instant::now();
                for dialled in book.values_mut() {
                    dialled.next = now;
                }
            }
            // A new address is due at once; a removed one is forgotten (a session running
            // with it ends, and its outcome finds no entry).
            Ok(()) = edits.changed() => reload(&service, &mut book, Instant::now()),
            Some(outcome) = done_rx.recv() => note_outcome(&service, &mut book, outcome),
            _ = tick.tick() => {}
        }
        if book.is_empty() {
            publish(&service, &book);
            continue;
        }
        let now = Instant::now();
        if let Ok(current) = service.feed_head()
            && current != head
        {
            head = current;
            head_moved_at = Some(now);
        }
        let settled = head_moved_at.is_none_or(|at| now >= at + DEBOUNCE);
        for dialled in book.values_mut() {
            learn_other_sessions(&service, dialled);
            // News goes out once the burst is over, unless the backoff says the peer is down.
            let news = settled
                && dialled.status.failures == 0
                && dialled.synced_head.is_some_and(|synced| synced != head);
            if dialled.status.in_flight || !(news || now >= dialled.next) {
                continue;
            }
            dialled.status.in_flight = true;
            start_session(&service, dialled.status.address.clone(), head, &done_tx);
        }
        publish(&service, &book);
    }
}

/// Brings the book in line with the stored list; new addresses are due at `first`.
fn reload(service: &SyncService, book: &mut BTreeMap<String, Dialled>, first: Instant) {
    let listed = match addresses(service) {
        Ok(listed) => listed,
        Err(error) => {
            eprintln!("typed sync addresses: cannot read the list: {error}");
            return;
        }
    };
    book.retain(|address, _| listed.iter().any(|a| a.as_str() == address));
    for address in &listed {
        book.entry(address.to_string())
            .or_insert_with(|| Dialled::new(address, first));
    }
    publish(service, book);
}

fn start_session(
    service: &Arc<SyncService>,
    address: String,
    head_at_start: u64,
    done: &mpsc::UnboundedSender<Outcome>,
) {
    let service = service.clone();
    let done = done.clone();
    tokio::spawn(async move {
        let result = service
            .sync_with(&address, LinkKind::Manual, SESSION_IDLE_TIMEOUT)
            .await;
        let _ = done.send(Outcome {
            address,
            result,
            head_at_start,
        });
    });
}

fn note_outcome(service: &SyncService, book: &mut BTreeMap<String, Dialled>, outcome: Outcome) {
    let Some(dialled) = book.get_mut(&outcome.address) else {
        return;
    };
    dialled.status.in_flight = false;
    let now = Instant::now();
    match outcome.result {
        Ok(report) => {
            // What this session brought both sides hold now; anything else that moved our feed
            // meanwhile still has to go.
            dialled.synced_head = Some(outcome.head_at_start + report.received.new_changes as u64);
            dialled.status.device = report.peer;
            dialled.session_seen = report
                .peer
                .and_then(|device| service.last_session_with(&device))
                .map(|last| last.number);
            dialled.status.failures = 0;
            dialled.status.last_error = None;
            dialled.status.last_synced = Some(unix_now() as i64);
            dialled.next = now + EVERY;
        }
        Err(error) => {
            dialled.status.failures = dialled.status.failures.saturating_add(1);
            let wait = BACKOFF.wait_after(dialled.status.failures);
            eprintln!(
                "typed sync address {}: sync failed ({} in a row, next in {wait:?}): {error}",
                outcome.address, dialled.status.failures
            );
            dialled.status.last_error = Some(error.to_string());
            dialled.next = now + wait;
        }
    }
}

/// Takes in a session with the same device that ran another way (it dialled us, or mDNS
/// found it too): without this, each side of a pair that typed the other's address would
/// dial back after every session the other started.
fn learn_other_sessions(service: &SyncService, dialled: &mut Dialled) {
    let Some(device) = dialled.status.device else {
        return;
    };
    let Some(last) = service.last_session_with(&device) else {
        return;
    };
    if dialled.status.in_flight || dialled.session_seen.is_some_and(|seen| seen >= last.number) {
        return;
    }
    dialled.session_seen = Some(last.number);
    dialled.synced_head = Some(last.feed_head_after);
}

fn publish(service: &SyncService, book: &BTreeMap<String, Dialled>) {
    if let Ok(mut statuses) = service.manual_peers.statuses.lock() {
        *statuses = book.values().map(|d| d.status.clone()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<String, AddressError> {
        PeerAddress::parse(text).map(|a| a.to_string())
    }

    #[test]
    fn addresses_are_host_names_or_ip_addresses_with_a_port() {
        let ok = [
            ("192.168.1.20:7654", "192.168.1.20:7654"),
            ("  10.0.0.1:1 ", "10.0.0.1:1"),
            ("Hub.Huyen-Nghi-Loc.vn:65535", "hub.huyen-nghi-loc.vn:65535"),
            ("may-chu:7654", "may-chu:7654"),
            ("[fe80::1]:7654", "[fe80::1]:7654"),
            ("[2001:DB8::0:1]:80", "[2001:db8::1]:80"),
        ];
        for (typed, kept) in ok {
            assert_eq!(parsed(typed).as_deref(), Ok(kept), "{typed}");
        }
        let bad = [
            ("", AddressError::Empty),
            ("   ", AddressError::Empty),
            ("192.168.1.20", AddressError::NoPort),
            ("hub", AddressError::NoPort),
            ("hub:0", AddressError::BadPort("0".into())),
            ("hub:65536", AddressError::BadPort("65536".into())),
            ("hub:+80", AddressError::BadPort("+80".into())),
            ("hub:", AddressError::BadPort("".into())),
            ("hub:cổng", AddressError::BadPort("cổng".into())),
            ("300.1.1.1:80", AddressError::BadHost("300.1.1.1".into())),
            ("máy chủ:80", AddressError::BadHost("máy chủ".into())),
            ("-hub:80", AddressError::BadHost("-hub".into())),
            ("a..b:80", AddressError::BadHost("a..b".into())),
            (":80", AddressError::BadHost("".into())),
            ("fe80::1:7654", AddressError::BadHost("fe80::1".into())),
            ("[fe80::1]7654", AddressError::NoPort),
            ("[not-v6]:7654", AddressError::BadHost("not-v6".into())),
            (
                "[fe80::1:7654",
                AddressError::BadHost("[fe80::1:7654".into()),
            ),
        ];
        for (typed, error) in bad {
            assert_eq!(parsed(typed), Err(error), "{typed:?}");
        }
        let long = format!("{}.vn:80", "a".repeat(300));
        assert_eq!(parsed(&long), Err(AddressError::TooLong));
        let label = format!("{}.vn:80", "a".repeat(64));
        assert!(matches!(parsed(&label), Err(AddressError::BadHost(_))));
    }
}
