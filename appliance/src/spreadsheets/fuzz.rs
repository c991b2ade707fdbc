//! Fuzzing the list readers with proptest: arbitrary bytes, and CSV text biased towards
//! quotes, separators, line breaks and byte-order marks, must give rows or a `SheetError`,
//! never a panic; a mutated real `.xlsx` likewise. The CSV reader's two targets share its
//! few seconds, or `TUSACH_FUZZ_SECS` seconds (as the MARC fuzz); the `.xlsx` reader, mostly
//! calamine's own code, gets half that. The seed is printed; `TUSACH_FUZZ_SEED=N` replays a
//! run.

use proptest::prelude::*;

use super::headers::map_columns;
use super::*;

use crate::fuzzing::fuzz;

/// What a CSV file is made of, weighted towards what confuses readers.
fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b";".to_vec()),
        Just(b",".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just("\u{FEFF}".as_bytes().to_vec()),
        Just("Tên sách".as_bytes().to_vec()),
        Just("Họ và tên".as_bytes().to_vec()),
        Just("Số ĐKCB".as_bytes().to_vec()),
        "[a-zA-Z0-9 ]{0,6}".prop_map(String::into_bytes),
        "\\PC{0,4}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..4),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn read_and_map(bytes: &[u8]) {
    if let Ok(rows) = table::read_csv(bytes) {
        for pair in rows.windows(2) {
            assert!(pair[0].line < pair[1].line, "lines go up: {rows:?}");
        }
        let _ = map_columns(RowKind::Books, &rows, &[]);
        let _ = map_columns(RowKind::Readers, &rows, &[]);
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_csv_reader() {
    fuzz(
        "csv arbitrary",
        2,
        proptest::collection::vec(any::<u8>(), 0..512),
        |bytes| read_and_map(&bytes),
    );
    fuzz("csv shaped", 2, csv_bytes(), |bytes| read_and_map(&bytes));
}

#[test]
fn a_mutated_xlsx_never_panics_the_reader() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (row, text) in ["Tên sách", "Truyện Kiều", "Dế Mèn"].iter().enumerate() {
        sheet.write_string(row as u32, 0, *text).expect("write");
        sheet
            .write_number(row as u32, 1, row as f64)
            .expect("write");
    }
    let original = workbook.save_to_buffer().expect("xlsx");
    let len = original.len();
    let flips = proptest::collection::vec((0..len, any::<u8>()), 1..8);
    fuzz("xlsx mutated", 2, (flips, 0..=len), |(flips, keep)| {
        let mut bytes = original.clone();
        for (at, value) in flips {
            bytes[at] = value;
        }
        bytes.truncate(keep);
        let _ = table::read_xlsx(&bytes, None);
    });
}
