//! Golden fixtures for every wire and bundle frame of protocol version 1.
//!
//! Each fixture in `tests/fixtures/` is the hex of one encoded frame (or a whole bundle). A
//! build must decode every fixture to exactly the expected message — that is the promise to
//! devices in the field running older or newer versions. Frames without compression must also
//! encode byte for byte to the fixture; compressed batch bodies may differ if zstd's encoder
//! changes, so those are checked by decoding.
//!
//! To write the fixtures after an intentional format change (which also bumps
//! `PROTOCOL_VERSION`): `TUSACH_BLESS=1 cargo test -p tusach-sync --test wire_fixtures`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tusach_sync::bundle;
use tusach_sync::protocol::wire::{self, ErrorCode, Hello, Message};
use tusach_sync::store::{Batch, Knowledge, Payload, ShardPayload};
use tusach_sync::{DeviceId, Scope, ScopeSet, ShardKey};

fn device(byte: u8) -> DeviceId {
    DeviceId([byte; 16])
}

fn scope(name: &str) -> Scope {
    Scope::new(name).expect("scope")
}

fn sample_knowledge() -> Knowledge {
    let mut vectors = BTreeMap::new();
    vectors.insert(
        scope("library:xa-nghi-phu"),
        BTreeMap::from([(device(0xA1), 7), (device(0xB2), 300)]),
    );
    vectors.insert(scope("network"), BTreeMap::from([(device(0xA1), 12_345)]));
    let shards = BTreeMap::from([(
        ShardKey {
            scope: scope("network"),
            collection: "records".into(),
            bucket: 5,
        },
        0x0123_4567_89AB_CDEF,
    )]);
    Knowledge { vectors, shards }
}

fn sample_batch() -> Batch {
    Batch {
        shards: vec![
            ShardPayload {
                shard: ShardKey {
                    scope: scope("network"),
                    collection: "records".into(),
                    bucket: 17,
                },
                payload: Payload::Changes(vec![b"change one".to_vec(), b"change two".to_vec()]),
            },
            ShardPayload {
                shard: ShardKey {
                    scope: scope("library:xa-nghi-phu"),
                    collection: "loans".into(),
                    bucket: 63,
                },
                payload: Payload::Document(b"a whole stored document".to_vec()),
            },
        ],
    }
}

/// (fixture name, message, whether encoding must match byte for byte)
fn cases() -> Vec<(&'static str, Message, bool)> {
    vec![
        (
            "hello",
            Message::Hello(Hello {
                device: device(0xA1),
                knowledge: sample_knowledge(),
                accepts: ScopeSet::of(["network", "library:xa-nghi-phu"]),
            }),
            true,
        ),
        (
            "hello_empty",
            Message::Hello(Hello {
                device: device(0x01),
                knowledge: Knowledge::default(),
                accepts: ScopeSet::All,
            }),
            true,
        ),
        (
            "batch",
            Message::Batch {
                number: 3,
                batch: sample_batch(),
            },
            false,
        ),
        ("ack", Message::Ack { number: 300 }, true),
        ("done", Message::Done { batches: 2 }, true),
        (
            "error",
            Message::Error {
                code: ErrorCode::ScopeRefused,
                message: "phạm vi không được phép".into(),
            },
            true,
        ),
        (
            "bundle_header",
            Message::BundleHeader {
                from: device(0xA1),
                to: device(0xC3),
            },
            true,
        ),
        ("bundle_end", Message::BundleEnd { batches: 1 }, true),
        (
            "bundle_knowledge",
            Message::BundleKnowledge {
                knowledge: Knowledge {
                    vectors: sample_knowledge().vectors,
                    shards: Default::default(),
                },
            },
            true,
        ),
    ]
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.hex"))
}

fn bless() -> bool {
    std::env::var_os("TUSACH_BLESS").is_some()
}

