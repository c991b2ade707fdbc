//! Running a sync session over a serial line, call after call.
//!
//! The session ([`SecureSession`] driven by [`drive`]) talks to one end of an in-memory pipe;
//! a pump moves bytes between the other end, the [`Link`] and the serial device. When a call
//! drops, the pump hangs up, redials (the caller) or waits for the next ring (the answerer),
//! and the link resumes the circuit where the other side's HELLO says it stopped: the session
//! above only sees a pause. On a plain line (null-modem cable, transparent radio) there is no
//! call to redial: after a long silence the caller names its circuit again until the line
//! comes back or it gives up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::frame::Deframer;
use super::link::{LineShape, Link, LinkEvent, LinkStats};
use super::modem::{self, ModemError, ModemLine, ModemSettings, ModemText};
use super::port::{self, Device, PortError};
use crate::protocol::resume::Tickets;
use crate::protocol::secure::{Purpose, SecureSession};
use crate::protocol::session::{SessionOptions, SessionReport};
use crate::store::Store;
use crate::transport::tcp::{TcpSyncError, drive, load_trust, lock, note_refusal};

/// A serial line and how calls are made on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialLine {
    pub device: Device,
    /// `None`: a plain line with no modem commands (null-modem cable, transparent radio).
    pub modem: Option<ModemSettings>,
}

impl SerialLine {
    /// How the line is named where an address would be: resumption tickets, refusals, the
    /// guard that keeps two calls on one device apart.
    pub fn address(&self) -> String {
        format!("serial:{}", self.device.path.display())
    }

    fn shape(&self) -> LineShape {
        LineShape::at_baud(self.device.baud)
    }
}

/// How hard the caller tries.
#[derive(Clone, Debug)]
pub struct CallPolicy {
    /// Calls (connections) at most for one sync, the first included.
    pub max_calls: u32,
    /// Pause before the first redial; doubles up to 30 s.
    pub redial_pause: Duration,
    /// A connected line silent this long is taken as cut (both ends send something at
    /// least every [`super::link::KEEPALIVE_MILLIS`]).
    pub dead_after: Duration,
    /// (Answerer) how soon to try a device again that is missing or failed.
    pub device_retry: Duration,
}

