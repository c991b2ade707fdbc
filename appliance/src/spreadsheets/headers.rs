//! Which column holds what: the headers communes write in their lists ("Tên sách", "NXB",
//! "Số ĐKCB", "Họ và tên", "Lớp"…), recognised with or without diacritics, in any case and
//! with any spacing or punctuation, plus the librarian's own `--map "Cột X=title"` for the
//! rest. Columns nobody recognises are ignored and listed, never guessed at.
//!
//! The staff import page asks the librarian instead of taking `--map`: [`guess_columns`] says
//! which row looks like the header and what each of its columns seems to hold (by the same
//! recognition), and [`map_chosen`] turns the librarian's answer, column by column, into the
//! same [`ColumnMap`] the planners take.

use std::collections::HashMap;

use super::RowKind;
use super::table::Row;
use crate::search::fold;

/// What a column of a books or readers list can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    // Books.
    Title,
    Authors,
    Publisher,
    Year,
    Isbn,
    Barcode,
    Ddc,
    Shelf,
    Pages,
    Language,
    // Readers.
    Name,
    Class,
    School,
    Card,
    Category,
    Born,
    Contact,
    Expires,
}

impl Field {
    /// The name `--map` takes and `--json` prints.
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Authors => "authors",
            Field::Publisher => "publisher",
            Field::Year => "year",
            Field::Isbn => "isbn",
            Field::Barcode => "barcode",
            Field::Ddc => "ddc",
            Field::Shelf => "shelf",
            Field::Pages => "pages",
            Field::Language => "language",
            Field::Name => "name",
            Field::Class => "class",
            Field::School => "school",
            Field::Card => "card",
            Field::Category => "category",
            Field::Born => "born",
            Field::Contact => "contact",
            Field::Expires => "expires",
        }
    }

    /// The fields of one kind of list, and the headers (folded: no marks, lowercase, single
    /// spaces) that name each.
    fn known(kind: RowKind) -> &'static [(Field, &'static [&'static str])] {
        match kind {
            RowKind::Books => &[
                (
                    Field::Title,
                    &[
                        "ten sach",
                        "nhan de",
                        "ten tai lieu",
                        "nhan de sach",
                        "title",
                    ],
                ),
                (Field::Authors, &["tac gia", "author", "authors"]),
                (Field::Publisher, &["nha xuat ban", "nxb", "publisher"]),
                (
                    Field::Year,
                    &["nam", "nam xuat ban", "nam xb", "nam san xuat", "year"],
                ),
                (Field::Isbn, &["isbn", "ma isbn", "so isbn"]),
                (
                    Field::Barcode,
                    &[
                        "so dang ky ca biet",
                        "dang ky ca biet",
                        "dkcb",
                        "so dkcb",
                        "ma vach",
                        "barcode",
                    ],
                ),
                (
                    Field::Ddc,
                    &[
                        "mon loai",
                        "ddc",
                        "ky hieu phan loai",
                        "phan loai",
                        "so phan loai",
                    ],
                ),
                (Field::Shelf, &["ke", "vi tri", "ke sach", "shelf"]),
                (Field::Pages, &["so trang", "trang", "pages"]),
                (Field::Language, &["ngon ngu", "language"]),
            ],
            RowKind::Readers => &[
                (Field::Name, &["ho va ten", "ho ten", "ten ban doc", "name"]),
                (Field::Class, &["lop", "class"]),
                (Field::School, &["truong", "school"]),
                (
                    Field::Card,
                    &["so the", "ma ban doc", "ma the", "so the ban doc", "card"],
                ),
                (
                    Field::Category,
                    &["doi tuong", "loai ban doc", "doi tuong ban doc", "category"],
                ),
                (Field::Born, &["ngay sinh", "born"]),
                (
                    Field::Contact,
                    &["dien thoai", "sdt", "so dien thoai", "lien he", "contact"],
                ),
                (
                    Field::Expires,
                    &["han the", "ngay het han", "het han", "expires"],
                ),
            ],
        }
    }

    /// The field `name` names for `kind` (as `--map` takes it).
    pub fn named(kind: RowKind, name: &str) -> Option<Field> {
        Field::known(kind)
            .iter()
            .map(|(field, _)| *field)
            .find(|field| field.name() == name.trim())
    }

    pub fn names(kind: RowKind) -> Vec<&'static str> {
        Field::known(kind).iter().map(|(f, _)| f.name()).collect()
    }

    /// Every field of one kind of list, in the order a librarian is offered them.
    pub fn all(kind: RowKind) -> impl Iterator<Item = Field> {
        Field::known(kind).iter().map(|(field, _)| *field)
    }

    /// The field a header row must have and every row must fill: the title of a book, the
    /// name of a reader.
    pub fn key(kind: RowKind) -> Field {
        match kind {
            RowKind::Books => Field::Title,
            RowKind::Readers => Field::Name,
        }
    }
}

