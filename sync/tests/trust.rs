//! Enrolment and authenticated sessions between real stores, in-process: who gets in, who
//! gets nothing, and what each side can still read and write afterwards. The bytes between the
//! two sessions can be tampered with on the way.

use tusach_sync::protocol::secure::{LinkTrust, Purpose, SecureError, SecureSession};
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::memory::{enrol_in_memory, pump_secure};
use tusach_sync::trust::{self, CodeRequest, EnrolmentCode, MemberRole};
use tusach_sync::{EntityKey, Scope, Store, Value, WriteBatch};

const NOW: u64 = 1_800_000_000;

fn store(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(format!("{name}.db"))).expect("open store")
}

fn write(store: &mut Store, scope: &str, id: &str, value: &str) {
    let key = EntityKey::new(&Scope::new(scope).expect("scope"), "things", id);
    let mut batch = WriteBatch::new();
    batch.put(&key, "v", value);
    store.commit(&batch).expect("commit");
}

fn has(store: &mut Store, scope: &str, id: &str) -> bool {
    let key = EntityKey::new(&Scope::new(scope).expect("scope"), "things", id);
    store.get(&key).expect("get").is_some()
}

fn enrol(device: &mut Store, hub: &mut Store, code: EnrolmentCode) -> Result<(), Box<SecureError>> {
    enrol_in_memory(device, hub, code, NOW)
        .map(|_| ())
        .map_err(Box::new)
}

fn sync(
    a: &mut Store,
    b: &mut Store,
    now: u64,
    tamper: impl FnMut(bool, &mut Vec<u8>),
) -> (Result<(), SecureError>, Result<(), SecureError>) {
    let trust_a = LinkTrust::load(a, now).expect("trust");
    let trust_b = LinkTrust::load(b, now).expect("trust");
    let mut sa = SecureSession::initiate(a, Purpose::Sync, trust_a, SessionOptions::default())
        .expect("initiate");
    let mut sb = SecureSession::respond(b, trust_b, SessionOptions::default()).expect("respond");
    let (ra, rb, _) = pump_secure(&mut sa, a, &mut sb, b, tamper);
    let results = (ra, rb);
    if results.0.is_ok() && results.1.is_ok() {
        assert!(sa.is_finished() && sb.is_finished(), "both sides finish");
        assert!(sa.report().handshake_bytes > 0);
    }
    results
}

fn code_for(hub: &mut Store, library: &str, role: MemberRole) -> EnrolmentCode {
    trust::make_code(
        hub,
        &CodeRequest {
            role,
            label: library.into(),
            scopes: vec!["network".into(), format!("library:{library}")],
            cert_days: 30,
        },
        NOW,
    )
    .expect("code")
}

