//! Scopes decide who gets what (DESIGN §3 "Replication"): a peer allowed `network` and
//! `library:a` must never receive a byte of `library:b`, must not be able to push `library:b`
//! into a replica that does not accept it from that peer, directly, through a relay or by
//! bundle — and a refusal must change nothing.
//!
//! What crossed the wire is checked on the bytes themselves: every stream a restricted peer
//! received is recorded, decoded frame by frame, and every batch in it is both inspected by
//! shard and merged into a throwaway "sniffer" replica whose content is searched for a marker
//! written only into `library:b` (searching the compressed bytes would prove nothing).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tusach_sync::bundle::{self, BundleError};
use tusach_sync::protocol::policy::{PeerScopes, ScopeSet};
use tusach_sync::protocol::wire::{self, ErrorCode, Message};
use tusach_sync::store::{Batch, Payload};
use tusach_sync::{
    AllowAll, DeviceId, EntityKey, Role, Scope, ScopePolicy, SessionError, Store, Value, WriteBatch,
};
use tusach_tests::{Recorded, Replica, decode_stream, drive, key, scope, session};

const ALLOWED: [&str; 2] = ["network", "library:a"];
/// Written only into `library:b` entities; must never reach a restricted peer.
const SECRET: &str = "LIBB-SECRET";
/// Written only into `library:a` entities; must reach it (so the search above can fail).
const VISIBLE: &str = "LIBA-VISIBLE";

/// Named peers get their scopes; everyone else gets `default`.
fn policy(peers: &[(DeviceId, ScopeSet)], default: ScopeSet) -> Arc<dyn ScopePolicy> {
    Arc::new(PeerScopes {
        default,
        peers: peers.iter().cloned().collect::<HashMap<_, _>>(),
    })
}

fn only_allowed() -> ScopeSet {
    ScopeSet::of(ALLOWED)
}

fn allowed_scopes() -> BTreeSet<Scope> {
    ALLOWED.iter().map(|name| scope(name)).collect()
}

/// A hub's worth of data in all three scopes. Some shards get several changes (so they travel
/// as whole documents to a new peer), most get one (so they travel as changes). `round`
/// varies the values so a second call makes fresh edits.
fn write_library_data(store: &mut Store, round: u32) {
    for n in 0..12 {
        let mut batch = WriteBatch::new();
        batch
            .put(
                &key("network", "records", &format!("rec-{n}")),
                "title",
                format!("Truyện {n}, bản {round}"),
            )
            .put(
                &key("library:a", "copies", &format!("copy-{n}")),
                "note",
                format!("{VISIBLE} {n} {round}"),
            )
            .put(
                &key("library:b", "copies", &format!("copy-{n}")),
                "note",
                format!("{SECRET} {n} {round}"),
            )
            .put(
                &key("library:b", "readers", &format!("reader-{n}")),
                "name",
                format!("{SECRET} bạn đọc {n} {round}"),
            );
        store.commit(&batch).expect("commit");
    }
    let mut batch = WriteBatch::new();
    batch.put(&key("library:b", "copies", "copy-0"), "barcode", SECRET);
    batch.put(&key("library:a", "copies", "copy-0"), "barcode", VISIBLE);
    store.commit(&batch).expect("commit");
}

fn secret_entity() -> EntityKey {
    key("library:b", "copies", "copy-0")
}

/// One session, `a` as `role_a` and `b` the other way round, with every byte recorded.
fn recorded_session(
    a: &mut Replica,
    policy_a: Arc<dyn ScopePolicy>,
    role_a: Role,
    b: &mut Replica,
    policy_b: Arc<dyn ScopePolicy>,
) -> Recorded {
    let role_b = match role_a {
        Role::Initiator => Role::Responder,
        Role::Responder => Role::Initiator,
    };
    let mut sa = session(role_a, &a.store, policy_a);
    let mut sb = session(role_b, &b.store, policy_b);
    drive(&mut a.store, &mut sa, &mut b.store, &mut sb)
}

/// Checks a stream a restricted peer received: every batch only in the allowed scopes, and
/// (when the sender answered as responder, knowing who asked) a HELLO that names only those.
/// Returns the batches for a content check.
fn check_stream(stream: &[u8], sender_was_responder: bool) -> Vec<Batch> {
    let allowed = allowed_scopes();
    let mut batches = Vec::new();
    let messages = decode_stream(stream, wire::STREAM_MAGIC).expect("the stream decodes");
    for message in messages {
        match message {
            Message::Hello(hello) if sender_was_responder => {
                let named: BTreeSet<Scope> = hello.knowledge.vectors.keys().cloned().collect();
                assert!(
                    named.is_subset(&allowed),
                    "the HELLO to a restricted peer names scopes {named:?}"
                );
            }
            Message::Batch { batch, .. } => {
                for item in &batch.shards {
                    assert!(
                        allowed.contains(&item.shard.scope),
                        "a batch to a restricted peer carries shard {:?}",
                        item.shard
                    );
                }
                batches.push(batch);
            }
            _ => {}
        }
    }
    batches
}

