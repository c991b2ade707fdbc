//! Bad input: a phone sends garbage, a serial line flips bits and drops the call, a stranger
//! speaks an older protocol, a USB stick holds half a bundle (DESIGN §5). A responder fed any of
//! that must refuse it with an error (or, for input that merely stops early, wait for more
//! without acknowledging anything), never panic, leave its store exactly as it was before the
//! bad part — batches acknowledged before it may stay — and end its session cleanly with an
//! ERROR frame queued for the peer.
//!
//! The sound input is a real exchange recorded here; the bad input is cut, replayed, reordered
//! or damaged from it, or made by hand (frames with a valid checksum around a bad payload,
//! automerge changes without an origin counter). One helper per kind of check, many short cases.

use std::collections::BTreeSet;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjType, ROOT};
use tusach_sync::bundle::{self, BundleError};
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::protocol::wire::{
    self, ErrorCode, Hello, MAX_BATCH_RAW, MAX_FRAME_PAYLOAD, Message, WireError,
};
use tusach_sync::store::{Batch, Knowledge, Payload, ShardPayload};
use tusach_sync::{
    AllowAll, DeviceId, EntityKey, Role, Session, SessionError, StoreError, Value, WriteBatch,
};
use tusach_tests::{
    Replica, StoreState, allow_all, decode_stream, drain, drive, key, raw_frame, session,
    session_with, split_frames,
};

// ---------------------------------------------------------------------------------------------
// The sound input: a recorded exchange.

/// What a real initiator sent a new replica: preamble, HELLO, several BATCHes, DONE.
struct Recording {
    stream: Vec<u8>,
    frames: Vec<Vec<u8>>,
    source: DeviceId,
}

impl Recording {
    fn new() -> Recording {
        let mut source = Replica::new();
        for n in 0..6 {
            let mut batch = WriteBatch::new();
            batch.put(
                &key("network", "records", &format!("rec-{n}")),
                "title",
                format!("Truyện Kiều, tập {n}"),
            );
            if n % 2 == 0 {
                batch.put(
                    &key("library:a", "copies", &format!("copy-{n}")),
                    "shelf",
                    "Kệ A",
                );
            }
            source.store.commit(&batch).expect("commit");
        }
        // A second edit of one record, so its shard travels as a whole document.
        let mut batch = WriteBatch::new();
        batch.put(&key("network", "records", "rec-0"), "year", 1820);
        source.store.commit(&batch).expect("commit");

        let mut target = Replica::new();
        let small_batches = SessionOptions {
            batch_bytes: 150,
            window: 4,
            ..SessionOptions::default()
        };
        let mut sa = session_with(Role::Initiator, &source.store, allow_all(), small_batches);
        let mut sb = session(Role::Responder, &target.store, allow_all());
        let run = drive(&mut source.store, &mut sa, &mut target.store, &mut sb);
        assert!(
            run.a_finished && run.b_finished,
            "the recorded exchange: {run:?}"
        );
        let frames = split_frames(&run.a_sent, wire::STREAM_MAGIC).expect("frames");
        let recording = Recording {
            stream: run.a_sent,
            frames,
            source: source.id(),
        };
        assert!(
            recording.batch_count() >= 3,
            "the recording should hold several batches, not {}",
            recording.batch_count()
        );
        recording
    }

    fn preamble(&self) -> Vec<u8> {
        self.stream[..wire::PREAMBLE_LEN].to_vec()
    }

    fn hello(&self) -> &[u8] {
        &self.frames[0]
    }

    /// BATCH number `n` (from 1).
    fn batch(&self, n: usize) -> &[u8] {
        &self.frames[n]
    }

    fn batch_count(&self) -> usize {
        self.frames.len() - 2
    }

    fn done(&self) -> &[u8] {
        &self.frames[self.frames.len() - 1]
    }

