//! File bundles: everything a named device lacks, written to a file a district engineer
//! carries on a USB stick, and read back on that device.
//!
//! A bundle is the bundle preamble, a header frame (from, to), numbered batch frames in the
//! wire format of sessions, and an end frame with the batch count (`sync/PROTOCOL.md`). A
//! reader checks the whole file — checksums, order, destination, scopes — before it applies
//! anything, so a truncated or damaged bundle changes nothing. Importing a bundle twice is
//! harmless: changes already held are skipped.
//!
//! What a bundle carries is judged from what this device last learned the destination holds
//! (remembered at the end of every session with it); for a device never met, everything its
//! scopes allow.

use std::io::Write;

use crate::identity::DeviceId;
use crate::protocol::policy::ScopePolicy;
use crate::protocol::wire::{self, Message, WireError};
use crate::store::{ApplyReport, Batch, Store, StoreError};

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
    let scopes = policy.scopes_for(&to);
    let theirs = store.peer_knowledge(&to)?;
    let mut plan = store.plan_for(&theirs, |s| scopes.allows(s))?;
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
    while let Some(batch) = store.next_batch(&mut plan, batch_bytes)? {
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

/// Checks a whole bundle and returns its sender and batches, applying nothing.
pub fn parse_bundle(bytes: &[u8]) -> Result<(DeviceId, DeviceId, Vec<Batch>), BundleError> {
    wire::check_preamble(bytes, wire::BUNDLE_MAGIC).map_err(|e| match e {
        WireError::Incomplete => BundleError::Incomplete("the file ends inside its preamble"),
        other => BundleError::Damaged(other),
    })?;
    let mut rest = &bytes[wire::PREAMBLE_LEN..];
    let mut header = None;
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
    Ok((from, to, batches))
}

/// Checks a bundle completely, then merges it into the store.
pub fn read_bundle(
    store: &mut Store,
    bytes: &[u8],
    policy: &dyn ScopePolicy,
) -> Result<ApplyReport, BundleError> {
    let (from, to, batches) = parse_bundle(bytes)?;
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
