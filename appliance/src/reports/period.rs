//! A month's or a year's figures, as a commune sends them to the district and the district to
//! the province.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::LibraryFacts;

/// The stretch of time a report counts: a calendar month or a calendar year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Month { year: i32, month: u32 },
    Year(i32),
}

impl Period {
    /// `YYYY-MM` or `YYYY`, years 2000 to 2100; `None` for anything else.
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        let year = |digits: &str| {
            (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse::<i32>().ok())
                .flatten()
                .filter(|y| (2000..=2100).contains(y))
        };
        match text.split_once('-') {
            None => year(text).map(Period::Year),
            Some((y, m)) => {
                let month: u32 = (m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| m.parse().ok())
                    .flatten()?;
                let year = year(y)?;
                NaiveDate::from_ymd_opt(year, month, 1)?;
                Some(Period::Month { year, month })
            }
        }
    }

    /// True when `day` falls in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        match *self {
            Period::Month { year, month } => day.year() == year && day.month() == month,
            Period::Year(year) => day.year() == year,
        }
    }

    /// `2026-09` or `2026`, as [`Period::parse`] reads it back.
    pub fn label(&self) -> String {
        match *self {
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
            Period::Year(year) => format!("{year:04}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodReport {
    pub period: Period,
    /// Loans made in the period.
    pub loans: i64,
    /// Loans closed in the period.
    pub returns: i64,
    /// Renewals of the loans made in the period (a loan records how often it was renewed, not
    /// when).
    pub renewals: i64,
    pub visits: i64,
    /// Copies read in the library without being lent (counted at the desk).
    pub in_house_uses: i64,
    /// Readers registered in the period (readers without a registration day are not counted).
    pub new_readers: i64,
    /// Readers who borrowed for the first time ever in the period.
    pub first_time_borrowers: i64,
    /// Readers who borrowed at least once in the period.
    pub active_readers: i64,
    /// Every registered reader today, by category (known categories first, with zeros).
    pub readers_by_category: Vec<(String, i64)>,
    /// Copies acquired in the period (copies without an acquisition day are not counted).
    pub new_copies: i64,
    pub loans_by_category: Vec<(String, i64)>,
    pub loans_by_class: [i64; 10],
    pub loans_unclassified: i64,
    /// The collection today, by DDC main class.
    pub collection_by_class: [i64; 10],
    pub collection_unclassified: i64,
}

impl PeriodReport {
    pub fn of(facts: &LibraryFacts, period: Period) -> PeriodReport {
        let in_period = |day: NaiveDate| period.contains(day);
        let mut report = PeriodReport {
            period,
            loans: 0,
            returns: 0,
            renewals: 0,
            visits: 0,
            in_house_uses: 0,
            new_readers: 0,
            first_time_borrowers: 0,
            active_readers: 0,
            readers_by_category: Vec::new(),
            new_copies: 0,
            loans_by_category: Vec::new(),
            loans_by_class: [0; 10],
            loans_unclassified: 0,
            collection_by_class: [0; 10],
            collection_unclassified: 0,
        };
        let mut categories: BTreeMap<String, i64> = BTreeMap::new();
        let mut active: BTreeSet<&str> = BTreeSet::new();
        let mut first_loan: BTreeMap<&str, NaiveDate> = BTreeMap::new();
        for loan in &facts.loans {
            let first = first_loan.entry(loan.reader.as_str()).or_insert(loan.out);
            *first = (*first).min(loan.out);
            if loan.returned.is_some_and(in_period) {
                report.returns += 1;
            }
            if !in_period(loan.out) {
                continue;
            }
            report.loans += 1;
            report.renewals += loan.renewals;
            active.insert(&loan.reader);
            *categories
                .entry(facts.category_of(&loan.reader).to_owned())
                .or_default() += 1;
            match facts.class_of_copy(&loan.copy) {
                Some(class) => report.loans_by_class[class] += 1,
                None => report.loans_unclassified += 1,
            }
        }
        report.active_readers = active.len() as i64;
        report.first_time_borrowers = first_loan.values().filter(|d| in_period(**d)).count() as i64;
        report.loans_by_category = super::by_category(categories);
        report.visits = facts
            .visits
            .iter()
            .filter(|(d, _)| in_period(**d))
            .map(|(_, n)| n)
            .sum();
        report.in_house_uses = facts
            .in_house
            .iter()
            .filter(|(d, _)| in_period(**d))
            .map(|(_, n)| n)
            .sum();
        report.new_readers = facts
            .readers
            .values()
            .filter(|r| r.registered.is_some_and(in_period))
            .count() as i64;
        let mut readers: BTreeMap<String, i64> = BTreeMap::new();
        for reader in facts.readers.values() {
            *readers.entry(reader.category.clone()).or_default() += 1;
        }
        report.readers_by_category = super::by_category(readers);
        report.new_copies = facts
            .acquired
            .values()
            .filter(|day| in_period(**day))
            .count() as i64;
        (report.collection_by_class, report.collection_unclassified) = facts.collection_by_class();
        report
    }
}