fn read_fixture(name: &str, fresh: &[u8]) -> Vec<u8> {
    let path = fixture_path(name);
    if bless() {
        std::fs::write(&path, hex::encode(fresh) + "\n").expect("write fixture");
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing fixture {}: {e}", path.display()));
    hex::decode(text.trim()).expect("fixture is hex")
}

#[test]
fn every_frame_decodes_from_its_golden_fixture() {
    for (name, message, exact) in cases() {
        let fresh = message.encode();
        let golden = read_fixture(&format!("v1_{name}"), &fresh);
        assert_eq!(
            Message::decode(&golden).expect(name),
            message,
            "fixture {name} no longer decodes to the same message"
        );
        if exact {
            assert_eq!(
                fresh, golden,
                "fixture {name} no longer encodes byte for byte"
            );
        }
        assert_eq!(
            Message::decode(&fresh).expect(name),
            message,
            "{name} round trip"
        );
    }
}

#[test]
fn the_stream_preamble_is_pinned() {
    assert_eq!(wire::preamble(wire::STREAM_MAGIC), *b"TSYN\x02");
    assert_eq!(wire::preamble(wire::BUNDLE_MAGIC), *b"TSBN\x02");
    assert_eq!(
        wire::check_preamble(b"TSYN\x01", wire::STREAM_MAGIC),
        Err(wire::WireError::UnsupportedVersion(1))
    );
}

#[test]
fn a_bundle_file_decodes_from_its_golden_fixture() {
    let mut fresh = wire::preamble(wire::BUNDLE_MAGIC).to_vec();
    fresh.extend(
        Message::BundleHeader {
            from: device(0xA1),
            to: device(0xC3),
        }
        .encode(),
    );
    fresh.extend(
        Message::Batch {
            number: 1,
            batch: sample_batch(),
        }
        .encode(),
    );
    fresh.extend(Message::BundleEnd { batches: 1 }.encode());
    let golden = read_fixture("v2_bundle_inner", &fresh);
    let parsed = bundle::parse_bundle(&golden).expect("bundle fixture parses");
    assert_eq!((parsed.from, parsed.to), (device(0xA1), device(0xC3)));
    assert_eq!(
        parsed.knowledge, None,
        "bundles before receipts carry no knowledge"
    );
    assert_eq!(parsed.batches, vec![sample_batch()]);
}

/// Since receipts, a bundle carries its maker's knowledge right after the header; a receipt
/// is such a bundle without batches.
#[test]
fn a_bundle_with_its_makers_knowledge_decodes_from_its_golden_fixture() {
    let mut fresh = wire::preamble(wire::BUNDLE_MAGIC).to_vec();
    fresh.extend(
        Message::BundleHeader {
            from: device(0xA1),
            to: device(0xC3),
        }
        .encode(),
    );
    let knowledge = Knowledge {
        vectors: sample_knowledge().vectors,
        shards: Default::default(),
    };
    fresh.extend(
        Message::BundleKnowledge {
            knowledge: knowledge.clone(),
        }
        .encode(),
    );
    fresh.extend(Message::BundleEnd { batches: 0 }.encode());
    let golden = read_fixture("v2_bundle_receipt", &fresh);
    assert_eq!(golden, fresh, "the receipt's bytes changed");
    let parsed = bundle::parse_bundle(&golden).expect("receipt fixture parses");
    assert_eq!((parsed.from, parsed.to), (device(0xA1), device(0xC3)));
    assert_eq!(parsed.knowledge, Some(knowledge));
    assert!(parsed.batches.is_empty());
}

/// A certificate chain (a desk enrolled by a hub enrolled by the root) and a revocation, with
/// fixed keys and times: their bytes are part of the protocol (`sync/PROTOCOL.md` §6).
#[test]
fn certificates_and_revocations_decode_from_their_golden_fixtures() {
    use ed25519_dalek::SigningKey;
    use tusach_sync::trust::{Certificate, CertificateRequest, Chain, MemberRole, Revocation};
    let root = SigningKey::from_bytes(&[0x11; 32]);
    let hub = SigningKey::from_bytes(&[0x22; 32]);
    let desk = SigningKey::from_bytes(&[0x33; 32]);
    let cert = |role, subject: &SigningKey, issuer: &SigningKey, label: &str, scopes: &[&str]| {
        Certificate::issue(
            CertificateRequest {
                role,
                subject: subject.verifying_key().to_bytes(),
                issued_at: 1_800_000_000,
                expires_at: 1_900_000_000,
                label: label.into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            },
            issuer,
        )
    };
    let hub_cert = cert(MemberRole::Hub, &hub, &root, "huyen-nghi-loc", &["*"]);
    let chain = Chain(vec![
        cert(
            MemberRole::Appliance,
            &desk,
            &hub,
            "xa-nghi-phu",
            &["network", "library:xa-nghi-phu"],
        ),
        hub_cert.clone(),
    ]);
    let golden = read_fixture("v2_certificate_chain", &chain.to_bytes());
    let decoded = Chain::from_bytes(&golden).expect("chain fixture parses");
    assert_eq!(decoded, chain);
    assert!(decoded.0.iter().all(Certificate::signature_is_valid));

    let revocation = Revocation::sign(
        desk.verifying_key().to_bytes(),
        1_850_000_000,
        "thẻ nhớ bị mất",
        &hub,
        Chain(vec![hub_cert]),
    );
    let golden = read_fixture("v2_revocation", &revocation.to_bytes());
    assert_eq!(
        Revocation::from_bytes(&golden).expect("revocation fixture parses"),
        revocation
    );
}
