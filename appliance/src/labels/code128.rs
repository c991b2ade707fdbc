//! Code 128 for barcodes on labels and cards: which code set to use, and the modules (narrow
//! bar or space units) to draw. The symbols and the check character come from `barcoders`,
//! a small pure-Rust encoder that returns bars as data, so the PDF draws them as vector
//! rectangles; it wants the code set spelled out, which [`modules`] does.
//!
//! Only printable ASCII is accepted: every scanner reads it the same, and our barcodes and
//! card numbers are letters, digits and '-'. What does not fit is a [`LabelError`], never a
//! panic.

use barcoders::sym::code128::Code128;

use super::LabelError;

/// Longest data a label prints; copies' barcodes are at most 32 characters, cards 40.
pub const MAX_DATA_CHARS: usize = 40;

/// Modules of clear space each side of the bars, as the standard asks (ten times the
/// narrowest bar): without it a scanner cannot find where the symbol starts.
pub const QUIET_ZONE_MODULES: usize = 10;

// barcoders' code-set markers: a start character, or a switch after the first.
const SET_B: char = '\u{0181}';
const SET_C: char = '\u{0106}';

/// Whether `data` can be a Code 128 barcode here.
pub fn encodable(data: &str) -> bool {
    (1..=MAX_DATA_CHARS).contains(&data.len()) && data.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// `data` with barcoders' code-set markers: set B for text, set C (two digits a symbol) for
/// an all-digit barcode of even length and for a trailing run of at least six digits, which
/// library barcodes usually end with ("TS000123"): a shorter symbol prints with wider bars on
/// a small label and scans more easily.
fn with_code_sets(data: &str) -> String {
    let digits_at_end = data.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits_at_end == data.len() && data.len().is_multiple_of(2) {
        return format!("{SET_C}{data}");
    }
    let in_c = digits_at_end - digits_at_end % 2;
    if in_c >= 6 {
        let (text, digits) = data.split_at(data.len() - in_c);
        format!("{SET_B}{text}{SET_C}{digits}")
    } else {
        format!("{SET_B}{data}")
    }
}

/// The symbol's modules from the start character to the stop pattern, `true` for a bar;
/// the quiet zones are not included (the drawing leaves them blank).
pub fn modules(data: &str) -> Result<Vec<bool>, LabelError> {
    if !encodable(data) {
        return Err(LabelError::Unencodable(data.chars().take(60).collect()));
    }
    let symbol =
        Code128::new(with_code_sets(data)).map_err(|_| LabelError::Unencodable(data.to_owned()))?;
    Ok(symbol.encode().into_iter().map(|m| m == 1).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(data: &str) -> String {
        modules(data)
            .expect(data)
            .iter()
            .map(|&bar| if bar { '1' } else { '0' })
            .collect()
    }

    /// Bar and space widths, as the standard's tables write each symbol ("211214").
    fn widths(bits: &str) -> String {
        let mut out = String::new();
        let mut run = 0;
        let mut last = None;
        for c in bits.chars() {
            if last.is_some_and(|l| l != c) {
                out.push_str(&run.to_string());
                run = 0;
            }
            run += 1;
            last = Some(c);
        }
        out.push_str(&run.to_string());
        out
    }

    // Goldens: each was read back by zbarimg from a 300 dpi rendering of our PDF (the labels
    // integration test reads these kinds of barcodes on every run), and the check characters
    // were worked out by hand: a change here is a change of what is printed.
    #[test]
    fn known_barcodes_encode_as_before() {
        let cases = [
            // Start C (105); 12, 34, 56, 78; check (105 + 12 + 2·34 + 3·56 + 4·78) mod 103 = 47;
            // stop.
            (
                "12345678",
                "11010011100 10110011100 10001011000 11100010110 11000010100 10001110110 \
                 1100011101011",
            ),
            // Start B (104); T, S; code C; 00, 01, 23; check (104 + 52 + 2·51 + 3·99 + 4·0 +
            // 5·1 + 6·23) mod 103 = 80; stop.
            (
                "TS000123",
                "11010010000 11011100010 11011101000 10111011110 11011001100 11001101100 \
                 11101101110 10100111100 1100011101011",
            ),
        ];
        for (data, expected) in cases {
            let expected: String = expected.split_whitespace().collect();
            assert_eq!(bits(data), expected, "{data}");
        }
    }

    #[test]
    fn symbols_start_and_stop_as_the_standard_says() {
        for (data, start) in [
            ("TS000123", "211214"), // start B, then set C for the digits
            ("BD0042", "211214"),   // four digits stay in set B
            ("0042", "211232"),     // start C
            ("a-b c~", "211214"),
            ("123", "211214"), // odd digit count: set B
        ] {
            let bits = bits(data);
            assert_eq!(&widths(&bits[..11]), start, "{data}");
            // The stop pattern 2331112 ends every symbol.
            assert_eq!(&widths(&bits[bits.len() - 13..]), "2331112", "{data}");
            // Every symbol is 11 modules; start, data, check, stop.
            assert_eq!((bits.len() - 13) % 11, 0, "{data}");
        }
        let symbols = |data: &str| (bits(data).len() - 13) / 11;
        // Start, T, S, switch to C, 00 01 23, check: 8 symbols (10 in set B alone).
        assert_eq!(symbols("TS000123"), 8);
        // Start, B, D, 0, 0, 4, 2, check.
        assert_eq!(symbols("BD0042"), 8);
        // Start C, 00, 42, check.
        assert_eq!(symbols("0042"), 4);
    }

    #[test]
    fn what_code_128_cannot_carry_is_an_error() {
        for data in ["", "Nguyễn", "TS\n01", "TS\u{7f}", &"9".repeat(41)] {
            assert!(
                matches!(modules(data), Err(LabelError::Unencodable(_))),
                "{data:?}"
            );
        }
        // Every printable ASCII character encodes, alone and in a longer barcode.
        for b in b' '..=b'~' {
            let data = (b as char).to_string();
            assert!(modules(&data).is_ok(), "{data:?}");
            assert!(modules(&format!("TS{data}000000")).is_ok(), "{data:?}");
        }
    }
}
