//! The serial line (`serve --serial`): a modem on a phone line, a radio, or a null-modem
//! cable to the district hub. The calling side tries on a schedule and when the librarian
//! presses "sync now"; the answering side (the hub) answers every call. The sync page shows
//! the last attempt, the bytes the line carried, and what went wrong in plain words.
//!
//! How bytes cross the line (frames, retransmission, dialling, resuming a dropped call) is
//! `tusach_sync::transport::serial`; this module decides when to call and keeps the status.

use std::sync::Arc;
use std::time::Duration;

use tusach_sync::SessionReport;
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::serial::{
    self, CallPolicy, ModemError, PortError, SerialError, SerialLine, SerialReport,
};
use tusach_sync::transport::tcp::TcpSyncError;

use super::retry::Backoff;
use super::{LinkKind, SyncError, SyncService};

/// Who starts calls on this line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialRole {
    /// Call the other side (dialling this number on a modem) on a schedule.
    Call { dial: Option<String> },
    /// Answer calls (the hub).
    Answer,
}

/// `serve --serial …`: the line, who calls, how often.
#[derive(Clone, Debug)]
pub struct SerialSettings {
    pub line: SerialLine,
    pub role: SerialRole,
    pub every: Duration,
}

/// What went wrong on the line, as the sync page names it (each has its sentence in
/// `web-ui/i18n/*/serial.txt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerialProblem {
    DeviceMissing,
    DeviceBusy,
    DeviceGone,
    ModemSilent,
    ModemRefused,
    Busy,
    NoDialtone,
    NoAnswer,
    NoCarrier,
    LineCut,
    PeerRestarted,
    Refused,
    Other,
}

impl SerialProblem {
    /// The stable name the JSON API and the translations use.
    pub fn code(self) -> &'static str {
        match self {
            SerialProblem::DeviceMissing => "device_missing",
            SerialProblem::DeviceBusy => "device_busy",
            SerialProblem::DeviceGone => "device_gone",
            SerialProblem::ModemSilent => "modem_silent",
            SerialProblem::ModemRefused => "modem_refused",
            SerialProblem::Busy => "busy",
            SerialProblem::NoDialtone => "no_dialtone",
            SerialProblem::NoAnswer => "no_answer",
            SerialProblem::NoCarrier => "no_carrier",
            SerialProblem::LineCut => "line_cut",
            SerialProblem::PeerRestarted => "peer_restarted",
            SerialProblem::Refused => "refused",
            SerialProblem::Other => "other",
        }
    }

    pub fn of(error: &SerialError) -> SerialProblem {
        match error {
            SerialError::Port(PortError::Missing { .. }) => SerialProblem::DeviceMissing,
            SerialError::Port(PortError::Busy { .. }) => SerialProblem::DeviceBusy,
            SerialError::Port(PortError::Gone { .. }) => SerialProblem::DeviceGone,
            SerialError::Port(PortError::Other { .. }) => SerialProblem::Other,
            SerialError::Modem(ModemError::Silent(_)) => SerialProblem::ModemSilent,
            SerialError::Modem(ModemError::Refused(_)) => SerialProblem::ModemRefused,
            SerialError::Modem(ModemError::Busy) => SerialProblem::Busy,
            SerialError::Modem(ModemError::NoDialtone) => SerialProblem::NoDialtone,
            SerialError::Modem(ModemError::NoAnswer | ModemError::ConnectTimeout(_)) => {
                SerialProblem::NoAnswer
            }
            SerialError::Modem(ModemError::NoCarrier) => SerialProblem::NoCarrier,
            SerialError::Modem(ModemError::Io(_)) => SerialProblem::DeviceGone,
            SerialError::Modem(ModemError::Unexpected(_)) => SerialProblem::Other,
            SerialError::GaveUp { .. } => SerialProblem::LineCut,
            SerialError::CircuitLost => SerialProblem::PeerRestarted,
            SerialError::Session(TcpSyncError::Secure(e)) if e.is_refusal() => {
                SerialProblem::Refused
            }
            SerialError::Session(_) => SerialProblem::Other,
        }
    }
}

/// How the last attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialOutcome {
    Synced {
        changes_sent: usize,
        new_changes: usize,
    },
    Failed {
        problem: SerialProblem,
        /// The error in the log's (English) words, for whoever fixes it.
        detail: String,
    },
}

/// The line as the sync page shows it.
#[derive(Clone, Debug)]
pub struct SerialStatus {
    pub device: String,
    pub role: SerialRole,
    /// A modem line (`false`: a plain cable or radio).
    pub modem: bool,
    pub baud: u32,
    /// Unix seconds the last attempt (or answered call) ended.
    pub last_attempt: Option<i64>,
    pub outcome: Option<SerialOutcome>,
    /// Bytes the line carried in the last attempt, framing and resends included.
    pub wire_bytes_out: u64,
    pub wire_bytes_in: u64,
    pub retransmitted_bytes: u64,
    pub calls: u32,
    /// Attempts (or answered sessions) since serve started.
    pub attempts: u64,
    /// A call is going on now.
    pub in_call: bool,
}

impl SerialStatus {
    fn new(settings: &SerialSettings) -> SerialStatus {
        SerialStatus {
            device: settings.line.device.path.display().to_string(),
            role: settings.role.clone(),
            modem: settings.line.modem.is_some(),
            baud: settings.line.device.baud,
            last_attempt: None,
            outcome: None,
            wire_bytes_out: 0,
            wire_bytes_in: 0,
            retransmitted_bytes: 0,
            calls: 0,
            attempts: 0,
            in_call: false,
        }
    }