#[test]
fn members_sync_their_scopes_and_strangers_get_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "Huyện Nghi Lộc", NOW).expect("init");
    write(&mut hub, "library:a", "hub-a", "for a");
    write(&mut hub, "library:b", "hub-b", "for b only");
    write(&mut hub, "network", "record", "union catalogue");

    let mut desk_a = store(&dir, "a");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk_a, &mut hub, code.clone()).expect("enrol a");
    // A code works once.
    let mut other = store(&dir, "other");
    assert!(matches!(
        enrol(&mut other, &mut hub, code).map_err(|e| *e),
        Err(SecureError::BadCode)
    ));

    write(&mut desk_a, "library:a", "a-1", "loan");
    let (ra, rb) = sync(&mut desk_a, &mut hub, NOW, |_, _| {});
    ra.expect("desk a");
    rb.expect("hub");
    assert!(has(&mut hub, "library:a", "a-1"));
    assert!(has(&mut desk_a, "library:a", "hub-a"));
    assert!(has(&mut desk_a, "network", "record"));
    assert!(
        !has(&mut desk_a, "library:b", "hub-b"),
        "library b's data reached library a"
    );

    // A device of library B, enrolled properly, gets B and the network, never A.
    let mut desk_b = store(&dir, "b");
    let code = code_for(&mut hub, "b", MemberRole::Appliance);
    enrol(&mut desk_b, &mut hub, code).expect("enrol b");
    sync(&mut desk_b, &mut hub, NOW, |_, _| {})
        .0
        .expect("b syncs");
    assert!(has(&mut desk_b, "library:b", "hub-b"));
    assert!(!has(&mut desk_b, "library:a", "a-1"));
    // Even directly with desk A.
    let (ra, rb) = sync(&mut desk_b, &mut desk_a, NOW, |_, _| {});
    ra.expect("b");
    rb.expect("a");
    assert!(!has(&mut desk_b, "library:a", "a-1"));
    assert!(!has(&mut desk_a, "library:b", "hub-b"));

    // A rogue device with its own network: refused both ways, nothing moves.
    let mut rogue = store(&dir, "rogue");
    trust::init_network(&mut rogue, "rogue", NOW).expect("rogue init");
    write(&mut rogue, "library:a", "forged", "x");
    let hub_digest = hub.content_digest().expect("digest");
    let rogue_digest = rogue.content_digest().expect("digest");
    let (r_rogue, r_hub) = sync(&mut rogue, &mut hub, NOW, |_, _| {});
    assert!(r_rogue.is_err() || r_hub.is_err());
    assert!(
        matches!(r_hub, Err(SecureError::NotMember(_)))
            || matches!(r_rogue, Err(SecureError::NotMember(_)))
    );
    let (r_hub2, _) = sync(&mut hub, &mut rogue, NOW, |_, _| {});
    assert!(matches!(r_hub2, Err(SecureError::NotMember(_))));
    assert_eq!(hub.content_digest().expect("digest"), hub_digest);
    assert_eq!(rogue.content_digest().expect("digest"), rogue_digest);

    // An unenrolled device with an empty folder gets nothing either.
    let mut empty = store(&dir, "empty");
    let (r_empty, _) = sync(&mut empty, &mut hub, NOW, |_, _| {});
    assert!(matches!(r_empty, Err(SecureError::NotEnrolled)));
    assert!(!has(&mut empty, "network", "record"));
    let (r_hub, _) = sync(&mut hub, &mut empty, NOW, |_, _| {});
    assert!(matches!(r_hub, Err(SecureError::NotMember(_))));
    assert!(!has(&mut empty, "network", "record"));

    // Expired: thirty days later desk A's certificate no longer opens the door.
    let later = NOW + 31 * 86_400;
    let (_, r_hub) = sync(&mut desk_a, &mut hub, later, |_, _| {});
    assert!(r_hub.is_err());

    // Revoked: the hub revokes desk B; once desk A has the revocation, it refuses B too.
    trust::revoke(&mut hub, &desk_b.device_id(), "stolen", NOW).expect("revoke");
    let (_, r_hub) = sync(&mut desk_b, &mut hub, NOW, |_, _| {});
    assert!(matches!(r_hub, Err(SecureError::NotMember(_))));
    sync(&mut desk_a, &mut hub, NOW, |_, _| {})
        .0
        .expect("a learns the revocation");
    write(&mut desk_b, "network", "after-revocation", "x");
    let (_, r_a) = sync(&mut desk_b, &mut desk_a, NOW, |_, _| {});
    assert!(matches!(r_a, Err(SecureError::NotMember(_))));
    assert!(!has(&mut desk_a, "network", "after-revocation"));

    // Re-enrolment after the revocation works (a new key, as a replaced card would have).
    let mut desk_b2 = store(&dir, "b2");
    let code = code_for(&mut hub, "b", MemberRole::Appliance);
    enrol(&mut desk_b2, &mut hub, code).expect("re-enrol");
    sync(&mut desk_b2, &mut hub, NOW, |_, _| {})
        .0
        .expect("b2 syncs");
    assert!(has(&mut desk_b2, "library:b", "hub-b"));
}

