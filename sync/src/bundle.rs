//! File bundles: everything a named device lacks, written to a file a district engineer
//! carries on a USB stick, and read back on that device.
//!
//! A bundle is the bundle preamble, a header frame (from, to), numbered batch frames in the
//! wire format of sessions, and an end frame with the batch count (`sync/PROTOCOL.md`). A
//! reader checks the whole file — checksums, order, destination, scopes — before it applies
//! anything, so a truncated or damaged bundle changes nothing. Importing a bundle twice is
//! harmless: changes already held are skipped.
//!
//! On a USB stick only **sealed** bundles travel ([`write_sealed`], [`read_sealed`]): the same
//! bytes encrypted for the destination device with a one-way Noise X message (the maker's
//! certificate chain inside) and signed with the maker's key, so a stick found in a bus carries
//! nothing readable and a bundle made by a stranger, or changed on the way, applies nothing.
//!
//! What a bundle carries is judged from what this device last learned the destination holds
//! (from every session with it, and from every bundle or receipt it signed); for a device
//! never met, everything its scopes allow.
//!
//! **Receipts.** Every bundle carries its maker's knowledge (a knowledge frame after the
//! header), so a bundle from B to A tells A what B holds, and A's next bundle for B leaves out
//! what B already has. Importing a bundle also writes a **receipt**: a sealed bundle back to
//! the maker with the importer's knowledge and no batches ([`write_sealed_receipt`]). Marks
//! are only raised from a sealed bundle whose signature and certificate chain are the peer's.

use std::io::Write;

