//! A readers list into this library's desk: every row registers a reader card, as the desk's
//! registration form does, all in one commit.
//!
//! A card number already in this library is an error, unless that reader is the row's person
//! (same name, class and category), who is then left as is, so importing a list twice
//! registers nobody twice. A list without a card column gets card numbers in the style the
//! library already uses (the most common prefix and width, "BD0042" → "BD0043"; "BD0001" when
//! it has none), and a row whose person is already registered under the same name and class
//! is left as is. "Ngày sinh" is checked as a date but not stored: a reader's card does not
//! keep it. A row without a category is a student when it has a class, else an adult; one
//! without an expiry gets a card for twelve months.

use std::collections::HashMap;

use chrono::NaiveDate;
use tusach_sync::{Store, StoreError, Value, WriteBatch};

use super::headers::{ColumnMap, Field, MapError, MapOverride, folded, map_columns};
use super::{Problem, Row, RowError, RowKind, parse_date};
use crate::circulation::library::Desk;
use crate::circulation::library::{DeskError, READERS};
use crate::circulation::readers::NewReader;

const MAX_NAME_CHARS: usize = 80;
const MAX_CLASS_CHARS: usize = 40;
const MAX_SCHOOL_CHARS: usize = 80;
const MAX_CONTACT_CHARS: usize = 120;
/// Longest card number (what the desk's scanner field accepts).
const MAX_CARD_CHARS: usize = 64;

/// One row, checked: the reader it registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderRow {
    pub line: usize,
    pub reader: NewReader,
    /// The card number was made by the import (the list has none).
    pub card_generated: bool,
}

/// What importing a readers list will do, or why it cannot.
#[derive(Clone, Debug)]
pub struct ReadersPlan {
    pub columns: ColumnMap,
    /// Readers to register.
    pub rows: Vec<ReaderRow>,
    /// Rows whose person is already registered, with the card they have.
    pub already: Vec<(usize, String)>,
    pub errors: Vec<RowError>,
}

impl ReadersPlan {
    pub fn bad_lines(&self) -> usize {
        super::books::lines_with_errors(&self.errors)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadersError {
    #[error(transparent)]
    Columns(#[from] MapError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error(
        "Tệp có {0} dòng lỗi: không nhập gì. / The file has {0} line(s) with errors: nothing was imported."
    )]
    HasErrors(usize),
}

/// The category a cell names: the loan policy's own names, or what lists write.
pub fn category(cell: &str) -> Option<&'static str> {
    match folded(cell).as_str() {
        "hoc sinh" | "hs" | "sinh vien" | "sv" | "student" => Some("student"),
        "thieu nhi" | "tre em" | "nhi dong" | "child" => Some("child"),
        "giao vien" | "gv" | "can bo giao vien" | "teacher" => Some("teacher"),
        "nguoi lon" | "ban doc nguoi lon" | "adult" => Some("adult"),
        _ => None,
    }
}

/// A reader of this library as an import compares them.
struct Registered {
    name: String,
    class: String,
    category: String,
}

fn person_key(name: &str, class: &str) -> (String, String) {
    (folded(name), folded(class))
}

/// Card numbers in the library's style: the most common prefix and digit count among its
/// cards, counting on from the highest number.
#[derive(Debug, PartialEq, Eq)]
pub struct CardStyle {
    pub prefix: String,
    pub width: usize,
    pub next: u64,
}

impl CardStyle {
    pub fn of<'a>(cards: impl IntoIterator<Item = &'a str>) -> CardStyle {
        let mut styles: HashMap<(String, usize), (usize, u64)> = HashMap::new();
        for card in cards {
            let digits = card.len() - card.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let (prefix, number) = card.split_at(card.len() - digits);
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            let style = styles.entry((prefix.to_owned(), digits)).or_default();
            style.0 += 1;
            style.1 = style.1.max(number);
        }
        match styles
            .into_iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then_with(|| b.0.cmp(&a.0)))
        {
            Some(((prefix, width), (_, highest))) => CardStyle {
                prefix,
                width,
                next: highest.saturating_add(1),
            },
            None => CardStyle {
                prefix: "BD".into(),
                width: 4,
                next: 1,
            },
        }
    }

    fn take(&mut self) -> String {
        let card = format!("{}{:0width$}", self.prefix, self.next, width = self.width);
        self.next = self.next.saturating_add(1);
        card
    }
}

/// Checks every row of `rows` (a readers list) against this library's readers and the rest
/// of the file; writes nothing.
pub fn plan(
    store: &mut Store,
    desk: &Desk,
    rows: &[Row],
    overrides: &[MapOverride],
    today: NaiveDate,
) -> Result<ReadersPlan, ReadersError> {
    let columns = map_columns(RowKind::Readers, rows, overrides)?;
    plan_mapped(store, desk, rows, columns, today, &mut |_| {})
}

