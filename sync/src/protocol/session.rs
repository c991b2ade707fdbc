//! The sans-I/O sync session: bytes in, bytes out, decisions in between.
//!
//! A session is symmetric once both HELLOs are exchanged: each side sends what the other lacks
//! (judged from the knowledge in the peer's HELLO and filtered by the caller's
//! [`ScopePolicy`]), in numbered batches, and acknowledges each batch it received once that
//! batch is durable. The initiator speaks first; the responder answers after it knows who is
//! asking, so its HELLO only names scopes that peer may have.
//!
//! Resumption needs no state: a new session after a cut starts from each side's current
//! knowledge, which already counts every batch that was applied, so nothing acknowledged is
//! sent again.
//!
//! Batches are sized to the link by a [`Pacer`]: small on a slow line, so every cut keeps
//! what was acknowledged before it, large on a LAN. The pacer needs the time, which the
//! transport passes in ([`Session::note_time`]).
//!
//! The session never touches a socket or reads a clock. Timeouts and retries belong to
//! transports.

use std::collections::VecDeque;
use std::sync::Arc;

use super::pacing::Pacer;
use super::policy::{ScopePolicy, ScopeSet};
use super::wire::{self, ErrorCode, Hello, Message, WireError};
use crate::identity::DeviceId;
use crate::store::{ApplyReport, Knowledge, OutgoingPlan, Store, StoreError};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// Dialled out; speaks first.
    Initiator,
    /// Accepted a connection; answers.
    Responder,
}

#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// At most how many bytes of changes go into one batch (before compression). The pacer
    /// makes batches smaller on a slow link so a cut loses less.
    pub batch_bytes: usize,
    /// How many batches may be unacknowledged at once.
    pub window: u64,
    /// How long one batch should take on the wire, once the link's rate is known.
    pub batch_millis: u64,
    /// The link's rate in wire bytes per second, when the transport knows it (a serial line's
    /// baud rate) or measured it (the handshake); the pacer starts from it.
    pub link_rate: Option<u64>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            batch_bytes: 256 * 1024,
            window: 4,
            batch_millis: 2500,
            link_rate: None,
        }
    }
}

