//! Neighbours found by mDNS sync by themselves: the appliance announces itself, watches who
//! else is on the hotspot or the LAN, and dials the members among them when either side holds
//! something new. Nobody types an address.
//!
//! *When* to dial is decided from the announcements' state counters (`st`, see
//! `tusach_sync::discovery`): a pair needs a session when either side's feed moved since their
//! last one, so a quiet network costs no sessions at all, only mDNS's own upkeep.
//!
//! *Who* dials: of two neighbours, the one with the smaller device id. It dials a second after
//! its own change, or as soon as it hears that the other's counter moved (mDNS carries the new
//! TXT record at once). The larger one waits [`LARGER_ID_GRACE`] for that, then dials itself,
//! so a pair that can only connect one way still converges. So one pair runs one session at a
//! time, and a session carries both directions' changes.
//!
//! *Whom*: only neighbours whose id belongs to a member this device knows (a published
//! certificate that verifies now). The TXT record is a claim, so the handshake proves the
//! identity again; a stranger that claims a member's id is refused there and gets nothing but
//! a handshake message. Strangers and revoked devices are listed for the sync page and never
//! dialled. Failures back off, doubling from [`FIRST_RETRY`] up to [`MAX_RETRY`].
//!
//! The sessions themselves are [`SyncService::sync_with`]'s; this module only schedules them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tusach_sync::DeviceId;
use tusach_sync::discovery::{Announcement, Discovery, NeighbourEvent, Sighting};
use tusach_sync::protocol::secure::LinkTrust;
use tusach_sync::transport::tcp::unix_now;
use tusach_sync::trust::{self, MemberRole, TrustError};

use super::retry::Backoff;
use super::{LinkKind, SyncError, SyncService};

/// How often the scheduler looks at the store's feed and its neighbours.
const TICK: Duration = Duration::from_millis(250);
/// A change waits this long before it is announced or carried, so a librarian's burst of
/// edits (or a batch arriving from the hub) travels in one session, not ten.
const DEBOUNCE: Duration = Duration::from_millis(750);
/// How long after a session the other side's announcement may still show its state from
/// before it: its own debounce, a tick, the multicast. Meanwhile a mismatch on their side
/// alone is taken for that lag, not for news (else every session was followed by another).
const ANNOUNCE_LAG: Duration = Duration::from_secs(3);
/// How long the larger id of a pair leaves the smaller one to dial first.
const LARGER_ID_GRACE: Duration = Duration::from_secs(8);
/// The first retry after a failed session; later ones double up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(5 * 60);
/// A neighbour that refused us (or that we refused) is tried again only this rarely: trust
/// changes by enrolment and revocation, not by retrying.
const AFTER_REFUSAL: Duration = Duration::from_secs(10 * 60);
/// How often who is a member is read again (revocations arrive as data).
const STANDING_REFRESH: Duration = Duration::from_secs(20);
/// How often neighbours are asked for again whatever mDNS's own backoff says, so one that
/// came back without a new address (a cable plugged in again) is found within minutes.
const BROWSE_AGAIN: Duration = Duration::from_secs(5 * 60);
/// How long a neighbour may stay silent within a session.
const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the certificates this device holds say of a neighbour's claimed id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// A member with a certificate that verifies now.
    Member,
    /// Its membership was revoked.
    Revoked,
    /// No certificate of it is known here, or it no longer verifies (expired, another
    /// network): not dialled. If it is a new member it will dial us, and the handshake decides.
    Stranger,
}

/// A neighbour as the sync page shows it.
#[derive(Clone, Debug)]
pub struct NeighbourView {
    pub sighting: Sighting,
    pub standing: Standing,
    /// Unix seconds of its last announcement.
    pub last_seen: i64,
    /// Sessions this scheduler started with it that failed in a row.
    pub failures: u32,
    /// The last error, in the service's words.
    pub last_error: Option<String>,
}

