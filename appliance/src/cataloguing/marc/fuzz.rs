//! Fuzzing the readers with proptest: arbitrary bytes and mutated valid records (ISO 2709 in
//! UTF-8 and MARC-8, MARCXML) must give records or a `MarcError`, never a panic; the MARC-8
//! decoder gets bytes biased towards escapes and marks. What reads must write and read back
//! the same (so an import can always be exported).
//!
//! The three targets share the MARC reader's few seconds, or `TUSACH_FUZZ_SECS` seconds (CI
//! sets 60). The seed is printed; `TUSACH_FUZZ_SEED=N` replays a run, and a failure names its round
//! (`TUSACH_FUZZ_ROUND=R` starts there).

use proptest::prelude::*;

use super::tests::{field, iso, kieu};
use super::*;

use crate::fuzzing::fuzz;

/// The targets below, which share the MARC reader's fuzzing time.
const MARC_TARGETS: u32 = 3;

/// Reads `bytes`; whatever reads must survive a write and a read back unchanged.
fn reads_and_writes_back(bytes: &[u8]) {
    let Ok((_, records)) = read(bytes) else {
        return;
    };
    for record in records {
        let mut once = Vec::new();
        if iso2709::write(&record, &mut once).is_none() {
            continue;
        }
        let (_, again) = read(&once).unwrap_or_else(|e| panic!("our own output: {e}"));
        let mut twice = Vec::new();
        for record in &again {
            iso2709::write(record, &mut twice).unwrap_or_else(|| panic!("fits once, not twice"));
        }
        assert_eq!(once, twice);
        let xml = marcxml::write(&again);
        let (_, from_xml) = read(&xml).unwrap_or_else(|e| panic!("our own MARCXML: {e}"));
        assert_eq!(from_xml.len(), 1);
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let marc8 = iso(
        b' ',
        &[
            ("001", b"77"),
            ("100", &field("0 ", &[("a", b"Nguy\xe3\xe4en Du")])),
            (
                "245",
                &field("10", &[("a", b"Truy\xf2\xe3en Ki\xe3\xe1eu \x1b(B\xb3")]),
            ),
        ],
    );
    let utf8 = kieu("00012", "9786046900016");
    let xml = match iso2709::read(&utf8) {
        Ok(records) => marcxml::write(&records),
        Err(e) => panic!("the corpus reads: {e}"),
    };
    let two = [utf8.clone(), marc8.clone()].concat();
    vec![utf8, marc8, xml, two]
}

/// One change to a valid file: overwrite, insert, delete, put a digit (lengths and offsets
/// are digits), or cut the file there.
#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Digit(usize, u8),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), 0u8..10).prop_map(|(at, d)| Mutation::Digit(at, b'0' + d)),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match *mutation {
            Mutation::Set(at, b) | Mutation::Digit(at, b) => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte = b;
                }
            }
            Mutation::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Mutation::Delete(at) => {
                if !bytes.is_empty() {
                    bytes.remove(at % len);
                }
            }
            Mutation::Cut(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

#[test]
fn arbitrary_bytes_never_panic() {
    fuzz(
        "arbitrary bytes",
        MARC_TARGETS,
        proptest::collection::vec(any::<u8>(), 0..600),
        |bytes| {
            let _ = iso2709::read(&bytes);
            let _ = marcxml::read(&bytes);
            let _ = marc8::decode(&bytes);
            reads_and_writes_back(&bytes);
        },
    );
}

#[test]
fn mutated_records_never_panic() {
    let corpus = corpus();
    let size = corpus.len();
    fuzz(
        "mutated records",
        MARC_TARGETS,
        (0..size, proptest::collection::vec(mutation(), 1..6)),
        move |(which, mutations)| {
            let bytes = mutate(corpus[which].clone(), &mutations);
            reads_and_writes_back(&bytes);
        },
    );
}

#[test]
fn marc8_decoder_never_panics() {
    let interesting = prop_oneof![
        any::<u8>(),
        Just(0x1Bu8),
        0xE0u8..=0xFE,
        0xA1u8..=0xC8,
        proptest::sample::select(b"()-,!BEs$1gbpN".to_vec()),
    ];
    fuzz(
        "MARC-8",
        MARC_TARGETS,
        proptest::collection::vec(interesting, 0..64),
        |bytes| {
            if let Ok(text) = marc8::decode(&bytes) {
                assert!(unicode_normalization::is_nfc(&text));
            }
        },
    );
}