use crate::identity::DeviceId;
use crate::protocol::policy::ScopePolicy;
use crate::protocol::wire::{self, Message, WireError};
use crate::store::{ApplyReport, Batch, Knowledge, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle file is damaged or incomplete: {0}")]
    Damaged(#[from] WireError),
    #[error("this bundle is for device {intended}, not for this device ({this})")]
    ForAnotherDevice { intended: DeviceId, this: DeviceId },
    #[error("the bundle is incomplete: {0}")]
    Incomplete(&'static str),
    #[error("the bundle holds data in scope '{0}', which its sender may not give this device")]
    ScopeRefused(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("could not write the bundle: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct BundleSummary {
    pub batches: u64,
    pub changes: usize,
    pub bytes: u64,
}

/// Writes a bundle for device `to` with what it lacks in the scopes `policy` allows it.
pub fn write_bundle(
    store: &mut Store,
    to: DeviceId,
    policy: &dyn ScopePolicy,
    batch_bytes: usize,
    out: &mut impl Write,
) -> Result<BundleSummary, BundleError> {
    write_contents(store, to, policy, Some(batch_bytes), out)
}

/// Writes a bundle: header, this device's knowledge in the scopes `policy` allows `to`, then
/// (unless `batch_bytes` is `None`, a receipt) the batches `to` lacks, then the end frame.
fn write_contents(
    store: &mut Store,
    to: DeviceId,
    policy: &dyn ScopePolicy,
    batch_bytes: Option<usize>,
    out: &mut impl Write,
) -> Result<BundleSummary, BundleError> {
    let scopes = policy.scopes_for(&to);
    let theirs = store.peer_knowledge(&to)?;
    // Counters only: the shard manifest is for a live session's resumption, and marks keep
    // counters alone.
    let ours = Knowledge {
        vectors: store.knowledge(|s| scopes.allows(s))?.vectors,
        shards: Default::default(),
    };
    let mut plan = match batch_bytes {
        Some(_) => Some(store.plan_for(&theirs, |s| scopes.allows(s))?),
        None => None,
    };
    let mut summary = BundleSummary::default();
    let mut emit = |bytes: &[u8], summary: &mut BundleSummary| -> std::io::Result<()> {
        summary.bytes += bytes.len() as u64;
        out.write_all(bytes)
    };
    emit(&wire::preamble(wire::BUNDLE_MAGIC), &mut summary)?;
    let header = Message::BundleHeader {
        from: store.device_id(),
        to,
    };
    emit(&header.encode(), &mut summary)?;
    let knowledge = Message::BundleKnowledge { knowledge: ours };
    emit(&knowledge.encode(), &mut summary)?;
    while let (Some(plan), Some(batch_bytes)) = (plan.as_mut(), batch_bytes) {
        let Some(batch) = store.next_batch(plan, batch_bytes)? else {
            break;
        };
        summary.batches += 1;
        summary.changes += batch.change_count();
        let frame = Message::Batch {
            number: summary.batches,
            batch,
        };
        emit(&frame.encode(), &mut summary)?;
    }
    let end = Message::BundleEnd {
        batches: summary.batches,
    };
    emit(&end.encode(), &mut summary)?;
    Ok(summary)
}

/// A bundle checked whole, nothing applied yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedBundle {
    pub from: DeviceId,
    pub to: DeviceId,
    /// What the maker held when it wrote the bundle (bundles before receipts carry none).
    pub knowledge: Option<Knowledge>,
    pub batches: Vec<Batch>,
}

/// Checks a whole bundle and returns its sender and batches, applying nothing.
pub fn parse_bundle(bytes: &[u8]) -> Result<ParsedBundle, BundleError> {
    wire::check_preamble(bytes, wire::BUNDLE_MAGIC).map_err(|e| match e {
        WireError::Incomplete => BundleError::Incomplete("the file ends inside its preamble"),
        other => BundleError::Damaged(other),
    })?;
    let mut rest = &bytes[wire::PREAMBLE_LEN..];
    let mut header = None;
    let mut knowledge = None;
    let mut batches = Vec::new();
    let mut end = None;
    while !rest.is_empty() {
        let len = wire::check_frame(rest).map_err(|e| match e {
            WireError::Incomplete => BundleError::Incomplete("the file ends inside a frame"),
            other => BundleError::Damaged(other),
        })?;
        let message = Message::decode(&rest[..len])?;
        rest = &rest[len..];
        match (message, &header, &end) {
            (Message::BundleHeader { from, to }, None, None) => header = Some((from, to)),
            (Message::BundleKnowledge { knowledge: k }, Some(_), None)
                if knowledge.is_none() && batches.is_empty() =>
            {
                knowledge = Some(k)
            }
            (Message::Batch { number, batch }, Some(_), None)
                if number == batches.len() as u64 + 1 =>
            {
                batches.push(batch)
            }
            (Message::BundleEnd { batches: count }, Some(_), None)
                if count == batches.len() as u64 =>
            {
                end = Some(count)
            }
            _ => {
                return Err(BundleError::Damaged(WireError::Malformed(
                    "frames out of order",
                )));
            }
        }
    }
    let (from, to) = header.ok_or(BundleError::Incomplete("the file has no header"))?;
    if end.is_none() {
        return Err(BundleError::Incomplete(
            "the file ends before its last batch",
        ));
    }
    Ok(ParsedBundle {
        from,
        to,
        knowledge,
        batches,
    })
}

/// Checks a bundle completely, then merges it into the store.
pub fn read_bundle(
    store: &mut Store,
    bytes: &[u8],
    policy: &dyn ScopePolicy,
) -> Result<ApplyReport, BundleError> {
    let ParsedBundle {
        from, to, batches, ..
    } = parse_bundle(bytes)?;
    let this = store.device_id();
    if to != this {
        return Err(BundleError::ForAnotherDevice { intended: to, this });
    }
    let scopes = policy.scopes_for(&from);
    for batch in &batches {
        if let Some(refused) = batch.shards.iter().find(|s| !scopes.allows(&s.shard.scope)) {
            return Err(BundleError::ScopeRefused(refused.shard.scope.to_string()));
        }
    }
    let mut report = ApplyReport::default();
    for batch in &batches {
        report += store.apply_batch(batch)?;
    }
    Ok(report)
}

// ---- Sealed bundles: signed by their maker, encrypted for their destination ----

/// The Noise pattern of a sealed bundle: one message from maker to destination, whose static
/// key the maker knows from the destination's published certificate (X), carrying the maker's
/// static key and certificate chain encrypted.
pub const SEALED_NOISE_PARAMS: &str = "Noise_X_25519_ChaChaPoly_BLAKE2s";
const SEALED_PROLOGUE: &[u8] = b"tusach-bundle-v2";
const RECORD_DATA: u8 = 0;
const RECORD_SIGNATURE: u8 = 1;
const SEALED_PIECE: usize = 65_535 - 16 - 1;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no certificate of device {0} is known here; sync with the hub first")]
    UnknownDestination(DeviceId),
    #[error("device {0} is not a valid member of this network: {1}")]
    DestinationNotMember(DeviceId, crate::trust::TrustError),
    #[error("the bundle's maker is not a member of this network: {0}")]
    MakerNotMember(crate::trust::TrustError),
    #[error("the bundle cannot be opened here: it is damaged or meant for another device")]
    CannotOpen,
    #[error("the bundle's signature is not its maker's")]
    BadSignature,
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("encryption: {0}")]
    Crypto(String),
}

impl From<StoreError> for SealError {
    fn from(e: StoreError) -> SealError {
        SealError::Bundle(BundleError::Store(e))
    }
}

fn crypto(e: snow::Error) -> SealError {
    SealError::Crypto(e.to_string())
}

fn sealed_builder() -> Result<snow::Builder<'static>, SealError> {
    let params = SEALED_NOISE_PARAMS
        .parse()
        .map_err(|e: snow::Error| SealError::Crypto(e.to_string()))?;
    snow::Builder::new(params)
        .prologue(SEALED_PROLOGUE)
        .map_err(crypto)
}

