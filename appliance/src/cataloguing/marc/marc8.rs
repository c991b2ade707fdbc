//! MARC-8 to Unicode, for records whose leader/09 is blank. Only the two sets a Vietnamese
//! catalogue uses are read: basic Latin (ASCII) and ANSEL, the extended Latin set with ơ, ư,
//! đ and the combining marks for tones. MARC-8 writes a combining mark *before* its letter and
//! Unicode after it, so marks wait for their letter; the text is then NFC-normalised, so
//! "Truyện" decoded here equals "Truyện" typed at the desk.
//!
//! Escape sequences to any other set (Greek, Cyrillic, Arabic, CJK, sub- and superscripts) are
//! refused with [`Marc8Error::OtherCharset`] rather than turned into wrong letters. Nothing here
//! encodes MARC-8: we always write UTF-8. The table was checked byte by byte against pymarc
//! 5.x (`marc8_pymarc.txt` beside this file, and the tests).

use unicode_normalization::UnicodeNormalization;

const ESC: u8 = 0x1B;

/// Why a field's bytes are not MARC-8 we can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Marc8Error {
    #[error(
        "byte {byte:#04x} at offset {offset} is not a MARC-8 basic or extended Latin character"
    )]
    UnknownByte { byte: u8, offset: usize },
    #[error(
        "an escape sequence at offset {offset} ({sequence}) switches to a character set other than \
         basic and extended Latin, which Tủ Sách does not read; convert the file to UTF-8 \
         (MARC21 leader/09 'a') first"
    )]
    OtherCharset { offset: usize, sequence: String },
}

/// Decodes one field's (or subfield's) MARC-8 bytes to NFC text.
pub fn decode(bytes: &[u8]) -> Result<String, Marc8Error> {
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 4);
    let mut marks: Vec<char> = Vec::new();
    let mut offset = 0;
    while let Some(&byte) = bytes.get(offset) {
        if byte == ESC {
            offset += escape_length(bytes, offset)?;
            continue;
        }
        match byte {
            0x20..=0x7E => push_letter(&mut text, &mut marks, char::from(byte)),
            // Non-sort begin/end and the two joiners carry no letter; pymarc drops them too.
            0x88 | 0x89 | 0x8D | 0x8E => {}
            _ => match extended_latin(byte) {
                Some(Ansel::Letter(c)) => push_letter(&mut text, &mut marks, c),
                Some(Ansel::Mark(c)) => marks.push(c),
                None => return Err(Marc8Error::UnknownByte { byte, offset }),
            },
        }
        offset += 1;
    }
    // Marks with no letter after them have nothing to sit on (pymarc drops them as well).
    Ok(text.nfc().collect())
}

fn push_letter(text: &mut String, marks: &mut Vec<char>, letter: char) {
    text.push(letter);
    text.extend(marks.drain(..));
}

/// The length of the escape sequence at `at` when it selects one of the two sets we read
/// (they are the default sets, so selecting them changes nothing); an error for any other.
fn escape_length(bytes: &[u8], at: usize) -> Result<usize, Marc8Error> {
    let rest = bytes.get(at + 1..).unwrap_or_default();
    let length = match rest {
        // Technique 2's "back to ASCII".
        [b's', ..] => Some(2),
        // Basic Latin into G0.
        [b'(' | b',', b'B', ..] => Some(3),
        // Extended Latin (ANSEL) into G1, with or without the '!' intermediate.
        [b')' | b'-', b'E', ..] => Some(3),
        [b')' | b'-', b'!', b'E', ..] => Some(4),
        _ => None,
    };
    length.ok_or_else(|| Marc8Error::OtherCharset {
        offset: at,
        sequence: std::iter::once("ESC".to_owned())
            .chain(rest.iter().take(sequence_length(rest)).map(|b| match b {
                0x21..=0x7E => char::from(*b).to_string(),
                _ => format!("{b:#04x}"),
            }))
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// The bytes after ESC that belong to its sequence: intermediates (0x20–0x2F), then one final.
fn sequence_length(rest: &[u8]) -> usize {
    let intermediates = rest
        .iter()
        .take_while(|b| (0x20..=0x2F).contains(*b))
        .count();
    (intermediates + 1).min(rest.len())
}

enum Ansel {
    Letter(char),
    Mark(char),
}

/// ANSEL (MARC-8 extended Latin, G1 at 0xA1–0xFE), from the Library of Congress code table.
fn extended_latin(byte: u8) -> Option<Ansel> {
    let letter = match byte {
        0xA1 => 'Ł',
        0xA2 => 'Ø',
        0xA3 => 'Đ',
        0xA4 => 'Þ',
        0xA5 => 'Æ',
        0xA6 => 'Œ',
        0xA7 => '\u{02B9}',
        0xA8 => '·',
        0xA9 => '♭',
        0xAA => '®',
        0xAB => '±',
        0xAC => 'Ơ',
        0xAD => 'Ư',
        0xAE => '\u{02BC}',
        0xB0 => '\u{02BB}',
        0xB1 => 'ł',
        0xB2 => 'ø',
        0xB3 => 'đ',
        0xB4 => 'þ',
        0xB5 => 'æ',
        0xB6 => 'œ',
        0xB7 => '\u{02BA}',
        0xB8 => 'ı',
        0xB9 => '£',
        0xBA => 'ð',
        0xBC => 'ơ',
        0xBD => 'ư',
        0xC0 => '°',
        0xC1 => 'ℓ',
        0xC2 => '℗',
        0xC3 => '©',
        0xC4 => '♯',
        0xC5 => '¿',
        0xC6 => '¡',
        0xC7 => 'ß',
        0xC8 => '€',
        _ => return combining_mark(byte).map(Ansel::Mark),
    };
    Some(Ansel::Letter(letter))
}

fn combining_mark(byte: u8) -> Option<char> {
    Some(match byte {
        0xE0 => '\u{0309}', // hook above (dấu hỏi)
        0xE1 => '\u{0300}', // grave (dấu huyền)
        0xE2 => '\u{0301}', // acute (dấu sắc)
        0xE3 => '\u{0302}', // circumflex
        0xE4 => '\u{0303}', // tilde (dấu ngã)
        0xE5 => '\u{0304}',
        0xE6 => '\u{0306}', // breve (ă)
        0xE7 => '\u{0307}',
        0xE8 => '\u{0308}',
        0xE9 => '\u{030C}',
        0xEA => '\u{030A}',
        0xEB => '\u{FE20}',
        0xEC => '\u{FE21}',
        0xED => '\u{0315}',
        0xEE => '\u{030B}',
        0xEF => '\u{0310}',
        0xF0 => '\u{0327}',
        0xF1 => '\u{0328}',
        0xF2 => '\u{0323}', // dot below (dấu nặng)
        0xF3 => '\u{0324}',
        0xF4 => '\u{0325}',
        0xF5 => '\u{0333}',
        0xF6 => '\u{0332}',
        0xF7 => '\u{0326}',
        0xF8 => '\u{031C}',
        0xF9 => '\u{032E}',
        0xFA => '\u{FE22}',
        0xFB => '\u{FE23}',
        0xFE => '\u{0313}',
        _ => return None,
    })
}
