//! MARCXML (the Library of Congress's MARC21 slim schema): reading a file of records and
//! writing a `<collection>`.
//!
//! Reading is marctk's, which accepts records with or without a `<collection>` and a
//! namespace; we add the record numbers to its errors and check what it does not (ASCII
//! leader, tags, codes and indicators; no ISO 2709 delimiters inside values), so a record that
//! reads here can be written as ISO 2709. Writing is marctk's record by record inside our
//! `<collection>`, with the leader the record's ISO 2709 form has and characters XML 1.0
//! cannot carry replaced by U+FFFD.

use marctk::Record;

use super::iso2709::{self, FIELD_END, RECORD_END, SUBFIELD_START};
use super::{MarcError, RecordProblem};

/// Reads every record of a MARCXML document; the first problem stops the reading.
pub fn read(bytes: &[u8]) -> Result<Vec<Record>, MarcError> {
    let records = Records::new(bytes)?.collect::<Result<Vec<_>, _>>()?;
    if records.is_empty() {
        return Err(MarcError::NoRecords);
    }
    Ok(records)
}

/// The records of a MARCXML document one at a time; after a problem, nothing more.
pub struct Records {
    reader: marctk::xml::XmlRecordIterator,
    number: usize,
    failed: bool,
}

impl Records {
    /// Fails at once when the document is not UTF-8.
    pub fn new(bytes: &[u8]) -> Result<Records, MarcError> {
        let text = std::str::from_utf8(bytes).map_err(|e| MarcError::Record {
            record: records_started(&bytes[..e.valid_up_to()]).max(1),
            problem: RecordProblem::InvalidUtf8 {
                tag: "XML".into(),
                offset: e.valid_up_to(),
            },
        })?;
        Ok(Records {
            reader: Record::from_xml(text),
            number: 0,
            failed: false,
        })
    }
}

impl Iterator for Records {
    type Item = Result<Record, MarcError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.reader.next()?;
        self.number += 1;
        let checked = item
            .map_err(RecordProblem::Xml)
            .and_then(|record| check(&record).map(|()| record))
            .map_err(|problem| MarcError::Record {
                record: self.number,
                problem,
            });
        self.failed = checked.is_err();
        Some(checked)
    }
}

/// How many `<record` start tags (with or without a prefix) come before the end of `bytes`.
fn records_started(bytes: &[u8]) -> usize {
    bytes
        .windows(8)
        .filter(|w| {
            (w[0] == b'<' || w[0] == b':')
                && &w[1..7] == b"record"
                && matches!(w[7], b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')
        })
        .count()
}

fn check(record: &Record) -> Result<(), RecordProblem> {
    if !record.leader().bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Err(RecordProblem::BadLeader(
            "it holds characters that are not ASCII letters, digits or spaces".into(),
        ));
    }
    let delimiter = |text: &str| {
        text.bytes()
            .any(|b| matches!(b, RECORD_END | FIELD_END | SUBFIELD_START))
    };
    for field in record.control_fields() {
        if delimiter(field.content()) {
            return Err(RecordProblem::BadField {
                tag: field.tag().to_owned(),
                why: "it holds an ISO 2709 delimiter".into(),
            });
        }
    }
    for field in record.fields() {
        let bad = |why: &str| RecordProblem::BadField {
            tag: field.tag().to_owned(),
            why: why.to_owned(),
        };
        if !field.tag().bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("its tag is not three ASCII letters or digits"));
        }
        // ISO 2709 tells control fields from data fields by the tag alone.
        if field.tag() < "010" {
            return Err(bad(
                "a data field cannot have a control field's tag (001–009)",
            ));
        }
        // The ISO 2709 reader's rule, so whatever reads here reads there too.
        let indicator = |ind: &str| ind.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if !(indicator(field.ind1()) && indicator(field.ind2())) {
            return Err(bad("an indicator is not an ASCII letter, digit or blank"));
        }
        for subfield in field.subfields() {
            if !subfield.code().bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad("a subfield code is not an ASCII letter or digit"));
            }
            if delimiter(subfield.content()) {
                return Err(bad("a subfield holds an ISO 2709 delimiter"));
            }
        }
    }
    Ok(())
}

/// Writes `records` as one MARCXML `<collection>` document.
pub fn write(records: &[Record]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n",
    );
    for record in records {
        let text = with_written_leader(record).to_xml_string();
        xml.push_str(&text.replace(not_xml, "\u{FFFD}"));
        xml.push('\n');
    }
    xml.push_str("</collection>\n");
    xml.into_bytes()
}

/// The record with the leader its ISO 2709 form has (length, base address, UTF-8), so both
/// exports of a record say the same; unchanged when it is too long for ISO 2709.
fn with_written_leader(record: &Record) -> std::borrow::Cow<'_, Record> {
    let mut bytes = Vec::new();
    let leader = iso2709::write(record, &mut bytes)
        .and_then(|()| bytes.get(..24))
        .and_then(|leader| std::str::from_utf8(leader).ok());
    match leader {
        Some(leader) if leader != record.leader() => {
            let mut written = record.clone();
            // 24 ASCII bytes, as ISO 2709 wrote them.
            let _ = written.set_leader(leader);
            std::borrow::Cow::Owned(written)
        }
        _ => std::borrow::Cow::Borrowed(record),
    }
}

/// Characters XML 1.0 cannot carry, even escaped.
fn not_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}