#[test]
fn tampered_and_replayed_handshakes_fail_without_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let mut desk = store(&dir, "desk");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk, &mut hub, code).expect("enrol");
    write(&mut desk, "library:a", "x", "y");
    let before = (
        desk.content_digest().expect("d"),
        hub.content_digest().expect("d"),
    );
    // Flip one bit in each of the first few chunks in turn.
    for target in 0..4 {
        for from_initiator in [true, false] {
            let mut seen = 0;
            let (ra, rb) = sync(&mut desk, &mut hub, NOW, |dir, bytes| {
                // Count the handshake and data records, not the 5-byte preambles.
                if dir == from_initiator && bytes.len() > 5 {
                    if seen == target {
                        let i = bytes.len() / 2;
                        bytes[i] ^= 0x10;
                    }
                    seen += 1;
                }
            });
            if target < 2 {
                assert!(
                    ra.is_err() || rb.is_err(),
                    "tampering with chunk {target} went unnoticed"
                );
            }
        }
    }
    // Nothing tampered was applied: any data that moved came through intact sessions only.
    assert_eq!(
        hub.content_digest().expect("d") == before.1,
        !has(&mut hub, "library:a", "x")
    );

    // A replayed initiator handshake (recorded bytes sent again) does not get a session.
    let trust_d = LinkTrust::load(&mut desk, NOW).expect("trust");
    let mut first =
        SecureSession::initiate(&desk, Purpose::Sync, trust_d, SessionOptions::default())
            .expect("initiate");
    let recorded: Vec<Vec<u8>> =
        std::iter::from_fn(|| first.poll_transmit(&mut desk).ok().flatten()).collect();
    let trust_h = LinkTrust::load(&mut hub, NOW).expect("trust");
    let mut victim =
        SecureSession::respond(&hub, trust_h, SessionOptions::default()).expect("respond");
    for bytes in &recorded {
        victim
            .receive(&mut hub, bytes)
            .expect("the first message is only an ephemeral key");
    }
    // The victim answered; the replayer cannot produce the third message without the key.
    let answer: Vec<Vec<u8>> =
        std::iter::from_fn(|| victim.poll_transmit(&mut hub).ok().flatten()).collect();
    assert!(!answer.is_empty());
    let digest = hub.content_digest().expect("d");
    // The recorded first message again, where the third belongs.
    let replay = victim.receive(&mut hub, &recorded[1..].concat());
    assert!(replay.is_err());
    assert_eq!(hub.content_digest().expect("d"), digest);
}

#[test]
fn an_old_peer_gets_a_clear_refusal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let trust_h = LinkTrust::load(&mut hub, NOW).expect("trust");
    let mut h = SecureSession::respond(&hub, trust_h, SessionOptions::default()).expect("respond");
    let result = h.receive(&mut hub, b"TSYN\x01\x01\x00\x00\x00\x00");
    assert!(matches!(result, Err(SecureError::OldPeer(1))), "{result:?}");
    let reply = h
        .poll_transmit(&mut hub)
        .expect("poll")
        .expect("a preamble");
    assert_eq!(reply, b"TSYN\x02");
}

#[test]
fn certificates_and_revocations_are_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let mut desk = store(&dir, "desk");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk, &mut hub, code).expect("enrol");
    sync(&mut desk, &mut hub, NOW, |_, _| {}).0.expect("sync");
    let members = trust::known_members(&mut desk).expect("members");
    assert_eq!(members.len(), 2, "the hub's and the desk's certificates");
    let standing = trust::standing(&mut desk, NOW).expect("standing");
    let me = standing.membership.expect("member");
    assert_eq!((me.role, me.label.as_str()), (MemberRole::Appliance, "a"));
    assert_eq!(
        trust::published_chain(&mut desk, &hub.device_id())
            .expect("chain")
            .and_then(|c| c.leaf().map(|l| l.role)),
        Some(MemberRole::Hub)
    );
    let _ = Value::Null;
}

