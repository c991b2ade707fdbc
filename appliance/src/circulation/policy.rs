//! Circulation rules: how long a reader category may keep an item type, how many loans and
//! renewals are allowed, and which days the library is closed.
//!
//! Every (reader category, item type) pair has a rule, always: an explicit cell, else the
//! category's default, else the item type's default, else the library-wide default. Koha
//! learned that a missing pair surprises librarians at the worst moment (bug 13576), so the
//! lookup cannot fail.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// What one (reader category, item type) pair may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoanRule {
    pub loan_days: u32,
    pub max_loans: u32,
    pub max_renewals: u32,
}

/// The library-wide default: two weeks, five books, two renewals.
pub const DEFAULT_RULE: LoanRule = LoanRule {
    loan_days: 14,
    max_loans: 5,
    max_renewals: 2,
};

/// Reader category × item type → rule, with defaults at every level.
#[derive(Clone, Debug)]
pub struct PolicyMatrix {
    default: LoanRule,
    by_category: BTreeMap<String, LoanRule>,
    by_item_type: BTreeMap<String, LoanRule>,
    cells: BTreeMap<(String, String), LoanRule>,
    /// The fine per day late, in đồng; 0 (the default) means the library charges no fines.
    fine_per_day: i64,
}

impl Default for PolicyMatrix {
    fn default() -> Self {
        PolicyMatrix::new(DEFAULT_RULE)
    }
}

impl PolicyMatrix {
    pub fn new(default: LoanRule) -> PolicyMatrix {
        PolicyMatrix {
            default,
            by_category: BTreeMap::new(),
            by_item_type: BTreeMap::new(),
            cells: BTreeMap::new(),
            fine_per_day: 0,
        }
    }

    /// Turns fines on (a positive amount per day late, in đồng) or off (0).
    pub fn set_fine_per_day(&mut self, dong: i64) {
        self.fine_per_day = dong.max(0);
    }

    /// What a return `late_days` late owes; 0 when fines are off.
    pub fn fine(&self, late_days: i64) -> i64 {
        self.fine_per_day.saturating_mul(late_days.max(0))
    }

    pub fn set_category_default(&mut self, category: &str, rule: LoanRule) {
        self.by_category.insert(category.to_owned(), rule);
    }

    pub fn set_item_type_default(&mut self, item_type: &str, rule: LoanRule) {
        self.by_item_type.insert(item_type.to_owned(), rule);
    }

    pub fn set(&mut self, category: &str, item_type: &str, rule: LoanRule) {
        self.cells
            .insert((category.to_owned(), item_type.to_owned()), rule);
    }

    /// The rule for a pair; never fails.
    pub fn rule(&self, category: &str, item_type: &str) -> LoanRule {
        self.cells
            .get(&(category.to_owned(), item_type.to_owned()))
            .or_else(|| self.by_category.get(category))
            .or_else(|| self.by_item_type.get(item_type))
            .copied()
            .unwrap_or(self.default)
    }
}

/// Days the library does not open: weekly closing days and single dates (holidays, Tết).
#[derive(Clone, Debug, Default)]
pub struct ClosedDays {
    weekly: BTreeSet<u32>,
    dates: BTreeSet<NaiveDate>,
}

impl ClosedDays {
    /// Closed every such weekday.
    pub fn close_weekly(&mut self, day: Weekday) {
        self.weekly.insert(day.num_days_from_monday());
    }

    /// Closed on this date.
    pub fn close_on(&mut self, date: NaiveDate) {
        self.dates.insert(date);
    }

    pub fn is_closed(&self, date: NaiveDate) -> bool {
        self.weekly.contains(&date.weekday().num_days_from_monday()) || self.dates.contains(&date)
    }

    /// The first open day on or after `date`. A library closed every day of the week has no
    /// such day; the date is then kept rather than searched for forever.
    pub fn next_open(&self, date: NaiveDate) -> NaiveDate {
        if self.weekly.len() >= 7 {
            return date;
        }
        let mut day = date;
        // Weekly closings leave an open day within any 7, and a run of closed dates ends; the
        // bound only guards against a calendar closed for years.
        for _ in 0..=366 {
            if !self.is_closed(day) {
                return day;
            }
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => return date,
            }
        }
        date
    }

    /// The due date of a loan made `from` for `loan_days`, moved to the next open day.
    pub fn due_date(&self, from: NaiveDate, loan_days: u32) -> NaiveDate {
        let due = from
            .checked_add_days(Days::new(u64::from(loan_days)))
            .unwrap_or(from);
        self.next_open(due)
    }
}

/// The rules a commune library starts with until its librarian changes them: children 7 days
/// and 3 books, students 14 and 5, teachers 30 and 10, everyone else the library-wide default;
/// reference books stay in the library; closed on Sundays; no fines (most commune libraries
/// charge none, and a fine keeps a child away longer than a late book does).
pub fn commune_defaults() -> (PolicyMatrix, ClosedDays) {
    let mut policy = PolicyMatrix::default();
    let rule = |loan_days, max_loans, max_renewals| LoanRule {
        loan_days,
        max_loans,
        max_renewals,
    };
    policy.set_category_default("child", rule(7, 3, 1));
    policy.set_category_default("student", rule(14, 5, 2));
    policy.set_category_default("teacher", rule(30, 10, 3));
    policy.set_item_type_default("reference", rule(0, 0, 0));
    let mut closed = ClosedDays::default();
    closed.close_weekly(Weekday::Sun);
    (policy, closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn rule(loan_days: u32) -> LoanRule {
        LoanRule {
            loan_days,
            max_loans: 3,
            max_renewals: 1,
        }
    }

    #[test]
    fn every_pair_has_a_rule_from_the_most_specific_level() {
        let mut matrix = PolicyMatrix::default();
        matrix.set_item_type_default("reference", rule(0));
        matrix.set_category_default("child", rule(7));
        matrix.set("teacher", "book", rule(30));
        let check = |category: &str, item_type: &str, days: u32| {
            assert_eq!(
                matrix.rule(category, item_type).loan_days,
                days,
                "{category} × {item_type}"
            );
        };
        check("teacher", "book", 30); // the cell
        check("child", "book", 7); // the category's default
        check("child", "reference", 7); // category beats item type
        check("adult", "reference", 0); // the item type's default
        check("adult", "book", DEFAULT_RULE.loan_days); // the library default
        check("", "", DEFAULT_RULE.loan_days); // unknown names still get a rule
    }

    #[test]
    fn closed_days_move_the_due_date_to_the_next_open_day() {
        let mut closed = ClosedDays::default();
        closed.close_weekly(Weekday::Sun);
        closed.close_on(date(2026, 2, 16)); // Tết holidays, Monday …
        closed.close_on(date(2026, 2, 17)); // … and Tuesday
        // 2026-02-01 is a Sunday: 14 days later is Sunday 15, then Tết, so Wednesday 18.
        assert_eq!(closed.due_date(date(2026, 2, 1), 14), date(2026, 2, 18));
        assert_eq!(closed.due_date(date(2026, 3, 2), 14), date(2026, 3, 16));
        assert!(!closed.is_closed(date(2026, 3, 16)));
    }

    #[test]
    fn a_calendar_with_no_open_day_keeps_the_date() {
        let mut closed = ClosedDays::default();
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            closed.close_weekly(day);
        }
        assert_eq!(closed.due_date(date(2026, 3, 2), 14), date(2026, 3, 16));
        assert_eq!(
            ClosedDays::default().due_date(NaiveDate::MAX, 14),
            NaiveDate::MAX
        );
    }
}
