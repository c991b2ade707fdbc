//! Resumed sessions between real stores, in-process: a redial with a ticket is short and still
//! syncs; a ticket the responder lost falls back to the full handshake on the same connection;
//! a revoked member cannot resume; a ticket id seen on the wire opens nothing.

use std::sync::Arc;

use tusach_sync::protocol::resume::{TICKET_LIFETIME_SECS, Ticket, Tickets};
use tusach_sync::protocol::secure::{LinkTrust, Purpose, SecureError, SecureSession};
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::memory::{enrol_in_memory, pump_secure};
use tusach_sync::trust::{self, CodeRequest, MemberRole};
use tusach_sync::{EntityKey, Scope, Store, WriteBatch};

const NOW: u64 = 1_800_000_000;

fn store(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(format!("{name}.db"))).expect("open store")
}

fn write(store: &mut Store, id: &str) {
    let key = EntityKey::new(&Scope::new("library:a").expect("scope"), "things", id);
    let mut batch = WriteBatch::new();
    batch.put(&key, "v", id);
    store.commit(&batch).expect("commit");
}

fn has(store: &mut Store, id: &str) -> bool {
    let key = EntityKey::new(&Scope::new("library:a").expect("scope"), "things", id);
    store.get(&key).expect("get").is_some()
}

/// A hub and an enrolled desk of library "a".
fn hub_and_desk(dir: &tempfile::TempDir) -> (Store, Store) {
    let mut hub = store(dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let mut desk = store(dir, "desk");
    let code = trust::make_code(
        &mut hub,
        &CodeRequest {
            role: MemberRole::Appliance,
            label: "a".into(),
            scopes: vec!["network".into(), "library:a".into()],
            cert_days: 30,
        },
        NOW,
    )
    .expect("code");
    enrol_in_memory(&mut desk, &mut hub, code, NOW).expect("enrol");
    (hub, desk)
}

/// One connection from `desk` (resuming with `ticket` if given) to `hub`, whose responder
/// issues and redeems tickets in `issued`.
struct Outcome {
    desk: Result<(), SecureError>,
    hub: Result<(), SecureError>,
    desk_session: SecureSession,
    hub_session: SecureSession,
}

fn connect(
    desk: &mut Store,
    hub: &mut Store,
    ticket: Option<Ticket>,
    issued: &Arc<Tickets>,
    now: u64,
) -> Outcome {
    let trust_d = LinkTrust::load(desk, now).expect("trust");
    let trust_h = LinkTrust::load(hub, now).expect("trust");
    let mut d = match ticket {
        Some(ticket) => SecureSession::resume(trust_d, SessionOptions::default(), ticket),
        None => SecureSession::initiate(desk, Purpose::Sync, trust_d, SessionOptions::default()),
    }
    .expect("initiator");
    let mut h = SecureSession::respond(hub, trust_h, SessionOptions::default())
        .expect("respond")
        .with_tickets(issued.clone());
    let (rd, rh, _) = pump_secure(&mut d, desk, &mut h, hub, |_, _| {});
    Outcome {
        desk: rd,
        hub: rh,
        desk_session: d,
        hub_session: h,
    }
}

#[test]
fn a_redial_resumes_with_a_short_handshake_and_still_syncs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, mut desk) = hub_and_desk(&dir);
    let issued = Arc::new(Tickets::new());

    let full = connect(&mut desk, &mut hub, None, &issued, NOW);
    full.desk.expect("desk");
    full.hub.expect("hub");
    assert!(!full.desk_session.was_resumed());
    let full_bytes = full.desk_session.report().handshake_bytes;
    let ticket = full.desk_session.ticket().expect("a ticket for the desk");
    assert_eq!(issued.issued_count(), 1, "the hub keeps the same ticket");

    write(&mut desk, "after-the-cut");
    let resumed = connect(&mut desk, &mut hub, Some(ticket.clone()), &issued, NOW + 60);
    resumed.desk.expect("desk");
    resumed.hub.expect("hub");
    assert!(resumed.desk_session.was_resumed() && resumed.hub_session.was_resumed());
    assert!(resumed.desk_session.is_finished() && resumed.hub_session.is_finished());
    assert!(
        has(&mut hub, "after-the-cut"),
        "the resumed session carried data"
    );
    let short_bytes = resumed.desk_session.report().handshake_bytes;
    assert!(
        short_bytes * 4 < full_bytes,
        "resumed handshake {short_bytes} B against {full_bytes} B in full"
    );
    assert_eq!(
        resumed.hub_session.peer().map(|m| m.device),
        Some(desk.device_id()),
        "the hub knows who resumed"
    );
    let next = resumed.desk_session.ticket().expect("a new ticket");
    assert_ne!(
        format!("{next:?}"),
        format!("{ticket:?}"),
        "every session a new ticket"
    );

    // The ticket stays good until it expires: a resumed session cut before its own ticket
    // arrived resumes again with the old one.
    let again = connect(
        &mut desk,
        &mut hub,
        Some(ticket.clone()),
        &issued,
        NOW + 120,
    );
    again.desk.expect("desk");
    assert!(again.desk_session.was_resumed());
    let late = connect(
        &mut desk,
        &mut hub,
        Some(ticket),
        &issued,
        NOW + TICKET_LIFETIME_SECS + 1,
    );
    late.desk
        .expect("an expired ticket falls back to the full handshake");
    assert!(!late.desk_session.was_resumed() && late.desk_session.ticket_refused());
}