fn put_record(out: &mut Vec<u8>, record: &[u8]) {
    out.extend_from_slice(&(record.len() as u16).to_le_bytes());
    out.extend_from_slice(record);
}

/// Writes what member `to` lacks, in the scopes we share with it, as a sealed bundle: the
/// inner bundle (above) encrypted for `to` and signed with this device's key.
pub fn write_sealed(
    store: &mut Store,
    to: DeviceId,
    trust: &crate::protocol::secure::LinkTrust,
    batch_bytes: usize,
    out: &mut impl Write,
) -> Result<BundleSummary, SealError> {
    seal(store, to, trust, Some(batch_bytes), out)
}

/// Writes a receipt for member `to`: a sealed bundle with this device's knowledge and no
/// batches. Importing it tells `to` what this device holds, so its next bundle carries only
/// what is new.
pub fn write_sealed_receipt(
    store: &mut Store,
    to: DeviceId,
    trust: &crate::protocol::secure::LinkTrust,
    out: &mut impl Write,
) -> Result<BundleSummary, SealError> {
    seal(store, to, trust, None, out)
}

fn seal(
    store: &mut Store,
    to: DeviceId,
    trust: &crate::protocol::secure::LinkTrust,
    batch_bytes: Option<usize>,
    out: &mut impl Write,
) -> Result<BundleSummary, SealError> {
    use ed25519_dalek::Signer;
    use sha2::{Digest, Sha256};
    let chain =
        crate::trust::published_chain(store, &to)?.ok_or(SealError::UnknownDestination(to))?;
    let leaf = chain.leaf().ok_or(SealError::UnknownDestination(to))?;
    let member = trust
        .anchor
        .verify(&leaf.subject, &chain, trust.now)
        .map_err(|e| SealError::DestinationNotMember(to, e))?;
    let scopes = crate::trust::verify::shared_scopes(&trust.scopes, &member.scopes);
    let policy = crate::protocol::policy::PeerScopes {
        default: crate::protocol::policy::ScopeSet::none(),
        peers: [(to, scopes)].into_iter().collect(),
    };
    let mut inner = Vec::new();
    let mut summary = write_contents(store, to, &policy, batch_bytes, &mut inner)?;
    let remote = crate::protocol::secure::x25519_of(&leaf.subject)
        .map_err(|e| SealError::DestinationNotMember(to, e))?;
    let secret = store.device_key().x25519_secret();
    let mut noise = sealed_builder()?
        .local_private_key(&secret)
        .map_err(crypto)?
        .remote_public_key(&remote)
        .map_err(crypto)?
        .build_initiator()
        .map_err(crypto)?;
    let mut file = wire::preamble(wire::BUNDLE_MAGIC).to_vec();
    let mut buf = vec![0u8; 65_535];
    let n = noise
        .write_message(&trust.chain.to_bytes(), &mut buf)
        .map_err(crypto)?;
    put_record(&mut file, &buf[..n]);
    let mut transport = noise.into_transport_mode().map_err(crypto)?;
    let mut seal = |kind: u8, piece: &[u8], file: &mut Vec<u8>| -> Result<(), SealError> {
        let mut plain = Vec::with_capacity(piece.len() + 1);
        plain.push(kind);
        plain.extend_from_slice(piece);
        let n = transport.write_message(&plain, &mut buf).map_err(crypto)?;
        put_record(file, &buf[..n]);
        Ok(())
    };
    for piece in inner.chunks(SEALED_PIECE) {
        seal(RECORD_DATA, piece, &mut file)?;
    }
    let digest = Sha256::digest(&inner);
    let signature = store.device_key().signing_key().sign(&digest).to_bytes();
    seal(RECORD_SIGNATURE, &signature, &mut file)?;
    out.write_all(&file).map_err(BundleError::Io)?;
    summary.bytes = file.len() as u64;
    Ok(summary)
}

/// What opening a sealed bundle found.
#[derive(Clone, Debug)]
pub struct OpenedBundle {
    pub maker: crate::trust::Membership,
    pub report: ApplyReport,
    /// Batches it carried; none means it was a receipt.
    pub batches: u64,
    /// Whether it told us what its maker holds (and the maker's marks were raised).
    pub carried_knowledge: bool,
}