/// [`plan`] with the columns already mapped (by a librarian on the import page, say), telling
/// `checked` how many rows after the header it has checked as it goes.
pub fn plan_mapped(
    store: &mut Store,
    desk: &Desk,
    rows: &[Row],
    columns: ColumnMap,
    today: NaiveDate,
    checked: &mut dyn FnMut(usize),
) -> Result<ReadersPlan, ReadersError> {
    let mut registered: HashMap<String, Registered> = HashMap::new();
    store.scan(desk.scope(), READERS, |card, fields| {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        registered.insert(
            card.to_owned(),
            Registered {
                name: text("name"),
                class: text("class"),
                category: text("category"),
            },
        );
    })?;
    let by_person: HashMap<(String, String), String> = registered
        .iter()
        .map(|(card, r)| (person_key(&r.name, &r.class), card.clone()))
        .collect();
    let mut style = CardStyle::of(registered.keys().map(String::as_str));
    let generate = columns.column(Field::Card).is_none();
    let mut card_lines: HashMap<String, usize> = HashMap::new();
    let mut planned = Vec::new();
    let mut already = Vec::new();
    let mut errors = Vec::new();
    for (done, row) in rows.iter().skip(columns.header_index + 1).enumerate() {
        checked(done);
        if row.is_blank() {
            continue;
        }
        let before = errors.len();
        let cells = Cells {
            row,
            columns: &columns,
        };
        let name = cells.bounded(Field::Name, MAX_NAME_CHARS, &mut errors);
        if name.is_empty() {
            errors.push(cells.error(Field::Name, Problem::Missing));
        }
        let class = cells.bounded(Field::Class, MAX_CLASS_CHARS, &mut errors);
        let school = cells.bounded(Field::School, MAX_SCHOOL_CHARS, &mut errors);
        let contact = cells.bounded(Field::Contact, MAX_CONTACT_CHARS, &mut errors);
        let category = match cells.text(Field::Category) {
            text if text.is_empty() && class.is_empty() => "adult",
            text if text.is_empty() => "student",
            text => category(&text).unwrap_or_else(|| {
                errors.push(cells.error(Field::Category, Problem::NotCategory(text)));
                "adult"
            }),
        };
        let born = cells.text(Field::Born);
        if !born.is_empty() && parse_date(&born).is_none() {
            errors.push(cells.error(Field::Born, Problem::NotDate(born)));
        }
        let card_expires = match cells.text(Field::Expires) {
            text if text.is_empty() => today
                .checked_add_months(chrono::Months::new(12))
                .unwrap_or(today),
            text => parse_date(&text).unwrap_or_else(|| {
                errors.push(cells.error(Field::Expires, Problem::NotDate(text)));
                today
            }),
        };
        let same_person = |card: &str| {
            registered.get(card).is_some_and(|r| {
                person_key(&r.name, &r.class) == person_key(&name, &class) && r.category == category
            })
        };
        let card = if generate {
            match by_person.get(&person_key(&name, &class)) {
                Some(card) if !name.is_empty() => {
                    if errors.len() == before {
                        already.push((row.line, card.clone()));
                    }
                    continue;
                }
                _ => None,
            }
        } else {
            let card = cells.text(Field::Card);
            if card.is_empty() {
                errors.push(cells.error(Field::Card, Problem::Missing));
            } else if card.chars().count() > MAX_CARD_CHARS || card.chars().any(char::is_whitespace)
            {
                errors.push(cells.error(Field::Card, Problem::NotCard(card.clone())));
            } else if let Some(&line) = card_lines.get(&card) {
                errors.push(cells.error(
                    Field::Card,
                    Problem::CardTwice {
                        card: card.clone(),
                        line,
                    },
                ));
            } else {
                card_lines.insert(card.clone(), row.line);
                if same_person(&card) {
                    if errors.len() == before {
                        already.push((row.line, card));
                    }
                    continue;
                }
                if let Some(other) = registered.get(&card) {
                    errors.push(cells.error(
                        Field::Card,
                        Problem::CardTaken {
                            card: card.clone(),
                            name: other.name.clone(),
                        },
                    ));
                } else if desk.card_in_use(store, &card)? {
                    // Registered (on another desk, say) but not yet a reader entity here.
                    errors.push(cells.error(
                        Field::Card,
                        Problem::CardTaken {
                            card: card.clone(),
                            name: String::new(),
                        },
                    ));
                }
            }
            Some(card)
        };
        if errors.len() > before {
            continue;
        }
        let (card, card_generated) = match card {
            Some(card) => (card, false),
            None => {
                let mut card = style.take();
                while registered.contains_key(&card) || desk.card_in_use(store, &card)? {
                    card = style.take();
                }
                (card, true)
            }
        };
        let optional = |text: String| Some(text).filter(|t| !t.is_empty());
        planned.push(ReaderRow {
            line: row.line,
            reader: NewReader {
                card,
                name,
                category: category.to_owned(),
                card_expires,
                class: optional(class),
                school: optional(school),
                contact: optional(contact),
                pin: None,
            },
            card_generated,
        });
    }
    Ok(ReadersPlan {
        columns,
        rows: planned,
        already,
        errors,
    })
}

struct Cells<'a> {
    row: &'a Row,
    columns: &'a ColumnMap,
}

impl Cells<'_> {
    fn text(&self, field: Field) -> String {
        self.columns
            .column(field)
            .map(|column| self.row.cell(column).to_owned())
            .unwrap_or_default()
    }

    fn error(&self, field: Field, problem: Problem) -> RowError {
        RowError::new(self.row.line, self.columns.header(field), problem)
    }

    fn bounded(&self, field: Field, max: usize, errors: &mut Vec<RowError>) -> String {
        let text = self.text(field);
        if text.chars().count() > max {
            errors.push(self.error(field, Problem::TooLong { max }));
            return String::new();
        }
        text
    }
}

/// Registers every reader of a plan with no errors, on day `today`, in one commit.
pub fn apply(
    store: &mut Store,
    desk: &Desk,
    plan: &ReadersPlan,
    today: NaiveDate,
) -> Result<(), ReadersError> {
    if !plan.errors.is_empty() {
        return Err(ReadersError::HasErrors(plan.bad_lines()));
    }
    let mut batch = WriteBatch::new();
    for row in &plan.rows {
        desk.put_registration(&mut batch, &row.reader, today)?;
    }
    if !batch.is_empty() {
        store.commit(&batch)?;
    }
    Ok(())
}
