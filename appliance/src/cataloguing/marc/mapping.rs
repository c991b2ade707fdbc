//! Between a MARC21 record and our record's fields. [`BookFields::of_marc`] reads the fields
//! a commune library uses (245 title, 100/700 authors, 260/264 publisher and year, 020 ISBN,
//! 041/008 language, 082 DDC, 650 subjects, 520 summary, 300 pages); [`generate`] writes a
//! MARC21 record for a record made in Tủ Sách; [`overlay`] writes a librarian's edits into the
//! original record an import kept, leaving every field nobody edited exactly as it came.
//!
//! Values read are NFC and lose their ISBD punctuation (" /", " :", a closing "."); the
//! original record keeps them. Nothing here touches the store.

use chrono::{DateTime, NaiveDate, Utc};
use marctk::{Controlfield, Field, Record, Subfield};
use tusach_sync::{Entity, Value};
use unicode_normalization::UnicodeNormalization;

use crate::cataloguing::isbn;

/// The record field holding the original MARC record, as ISO 2709 text (UTF-8).
pub const MARC: &str = "marc";
/// The record field listing the control numbers (001 with its 003, and 035) of the records
/// imported into it, so a later import of the same records matches.
pub const CONTROL_NUMBERS: &str = "control_numbers";

/// Leader of a record Tủ Sách makes: new, language material, monograph, UTF-8, minimal level,
/// descriptive form unknown (we keep no ISBD punctuation).
const GENERATED_LEADER: &str = "00000nam a22000007u 4500";

/// Our record's bibliographic fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookFields {
    pub title: String,
    pub authors: Vec<String>,
    pub publisher: String,
    pub year: Option<i64>,
    pub isbn: Option<String>,
    pub language: String,
    pub ddc: String,
    pub subjects: Vec<String>,
    pub summary: Option<String>,
    pub pages: Option<i64>,
}

