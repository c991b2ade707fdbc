//! MARC21 records in and out: the formats district and province libraries exchange
//! catalogues in. The codec reads ISO 2709 (UTF-8 or MARC-8) and MARCXML and writes both;
//! [`mapping`] turns a MARC record into our record's fields and back; [`import`] plans and
//! applies an import against the store (matching on ISBN and control numbers, one commit);
//! [`export`] writes the catalogue or a selection.
//!
//! The record model and the writers are the `marctk` crate's: it round-trips UTF-8 ISO 2709
//! byte for byte and its MARCXML reads in yaz. The ISO 2709 reader and the MARC-8 decoder are
//! ours, because marctk refuses MARC-8 and panics on some damaged records (see [`iso2709`]).
//! Every problem with a file is a [`MarcError`] that names the record (counted from 1).
//!
//! This module knows nothing about HTTP or the console; it never reads or writes files itself.

pub mod export;
pub mod import;
pub mod iso2709;
pub mod mapping;
pub mod marc8;
pub mod marcxml;

pub use marctk::Record;

/// A file format for MARC21 records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// ISO 2709, the `.mrc` files library systems exchange.
    Iso2709,
    /// MARCXML (MARC21 slim).
    MarcXml,
}

impl Format {
    /// The format of a file, from its first bytes: XML starts with `<` (after a byte-order
    /// mark or blanks), ISO 2709 with the five digits of a record length.
    pub fn detect(bytes: &[u8]) -> Format {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Format::MarcXml,
            _ => Format::Iso2709,
        }
    }

    /// The name the command line takes and prints.
    pub fn name(self) -> &'static str {
        match self {
            Format::Iso2709 => "iso2709",
            Format::MarcXml => "marcxml",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "iso2709" | "mrc" => Some(Format::Iso2709),
            "marcxml" | "xml" => Some(Format::MarcXml),
            _ => None,
        }
    }
}

/// Why a MARC file cannot be read. Reading stops at the first problem, so nothing of a damaged
/// file is imported.
#[derive(Debug, thiserror::Error)]
pub enum MarcError {
    #[error("record {record}: {problem}")]
    Record {
        record: usize,
        problem: RecordProblem,
    },
    #[error("the file holds no MARC records")]
    NoRecords,
}

impl MarcError {
    /// The record (counted from 1) the problem is in.
    pub fn record(&self) -> Option<usize> {
        match self {
            MarcError::Record { record, .. } => Some(*record),
            MarcError::NoRecords => None,
        }
    }
}

/// What is wrong with one record.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    #[error("bad leader: {0}")]
    BadLeader(String),
    #[error(
        "the leader says the record is {stated} bytes long, but it ends after {found} bytes \
         (wrong lengths: was the file changed by a text editor?)"
    )]
    WrongLength { stated: usize, found: usize },
    #[error("{}", truncated(*stated, *left))]
    Truncated { stated: Option<usize>, left: usize },
    #[error("bad directory: {0}")]
    BadDirectory(String),
    #[error("field {tag}: {why}")]
    BadField { tag: String, why: String },
    #[error("field {tag} is not valid UTF-8 (at byte {offset}), though the leader says UTF-8")]
    InvalidUtf8 { tag: String, offset: usize },
    #[error("leader/09 is {0:?}: neither blank (MARC-8) nor 'a' (UTF-8), an unknown character set")]
    UnknownCharset(char),
    #[error("field {tag}: {problem}")]
    Marc8 {
        tag: String,
        problem: marc8::Marc8Error,
    },
    #[error("not MARCXML: {0}")]
    Xml(String),
}

fn truncated(stated: Option<usize>, left: usize) -> String {
    match stated {
        Some(stated) => format!(
            "the file ends {left} bytes into a record the leader says is {stated} bytes long \
             (truncated file: copy it again)"
        ),
        None => format!(
            "the file ends {left} bytes into a record, before its leader is complete \
             (truncated file: copy it again)"
        ),
    }
}

/// The records of a file in either format, one at a time (see [`check`] and [`read`]).
pub enum Records<'a> {
    Iso2709(iso2709::Records<'a>),
    MarcXml(Box<marcxml::Records>),
}

impl Iterator for Records<'_> {
    type Item = Result<Record, MarcError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Records::Iso2709(records) => records.next(),
            Records::MarcXml(records) => records.next(),
        }
    }
}

/// The records of a file in either format (told apart by [`Format::detect`]), read as they
/// are asked for.
pub fn records(bytes: &[u8]) -> Result<(Format, Records<'_>), MarcError> {
    let format = Format::detect(bytes);
    let records = match format {
        Format::Iso2709 => Records::Iso2709(iso2709::Records::new(bytes)),
        Format::MarcXml => Records::MarcXml(Box::new(marcxml::Records::new(bytes)?)),
    };
    Ok((format, records))
}

/// Reads every record of a file and keeps none: the first pass of an import, which must know
/// the whole file is good before it plans anything. Returns the format and how many records.
pub fn check(bytes: &[u8]) -> Result<(Format, usize), MarcError> {
    let (format, records) = records(bytes)?;
    let mut count = 0;
    for record in records {
        record?;
        count += 1;
    }
    if count == 0 {
        return Err(MarcError::NoRecords);
    }
    Ok((format, count))
}

/// Reads a whole file of records in either format (told apart by [`Format::detect`]).
pub fn read(bytes: &[u8]) -> Result<(Format, Vec<Record>), MarcError> {
    let format = Format::detect(bytes);
    let records = match format {
        Format::Iso2709 => iso2709::read(bytes)?,
        Format::MarcXml => marcxml::read(bytes)?,
    };
    Ok((format, records))
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
