//! The decisions a circulation desk makes: may this reader borrow this copy, may this loan be
//! renewed, what does a return close. Pure functions over the state the desk can see, so every
//! replica — offline or not — makes the same decision from the same data, and tests need no
//! store.
//!
//! A refusal lists every reason at once: a librarian with a queue of children wants to say
//! "your card expired and one book is overdue" in one breath, not discover it in two scans.

use chrono::NaiveDate;

use super::policy::{ClosedDays, LoanRule, PolicyMatrix};

/// A loan that has not been returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenLoan {
    pub id: String,
    pub copy: String,
    pub reader: String,
    pub out: NaiveDate,
    pub due: NaiveDate,
    pub renewals: u32,
}

/// A reader as the desk sees them.
#[derive(Clone, Debug)]
pub struct ReaderState {
    pub card: String,
    pub category: String,
    pub card_expires: NaiveDate,
    /// A librarian's block with its note ("lost two books, see the head librarian").
    pub blocked: Option<String>,
    pub open_loans: Vec<OpenLoan>,
}

/// What a copy is doing, derived from events: on loan because an open loan exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyStatus {
    Available,
    OnLoan(OpenLoan),
    /// Reference books and the like: read in the library only.
    NotForLoan,
    Lost,
    Withdrawn,
}

#[derive(Clone, Debug)]
pub struct CopyState {
    pub barcode: String,
    pub item_type: String,
    pub status: CopyStatus,
}

/// Why the desk says no. The web layer words these for the librarian, in Vietnamese first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    CardExpired {
        on: NaiveDate,
    },
    ReaderBlocked {
        note: String,
    },
    TooManyLoans {
        max: u32,
    },
    Overdue {
        loans: usize,
        oldest_due: NaiveDate,
    },
    CopyOnLoan {
        to_reader: String,
        due: NaiveDate,
    },
    CopyNotForLoan,
    CopyLost,
    CopyWithdrawn,
    RenewalLimit {
        max: u32,
    },
    NotThisReadersLoan,
    /// The copy is on the pickup shelf for another reader's hold.
    CopyHeldForReader {
        reader: String,
        until: NaiveDate,
    },
}

/// What a granted loan looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanTerms {
    pub due: NaiveDate,
    pub rule: LoanRule,
}

fn reader_refusals(reader: &ReaderState, rule: &LoanRule, today: NaiveDate) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    if reader.card_expires < today {
        refusals.push(Refusal::CardExpired {
            on: reader.card_expires,
        });
    }
    if let Some(note) = &reader.blocked {
        refusals.push(Refusal::ReaderBlocked { note: note.clone() });
    }
    let overdue: Vec<&OpenLoan> = reader.open_loans.iter().filter(|l| l.due < today).collect();
    if let Some(oldest_due) = overdue.iter().map(|l| l.due).min() {
        refusals.push(Refusal::Overdue {
            loans: overdue.len(),
            oldest_due,
        });
    }
    if reader.open_loans.len() as u64 >= u64::from(rule.max_loans) {
        refusals.push(Refusal::TooManyLoans {
            max: rule.max_loans,
        });
    }
    refusals
}

/// May `reader` borrow `copy` today? On yes, the due date (moved past closed days).
pub fn check_lend(
    reader: &ReaderState,
    copy: &CopyState,
    policy: &PolicyMatrix,
    closed: &ClosedDays,
    today: NaiveDate,
) -> Result<LoanTerms, Vec<Refusal>> {
    let rule = policy.rule(&reader.category, &copy.item_type);
    let mut refusals = match &copy.status {
        CopyStatus::Available => Vec::new(),
        CopyStatus::OnLoan(loan) => vec![Refusal::CopyOnLoan {
            to_reader: loan.reader.clone(),
            due: loan.due,
        }],
        CopyStatus::NotForLoan => vec![Refusal::CopyNotForLoan],
        CopyStatus::Lost => vec![Refusal::CopyLost],
        CopyStatus::Withdrawn => vec![Refusal::CopyWithdrawn],
    };
    if rule.loan_days == 0 {
        refusals.push(Refusal::CopyNotForLoan);
    }
    refusals.extend(reader_refusals(reader, &rule, today));
    refusals.dedup();
    if refusals.is_empty() {
        Ok(LoanTerms {
            due: closed.due_date(today, rule.loan_days),
            rule,
        })
    } else {
        Err(refusals)
    }
}

/// May this loan be renewed today? On yes, the new due date, counted from today.
pub fn check_renew(
    loan: &OpenLoan,
    reader: &ReaderState,
    copy: &CopyState,
    policy: &PolicyMatrix,
    closed: &ClosedDays,
    today: NaiveDate,
) -> Result<NaiveDate, Vec<Refusal>> {
    let rule = policy.rule(&reader.category, &copy.item_type);
    let mut refusals = Vec::new();
    if loan.reader != reader.card {
        refusals.push(Refusal::NotThisReadersLoan);
    }
    if loan.renewals >= rule.max_renewals {
        refusals.push(Refusal::RenewalLimit {
            max: rule.max_renewals,
        });
    }
    if reader.card_expires < today {
        refusals.push(Refusal::CardExpired {
            on: reader.card_expires,
        });
    }
    if let Some(note) = &reader.blocked {
        refusals.push(Refusal::ReaderBlocked { note: note.clone() });
    }
    if refusals.is_empty() {
        Ok(closed.due_date(today, rule.loan_days))
    } else {
        Err(refusals)
    }
}

/// What scanning a copy at the return desk means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnOutcome {
    /// This loan is now closed; `late_days` counts days past due (for notices and, if the
    /// library turned them on, fines).
    Closes { loan: OpenLoan, late_days: i64 },
    /// No open loan is known here. Recorded as a return anyway: another desk may have lent
    /// the copy offline, and the merge will pair them or raise an exception.
    NoOpenLoan,
}

