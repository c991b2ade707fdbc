//! Sync sessions over TCP (tokio). The store sits behind a mutex because a listener may serve
//! several peers at once; each session call holds it only briefly.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::protocol::policy::ScopePolicy;
use crate::protocol::session::{Role, Session, SessionError, SessionOptions, SessionReport};
use crate::store::Store;

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
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("the store is unavailable: another task panicked while holding it")]
    StorePoisoned,
}

impl TcpSyncError {
    /// True when trying again later cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            TcpSyncError::Session(e) => e.is_permanent(),
            TcpSyncError::StorePoisoned => true,
            _ => false,
        }
    }
}

fn lock(store: &Mutex<Store>) -> Result<std::sync::MutexGuard<'_, Store>, TcpSyncError> {
    store.lock().map_err(|_| TcpSyncError::StorePoisoned)
}

/// Drives one session over any byte stream until it finishes or fails.
pub async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    session: &mut Session,
    store: &Mutex<Store>,
    idle_timeout: Duration,
) -> Result<SessionReport, TcpSyncError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        loop {
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
            return Ok(session.report().clone());
        }
        let n = match tokio::time::timeout(idle_timeout, stream.read(&mut buf)).await {
            Ok(read) => read?,
            Err(_) => return Err(TcpSyncError::Timeout(idle_timeout)),
        };
        if n == 0 {
            return Err(TcpSyncError::Closed);
        }
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

/// Dials a peer and runs one session as the initiator.
pub async fn sync_with(
    addr: &str,
    store: &Mutex<Store>,
    policy: Arc<dyn ScopePolicy>,
    options: SessionOptions,
    idle_timeout: Duration,
) -> Result<SessionReport, TcpSyncError> {
    let mut stream = tokio::time::timeout(idle_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| TcpSyncError::Timeout(idle_timeout))?
        .map_err(|source| TcpSyncError::Connect {
            addr: addr.to_owned(),
            source,
        })?;
    stream.set_nodelay(true)?;
    let mut session = Session::new(Role::Initiator, &*lock(store)?, policy, options)?;
    drive(&mut stream, &mut session, store, idle_timeout).await
}

/// Accepts peers on `listener` and answers each with a responder session, until `shutdown`
/// resolves. Each finished or failed session is reported through `on_session`.
pub async fn serve(
    listener: TcpListener,
    store: Arc<Mutex<Store>>,
    policy: Arc<dyn ScopePolicy>,
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
        let policy = policy.clone();
        let options = options.clone();
        let on_session = on_session.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let result = async {
                let mut session = Session::new(Role::Responder, &*lock(&store)?, policy, options)?;
                drive(&mut stream, &mut session, &store, idle_timeout).await
            }
            .await;
            on_session(peer, result);
        });
    }
}
