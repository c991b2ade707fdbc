//! Books and readers from the spreadsheets communes keep today (`.xlsx` and `.csv`), into the
//! catalogue and the library's desk, all or nothing.
//!
//! [`table`] reads a file into rows numbered as Excel numbers them; [`headers`] finds the
//! header row and recognises its Vietnamese headers ("Tên sách", "NXB", "Số ĐKCB", "Họ và
//! tên"…); [`books`] and [`readers`] check every row against the store and the rest of the
//! file and make a plan, which is also the preview; their `apply` writes the plan as one
//! commit, so a file with one bad row imports nothing, and a cut leaves all or nothing.
//!
//! This module knows nothing about HTTP or the console, and reads no files itself: it takes
//! bytes. Every problem with a row is a [`RowError`] naming its line and column, in
//! Vietnamese and English.

pub mod books;
pub mod headers;
pub mod readers;
pub mod table;

use chrono::NaiveDate;

pub use table::{Row, SheetError};

/// What a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    Books,
    Readers,
}

/// A file format for lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetFormat {
    Xlsx,
    Csv,
}

impl SheetFormat {
    pub fn name(self) -> &'static str {
        match self {
            SheetFormat::Xlsx => "xlsx",
            SheetFormat::Csv => "csv",
        }
    }
}

/// The rows of a file; `sheet` chooses a worksheet of an `.xlsx` (else the first).
pub fn read_rows(
    format: SheetFormat,
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<Vec<Row>, SheetError> {
    match format {
        SheetFormat::Xlsx => table::read_xlsx(bytes, sheet),
        SheetFormat::Csv => table::read_csv(bytes),
    }
}

/// What is wrong with one cell (or one row) of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A cell the row cannot do without is empty.
    Missing,
    NotYear(String),
    NotNumber(String),
    NotIsbn(String),
    NotBarcode(String),
    /// A copy of this library already has the barcode.
    BarcodeTaken {
        barcode: String,
        record: String,
    },
    /// An earlier row of the file has the barcode.
    BarcodeTwice {
        barcode: String,
        line: usize,
    },
    NotDate(String),
    NotCategory(String),
    NotCard(String),
    /// Another reader already has the card.
    CardTaken {
        card: String,
        name: String,
    },
    /// An earlier row of the file has the card.
    CardTwice {
        card: String,
        line: usize,
    },
    TooLong {
        max: usize,
    },
}

/// A problem with a row: its line as Excel shows it, the column's header as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: Option<String>,
    pub problem: Problem,
}

impl RowError {
    pub fn new(line: usize, column: &str, problem: Problem) -> RowError {
        RowError {
            line,
            column: Some(column.to_owned()),
            problem,
        }
    }

    /// "Dòng 17, cột Năm: "hai nghìn" không phải là năm".
    pub fn vi(&self) -> String {
        let what = match &self.problem {
            Problem::Missing => "ô này không được để trống".to_owned(),
            Problem::NotYear(text) => format!("\"{text}\" không phải là năm"),
            Problem::NotNumber(text) => format!("\"{text}\" không phải là số"),
            Problem::NotIsbn(text) => {
                format!("\"{text}\" không phải là ISBN hợp lệ (sai số kiểm tra)")
            }
            Problem::NotBarcode(text) => {
                format!("\"{text}\" không phải là mã vạch (chỉ dùng chữ, số và '-')")
            }
            Problem::BarcodeTaken { barcode, record } => {
                format!("mã {barcode} đã dùng cho một bản sách của thư viện ({record})")
            }
            Problem::BarcodeTwice { barcode, line } => {
                format!("mã {barcode} đã có ở dòng {line}")
            }
            Problem::NotDate(text) => {
                format!("\"{text}\" không phải là ngày (viết như 31/12/2026)")
            }
            Problem::NotCategory(text) => format!(
                "\"{text}\" không phải là đối tượng (Học sinh, Thiếu nhi, Giáo viên, Người lớn)"
            ),
            Problem::NotCard(text) => {
                format!("\"{text}\" không phải là số thẻ (không có khoảng trắng)")
            }
            Problem::CardTaken { card, name } => {
                format!("thẻ {card} đã cấp cho bạn đọc khác ({name})")
            }
            Problem::CardTwice { card, line } => format!("thẻ {card} đã có ở dòng {line}"),
            Problem::TooLong { max } => format!("dài quá {max} ký tự"),
        };
        match &self.column {
            Some(column) => format!("Dòng {}, cột {column}: {what}", self.line),
            None => format!("Dòng {}: {what}", self.line),
        }
    }

    /// "Line 17, column Năm: "hai nghìn" is not a year".
    pub fn en(&self) -> String {
        let what = match &self.problem {
            Problem::Missing => "this cell cannot be empty".to_owned(),
            Problem::NotYear(text) => format!("\"{text}\" is not a year"),
            Problem::NotNumber(text) => format!("\"{text}\" is not a number"),
            Problem::NotIsbn(text) => format!("\"{text}\" is not a valid ISBN (check digit)"),
            Problem::NotBarcode(text) => {
                format!("\"{text}\" is not a barcode (letters, digits and '-' only)")
            }
            Problem::BarcodeTaken { barcode, record } => {
                format!("barcode {barcode} already belongs to a copy of this library ({record})")
            }
            Problem::BarcodeTwice { barcode, line } => {
                format!("barcode {barcode} is already on line {line}")
            }
            Problem::NotDate(text) => format!("\"{text}\" is not a date (write it as 31/12/2026)"),
            Problem::NotCategory(text) => format!(
                "\"{text}\" is not a reader category (Học sinh, Thiếu nhi, Giáo viên, Người lớn)"
            ),
            Problem::NotCard(text) => format!("\"{text}\" is not a card number (no spaces)"),
            Problem::CardTaken { card, name } => {
                format!("card {card} already belongs to another reader ({name})")
            }
            Problem::CardTwice { card, line } => format!("card {card} is already on line {line}"),
            Problem::TooLong { max } => format!("longer than {max} characters"),
        };
        match &self.column {
            Some(column) => format!("Line {}, column {column}: {what}", self.line),
            None => format!("Line {}: {what}", self.line),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.vi(), self.en())
    }
}

/// A year as lists write it: "2015", "2015." or "c2015" (from a catalogue card), between
/// 1000 and next year.
pub fn parse_year(text: &str, today: NaiveDate) -> Option<i64> {
    let trimmed = text
        .trim()
        .trim_end_matches('.')
        .trim_start_matches(['c', 'C', '©'])
        .trim_matches(['[', ']']);
    let year: i64 = trimmed.parse().ok()?;
    let next = i64::from(chrono::Datelike::year(&today)) + 1;
    (1000..=next).contains(&year).then_some(year)
}

/// A day as lists write it: 31/12/2026, 31-12-2026, 31.12.2026, 2026-12-31 (what an Excel
/// date cell reads as), with or without leading zeros.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    // An Excel date-time cell written as text by another program: keep the day.
    if let Some((day, _time)) = text.split_once(['T', ' '])
        && let Ok(date) = NaiveDate::parse_from_str(day, "%Y-%m-%d")
    {
        return Some(date);
    }
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    let [day, month, year] = parts.as_slice() else {
        return None;
    };
    let (day, month, year): (u32, u32, i32) =
        (day.parse().ok()?, month.parse().ok()?, year.parse().ok()?);
    // "05/03/12" could be 1912 or 2012: a year must be written in full.
    if !(1000..=9999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