    fn note(&mut self, now: i64, result: &Result<SerialReport, SerialError>) {
        self.last_attempt = Some(now);
        self.attempts += 1;
        self.in_call = false;
        match result {
            Ok(report) => {
                self.outcome = Some(SerialOutcome::Synced {
                    changes_sent: report.session.changes_sent,
                    new_changes: report.session.received.new_changes,
                });
                self.wire_bytes_out = report.link.wire_bytes_sent;
                self.wire_bytes_in = report.link.wire_bytes_received;
                self.retransmitted_bytes = report.link.retransmitted_bytes;
                self.calls = report.calls;
            }
            Err(error) => {
                self.outcome = Some(SerialOutcome::Failed {
                    problem: SerialProblem::of(error),
                    detail: error.to_string(),
                });
            }
        }
    }
}

impl SyncService {
    /// Calls over `line` (dialling `dial` on a modem) and runs one session as the initiator,
    /// noted as a serial session. Waits for another call on the same device to end first.
    pub async fn sync_over_serial(
        &self,
        line: &SerialLine,
        dial: Option<&str>,
    ) -> Result<SerialReport, SyncError> {
        let key = line.address();
        let guard = self.guard_for(&key);
        let _one_at_a_time = guard.lock().await;
        self.update_serial(|status| status.in_call = true);
        let result = serial::sync_over_serial(
            line,
            dial,
            self.store.clone(),
            &self.tickets,
            SessionOptions::default(),
            &CallPolicy::default(),
        )
        .await;
        self.serial_finished(key, &result);
        Ok(result?)
    }

    /// The line's status, when `serve` runs one.
    pub fn serial_status(&self) -> Option<SerialStatus> {
        self.serial.lock().ok()?.clone()
    }

    fn update_serial(&self, change: impl FnOnce(&mut SerialStatus)) {
        if let Ok(mut slot) = self.serial.lock()
            && let Some(status) = slot.as_mut()
        {
            change(status);
        }
    }

    /// Notes a finished or failed session on the line: in the status and the activity log
    /// (with the bytes the line carried, which is what a phone bill counts).
    fn serial_finished(&self, key: String, result: &Result<SerialReport, SerialError>) {
        let now = super::unix_now();
        self.update_serial(|status| status.note(now, result));
        let peer = match result {
            Ok(SerialReport {
                session: SessionReport { peer: Some(id), .. },
                ..
            }) => id.to_hex(),
            _ => key,
        };
        match result {
            Ok(report) => {
                let mut session = report.session.clone();
                session.bytes_out = report.link.wire_bytes_sent;
                session.bytes_in = report.link.wire_bytes_received;
                self.finished(peer, LinkKind::Serial, Ok(&session));
            }
            Err(error) => self.finished(peer, LinkKind::Serial, Err(error.to_string())),
        }
    }
}

/// How soon a failed call is tried again; doubles up to the schedule's interval.
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// The first call waits this long, so the web server answers before the modem dials.
const FIRST_ATTEMPT: Duration = Duration::from_secs(2);

/// Runs the line until `shutdown` resolves: calls on the schedule, or answers calls.
pub async fn run(
    service: Arc<SyncService>,
    settings: SerialSettings,
    shutdown: impl std::future::Future<Output = ()>,
) {
    if let Ok(mut slot) = service.serial.lock() {
        *slot = Some(SerialStatus::new(&settings));
    }
    match settings.role.clone() {
        SerialRole::Answer => answer(service, settings, shutdown).await,
        SerialRole::Call { dial } => call(service, settings, dial, shutdown).await,
    }
}

async fn call(
    service: Arc<SyncService>,
    settings: SerialSettings,
    dial: Option<String>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let backoff = Backoff {
        first: FIRST_RETRY.min(settings.every),
        ceiling: settings.every,
    };
    let device = settings.line.device.path.display().to_string();
    let mut failures = 0u32;
    let mut next = tokio::time::Instant::now() + FIRST_ATTEMPT;
    let mut presses = service.sync_now_presses();
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep_until(next) => {}
            Ok(()) = presses.changed() => eprintln!("sync now: calling over {device}"),
        }
        let attempt = service.sync_over_serial(&settings.line, dial.as_deref());
        let result = tokio::select! {
            result = attempt => result,
            () = &mut shutdown => return,
        };
        match result {
            Ok(report) => {
                failures = 0;
                eprintln!(
                    "synced over {device}: sent {} changes, received {} new; {} bytes out, {} in, {} calls",
                    report.session.changes_sent,
                    report.session.received.new_changes,
                    report.link.wire_bytes_sent,
                    report.link.wire_bytes_received,
                    report.calls
                );
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                eprintln!(
                    "sync over {device} failed (attempt {failures}; next in {:?}): {error}",
                    backoff.wait_after(failures)
                );
            }
        }
        next = tokio::time::Instant::now() + backoff.wait_after(failures);
    }
}

async fn answer(
    service: Arc<SyncService>,
    settings: SerialSettings,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let device = settings.line.device.path.display().to_string();
    eprintln!("answering calls on {device}");
    let noted = service.clone();
    serial::answer_calls(
        settings.line,
        service.store.clone(),
        service.tickets.clone(),
        SessionOptions::default(),
        CallPolicy::default(),
        Arc::new(move |key, result| {
            match &result {
                Ok(report) => eprintln!(
                    "answered a call on {key}: sent {} changes, received {} new",
                    report.session.changes_sent, report.session.received.new_changes
                ),
                Err(error) => eprintln!("a call on {key} failed: {error}"),
            }
            noted.serial_finished(key, &result);
        }),
        shutdown,
    )
    .await;
}