/// Library A's readers never reach a device of library B, whichever way the data goes: through
/// a district laptop that carries both libraries, or in a sealed bundle A makes for B.
#[test]
fn a_carrier_and_a_bundle_keep_each_library_to_itself() {
    use tusach_sync::bundle::{read_sealed, write_sealed};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let mut desk_a = store(&dir, "a");
    let mut desk_b = store(&dir, "b");
    let mut mule = store(&dir, "mule");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk_a, &mut hub, code).expect("a");
    let code = code_for(&mut hub, "b", MemberRole::Appliance);
    enrol(&mut desk_b, &mut hub, code).expect("b");
    let code = trust::make_code(
        &mut hub,
        &CodeRequest {
            role: MemberRole::Mule,
            label: "can-bo-huyen".into(),
            scopes: vec!["network".into(), "library:a".into(), "library:b".into()],
            cert_days: 30,
        },
        NOW,
    )
    .expect("mule code");
    enrol(&mut mule, &mut hub, code).expect("mule");

    write(&mut desk_a, "library:a", "reader-a", "Nguyễn Văn A");
    write(&mut desk_a, "network", "record-a", "a record");
    write(&mut desk_b, "library:b", "reader-b", "Trần Thị B");
    // The laptop visits A, then B, then A again.
    sync(&mut mule, &mut desk_a, NOW, |_, _| {})
        .0
        .expect("mule at a");
    sync(&mut mule, &mut desk_b, NOW, |_, _| {})
        .0
        .expect("mule at b");
    sync(&mut mule, &mut desk_a, NOW, |_, _| {})
        .0
        .expect("mule at a again");
    assert!(has(&mut mule, "library:a", "reader-a") && has(&mut mule, "library:b", "reader-b"));
    assert!(
        has(&mut desk_b, "network", "record-a"),
        "the catalogue travels"
    );
    assert!(
        !has(&mut desk_b, "library:a", "reader-a"),
        "A's reader reached B via the laptop"
    );
    assert!(
        !has(&mut desk_a, "library:b", "reader-b"),
        "B's reader reached A via the laptop"
    );

    // A seals a bundle for B (B's certificate came with the catalogue through the laptop).
    let trust_a = LinkTrust::load(&mut desk_a, NOW).expect("trust");
    let mut bytes = Vec::new();
    write_sealed(
        &mut desk_a,
        desk_b.device_id(),
        &trust_a,
        1 << 16,
        &mut bytes,
    )
    .expect("seal");
    let trust_b = LinkTrust::load(&mut desk_b, NOW).expect("trust");
    read_sealed(&mut desk_b, &bytes, &trust_b).expect("open");
    assert!(
        !has(&mut desk_b, "library:a", "reader-a"),
        "A's reader reached B in a bundle"
    );
    // A bundle changed on the way applies nothing.
    write(&mut desk_a, "network", "record-a2", "another");
    let trust_a = LinkTrust::load(&mut desk_a, NOW).expect("trust");
    let mut bytes = Vec::new();
    write_sealed(
        &mut desk_a,
        desk_b.device_id(),
        &trust_a,
        1 << 16,
        &mut bytes,
    )
    .expect("seal");
    let before = desk_b.content_digest().expect("digest");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    assert!(read_sealed(&mut desk_b, &bytes, &trust_b).is_err());
    bytes[middle] ^= 1;
    bytes.truncate(bytes.len() - 10);
    assert!(read_sealed(&mut desk_b, &bytes, &trust_b).is_err());
    assert_eq!(desk_b.content_digest().expect("digest"), before);
}

/// The handshake's layout is part of the protocol (`sync/PROTOCOL.md` §5): two preambles, then
/// three records whose sizes follow from the chains. The bytes themselves are random (fresh
/// ephemeral keys), so the layout is what is pinned here; the certificate bytes have golden
/// fixtures in `wire_fixtures.rs`.
#[test]
fn the_handshake_has_the_documented_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let mut desk = store(&dir, "desk");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk, &mut hub, code).expect("enrol");
    let trust_d = LinkTrust::load(&mut desk, NOW).expect("trust");
    let trust_h = LinkTrust::load(&mut hub, NOW).expect("trust");
    let (desk_chain, hub_chain) = (
        trust_d.chain.to_bytes().len(),
        trust_h.chain.to_bytes().len(),
    );
    let mut d = SecureSession::initiate(&desk, Purpose::Sync, trust_d, SessionOptions::default())
        .expect("initiate");
    let mut h = SecureSession::respond(&hub, trust_h, SessionOptions::default()).expect("respond");
    let from_desk: Vec<Vec<u8>> =
        std::iter::from_fn(|| d.poll_transmit(&mut desk).ok().flatten()).collect();
    assert_eq!(from_desk[0], b"TSYN\x02");
    assert_eq!(
        from_desk[1].len(),
        2 + 32 + 1,
        "msg1: e and the purpose byte"
    );
    assert_eq!(&from_desk[1][..2], &33u16.to_le_bytes());
    assert_eq!(from_desk[1][34], 1, "purpose: sync");
    for bytes in &from_desk {
        h.receive(&mut hub, bytes).expect("msg1");
    }
    let from_hub: Vec<Vec<u8>> =
        std::iter::from_fn(|| h.poll_transmit(&mut hub).ok().flatten()).collect();
    assert_eq!(from_hub[0], b"TSYN\x02");
    assert_eq!(
        from_hub[1].len(),
        2 + 32 + 48 + hub_chain + 16,
        "msg2: e, s, the hub's chain"
    );
    for bytes in &from_hub {
        d.receive(&mut desk, bytes).expect("msg2");
    }
    let msg3 = d.poll_transmit(&mut desk).expect("poll").expect("msg3");
    assert_eq!(
        msg3.len(),
        2 + 48 + desk_chain + 16,
        "msg3: s and the desk's chain"
    );
}