impl BookFields {
    /// The fields a MARC21 record gives.
    pub fn of_marc(record: &Record) -> BookFields {
        let title = record.get_fields("245").first().map_or(String::new(), |f| {
            let main = first(f, "a").map(clean).unwrap_or_default();
            match first(f, "b").map(clean).filter(|b| !b.is_empty()) {
                Some(rest) if !main.is_empty() => format!("{main} : {rest}"),
                Some(rest) => rest,
                None => main,
            }
        });
        let authors = unique(
            ["100", "700"]
                .iter()
                .flat_map(|tag| record.get_fields(tag))
                .filter_map(|f| first(f, "a"))
                .map(clean),
        );
        let imprint = imprint(record);
        let publisher = imprint
            .and_then(|f| first(f, "b"))
            .map(clean)
            .unwrap_or_default();
        let year = imprint
            .and_then(|f| first(f, "c"))
            .and_then(four_digit_year)
            .or_else(|| fixed(record, 7..11).and_then(four_digit_year));
        let language = record
            .get_field_values("041", "a")
            .first()
            .and_then(|code| code.get(0..3))
            .or_else(|| fixed(record, 35..38))
            .filter(|code| code.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let ddc = record
            .get_field_values("082", "a")
            .first()
            .map(|class| class.chars().filter(|c| !matches!(c, '/' | '\'')).collect())
            .map(|class: String| class.trim().to_owned())
            .unwrap_or_default();
        let subjects = unique(record.get_field_values("650", "a").into_iter().map(clean));
        let summaries: Vec<String> = record
            .get_field_values("520", "a")
            .into_iter()
            .map(|s| s.trim().nfc().collect::<String>())
            .filter(|s| !s.is_empty())
            .collect();
        let pages = record
            .get_field_values("300", "a")
            .first()
            .and_then(|extent| first_number(extent));
        BookFields {
            title,
            authors,
            publisher,
            year,
            isbn: isbns(record).into_iter().next(),
            language,
            ddc,
            subjects,
            summary: (!summaries.is_empty()).then(|| summaries.join("\n")),
            pages,
        }
    }

    /// The fields of a record of the store.
    pub fn of_entity(fields: &Entity) -> BookFields {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let texts = |name: &str| match fields.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let optional = |name: &str| Some(text(name)).filter(|s| !s.is_empty());
        BookFields {
            title: text("title"),
            authors: texts("authors"),
            publisher: text("publisher"),
            year: fields.get("year").and_then(Value::as_int),
            isbn: optional("isbn"),
            language: text("language"),
            ddc: text("ddc"),
            subjects: texts("subjects"),
            summary: optional("summary"),
            pages: fields.get("pages").and_then(Value::as_int),
        }
    }

    /// Each field with a value, as the store keeps it (a new record writes all of them).
    pub fn values(&self) -> Vec<(&'static str, Value)> {
        self.clone().into_values()
    }

    /// [`BookFields::values`], moving the text rather than copying it.
    pub fn into_values(self) -> Vec<(&'static str, Value)> {
        let list = |items: Vec<String>| Value::List(items.into_iter().map(Value::Str).collect());
        let mut values = vec![
            ("title", Value::Str(self.title)),
            ("authors", list(self.authors)),
            ("publisher", Value::Str(self.publisher)),
            ("language", Value::Str(self.language)),
            ("ddc", Value::Str(self.ddc)),
            ("subjects", list(self.subjects)),
        ];
        values.extend(self.year.map(|y| ("year", Value::Int(y))));
        values.extend(self.isbn.map(|i| ("isbn", Value::Str(i))));
        values.extend(self.summary.map(|s| ("summary", Value::Str(s))));
        values.extend(self.pages.map(|p| ("pages", Value::Int(p))));
        values
    }

    /// Our values for the fields `existing` leaves empty: what a merge fills in.
    pub fn fill(&self, existing: &BookFields) -> Vec<(&'static str, Value)> {
        self.values()
            .into_iter()
            .filter(|(name, value)| !existing.has(name) && !empty(value))
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        match name {
            "title" => !self.title.is_empty(),
            "authors" => !self.authors.is_empty(),
            "publisher" => !self.publisher.is_empty(),
            "year" => self.year.is_some(),
            "isbn" => self.isbn.is_some(),
            "language" => !self.language.is_empty(),
            "ddc" => !self.ddc.is_empty(),
            "subjects" => !self.subjects.is_empty(),
            "summary" => self.summary.is_some(),
            "pages" => self.pages.is_some(),
            _ => false,
        }
    }
}

fn empty(value: &Value) -> bool {
    match value {
        Value::Str(s) => s.is_empty(),
        Value::List(items) => items.is_empty(),
        _ => false,
    }
}

/// Every valid ISBN of the record's 020 $a, compact ("978-604-…" with a qualifier such as
/// "(bìa mềm)" after it reads as "978604…").
pub fn isbns(record: &Record) -> Vec<String> {
    unique(
        record
            .get_field_values("020", "a")
            .into_iter()
            .filter_map(|typed| {
                let number = typed.split(['(', ':', ';']).next().unwrap_or_default();
                isbn::normalise(number.trim())
            }),
    )
}

/// The record's control numbers: 001 (as "(003)001" when 003 names its agency) and each
/// 035 $a, by which a later import of the same record is recognised.
pub fn control_numbers(record: &Record) -> Vec<String> {
    let control = |tag: &str| {
        record
            .get_control_fields(tag)
            .first()
            .map(|f| f.content().trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let own = control("001").map(|number| match control("003") {
        Some(agency) => format!("({agency}){number}"),
        None => number,
    });
    unique(
        own.into_iter().chain(
            record
                .get_field_values("035", "a")
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        ),
    )
}

/// 001 as it stands: for a record Tủ Sách wrote, our record's id.
pub fn own_number(record: &Record) -> Option<&str> {
    record
        .get_control_fields("001")
        .first()
        .map(|f| f.content().trim())
}

/// The 260, or else the 264 for publication (second indicator 1), or any 264.
fn imprint(record: &Record) -> Option<&Field> {
    imprint_index(record).and_then(|i| record.fields().get(i))
}

fn imprint_index(record: &Record) -> Option<usize> {
    let fields = record.fields();
    fields
        .iter()
        .position(|f| f.tag() == "260")
        .or_else(|| {
            fields
                .iter()
                .position(|f| f.tag() == "264" && f.ind2() == "1")
        })
        .or_else(|| fields.iter().position(|f| f.tag() == "264"))
}

fn first_field_mut<'a>(record: &'a mut Record, tag: &str) -> Option<&'a mut Field> {
    record.fields_mut().iter_mut().find(|f| f.tag() == tag)
}

fn first<'a>(field: &'a Field, code: &str) -> Option<&'a str> {
    field.first_subfield(code).map(Subfield::content)
}

/// A span of 008 (the fixed-length data), when the record has one that long.
fn fixed(record: &Record, span: std::ops::Range<usize>) -> Option<&str> {
    record
        .get_control_fields("008")
        .first()
        .and_then(|f| f.content().get(span))
}

