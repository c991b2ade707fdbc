//! Sync sessions over TCP (tokio), always inside the authenticated, encrypted
//! [`SecureSession`]. The store sits behind a mutex because a listener may serve several peers
//! at once; each session call holds it only briefly (one batch at most).
//!
//! The transport is where the clock is read (for certificate expiry) and where refused
//! connections are recorded with their address, since the protocol core knows neither.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::protocol::resume::Tickets;
use crate::protocol::secure::{LinkTrust, Purpose, SecureError, SecureSession};
use crate::protocol::session::{SessionOptions, SessionReport};
use crate::store::{Store, StoreError};
use crate::trust::{self, EnrolmentCode, Grant, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum TcpSyncError {
    #[error("could not connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer went silent for {0:?}")]
    Timeout(Duration),
    #[error("the connection closed before the session finished")]
    Closed,
    /// Boxed: the handshake's errors are large and this one travels up every call.
    #[error(transparent)]
    Secure(Box<SecureError>),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the store is unavailable: another task panicked while holding it")]
    StorePoisoned,
}

impl From<SecureError> for TcpSyncError {
    fn from(error: SecureError) -> TcpSyncError {
        TcpSyncError::Secure(Box::new(error))
    }
}

impl TcpSyncError {
    /// True when trying again later cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            TcpSyncError::Secure(e) => e.is_permanent(),
            TcpSyncError::Store(e) => e.is_permanent(),
            TcpSyncError::StorePoisoned => true,
            _ => false,
        }
    }
}

pub(crate) fn lock(store: &Mutex<Store>) -> Result<std::sync::MutexGuard<'_, Store>, TcpSyncError> {
    store.lock().map_err(|_| TcpSyncError::StorePoisoned)
}

/// Unix seconds now; 0 if the clock reads before 1970 (a Pi without a clock can).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What this device trusts now, read under the store's lock.
pub(crate) fn load_trust(store: &Mutex<Store>) -> Result<LinkTrust, TcpSyncError> {
    let mut guard = lock(store)?;
    Ok(LinkTrust::load(&mut guard, unix_now())?)
}

/// Records a refused connection for the sync page. Best effort: a failure here loses a line
/// of the log, never data.
pub(crate) fn note_refusal(
    store: &Mutex<Store>,
    address: &str,
    session: &SecureSession,
    error: &SecureError,
) {
    if !error.is_refusal() {
        return;
    }
    if let Ok(guard) = store.lock() {
        let _ = trust::record_refusal(
            &guard,
            &Refusal {
                at: unix_now() as i64,
                address: address.to_owned(),
                fingerprint: session.peer_fingerprint().unwrap_or_else(|| "-".to_owned()),
                reason: error.to_string(),
            },
        );
    }
}