/// A header as it is compared: marks removed, đ as d, lowercase, words separated by one
/// space, punctuation gone ("Năm XB:" and "nam  xb" are both "nam xb").
pub fn folded(header: &str) -> String {
    fold::words(&fold::fold(header))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The field a header names, if it is one we know for `kind`.
pub fn recognise(kind: RowKind, header: &str) -> Option<Field> {
    let key = folded(header);
    Field::known(kind)
        .iter()
        .find(|(_, aliases)| aliases.contains(&key.as_str()))
        .map(|(field, _)| *field)
}

/// A librarian's `--map "Cột X=title"`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapOverride {
    pub header: String,
    pub field: Field,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("--map \"{0}\": cần dạng \"Tên cột=trường\" / needs the form \"Column name=field\"")]
    NoEquals(String),
    #[error(
        "--map: \"{field}\" không phải là trường (có: {choices}) / is not a field (choices: {choices})"
    )]
    UnknownField { field: String, choices: String },
    #[error(
        "--map: không có cột \"{0}\" trong dòng tiêu đề / there is no column \"{0}\" in the header row"
    )]
    NoSuchColumn(String),
    #[error(
        "Không tìm thấy dòng tiêu đề có cột {needed}; hãy dùng --map \"Tên cột={field}\". / \
         No header row with a {needed} column was found; use --map \"Column name={field}\"."
    )]
    NoHeader { needed: String, field: &'static str },
    /// A choice of columns in which two columns hold the same field.
    #[error(
        "Hai cột \"{first}\" và \"{second}\" cùng được chọn là {field}. / \
         Columns \"{first}\" and \"{second}\" are both chosen as {field}."
    )]
    FieldTwice {
        field: &'static str,
        first: String,
        second: String,
    },
    /// A choice of columns with none for the key field (title or name).
    #[error("Chưa chọn cột nào là {field}. / No column is chosen as {field}.")]
    KeyNotChosen { field: &'static str },
    /// The header row chosen is not a row of the sheet.
    #[error("Không có dòng {0} trong trang tính. / The sheet has no line {0}.")]
    NoSuchLine(usize),
}

/// Parses `--map` arguments for `kind`.
pub fn parse_overrides(kind: RowKind, typed: &[String]) -> Result<Vec<MapOverride>, MapError> {
    typed
        .iter()
        .map(|text| {
            let (header, field) = text
                .rsplit_once('=')
                .ok_or_else(|| MapError::NoEquals(text.clone()))?;
            let field = Field::named(kind, field).ok_or_else(|| MapError::UnknownField {
                field: field.trim().to_owned(),
                choices: Field::names(kind).join(", "),
            })?;
            Ok(MapOverride {
                header: header.trim().to_owned(),
                field,
            })
        })
        .collect()
}

/// Which column holds which field, found in the header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMap {
    /// The header row's line number; data rows come after it.
    pub header_line: usize,
    /// Index of the header row among the rows.
    pub header_index: usize,
    /// Field → (column, header as written).
    pub columns: HashMap<Field, (usize, String)>,
    /// Headers that name nothing we know, as written, in column order.
    pub ignored: Vec<String>,
}

impl ColumnMap {
    pub fn column(&self, field: Field) -> Option<usize> {
        self.columns.get(&field).map(|(column, _)| *column)
    }

    /// The header of `field`'s column as the librarian wrote it (for error messages).
    pub fn header(&self, field: Field) -> &str {
        self.columns
            .get(&field)
            .map(|(_, header)| header.as_str())
            .unwrap_or(field.name())
    }

    /// Fields recognised, with their headers, in a stable order (for reports).
    pub fn recognised(&self) -> Vec<(Field, &str)> {
        let mut found: Vec<(Field, &str)> = self
            .columns
            .iter()
            .map(|(field, (_, header))| (*field, header.as_str()))
            .collect();
        found.sort();
        found
    }
}

/// Rows looked at for the header: lists often start with a title, the library's name and a
/// blank line before the real header.
const HEADER_SEARCH_ROWS: usize = 10;

/// Finds the header row (the first of the first rows that names the list's key field, the
/// title or the reader's name, by itself or through `overrides`) and maps its columns.
pub fn map_columns(
    kind: RowKind,
    rows: &[Row],
    overrides: &[MapOverride],
) -> Result<ColumnMap, MapError> {
    let key_field = Field::key(kind);
    for (index, row) in rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let map = map_row(kind, index, row, overrides);
        if map.columns.contains_key(&key_field) {
            for wanted in overrides {
                if !row.cells.iter().any(|c| same_header(c, &wanted.header)) {
                    return Err(MapError::NoSuchColumn(wanted.header.clone()));
                }
            }
            return Ok(map);
        }
    }
    Err(MapError::NoHeader {
        needed: match kind {
            RowKind::Books => "\"Tên sách\"".into(),
            RowKind::Readers => "\"Họ và tên\"".into(),
        },
        field: key_field.name(),
    })
}

fn same_header(cell: &str, typed: &str) -> bool {
    folded(cell) == folded(typed) && !folded(typed).is_empty()
}