/// One neighbour in the scheduler's book.
struct Neighbour {
    sighting: Sighting,
    standing: Standing,
    last_seen: i64,
    /// Our feed head and its counter as they stood when the last session ended, as far as
    /// that session brought them; `None` before any session.
    synced: Option<SyncedAt>,
    /// When the first change not yet carried to it was noticed.
    wanted_since: Option<Instant>,
    failures: u32,
    not_before: Instant,
    in_flight: bool,
    last_error: Option<String>,
    /// The number of the last session with it that `synced` accounts for
    /// ([`super::LastSession::number`]).
    session_seen: Option<u64>,
    /// When `synced` was last set.
    synced_at: Option<Instant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SyncedAt {
    ours: u64,
    theirs: Option<u64>,
}

/// A session the scheduler started, as it ended.
struct Outcome {
    instance: String,
    result: Result<SyncedAt, SyncError>,
    /// The number the service gave the session, when it ended at all.
    number: Option<u64>,
}

/// Announces this device and syncs with the member neighbours until `shutdown` resolves, then
/// withdraws the announcement.
pub async fn run(
    service: Arc<SyncService>,
    mut discovery: Discovery,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let me = discovery.announcement().device;
    let mut book: HashMap<String, Neighbour> = HashMap::new();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut head = service.feed_head().unwrap_or(0);
    let mut head_moved_at: Option<Instant> = None;
    let mut standing_read = Instant::now();
    let mut presses = service.sync_now_presses();
    let mut browse_again = tokio::time::interval_at(Instant::now() + BROWSE_AGAIN, BROWSE_AGAIN);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Ok(()) = presses.changed() => {
                // "Sync now": every member neighbour is due at once, whichever of a pair it is,
                // and the network is asked again for any that came back quietly.
                if let Err(error) = discovery.browse_again() {
                    eprintln!("mDNS: could not ask for neighbours again: {error}");
                }
                let now = Instant::now();
                for neighbour in book.values_mut() {
                    neighbour.synced = None;
                    neighbour.wanted_since = now.checked_sub(LARGER_ID_GRACE);
                    neighbour.not_before = now;
                }
            }
            event = discovery.next_event() => match event {
                Some(NeighbourEvent::Seen(sighting)) => {
                    let standing = standing_of(&service, sighting.device);
                    note_sighting(&mut book, sighting, standing);
                }
                Some(NeighbourEvent::Gone { instance }) => {
                    if book.get(&instance).is_some_and(|n| !n.in_flight) {
                        book.remove(&instance);
                    }
                }
                None => break,
            },
            Some(outcome) = done_rx.recv() => note_outcome(&mut book, outcome),
            _ = browse_again.tick() => {
                if let Err(error) = discovery.browse_again() {
                    eprintln!("mDNS: could not ask for neighbours again: {error}");
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                if let Ok(current) = service.feed_head()
                    && current != head
                {
                    head = current;
                    head_moved_at.get_or_insert(now);
                }
                // Announce a moved head once the burst is over (or at least every debounce).
                if head_moved_at.is_some_and(|at| now >= at + DEBOUNCE) {
                    head_moved_at = None;
                    if let Err(error) = discovery.announce_state(head) {
                        eprintln!("mDNS: could not announce the new state: {error}");
                    }
                }
                if now >= standing_read + STANDING_REFRESH {
                    standing_read = now;
                    for neighbour in book.values_mut() {
                        neighbour.standing = standing_of(&service, neighbour.sighting.device);
                    }
                }
                for (instance, neighbour) in book.iter_mut() {
                    learn_answered_session(&service, neighbour);
                    if !is_due(me, neighbour, head, now) {
                        continue;
                    }
                    neighbour.in_flight = true;
                    start_session(&service, instance.clone(), neighbour, head, done_tx.clone());
                }
                service.publish_neighbours(book.values().map(Neighbour::view).collect());
            }
        }
    }
    // Goodbye packets take a moment; they must not hold up the rest of the shutdown's thread.
    let _ = tokio::task::spawn_blocking(move || discovery.stop()).await;
}