/// A value without its ISBD punctuation: trailing " /", " :", " ;", ",", "=" and a closing
/// full stop (not an initial's, as in "Nguyễn V.", nor an ellipsis).
fn clean(value: &str) -> String {
    let mut text: String = value.nfc().collect();
    loop {
        let trimmed = text.trim_end_matches([' ', '/', ':', ';', ',', '=']);
        let mut cut = trimmed.len();
        if let Some(stem) = trimmed.strip_suffix('.') {
            let last_word = stem.rsplit([' ', '.']).next().unwrap_or_default();
            if !stem.ends_with('.') && last_word.chars().count() > 1 {
                cut = stem.len();
            }
        }
        if cut == text.len() {
            break;
        }
        text.truncate(cut);
    }
    text.trim_start().to_owned()
}

fn unique(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if !item.is_empty() && !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The first run of four digits that is a plausible year ("c2015.", "[2019]", "2003-2005").
fn four_digit_year(text: &str) -> Option<i64> {
    text.as_bytes()
        .windows(4)
        .filter(|w| w.iter().all(u8::is_ascii_digit))
        .filter_map(|w| std::str::from_utf8(w).ok()?.parse::<i64>().ok())
        .find(|year| (1000..=2999).contains(year))
}

/// The first number in a text ("215 tr. ;" is 215, "xii, 300 p." is 300).
fn first_number(text: &str) -> Option<i64> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// Text we write into a MARC field: no control characters, which would break ISO 2709's
/// delimiters and XML.
fn field_text(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

fn data_field(tag: &str, indicators: &str, subfields: &[(&str, &str)]) -> Option<Field> {
    let mut field = Field::new(tag).ok()?;
    let mut ind = indicators.chars().map(String::from);
    field.set_ind1(ind.next()?).ok()?;
    field.set_ind2(ind.next()?).ok()?;
    for (code, value) in subfields {
        if !value.is_empty() {
            field
                .subfields_mut()
                .push(Subfield::new(*code, field_text(value)).ok()?);
        }
    }
    (!field.subfields().is_empty()).then_some(field)
}

fn add(record: &mut Record, tag: &str, indicators: &str, subfields: &[(&str, &str)]) {
    if let Some(field) = data_field(tag, indicators, subfields) {
        record.insert_data_field(field);
    }
}

fn set_control(record: &mut Record, tag: &str, content: &str) {
    match record
        .control_fields_mut()
        .iter_mut()
        .find(|f| f.tag() == tag)
    {
        Some(field) => field.set_content(content),
        None => {
            if let Ok(field) = Controlfield::new(tag, content) {
                record.insert_control_field(field);
            }
        }
    }
}

/// 005: when the record last changed.
fn stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%d%H%M%S.0").to_string()
}

/// 008 for a book: date entered, date of publication, Vietnam as the place, language.
fn fixed_data(book: &BookFields, entered: NaiveDate) -> String {
    let year = book
        .year
        .filter(|y| (1000..=9999).contains(y))
        .map_or_else(|| "nuuuu".to_owned(), |y| format!("s{y}"));
    let language = match book.language.as_str() {
        code if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) => code,
        _ => "und",
    };
    format!(
        "{}{year}    vm            000 0 {language} d",
        entered.format("%y%m%d")
    )
}

