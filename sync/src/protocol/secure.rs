//! Authenticated, encrypted sessions (protocol version 2): a Noise XX handshake that proves
//! both devices' keys and carries their certificate chains, then every byte of the sync
//! session (or of an enrolment) encrypted.
//!
//! Why XX: neither side needs to know the other's key in advance (a new appliance meets its
//! hub; a laptop meets whoever is on the hotspot), both static keys are proven, and each side's
//! certificate travels encrypted inside the handshake — 1.5 round trips and under a kilobyte
//! with two-certificate chains, which a 9600-baud line carries in about a second. The static key
//! is the device's Ed25519 key in its X25519 form (`to_scalar_bytes` / `to_montgomery`), so a
//! device has one key, its certificate names that key, and the handshake proves it.
//!
//! Stream: `"TSYN" 0x02`, then records of `length u16 LE | bytes`: three handshake messages
//! (the first carries one plaintext byte, the purpose: sync or enrol), then transport messages
//! of at most 65,535 bytes, each a ChaCha20-Poly1305 ciphertext of a piece of the inner stream.
//! The inner stream of a sync is the version-1 session ([`super::session`]); of an enrolment,
//! one request and one grant frame. `sync/PROTOCOL.md` §5–§6 has the bytes.
//!
//! Like the session, this is sans-I/O: bytes in, bytes out; the caller passes the time.

use std::collections::VecDeque;
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use snow::{HandshakeState, TransportState};

use super::policy::{PeerScopes, ScopePolicy, ScopeSet};
use super::resume::{TICKET_ID_LEN, Ticket, Tickets};
use super::session::{Role, Session, SessionError, SessionOptions, SessionReport};
use super::wire::{self, ErrorCode, Message, WireError};
use crate::identity::DeviceId;
use crate::store::{Store, StoreError};
use crate::trust::cert::Chain;
use crate::trust::enrol::{EnrolmentCode, proofs_equal};
use crate::trust::verify::{Membership, TrustAnchor, TrustError, shared_scopes};
use crate::trust::{self, Grant};

pub const NOISE_PARAMS: &str = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
/// The short handshake of a resumed session ([`super::resume`]).
pub const RESUME_PARAMS: &str = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s";
const PROLOGUE: &[u8] = b"tusach-sync-v2";
const MAX_RECORD: usize = 65535;
const TAG_LEN: usize = 16;
const MAX_PLAINTEXT: usize = MAX_RECORD - TAG_LEN;

const PURPOSE_SYNC: u8 = 1;
const PURPOSE_ENROL: u8 = 2;

/// A first record of `'R' | ticket id | NNpsk0 message 1` asks to resume. Its length tells it
/// from a full handshake's first message, which is always 33 bytes (an ephemeral key and the
/// purpose byte in the clear).
const RESUME_MARK: u8 = b'R';
const RESUME_REQUEST_LEN: usize = 1 + TICKET_ID_LEN + 32 + 1 + TAG_LEN;
/// The responder's answer to a ticket it does not know (or no longer trusts): one record of
/// this byte, after which the initiator starts a full handshake on the same connection.
const UNKNOWN_TICKET: u8 = b'U';

/// What a connection is for.
#[derive(Clone, Debug)]
pub enum Purpose {
    /// Exchange data with a member.
    Sync,
    /// Join the network with a one-time code shown by the hub.
    Enrol(EnrolmentCode),
}

/// What this device brings to a handshake and trusts in its peer, read from the store by the
/// transport just before the connection (see [`trust::LinkTrust::load`]).
#[derive(Clone, Debug)]
pub struct LinkTrust {
    pub anchor: TrustAnchor,
    /// This device's own chain; empty when not enrolled.
    pub chain: Chain,
    /// The scopes this device may hold (its certificate's).
    pub scopes: ScopeSet,
    /// Unix seconds, for expiry.
    pub now: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SecureError {
    #[error("the peer sent invalid data: {0}")]
    Wire(#[from] WireError),
    #[error(
        "the peer speaks sync protocol version {0} and this device speaks 2: update the older tusach"
    )]
    OldPeer(u8),
    #[error("the encrypted handshake failed: {0}")]
    Handshake(String),
    #[error("this device is not enrolled in a network: join one with `tusach network join`")]
    NotEnrolled,
    #[error("the peer is not a member of this network: {0}")]
    NotMember(#[from] TrustError),
    #[error("the enrolment code is wrong, used or expired")]
    BadCode,
    #[error("the enrolment failed: {0}")]
    Enrol(&'static str),
    #[error("the peer refused us: {0}")]
    Refused(String),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl SecureError {
    /// True when trying the same peer again cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            SecureError::Session(e) => e.is_permanent(),
            SecureError::Store(e) => e.is_permanent(),
            SecureError::Wire(_) | SecureError::Handshake(_) => false,
            _ => true,
        }
    }

    /// Was this a refusal for want of trust (worth recording on the sync page)?
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            SecureError::NotMember(_)
                | SecureError::BadCode
                | SecureError::OldPeer(_)
                | SecureError::Handshake(_)
                | SecureError::Wire(_)
        )
    }
}

