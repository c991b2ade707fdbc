//! The wire format, byte for byte (see `sync/PROTOCOL.md`): a stream preamble, then frames of
//! `type u8 | length u32 LE | payload | CRC-32 u32 LE`. Parsing is split into [`check_frame`]
//! (is a whole, intact frame here?) and [`Message::decode`], so a byte stream that arrives in
//! pieces — or with noise — is never half-interpreted.
//!
//! This module only converts between bytes and [`Message`]s. It holds no state and decides
//! nothing.

use std::collections::BTreeMap;

use crate::identity::DeviceId;
use crate::protocol::policy::ScopeSet;
use crate::store::{Batch, Knowledge, Payload, Scope, ShardKey, ShardPayload};

/// The first bytes of every sync stream.
pub const STREAM_MAGIC: &[u8; 4] = b"TSYN";
/// The first bytes of every bundle file.
pub const BUNDLE_MAGIC: &[u8; 4] = b"TSBN";
/// The protocol version this build speaks. Bumped on any incompatible change.
pub const PROTOCOL_VERSION: u8 = 2;
pub const PREAMBLE_LEN: usize = 5;

/// A frame payload may not exceed this; larger transfers are cut into several batches.
pub const MAX_FRAME_PAYLOAD: usize = 16 * 1024 * 1024;
/// A batch may not decompress to more than this (guards against zstd bombs).
pub const MAX_BATCH_RAW: usize = 64 * 1024 * 1024;

const FRAME_OVERHEAD: usize = 1 + 4 + 4;

pub const TYPE_HELLO: u8 = 0x01;
pub const TYPE_BATCH: u8 = 0x02;
pub const TYPE_ACK: u8 = 0x03;
pub const TYPE_DONE: u8 = 0x04;
pub const TYPE_ERROR: u8 = 0x05;
pub const TYPE_BUNDLE_HEADER: u8 = 0x10;
pub const TYPE_BUNDLE_END: u8 = 0x11;
pub const TYPE_BUNDLE_KNOWLEDGE: u8 = 0x12;
pub const TYPE_ENROL_REQUEST: u8 = 0x20;
pub const TYPE_ENROL_GRANT: u8 = 0x21;

const ACCEPTS_ALL: u8 = 0;
const ACCEPTS_ONLY: u8 = 1;

const PAYLOAD_CHANGES: u8 = 0;
const PAYLOAD_DOCUMENT: u8 = 1;

/// zstd level for batches: level 3 compresses 100 one-field edits to ~55% and costs a Pi
/// a few milliseconds per batch.
const BATCH_ZSTD_LEVEL: i32 = 3;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("more bytes are needed")]
    Incomplete,
    #[error("this is not a Tủ Sách sync stream")]
    BadMagic,
    #[error("protocol version {0} is not supported (this build speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion(u8),
    #[error("a frame failed its checksum")]
    BadChecksum,
    #[error("a frame of {0} bytes is larger than allowed")]
    FrameTooLarge(usize),
    #[error("unknown frame type {0:#04x}")]
    UnknownType(u8),
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
}

/// Something that crosses the wire.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Message {
    Hello(Hello),
    Batch {
        number: u64,
        batch: Batch,
    },
    Ack {
        number: u64,
    },
    Done {
        batches: u64,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    BundleHeader {
        from: DeviceId,
        to: DeviceId,
    },
    BundleEnd {
        batches: u64,
    },
    /// What the bundle's maker holds, right after the header: the destination learns from it
    /// what not to carry back, and a bundle without batches is a receipt.
    BundleKnowledge {
        knowledge: Knowledge,
    },
    /// A new device asks to join: its Ed25519 key and its proof of the enrolment code.
    EnrolRequest {
        key: [u8; 32],
        proof: [u8; 32],
    },
    /// The hub's answer: the grant's bytes and its proof of the same code.
    EnrolGrant {
        body: Vec<u8>,
        proof: [u8; 32],
    },
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Hello {
    pub device: DeviceId,
    pub knowledge: Knowledge,
    /// The scopes the sender will accept from the receiver. The responder knows who asks and
    /// says exactly; the initiator, not knowing yet who answers, says all (and still refuses
    /// what its own policy does not allow).
    pub accepts: ScopeSet,
}

/// Why a peer ended a session, as sent in an ERROR frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorCode {
    Version,
    Malformed,
    ScopeRefused,
    Unexpected,
    Internal,
    /// The peer is not (or no longer) a member of this network, or its enrolment code failed.
    NotMember,
    Other(u16),
}