/// What a finished (or failed) session did.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct SessionReport {
    pub peer: Option<DeviceId>,
    pub batches_sent: u64,
    pub changes_sent: usize,
    pub batches_received: u64,
    pub received: ApplyReport,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Bytes of the authenticated handshake (both directions), when the session ran inside
    /// one ([`super::secure`]).
    pub handshake_bytes: u64,
    /// Batches this side sent that the peer acknowledged (durable there).
    pub batches_acked: u64,
    /// The largest and smallest batch sent, in wire bytes (0: none sent).
    pub largest_batch: u64,
    pub smallest_batch: u64,
    /// Whether shards the peer lacked entirely went as whole documents (fast link) or as
    /// single changes in feed order (slow link).
    pub whole_documents: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the peer sent invalid data: {0}")]
    Wire(#[from] WireError),
    #[error("the peer reported an error ({code:?}): {message}")]
    Peer { code: ErrorCode, message: String },
    #[error("the peer sent data in scope '{0}', which it may not send to us")]
    ScopeRefused(String),
    #[error("protocol violation: {0}")]
    Unexpected(&'static str),
    #[error("the peer has our own device id; a device cannot sync with itself")]
    SameDevice,
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl SessionError {
    /// True when repeating the session with the same peer will fail the same way.
    pub fn is_permanent(&self) -> bool {
        match self {
            SessionError::Store(e) => e.is_permanent(),
            SessionError::Wire(WireError::UnsupportedVersion(_) | WireError::BadMagic) => true,
            SessionError::ScopeRefused(_) | SessionError::SameDevice => true,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    AwaitingHello,
    Exchanging,
    Finished,
    Failed,
}

pub struct Session {
    role: Role,
    options: SessionOptions,
    policy: Arc<dyn ScopePolicy>,
    me: DeviceId,
    phase: Phase,
    inbuf: Vec<u8>,
    preamble_seen: bool,
    preamble_sent: bool,
    outbox: VecDeque<Vec<u8>>,
    peer: Option<DeviceId>,
    /// The device the encrypted handshake proved; its HELLO must name the same id.
    expected_peer: Option<DeviceId>,
    peer_scopes: ScopeSet,
    peer_hello: Knowledge,
    our_knowledge_at_plan: Knowledge,
    plan: Option<OutgoingPlan>,
    batches_sent: u64,
    batches_acked: u64,
    done_sent: bool,
    batches_received: u64,
    peer_done: Option<u64>,
    pacer: Pacer,
    report: SessionReport,
}

impl Session {
    /// Starts a session. An initiator queues its preamble and HELLO at once.
    pub fn new(
        role: Role,
        store: &Store,
        policy: Arc<dyn ScopePolicy>,
        options: SessionOptions,
    ) -> Result<Session, SessionError> {
        let pacer = Pacer::new(options.batch_bytes, options.batch_millis, options.link_rate);
        let mut session = Session {
            role,
            options,
            policy,
            me: store.device_id(),
            phase: Phase::AwaitingHello,
            inbuf: Vec::new(),
            preamble_seen: false,
            preamble_sent: false,
            outbox: VecDeque::new(),
            peer: None,
            expected_peer: None,
            peer_scopes: ScopeSet::none(),
            peer_hello: Knowledge::default(),
            our_knowledge_at_plan: Knowledge::default(),
            plan: None,
            batches_sent: 0,
            batches_acked: 0,
            done_sent: false,
            batches_received: 0,
            peer_done: None,
            pacer,
            report: SessionReport::default(),
        };
        if role == Role::Initiator {
            // The initiator does not know yet who answers; its knowledge reveals counters,
            // never document content, so it names every scope it holds.
            let knowledge = store.knowledge(|_| true)?;
            session.queue_hello(knowledge, ScopeSet::All);
        }
        Ok(session)
    }

    /// Starts a session with a peer whose identity a handshake already proved. The initiator's
    /// HELLO then names only the scopes that peer may exchange, and a HELLO from any other
    /// device id ends the session.
    pub fn for_peer(
        role: Role,
        store: &Store,
        policy: Arc<dyn ScopePolicy>,
        options: SessionOptions,
        peer: DeviceId,
    ) -> Result<Session, SessionError> {
        let scopes = policy.scopes_for(&peer);
        let mut session = Session::new(Role::Responder, store, policy, options)?;
        session.role = role;
        session.expected_peer = Some(peer);
        if role == Role::Initiator {
            let knowledge = store.knowledge(|s| scopes.allows(s))?;
            session.queue_hello(knowledge, scopes);
        }
        Ok(session)
    }

    /// Whether this session's preamble has gone out.
    pub fn preamble_sent(&self) -> bool {
        self.preamble_sent
    }

    /// Takes what is already queued for the peer (an ERROR after a failure), without planning
    /// anything new.
    pub fn take_queued(&mut self) -> Option<Vec<u8>> {
        let bytes = self.outbox.pop_front()?;
        self.preamble_sent = true;
        Some(bytes)
    }

    fn queue_hello(&mut self, knowledge: Knowledge, accepts: ScopeSet) {
        self.outbox
            .push_back(wire::preamble(wire::STREAM_MAGIC).to_vec());
        self.outbox.push_back(
            Message::Hello(Hello {
                device: self.me,
                knowledge,
                accepts,
            })
            .encode(),
        );
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Tells the session the transport's time (milliseconds from any fixed point), so batches
    /// can be sized to the link. Call before `receive` and `poll_transmit`.
    pub fn note_time(&mut self, now_millis: u64) {
        self.pacer.note_time(now_millis);
    }

    pub fn has_failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    pub fn peer(&self) -> Option<DeviceId> {
        self.peer
    }

    pub fn report(&self) -> &SessionReport {
        &self.report
    }

    /// Feeds bytes received from the transport. On error the session has failed; an ERROR
    /// frame for the peer waits in [`Session::poll_transmit`].
    pub fn receive(&mut self, store: &mut Store, bytes: &[u8]) -> Result<(), SessionError> {
        if matches!(self.phase, Phase::Failed | Phase::Finished) {
            return Ok(());
        }
        self.report.bytes_in += bytes.len() as u64;
        self.inbuf.extend_from_slice(bytes);
        match self.process(store) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.fail(&error);
                Err(error)
            }
        }
    }

    fn process(&mut self, store: &mut Store) -> Result<(), SessionError> {
        if !self.preamble_seen {
            match wire::check_preamble(&self.inbuf, wire::STREAM_MAGIC) {
                Ok(()) => {
                    self.inbuf.drain(..wire::PREAMBLE_LEN);
                    self.preamble_seen = true;
                }
                Err(WireError::Incomplete) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        loop {
            let len = match wire::check_frame(&self.inbuf) {
                Ok(len) => len,
                Err(WireError::Incomplete) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let message = Message::decode(&self.inbuf[..len])?;
            self.inbuf.drain(..len);
            self.handle(store, message)?;
            if self.phase == Phase::Finished {
                return Ok(());
            }
        }
    }

    fn handle(&mut self, store: &mut Store, message: Message) -> Result<(), SessionError> {
        match (self.phase, message) {
            (_, Message::Error { code, message }) => Err(SessionError::Peer { code, message }),
            (Phase::AwaitingHello, Message::Hello(hello)) => self.on_hello(store, hello),
            (Phase::Exchanging, Message::Batch { number, batch }) => {
                if number != self.batches_received + 1 {
                    return Err(SessionError::Unexpected("batch out of order or replayed"));
                }
                if self.peer_done.is_some() {
                    return Err(SessionError::Unexpected("batch after DONE"));
                }
                if let Some(refused) = batch
                    .shards
                    .iter()
                    .find(|s| !self.peer_scopes.allows(&s.shard.scope))
                {
                    return Err(SessionError::ScopeRefused(refused.shard.scope.to_string()));
                }
                let applied = store.apply_batch(&batch)?;
                self.report.received += applied;
                self.batches_received = number;
                self.report.batches_received = number;
                self.outbox.push_back(Message::Ack { number }.encode());
                self.check_finished(store)
            }
            (Phase::Exchanging, Message::Ack { number }) => {
                if number != self.batches_acked + 1 || number > self.batches_sent {
                    return Err(SessionError::Unexpected("acknowledgement out of order"));
                }
                self.batches_acked = number;
                self.report.batches_acked = number;
                self.pacer.acked();
                self.check_finished(store)
            }
            (Phase::Exchanging, Message::Done { batches }) => {
                if self.peer_done.is_some() || batches != self.batches_received {
                    return Err(SessionError::Unexpected(
                        "DONE does not match the batches sent",
                    ));
                }
                self.peer_done = Some(batches);
                self.check_finished(store)
            }
            _ => Err(SessionError::Unexpected("frame not valid at this point")),
        }
    }

    fn on_hello(&mut self, store: &mut Store, hello: Hello) -> Result<(), SessionError> {
        if hello.device == self.me {
            return Err(SessionError::SameDevice);
        }
        if self
            .expected_peer
            .is_some_and(|expected| expected != hello.device)
        {
            return Err(SessionError::Unexpected(
                "the HELLO names another device than the handshake proved",
            ));
        }
        self.peer = Some(hello.device);
        self.report.peer = Some(hello.device);
        self.peer_scopes = self.policy.scopes_for(&hello.device);
        let scopes = self.peer_scopes.clone();
        if self.role == Role::Responder {
            let ours = store.knowledge(|s| scopes.allows(s))?;
            self.queue_hello(ours, scopes.clone());
        }
        // Offer only what our policy gives this peer and what it said it will take: a stray
        // write in a scope the peer refuses must not block everything else we have for it.
        let offer = |s: &crate::store::Scope| scopes.allows(s) && hello.accepts.allows(s);
        self.peer_hello = hello.knowledge.restricted(offer);
        if self.expected_peer.is_some() {
            // A proven peer's word on what it holds: the status page's pending counts and the
            // next bundle for it start from here even if this session is cut.
            store.record_peer_knowledge(&hello.device, &self.peer_hello)?;
        }
        self.our_knowledge_at_plan = store.knowledge(offer)?;
        let whole_documents = self.pacer.whole_documents();
        self.report.whole_documents = whole_documents;
        self.plan = Some(store.plan_for_link(&self.peer_hello, offer, whole_documents)?);
        self.phase = Phase::Exchanging;
        Ok(())
    }

    fn check_finished(&mut self, store: &mut Store) -> Result<(), SessionError> {
        let sent_all = self.done_sent && self.batches_acked == self.batches_sent;
        let got_all = self.peer_done == Some(self.batches_received);
        if sent_all && got_all && self.phase == Phase::Exchanging {
            self.phase = Phase::Finished;
            if let Some(peer) = self.peer {
                // The peer now holds at least what it said plus everything we had to offer it.
                let mut known = self.peer_hello.clone();
                for (scope, vector) in &self.our_knowledge_at_plan.vectors {
                    let theirs = known.vectors.entry(scope.clone()).or_default();
                    for (origin, n) in vector {
                        let entry = theirs.entry(*origin).or_insert(0);
                        *entry = (*entry).max(*n);
                    }
                }
                store.record_peer_knowledge(&peer, &known)?;
            }
        }
        Ok(())
    }

    /// The next bytes to send, if any. Call until it returns `None`, after every `receive`.
    pub fn poll_transmit(&mut self, store: &mut Store) -> Result<Option<Vec<u8>>, SessionError> {
        if let Some(bytes) = self.outbox.pop_front() {
            // The preamble is always the first thing queued, so the first pop sends it.
            self.preamble_sent = true;
            self.report.bytes_out += bytes.len() as u64;
            return Ok(Some(bytes));
        }
        if self.phase != Phase::Exchanging || self.done_sent {
            return Ok(None);
        }
        if self.batches_sent - self.batches_acked >= self.options.window {
            return Ok(None);
        }
        let Some(plan) = self.plan.as_mut() else {
            return Ok(None);
        };
        let next = match store.next_batch(plan, self.pacer.batch_bytes()) {
            Ok(next) => next,
            Err(error) => {
                let error = SessionError::Store(error);
                self.fail(&error);
                return Err(error);
            }
        };
        let bytes = match next {
            Some(batch) => {
                self.batches_sent += 1;
                self.report.batches_sent = self.batches_sent;
                self.report.changes_sent += batch.change_count();
                let raw = batch.raw_size();
                let bytes = Message::Batch {
                    number: self.batches_sent,
                    batch,
                }
                .encode();
                self.pacer.sent(raw, bytes.len());
                let wire = bytes.len() as u64;
                self.report.largest_batch = self.report.largest_batch.max(wire);
                self.report.smallest_batch = match self.report.smallest_batch {
                    0 => wire,
                    n => n.min(wire),
                };
                bytes
            }
            None => {
                self.done_sent = true;
                let done = Message::Done {
                    batches: self.batches_sent,
                }
                .encode();
                if let Err(error) = self.check_finished(store) {
                    self.fail(&error);
                    return Err(error);
                }
                done
            }
        };
        self.report.bytes_out += bytes.len() as u64;
        Ok(Some(bytes))
    }

    fn fail(&mut self, error: &SessionError) {
        if self.phase == Phase::Failed {
            return;
        }
        self.phase = Phase::Failed;
        self.outbox.clear();
        // A peer that sent us an ERROR needs none back.
        if !matches!(error, SessionError::Peer { .. }) {
            let code = match error {
                SessionError::Wire(WireError::UnsupportedVersion(_)) => ErrorCode::Version,
                SessionError::Wire(_) => ErrorCode::Malformed,
                SessionError::ScopeRefused(_) => ErrorCode::ScopeRefused,
                SessionError::Unexpected(_) | SessionError::SameDevice => ErrorCode::Unexpected,
                _ => ErrorCode::Internal,
            };
            // The peer can only read our ERROR after our preamble.
            if !self.preamble_sent {
                self.outbox
                    .push_back(wire::preamble(wire::STREAM_MAGIC).to_vec());
            }
            self.outbox.push_back(
                Message::Error {
                    code,
                    message: error.to_string(),
                }
                .encode(),
            );
        }
    }
}