impl Default for CallPolicy {
    fn default() -> CallPolicy {
        CallPolicy {
            max_calls: 8,
            redial_pause: Duration::from_secs(2),
            dead_after: Duration::from_secs(12),
            device_retry: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("modem: {0}")]
    Modem(#[from] ModemError),
    #[error("the line was cut {calls} times and the sync could not finish (last: {last})")]
    GaveUp { calls: u32, last: String },
    #[error("the other side lost this sync's state (it restarted); the next sync continues")]
    CircuitLost,
    #[error(transparent)]
    Session(#[from] TcpSyncError),
}

impl SerialError {
    /// True when trying again later cannot help without someone changing something.
    pub fn is_permanent(&self) -> bool {
        match self {
            SerialError::Session(e) => e.is_permanent(),
            SerialError::Modem(ModemError::Refused(_)) => true,
            _ => false,
        }
    }
}

/// What a sync over the line did.
#[derive(Clone, Debug, Default)]
pub struct SerialReport {
    pub session: SessionReport,
    pub link: LinkStats,
    /// Connections made (calls answered, or stretches of a plain line).
    pub calls: u32,
}

/// Why one connection ended.
enum Ending {
    /// The caller's session finished and the answerer holds everything it sent.
    Finished,
    /// Cut: NO CARRIER, a silent line, or the device failed.
    Dropped(String),
    DeviceGone,
    CircuitLost,
}

/// The session's end of the pipe, as the pump sees it.
struct AppEnd {
    stream: Option<DuplexStream>,
    /// The session closed its side: it finished, or failed and went away.
    closed: bool,
}

impl AppEnd {
    fn new(stream: DuplexStream) -> AppEnd {
        AppEnd {
            stream: Some(stream),
            closed: false,
        }
    }

    fn none() -> AppEnd {
        AppEnd {
            stream: None,
            closed: true,
        }
    }
}

/// Bytes kept from the end of the previous read, to find "NO CARRIER" split across reads.
const CARRIER_TAIL: usize = 16;

/// Moves bytes between the device, the link and the session until this connection ends.
/// `on_new_circuit` gives the answerer a fresh session when a caller opens a circuit.
async fn pump<L: ModemLine>(
    line: &mut L,
    link: &mut Link,
    app: &mut AppEnd,
    watch_carrier: bool,
    dead_after: Option<Duration>,
    clock: Instant,
    on_new_circuit: &mut (dyn FnMut() -> AppEnd + Send),
) -> Ending {
    let mut deframer = Deframer::default();
    let mut read_buf = vec![0u8; 2048];
    let mut app_buf = vec![0u8; 4096];
    let mut tail: Vec<u8> = Vec::with_capacity(CARRIER_TAIL * 2);
    let millis = || clock.elapsed().as_millis() as u64;
    link.reconnect(millis());
    loop {
        let now = millis();
        while let Some(bytes) = link.poll_transmit(now) {
            if line.write_all(&bytes).await.is_err() {
                return Ending::DeviceGone;
            }
        }
        let _ = line.flush().await;
        for event in link.take_events() {
            match event {
                // The answerer moved on after its session finished, which needed everything
                // we sent: only our wait for the last acknowledgement was cut short.
                LinkEvent::CircuitLost if app.closed => return Ending::Finished,
                LinkEvent::CircuitLost => return Ending::CircuitLost,
                LinkEvent::NewCircuit(_) => *app = on_new_circuit(),
            }
        }
        let received = link.take_received();
        if !received.is_empty()
            && let Some(stream) = app.stream.as_mut()
            && stream.write_all(&received).await.is_err()
        {
            // The session is gone (it failed); what it was sent no longer matters.
            app.stream = None;
            app.closed = true;
        }
        // The session closed its side (finished, or failed and said so), the other end holds
        // all of it, and we sent the acknowledgement we owe.
        if app.closed && link.is_open() && link.all_acknowledged() && !link.ack_pending() {
            return Ending::Finished;
        }
        if let Some(dead) = dead_after
            && link.silent_for(now) > dead.as_millis() as u64
        {
            return Ending::Dropped("the line went silent".to_owned());
        }
        let wake = clock + Duration::from_millis(link.next_deadline(now));
        let take_app = !app.closed && link.unacknowledged() < 16 * 1024;
        tokio::select! {
            read = line.read(&mut read_buf) => match read {
                Ok(0) | Err(_) => return Ending::DeviceGone,
                Ok(n) => {
                    let bytes = &read_buf[..n];
                    if watch_carrier {
                        tail.extend_from_slice(bytes);
                        if tail.windows(10).any(|w| w == b"NO CARRIER") {
                            return Ending::Dropped("NO CARRIER".to_owned());
                        }
                        let keep = tail.len().saturating_sub(CARRIER_TAIL);
                        tail.drain(..keep);
                    }
                    let damaged = deframer.damaged_frames;
                    let frames = deframer.push(bytes);
                    link.stats.wire_bytes_received += n as u64;
                    link.stats.frames_damaged += deframer.damaged_frames - damaged;
                    link.receive(millis(), frames);
                }
            },
            read = async {
                match app.stream.as_mut() {
                    Some(stream) => stream.read(&mut app_buf).await,
                    None => std::future::pending().await,
                }
            }, if take_app => match read {
                Ok(0) | Err(_) => app.closed = true,
                Ok(n) => link.send(&app_buf[..n]),
            },
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// A session running on its own task; it hands the session back for its ticket and peer.
type SessionTask = JoinHandle<(SecureSession, Result<SessionReport, TcpSyncError>)>;

/// Starts a session on one end of a new pipe; the other end is the pump's.
fn start_session(session: SecureSession, store: Arc<Mutex<Store>>) -> (AppEnd, SessionTask) {
    let (mut session_end, pump_end) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(async move {
        let mut session = session;
        // The link notices a dead line; this only stops a session whose peer stalls forever.
        let result = drive(
            &mut session_end,
            &mut session,
            &store,
            Duration::from_secs(15 * 60),
        )
        .await;
        (session, result)
    });
    (AppEnd::new(pump_end), task)
}

/// Session options for a line of this speed: the pacer starts from the line's rate, and
/// batches may take 8 s of line time instead of 2.5 s. A dropped call no longer costs the
/// batch in flight (the link resumes it), so larger batches only buy better compression and
/// fewer acknowledgement waits; a restart mid-batch still loses at most those 8 s.
fn options_for(line: &SerialLine, options: &SessionOptions) -> SessionOptions {
    SessionOptions {
        link_rate: Some(u64::from(line.shape().bytes_per_second) * 9 / 10),
        batch_millis: options.batch_millis.max(8_000),
        ..options.clone()
    }
}

/// Opens the device and, with a modem, sets it up; each try is one call's start.
async fn connect(
    line: &SerialLine,
    dial: Option<&str>,
) -> Result<(tokio_serial::SerialStream, ModemText), SerialError> {
    let mut port = port::open(&line.device)?;
    let mut text = ModemText::default();
    if let Some(settings) = &line.modem {
        modem::set_up(&mut port, &mut text, settings).await?;
        if let Some(number) = dial {
            modem::dial(&mut port, &mut text, number, settings).await?;
        }
    }
    Ok((port, text))
}

/// Hangs up a modem call (best effort: the modem may have dropped it already); a plain line
/// has no call to end.
async fn end_call<L: ModemLine>(line: &SerialLine, port: &mut L, text: &mut ModemText) {
    if let Some(settings) = &line.modem {
        let _ = modem::hang_up(port, text, settings).await;
    }
}

/// Whether a call that failed to connect may succeed if dialled again soon.
fn worth_redialling(error: &SerialError) -> bool {
    matches!(
        error,
        SerialError::Modem(
            ModemError::Busy
                | ModemError::NoCarrier
                | ModemError::NoAnswer
                | ModemError::ConnectTimeout(_)
        )
    )
}

/// Calls the other side (dialling `dial` on a modem line) and runs one sync session as the
/// initiator, redialling after cuts until it finishes or [`CallPolicy::max_calls`] is spent.
pub async fn sync_over_serial(
    line: &SerialLine,
    dial: Option<&str>,
    store: Arc<Mutex<Store>>,
    tickets: &Tickets,
    options: SessionOptions,
    policy: &CallPolicy,
) -> Result<SerialReport, SerialError> {
    let key = line.address();
    let trust = load_trust(&store)?;
    let options = options_for(line, &options);
    let session = match tickets.held_for(&key, trust.now) {
        Some(ticket) => {
            SecureSession::resume(trust, options, ticket).map_err(TcpSyncError::from)?
        }
        None => SecureSession::initiate(&*lock(&store)?, Purpose::Sync, trust, options)
            .map_err(TcpSyncError::from)?,
    };
    let (mut app, task) = start_session(session, store.clone());
    let mut link = Link::call(line.shape());
    let clock = Instant::now();
    let mut calls = 0u32;
    let mut pause = policy.redial_pause;
    let mut last = String::new();
    // Why the last call could not even start, when that is how the last call ended.
    let mut last_connect_error: Option<SerialError> = None;
    let ending = loop {
        if calls >= policy.max_calls {
            break Err(match last_connect_error.take() {
                Some(error) => error,
                None => SerialError::GaveUp {
                    calls,
                    last: last.clone(),
                },
            });
        }
        calls += 1;
        let (mut port, mut text) = match connect(line, dial).await {
            Ok(connected) => {
                last_connect_error = None;
                connected
            }
            // A busy number or a call nobody took may work a moment later (the hub's one
            // modem serves every commune); a missing device or a dead phone line will not,
            // so a first call says why at once.
            Err(e) if calls == 1 && !worth_redialling(&e) => break Err(e),
            Err(e) => {
                last = e.to_string();
                last_connect_error = Some(e);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let dead_after = Some(policy.dead_after);
        let connections = link.stats.connections;
        let ending = pump(
            &mut port,
            &mut link,
            &mut app,
            line.modem.is_some(),
            dead_after,
            clock,
            &mut || AppEnd::none(),
        )
        .await;
        // A call that got through and moved data was a working line, not a busy number:
        // the next redial waits the short pause again instead of a doubled one.
        if link.stats.connections > connections {
            pause = policy.redial_pause;
        }
        end_call(line, &mut port, &mut text).await;
        drop(port);
        match ending {
            Ending::Finished => break Ok(()),
            Ending::CircuitLost => break Err(SerialError::CircuitLost),
            Ending::Dropped(why) => last = why,
            Ending::DeviceGone => {
                let gone = PortError::Gone {
                    path: line.device.path.clone(),
                };
                // Unplugged, not just a bad read: say so now instead of redialling a device
                // that is not there for a minute and a half.
                if !line.device.path.exists() {
                    break Err(gone.into());
                }
                last = gone.to_string();
            }
        }
        if line.modem.is_some() {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    };
    // The pump is done with the pipe: a session still waiting sees it close.
    drop(app);
    let (session, result) = task
        .await
        .map_err(|_| SerialError::Session(TcpSyncError::Closed))?;
    match session.ticket() {
        Some(ticket) => tickets.hold(&key, ticket),
        None if session.ticket_refused() => tickets.forget(&key),
        None => {}
    }
    if let Err(TcpSyncError::Secure(error)) = &result {
        note_refusal(&store, &key, &session, error);
    }
    // The session's own error says more than the line's (a refused peer, a bad frame).
    // When the line failed, the session only saw its pipe close.
    let report = match (result, ending) {
        (Ok(report), _) => report,
        (Err(e), Ok(())) => return Err(e.into()),
        (Err(TcpSyncError::Closed | TcpSyncError::Io(_)), Err(line_error)) => {
            return Err(line_error);
        }
        (Err(e), Err(_)) => return Err(e.into()),
    };
    Ok(SerialReport {
        session: report,
        link: link.stats,
        calls,
    })
}

/// What the answering side reports about each session.
pub type OnSerialSession = Arc<dyn Fn(String, Result<SerialReport, SerialError>) + Send + Sync>;

/// Answers calls on `line` for as long as `shutdown` has not resolved: a responder session for
/// each circuit a caller opens, resumed across that caller's redials. Device trouble is
/// reported through `on_session` and retried after [`CallPolicy::device_retry`] (an adapter
/// may be plugged in later).
pub async fn answer_calls(
    line: SerialLine,
    store: Arc<Mutex<Store>>,
    tickets: Arc<Tickets>,
    options: SessionOptions,
    policy: CallPolicy,
    on_session: OnSerialSession,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let key = line.address();
    let options = options_for(&line, &options);
    let mut link = Link::answer(line.shape());
    let clock = Instant::now();
    let mut app = AppEnd::none();
    let mut running: Option<SessionTask> = None;
    // The session on the current circuit ended and was reported.
    let mut reported = false;
    let mut calls = 0u32;
    loop {
        let answered = async {
            let (mut port, mut text) = connect(&line, None).await?;
            if let Some(settings) = &line.modem {
                // Ring after ring, until a call connects.
                while !modem::answer(
                    &mut port,
                    &mut text,
                    settings,
                    Instant::now() + Duration::from_secs(3600),
                )
                .await?
                {}
            }
            Ok::<_, SerialError>((port, text))
        };
        let connected = tokio::select! {
            connected = answered => connected,
            () = &mut shutdown => return,
        };
        let (mut port, mut text) = match connected {
            Ok(connected) => connected,
            Err(error) => {
                on_session(key.clone(), Err(error));
                tokio::select! {
                    () = tokio::time::sleep(policy.device_retry) => continue,
                    () = &mut shutdown => return,
                }
            }
        };
        calls += 1;
        let dead_after = Some(policy.dead_after);
        // One connection: sessions may finish on it and the next caller's circuit start
        // (a plain line is one endless connection).
        let ending = loop {
            let mut new_session = || {
                // A new circuit ends whatever conversation ran before on this line.
                if let Some(old) = running.take() {
                    old.abort();
                }
                reported = false;
                let started = load_trust(&store).and_then(|trust| {
                    let guard = lock(&store)?;
                    Ok(SecureSession::respond(&guard, trust, options.clone())?
                        .with_tickets(tickets.clone()))
                });
                match started {
                    Ok(session) => {
                        let (end, task) = start_session(session, store.clone());
                        running = Some(task);
                        end
                    }
                    Err(error) => {
                        on_session(key.clone(), Err(error.into()));
                        AppEnd::none()
                    }
                }
            };
            let ending = tokio::select! {
                ending = pump(
                    &mut port,
                    &mut link,
                    &mut app,
                    line.modem.is_some(),
                    dead_after,
                    clock,
                    &mut new_session,
                ) => ending,
                () = &mut shutdown => {
                    end_call(&line, &mut port, &mut text).await;
                    return;
                }
            };
            // A session that is over is reported. A cut mid-way waits for the caller's
            // redial, which resumes the circuit.
            if let Some(task) = running.take_if(|task| task.is_finished()) {
                reported = true;
                if let Ok((session, result)) = task.await {
                    if let Err(TcpSyncError::Secure(error)) = &result {
                        note_refusal(&store, &key, &session, error);
                    }
                    let report = result.map(|session| SerialReport {
                        session,
                        link: link.stats,
                        calls,
                    });
                    on_session(key.clone(), report.map_err(SerialError::from));
                }
            }
            // The circuit is over once its session ended and the caller holds everything the
            // session said. Until then the caller needs the rest, and a redial resumes the
            // circuit to deliver it: forgetting it here left the caller waiting for bytes
            // no one would send, call after call.
            if reported && app.closed && link.all_acknowledged() {
                reported = false;
                app = AppEnd::none();
                link = Link::answer(line.shape());
                calls = 1;
            }
            match ending {
                // The caller hangs up a modem call; a plain line just goes on.
                Ending::Finished => {}
                Ending::Dropped(_) if line.modem.is_none() => {}
                other => break other,
            }
        };
        end_call(&line, &mut port, &mut text).await;
        drop(port);
        if matches!(ending, Ending::DeviceGone) {
            tokio::select! {
                () = tokio::time::sleep(policy.device_retry) => {}
                () = &mut shutdown => return,
            }
        }
    }
}
