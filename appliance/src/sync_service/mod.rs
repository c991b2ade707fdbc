//! The one place sync sessions start: outgoing TCP sessions, enrolment with a hub, the
//! listener that answers peers, and sealed bundle files written or read. [`SyncService`] owns
//! what they share: the store, a guard per peer so two sessions with one peer never overlap,
//! and a short in-memory record of each peer's last session for the sync status page. Who may
//! exchange what is not decided here: every session proves membership with certificates
//! (`tusach_sync::trust`), and each side takes the peer's scopes from its certificate.
//!
//! It decides nothing about what a session sends (that is `tusach_sync`'s protocol) and it
//! prints nothing: callers turn its reports into words. [`hub`] is the schedule on which
//! `serve --hub` dials the district's hub by itself; [`neighbours`] is how it finds and dials
//! the members on its own network by mDNS; [`manual_peers`] dials the addresses an admin typed,
//! for peers mDNS cannot reach (another subnet). [`retry`] is the backoff they share. Every
//! session is noted with its [`LinkKind`]: who started it, over what. [`peers`] names peers by
//! library and device for the sync page, with pending counts in the scopes each shares with
//! us; [`carrying`] is what a district laptop holds for each destination. [`stick`] finds a
//! plugged-in USB stick and writes bundles to it or reads every bundle on it. [`serial_line`]
//! calls the hub over a modem, radio or cable on a schedule, or answers such calls.

pub mod activity;
pub mod carrying;
pub mod contacts;
pub mod hub;
pub mod manual_peers;
pub mod neighbours;
pub mod peers;
pub mod retry;
pub mod serial_line;
pub mod stick;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tusach_sync::bundle::{self, BundleSummary, OpenedBundle, SealError};
use tusach_sync::protocol::resume::Tickets;
use tusach_sync::protocol::secure::LinkTrust;
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::tcp::{self, TcpSyncError};
use tusach_sync::trust::{EnrolmentCode, Grant};
use tusach_sync::{DeviceId, SessionReport, Store, StoreError};

pub use activity::{LinkKind, PeerActivity, SessionOutcome};

/// How much of a bundle is cut into one batch (the same size as a network batch).
const BUNDLE_BATCH_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Session(#[from] TcpSyncError),
    #[error(transparent)]
    Serial(#[from] tusach_sync::transport::serial::SerialError),
    #[error(transparent)]
    Bundle(#[from] SealError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store is unavailable: another task panicked while holding it")]
    StorePoisoned,
    #[error("the neighbour announced no address to dial")]
    NoAddress,
}

impl SyncError {
    /// True when trying again later cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            SyncError::Session(error) => error.is_permanent(),
            SyncError::Serial(error) => error.is_permanent(),
            SyncError::Bundle(SealError::Bundle(tusach_sync::bundle::BundleError::Io(_))) => false,
            SyncError::Bundle(_) | SyncError::StorePoisoned => true,
            SyncError::Store(error) => error.is_permanent(),
            SyncError::ReadFile { .. } | SyncError::WriteFile { .. } | SyncError::NoAddress => {
                false
            }
        }
    }
}

/// Runs with the store after every session that finished (see [`SyncService::after_sessions`]).
pub type AfterSession = Box<dyn Fn(&mut Store) + Send + Sync>;

/// Sync for one store: see the module documentation.
pub struct SyncService {
    store: Arc<Mutex<Store>>,
    /// One async mutex per peer address: a second session with the same peer waits for the
    /// first to end instead of running beside it.
    peer_guards: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    activity: Mutex<activity::ActivityLog>,
    /// Where [`SyncService::listen`] answers peers, once it does.
    listening_on: Mutex<Option<SocketAddr>>,
    after_session: Mutex<Option<AfterSession>>,
    /// Resumption tickets, for peers dialled and for peers answered: a redial on a line that
    /// drops skips the full handshake. In memory only (see `tusach_sync::protocol::resume`).
    tickets: Arc<Tickets>,
    /// The last finished session with each peer, either direction, for the neighbours'
    /// scheduler.
    last_sessions: Mutex<HashMap<DeviceId, LastSession>>,
    sessions_finished: std::sync::atomic::AtomicU64,
    /// The neighbours mDNS shows, as the scheduler last published them.
    neighbours: Mutex<Vec<neighbours::NeighbourView>>,
    /// Counts the librarian's "sync now" presses; the schedulers watch it.
    sync_now: tokio::sync::watch::Sender<u64>,
    /// The typed addresses' edits and how their scheduler last saw them.
    manual_peers: manual_peers::ManualPeerBoard,
    /// Where the staff page's export and import look for a USB stick.
    sticks: Mutex<stick::StickPlaces>,
    /// The serial line's status, when `serve --serial` runs one.
    serial: Mutex<Option<serial_line::SerialStatus>>,
}

/// The last finished session with a peer, as the neighbours' scheduler needs it.
#[derive(Clone, Copy, Debug)]
pub struct LastSession {
    /// Counts finished sessions of this service: a larger number is a later session.
    pub number: u64,
    /// This device's feed head just after it ended.
    pub feed_head_after: u64,
    /// Changes this device sent in it.
    pub changes_sent: u64,
    /// How it came about.
    pub link: LinkKind,
}

