//! Reports: the figures a library shows its commune and sends its district, as pure
//! computations over a snapshot of the library ([`LibraryFacts`]).
//!
//! [`LibraryFacts::gather`] reads everything once (loans from the circulation query table,
//! readers, copies and visit counts from the library's entities, titles and DDC numbers from
//! the catalogue index); [`YearStatistics`] and [`PeriodReport`] only count. So every figure
//! can be tested from a hand-made snapshot, and a page and the CSV of the same month agree
//! because they count the same facts the same way.
//!
//! What this module does not do: draw charts, write CSV or choose words (the web layer does),
//! or write anything.

mod ddc;
pub mod district;
mod facts;
mod period;
mod yearly;

pub use ddc::{DDC_CLASSES, ddc_class};
pub use facts::{LibraryFacts, LoanFact, ReaderFact, ReportError};
pub use period::{Period, PeriodReport};
pub use yearly::{TitleCount, YearStatistics};

/// Reader categories in the order reports list them; others follow by name.
pub const CATEGORIES: &[&str] = &["child", "student", "teacher", "adult"];

/// Counts per category, known categories first (with zeros), then any other by name.
fn by_category(counts: std::collections::BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = CATEGORIES
        .iter()
        .map(|c| ((*c).to_owned(), counts.get(*c).copied().unwrap_or(0)))
        .collect();
    out.extend(
        counts
            .into_iter()
            .filter(|(c, _)| !CATEGORIES.contains(&c.as_str())),
    );
    out
}

#[cfg(test)]
mod tests;