impl ErrorCode {
    fn to_u16(self) -> u16 {
        match self {
            ErrorCode::Version => 1,
            ErrorCode::Malformed => 2,
            ErrorCode::ScopeRefused => 3,
            ErrorCode::Unexpected => 4,
            ErrorCode::Internal => 5,
            ErrorCode::NotMember => 6,
            ErrorCode::Other(n) => n,
        }
    }

    fn from_u16(n: u16) -> ErrorCode {
        match n {
            1 => ErrorCode::Version,
            2 => ErrorCode::Malformed,
            3 => ErrorCode::ScopeRefused,
            4 => ErrorCode::Unexpected,
            5 => ErrorCode::Internal,
            6 => ErrorCode::NotMember,
            other => ErrorCode::Other(other),
        }
    }
}

pub fn preamble(magic: &[u8; 4]) -> [u8; PREAMBLE_LEN] {
    let mut bytes = [0u8; PREAMBLE_LEN];
    bytes[..4].copy_from_slice(magic);
    bytes[4] = PROTOCOL_VERSION;
    bytes
}

/// Checks the 5-byte preamble at the start of a stream or file.
pub fn check_preamble(buf: &[u8], magic: &[u8; 4]) -> Result<(), WireError> {
    let available = buf.len().min(4);
    if buf[..available] != magic[..available] {
        return Err(WireError::BadMagic);
    }
    if buf.len() < PREAMBLE_LEN {
        return Err(WireError::Incomplete);
    }
    if buf[4] != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion(buf[4]));
    }
    Ok(())
}

/// Is a whole intact frame at the start of `buf`? Returns its total length.
pub fn check_frame(buf: &[u8]) -> Result<usize, WireError> {
    if buf.len() < 5 {
        return Err(WireError::Incomplete);
    }
    let len = u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if len > MAX_FRAME_PAYLOAD {
        return Err(WireError::FrameTooLarge(len));
    }
    let total = FRAME_OVERHEAD + len;
    if buf.len() < total {
        return Err(WireError::Incomplete);
    }
    let body = &buf[..5 + len];
    let crc = u32::from_le_bytes([buf[5 + len], buf[6 + len], buf[7 + len], buf[8 + len]]);
    if crc32fast::hash(body) != crc {
        return Err(WireError::BadChecksum);
    }
    Ok(total)
}

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_OVERHEAD + payload.len());
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