impl SyncService {
    pub fn new(store: Arc<Mutex<Store>>) -> Arc<SyncService> {
        Arc::new(SyncService {
            store,
            peer_guards: Mutex::new(HashMap::new()),
            activity: Mutex::new(activity::ActivityLog::default()),
            listening_on: Mutex::new(None),
            after_session: Mutex::new(None),
            tickets: Arc::new(Tickets::new()),
            last_sessions: Mutex::new(HashMap::new()),
            sessions_finished: std::sync::atomic::AtomicU64::new(0),
            neighbours: Mutex::new(Vec::new()),
            sync_now: tokio::sync::watch::Sender::new(0),
            manual_peers: manual_peers::ManualPeerBoard::default(),
            sticks: Mutex::new(stick::StickPlaces::default()),
            serial: Mutex::new(None),
        })
    }

    /// Has `hook` run with the store after every session that finished, outgoing or incoming:
    /// `serve` uses it for what waits for a desk's first sync (its first admin, its library's
    /// name). The hook runs on the thread that ran the session, so it must be quick.
    pub fn after_sessions(&self, hook: AfterSession) {
        if let Ok(mut slot) = self.after_session.lock() {
            *slot = Some(hook);
        }
    }

    /// The store every session of this service reads and writes.
    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// Where the listener answers peers, if it runs.
    pub fn listening_on(&self) -> Option<SocketAddr> {
        self.listening_on.lock().ok().and_then(|addr| *addr)
    }

    /// Each peer's last session, most recent first.
    pub fn activity(&self) -> Vec<PeerActivity> {
        self.activity
            .lock()
            .map(|log| log.recent())
            .unwrap_or_default()
    }

    /// The librarian pressed "sync now": every scheduler (the hub's, the neighbours') tries at
    /// once, whatever its backoff says.
    pub fn sync_now(&self) {
        self.sync_now
            .send_modify(|presses| *presses = presses.wrapping_add(1));
    }

    /// Changes whenever [`SyncService::sync_now`] is called.
    pub fn sync_now_presses(&self) -> tokio::sync::watch::Receiver<u64> {
        self.sync_now.subscribe()
    }

    /// The store's feed head (see `Store::feed_head`).
    pub fn feed_head(&self) -> Result<u64, SyncError> {
        let store = self.store.lock().map_err(|_| SyncError::StorePoisoned)?;
        Ok(store.feed_head()?)
    }

    /// The last session with `peer` that finished, either direction.
    pub fn last_session_with(&self, peer: &DeviceId) -> Option<LastSession> {
        self.last_sessions.lock().ok()?.get(peer).copied()
    }

    /// The neighbours mDNS shows now (empty when discovery does not run).
    pub fn neighbours(&self) -> Vec<neighbours::NeighbourView> {
        self.neighbours
            .lock()
            .map(|n| n.clone())
            .unwrap_or_default()
    }

    fn publish_neighbours(&self, views: Vec<neighbours::NeighbourView>) {
        if let Ok(mut slot) = self.neighbours.lock() {
            *slot = views;
        }
    }

    /// True while a session with `addr` (as it was dialled) runs.
    pub fn is_busy_with(&self, addr: &str) -> bool {
        self.guard_for(addr).try_lock().is_err()
    }

    fn guard_for(&self, addr: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.peer_guards.lock() {
            Ok(mut guards) => guards.entry(addr.to_owned()).or_default().clone(),
            // A panic elsewhere poisoned the map: a fresh guard still lets this session run.
            Err(_) => Arc::default(),
        }
    }

    /// Dials `addr` and runs one session as the initiator, noted as a session over `link`.
    /// The only place outgoing sessions start. Waits for a session already running with the
    /// same address to end first.
    pub async fn sync_with(
        &self,
        addr: &str,
        link: LinkKind,
        idle_timeout: Duration,
    ) -> Result<SessionReport, SyncError> {
        let guard = self.guard_for(addr);
        let _one_at_a_time = guard.lock().await;
        let result = tcp::sync_with(
            addr,
            &self.store,
            &self.tickets,
            SessionOptions::default(),
            idle_timeout,
        )
        .await;
        self.finished(
            addr.to_owned(),
            link,
            result.as_ref().map_err(ToString::to_string),
        );
        Ok(result?)
    }

    /// Enrols this device at the hub `addr` with a one-time code the hub showed.
    pub async fn enrol_with(
        &self,
        addr: &str,
        code: EnrolmentCode,
        idle_timeout: Duration,
    ) -> Result<Grant, SyncError> {
        let guard = self.guard_for(addr);
        let _one_at_a_time = guard.lock().await;
        Ok(tcp::enrol_with(addr, &self.store, code, idle_timeout).await?)
    }