pub fn check_return(copy: &CopyState, today: NaiveDate) -> ReturnOutcome {
    match &copy.status {
        CopyStatus::OnLoan(loan) => ReturnOutcome::Closes {
            loan: loan.clone(),
            late_days: (today - loan.due).num_days().max(0),
        },
        _ => ReturnOutcome::NoOpenLoan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn today() -> NaiveDate {
        date(2026, 3, 2) // a Monday
    }

    fn reader(category: &str) -> ReaderState {
        ReaderState {
            card: "BD0001".into(),
            category: category.into(),
            card_expires: date(2026, 12, 31),
            blocked: None,
            open_loans: Vec::new(),
        }
    }

    fn copy(status: CopyStatus) -> CopyState {
        CopyState {
            barcode: "TS000123".into(),
            item_type: "book".into(),
            status,
        }
    }

    fn loan(id: &str, due: NaiveDate) -> OpenLoan {
        OpenLoan {
            id: id.into(),
            copy: format!("copy-{id}"),
            reader: "BD0001".into(),
            out: date(2026, 2, 1),
            due,
            renewals: 0,
        }
    }

    fn policy() -> PolicyMatrix {
        let mut policy = PolicyMatrix::default();
        policy.set_category_default(
            "child",
            LoanRule {
                loan_days: 7,
                max_loans: 2,
                max_renewals: 1,
            },
        );
        policy.set_item_type_default(
            "reference",
            LoanRule {
                loan_days: 0,
                max_loans: 0,
                max_renewals: 0,
            },
        );
        policy
    }

    fn lend(reader: &ReaderState, copy: &CopyState) -> Result<LoanTerms, Vec<Refusal>> {
        let mut closed = ClosedDays::default();
        closed.close_weekly(Weekday::Sun);
        check_lend(reader, copy, &policy(), &closed, today())
    }

    #[test]
    fn a_reader_in_good_standing_borrows_with_the_categorys_loan_period() {
        let terms = lend(&reader("child"), &copy(CopyStatus::Available)).expect("lend");
        assert_eq!(terms.due, date(2026, 3, 9));
        let terms = lend(&reader("adult"), &copy(CopyStatus::Available)).expect("lend");
        assert_eq!(terms.due, date(2026, 3, 16));
    }

    #[test]
    fn every_reason_to_refuse_is_listed_at_once() {
        let mut r = reader("child");
        r.card_expires = date(2026, 1, 31);
        r.open_loans = vec![loan("a", date(2026, 2, 20)), loan("b", date(2026, 3, 10))];
        let refusals = lend(&r, &copy(CopyStatus::Available)).expect_err("refused");
        assert_eq!(
            refusals,
            vec![
                Refusal::CardExpired {
                    on: date(2026, 1, 31)
                },
                Refusal::Overdue {
                    loans: 1,
                    oldest_due: date(2026, 2, 20)
                },
                Refusal::TooManyLoans { max: 2 },
            ]
        );
    }

    #[test]
    fn copies_that_cannot_go_out_are_refused_with_their_reason() {
        let out = copy(CopyStatus::OnLoan(OpenLoan {
            reader: "BD0999".into(),
            ..loan("x", date(2026, 3, 5))
        }));
        assert_eq!(
            lend(&reader("adult"), &out).expect_err("on loan"),
            vec![Refusal::CopyOnLoan {
                to_reader: "BD0999".into(),
                due: date(2026, 3, 5)
            }]
        );
        assert_eq!(
            lend(&reader("adult"), &copy(CopyStatus::Lost)).expect_err("lost"),
            vec![Refusal::CopyLost]
        );
        let mut reference = copy(CopyStatus::Available);
        reference.item_type = "reference".into();
        assert!(
            lend(&reader("adult"), &reference)
                .expect_err("reference")
                .contains(&Refusal::CopyNotForLoan)
        );
        let mut blocked = reader("adult");
        blocked.blocked = Some("mất 2 cuốn sách".into());
        assert_eq!(
            lend(&blocked, &copy(CopyStatus::Available)).expect_err("blocked"),
            vec![Refusal::ReaderBlocked {
                note: "mất 2 cuốn sách".into()
            }]
        );
    }

    #[test]
    fn renewals_stop_at_the_limit_and_count_from_today() {
        let closed = ClosedDays::default();
        let r = reader("child");
        let c = copy(CopyStatus::Available);
        let mut l = loan("a", date(2026, 3, 3));
        assert_eq!(
            check_renew(&l, &r, &c, &policy(), &closed, today()),
            Ok(date(2026, 3, 9))
        );
        l.renewals = 1;
        assert_eq!(
            check_renew(&l, &r, &c, &policy(), &closed, today()),
            Err(vec![Refusal::RenewalLimit { max: 1 }])
        );
        l.renewals = 0;
        l.reader = "BD0999".into();
        assert_eq!(
            check_renew(&l, &r, &c, &policy(), &closed, today()),
            Err(vec![Refusal::NotThisReadersLoan])
        );
    }

    #[test]
    fn a_return_closes_the_open_loan_and_counts_late_days() {
        let out = copy(CopyStatus::OnLoan(loan("a", date(2026, 2, 25))));
        assert_eq!(
            check_return(&out, today()),
            ReturnOutcome::Closes {
                loan: loan("a", date(2026, 2, 25)),
                late_days: 5
            }
        );
        assert_eq!(
            check_return(&copy(CopyStatus::Available), today()),
            ReturnOutcome::NoOpenLoan
        );
    }
}