impl Message {
    /// Encodes the message as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        let kind = match self {
            Message::Hello(hello) => {
                p.extend_from_slice(&hello.device.0);
                put_knowledge(&mut p, &hello.knowledge);
                match &hello.accepts {
                    ScopeSet::All => p.push(ACCEPTS_ALL),
                    ScopeSet::Only(scopes) => {
                        p.push(ACCEPTS_ONLY);
                        put_varint(&mut p, scopes.len() as u64);
                        for scope in scopes {
                            put_str(&mut p, scope.as_str());
                        }
                    }
                }
                TYPE_HELLO
            }
            Message::Batch { number, batch } => {
                put_varint(&mut p, *number);
                let raw = encode_batch_body(batch);
                put_varint(&mut p, raw.len() as u64);
                // zstd cannot fail on in-memory input at a valid level; fall back to a raw
                // frame marker would complicate the format, so an empty payload is refused by
                // the decoder instead.
                let compressed = zstd::bulk::compress(&raw, BATCH_ZSTD_LEVEL).unwrap_or_default();
                p.extend_from_slice(&compressed);
                TYPE_BATCH
            }
            Message::Ack { number } => {
                put_varint(&mut p, *number);
                TYPE_ACK
            }
            Message::Done { batches } => {
                put_varint(&mut p, *batches);
                TYPE_DONE
            }
            Message::Error { code, message } => {
                p.extend_from_slice(&code.to_u16().to_le_bytes());
                put_str(&mut p, message);
                TYPE_ERROR
            }
            Message::BundleHeader { from, to } => {
                p.extend_from_slice(&from.0);
                p.extend_from_slice(&to.0);
                TYPE_BUNDLE_HEADER
            }
            Message::BundleEnd { batches } => {
                put_varint(&mut p, *batches);
                TYPE_BUNDLE_END
            }
            Message::BundleKnowledge { knowledge } => {
                put_knowledge(&mut p, knowledge);
                TYPE_BUNDLE_KNOWLEDGE
            }
            Message::EnrolRequest { key, proof } => {
                p.extend_from_slice(key);
                p.extend_from_slice(proof);
                TYPE_ENROL_REQUEST
            }
            Message::EnrolGrant { body, proof } => {
                put_bytes(&mut p, body);
                p.extend_from_slice(proof);
                TYPE_ENROL_GRANT
            }
        };
        frame(kind, &p)
    }

    /// Decodes one frame that [`check_frame`] accepted.
    pub fn decode(frame: &[u8]) -> Result<Message, WireError> {
        let total = check_frame(frame)?;
        let kind = frame[0];
        let mut r = Reader {
            buf: &frame[5..total - 4],
        };
        let message = match kind {
            TYPE_HELLO => {
                let device = r.device()?;
                let knowledge = r.knowledge()?;
                let accepts = match r.u8()? {
                    ACCEPTS_ALL => ScopeSet::All,
                    ACCEPTS_ONLY => {
                        let mut scopes = std::collections::BTreeSet::new();
                        for _ in 0..r.count()? {
                            scopes.insert(
                                Scope::new(r.string()?)
                                    .ok_or(WireError::Malformed("invalid scope"))?,
                            );
                        }
                        ScopeSet::Only(scopes)
                    }
                    _ => return Err(WireError::Malformed("unknown acceptance kind")),
                };
                Message::Hello(Hello {
                    device,
                    knowledge,
                    accepts,
                })
            }
            TYPE_BATCH => {
                let number = r.varint()?;
                let raw_len = r.varint()? as usize;
                if raw_len > MAX_BATCH_RAW {
                    return Err(WireError::FrameTooLarge(raw_len));
                }
                let compressed = r.rest();
                let raw = zstd::bulk::decompress(compressed, raw_len)
                    .map_err(|_| WireError::Malformed("batch does not decompress"))?;
                if raw.len() != raw_len {
                    return Err(WireError::Malformed("batch length mismatch"));
                }
                let batch = decode_batch_body(&raw)?;
                Message::Batch { number, batch }
            }
            TYPE_ACK => Message::Ack {
                number: r.varint()?,
            },
            TYPE_DONE => Message::Done {
                batches: r.varint()?,
            },
            TYPE_ERROR => {
                let code = ErrorCode::from_u16(r.u16()?);
                let message = r.string()?;
                Message::Error { code, message }
            }
            TYPE_BUNDLE_HEADER => Message::BundleHeader {
                from: r.device()?,
                to: r.device()?,
            },
            TYPE_BUNDLE_END => Message::BundleEnd {
                batches: r.varint()?,
            },
            TYPE_BUNDLE_KNOWLEDGE => Message::BundleKnowledge {
                knowledge: r.knowledge()?,
            },
            TYPE_ENROL_REQUEST => Message::EnrolRequest {
                key: crate::trust::cert::fixed::<32>(&mut r)?,
                proof: crate::trust::cert::fixed::<32>(&mut r)?,
            },
            TYPE_ENROL_GRANT => Message::EnrolGrant {
                body: r.bytes()?.to_vec(),
                proof: crate::trust::cert::fixed::<32>(&mut r)?,
            },
            other => return Err(WireError::UnknownType(other)),
        };
        if !r.buf.is_empty() {
            return Err(WireError::Malformed("trailing bytes in frame"));
        }
        Ok(message)
    }
}