fn map_row(kind: RowKind, index: usize, row: &Row, overrides: &[MapOverride]) -> ColumnMap {
    let mut columns = HashMap::new();
    let mut ignored = Vec::new();
    for (column, header) in row.cells.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        let field = overrides
            .iter()
            .find(|o| same_header(header, &o.header))
            .map(|o| o.field)
            .or_else(|| recognise(kind, header));
        match field {
            // The first column of a field wins; a second is listed as ignored.
            Some(field) if !columns.contains_key(&field) => {
                columns.insert(field, (column, header.clone()));
            }
            _ => ignored.push(header.clone()),
        }
    }
    ColumnMap {
        header_line: row.line,
        header_index: index,
        columns,
        ignored,
    }
}

/// What the columns of a list seem to hold, for the librarian to confirm or change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnGuess {
    /// Index of the header row among the rows.
    pub header_index: usize,
    pub header_line: usize,
    /// Each column of the header row, in order: its header as written (empty when the cell
    /// is) and the field it seems to hold.
    pub columns: Vec<(String, Option<Field>)>,
}

/// Which row looks like the header and what each of its columns seems to hold: the row
/// [`map_columns`] would take; else, among the first rows, the one that names the most fields
/// we know; else the one with the most cells filled (a list's title fills one cell, its header
/// every column). `header_line` is the librarian's own choice of header row, which wins.
/// Columns are recognised as `map_columns` recognises them; a field's second column is left
/// unchosen. `None` when the rows are empty or have no such line.
pub fn guess_columns(
    kind: RowKind,
    rows: &[Row],
    header_line: Option<usize>,
) -> Option<ColumnGuess> {
    let header_index = match header_line {
        Some(line) => rows.iter().position(|row| row.line == line)?,
        None => match map_columns(kind, rows, &[]) {
            Ok(map) => map.header_index,
            Err(_) => best_header_row(kind, rows)?,
        },
    };
    let row = &rows[header_index];
    let mut taken = Vec::new();
    let columns = row
        .cells
        .iter()
        .map(|header| {
            let field = recognise(kind, header).filter(|field| !taken.contains(field));
            taken.extend(field);
            (header.clone(), field)
        })
        .collect();
    Some(ColumnGuess {
        header_index,
        header_line: row.line,
        columns,
    })
}

fn best_header_row(kind: RowKind, rows: &[Row]) -> Option<usize> {
    let score = |row: &Row| {
        let known = row
            .cells
            .iter()
            .filter(|c| recognise(kind, c).is_some())
            .count();
        let filled = row.cells.iter().filter(|c| !c.is_empty()).count();
        (known, filled)
    };
    let mut best: Option<(usize, (usize, usize))> = None;
    for (index, row) in rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let this = score(row);
        // The earliest of equals: the header comes before rows just as full.
        if this.1 > 0 && best.is_none_or(|(_, top)| this > top) {
            best = Some((index, this));
        }
    }
    best.map(|(index, _)| index)
}

/// The rows a librarian may choose as the header: the first non-blank ones.
pub fn header_candidates(rows: &[Row]) -> impl Iterator<Item = &Row> {
    rows.iter()
        .take(HEADER_SEARCH_ROWS)
        .filter(|row| !row.is_blank())
}

/// A column's letter as Excel shows it: A … Z, AA, AB …
pub fn column_letter(column: usize) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rest = (n - 1) % 26;
        letters.push(char::from(b'A' + rest as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The librarian's choice of what each column of the header row (on `header_line`) holds,
/// by column (`None`: ignore it), as the map the planners take. Two columns may not hold one
/// field, and the key field (title or name) must have a column. A column without a header is
/// named by its letter in messages ("cột C").
pub fn map_chosen(
    kind: RowKind,
    rows: &[Row],
    header_line: usize,
    chosen: &[Option<Field>],
) -> Result<ColumnMap, MapError> {
    let header_index = rows
        .iter()
        .position(|row| row.line == header_line)
        .ok_or(MapError::NoSuchLine(header_line))?;
    let row = &rows[header_index];
    let mut columns: HashMap<Field, (usize, String)> = HashMap::new();
    let mut ignored = Vec::new();
    let width = row.cells.len().max(chosen.len());
    for column in 0..width {
        let written = row.cell(column);
        let header = if written.is_empty() {
            column_letter(column)
        } else {
            written.to_owned()
        };
        match chosen.get(column).copied().flatten() {
            Some(field) => {
                if let Some((_, first)) = columns.get(&field) {
                    return Err(MapError::FieldTwice {
                        field: field.name(),
                        first: first.clone(),
                        second: header,
                    });
                }
                columns.insert(field, (column, header));
            }
            None if !written.is_empty() => ignored.push(header),
            None => {}
        }
    }
    let key = Field::key(kind);
    if !columns.contains_key(&key) {
        return Err(MapError::KeyNotChosen { field: key.name() });
    }
    Ok(ColumnMap {
        header_line: row.line,
        header_index,
        columns,
        ignored,
    })
}
