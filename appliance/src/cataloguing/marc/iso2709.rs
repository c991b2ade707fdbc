//! ISO 2709 ("binary MARC", `.mrc`): reading a file of records, and writing them.
//!
//! The reader is ours, in two steps as any framing should be: it checks the leader, the
//! record's length and every directory entry against the bytes before it slices anything, so
//! a damaged file gets a [`RecordProblem`] naming the record and never a panic (marctk's
//! `Record::from_binary` slices on the directory's word and panics on a zero base address or a
//! zero-length field). It decodes each field on its own, as UTF-8 (leader/09 'a') or MARC-8
//! (blank), which marctk cannot. The records it makes are marctk's, and writing is marctk's
//! `to_binary`, which round-trips UTF-8 records byte for byte.

use marctk::{Controlfield, Field, Record, Subfield};

use super::marc8;
use super::{MarcError, RecordProblem};

pub const RECORD_END: u8 = 0x1D;
pub const FIELD_END: u8 = 0x1E;
pub const SUBFIELD_START: u8 = 0x1F;
const LEADER_BYTES: usize = 24;
const ENTRY_BYTES: usize = 12;
/// ISO 2709 writes a record's length in five digits.
pub const MAX_RECORD_BYTES: usize = 99_999;

/// How a record's text is encoded, from leader/09.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    Marc8,
    Utf8,
}

/// Reads every record of an ISO 2709 file; the first problem stops the reading.
pub fn read(bytes: &[u8]) -> Result<Vec<Record>, MarcError> {
    let records = Records::new(bytes).collect::<Result<Vec<_>, _>>()?;
    if records.is_empty() {
        return Err(MarcError::NoRecords);
    }
    Ok(records)
}

/// The records of an ISO 2709 file one at a time, so a large file is never all in memory as
/// records; after a problem, nothing more.
pub struct Records<'a> {
    rest: &'a [u8],
    number: usize,
    failed: bool,
}

