//! `sync-delta`: 10,000 records on two replicas, 100 edited on one, then a sync. Measures the
//! bytes on the wire against the zstd-compressed raw changes and against automerge's own
//! per-document sync of the same records and edits (one document per record, fresh states).
//! The two replicas are members of one network and sync through the authenticated, encrypted
//! session, handshake included, as they do in the field.

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT};
use serde_json::json;
use tusach_sync::protocol::secure::{LinkTrust, Purpose, SecureSession};
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::memory;
use tusach_sync::trust::{self, CodeRequest, MemberRole};
use tusach_sync::{Payload, Store};

use super::{bench_store, edit_record, seed_records};
use crate::sample::{SampleLibrary, SampleRecord};

pub fn run(records: u64, edits: u64) -> anyhow::Result<serde_json::Value> {
    let library = SampleLibrary::new(2026);
    let edited: Vec<u64> = (0..edits).map(|i| i * records / edits.max(1)).collect();
    let dir = tempfile::tempdir()?;
    let mut appliance = bench_store(dir.path(), "appliance.db")?;
    let mut hub = bench_store(dir.path(), "hub.db")?;
    enrol(&mut appliance, &mut hub)?;
    seed_records(&mut appliance, &library, records)?;
    sync(&mut appliance, &mut hub)?;
    let hub_knowledge = hub.knowledge(|_| true)?;

    for &n in &edited {
        edit_record(&mut appliance, &library, n, 1)?;
    }
    let raw_changes = raw_changes_since(&mut appliance, &hub_knowledge)?;
    let raw_changes_zstd_bytes = zstd::bulk::compress(&raw_changes.concat(), 3)?.len();

    let outcome = sync(&mut appliance, &mut hub)?;
    let converged = appliance.content_digest()? == hub.content_digest()?;
    let wire_bytes = outcome.wire_bytes;
    let handshake_bytes = outcome.handshake_bytes;

    let baseline = automerge_per_doc_baseline(&library, records, &edited);
    // The goal counts the handshake apart: it is the same few hundred bytes whatever changed.
    let ratio_raw =
        wire_bytes.saturating_sub(handshake_bytes) as f64 / raw_changes_zstd_bytes.max(1) as f64;
    let ratio_baseline = baseline.bytes as f64 / wire_bytes.max(1) as f64;
    Ok(json!({
        "bench": "sync-delta",
        "records": records,
        "edits": edits,
        "changes": raw_changes.len(),
        "wire_bytes": wire_bytes,
        "handshake_bytes": handshake_bytes,
        "raw_changes_zstd_bytes": raw_changes_zstd_bytes,
        "raw_changes_bytes": raw_changes.iter().map(Vec::len).sum::<usize>(),
        "automerge_per_doc_baseline_bytes": baseline.bytes,
        "automerge_per_doc_baseline_messages": baseline.messages,
        "round_trips": outcome.trips as f64 / 2.0,
        "wire_over_raw_zstd": ratio_raw,
        "baseline_over_wire": ratio_baseline,
        "converged": converged,
        "goal_met": converged
            && ratio_raw <= 1.5
            && ratio_baseline >= 100.0
            && handshake_bytes <= 1_500,
    }))
}

/// Makes `hub` a network's first hub and enrols `appliance` as one of its libraries.
pub(super) fn enrol(appliance: &mut Store, hub: &mut Store) -> anyhow::Result<()> {
    let now = memory_now();
    trust::init_network(hub, "bench", now)?;
    let code = trust::make_code(
        hub,
        &CodeRequest {
            role: MemberRole::Appliance,
            label: "bench".into(),
            scopes: vec![trust::NETWORK_SCOPE.into(), "library:bench".into()],
            cert_days: 1,
        },
        now,
    )?;
    memory::enrol_in_memory(appliance, hub, code, now)?;
    Ok(())
}

fn memory_now() -> u64 {
    tusach_sync::transport::tcp::unix_now()
}

pub(super) struct Outcome {
    wire_bytes: u64,
    handshake_bytes: u64,
    trips: usize,
}

