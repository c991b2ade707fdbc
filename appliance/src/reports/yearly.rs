//! The year at a glance: what the statistics page draws.

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;

use super::LibraryFacts;

/// How often one title was lent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleCount {
    pub record: String,
    pub title: String,
    pub loans: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearStatistics {
    pub year: i32,
    /// January first.
    pub loans_per_month: [i64; 12],
    pub visits_per_month: [i64; 12],
    /// Copies read in the library without being lent, per month.
    pub in_house_per_month: [i64; 12],
    /// Known categories first, with zeros.
    pub loans_by_category: Vec<(String, i64)>,
    /// The ten most lent titles, most first (ties by title).
    pub top_titles: Vec<TitleCount>,
    /// The collection today, by DDC main class, and copies without a class.
    pub collection_by_class: [i64; 10],
    pub unclassified_copies: i64,
}

impl YearStatistics {
    pub fn of(facts: &LibraryFacts, year: i32) -> YearStatistics {
        let mut loans_per_month = [0i64; 12];
        let mut categories: BTreeMap<String, i64> = BTreeMap::new();
        let mut by_record: HashMap<&str, i64> = HashMap::new();
        for loan in facts.loans.iter().filter(|l| l.out.year() == year) {
            loans_per_month[loan.out.month0() as usize] += 1;
            *categories
                .entry(facts.category_of(&loan.reader).to_owned())
                .or_default() += 1;
            if let Some(record) = facts.copies.get(&loan.copy) {
                *by_record.entry(record.as_str()).or_default() += 1;
            }
        }
        let mut visits_per_month = [0i64; 12];
        for (day, people) in facts.visits.iter().filter(|(d, _)| d.year() == year) {
            visits_per_month[day.month0() as usize] += people;
        }
        let mut in_house_per_month = [0i64; 12];
        for (day, uses) in facts.in_house.iter().filter(|(d, _)| d.year() == year) {
            in_house_per_month[day.month0() as usize] += uses;
        }
        let mut top_titles: Vec<TitleCount> = by_record
            .into_iter()
            .map(|(record, loans)| TitleCount {
                record: record.to_owned(),
                title: facts
                    .records
                    .get(record)
                    .map(|r| r.title.clone())
                    .unwrap_or_else(|| record.to_owned()),
                loans,
            })
            .collect();
        top_titles.sort_by(|a, b| {
            b.loans
                .cmp(&a.loans)
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.record.cmp(&b.record))
        });
        top_titles.truncate(10);
        let (collection_by_class, unclassified_copies) = facts.collection_by_class();
        YearStatistics {
            year,
            loans_per_month,
            visits_per_month,
            in_house_per_month,
            loans_by_category: super::by_category(categories),
            top_titles,
            collection_by_class,
            unclassified_copies,
        }
    }
}