impl<'a> Records<'a> {
    pub fn new(bytes: &'a [u8]) -> Records<'a> {
        Records {
            rest: bytes,
            number: 0,
            failed: false,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, MarcError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        // Some tools end each record with a newline too.
        let skipped = self
            .rest
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r' | b' ' | 0))
            .count();
        self.rest = self.rest.get(skipped..).unwrap_or_default();
        if self.rest.is_empty() {
            return None;
        }
        self.number += 1;
        match read_one(self.rest) {
            Ok((record, length)) => {
                self.rest = self.rest.get(length..).unwrap_or_default();
                Some(Ok(record))
            }
            Err(problem) => {
                self.failed = true;
                Some(Err(MarcError::Record {
                    record: self.number,
                    problem,
                }))
            }
        }
    }
}

/// Reads the record at the start of `bytes`; returns it and its length in bytes.
fn read_one(bytes: &[u8]) -> Result<(Record, usize), RecordProblem> {
    let Some(leader) = bytes.get(..LEADER_BYTES) else {
        return Err(RecordProblem::Truncated {
            stated: None,
            left: bytes.len(),
        });
    };
    if !leader.iter().all(|b| (0x20..0x7F).contains(b)) {
        return Err(RecordProblem::BadLeader(
            "it holds bytes that are not ASCII letters, digits or spaces".into(),
        ));
    }
    let stated = digits(&leader[0..5]).ok_or_else(|| {
        RecordProblem::BadLeader(format!(
            "the record length {:?} is not five digits",
            String::from_utf8_lossy(&leader[0..5])
        ))
    })?;
    let charset = match leader[9] {
        b' ' => Charset::Marc8,
        b'a' => Charset::Utf8,
        other => return Err(RecordProblem::UnknownCharset(char::from(other))),
    };
    let base = digits(&leader[12..17]).ok_or_else(|| {
        RecordProblem::BadLeader(format!(
            "the base address of data {:?} is not five digits",
            String::from_utf8_lossy(&leader[12..17])
        ))
    })?;
    if stated < LEADER_BYTES + 2 {
        return Err(RecordProblem::BadLeader(format!(
            "a record length of {stated} bytes is too short for a record"
        )));
    }
    let first_end = bytes.iter().position(|b| *b == RECORD_END).map(|p| p + 1);
    if stated > bytes.len() {
        return Err(match first_end {
            Some(found) => RecordProblem::WrongLength { stated, found },
            None => RecordProblem::Truncated {
                stated: Some(stated),
                left: bytes.len(),
            },
        });
    }
    if bytes[stated - 1] != RECORD_END {
        return Err(match first_end {
            Some(found) => RecordProblem::WrongLength { stated, found },
            None => RecordProblem::Truncated {
                stated: Some(stated),
                left: bytes.len(),
            },
        });
    }
    let record_bytes = &bytes[..stated];
    if base <= LEADER_BYTES || base >= stated {
        return Err(RecordProblem::BadLeader(format!(
            "the base address of data {base} is outside the record of {stated} bytes"
        )));
    }
    if record_bytes[base - 1] != FIELD_END {
        return Err(RecordProblem::BadDirectory(format!(
            "no field terminator before the base address of data {base}"
        )));
    }
    let directory = &record_bytes[LEADER_BYTES..base - 1];
    if !directory.len().is_multiple_of(ENTRY_BYTES) {
        return Err(RecordProblem::BadDirectory(format!(
            "{} bytes long, not a multiple of {ENTRY_BYTES}",
            directory.len()
        )));
    }
    let data = &record_bytes[base..stated - 1];

    let mut record = Record::new();
    let mut leader_text = String::from_utf8_lossy(leader).into_owned();
    if charset == Charset::Marc8 {
        // Decoded to Unicode: the record now says so.
        leader_text.replace_range(9..10, "a");
    }
    record
        .set_leader(leader_text)
        .map_err(RecordProblem::BadLeader)?;
    for (index, entry) in directory.chunks_exact(ENTRY_BYTES).enumerate() {
        let tag = &entry[0..3];
        if !tag.iter().all(u8::is_ascii_alphanumeric) {
            return Err(RecordProblem::BadDirectory(format!(
                "entry {} has the tag {:?}",
                index + 1,
                String::from_utf8_lossy(tag)
            )));
        }
        let tag = String::from_utf8_lossy(tag).into_owned();
        let (Some(length), Some(start)) = (digits(&entry[3..7]), digits(&entry[7..12])) else {
            return Err(RecordProblem::BadDirectory(format!(
                "the length or start of field {tag} (entry {}) is not digits",
                index + 1
            )));
        };
        let Some(field) = data.get(start..start + length) else {
            return Err(RecordProblem::BadDirectory(format!(
                "field {tag} (entry {}) runs past the end of the record",
                index + 1
            )));
        };
        let Some((&FIELD_END, content)) = field.split_last() else {
            return Err(RecordProblem::BadDirectory(format!(
                "field {tag} (entry {}) does not end with a field terminator",
                index + 1
            )));
        };
        if tag.as_str() < "010" {
            let text = decode(content, charset, &tag)?;
            let field =
                Controlfield::new(tag.as_str(), text).map_err(RecordProblem::BadDirectory)?;
            record.control_fields_mut().push(field);
        } else {
            record
                .fields_mut()
                .push(data_field(&tag, content, charset)?);
        }
    }
    Ok((record, stated))
}

fn data_field(tag: &str, content: &[u8], charset: Charset) -> Result<Field, RecordProblem> {
    let bad = |why: &str| RecordProblem::BadField {
        tag: tag.to_owned(),
        why: why.to_owned(),
    };
    let [ind1, ind2, subfields @ ..] = content else {
        return Err(bad("it is too short for its two indicators"));
    };
    if !ind1.is_ascii_graphic() && *ind1 != b' ' || !ind2.is_ascii_graphic() && *ind2 != b' ' {
        return Err(bad("an indicator is not an ASCII letter, digit or blank"));
    }
    let mut field = Field::new(tag).map_err(|e| bad(&e))?;
    field.set_ind1(char::from(*ind1)).map_err(|e| bad(&e))?;
    field.set_ind2(char::from(*ind2)).map_err(|e| bad(&e))?;
    let mut parts = subfields.split(|b| *b == SUBFIELD_START);
    if parts.next().is_some_and(|before| !before.is_empty()) {
        return Err(bad("it has data before its first subfield"));
    }
    for part in parts {
        let Some((code, value)) = part.split_first() else {
            return Err(bad("a subfield has no code"));
        };
        if !code.is_ascii_graphic() {
            return Err(bad("a subfield code is not an ASCII letter or digit"));
        }
        let text = decode(value, charset, tag)?;
        let subfield = Subfield::new(char::from(*code), text).map_err(|e| bad(&e))?;
        field.subfields_mut().push(subfield);
    }
    Ok(field)
}

fn decode(bytes: &[u8], charset: Charset, tag: &str) -> Result<String, RecordProblem> {
    match charset {
        Charset::Utf8 => {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|e| RecordProblem::InvalidUtf8 {
                    tag: tag.to_owned(),
                    offset: e.valid_up_to(),
                })
        }
        Charset::Marc8 => marc8::decode(bytes).map_err(|problem| RecordProblem::Marc8 {
            tag: tag.to_owned(),
            problem,
        }),
    }
}

/// A fixed-width decimal number of the leader or directory.
fn digits(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0usize, |n, b| n * 10 + usize::from(b - b'0')),
    )
}

/// ISO 2709 writes a field's length in four digits.
const MAX_FIELD_BYTES: usize = 9_999;

/// Writes `record` as ISO 2709 (UTF-8, leader/09 'a') at the end of `out`; `None` when it or
/// one of its fields is longer than ISO 2709 can say (99,999 and 9,999 bytes).
pub fn write(record: &Record, out: &mut Vec<u8>) -> Option<()> {
    // marctk checks the record's length but not a field's, which would shift the directory.
    let control_too_long = record
        .control_fields()
        .iter()
        .any(|f| f.content().len() + 1 > MAX_FIELD_BYTES);
    let data_too_long = record.fields().iter().any(|f| {
        let length: usize = f.subfields().iter().map(|s| 2 + s.content().len()).sum();
        length + 3 > MAX_FIELD_BYTES
    });
    if control_too_long || data_too_long {
        return None;
    }
    let mut bytes = record.to_binary().ok()?;
    // UTF-8, two indicators, one-byte subfield codes and the 4-5-0 directory entries: what
    // this writer writes, whatever a MARCXML leader said.
    for (at, value) in [
        (9, b'a'),
        (10, b'2'),
        (11, b'2'),
        (20, b'4'),
        (21, b'5'),
        (22, b'0'),
        (23, b'0'),
    ] {
        if let Some(byte) = bytes.get_mut(at) {
            *byte = value;
        }
    }
    out.extend_from_slice(&bytes);
    Some(())
}