#[test]
fn a_ticket_the_responder_lost_falls_back_on_the_same_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, mut desk) = hub_and_desk(&dir);
    let issued = Arc::new(Tickets::new());
    let full = connect(&mut desk, &mut hub, None, &issued, NOW);
    let ticket = full.desk_session.ticket().expect("ticket");

    // The hub restarted: its tickets are gone.
    let restarted = Arc::new(Tickets::new());
    write(&mut desk, "after-restart");
    let outcome = connect(&mut desk, &mut hub, Some(ticket), &restarted, NOW + 60);
    outcome.desk.expect("desk");
    outcome.hub.expect("hub");
    assert!(!outcome.desk_session.was_resumed());
    assert!(
        outcome.desk_session.ticket_refused(),
        "the caller forgets it"
    );
    assert!(
        outcome.desk_session.ticket().is_some(),
        "and keeps the new one"
    );
    assert!(has(&mut hub, "after-restart"));
}

#[test]
fn a_revoked_member_cannot_resume() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, mut desk) = hub_and_desk(&dir);
    let issued = Arc::new(Tickets::new());
    let full = connect(&mut desk, &mut hub, None, &issued, NOW);
    let ticket = full.desk_session.ticket().expect("ticket");

    trust::revoke(&mut hub, &desk.device_id(), "stolen", NOW).expect("revoke");
    write(&mut desk, "from-a-stolen-desk");
    let outcome = connect(&mut desk, &mut hub, Some(ticket), &issued, NOW + 60);
    assert!(
        matches!(outcome.hub, Err(SecureError::NotMember(_))),
        "the hub refuses as in a full handshake: {:?}",
        outcome.hub
    );
    assert!(!outcome.hub_session.was_resumed());
    assert!(!has(&mut hub, "from-a-stolen-desk"));
    assert_eq!(
        issued.issued_count(),
        0,
        "the revoked member's ticket is withdrawn"
    );
}

#[test]
fn a_ticket_id_seen_on_the_wire_opens_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, mut desk) = hub_and_desk(&dir);
    let issued = Arc::new(Tickets::new());
    let full = connect(&mut desk, &mut hub, None, &issued, NOW);
    let ticket = full.desk_session.ticket().expect("ticket");
    write(&mut desk, "secret-loan");

    // A listener recorded the desk's resumption request and sends it again from elsewhere.
    let trust_d = LinkTrust::load(&mut desk, NOW).expect("trust");
    let mut honest =
        SecureSession::resume(trust_d, SessionOptions::default(), ticket).expect("resume");
    let recorded: Vec<Vec<u8>> =
        std::iter::from_fn(|| honest.poll_transmit(&mut desk).ok().flatten()).collect();
    let trust_h = LinkTrust::load(&mut hub, NOW).expect("trust");
    let mut victim = SecureSession::respond(&hub, trust_h, SessionOptions::default())
        .expect("respond")
        .with_tickets(issued.clone());
    for bytes in &recorded {
        victim.receive(&mut hub, bytes).expect("a replayed request");
    }
    // The hub answers with its half of the short handshake and then waits for a HELLO the
    // replayer cannot encrypt: nothing else leaves the hub.
    let answer: Vec<u8> = std::iter::from_fn(|| victim.poll_transmit(&mut hub).ok().flatten())
        .flatten()
        .collect();
    assert!(
        answer.len() < 60,
        "only the handshake answer: {} B",
        answer.len()
    );
    let digest = hub.content_digest().expect("digest");
    let forged_hello = [0x40u8, 0x00]
        .iter()
        .copied()
        .chain([0u8; 64])
        .collect::<Vec<u8>>();
    assert!(victim.receive(&mut hub, &forged_hello).is_err());
    assert_eq!(hub.content_digest().expect("digest"), digest);

    // The same id with a key of the attacker's own fails at the first message.
    let mut forged = recorded.concat();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let trust_h = LinkTrust::load(&mut hub, NOW).expect("trust");
    let mut victim = SecureSession::respond(&hub, trust_h, SessionOptions::default())
        .expect("respond")
        .with_tickets(issued);
    assert!(victim.receive(&mut hub, &forged).is_err());
    assert!(!has(&mut hub, "secret-loan"));
}