fn note_sighting(book: &mut HashMap<String, Neighbour>, sighting: Sighting, standing: Standing) {
    let last_seen = unix_now() as i64;
    if !book.contains_key(&sighting.instance) {
        eprintln!(
            "mDNS: saw {} (library {:?}, role {:?}) at {:?}: {standing:?}",
            sighting.instance, sighting.library, sighting.role, sighting.addresses
        );
    }
    match book.get_mut(&sighting.instance) {
        Some(neighbour) => {
            neighbour.sighting = sighting;
            neighbour.standing = standing;
            neighbour.last_seen = last_seen;
        }
        None => {
            book.insert(
                sighting.instance.clone(),
                Neighbour {
                    sighting,
                    standing,
                    last_seen,
                    synced: None,
                    wanted_since: None,
                    failures: 0,
                    not_before: Instant::now(),
                    in_flight: false,
                    last_error: None,
                    session_seen: None,
                    synced_at: None,
                },
            );
        }
    }
}

fn note_outcome(book: &mut HashMap<String, Neighbour>, outcome: Outcome) {
    let Some(neighbour) = book.get_mut(&outcome.instance) else {
        return;
    };
    neighbour.in_flight = false;
    match outcome.result {
        Ok(synced) => {
            neighbour.synced = Some(synced);
            neighbour.synced_at = Some(Instant::now());
            neighbour.session_seen = outcome.number.max(neighbour.session_seen);
            neighbour.wanted_since = None;
            neighbour.failures = 0;
            neighbour.last_error = None;
        }
        Err(error) => {
            neighbour.failures = neighbour.failures.saturating_add(1);
            let wait = if error.is_permanent() {
                AFTER_REFUSAL
            } else {
                Backoff {
                    first: FIRST_RETRY,
                    ceiling: MAX_RETRY,
                }
                .wait_after(neighbour.failures)
            };
            neighbour.not_before = Instant::now() + wait;
            eprintln!(
                "neighbour {} at {:?}: sync failed ({} in a row, next in {wait:?}): {error}",
                outcome.instance, neighbour.sighting.addresses, neighbour.failures
            );
            neighbour.last_error = Some(error.to_string());
        }
    }
}

/// Takes in a session the neighbour started with us (or any session with it that ended after
/// the last one this scheduler knows of): without this the larger id of a pair would dial back
/// after every session the smaller one started.
fn learn_answered_session(service: &SyncService, neighbour: &mut Neighbour) {
    let Some(device) = neighbour.sighting.device else {
        return;
    };
    let Some(last) = service.last_session_with(&device) else {
        return;
    };
    if neighbour.in_flight
        || neighbour
            .session_seen
            .is_some_and(|seen| seen >= last.number)
    {
        return;
    }
    neighbour.session_seen = Some(last.number);
    neighbour.synced_at = Some(Instant::now());
    neighbour.synced = Some(SyncedAt {
        ours: last.feed_head_after,
        theirs: neighbour
            .sighting
            .state
            .map(|state| state + last.changes_sent),
    });
    neighbour.wanted_since = None;
}

/// Whether `neighbour` needs a session now and it is ours to start (see the module
/// documentation).
fn is_due(me: DeviceId, neighbour: &mut Neighbour, head: u64, now: Instant) -> bool {
    let Some(theirs) = neighbour.sighting.device else {
        return false;
    };
    if neighbour.standing != Standing::Member
        || neighbour.in_flight
        || theirs == me
        || !neighbour.sighting.speaks_our_protocol()
        || neighbour.sighting.addresses.is_empty()
    {
        return false;
    }
    // The smaller id answers for both counters; the larger only makes sure its own news
    // leaves, should the smaller one not come for it.
    let settling = neighbour
        .synced_at
        .is_some_and(|at| now < at + ANNOUNCE_LAG);
    let wanted = match neighbour.synced {
        None => true,
        Some(synced) if me < theirs => {
            synced.ours != head || (synced.theirs != neighbour.sighting.state && !settling)
        }
        Some(synced) => synced.ours != head,
    };
    if !wanted {
        neighbour.wanted_since = None;
        return false;
    }
    let since = *neighbour.wanted_since.get_or_insert(now);
    let wait = if me < theirs {
        DEBOUNCE
    } else {
        LARGER_ID_GRACE
    };
    now >= since + wait && now >= neighbour.not_before
}

