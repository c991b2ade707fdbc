//! One month's figures, as a commune sends them to the district.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::LibraryFacts;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyReport {
    pub year: i32,
    pub month: u32,
    /// Loans made in the month.
    pub loans: i64,
    /// Loans closed in the month.
    pub returns: i64,
    /// Renewals of the loans made in the month (a loan records how often it was renewed, not
    /// when).
    pub renewals: i64,
    pub visits: i64,
    /// Copies read in the library without being lent (counted at the desk).
    pub in_house_uses: i64,
    /// Readers registered in the month (readers without a registration day are not counted).
    pub new_readers: i64,
    /// Readers who borrowed for the first time ever in the month.
    pub first_time_borrowers: i64,
    /// Readers who borrowed at least once in the month.
    pub active_readers: i64,
    pub loans_by_category: Vec<(String, i64)>,
    pub loans_by_class: [i64; 10],
    pub loans_unclassified: i64,
    /// The collection today, by DDC main class.
    pub collection_by_class: [i64; 10],
    pub collection_unclassified: i64,
}

impl MonthlyReport {
    pub fn of(facts: &LibraryFacts, year: i32, month: u32) -> MonthlyReport {
        let in_month = |day: NaiveDate| day.year() == year && day.month() == month;
        let mut report = MonthlyReport {
            year,
            month,
            loans: 0,
            returns: 0,
            renewals: 0,
            visits: 0,
            in_house_uses: 0,
            new_readers: 0,
            first_time_borrowers: 0,
            active_readers: 0,
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
            if loan.returned.is_some_and(in_month) {
                report.returns += 1;
            }
            if !in_month(loan.out) {
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
        report.first_time_borrowers = first_loan.values().filter(|d| in_month(**d)).count() as i64;
        report.loans_by_category = super::by_category(categories);
        report.visits = facts
            .visits
            .iter()
            .filter(|(d, _)| in_month(**d))
            .map(|(_, n)| n)
            .sum();
        report.in_house_uses = facts
            .in_house
            .iter()
            .filter(|(d, _)| in_month(**d))
            .map(|(_, n)| n)
            .sum();
        report.new_readers = facts
            .readers
            .values()
            .filter(|r| r.registered.is_some_and(in_month))
            .count() as i64;
        (report.collection_by_class, report.collection_unclassified) = facts.collection_by_class();
        report
    }
}