/// A database copied to another card takes a new identity; its old certificate names the old
/// key, so the copy is not a member until it enrols again, which works.
#[test]
fn a_cloned_card_must_enrol_again_and_can() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = store(&dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let path = dir.path().join("desk.db");
    {
        let mut desk = Store::open(&path).expect("open");
        let code = code_for(&mut hub, "a", MemberRole::Appliance);
        enrol(&mut desk, &mut hub, code).expect("enrol");
        assert!(
            trust::standing(&mut desk, NOW)
                .expect("standing")
                .membership
                .is_some()
        );
    }
    let copy = dir.path().join("clone.db");
    std::fs::copy(&path, &copy).expect("copy");
    let mut clone = Store::open(&copy).expect("open the copy");
    assert!(clone.identity_renewed());
    assert!(
        trust::standing(&mut clone, NOW)
            .expect("standing")
            .membership
            .is_none()
    );
    let (r_clone, _) = sync(&mut clone, &mut hub, NOW, |_, _| {});
    assert!(
        r_clone.is_err(),
        "the clone synced on the original's certificate"
    );
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut clone, &mut hub, code).expect("re-enrol");
    sync(&mut clone, &mut hub, NOW, |_, _| {})
        .0
        .expect("the re-enrolled clone syncs");
}

/// Two members that meet only through a USB stick, both enrolled at one hub (whose sessions
/// carried each one's certificate to the other).
fn members_who_meet_by_stick(dir: &tempfile::TempDir) -> (Store, Store, Store) {
    let mut hub = store(dir, "hub");
    trust::init_network(&mut hub, "net", NOW).expect("init");
    let mut desk_a = store(dir, "a");
    let mut desk_b = store(dir, "b");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk_a, &mut hub, code).expect("a");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk_b, &mut hub, code).expect("b");
    for _ in 0..2 {
        sync(&mut desk_a, &mut hub, NOW, |_, _| {})
            .0
            .expect("a at hub");
        sync(&mut desk_b, &mut hub, NOW, |_, _| {})
            .0
            .expect("b at hub");
    }
    (hub, desk_a, desk_b)
}

fn bundle_for(from: &mut Store, to: &Store) -> (Vec<u8>, tusach_sync::bundle::BundleSummary) {
    let trust = LinkTrust::load(from, NOW).expect("trust");
    let mut bytes = Vec::new();
    let summary =
        tusach_sync::bundle::write_sealed(from, to.device_id(), &trust, 1 << 16, &mut bytes)
            .expect("seal");
    (bytes, summary)
}

fn receipt_for(from: &mut Store, to: &Store) -> Vec<u8> {
    let trust = LinkTrust::load(from, NOW).expect("trust");
    let mut bytes = Vec::new();
    tusach_sync::bundle::write_sealed_receipt(from, to.device_id(), &trust, &mut bytes)
        .expect("receipt");
    bytes
}

fn open(
    store: &mut Store,
    bytes: &[u8],
) -> Result<tusach_sync::bundle::OpenedBundle, tusach_sync::bundle::SealError> {
    let trust = LinkTrust::load(store, NOW).expect("trust");
    tusach_sync::bundle::read_sealed(store, bytes, &trust)
}

fn pending_for(store: &Store, peer: &Store) -> i64 {
    store
        .peer_statuses()
        .expect("peers")
        .into_iter()
        .find(|p| p.peer == peer.device_id())
        .map_or(-1, |p| p.pending)
}