    /// Preamble and HELLO, then the first `batches` batches.
    fn opening(&self, batches: usize) -> Vec<u8> {
        let mut bytes = self.preamble();
        for frame in &self.frames[..=batches] {
            bytes.extend_from_slice(frame);
        }
        bytes
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn victim() -> Replica {
    Replica::with_cache(64)
}

fn responder(victim: &Replica) -> Session {
    session(Role::Responder, &victim.store, allow_all())
}

/// Acknowledgements among what a session sent.
fn acks(sent: &[u8]) -> usize {
    if sent.is_empty() {
        return 0;
    }
    decode_stream(sent, wire::STREAM_MAGIC)
        .expect("what the responder sent decodes")
        .iter()
        .filter(|m| matches!(m, Message::Ack { .. }))
        .count()
}

// ---------------------------------------------------------------------------------------------
// Streams fed to a responder.

/// Which errors a case accepts.
type IsSessionError = fn(&SessionError) -> bool;
type IsBundleError = fn(&BundleError) -> bool;

/// What a responder must do with the bad part of its input.
enum Expect {
    /// Fail with an error `is` accepts and answer as `reply` says.
    Refused { is: IsSessionError, reply: Reply },
    /// Wait for more bytes: no error, no acknowledgement.
    Waits,
}

/// What a failed responder queues for its peer.
enum Reply {
    /// An ERROR frame with this code.
    Error(ErrorCode),
    /// An ERROR frame, whatever its code.
    AnyError,
    /// Nothing: the peer sent the ERROR.
    Nothing,
}

fn refused(is: IsSessionError, code: ErrorCode) -> Expect {
    Expect::Refused {
        is,
        reply: Reply::Error(code),
    }
}

/// Feeds `sound` then `bad` to a new responder and checks it does what `expect` says, leaving
/// its store as `sound` left it.
fn check_stream(name: &str, sound: &[u8], bad: &[u8], expect: Expect) {
    let mut victim = victim();
    let mut session = responder(&victim);
    let mut error = None;
    if let Err(e) = session.receive(&mut victim.store, sound) {
        panic!("{name}: the sound part was refused: {e}");
    }
    let mut sent = drain(&mut victim.store, &mut session, &mut error);
    assert!(error.is_none(), "{name}: {error:?}");
    let before = victim.state();
    let acks_before = acks(&sent);

    let result = session.receive(&mut victim.store, bad);
    sent.extend(drain(&mut victim.store, &mut session, &mut error));
    assert_eq!(
        victim.state(),
        before,
        "{name}: the bad part changed the store"
    );
    match expect {
        Expect::Refused { is, reply } => {
            let error = match result {
                Err(e) => e,
                Ok(()) => panic!("{name}: accepted without an error"),
            };
            assert!(
                is(&error),
                "{name}: refused for the wrong reason: {error:?}"
            );
            assert!(session.has_failed(), "{name}: the session did not end");
            let messages = decode_stream(&sent, wire::STREAM_MAGIC)
                .unwrap_or_else(|e| panic!("{name}: what the responder sent is not a stream: {e}"));
            match (reply, messages.last()) {
                (Reply::Error(code), Some(Message::Error { code: sent, .. })) => {
                    assert_eq!(*sent, code, "{name}: wrong code in the ERROR frame")
                }
                (Reply::AnyError, Some(Message::Error { .. })) => {}
                (Reply::Nothing, Some(Message::Error { .. })) => {
                    panic!("{name}: answered the peer's ERROR with another")
                }
                (Reply::Nothing, _) => {}
                (_, other) => panic!("{name}: no ERROR frame for the peer, last {other:?}"),
            }
            // A failed session ignores whatever else arrives.
            let mut recording_again = sound.to_vec();
            recording_again.extend_from_slice(bad);
            assert!(session.receive(&mut victim.store, &recording_again).is_ok());
            assert!(drain(&mut victim.store, &mut session, &mut None).is_empty());
            assert_eq!(
                victim.state(),
                before,
                "{name}: a failed session changed the store"
            );
        }
        Expect::Waits => {
            if let Err(e) = result {
                panic!("{name}: refused input that may just be incomplete: {e}");
            }
            assert!(
                !session.has_failed() && !session.is_finished(),
                "{name}: the session ended"
            );
            assert_eq!(
                acks(&sent),
                acks_before,
                "{name}: acknowledged a partial frame"
            );
        }
    }
}

fn is_bad_magic(e: &SessionError) -> bool {
    matches!(e, SessionError::Wire(WireError::BadMagic))
}

fn is_bad_checksum(e: &SessionError) -> bool {
    matches!(e, SessionError::Wire(WireError::BadChecksum))
}

fn is_too_large(e: &SessionError) -> bool {
    matches!(e, SessionError::Wire(WireError::FrameTooLarge(_)))
}

fn is_malformed(e: &SessionError) -> bool {
    matches!(e, SessionError::Wire(WireError::Malformed(_)))
}

fn is_unexpected(e: &SessionError) -> bool {
    matches!(e, SessionError::Unexpected(_))
}

fn is_invalid_change(e: &SessionError) -> bool {
    matches!(e, SessionError::Store(StoreError::InvalidChange(_)))
}

#[test]
fn garbage_instead_of_a_stream_is_refused() {
    let r = Recording::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let random: Vec<u8> = (0..200).map(|_| rng.u8(..)).collect();
    let cases: [(&str, &[u8]); 6] = [
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: tusach.local\r\n\r\n",
        ),
        ("zeros", &[0; 64]),
        (
            "a TLS client hello",
            &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00],
        ),
        ("a bundle instead of a stream", b"TSBN\x01"),
        ("a near miss of the magic", b"TSYX\x01"),
        ("random bytes", &random[..]),
    ];
    for (name, bad) in cases {
        check_stream(name, &[], bad, refused(is_bad_magic, ErrorCode::Malformed));
    }
    check_stream("half a preamble", &[], b"TSY", Expect::Waits);
    check_stream(
        "a sound stream cut inside its HELLO",
        &[],
        &r.opening(0)[..20],
        Expect::Waits,
    );
}

#[test]
fn another_protocol_version_is_refused_as_such() {
    let r = Recording::new();
    for version in [0u8, 1, 3, 0xff] {
        let mut stream = r.opening(1);
        stream[4] = version;
        let name = format!("version {version}");
        check_stream(
            &name,
            &[],
            &stream,
            Expect::Refused {
                is: |e| {
                    matches!(e, SessionError::Wire(WireError::UnsupportedVersion(_)))
                        && e.is_permanent()
                },
                reply: Reply::Error(ErrorCode::Version),
            },
        );
    }
}