/// Drives one connection over any byte stream until it finishes or fails.
pub async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    session: &mut SecureSession,
    store: &Mutex<Store>,
    idle_timeout: Duration,
) -> Result<SessionReport, TcpSyncError> {
    let mut buf = vec![0u8; 64 * 1024];
    // The session reads no clock; it learns the time from us, to size batches to the link.
    let started = tokio::time::Instant::now();
    let millis = || started.elapsed().as_millis() as u64;
    loop {
        loop {
            session.note_time(millis());
            let next = {
                let mut guard = lock(store)?;
                session.poll_transmit(&mut guard)
            };
            match next {
                Ok(Some(bytes)) => stream.write_all(&bytes).await?,
                Ok(None) => break,
                Err(e) => return Err(e.into()),
            }
        }
        stream.flush().await?;
        if session.is_finished() {
            let _ = stream.shutdown().await;
            return Ok(session.report());
        }
        let n = match tokio::time::timeout(idle_timeout, stream.read(&mut buf)).await {
            Ok(read) => read?,
            Err(_) => return Err(TcpSyncError::Timeout(idle_timeout)),
        };
        if n == 0 {
            return Err(TcpSyncError::Closed);
        }
        session.note_time(millis());
        let received = {
            let mut guard = lock(store)?;
            session.receive(&mut guard, &buf[..n])
        };
        if let Err(error) = received {
            // Tell the peer why, best effort, then give up on this connection.
            loop {
                let next = {
                    let mut guard = lock(store)?;
                    session.poll_transmit(&mut guard)
                };
                match next {
                    Ok(Some(bytes)) => {
                        if stream.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            let _ = stream.shutdown().await;
            return Err(error.into());
        }
    }
}

async fn dial(addr: &str, idle_timeout: Duration) -> Result<TcpStream, TcpSyncError> {
    let stream = tokio::time::timeout(idle_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| TcpSyncError::Timeout(idle_timeout))?
        .map_err(|source| TcpSyncError::Connect {
            addr: addr.to_owned(),
            source,
        })?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Dials a peer and runs one session as the initiator. A peer that is not a member of our
/// network is refused (and recorded) before we send it anything but our handshake.
///
/// With a ticket from an earlier session with `addr` in `tickets`, the connection resumes with
/// the short handshake ([`crate::protocol::resume`]); whatever ticket the session leaves is
/// kept there for the next.
pub async fn sync_with(
    addr: &str,
    store: &Mutex<Store>,
    tickets: &Tickets,
    options: SessionOptions,
    idle_timeout: Duration,
) -> Result<SessionReport, TcpSyncError> {
    let mut stream = dial(addr, idle_timeout).await?;
    let trust = load_trust(store)?;
    let mut session = match tickets.held_for(addr, trust.now) {
        Some(ticket) => SecureSession::resume(trust, options, ticket)?,
        None => SecureSession::initiate(&*lock(store)?, Purpose::Sync, trust, options)?,
    };
    let result = drive(&mut stream, &mut session, store, idle_timeout).await;
    match session.ticket() {
        Some(ticket) => tickets.hold(addr, ticket),
        None if session.ticket_refused() => tickets.forget(addr),
        // Cut before the answer came: the ticket may still open the next connection.
        None => {}
    }
    if let Err(TcpSyncError::Secure(error)) = &result {
        note_refusal(store, addr, &session, error);
    }
    result
}

/// Dials a hub and enrols this device with a one-time code.
pub async fn enrol_with(
    addr: &str,
    store: &Mutex<Store>,
    code: EnrolmentCode,
    idle_timeout: Duration,
) -> Result<Grant, TcpSyncError> {
    let mut stream = dial(addr, idle_timeout).await?;
    let trust = load_trust(store)?;
    let mut session = SecureSession::initiate(
        &*lock(store)?,
        Purpose::Enrol(code),
        trust,
        SessionOptions::default(),
    )?;
    drive(&mut stream, &mut session, store, idle_timeout).await?;
    session
        .grant()
        .cloned()
        .ok_or_else(|| SecureError::Enrol("the hub sent no grant").into())
}

/// Accepts peers on `listener` and answers each with a responder session, until `shutdown`
/// resolves. Each finished or failed session is reported through `on_session`.
pub async fn serve(
    listener: TcpListener,
    store: Arc<Mutex<Store>>,
    tickets: Arc<Tickets>,
    options: SessionOptions,
    idle_timeout: Duration,
    on_session: Arc<dyn Fn(SocketAddr, Result<SessionReport, TcpSyncError>) + Send + Sync>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (mut stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let store = store.clone();
        let tickets = tickets.clone();
        let options = options.clone();
        let on_session = on_session.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let result = async {
                let trust = load_trust(&store)?;
                let mut session =
                    SecureSession::respond(&*lock(&store)?, trust, options)?.with_tickets(tickets);
                let result = drive(&mut stream, &mut session, &store, idle_timeout).await;
                if let Err(TcpSyncError::Secure(error)) = &result {
                    note_refusal(&store, &peer.to_string(), &session, error);
                }
                result
            }
            .await;
            on_session(peer, result);
        });
    }
}