fn noise(e: snow::Error) -> SecureError {
    SecureError::Handshake(e.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for the next handshake message.
    Handshake,
    /// Handshake done; the inner conversation runs.
    Open,
    Finished,
    Failed,
}

/// The enrolment's inner state.
enum Enrolment {
    /// The new device, waiting for the hub's grant.
    Device(EnrolmentCode),
    /// The hub, waiting for the device's request.
    Hub,
}

/// One connection, either role, either purpose. Feed it bytes with [`SecureSession::receive`]
/// and send what [`SecureSession::poll_transmit`] gives, until it is finished or failed.
pub struct SecureSession {
    role: Role,
    trust: LinkTrust,
    options: SessionOptions,
    phase: Phase,
    handshake: Option<HandshakeState>,
    transport: Option<TransportState>,
    handshake_hash: Vec<u8>,
    messages_done: usize,
    preamble_seen: bool,
    inbuf: Vec<u8>,
    plaintext_in: Vec<u8>,
    outbox: VecDeque<Vec<u8>>,
    /// The peer's proven X25519 static key, once known.
    peer_static: Option<[u8; 32]>,
    peer: Option<Membership>,
    session: Option<Session>,
    enrolment: Option<Enrolment>,
    grant: Option<Grant>,
    handshake_bytes: u64,
    wire_in: u64,
    wire_out: u64,
    /// The transport's clock, when it tells us ([`SecureSession::note_time`]).
    now: Option<u64>,
    /// When our last handshake message went out, and its bytes: the next one in times the link.
    handshake_out: Option<(u64, u64)>,
    /// The link's rate as the handshake measured it, in bytes per second.
    link_estimate: Option<u64>,
    /// Responder: where tickets are issued and redeemed (none: every handshake is full).
    tickets: Option<Arc<Tickets>>,
    /// Initiator: the ticket this connection tries to resume with, until the answer comes.
    resuming: Option<Ticket>,
    /// Whether this session was resumed rather than fully handshaken.
    resumed: bool,
    /// The responder did not take our ticket: the caller should forget it.
    ticket_refused: bool,
    /// The session's raw split keys (sync only), from which the next ticket is derived.
    split_keys: Option<([u8; 32], [u8; 32])>,
    /// The peer's certificate chain, once verified.
    peer_chain: Option<Chain>,
}

impl SecureSession {
    /// Starts the initiator's side: queues the preamble and the first handshake message.
    pub fn initiate(
        store: &Store,
        purpose: Purpose,
        trust: LinkTrust,
        options: SessionOptions,
    ) -> Result<SecureSession, SecureError> {
        let secret = store.device_key().x25519_secret();
        let mut handshake = builder()?
            .local_private_key(&secret)
            .map_err(noise)?
            .build_initiator()
            .map_err(noise)?;
        let purpose_byte = match purpose {
            Purpose::Sync => PURPOSE_SYNC,
            Purpose::Enrol(_) => PURPOSE_ENROL,
        };
        let mut buf = vec![0u8; MAX_RECORD];
        let n = handshake
            .write_message(&[purpose_byte], &mut buf)
            .map_err(noise)?;
        let mut session = SecureSession::new(Role::Initiator, trust, options);
        session.enrolment = match &purpose {
            Purpose::Enrol(code) => Some(Enrolment::Device(code.clone())),
            Purpose::Sync => None,
        };
        session.handshake = Some(handshake);
        session.queue_raw(wire::preamble(wire::STREAM_MAGIC).to_vec(), true);
        session.queue_record(&buf[..n], true);
        session.messages_done = 1;
        Ok(session)
    }

    /// Starts the initiator's side of a sync that resumes with `ticket` (see
    /// [`super::resume`]). If the responder no longer knows the ticket, the same connection
    /// falls back to a full handshake.
    pub fn resume(
        trust: LinkTrust,
        options: SessionOptions,
        ticket: Ticket,
    ) -> Result<SecureSession, SecureError> {
        let mut handshake = resume_builder(&ticket.secret)?
            .build_initiator()
            .map_err(noise)?;
        let mut buf = vec![0u8; MAX_RECORD];
        let n = handshake
            .write_message(&[PURPOSE_SYNC], &mut buf)
            .map_err(noise)?;
        let mut record = Vec::with_capacity(RESUME_REQUEST_LEN);
        record.push(RESUME_MARK);
        record.extend_from_slice(&ticket.id);
        record.extend_from_slice(&buf[..n]);
        let mut session = SecureSession::new(Role::Initiator, trust, options);
        session.handshake = Some(handshake);
        session.resuming = Some(ticket);
        session.queue_raw(wire::preamble(wire::STREAM_MAGIC).to_vec(), true);
        session.queue_record(&record, true);
        session.messages_done = 1;
        Ok(session)
    }

    /// Lets this responder issue tickets after each sync handshake and resume sessions with
    /// them.
    pub fn with_tickets(mut self, tickets: Arc<Tickets>) -> SecureSession {
        self.tickets = Some(tickets);
        self
    }

    /// The ticket this session leaves for the next connection with the same peer: once the
    /// handshake is done and the peer proven (sync only).
    pub fn ticket(&self) -> Option<Ticket> {
        if self.enrolment.is_some() {
            return None;
        }
        let ((k1, k2), peer_static, chain) = (
            self.split_keys.as_ref()?,
            self.peer_static?,
            self.peer_chain.as_ref()?,
        );
        self.peer.as_ref()?;
        Some(Ticket::derive(
            k1,
            k2,
            peer_static,
            chain.clone(),
            self.trust.now,
        ))
    }

    /// Whether the responder refused the ticket this session offered (forget it).
    pub fn ticket_refused(&self) -> bool {
        self.ticket_refused
    }

    /// Whether this session was resumed with a ticket.
    pub fn was_resumed(&self) -> bool {
        self.resumed
    }

    /// Starts the responder's side, which waits for the initiator.
    pub fn respond(
        store: &Store,
        trust: LinkTrust,
        options: SessionOptions,
    ) -> Result<SecureSession, SecureError> {
        let secret = store.device_key().x25519_secret();
        let handshake = builder()?
            .local_private_key(&secret)
            .map_err(noise)?
            .build_responder()
            .map_err(noise)?;
        let mut session = SecureSession::new(Role::Responder, trust, options);
        session.handshake = Some(handshake);
        session.queue_raw(wire::preamble(wire::STREAM_MAGIC).to_vec(), true);
        Ok(session)
    }

    fn new(role: Role, trust: LinkTrust, options: SessionOptions) -> SecureSession {
        SecureSession {
            role,
            trust,
            options,
            phase: Phase::Handshake,
            handshake: None,
            transport: None,
            handshake_hash: Vec::new(),
            messages_done: 0,
            preamble_seen: false,
            inbuf: Vec::new(),
            plaintext_in: Vec::new(),
            outbox: VecDeque::new(),
            peer_static: None,
            peer: None,
            session: None,
            enrolment: None,
            grant: None,
            handshake_bytes: 0,
            wire_in: 0,
            wire_out: 0,
            now: None,
            handshake_out: None,
            link_estimate: None,
            tickets: None,
            resuming: None,
            resumed: false,
            ticket_refused: false,
            split_keys: None,
            peer_chain: None,
        }
    }

    /// Tells the session the transport's time (milliseconds from any fixed point). The
    /// handshake's round trip then estimates the link's rate, and the inner session sizes its
    /// batches from it (see [`super::pacing`]). A transport that never calls this gets
    /// maximal batches.
    pub fn note_time(&mut self, now_millis: u64) {
        self.now = Some(now_millis);
        if let Some(session) = self.session.as_mut() {
            session.note_time(now_millis);
        }
    }

    /// The link's rate the handshake measured (bytes per second), if the transport gave times.
    pub fn link_estimate(&self) -> Option<u64> {
        self.link_estimate
    }

    /// True once the conversation is over and everything for the peer has been taken.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished && self.outbox.is_empty()
    }

    pub fn has_failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    /// The verified peer, once the handshake has proven it a member.
    pub fn peer(&self) -> Option<&Membership> {
        self.peer.as_ref()
    }

    /// A short fingerprint of the key the peer proved (hex of the first 8 bytes of its
    /// SHA-256), for the record of refused attempts even when it showed no certificate.
    pub fn peer_fingerprint(&self) -> Option<String> {
        use sha2::{Digest, Sha256};
        self.peer_static
            .map(|key| hex::encode(&Sha256::digest(key)[..8]))
    }

    /// What an enrolment granted this device (the initiator of a finished enrolment).
    pub fn grant(&self) -> Option<&Grant> {
        self.grant.as_ref()
    }

    /// Was this connection an enrolment?
    pub fn is_enrolment(&self) -> bool {
        self.enrolment.is_some()
    }

    /// The inner session's report, with the bytes counted as they crossed the wire.
    pub fn report(&self) -> SessionReport {
        let mut report = self
            .session
            .as_ref()
            .map(|s| s.report().clone())
            .unwrap_or_default();
        report.peer = self.peer.as_ref().map(|m| m.device);
        report.bytes_in = self.wire_in;
        report.bytes_out = self.wire_out;
        report.handshake_bytes = self.handshake_bytes;
        report
    }

    fn queue_raw(&mut self, bytes: Vec<u8>, handshake: bool) {
        if handshake {
            self.handshake_bytes += bytes.len() as u64;
        }
        self.outbox.push_back(bytes);
    }

    fn queue_record(&mut self, body: &[u8], handshake: bool) {
        let mut record = Vec::with_capacity(2 + body.len());
        record.extend_from_slice(&(body.len() as u16).to_le_bytes());
        record.extend_from_slice(body);
        self.queue_raw(record, handshake);
    }

    /// Encrypts `plain` in as many records as it needs.
    fn queue_encrypted(&mut self, plain: &[u8]) -> Result<(), SecureError> {
        let Some(transport) = self.transport.as_mut() else {
            return Err(SecureError::Handshake("no keys yet".into()));
        };
        let mut records = Vec::new();
        for piece in plain.chunks(MAX_PLAINTEXT) {
            let mut buf = vec![0u8; piece.len() + TAG_LEN];
            let n = transport.write_message(piece, &mut buf).map_err(noise)?;
            buf.truncate(n);
            records.push(buf);
        }
        for record in records {
            self.queue_record(&record, false);
        }
        Ok(())
    }

    /// Feeds bytes from the transport. On error the session has failed; whatever the peer
    /// should still hear (an encrypted ERROR) waits in [`SecureSession::poll_transmit`].
    pub fn receive(&mut self, store: &mut Store, bytes: &[u8]) -> Result<(), SecureError> {
        if matches!(self.phase, Phase::Failed | Phase::Finished) {
            return Ok(());
        }
        self.wire_in += bytes.len() as u64;
        if self.phase == Phase::Handshake {
            self.handshake_bytes += bytes.len() as u64;
        }
        self.inbuf.extend_from_slice(bytes);
        match self.process(store) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.fail(&error);
                Err(error)
            }
        }
    }

    fn process(&mut self, store: &mut Store) -> Result<(), SecureError> {
        if !self.preamble_seen {
            if self.inbuf.len() >= wire::PREAMBLE_LEN
                && self.inbuf[..4] == wire::STREAM_MAGIC[..]
                && self.inbuf[4] != wire::PROTOCOL_VERSION
            {
                return Err(SecureError::OldPeer(self.inbuf[4]));
            }
            match wire::check_preamble(&self.inbuf, wire::STREAM_MAGIC) {
                Ok(()) => {
                    self.inbuf.drain(..wire::PREAMBLE_LEN);
                    self.preamble_seen = true;
                }
                Err(WireError::Incomplete) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        while self.inbuf.len() >= 2 && matches!(self.phase, Phase::Handshake | Phase::Open) {
            let len = usize::from(u16::from_le_bytes([self.inbuf[0], self.inbuf[1]]));
            if self.inbuf.len() < 2 + len {
                break;
            }
            let record: Vec<u8> = self.inbuf.drain(..2 + len).skip(2).collect();
            if self.phase == Phase::Handshake {
                self.on_handshake_message(store, &record)?;
            } else {
                let Some(transport) = self.transport.as_mut() else {
                    return Err(SecureError::Handshake("no keys yet".into()));
                };
                let mut plain = vec![0u8; record.len()];
                let n = transport
                    .read_message(&record, &mut plain)
                    .map_err(|_| SecureError::Wire(WireError::BadChecksum))?;
                plain.truncate(n);
                self.plaintext_in.extend_from_slice(&plain);
                self.on_plaintext(store)?;
            }
        }
        if self.phase == Phase::Handshake && self.inbuf.len() > 2 + MAX_RECORD {
            return Err(WireError::FrameTooLarge(self.inbuf.len()).into());
        }
        Ok(())
    }

    fn on_handshake_message(
        &mut self,
        store: &mut Store,
        message: &[u8],
    ) -> Result<(), SecureError> {
        self.note_handshake_time(message.len());
        if self.role == Role::Responder
            && self.messages_done == 0
            && !self.ticket_refused
            && message.len() == RESUME_REQUEST_LEN
            && message[0] == RESUME_MARK
        {
            return self.on_resume_request(store, message);
        }
        if self.resuming.is_some() {
            return self.on_resume_answer(store, message);
        }
        let Some(handshake) = self.handshake.as_mut() else {
            return Err(SecureError::Handshake("no handshake under way".into()));
        };
        let mut payload = vec![0u8; MAX_RECORD];
        let n = handshake
            .read_message(message, &mut payload)
            .map_err(noise)?;
        payload.truncate(n);
        self.messages_done += 1;
        if let Some(remote) = handshake.get_remote_static() {
            let mut key = [0u8; 32];
            if remote.len() == 32 {
                key.copy_from_slice(remote);
                self.peer_static = Some(key);
            }
        }
        match (self.role, self.messages_done) {
            // Responder: the initiator's first message says what it wants.
            (Role::Responder, 1) => {
                match payload.as_slice() {
                    [PURPOSE_SYNC] => {}
                    [PURPOSE_ENROL] => self.enrolment = Some(Enrolment::Hub),
                    _ => return Err(SecureError::Handshake("unknown purpose".into())),
                }
                let chain = self.trust.chain.to_bytes();
                self.write_handshake(&chain)?;
            }
            // Initiator: the responder's key and chain.
            (Role::Initiator, 2) => {
                let chain = Chain::from_bytes(&payload)?;
                // A sync: the responder must be a member before we send it any data. We still
                // finish the handshake (our chain is public), so the responder learns why it
                // is refused and records the attempt: a stranger's own attempts show on the
                // member's sync page.
                let verified = if self.enrolment.is_none() {
                    Some(self.verify_peer(&chain))
                } else {
                    None
                };
                self.peer_chain = Some(chain);
                let ours = if self.enrolment.is_some() {
                    Vec::new()
                } else {
                    self.trust.chain.to_bytes()
                };
                self.write_handshake(&ours)?;
                if let Some(verified) = verified {
                    self.peer = Some(verified?);
                }
                self.open(store)?;
            }
            // Responder: the initiator's key and chain; keys are ready.
            (Role::Responder, 3) => {
                self.split()?;
                if self.enrolment.is_none() {
                    let chain = Chain::from_bytes(&payload)?;
                    self.peer = Some(self.verify_peer(&chain)?);
                    self.peer_chain = Some(chain);
                }
                self.phase = Phase::Open;
                self.open(store)?;
                self.issue_ticket();
            }
            _ => {
                return Err(SecureError::Handshake(
                    "unexpected handshake message".into(),
                ));
            }
        }
        Ok(())
    }

    /// Our handshake message crossed, then this one came back: both at the link's rate (on a
    /// slow line the bytes dominate; on a LAN the estimate is merely large).
    fn note_handshake_time(&mut self, received: usize) {
        if let (Some(now), Some((at, out))) = (self.now, self.handshake_out.take()) {
            let bytes = out + 2 + received as u64;
            self.link_estimate = Some(bytes * 1000 / now.saturating_sub(at).max(1));
        }
    }

    /// Responder: an initiator offers a ticket. A known, fresh ticket whose peer we still trust
    /// opens the session with one short answer; any other gets [`UNKNOWN_TICKET`] and the full
    /// handshake that follows on the same connection.
    fn on_resume_request(&mut self, store: &mut Store, message: &[u8]) -> Result<(), SecureError> {
        let mut id = [0u8; TICKET_ID_LEN];
        id.copy_from_slice(&message[1..1 + TICKET_ID_LEN]);
        let noise_message = &message[1 + TICKET_ID_LEN..];
        let now = self.trust.now;
        let ticket = self.tickets.as_ref().and_then(|t| t.redeem(&id, now));
        let trusted = ticket.and_then(|ticket| {
            self.peer_static = Some(ticket.peer_static);
            match self.verify_peer(&ticket.peer_chain) {
                Ok(membership) => Some((ticket, membership)),
                Err(_) => {
                    // Revoked or expired since: this peer must show its chain again, and the
                    // full handshake will say why it is refused.
                    self.peer_static = None;
                    if let Some(tickets) = &self.tickets {
                        tickets.withdraw(&ticket.id);
                    }
                    None
                }
            }
        });
        let Some((ticket, membership)) = trusted else {
            // One offer per connection: what comes next must be a full handshake.
            self.ticket_refused = true;
            self.queue_record(&[UNKNOWN_TICKET], true);
            return Ok(());
        };
        let mut handshake = resume_builder(&ticket.secret)?
            .build_responder()
            .map_err(noise)?;
        let mut payload = vec![0u8; MAX_RECORD];
        let n = handshake
            .read_message(noise_message, &mut payload)
            .map_err(noise)?;
        if payload[..n] != [PURPOSE_SYNC] {
            return Err(SecureError::Handshake(
                "only a sync may resume a session".into(),
            ));
        }
        let mut buf = vec![0u8; MAX_RECORD];
        let n = handshake.write_message(&[], &mut buf).map_err(noise)?;
        self.handshake = Some(handshake);
        self.queue_record(&buf[..n], true);
        self.messages_done = 2;
        self.split()?;
        self.resumed = true;
        self.peer = Some(membership);
        self.peer_chain = Some(ticket.peer_chain);
        self.phase = Phase::Open;
        self.open(store)?;
        self.issue_ticket();
        Ok(())
    }

    /// Initiator: the responder's answer to our ticket: the short handshake's second message,
    /// or [`UNKNOWN_TICKET`], and then we start the full handshake here and now.
    fn on_resume_answer(&mut self, store: &mut Store, message: &[u8]) -> Result<(), SecureError> {
        let Some(ticket) = self.resuming.take() else {
            return Err(SecureError::Handshake("no resumption under way".into()));
        };
        if message == [UNKNOWN_TICKET] {
            self.ticket_refused = true;
            let secret = store.device_key().x25519_secret();
            let mut handshake = builder()?
                .local_private_key(&secret)
                .map_err(noise)?
                .build_initiator()
                .map_err(noise)?;
            let mut buf = vec![0u8; MAX_RECORD];
            let n = handshake
                .write_message(&[PURPOSE_SYNC], &mut buf)
                .map_err(noise)?;
            self.handshake = Some(handshake);
            self.queue_record(&buf[..n], true);
            self.messages_done = 1;
            return Ok(());
        }
        let Some(handshake) = self.handshake.as_mut() else {
            return Err(SecureError::Handshake("no handshake under way".into()));
        };
        let mut payload = vec![0u8; MAX_RECORD];
        let n = match handshake.read_message(message, &mut payload) {
            Ok(n) => n,
            Err(error) => {
                // Not the peer that holds this ticket (or not a resumption at all).
                self.ticket_refused = true;
                return Err(noise(error));
            }
        };
        if n != 0 {
            return Err(SecureError::Handshake(
                "unexpected payload in a resumed handshake".into(),
            ));
        }
        self.messages_done = 2;
        self.split()?;
        self.peer_static = Some(ticket.peer_static);
        match self.verify_peer(&ticket.peer_chain) {
            Ok(membership) => self.peer = Some(membership),
            Err(error) => {
                self.ticket_refused = true;
                return Err(error);
            }
        }
        self.peer_chain = Some(ticket.peer_chain);
        self.resumed = true;
        self.phase = Phase::Open;
        self.open(store)
    }

    /// Responder: keeps this session's ticket for the peer's next connection.
    fn issue_ticket(&self) {
        if let (Some(tickets), Some(ticket)) = (&self.tickets, self.ticket()) {
            tickets.issue(ticket);
        }
    }

    fn write_handshake(&mut self, payload: &[u8]) -> Result<(), SecureError> {
        let Some(handshake) = self.handshake.as_mut() else {
            return Err(SecureError::Handshake("no handshake under way".into()));
        };
        let mut buf = vec![0u8; MAX_RECORD];
        let n = handshake.write_message(payload, &mut buf).map_err(noise)?;
        self.messages_done += 1;
        let message = buf[..n].to_vec();
        self.queue_record(&message, true);
        if self.messages_done == 3 {
            self.split()?;
            self.phase = Phase::Open;
        }
        Ok(())
    }

    fn split(&mut self) -> Result<(), SecureError> {
        if let Some(mut handshake) = self.handshake.take() {
            self.handshake_hash = handshake.get_handshake_hash().to_vec();
            if self.enrolment.is_none() {
                self.split_keys = Some(handshake.dangerously_get_raw_split());
            }
            self.transport = Some(handshake.into_transport_mode().map_err(noise)?);
        }
        Ok(())
    }

    /// Checks the chain against the key the handshake proved and our network.
    fn verify_peer(&self, chain: &Chain) -> Result<Membership, SecureError> {
        if self.trust.anchor.root.is_none() {
            return Err(SecureError::NotEnrolled);
        }
        let leaf = chain.leaf().ok_or(TrustError::NoCertificate)?;
        if Some(x25519_of(&leaf.subject)?) != self.peer_static {
            return Err(TrustError::KeyMismatch.into());
        }
        Ok(self
            .trust
            .anchor
            .verify(&leaf.subject, chain, self.trust.now)?)
    }

    /// The handshake is done: start the inner conversation.
    fn open(&mut self, store: &mut Store) -> Result<(), SecureError> {
        match (&self.enrolment, self.role) {
            (None, _) => {
                let Some(peer) = self.peer.clone() else {
                    return Err(SecureError::Handshake("peer not verified".into()));
                };
                let scopes = shared_scopes(&self.trust.scopes, &peer.scopes);
                let policy: Arc<dyn ScopePolicy> = Arc::new(PeerScopes {
                    default: ScopeSet::none(),
                    peers: [(peer.device, scopes)].into_iter().collect(),
                });
                let mut options = self.options.clone();
                options.link_rate = options.link_rate.or(self.link_estimate);
                let mut session =
                    Session::for_peer(self.role, store, policy, options, peer.device)?;
                if let Some(now) = self.now {
                    session.note_time(now);
                }
                self.session = Some(session);
            }
            (Some(Enrolment::Device(code)), Role::Initiator) => {
                let key = store.device_key().public_bytes();
                let proof = code.device_proof(&self.handshake_hash, &key);
                let request = Message::EnrolRequest { key, proof }.encode();
                self.queue_encrypted(&request)?;
            }
            (Some(Enrolment::Hub), Role::Responder) => {}
            _ => return Err(SecureError::Enrol("mismatched roles")),
        }
        Ok(())
    }

    fn on_plaintext(&mut self, store: &mut Store) -> Result<(), SecureError> {
        if let Some(session) = self.session.as_mut() {
            let bytes = std::mem::take(&mut self.plaintext_in);
            session.receive(store, &bytes)?;
            if session.is_finished() {
                self.phase = Phase::Finished;
            }
            return Ok(());
        }
        loop {
            let len = match wire::check_frame(&self.plaintext_in) {
                Ok(len) => len,
                Err(WireError::Incomplete) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let message = Message::decode(&self.plaintext_in[..len])?;
            self.plaintext_in.drain(..len);
            self.on_enrol_message(store, message)?;
            if self.phase == Phase::Finished {
                return Ok(());
            }
        }
    }

    fn on_enrol_message(&mut self, store: &mut Store, message: Message) -> Result<(), SecureError> {
        match (&self.enrolment, message) {
            (_, Message::Error { code, message }) => {
                if code == ErrorCode::NotMember {
                    Err(SecureError::BadCode)
                } else {
                    Err(SecureError::Refused(message))
                }
            }
            (Some(Enrolment::Hub), Message::EnrolRequest { key, proof }) => {
                if Some(x25519_of(&key)?) != self.peer_static {
                    return Err(TrustError::KeyMismatch.into());
                }
                let grant =
                    trust::grant_for(store, &key, &proof, &self.handshake_hash, self.trust.now)?;
                let Some((grant, code)) = grant else {
                    return Err(SecureError::BadCode);
                };
                let body = grant.body();
                let proof = code.hub_proof(&self.handshake_hash, &body);
                let reply = Message::EnrolGrant { body, proof }.encode();
                self.queue_encrypted(&reply)?;
                self.phase = Phase::Finished;
                Ok(())
            }
            (Some(Enrolment::Device(code)), Message::EnrolGrant { body, proof }) => {
                if !proofs_equal(&proof, &code.hub_proof(&self.handshake_hash, &body)) {
                    return Err(SecureError::Enrol(
                        "the hub's answer does not prove it holds the same code",
                    ));
                }
                let grant = Grant::from_body(&body)?;
                trust::accept_grant(store, &grant, self.trust.now)?;
                self.grant = Some(grant);
                self.phase = Phase::Finished;
                Ok(())
            }
            _ => Err(SecureError::Enrol("unexpected message during enrolment")),
        }
    }

    /// The next bytes to send, if any. Call until it returns `None`, after every `receive`.
    pub fn poll_transmit(&mut self, store: &mut Store) -> Result<Option<Vec<u8>>, SecureError> {
        if self.outbox.is_empty()
            && matches!(self.phase, Phase::Open | Phase::Finished)
            && let Some(session) = self.session.as_mut()
        {
            let next = session.poll_transmit(store);
            let finished = session.is_finished();
            match next {
                Ok(Some(plain)) => self.queue_encrypted(&plain)?,
                Ok(None) => {}
                Err(error) => {
                    let error = SecureError::Session(error);
                    self.fail(&error);
                    return Err(error);
                }
            }
            if finished {
                self.phase = Phase::Finished;
            }
        }
        let next = self.outbox.pop_front();
        if let Some(bytes) = &next {
            self.wire_out += bytes.len() as u64;
            if self.handshake.is_some()
                && let Some(now) = self.now
            {
                let sent = self.handshake_out.map_or(0, |(_, n)| n);
                self.handshake_out = Some((now, sent + bytes.len() as u64));
            }
        }
        Ok(next)
    }

    fn fail(&mut self, error: &SecureError) {
        if self.phase == Phase::Failed {
            return;
        }
        let was_open = self.transport.is_some();
        self.phase = Phase::Failed;
        // Records already queued stay: they were encrypted in order (the peer's nonces count
        // them), and they are a handshake message or data for a verified member.
        if let SecureError::OldPeer(_) = error {
            // Our preamble is all an old peer needs to say "version 2 is not supported".
            self.outbox
                .push_back(wire::preamble(wire::STREAM_MAGIC).to_vec());
            return;
        }
        if !was_open {
            return;
        }
        // A failed inner session queued its own ERROR (after its preamble if it had not sent
        // it); send that through the cipher. Otherwise say why ourselves.
        let mut inner = Vec::new();
        if let Some(session) = self.session.as_mut() {
            while let Some(bytes) = session.take_queued() {
                inner.extend_from_slice(&bytes);
            }
        }
        if inner.is_empty() && !matches!(error, SecureError::Refused(_)) {
            let code = match error {
                SecureError::NotMember(_) | SecureError::BadCode | SecureError::NotEnrolled => {
                    ErrorCode::NotMember
                }
                _ => ErrorCode::Unexpected,
            };
            let needs_preamble = self.enrolment.is_none()
                && self.session.as_ref().is_none_or(|s| !s.preamble_sent());
            if needs_preamble {
                inner.extend_from_slice(&wire::preamble(wire::STREAM_MAGIC));
            }
            inner.extend_from_slice(
                &Message::Error {
                    code,
                    message: error.to_string(),
                }
                .encode(),
            );
        }
        if !inner.is_empty() {
            let _ = self.queue_encrypted(&inner);
        }
    }
}

/// The short handshake's builder, keyed by a ticket's secret.
fn resume_builder(secret: &[u8; 32]) -> Result<snow::Builder<'_>, SecureError> {
    let params = RESUME_PARAMS
        .parse()
        .map_err(|e: snow::Error| SecureError::Handshake(e.to_string()))?;
    snow::Builder::new(params)
        .prologue(PROLOGUE)
        .map_err(noise)?
        .psk(0, secret)
        .map_err(noise)
}

fn builder() -> Result<snow::Builder<'static>, SecureError> {
    let params = NOISE_PARAMS
        .parse()
        .map_err(|e: snow::Error| SecureError::Handshake(e.to_string()))?;
    snow::Builder::new(params).prologue(PROLOGUE).map_err(noise)
}

/// The X25519 form of an Ed25519 public key (what the handshake proves).
pub fn x25519_of(ed25519: &[u8; 32]) -> Result<[u8; 32], TrustError> {
    VerifyingKey::from_bytes(ed25519)
        .map(|key| key.to_montgomery().to_bytes())
        .map_err(|_| TrustError::KeyMismatch)
}

/// The device id a handshake's proven key belongs to, when the peer also showed its Ed25519
/// key (in a certificate).
pub fn device_of(ed25519: &[u8; 32]) -> DeviceId {
    DeviceId::from_public_key(ed25519)
}