#[test]
fn damaged_frames_are_refused() {
    let r = Recording::new();
    let preamble = r.preamble();
    let opening = r.opening(0);
    let mut flipped_hello = r.hello().to_vec();
    let last = flipped_hello.len() - 1;
    flipped_hello[last] ^= 0x01;
    let mut flipped_batch = r.batch(1).to_vec();
    flipped_batch[12] ^= 0x40;
    let huge = cat(&[&[wire::TYPE_BATCH], &u32::MAX.to_le_bytes()]);
    let over = cat(&[
        &[wire::TYPE_BATCH],
        &(MAX_FRAME_PAYLOAD as u32 + 1).to_le_bytes(),
    ]);
    let at_limit = cat(&[
        &[wire::TYPE_BATCH],
        &(MAX_FRAME_PAYLOAD as u32).to_le_bytes(),
    ]);

    let cases: Vec<(&str, &[u8], Vec<u8>, Expect)> = vec![
        (
            "a HELLO with a bad checksum",
            &preamble,
            flipped_hello,
            refused(is_bad_checksum, ErrorCode::Malformed),
        ),
        (
            "a BATCH with a bad checksum",
            &opening,
            flipped_batch,
            refused(is_bad_checksum, ErrorCode::Malformed),
        ),
        (
            "a frame declaring 4 GiB",
            &opening,
            huge,
            refused(is_too_large, ErrorCode::Malformed),
        ),
        (
            "a frame just over the limit",
            &opening,
            over,
            refused(is_too_large, ErrorCode::Malformed),
        ),
        (
            "a frame at the limit, still arriving",
            &opening,
            at_limit,
            Expect::Waits,
        ),
        (
            "an unknown frame type",
            &opening,
            raw_frame(0x7f, b"?"),
            refused(
                |e| matches!(e, SessionError::Wire(WireError::UnknownType(0x7f))),
                ErrorCode::Malformed,
            ),
        ),
        (
            "an empty HELLO",
            &preamble,
            raw_frame(wire::TYPE_HELLO, &[]),
            refused(is_malformed, ErrorCode::Malformed),
        ),
        (
            "a HELLO with trailing bytes",
            &preamble,
            {
                let mut payload = r.hello()[5..r.hello().len() - 4].to_vec();
                payload.push(0);
                raw_frame(wire::TYPE_HELLO, &payload)
            },
            refused(is_malformed, ErrorCode::Malformed),
        ),
        (
            "a HELLO whose knowledge counts more scopes than it has bytes",
            &preamble,
            {
                let mut payload = r.source.0.to_vec();
                payload.extend_from_slice(&[0xff, 0x7f]);
                raw_frame(wire::TYPE_HELLO, &payload)
            },
            refused(is_malformed, ErrorCode::Malformed),
        ),
        (
            "an ERROR with a broken message",
            &opening,
            raw_frame(wire::TYPE_ERROR, &[1, 0, 5, b'a']),
            refused(is_malformed, ErrorCode::Malformed),
        ),
        (
            "an ACK whose number never ends",
            &opening,
            raw_frame(wire::TYPE_ACK, &[0xff; 11]),
            refused(is_malformed, ErrorCode::Malformed),
        ),
    ];
    for (name, sound, bad, expect) in cases {
        check_stream(name, sound, &bad, expect);
    }
}

