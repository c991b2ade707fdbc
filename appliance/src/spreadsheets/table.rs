//! Reading a sheet into rows of text, each with the line number Excel shows beside it: `.csv`
//! (UTF-8 with or without a byte-order mark; comma, semicolon or tab, detected) through the
//! `csv` crate, and `.xlsx` through `calamine`.
//!
//! Cells become text the way a librarian reads them: a whole number stays "1999", never
//! "1999.0"; a date cell becomes "2026-09-01". Nothing here knows what a column means (see
//! [`super::headers`]).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Days, NaiveDate};

/// One row of a sheet: its line number as Excel shows it (the first line is 1) and its cells,
/// trimmed, in column order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

impl Row {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }

    pub fn cell(&self, column: usize) -> &str {
        self.cells.get(column).map(String::as_str).unwrap_or("")
    }
}

/// Why a file cannot be read as a sheet at all (a problem with one row is a
/// [`super::RowError`] instead).
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error(
        "Tệp không phải UTF-8 (dòng {line}): trong Excel hãy lưu bằng \"CSV UTF-8\". / \
         The file is not UTF-8 (line {line}): in Excel, save it as \"CSV UTF-8\"."
    )]
    NotUtf8 { line: usize },
    #[error(
        "Không đọc được tệp CSV (dòng {line}): {why} / The CSV file cannot be read (line {line}): {why}"
    )]
    Csv { line: usize, why: String },
    #[error(
        "Không đọc được tệp Excel: {0}. Tệp phải là .xlsx (Excel 2007 trở lên). / \
         The Excel file cannot be read: {0}. It must be an .xlsx (Excel 2007 or later)."
    )]
    Xlsx(String),
    #[error(
        "Tệp Excel không có trang tính \"{asked}\"; có: {have}. / The workbook has no sheet \"{asked}\"; it has: {have}."
    )]
    NoSuchSheet { asked: String, have: String },
    #[error("Tệp không có dòng nào. / The file has no rows.")]
    Empty,
}

/// The separator of a CSV file, from its first line: the one of `,` `;` and tab that occurs
/// most there outside quotes. Vietnamese Excel writes `;` because `,` is its decimal comma.
pub fn detect_separator(text: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in text.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                for (separator, count) in &mut counts {
                    if c == *separator {
                        *count += 1;
                    }
                }
            }
            _ => {}
        }
    }
    // Ties go to the comma (first), the standard.
    let mut best = counts[0];
    for candidate in &counts[1..] {
        if candidate.1 > best.1 {
            best = *candidate;
        }
    }
    best.0
}

/// The rows of a CSV file, numbered as Excel numbers them when it opens the file: a blank
/// line is a row of its own, and a line break inside a quoted cell is not. (The csv crate
/// skips blank lines and its positions count lines differently, so the file is cut into
/// Excel's rows here and each row's cells are read by the csv crate.)
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, SheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let line = 1 + bytes[..error.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(SheetError::NotUtf8 { line });
        }
    };
    let separator = detect_separator(text);
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    for (line, row_text) in excel_rows(text, separator) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(separator)
            .from_reader(row_text.as_bytes());
        // One record, unless the row is odd enough that csv reads it as several: its cells
        // then stay on this line, one after another.
        let mut cells = Vec::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => cells.extend(record.iter().map(|c| c.trim().to_owned())),
                Err(error) => {
                    return Err(SheetError::Csv {
                        line,
                        why: error.to_string(),
                    });
                }
            }
        }
        if !cells.is_empty() {
            rows.push(Row { line, cells });
        }
    }
    if rows.is_empty() {
        return Err(SheetError::Empty);
    }
    Ok(rows)
}

/// `text` cut into Excel's rows, with their numbers: a row ends at a line break outside
/// quotes (`\r\n`, `\n` or `\r`); a quote opens a quoted cell only at the start of a cell,
/// and `""` inside one is a quote, as in the csv crate.
fn excel_rows(text: &str, separator: u8) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut rows = Vec::new();
    let (mut start, mut line, mut at) = (0, 1, 0);
    let (mut quoted, mut cell_start) = (false, true);
    while at < bytes.len() {
        let b = bytes[at];
        if quoted {
            if b == b'"' {
                if bytes.get(at + 1) == Some(&b'"') {
                    at += 1;
                } else {
                    quoted = false;
                }
            }
        } else if b == b'"' && cell_start {
            quoted = true;
        } else if b == b'\n' || b == b'\r' {
            rows.push((line, &text[start..at]));
            if b == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at += 1;
            }
            line += 1;
            start = at + 1;
            cell_start = true;
            at += 1;
            continue;
        }
        cell_start = !quoted && b == separator;
        at += 1;
    }
    if start < bytes.len() {
        rows.push((line, &text[start..]));
    }
    rows
}

/// The names of the sheets of an `.xlsx` file, in the workbook's order.
pub fn xlsx_sheet_names(bytes: &[u8]) -> Result<Vec<String>, SheetError> {
    let workbook = open_xlsx(bytes)?;
    Ok(workbook.sheet_names())
}

fn open_xlsx(bytes: &[u8]) -> Result<Xlsx<Cursor<&[u8]>>, SheetError> {
    Xlsx::new(Cursor::new(bytes)).map_err(|e| SheetError::Xlsx(e.to_string()))
}

/// The rows of one sheet of an `.xlsx` file (`sheet`, or the first), numbered as Excel
/// numbers them even when the list starts lower down the sheet.
pub fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<Row>, SheetError> {
    let mut workbook = open_xlsx(bytes)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(asked) => names
            .iter()
            .find(|n| n.as_str() == asked || n.trim().to_lowercase() == asked.trim().to_lowercase())
            .cloned()
            .ok_or_else(|| SheetError::NoSuchSheet {
                asked: asked.to_owned(),
                have: names.join(", "),
            })?,
        None => names.first().cloned().ok_or(SheetError::Empty)?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| SheetError::Xlsx(e.to_string()))?;
    let Some((first_row, first_column)) = range.start() else {
        return Err(SheetError::Empty);
    };
    // Cells left of the used range are empty: pad so column numbers match the sheet's.
    let pad = first_column as usize;
    let rows: Vec<Row> = range
        .rows()
        .enumerate()
        .map(|(index, cells)| Row {
            line: first_row as usize + index + 1,
            cells: std::iter::repeat_n(String::new(), pad)
                .chain(cells.iter().map(cell_text))
                .collect(),
        })
        .collect();
    if rows.is_empty() {
        return Err(SheetError::Empty);
    }
    Ok(rows)
}

/// A cell as the librarian sees it in Excel.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(when) if when.is_datetime() => excel_date(when.as_f64())
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| number_text(when.as_f64())),
        Data::DateTime(when) => number_text(when.as_f64()),
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Error(error) => format!("#{error}"),
    }
}

/// A number without a useless ".0" (a year, a barcode or a page count typed as a number).
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// The day of an Excel serial date (1900 system: day 1 is 1900-01-01, and Excel counts a
/// 29 February 1900 that never was, so later days are one ahead).
fn excel_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..3_000_000.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as u64;
    let base = if days < 60 {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    base.checked_add_days(Days::new(days))
}