fn encode_batch_body(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, batch.shards.len() as u64);
    for item in &batch.shards {
        put_str(&mut out, item.shard.scope.as_str());
        put_str(&mut out, &item.shard.collection);
        put_varint(&mut out, u64::from(item.shard.bucket));
        match &item.payload {
            Payload::Changes(changes) => {
                out.push(PAYLOAD_CHANGES);
                put_varint(&mut out, changes.len() as u64);
                for change in changes {
                    put_bytes(&mut out, change);
                }
            }
            Payload::Document(bytes) => {
                out.push(PAYLOAD_DOCUMENT);
                put_bytes(&mut out, bytes);
            }
        }
    }
    out
}

fn decode_batch_body(raw: &[u8]) -> Result<Batch, WireError> {
    let mut r = Reader { buf: raw };
    let count = r.count()?;
    let mut shards = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let shard = r.shard_key()?;
        let payload = match r.u8()? {
            PAYLOAD_CHANGES => {
                let n = r.count()?;
                let mut changes = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    changes.push(r.bytes()?.to_vec());
                }
                Payload::Changes(changes)
            }
            PAYLOAD_DOCUMENT => Payload::Document(r.bytes()?.to_vec()),
            _ => return Err(WireError::Malformed("unknown payload kind")),
        };
        shards.push(ShardPayload { shard, payload });
    }
    if !r.buf.is_empty() {
        return Err(WireError::Malformed("trailing bytes in batch"));
    }
    Ok(Batch { shards })
}

fn put_knowledge(out: &mut Vec<u8>, knowledge: &Knowledge) {
    put_varint(out, knowledge.vectors.len() as u64);
    for (scope, vector) in &knowledge.vectors {
        put_str(out, scope.as_str());
        put_varint(out, vector.len() as u64);
        for (origin, n) in vector {
            out.extend_from_slice(&origin.0);
            put_varint(out, *n);
        }
    }
    put_varint(out, knowledge.shards.len() as u64);
    for (shard, digest) in &knowledge.shards {
        put_str(out, shard.scope.as_str());
        put_str(out, &shard.collection);
        put_varint(out, u64::from(shard.bucket));
        out.extend_from_slice(&digest.to_le_bytes());
    }
}

pub fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError::Malformed("field runs past the end"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(WireError::Malformed("varint too long"))
    }

    /// A count of following items; each takes at least one byte, so a count larger than the
    /// bytes left is malformed (and would otherwise make us reserve memory for nothing).
    pub(crate) fn count(&mut self) -> Result<usize, WireError> {
        let n = self.varint()?;
        if n > self.buf.len() as u64 {
            return Err(WireError::Malformed("count larger than the frame"));
        }
        Ok(n as usize)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| WireError::Malformed("length"))?;
        self.take(n)
    }

    pub(crate) fn string(&mut self) -> Result<String, WireError> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| WireError::Malformed("text is not UTF-8"))
    }

    pub(crate) fn device(&mut self) -> Result<DeviceId, WireError> {
        DeviceId::from_slice(self.take(16)?).ok_or(WireError::Malformed("device id"))
    }

    fn knowledge(&mut self) -> Result<Knowledge, WireError> {
        let mut vectors = BTreeMap::new();
        for _ in 0..self.count()? {
            let scope = Scope::new(self.string()?).ok_or(WireError::Malformed("invalid scope"))?;
            let mut vector = BTreeMap::new();
            for _ in 0..self.count()? {
                let origin = self.device()?;
                vector.insert(origin, self.varint()?);
            }
            vectors.insert(scope, vector);
        }
        let mut shards = BTreeMap::new();
        for _ in 0..self.count()? {
            let shard = self.shard_key()?;
            let digest = self.take(8)?;
            let mut fixed = [0u8; 8];
            fixed.copy_from_slice(digest);
            shards.insert(shard, u64::from_le_bytes(fixed));
        }
        Ok(Knowledge { vectors, shards })
    }

    fn shard_key(&mut self) -> Result<ShardKey, WireError> {
        let scope = Scope::new(self.string()?).ok_or(WireError::Malformed("invalid scope"))?;
        let collection = self.string()?;
        let bucket = u16::try_from(self.varint()?).map_err(|_| WireError::Malformed("bucket"))?;
        let shard = ShardKey {
            scope,
            collection,
            bucket,
        };
        if !shard.is_valid() {
            return Err(WireError::Malformed("invalid shard"));
        }
        Ok(shard)
    }
}