/// Merges received batches into a replica that only listens (changes need the earlier ones
/// they build on, so it hears every stream of a test) and returns every id and string value it
/// then shows, in any scope and collection the tests use.
fn sniff(sniffer: &mut Replica, batches: &[Batch]) -> Vec<String> {
    for batch in batches {
        sniffer
            .store
            .apply_batch(batch)
            .expect("a received batch applies");
    }
    let mut texts = Vec::new();
    for scope_name in ["network", "library:a", "library:b"] {
        for collection in ["records", "copies", "readers"] {
            sniffer
                .store
                .scan(&scope(scope_name), collection, |id, entity| {
                    texts.push(id.to_owned());
                    for value in entity.values() {
                        if let Value::Str(s) = value {
                            texts.push(s.clone());
                        }
                    }
                })
                .expect("scan");
        }
    }
    texts
}

/// What a restricted peer received carries nothing of `library:b` and does carry `library:a`.
fn assert_no_secret_crossed(sniffer: &mut Replica, batches: &[Batch]) {
    let texts = sniff(sniffer, batches);
    let leaked: Vec<&String> = texts.iter().filter(|t| t.contains(SECRET)).collect();
    assert!(
        leaked.is_empty(),
        "library:b content crossed the wire: {leaked:?}"
    );
    // Also the raw change bytes, where automerge keeps short strings verbatim.
    for batch in batches {
        for item in &batch.shards {
            let bytes: Vec<&[u8]> = match &item.payload {
                Payload::Changes(changes) => changes.iter().map(Vec::as_slice).collect(),
                Payload::Document(doc) => vec![doc.as_slice()],
            };
            for bytes in bytes {
                assert!(
                    !contains(bytes, SECRET.as_bytes()),
                    "the marker of library:b is in the payload of {:?}",
                    item.shard
                );
            }
        }
    }
    assert!(
        texts.iter().any(|t| t.contains(VISIBLE)),
        "library:a content never arrived, so the search for library:b proves nothing"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_holds_no_secret(peer: &mut Replica) {
    let scopes = peer.store.scopes().expect("scopes");
    assert!(
        !scopes.contains(&scope("library:b")),
        "the peer holds shards of library:b: {scopes:?}"
    );
    assert_eq!(peer.store.get(&secret_entity()).expect("get"), None);
}

#[test]
fn a_restricted_peer_receives_its_scopes_and_not_one_byte_of_another() {
    for hub_role in [Role::Responder, Role::Initiator] {
        let mut hub = Replica::new();
        let mut peer = Replica::new();
        let mut sniffer = Replica::new();
        let hub_policy = policy(&[(peer.id(), only_allowed())], ScopeSet::none());
        write_library_data(&mut hub.store, 0);

        // First contact: shards travel whole; then fresh edits travel as changes.
        for round in 1..=2 {
            let run = recorded_session(
                &mut hub,
                hub_policy.clone(),
                hub_role,
                &mut peer,
                Arc::new(AllowAll),
            );
            assert!(
                run.a_finished && run.b_finished,
                "hub as {hub_role:?}, round {round}: {run:?}"
            );
            let batches = check_stream(&run.a_sent, hub_role == Role::Responder);
            assert!(!batches.is_empty(), "hub as {hub_role:?}: nothing was sent");
            assert_no_secret_crossed(&mut sniffer, &batches);
            assert_holds_no_secret(&mut peer);
            assert_eq!(peer.store.scopes().expect("scopes"), allowed_scopes());
            let copy = peer
                .store
                .get(&key("library:a", "copies", "copy-0"))
                .expect("get")
                .expect("library:a reached the peer");
            assert_eq!(copy["barcode"], Value::from(VISIBLE));
            write_library_data(&mut hub.store, round);
        }
    }
}

#[test]
fn a_peer_pushing_a_scope_it_may_not_is_refused_and_nothing_changes() {
    for hub_role in [Role::Responder, Role::Initiator] {
        for mixed in [false, true] {
            let case = format!("hub as {hub_role:?}, mixed batch {mixed}");
            let mut hub = Replica::new();
            let mut peer = Replica::new();
            let hub_policy = policy(&[(peer.id(), only_allowed())], ScopeSet::none());
            write_library_data(&mut hub.store, 0);
            let run = recorded_session(
                &mut hub,
                hub_policy.clone(),
                hub_role,
                &mut peer,
                Arc::new(AllowAll),
            );
            assert!(run.a_finished && run.b_finished, "{case}: {run:?}");

            // The peer writes where it may not (in one commit with allowed data, when mixed:
            // one batch, refused whole).
            let mut batch = WriteBatch::new();
            batch.put(&secret_entity(), "note", "viết trộm");
            if mixed {
                batch.put(&key("network", "records", "rec-1"), "title", "sửa hợp lệ");
            }
            peer.store.commit(&batch).expect("commit");
            let hub_before = hub.state();
            let hub_scopes = hub.store.scopes().expect("scopes");

            let run = recorded_session(
                &mut hub,
                hub_policy.clone(),
                hub_role,
                &mut peer,
                Arc::new(AllowAll),
            );
            if hub_role == Role::Responder {
                // The hub's HELLO said which scopes it takes, so the peer keeps its stray
                // library:b write to itself and everything else still goes through.
                assert!(run.a_finished && run.b_finished, "{case}: {run:?}");
                let edit = hub
                    .store
                    .get(&key("network", "records", "rec-1"))
                    .expect("get")
                    .and_then(|e| e.get("title").cloned());
                assert_eq!(
                    edit == Some(Value::from("sửa hợp lệ")),
                    mixed,
                    "{case}: the allowed edit arrives despite the stray one"
                );
                if !mixed {
                    assert_eq!(hub.state(), hub_before, "{case}: nothing to take");
                }
            } else {
                // As initiator the hub could not name its peer's scopes in advance: the peer
                // offers everything and the hub refuses the batch whole.
                match &run.a_error {
                    Some(SessionError::ScopeRefused(refused)) => assert_eq!(refused, "library:b"),
                    other => panic!("{case}: the hub did not refuse the scope: {other:?}"),
                }
                assert!(
                    run.a_error.as_ref().is_some_and(SessionError::is_permanent),
                    "{case}: a scope refusal is permanent"
                );
                match &run.b_error {
                    Some(SessionError::Peer {
                        code: ErrorCode::ScopeRefused,
                        ..
                    }) => {}
                    other => panic!("{case}: the peer was not told why: {other:?}"),
                }
                assert_eq!(
                    hub.state(),
                    hub_before,
                    "{case}: the refusal changed the hub"
                );
            }
            assert_eq!(hub.store.scopes().expect("scopes"), hub_scopes);
            let entity = hub.store.get(&secret_entity()).expect("get");
            assert_ne!(
                entity.and_then(|e| e.get("note").cloned()),
                Some(Value::from("viết trộm")),
                "{case}: the hub took the peer's library:b edit"
            );
        }
    }
}

#[test]
fn a_relay_passes_on_nothing_it_refused() {
    let mut peer = Replica::new();
    let mut relay = Replica::new();
    let mut other = Replica::new();
    let relay_policy = policy(&[(peer.id(), only_allowed())], ScopeSet::All);

    let mut batch = WriteBatch::new();
    batch.put(&secret_entity(), "note", format!("{SECRET} from a peer"));
    peer.store.commit(&batch).expect("commit");
    let relay_before = relay.state();
    // As responder the relay says what it takes, and the peer keeps library:b to itself.
    let run = recorded_session(
        &mut relay,
        relay_policy.clone(),
        Role::Responder,
        &mut peer,
        Arc::new(AllowAll),
    );
    assert!(run.a_finished && run.b_finished, "{run:?}");
    assert_eq!(relay.state(), relay_before);
    // As initiator it cannot say so in advance: the peer offers it and the relay refuses.
    let run = recorded_session(
        &mut relay,
        relay_policy.clone(),
        Role::Initiator,
        &mut peer,
        Arc::new(AllowAll),
    );
    assert!(
        matches!(run.a_error, Some(SessionError::ScopeRefused(_))),
        "{run:?}"
    );
    assert_eq!(relay.state(), relay_before);

    let run = recorded_session(
        &mut relay,
        relay_policy,
        Role::Responder,
        &mut other,
        Arc::new(AllowAll),
    );
    assert!(run.a_finished && run.b_finished, "{run:?}");
    assert_holds_no_secret(&mut other);
    assert_holds_no_secret(&mut relay);
}

#[test]
fn a_relay_holding_another_scope_keeps_it_from_a_restricted_peer() {
    for relay_role in [Role::Responder, Role::Initiator] {
        let mut source = Replica::new();
        let mut relay = Replica::new();
        let mut peer = Replica::new();
        let mut sniffer = Replica::new();
        let relay_policy = policy(&[(peer.id(), only_allowed())], ScopeSet::All);
        write_library_data(&mut source.store, 0);

        let run = recorded_session(
            &mut relay,
            relay_policy.clone(),
            relay_role,
            &mut source,
            Arc::new(AllowAll),
        );
        assert!(run.a_finished && run.b_finished, "{run:?}");
        assert!(
            relay
                .store
                .scopes()
                .expect("scopes")
                .contains(&scope("library:b"))
        );

        let run = recorded_session(
            &mut relay,
            relay_policy.clone(),
            relay_role,
            &mut peer,
            Arc::new(AllowAll),
        );
        assert!(run.a_finished && run.b_finished, "{run:?}");
        let batches = check_stream(&run.a_sent, relay_role == Role::Responder);
        assert_no_secret_crossed(&mut sniffer, &batches);
        assert_holds_no_secret(&mut peer);

        // New library:b edits reach the relay later; neither a session nor a bundle for the
        // restricted peer carries them.
        write_library_data(&mut source.store, 1);
        let run = recorded_session(
            &mut relay,
            relay_policy.clone(),
            relay_role,
            &mut source,
            Arc::new(AllowAll),
        );
        assert!(run.a_finished && run.b_finished, "{run:?}");
        let mut bytes = Vec::new();
        bundle::write_bundle(
            &mut relay.store,
            peer.id(),
            relay_policy.as_ref(),
            64 * 1024,
            &mut bytes,
        )
        .expect("bundle");
        let batches = check_stream_of_bundle(&bytes);
        assert!(!batches.is_empty(), "the bundle carries the allowed edits");
        assert_no_secret_crossed(&mut sniffer, &batches);
        bundle::read_bundle(&mut peer.store, &bytes, &AllowAll).expect("the bundle reads");
        assert_holds_no_secret(&mut peer);
    }
}

fn check_stream_of_bundle(bytes: &[u8]) -> Vec<Batch> {
    let allowed = allowed_scopes();
    let mut batches = Vec::new();
    for message in decode_stream(bytes, wire::BUNDLE_MAGIC).expect("the bundle decodes") {
        if let Message::Batch { batch, .. } = message {
            for item in &batch.shards {
                assert!(
                    allowed.contains(&item.shard.scope),
                    "a bundle for a restricted peer carries {:?}",
                    item.shard
                );
            }
            batches.push(batch);
        }
    }
    batches
}

#[test]
fn a_bundle_carrying_a_scope_its_sender_may_not_give_is_refused_whole() {
    let mut hub = Replica::new();
    let mut peer = Replica::new();
    let hub_policy = policy(&[(peer.id(), only_allowed())], ScopeSet::none());

    // Allowed data alone goes through (so the refusal below is about the scope).
    let mut batch = WriteBatch::new();
    batch.put(&key("library:a", "copies", "copy-9"), "note", "hợp lệ");
    peer.store.commit(&batch).expect("commit");
    let mut bytes = Vec::new();
    bundle::write_bundle(&mut peer.store, hub.id(), &AllowAll, 64 * 1024, &mut bytes)
        .expect("bundle");
    let report = bundle::read_bundle(&mut hub.store, &bytes, hub_policy.as_ref())
        .expect("an allowed bundle reads");
    assert_eq!(report.new_changes, 1);

    // Then a bundle that also carries library:b, in an earlier batch than allowed data.
    let mut batch = WriteBatch::new();
    batch.put(&secret_entity(), "note", format!("{SECRET} on a USB stick"));
    peer.store.commit(&batch).expect("commit");
    let mut batch = WriteBatch::new();
    batch.put(&key("network", "records", "rec-9"), "title", "hợp lệ");
    peer.store.commit(&batch).expect("commit");
    let mut bytes = Vec::new();
    bundle::write_bundle(&mut peer.store, hub.id(), &AllowAll, 10, &mut bytes).expect("bundle");
    let before = hub.state();
    match bundle::read_bundle(&mut hub.store, &bytes, hub_policy.as_ref()) {
        Err(BundleError::ScopeRefused(refused)) => assert_eq!(refused, "library:b"),
        other => panic!("a bundle with library:b was not refused: {other:?}"),
    }
    assert_eq!(hub.state(), before, "a refused bundle changed the hub");
    assert_eq!(
        hub.store
            .get(&key("network", "records", "rec-9"))
            .expect("get"),
        None,
        "part of a refused bundle was applied"
    );
    assert_holds_no_secret(&mut hub);
}