fn start_session(
    service: &Arc<SyncService>,
    instance: String,
    neighbour: &Neighbour,
    head: u64,
    done: mpsc::UnboundedSender<Outcome>,
) {
    let service = service.clone();
    let addresses = neighbour.sighting.addresses.clone();
    let their_state = neighbour.sighting.state;
    let device = neighbour.sighting.device;
    tokio::spawn(async move {
        let result = sync_any(&service, &addresses).await.map(|report| SyncedAt {
            // What this session brought is held by both sides now; anything else that moved
            // our feed meanwhile (a local edit, another neighbour) still has to go.
            ours: head + report.received.new_changes as u64,
            theirs: their_state.map(|state| state + report.changes_sent as u64),
        });
        let number = device
            .and_then(|device| service.last_session_with(&device))
            .map(|last| last.number);
        let _ = done.send(Outcome {
            instance,
            result,
            number,
        });
    });
}

/// Tries the neighbour's addresses in turn (IPv4 first) until one answers.
async fn sync_any(
    service: &SyncService,
    addresses: &[SocketAddr],
) -> Result<tusach_sync::SessionReport, SyncError> {
    let mut last = None;
    for addr in addresses {
        match service
            .sync_with(&addr.to_string(), LinkKind::Neighbour, SESSION_IDLE_TIMEOUT)
            .await
        {
            Ok(report) => return Ok(report),
            Err(error) if error.is_permanent() => return Err(error),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or(SyncError::NoAddress))
}

/// Reads what this device's certificates say of `device`.
fn standing_of(service: &SyncService, device: Option<DeviceId>) -> Standing {
    let Some(device) = device else {
        return Standing::Stranger;
    };
    let Ok(mut store) = service.store().lock() else {
        return Standing::Stranger;
    };
    let Ok(trust) = LinkTrust::load(&mut store, unix_now()) else {
        return Standing::Stranger;
    };
    let Ok(Some(chain)) = trust::published_chain(&mut store, &device) else {
        return Standing::Stranger;
    };
    let Some(leaf) = chain.leaf() else {
        return Standing::Stranger;
    };
    match trust.anchor.verify(&leaf.subject, &chain, trust.now) {
        Ok(_) => Standing::Member,
        Err(TrustError::Revoked) => Standing::Revoked,
        Err(_) => Standing::Stranger,
    }
}

impl Neighbour {
    fn view(&self) -> NeighbourView {
        NeighbourView {
            sighting: self.sighting.clone(),
            standing: self.standing,
            last_seen: self.last_seen,
            failures: self.failures,
            last_error: self.last_error.clone(),
        }
    }
}

/// What this device announces: its id, the library it serves (none for a hub or a carrier),
/// its role and where its sync listener answers.
pub fn announcement(
    service: &SyncService,
    library: Option<&str>,
    port: u16,
) -> Result<Announcement, SyncError> {
    let mut store = service
        .store()
        .lock()
        .map_err(|_| SyncError::StorePoisoned)?;
    let standing = trust::standing(&mut store, unix_now())?;
    let role = standing.membership.as_ref().map(|m| m.role);
    // A hub or a carrier holds many libraries and serves none.
    let library = match role {
        Some(MemberRole::Appliance) => library.unwrap_or_default(),
        _ => "",
    };
    let role = role.map(MemberRole::as_str).unwrap_or("unenrolled");
    Ok(Announcement {
        device: store.device_id(),
        library: library.to_owned(),
        role: role.to_owned(),
        port,
        state: store.feed_head()?,
    })
}