/// B imports A's bundle and writes a receipt; once A reads it, A's next bundle for B carries
/// only what is new, and A's sync page counts only that as pending.
#[test]
fn after_a_receipt_the_next_bundle_carries_only_new_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_hub, mut desk_a, mut desk_b) = members_who_meet_by_stick(&dir);
    for n in 0..40 {
        write(&mut desk_a, "library:a", &format!("loan-{n}"), "cho mượn");
    }
    let (first, _) = bundle_for(&mut desk_a, &desk_b);
    let opened = open(&mut desk_b, &first).expect("b opens a's bundle");
    assert_eq!((opened.report.new_changes, opened.batches), (40, 1));
    assert!(opened.carried_knowledge);
    let receipt = receipt_for(&mut desk_b, &desk_a);

    write(&mut desk_a, "library:a", "loan-new", "cho mượn");
    // Without the receipt, A must assume the stick never arrived.
    let (_, before) = bundle_for(&mut desk_a, &desk_b);
    assert!(before.changes > 1, "{before:?}");
    assert!(pending_for(&desk_a, &desk_b) < 0, "A never heard from B");

    let read = open(&mut desk_a, &receipt).expect("a reads b's receipt");
    assert_eq!((read.batches, read.report.new_changes), (0, 0));
    let (second, after) = bundle_for(&mut desk_a, &desk_b);
    assert_eq!(
        after.changes, 1,
        "the second bundle re-carried what arrived"
    );
    assert_eq!(pending_for(&desk_a, &desk_b), 1);
    let opened = open(&mut desk_b, &second).expect("b opens the second");
    assert_eq!(
        (opened.report.new_changes, opened.report.duplicates),
        (1, 0)
    );
}

/// A bundle from B to A carries B's knowledge, so it is a receipt too.
#[test]
fn a_bundle_back_acts_as_a_receipt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_hub, mut desk_a, mut desk_b) = members_who_meet_by_stick(&dir);
    for n in 0..10 {
        write(&mut desk_a, "library:a", &format!("loan-{n}"), "cho mượn");
    }
    let (first, _) = bundle_for(&mut desk_a, &desk_b);
    open(&mut desk_b, &first).expect("b opens");
    write(&mut desk_b, "library:a", "return-1", "trả");
    let (back, back_summary) = bundle_for(&mut desk_b, &desk_a);
    assert_eq!(back_summary.changes, 1, "B sends back only its own change");
    open(&mut desk_a, &back).expect("a opens b's bundle");
    write(&mut desk_a, "library:a", "loan-new", "cho mượn");
    let (_, next) = bundle_for(&mut desk_a, &desk_b);
    assert_eq!(next.changes, 1);
}

/// Marks move only on the peer's own signature: a receipt changed on the way, one meant for
/// another device, or one signed by another member leaves what A believes of B alone.
#[test]
fn a_forged_or_misdirected_receipt_changes_no_marks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, mut desk_a, mut desk_b) = members_who_meet_by_stick(&dir);
    let mut desk_c = store(&dir, "c");
    let code = code_for(&mut hub, "a", MemberRole::Appliance);
    enrol(&mut desk_c, &mut hub, code).expect("c");
    for _ in 0..2 {
        sync(&mut desk_c, &mut hub, NOW, |_, _| {})
            .0
            .expect("c at hub");
        sync(&mut desk_a, &mut hub, NOW, |_, _| {})
            .0
            .expect("a at hub");
        sync(&mut desk_b, &mut hub, NOW, |_, _| {})
            .0
            .expect("b at hub");
    }
    for n in 0..5 {
        write(&mut desk_a, "library:a", &format!("loan-{n}"), "cho mượn");
    }
    let (first, _) = bundle_for(&mut desk_a, &desk_b);
    open(&mut desk_b, &first).expect("b opens");
    open(&mut desk_c, &first).expect_err("a bundle for B does not open at C");
    let carried = |a: &mut Store, b: &Store| bundle_for(a, b).1.changes;
    let pending = carried(&mut desk_a, &desk_b);
    assert!(pending > 0);

    let mut changed = receipt_for(&mut desk_b, &desk_a);
    let middle = changed.len() / 2;
    changed[middle] ^= 0x40;
    assert!(
        open(&mut desk_a, &changed).is_err(),
        "a changed receipt was read"
    );
    let misdirected = receipt_for(&mut desk_b, &desk_c);
    assert!(
        open(&mut desk_a, &misdirected).is_err(),
        "a receipt for C was read at A"
    );
    // A genuine receipt from another member speaks for that member only.
    let from_c = receipt_for(&mut desk_c, &desk_a);
    open(&mut desk_a, &from_c).expect("C's own receipt is genuine");
    assert_eq!(
        carried(&mut desk_a, &desk_b),
        pending,
        "B's marks moved on others' word"
    );

    let genuine = receipt_for(&mut desk_b, &desk_a);
    open(&mut desk_a, &genuine).expect("b's receipt");
    assert_eq!(carried(&mut desk_a, &desk_b), 0);
    assert_eq!(pending_for(&desk_a, &desk_b), 0);
}