#[test]
fn frames_out_of_order_or_replayed_are_refused() {
    let r = Recording::new();
    let preamble = r.preamble();
    let opening = r.opening(0);
    let after_one = r.opening(1);
    let count = r.batch_count() as u64;
    let cases: Vec<(&str, &[u8], Vec<u8>, Expect)> = vec![
        (
            "a BATCH before the HELLO",
            &preamble,
            r.batch(1).to_vec(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "BATCH 2 before BATCH 1",
            &opening,
            r.batch(2).to_vec(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "BATCH 1 replayed",
            &after_one,
            r.batch(1).to_vec(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "BATCH 3 after BATCH 1",
            &after_one,
            r.batch(3).to_vec(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "a second HELLO",
            &opening,
            r.hello().to_vec(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "DONE before its batches",
            &opening,
            r.done().to_vec(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "DONE counting one batch too few",
            &after_one,
            Message::Done { batches: 0 }.encode(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "DONE counting every batch after one",
            &after_one,
            Message::Done { batches: count }.encode(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "an ACK for a batch never sent",
            &opening,
            Message::Ack { number: 1 }.encode(),
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "a BATCH numbered 0",
            &opening,
            {
                let Message::Batch { batch, .. } = Message::decode(r.batch(1)).expect("decode")
                else {
                    panic!("not a batch")
                };
                Message::Batch { number: 0, batch }.encode()
            },
            refused(is_unexpected, ErrorCode::Unexpected),
        ),
        (
            "the peer's ERROR",
            &after_one,
            Message::Error {
                code: ErrorCode::Internal,
                message: "disk full".into(),
            }
            .encode(),
            Expect::Refused {
                is: |e| {
                    matches!(
                        e,
                        SessionError::Peer {
                            code: ErrorCode::Internal,
                            ..
                        }
                    )
                },
                reply: Reply::Nothing,
            },
        ),
    ];
    for (name, sound, bad, expect) in cases {
        check_stream(name, sound, &bad, expect);
    }
}

#[test]
fn a_hello_claiming_the_responders_own_id_is_refused() {
    let r = Recording::new();
    let mut victim = victim();
    let mut session = responder(&victim);
    let before = victim.state();
    let hello = Message::Hello(Hello {
        device: victim.id(),
        knowledge: Knowledge::default(),
        accepts: tusach_sync::ScopeSet::All,
    })
    .encode();
    let result = session.receive(&mut victim.store, &cat(&[&r.preamble(), &hello]));
    assert!(
        matches!(result, Err(SessionError::SameDevice)),
        "{result:?}"
    );
    assert!(session.has_failed());
    let sent = drain(&mut victim.store, &mut session, &mut None);
    let messages = decode_stream(&sent, wire::STREAM_MAGIC).expect("decodes");
    assert!(
        matches!(
            messages.last(),
            Some(Message::Error {
                code: ErrorCode::Unexpected,
                ..
            })
        ),
        "{messages:?}"
    );
    assert_eq!(victim.state(), before);
}

/// A BATCH frame around a hand-made body: `raw_len` declared, `compressed` as the rest.
fn batch_frame(raw_len: u64, compressed: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    wire::put_varint(&mut payload, 1);
    wire::put_varint(&mut payload, raw_len);
    payload.extend_from_slice(compressed);
    raw_frame(wire::TYPE_BATCH, &payload)
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(bytes, 3).expect("zstd compresses")
}

/// A BATCH frame whose body (before compression) is `body`, declared at its true length.
fn batch_with_body(body: &[u8]) -> Vec<u8> {
    batch_frame(body.len() as u64, &zstd(body))
}

/// A batch body with one shard whose fields are given raw.
fn body(scope: &str, collection: &str, bucket: u64, kind: u8, rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    wire::put_varint(&mut out, 1);
    for text in [scope, collection] {
        wire::put_varint(&mut out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
    wire::put_varint(&mut out, bucket);
    out.push(kind);
    out.extend_from_slice(rest);
    out
}

#[test]
fn batch_bodies_that_decompress_to_garbage_are_refused() {
    let r = Recording::new();
    let opening = r.opening(0);
    let mut rng = fastrand::Rng::with_seed(11);
    let garbage: Vec<u8> = (0..300).map(|_| rng.u8(..)).collect();
    let sound_body = body("network", "records", 3, 0, &[0]);
    let cases: Vec<(&str, Vec<u8>, IsSessionError)> = vec![
        (
            "a body of random bytes",
            batch_with_body(&garbage),
            is_malformed,
        ),
        (
            "a body that is not zstd",
            batch_frame(300, &garbage),
            is_malformed,
        ),
        ("an empty body", batch_frame(0, &[]), is_malformed),
        (
            "a body longer than declared",
            batch_frame(10, &zstd(&garbage)),
            is_malformed,
        ),
        (
            "a body shorter than declared",
            batch_frame(400, &zstd(&garbage)),
            is_malformed,
        ),
        (
            "a body declared larger than any batch may be",
            batch_frame(MAX_BATCH_RAW as u64 + 1, &zstd(&garbage)),
            is_too_large,
        ),
        (
            "a body counting a billion shards",
            batch_with_body(&[0x80, 0x94, 0xeb, 0xdc, 0x03]),
            is_malformed,
        ),
        (
            "a shard in bucket 999",
            batch_with_body(&body("network", "records", 999, 0, &[0])),
            is_malformed,
        ),
        (
            "a shard with no collection",
            batch_with_body(&body("network", "", 3, 0, &[0])),
            is_malformed,
        ),
        (
            "a shard with an empty scope",
            batch_with_body(&body("", "records", 3, 0, &[0])),
            is_malformed,
        ),
        (
            "an unknown payload kind",
            batch_with_body(&body("network", "records", 3, 9, &[0])),
            is_malformed,
        ),
        (
            "a change running past the end",
            batch_with_body(&body("network", "records", 3, 0, &[1, 50, 1, 2])),
            is_malformed,
        ),
        (
            "trailing bytes after the shards",
            batch_with_body(&cat(&[&sound_body, &[0]])),
            is_malformed,
        ),
        (
            "a scope that is not UTF-8",
            batch_with_body(&{
                let mut b = body("network", "records", 3, 0, &[0]);
                b[2] = 0xff;
                b
            }),
            is_malformed,
        ),
    ];
    for (name, bad, is) in cases {
        check_stream(name, &opening, &bad, refused(is, ErrorCode::Malformed));
    }
    // The control: the sound body is accepted (a shard with no changes).
    let mut victim = victim();
    let mut session = responder(&victim);
    session
        .receive(
            &mut victim.store,
            &cat(&[&opening, &batch_with_body(&sound_body)]),
        )
        .expect("a sound hand-made body is accepted");
    assert_eq!(acks(&drain(&mut victim.store, &mut session, &mut None)), 1);
}

/// One automerge change as a device would write it into a shard: entity `id` gets a title.
fn change(actor: &[u8], message: Option<&str>, id: &str) -> Vec<u8> {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
    let entity = doc.put_object(ROOT, id, ObjType::Map).expect("put_object");
    doc.put(&entity, "title", "giả mạo").expect("put");
    let options = match message {
        Some(m) => CommitOptions::default().with_message(m),
        None => CommitOptions::default(),
    };
    doc.commit_with(options);
    doc.get_last_local_change()
        .expect("a change")
        .raw_bytes()
        .to_vec()
}

/// BATCH `number` with one shard: the entity's.
fn batch_message(number: u64, entity: &EntityKey, payload: Payload) -> Vec<u8> {
    Message::Batch {
        number,
        batch: Batch {
            shards: vec![ShardPayload {
                shard: entity.shard(),
                payload,
            }],
        },
    }
    .encode()
}

#[test]
fn changes_the_store_cannot_take_are_refused() {
    let r = Recording::new();
    let opening = r.opening(0);
    let device = [7u8; 16];
    // Into a shard the victim will already hold, and into one it has never seen.
    let held = key("network", "records", "rec-1");
    let fresh = key("library:b", "readers", "reader-1");
    let mut document = Replica::new();
    let mut edit = WriteBatch::new();
    edit.put(&fresh, "name", "Lan").put(&fresh, "class", "5A");
    document.store.commit(&edit).expect("commit");
    let mut doc_bytes = Vec::new();
    bundle::write_bundle(
        &mut document.store,
        device_id(device),
        &AllowAll,
        1 << 20,
        &mut doc_bytes,
    )
    .expect("bundle");

    let all = r.batch_count();
    for (entity, sound, number) in [
        (&held, r.opening(all), all as u64 + 1),
        (&fresh, opening.clone(), 1),
    ] {
        let cases: Vec<(&str, Payload)> = vec![
            (
                "a change with no commit message",
                Payload::Changes(vec![change(&device, None, &entity.id)]),
            ),
            (
                "a change whose message is not a counter",
                Payload::Changes(vec![change(&device, Some("hello"), &entity.id)]),
            ),
            (
                "a change with counter 0",
                Payload::Changes(vec![change(&device, Some("0"), &entity.id)]),
            ),
            (
                "a change with a negative counter",
                Payload::Changes(vec![change(&device, Some("-3"), &entity.id)]),
            ),
            (
                "a change by an actor that is no device",
                Payload::Changes(vec![change(&[1, 2, 3], Some("1"), &entity.id)]),
            ),
            (
                "bytes that are no change",
                Payload::Changes(vec![b"not an automerge change".to_vec()]),
            ),
            (
                "a sound change, then one without a counter",
                Payload::Changes(vec![
                    change(&device, Some("1"), &entity.id),
                    change(&[8u8; 16], None, &entity.id),
                ]),
            ),
            (
                "a document that is no document",
                Payload::Document(b"\x85\x6f\x4a\x83 broken".to_vec()),
            ),
        ];
        for (name, payload) in cases {
            let name = format!("{name}, into {}", entity.scope);
            let bad = batch_message(number, entity, payload);
            check_stream(
                &name,
                &sound,
                &bad,
                Expect::Refused {
                    is: is_invalid_change,
                    reply: Reply::AnyError,
                },
            );
        }
    }
    // The control: the same change with an origin counter is taken.
    let mut victim = victim();
    let mut session = responder(&victim);
    let good = batch_message(
        1,
        &fresh,
        Payload::Changes(vec![change(&device, Some("1"), &fresh.id)]),
    );
    session
        .receive(&mut victim.store, &cat(&[&opening, &good]))
        .expect("a sound hand-made change is taken");
    assert_eq!(acks(&drain(&mut victim.store, &mut session, &mut None)), 1);
    let entity = victim
        .store
        .get(&fresh)
        .expect("get")
        .expect("the entity arrived");
    assert_eq!(entity["title"], Value::from("giả mạo"));
}

fn device_id(bytes: [u8; 16]) -> DeviceId {
    DeviceId(bytes)
}

#[test]
fn a_refused_change_leaves_no_trace_in_later_reads() {
    // A refused batch opened a shard in its transaction; that shard's row is rolled back. A
    // shard made afterwards (same collection and id, other scope: same bucket) must not be
    // mistaken for it.
    let r = Recording::new();
    let refused_key = key("library:b", "copies", "copy-1");
    let later_key = key("library:a", "copies", "copy-1");
    let mut victim = victim();
    let mut session = responder(&victim);
    let bad = batch_message(
        1,
        &refused_key,
        Payload::Changes(vec![change(&[7u8; 16], None, &refused_key.id)]),
    );
    let result = session.receive(&mut victim.store, &cat(&[&r.opening(0), &bad]));
    assert!(result.is_err(), "{result:?}");

    let mut edit = WriteBatch::new();
    edit.put(&later_key, "shelf", "Kệ B");
    victim.store.commit(&edit).expect("commit");
    assert_eq!(
        victim.store.get(&refused_key).expect("get"),
        None,
        "reading the refused entity shows another shard's entity"
    );
    assert_eq!(
        victim.store.scopes().expect("scopes"),
        BTreeSet::from([tusach_tests::scope("library:a")])
    );
}

#[test]
fn a_failed_local_edit_leaves_no_trace_in_later_reads() {
    // The same for a local commit refused by the store (removing from a list that is not
    // there), on a shard it would have created.
    let mut replica = victim();
    let refused_key = key("library:b", "copies", "copy-1");
    let later_key = key("library:a", "copies", "copy-1");
    let mut bad = WriteBatch::new();
    bad.put(&refused_key, "shelf", "Kệ A")
        .list_remove(&refused_key, "tags", 0);
    assert!(matches!(
        replica.store.commit(&bad),
        Err(StoreError::InvalidEdit(_))
    ));
    let mut edit = WriteBatch::new();
    edit.put(&later_key, "shelf", "Kệ B");
    replica.store.commit(&edit).expect("commit");
    assert_eq!(
        replica.store.get(&refused_key).expect("get"),
        None,
        "reading the refused entity shows another shard's entity"
    );
}

// ---------------------------------------------------------------------------------------------
// Systematic damage to the recorded stream.

/// The store after feeding the first `k` whole frames of the recording, for every k.
fn states_by_frame(r: &Recording) -> Vec<StoreState> {
    let mut reference = victim();
    let mut session = responder(&reference);
    let mut states = vec![reference.state()];
    session
        .receive(&mut reference.store, &r.preamble())
        .expect("preamble");
    for frame in &r.frames {
        session
            .receive(&mut reference.store, frame)
            .expect("a recorded frame");
        drain(&mut reference.store, &mut session, &mut None);
        states.push(reference.state());
    }
    assert!(session.is_finished(), "the recording replays to the end");
    states
}

#[test]
fn a_stream_cut_anywhere_waits_and_keeps_only_whole_batches() {
    let r = Recording::new();
    let states = states_by_frame(&r);
    // Where each frame ends in the stream.
    let mut ends = Vec::new();
    let mut at = wire::PREAMBLE_LEN;
    for frame in &r.frames {
        at += frame.len();
        ends.push(at);
    }
    // One store for every cut, in increasing order: applying a batch again is harmless, so
    // the store after a cut is the store after the whole frames before it.
    let mut victim = victim();
    for cut in 0..=r.stream.len() {
        let whole = ends.iter().filter(|end| **end <= cut).count();
        let mut session = responder(&victim);
        if let Err(e) = session.receive(&mut victim.store, &r.stream[..cut]) {
            panic!("cut at {cut}: refused: {e}");
        }
        let sent = drain(&mut victim.store, &mut session, &mut None);
        let batches = whole.saturating_sub(1).min(r.batch_count());
        assert_eq!(acks(&sent), batches, "cut at {cut}: acknowledgements");
        assert!(!session.has_failed(), "cut at {cut}");
        assert_eq!(
            session.is_finished(),
            cut == r.stream.len(),
            "cut at {cut}: finished"
        );
        assert_eq!(victim.state(), states[whole], "cut at {cut}: store");
    }
}

#[test]
fn a_stream_in_random_pieces_arrives_whole() {
    let r = Recording::new();
    let expected = *states_by_frame(&r).last().expect("states");
    for seed in 0..20 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut victim = victim();
        let mut session = responder(&victim);
        let mut rest = &r.stream[..];
        while !rest.is_empty() {
            let n = rng.usize(1..=rest.len().min(40));
            session
                .receive(&mut victim.store, &rest[..n])
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            drain(&mut victim.store, &mut session, &mut None);
            rest = &rest[n..];
        }
        assert!(session.is_finished(), "seed {seed}");
        assert_eq!(victim.state(), expected, "seed {seed}");
    }
}

#[test]
fn a_whole_session_replayed_changes_nothing() {
    let r = Recording::new();
    let mut victim = victim();
    let mut first = None;
    for round in 0..2 {
        let mut session = responder(&victim);
        session
            .receive(&mut victim.store, &r.stream)
            .expect("the recording");
        drain(&mut victim.store, &mut session, &mut None);
        assert!(session.is_finished(), "round {round}");
        assert_eq!(session.report().received.new_changes == 0, round == 1);
        if round == 0 {
            first = Some(victim.state());
        }
    }
    assert_eq!(
        Some(victim.state()),
        first,
        "the replayed session changed the store"
    );
}

#[test]
fn a_flipped_bit_anywhere_in_a_frame_is_caught() {
    let r = Recording::new();
    let mut rng = fastrand::Rng::with_seed(3);
    // One store for every case: nothing may ever be applied.
    let mut victim = victim();
    let untouched = victim.state();
    for (frame_name, sound, frame) in [
        ("HELLO", r.preamble(), r.hello().to_vec()),
        ("BATCH 1", r.opening(0), r.batch(1).to_vec()),
        ("DONE", r.opening(r.batch_count()), r.done().to_vec()),
    ] {
        let sound_state = {
            let mut session = responder(&victim);
            session.receive(&mut victim.store, &sound).expect("sound");
            victim.state()
        };
        for at in 0..frame.len() {
            let bit = rng.u32(..8);
            let mut bad = frame.clone();
            bad[at] ^= 1 << bit;
            let name = format!("{frame_name}, byte {at} bit {bit}");
            let mut session = responder(&victim);
            session.receive(&mut victim.store, &sound).expect("sound");
            let result = session.receive(&mut victim.store, &bad);
            let sent = drain(&mut victim.store, &mut session, &mut None);
            let in_length = (1..5).contains(&at);
            match result {
                Err(SessionError::Wire(WireError::BadChecksum)) => {}
                Err(SessionError::Wire(WireError::FrameTooLarge(_))) if in_length => {}
                Ok(()) if in_length => {
                    // A longer declared length: the frame is still arriving.
                    assert!(!session.has_failed(), "{name}");
                }
                other => panic!("{name}: {other:?}"),
            }
            if session.has_failed() {
                let messages = decode_stream(&sent, wire::STREAM_MAGIC).expect("decodes");
                assert!(
                    matches!(messages.last(), Some(Message::Error { .. })),
                    "{name}: no ERROR frame"
                );
            }
            assert_eq!(victim.state(), sound_state, "{name}: the store changed");
        }
    }
    assert_ne!(untouched, victim.state(), "the sound batches were applied");
}

#[test]
fn random_input_never_panics_or_changes_anything() {
    let r = Recording::new();
    let mut victim = victim();
    let before = victim.state();
    let known_types = [
        wire::TYPE_HELLO,
        wire::TYPE_BATCH,
        wire::TYPE_ACK,
        wire::TYPE_DONE,
        wire::TYPE_ERROR,
        wire::TYPE_BUNDLE_HEADER,
        wire::TYPE_BUNDLE_END,
    ];
    for seed in 0..400u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut bytes = Vec::new();
        // Some inputs get past the preamble, or the HELLO, so the frame parser is reached.
        match seed % 3 {
            0 => {}
            1 => bytes.extend_from_slice(&r.preamble()),
            _ => bytes.extend_from_slice(&r.opening(0)),
        }
        for _ in 0..rng.usize(1..4) {
            let payload: Vec<u8> = (0..rng.usize(0..80)).map(|_| rng.u8(..)).collect();
            if rng.bool() {
                let kind = known_types[rng.usize(..known_types.len())];
                bytes.extend_from_slice(&raw_frame(kind, &payload));
            } else {
                bytes.extend_from_slice(&payload);
            }
        }
        let mut session = responder(&victim);
        let result = session.receive(&mut victim.store, &bytes);
        let sent = drain(&mut victim.store, &mut session, &mut None);
        assert_eq!(victim.state(), before, "seed {seed}: the store changed");
        match result {
            Ok(()) => assert!(!session.has_failed(), "seed {seed}"),
            Err(SessionError::Peer { .. }) => assert!(session.has_failed(), "seed {seed}"),
            Err(e) => {
                assert!(session.has_failed(), "seed {seed}: {e}");
                let messages = decode_stream(&sent, wire::STREAM_MAGIC)
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                assert!(
                    matches!(messages.last(), Some(Message::Error { .. })),
                    "seed {seed}: {e}: no ERROR frame"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bundles.

/// A sound bundle from a replica with some data, for `to`.
fn sound_bundle(to: DeviceId) -> Vec<u8> {
    let mut source = Replica::new();
    for n in 0..5 {
        let mut batch = WriteBatch::new();
        batch.put(
            &key("network", "records", &format!("rec-{n}")),
            "title",
            format!("Lục Vân Tiên {n}"),
        );
        source.store.commit(&batch).expect("commit");
    }
    let mut bytes = Vec::new();
    bundle::write_bundle(&mut source.store, to, &AllowAll, 120, &mut bytes).expect("bundle");
    bytes
}

/// Reads `bytes` as a bundle into `victim`, which must refuse it as `is` says and stay as it was.
fn check_bundle_refused(name: &str, victim: &mut Replica, bytes: &[u8], is: IsBundleError) {
    let before = victim.state();
    match bundle::read_bundle(&mut victim.store, bytes, &AllowAll) {
        Err(e) => assert!(is(&e), "{name}: refused for the wrong reason: {e:?}"),
        Ok(report) => panic!("{name}: accepted: {report:?}"),
    }
    assert_eq!(victim.state(), before, "{name}: the store changed");
}

fn is_damaged_or_incomplete(e: &BundleError) -> bool {
    matches!(e, BundleError::Damaged(_) | BundleError::Incomplete(_))
}

#[test]
fn damaged_bundles_are_refused_whole() {
    let mut victim = victim();
    let bytes = sound_bundle(victim.id());
    let frames = split_frames(&bytes, wire::BUNDLE_MAGIC).expect("frames");
    assert!(frames.len() >= 4, "the bundle should hold several batches");
    let preamble = &bytes[..wire::PREAMBLE_LEN];
    let mut rng = fastrand::Rng::with_seed(5);
    let random: Vec<u8> = (0..300).map(|_| rng.u8(..)).collect();
    let mut wrong_version = bytes.clone();
    wrong_version[4] = 9;
    let end = frames.len() - 1;
    // A bundle of the preamble and these frames.
    let assemble = |order: &[usize]| -> Vec<u8> {
        let mut out = preamble.to_vec();
        for &n in order {
            out.extend_from_slice(&frames[n]);
        }
        out
    };
    let all: Vec<usize> = (0..frames.len()).collect();
    // Frame 0 is the header, 1 the maker's knowledge, 2 … the batches.
    let mut swapped = all.clone();
    swapped.swap(2, 3);
    let mut knowledge_late = all.clone();
    knowledge_late.swap(1, 2);

    let cases: Vec<(&str, Vec<u8>, IsBundleError)> = vec![
        ("an empty file", Vec::new(), is_damaged_or_incomplete),
        ("random bytes", random, |e| {
            matches!(e, BundleError::Damaged(WireError::BadMagic))
        }),
        ("a session stream", Recording::new().stream, |e| {
            matches!(e, BundleError::Damaged(WireError::BadMagic))
        }),
        ("another version", wrong_version, |e| {
            matches!(e, BundleError::Damaged(WireError::UnsupportedVersion(9)))
        }),
        (
            "batches out of order",
            assemble(&swapped),
            is_damaged_or_incomplete,
        ),
        ("no header", assemble(&all[1..]), is_damaged_or_incomplete),
        ("no end", assemble(&all[..end]), |e| {
            matches!(e, BundleError::Incomplete(_))
        }),
        (
            "a batch missing",
            assemble(&[&[0, 1], &all[3..]].concat()),
            is_damaged_or_incomplete,
        ),
        (
            "knowledge after a batch",
            assemble(&knowledge_late),
            is_damaged_or_incomplete,
        ),
        (
            "knowledge twice",
            assemble(&[&[0, 1], &all[1..]].concat()),
            is_damaged_or_incomplete,
        ),
        (
            "an end counting wrong",
            cat(&[
                &assemble(&all[..end]),
                &Message::BundleEnd { batches: 1 }.encode(),
            ]),
            is_damaged_or_incomplete,
        ),
        (
            "two headers",
            assemble(&[&[0], &all[..]].concat()),
            is_damaged_or_incomplete,
        ),
        (
            "trailing bytes",
            cat(&[&bytes, b"\0"]),
            is_damaged_or_incomplete,
        ),
        (
            "a second bundle appended",
            cat(&[&bytes, &frames[0]]),
            is_damaged_or_incomplete,
        ),
    ];
    for (name, bad, is) in cases {
        check_bundle_refused(name, &mut victim, &bad, is);
    }
    // The control: the sound bundle is taken.
    let report = bundle::read_bundle(&mut victim.store, &bytes, &AllowAll).expect("sound");
    assert!(report.new_changes > 0);
}

#[test]
fn a_bundle_cut_or_flipped_anywhere_is_refused() {
    let mut victim = victim();
    let bytes = sound_bundle(victim.id());
    for cut in 0..bytes.len() {
        let name = format!("cut at {cut} of {}", bytes.len());
        check_bundle_refused(&name, &mut victim, &bytes[..cut], is_damaged_or_incomplete);
    }
    let mut rng = fastrand::Rng::with_seed(9);
    for at in 0..bytes.len() {
        let bit = rng.u32(..8);
        let mut bad = bytes.clone();
        bad[at] ^= 1 << bit;
        let name = format!("byte {at} bit {bit}");
        check_bundle_refused(&name, &mut victim, &bad, is_damaged_or_incomplete);
    }
}

#[test]
fn a_bundle_for_another_device_is_refused() {
    let mut victim = victim();
    let someone_else = Replica::new().id();
    let bytes = sound_bundle(someone_else);
    check_bundle_refused("for another device", &mut victim, &bytes, |e| {
        matches!(e, BundleError::ForAnotherDevice { .. })
    });
}

#[test]
fn a_bundle_imported_twice_changes_nothing_the_second_time() {
    let mut victim = victim();
    let bytes = sound_bundle(victim.id());
    let first = bundle::read_bundle(&mut victim.store, &bytes, &AllowAll).expect("first");
    assert!(first.new_changes > 0);
    let after_first = victim.state();
    let second = bundle::read_bundle(&mut victim.store, &bytes, &AllowAll).expect("second");
    assert_eq!(second.new_changes, 0, "{second:?}");
    assert_eq!(victim.state(), after_first);
}

#[test]
fn a_bundle_with_a_change_the_store_cannot_take_changes_nothing() {
    let mut victim = victim();
    let sender = Replica::new().id();
    let entity = key("network", "records", "rec-1");
    let bad = Message::Batch {
        number: 1,
        batch: Batch {
            shards: vec![ShardPayload {
                shard: entity.shard(),
                payload: Payload::Changes(vec![change(&sender.0, None, &entity.id)]),
            }],
        },
    };
    let bytes = cat(&[
        &wire::preamble(wire::BUNDLE_MAGIC),
        &Message::BundleHeader {
            from: sender,
            to: victim.id(),
        }
        .encode(),
        &bad.encode(),
        &Message::BundleEnd { batches: 1 }.encode(),
    ]);
    check_bundle_refused("a change without a counter", &mut victim, &bytes, |e| {
        matches!(e, BundleError::Store(StoreError::InvalidChange(_)))
    });
}