/// A MARC21 record for a record made in Tủ Sách (no original kept): 001 is our id.
pub fn generate(
    id: &str,
    book: &BookFields,
    entered: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Record {
    let mut record = Record::new();
    // A constant of 24 ASCII bytes.
    let _ = record.set_leader(GENERATED_LEADER);
    set_control(&mut record, "001", &field_text(id));
    set_control(&mut record, "005", &stamp(now));
    set_control(
        &mut record,
        "008",
        &fixed_data(book, entered.unwrap_or(now.date_naive())),
    );
    if let Some(isbn) = &book.isbn {
        add(&mut record, "020", "  ", &[("a", isbn)]);
    }
    add(&mut record, "041", "0 ", &[("a", &book.language)]);
    add(&mut record, "082", "04", &[("a", &book.ddc), ("2", "23")]);
    write_authors(&mut record, &book.authors);
    write_title(&mut record, &book.title, !book.authors.is_empty());
    let year = book.year.map(|y| y.to_string()).unwrap_or_default();
    add(
        &mut record,
        "260",
        "  ",
        &[("b", &book.publisher), ("c", &year)],
    );
    write_pages(&mut record, book.pages);
    write_summary(&mut record, book.summary.as_deref());
    write_subjects(&mut record, &book.subjects);
    record
}

/// The original record with the edits made since import: every field whose value differs
/// from what the original gives is written again; all others stay as they came. An unedited
/// record comes back unchanged.
pub fn overlay(mut original: Record, current: &BookFields, now: DateTime<Utc>) -> Record {
    let before = BookFields::of_marc(&original);
    if before == *current {
        return original;
    }
    let record = &mut original;
    if before.title != current.title {
        if let Some(field) = first_field_mut(record, "245") {
            field.remove_subfields("b");
            set_subfield(field, "a", Some(&current.title));
        } else {
            write_title(record, &current.title, !current.authors.is_empty());
        }
    }
    if before.authors != current.authors {
        record.remove_fields("100");
        record.remove_fields("700");
        write_authors(record, &current.authors);
    }
    if before.publisher != current.publisher || before.year != current.year {
        let year = current.year.map(|y| y.to_string());
        let at = imprint_index(record);
        if let Some(field) = at.and_then(|i| record.fields_mut().get_mut(i)) {
            if before.publisher != current.publisher {
                set_subfield(field, "b", Some(&current.publisher));
            }
            if before.year != current.year {
                set_subfield(field, "c", year.as_deref());
            }
        } else {
            let year = year.unwrap_or_default();
            add(
                record,
                "260",
                "  ",
                &[("b", &current.publisher), ("c", &year)],
            );
        }
    }
    if before.isbn != current.isbn {
        record.remove_fields("020");
        if let Some(isbn) = &current.isbn {
            add(record, "020", "  ", &[("a", isbn)]);
        }
    }
    if before.language != current.language {
        record.remove_fields("041");
        add(record, "041", "0 ", &[("a", &current.language)]);
        let code = &current.language;
        if let Some(field) = record
            .control_fields_mut()
            .iter_mut()
            .find(|f| f.tag() == "008")
            && code.len() == 3
            && code.is_ascii()
            && field.content().len() == 40
            && field.content().is_ascii()
        {
            let mut content = field.content().to_owned();
            content.replace_range(35..38, code);
            field.set_content(content);
        }
    }
    if before.ddc != current.ddc {
        record.remove_fields("082");
        add(record, "082", "04", &[("a", &current.ddc), ("2", "23")]);
    }
    if before.subjects != current.subjects {
        record.remove_fields("650");
        write_subjects(record, &current.subjects);
    }
    if before.summary != current.summary {
        record.remove_fields("520");
        write_summary(record, current.summary.as_deref());
    }
    if before.pages != current.pages {
        if let Some(field) = first_field_mut(record, "300") {
            let extent = current.pages.map(|p| format!("{p} tr."));
            set_subfield(field, "a", extent.as_deref());
        } else {
            write_pages(record, current.pages);
        }
    }
    set_control(record, "005", &stamp(now));
    original
}

/// Sets the first `code` subfield to `value` (removing the others), or removes them all.
fn set_subfield(field: &mut Field, code: &str, value: Option<&str>) {
    let subfields = field.subfields_mut();
    let at = subfields.iter().position(|s| s.code() == code);
    subfields.retain(|s| s.code() != code);
    if let Some(value) = value.filter(|v| !v.is_empty())
        && let Ok(subfield) = Subfield::new(code, field_text(value))
    {
        let at = at.unwrap_or(subfields.len()).min(subfields.len());
        subfields.insert(at, subfield);
    }
}

fn write_title(record: &mut Record, title: &str, has_author: bool) {
    let indicators = if has_author { "10" } else { "00" };
    add(record, "245", indicators, &[("a", title)]);
}

fn write_authors(record: &mut Record, authors: &[String]) {
    if let Some((main, others)) = authors.split_first() {
        add(record, "100", "1 ", &[("a", main)]);
        for other in others {
            add(record, "700", "1 ", &[("a", other)]);
        }
    }
}

fn write_pages(record: &mut Record, pages: Option<i64>) {
    if let Some(pages) = pages {
        add(record, "300", "  ", &[("a", &format!("{pages} tr."))]);
    }
}

fn write_summary(record: &mut Record, summary: Option<&str>) {
    if let Some(summary) = summary {
        add(record, "520", "  ", &[("a", summary)]);
    }
}

fn write_subjects(record: &mut Record, subjects: &[String]) {
    for subject in subjects {
        add(record, "650", " 4", &[("a", subject)]);
    }
}