/// Opens a sealed bundle made for this device: decrypts and checks all of it — the maker's
/// membership, its signature, every frame, the destination and the scopes — before anything
/// is applied.
pub fn read_sealed(
    store: &mut Store,
    bytes: &[u8],
    trust: &crate::protocol::secure::LinkTrust,
) -> Result<OpenedBundle, SealError> {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    use sha2::{Digest, Sha256};
    wire::check_preamble(bytes, wire::BUNDLE_MAGIC).map_err(|e| {
        SealError::Bundle(match e {
            WireError::Incomplete => BundleError::Incomplete("the file ends inside its preamble"),
            other => BundleError::Damaged(other),
        })
    })?;
    let mut rest = &bytes[wire::PREAMBLE_LEN..];
    let mut next_record = || -> Option<&[u8]> {
        if rest.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + len {
            return None;
        }
        let record = &rest[2..2 + len];
        rest = &rest[2 + len..];
        Some(record)
    };
    let secret = store.device_key().x25519_secret();
    let mut noise = sealed_builder()?
        .local_private_key(&secret)
        .map_err(crypto)?
        .build_responder()
        .map_err(crypto)?;
    let first = next_record().ok_or(SealError::Bundle(BundleError::Incomplete("no header")))?;
    let mut buf = vec![0u8; 65_535];
    let n = noise
        .read_message(first, &mut buf)
        .map_err(|_| SealError::CannotOpen)?;
    let chain =
        crate::trust::Chain::from_bytes(&buf[..n]).map_err(|e| SealError::Bundle(e.into()))?;
    let maker_static = noise
        .get_remote_static()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .ok_or(SealError::CannotOpen)?;
    let leaf = chain.leaf().ok_or(SealError::MakerNotMember(
        crate::trust::TrustError::NoCertificate,
    ))?;
    if crate::protocol::secure::x25519_of(&leaf.subject).ok() != Some(maker_static) {
        return Err(SealError::MakerNotMember(
            crate::trust::TrustError::KeyMismatch,
        ));
    }
    let maker = trust
        .anchor
        .verify(&leaf.subject, &chain, trust.now)
        .map_err(SealError::MakerNotMember)?;
    let mut transport = noise.into_transport_mode().map_err(crypto)?;
    let mut inner = Vec::new();
    let mut signature = None;
    while let Some(record) = next_record() {
        if signature.is_some() {
            return Err(SealError::Bundle(BundleError::Damaged(
                WireError::Malformed("data after the signature"),
            )));
        }
        let n = transport
            .read_message(record, &mut buf)
            .map_err(|_| SealError::Bundle(BundleError::Damaged(WireError::BadChecksum)))?;
        match buf[..n].split_first() {
            Some((&RECORD_DATA, piece)) => inner.extend_from_slice(piece),
            Some((&RECORD_SIGNATURE, sig)) if sig.len() == 64 => {
                let mut fixed = [0u8; 64];
                fixed.copy_from_slice(sig);
                signature = Some(Signature::from_bytes(&fixed));
            }
            _ => {
                return Err(SealError::Bundle(BundleError::Damaged(
                    WireError::Malformed("unknown record"),
                )));
            }
        }
    }
    if !rest.is_empty() {
        return Err(SealError::Bundle(BundleError::Incomplete(
            "the file ends inside a record",
        )));
    }
    let signature = signature.ok_or(SealError::Bundle(BundleError::Incomplete(
        "the file ends before its signature",
    )))?;
    let key = VerifyingKey::from_bytes(&maker.key).map_err(|_| SealError::BadSignature)?;
    key.verify(&Sha256::digest(&inner), &signature)
        .map_err(|_| SealError::BadSignature)?;
    let parsed = parse_bundle(&inner)?;
    if parsed.from != maker.device {
        return Err(SealError::BadSignature);
    }
    let scopes = crate::trust::verify::shared_scopes(&trust.scopes, &maker.scopes);
    let policy = crate::protocol::policy::PeerScopes {
        default: crate::protocol::policy::ScopeSet::none(),
        peers: [(maker.device, scopes)].into_iter().collect(),
    };
    let report = read_bundle(store, &inner, &policy)?;
    // Signed by the maker and checked against its certificate: its word on what it holds, in
    // the scopes it shares with us, may now spare it what it already has.
    let shared = policy.scopes_for(&maker.device);
    if let Some(knowledge) = &parsed.knowledge {
        store.record_peer_knowledge(&maker.device, &knowledge.restricted(|s| shared.allows(s)))?;
    }
    Ok(OpenedBundle {
        maker,
        report,
        batches: parsed.batches.len() as u64,
        carried_knowledge: parsed.knowledge.is_some(),
    })
}