    /// Answers peers on `listener` until `shutdown` resolves. The only place incoming sessions
    /// start.
    pub async fn listen(
        self: &Arc<Self>,
        listener: tokio::net::TcpListener,
        idle_timeout: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        if let Ok(mut addr) = self.listening_on.lock() {
            *addr = listener.local_addr().ok();
        }
        let service = self.clone();
        let on_session = Arc::new(
            move |peer: SocketAddr, result: Result<SessionReport, TcpSyncError>| {
                // An incoming peer is named by its device id once it said hello; before that
                // only its address is known (its port changes with every connection).
                let name = match &result {
                    Ok(SessionReport { peer: Some(id), .. }) => id.to_hex(),
                    _ => peer.ip().to_string(),
                };
                match &result {
                    Ok(report) => eprintln!(
                        "sync session with {peer} finished: sent {} changes, received {} new",
                        report.changes_sent, report.received.new_changes
                    ),
                    Err(error) => eprintln!("sync session with {peer} failed: {error}"),
                }
                service.finished(
                    name,
                    LinkKind::Incoming,
                    result.as_ref().map_err(ToString::to_string),
                );
            },
        );
        let served = tcp::serve(
            listener,
            self.store.clone(),
            self.tickets.clone(),
            SessionOptions::default(),
            idle_timeout,
            on_session,
            shutdown,
        )
        .await;
        if let Ok(mut addr) = self.listening_on.lock() {
            *addr = None;
        }
        served
    }

    /// Writes `file` with everything member `to` lacks, sealed: encrypted for `to` and signed
    /// by this device. Holds the store for the whole bundle.
    pub fn write_bundle(&self, file: &Path, to: DeviceId) -> Result<BundleSummary, SyncError> {
        self.write_sealed_file(file, |store, trust, out| {
            bundle::write_sealed(store, to, trust, BUNDLE_BATCH_BYTES, out)
        })
    }

    /// Writes `file` with a receipt for member `to`: what this device holds, sealed for `to`,
    /// so that `to` stops carrying what already arrived here.
    pub fn write_receipt(&self, file: &Path, to: DeviceId) -> Result<BundleSummary, SyncError> {
        self.write_sealed_file(file, |store, trust, out| {
            bundle::write_sealed_receipt(store, to, trust, out)
        })
    }

    /// The file appears whole or not at all: it is written beside its place and renamed, so a
    /// pulled USB stick never holds half a bundle under the real name.
    fn write_sealed_file(
        &self,
        file: &Path,
        write: impl FnOnce(
            &mut Store,
            &LinkTrust,
            &mut std::io::BufWriter<&mut std::fs::File>,
        ) -> Result<BundleSummary, bundle::SealError>,
    ) -> Result<BundleSummary, SyncError> {
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let write_error = |source| SyncError::WriteFile {
            path: file.to_owned(),
            source,
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
        let summary = {
            let mut store = self.store.lock().map_err(|_| SyncError::StorePoisoned)?;
            let mut out = std::io::BufWriter::new(temp.as_file_mut());
            let trust = LinkTrust::load(&mut store, tcp::unix_now())?;
            let summary = write(&mut store, &trust, &mut out)?;
            out.flush().map_err(write_error)?;
            summary
        };
        temp.as_file().sync_all().map_err(write_error)?;
        temp.persist(file).map_err(|e| write_error(e.error))?;
        Ok(summary)
    }

    /// Opens a sealed bundle and checks it whole (maker, signature, frames, scopes), then
    /// merges it into the store.
    pub fn read_bundle(&self, file: &Path) -> Result<OpenedBundle, SyncError> {
        let bytes = std::fs::read(file).map_err(|source| SyncError::ReadFile {
            path: file.to_owned(),
            source,
        })?;
        let mut store = self.store.lock().map_err(|_| SyncError::StorePoisoned)?;
        let trust = LinkTrust::load(&mut store, tcp::unix_now())?;
        Ok(bundle::read_sealed(&mut store, &bytes, &trust)?)
    }

    /// Notes a finished or failed session: in memory for the status page, and in the store
    /// (when the peer is known) so the page still knows after a restart.
    fn finished(&self, peer: String, link: LinkKind, result: Result<&SessionReport, String>) {
        if let Ok(report) = result {
            self.note_contact(report, link);
        }
        if let Ok(mut log) = self.activity.lock() {
            log.note(peer, link, unix_now(), result);
        }
    }

    /// Best effort: a failure here loses a timestamp, never data, so it is only logged.
    fn note_contact(&self, report: &SessionReport, link: LinkKind) {
        let Some(peer) = report.peer else { return };
        match self.store.lock() {
            Ok(mut store) => {
                if let Err(error) = store.record_peer_contact(&peer, unix_now()) {
                    eprintln!("could not record the contact with {peer}: {error}");
                }
                if let (Ok(feed_head_after), Ok(mut last)) =
                    (store.feed_head(), self.last_sessions.lock())
                {
                    let number = self
                        .sessions_finished
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        + 1;
                    last.insert(
                        peer,
                        LastSession {
                            number,
                            feed_head_after,
                            changes_sent: report.changes_sent as u64,
                            link,
                        },
                    );
                }
                if let Ok(hook) = self.after_session.lock()
                    && let Some(hook) = hook.as_ref()
                {
                    hook(&mut store);
                }
            }
            Err(_) => eprintln!("could not record the contact with {peer}: store unavailable"),
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