pub(super) fn sync(a: &mut Store, b: &mut Store) -> anyhow::Result<Outcome> {
    let now = memory_now();
    let trust_a = LinkTrust::load(a, now)?;
    let trust_b = LinkTrust::load(b, now)?;
    let mut sa = SecureSession::initiate(a, Purpose::Sync, trust_a, SessionOptions::default())?;
    let mut sb = SecureSession::respond(b, trust_b, SessionOptions::default())?;
    let (ra, rb, trips) = memory::pump_secure(&mut sa, a, &mut sb, b, |_, _| {});
    ra?;
    rb?;
    if !(sa.is_finished() && sb.is_finished()) {
        anyhow::bail!("the bench sync did not finish");
    }
    let report = sa.report();
    Ok(Outcome {
        wire_bytes: report.bytes_in + report.bytes_out,
        handshake_bytes: report.handshake_bytes,
        trips,
    })
}

/// The raw automerge change bytes a peer with `knowledge` lacks.
fn raw_changes_since(
    store: &mut Store,
    knowledge: &tusach_sync::store::Knowledge,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut plan = store.plan_for(knowledge, |_| true)?;
    let mut changes = Vec::new();
    while let Some(batch) = store.next_batch(&mut plan, usize::MAX)? {
        for shard in batch.shards {
            match shard.payload {
                Payload::Changes(raw) => changes.extend(raw),
                Payload::Document(_) => anyhow::bail!("a whole document was planned for a delta"),
            }
        }
    }
    Ok(changes)
}

struct Baseline {
    bytes: usize,
    messages: usize,
}

fn put_record(
    doc: &mut AutoCommit,
    record: &SampleRecord,
) -> Result<(), automerge::AutomergeError> {
    doc.put(ROOT, "title", record.title.as_str())?;
    let authors = doc.put_object(ROOT, "authors", ObjType::List)?;
    for (i, author) in record.authors.iter().enumerate() {
        doc.insert(&authors, i, author.as_str())?;
    }
    doc.put(ROOT, "publisher", record.publisher.as_str())?;
    doc.put(ROOT, "year", record.year)?;
    doc.put(ROOT, "language", record.language.as_str())?;
    doc.put(ROOT, "ddc", record.ddc.as_str())?;
    let subjects = doc.put_object(ROOT, "subjects", ObjType::List)?;
    for (i, subject) in record.subjects.iter().enumerate() {
        doc.insert(&subjects, i, subject.as_str())?;
    }
    doc.put(ROOT, "pages", record.pages)?;
    doc.put(ROOT, "summary", record.summary.as_str())?;
    if !record.isbn.is_empty() {
        doc.put(ROOT, "isbn", record.isbn.as_str())?;
    }
    doc.commit();
    Ok(())
}

/// One automerge document per record on each side, the same edits, and automerge's sync
/// protocol with fresh sync states for every document, as a per-document design would run.
fn automerge_per_doc_baseline(library: &SampleLibrary, records: u64, edited: &[u64]) -> Baseline {
    let appliance_actor = ActorId::from(vec![1u8; 16]);
    let hub_actor = ActorId::from(vec![2u8; 16]);
    let mut appliance: Vec<AutoCommit> = Vec::with_capacity(records as usize);
    let mut hub: Vec<AutoCommit> = Vec::with_capacity(records as usize);
    for n in 0..records {
        let mut doc = AutoCommit::new().with_actor(appliance_actor.clone());
        // Building a record document cannot fail on a fresh document.
        let _ = put_record(&mut doc, &library.record(n));
        hub.push(doc.fork().with_actor(hub_actor.clone()));
        appliance.push(doc);
    }
    for &n in edited {
        let (field, value) = library.edit(n, 1);
        let doc = &mut appliance[n as usize];
        let _ = match value.parse::<i64>() {
            Ok(number) if field == "pages" || field == "year" => doc.put(ROOT, field, number),
            _ => doc.put(ROOT, field, value.as_str()),
        };
        doc.commit();
    }
    let mut bytes = 0usize;
    let mut messages = 0usize;
    for (a, b) in appliance.iter_mut().zip(hub.iter_mut()) {
        let (mut sa, mut sb) = (State::new(), State::new());
        loop {
            let mut quiet = true;
            if let Some(message) = a.sync().generate_sync_message(&mut sa) {
                quiet = false;
                messages += 1;
                bytes += message.clone().encode().len();
                let _ = b.sync().receive_sync_message(&mut sb, message);
            }
            if let Some(message) = b.sync().generate_sync_message(&mut sb) {
                quiet = false;
                messages += 1;
                bytes += message.clone().encode().len();
                let _ = a.sync().receive_sync_message(&mut sa, message);
            }
            if quiet {
                break;
            }
        }
    }
    Baseline { bytes, messages }
}
