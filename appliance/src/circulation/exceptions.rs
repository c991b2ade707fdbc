//! The exceptions inbox: what merged circulation events from several desks cannot settle on
//! their own, each with a plain explanation (worded by the web layer) and one-click
//! resolutions. Nothing merged is dropped silently.
//!
//! Offline desks cause most of these. Desk A lends a copy while desk B, which has not heard of
//! that loan, lends it again (two open loans); desk B takes back a copy that A lent (a return
//! without a loan B knows, which the merge pairs with A's loan automatically); desk A lends to
//! a reader desk B blocked the day before (a loan despite a block); desks A and B each give
//! card BD7 to a different person (a card registered twice: both people are kept, one of them
//! takes a new card).
//!
//! The inbox is derived from the merged state each time it is asked for: an exception
//! disappears as soon as the data no longer shows it, whichever desk resolved it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

/// A loan as merged from every desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanRecord {
    pub id: String,
    pub copy: String,
    pub reader: String,
    pub out: NaiveDate,
    pub due: NaiveDate,
    pub returned: Option<NaiveDate>,
    pub desk: String,
}

/// A copy scanned at a return desk that knew of no open loan for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrayReturn {
    pub id: String,
    pub copy: String,
    pub on: NaiveDate,
    pub desk: String,
}

/// What the inbox needs to know about a reader.
#[derive(Clone, Debug)]
pub struct ReaderStanding {
    pub card_expires: NaiveDate,
    /// Blocked from this day on, if blocked.
    pub blocked_since: Option<NaiveDate>,
}

/// A return matched to the loan it closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairedReturn {
    pub loan: String,
    pub stray: String,
    pub on: NaiveDate,
}

/// One registration of a reader card: the person a desk gave that card number to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub id: String,
    pub card: String,
    pub name: String,
    pub contact: Option<String>,
    pub desk: String,
    pub registered: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exception {
    /// One copy has several open loans: it was lent at two desks.
    CopyLentTwice {
        copy: String,
        loans: Vec<LoanRecord>,
    },
    /// A copy was taken back but no loan of it exists anywhere (yet).
    ReturnWithoutLoan { stray: StrayReturn },
    /// A loan was made although the reader's card had expired or the reader was blocked.
    LoanDespiteBlock {
        loan: LoanRecord,
        card_expired: bool,
        reader_blocked: bool,
    },
    /// Two desks registered one card number for different people while apart. Both people
    /// are kept; one of them takes a new card.
    CardRegisteredTwice {
        card: String,
        registrations: Vec<Registration>,
    },
    /// Card `card` still describes a person who now holds card `person.card`: two desks gave
    /// new cards differently while apart (both people moved, or one person got two cards).
    CardReplaced { card: String, person: Registration },
}

/// What a librarian can do about an exception with one click.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// This loan stands; the copy's other open loans are closed as lent by mistake.
    KeepLoan { loan: String },
    /// The copy is back on the shelf: close this loan as returned on that day.
    CloseLoanAsReturned { loan: String, on: NaiveDate },
    /// Nothing to do: note that a librarian looked at it.
    Acknowledge,
    /// This registration's person takes the new card number `card` (typed by the librarian;
    /// empty: the desk picks the first free `<old card>-2`, `-3`, ...). Loans made under that
    /// registration follow the person.
    GiveNewCard { registration: String, card: String },
    /// The card is no longer anyone's: its loans go to the card of the person they were made
    /// for, and the card is blocked with a note saying which card replaced it.
    RetireCard { card: String },
}

impl Exception {
    pub fn resolutions(&self) -> Vec<Resolution> {
        match self {
            Exception::CopyLentTwice { loans, .. } => loans
                .iter()
                .map(|l| Resolution::KeepLoan { loan: l.id.clone() })
                .collect(),
            Exception::ReturnWithoutLoan { .. } => vec![Resolution::Acknowledge],
            Exception::LoanDespiteBlock { loan, .. } => vec![
                Resolution::Acknowledge,
                Resolution::CloseLoanAsReturned {
                    loan: loan.id.clone(),
                    on: loan.out,
                },
            ],
            Exception::CardRegisteredTwice { registrations, .. } => registrations
                .iter()
                .map(|r| Resolution::GiveNewCard {
                    registration: r.id.clone(),
                    card: String::new(),
                })
                .collect(),
            Exception::CardReplaced { card, .. } => {
                vec![Resolution::RetireCard { card: card.clone() }]
            }
        }
    }

    /// Whether the merged data alone says if the case is still open: such an exception leaves
    /// the inbox when the data changes, never because of a note (a note written at one desk
    /// must not hide a case that two desks' different choices opened again).
    pub fn settled_by_data(&self) -> bool {
        matches!(
            self,
            Exception::CopyLentTwice { .. }
                | Exception::CardRegisteredTwice { .. }
                | Exception::CardReplaced { .. }
        )
    }
}

/// Pairs returns scanned without a known loan with the loan they close: the open loan of that
/// copy made on or before the return day (the most recent such loan). These need no librarian.
/// Returns the pairs and the returns left without a loan.
pub fn pair_stray_returns(
    loans: &[LoanRecord],
    strays: &[StrayReturn],
) -> (Vec<PairedReturn>, Vec<StrayReturn>) {
    let mut open: BTreeMap<&str, Vec<&LoanRecord>> = BTreeMap::new();
    for loan in loans.iter().filter(|l| l.returned.is_none()) {
        open.entry(loan.copy.as_str()).or_default().push(loan);
    }
    let mut strays: Vec<&StrayReturn> = strays.iter().collect();
    strays.sort_by(|a, b| (a.on, &a.id).cmp(&(b.on, &b.id)));
    let mut paired = Vec::new();
    let mut unmatched = Vec::new();
    for stray in strays {
        let candidates = open.entry(stray.copy.as_str()).or_default();
        let best = candidates
            .iter()
            .enumerate()
            .filter(|(_, l)| l.out <= stray.on)
            .max_by(|(_, a), (_, b)| (a.out, &a.id).cmp(&(b.out, &b.id)))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                let loan = candidates.remove(i);
                paired.push(PairedReturn {
                    loan: loan.id.clone(),
                    stray: stray.id.clone(),
                    on: stray.on,
                });
            }
            None => unmatched.push(stray.clone()),
        }
    }
    (paired, unmatched)
}

/// Everything the inbox shows for the merged loans, stray returns and readers.
pub fn find_exceptions(
    loans: &[LoanRecord],
    strays: &[StrayReturn],
    readers: &HashMap<String, ReaderStanding>,
) -> Vec<Exception> {
    let (paired, unmatched) = pair_stray_returns(loans, strays);
    let closed_by_stray: HashMap<&str, NaiveDate> =
        paired.iter().map(|p| (p.loan.as_str(), p.on)).collect();
    let mut exceptions = Vec::new();

    let mut open_by_copy: BTreeMap<&str, Vec<LoanRecord>> = BTreeMap::new();
    for loan in loans {
        if loan.returned.is_none() && !closed_by_stray.contains_key(loan.id.as_str()) {
            open_by_copy
                .entry(&loan.copy)
                .or_default()
                .push(loan.clone());
        }
    }
    for (copy, mut open) in open_by_copy {
        if open.len() > 1 {
            open.sort_by(|a, b| (a.out, &a.id).cmp(&(b.out, &b.id)));
            exceptions.push(Exception::CopyLentTwice {
                copy: copy.to_owned(),
                loans: open,
            });
        }
    }
    exceptions.extend(
        unmatched
            .into_iter()
            .map(|stray| Exception::ReturnWithoutLoan { stray }),
    );
    for loan in loans {
        let Some(reader) = readers.get(&loan.reader) else {
            continue;
        };
        let card_expired = reader.card_expires < loan.out;
        let reader_blocked = reader.blocked_since.is_some_and(|since| since <= loan.out);
        if card_expired || reader_blocked {
            exceptions.push(Exception::LoanDespiteBlock {
                loan: loan.clone(),
                card_expired,
                reader_blocked,
            });
        }
    }
    exceptions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("valid date")
    }

    fn loan(id: &str, copy: &str, out: u32, desk: &str) -> LoanRecord {
        LoanRecord {
            id: id.into(),
            copy: copy.into(),
            reader: "BD0001".into(),
            out: date(out),
            due: date(out + 14),
            returned: None,
            desk: desk.into(),
        }
    }

    fn stray(id: &str, copy: &str, on: u32) -> StrayReturn {
        StrayReturn {
            id: id.into(),
            copy: copy.into(),
            on: date(on),
            desk: "desk-b".into(),
        }
    }

    fn standing() -> HashMap<String, ReaderStanding> {
        HashMap::from([(
            "BD0001".to_owned(),
            ReaderStanding {
                card_expires: date(31),
                blocked_since: None,
            },
        )])
    }

    #[test]
    fn a_copy_lent_at_two_desks_is_one_exception_with_a_choice_per_loan() {
        let loans = [
            loan("l1", "TS1", 2, "desk-a"),
            loan("l2", "TS1", 3, "desk-b"),
        ];
        let found = find_exceptions(&loans, &[], &standing());
        assert_eq!(found.len(), 1);
        let Exception::CopyLentTwice { copy, loans: both } = &found[0] else {
            panic!("expected a double loan, got {found:?}");
        };
        assert_eq!((copy.as_str(), both.len()), ("TS1", 2));
        assert_eq!(
            found[0].resolutions(),
            vec![
                Resolution::KeepLoan { loan: "l1".into() },
                Resolution::KeepLoan { loan: "l2".into() }
            ]
        );
    }

    #[test]
    fn a_return_at_another_desk_closes_the_loan_without_bothering_anyone() {
        let loans = [loan("l1", "TS1", 2, "desk-a")];
        let strays = [stray("r1", "TS1", 9)];
        let (paired, unmatched) = pair_stray_returns(&loans, &strays);
        assert_eq!(
            paired,
            vec![PairedReturn {
                loan: "l1".into(),
                stray: "r1".into(),
                on: date(9)
            }]
        );
        assert!(unmatched.is_empty());
        assert!(find_exceptions(&loans, &strays, &standing()).is_empty());
    }

    #[test]
    fn a_return_before_any_loan_of_the_copy_goes_to_the_inbox() {
        let loans = [loan("l1", "TS1", 10, "desk-a")];
        let strays = [stray("r1", "TS1", 4), stray("r2", "TS9", 4)];
        let found = find_exceptions(&loans, &strays, &standing());
        assert_eq!(
            found,
            vec![
                Exception::ReturnWithoutLoan {
                    stray: stray("r1", "TS1", 4)
                },
                Exception::ReturnWithoutLoan {
                    stray: stray("r2", "TS9", 4)
                },
            ]
        );
    }

    #[test]
    fn a_double_loan_where_one_copy_came_back_elsewhere_is_settled() {
        let loans = [
            loan("l1", "TS1", 2, "desk-a"),
            loan("l2", "TS1", 3, "desk-b"),
        ];
        // Desk B's librarian scanned it back on the 5th: it closes the latest loan before then.
        let strays = [stray("r1", "TS1", 5)];
        assert!(find_exceptions(&loans, &strays, &standing()).is_empty());
    }

    #[test]
    fn a_loan_to_a_reader_blocked_or_expired_elsewhere_is_flagged() {
        let mut readers = standing();
        readers.insert(
            "BD0002".into(),
            ReaderStanding {
                card_expires: date(1),
                blocked_since: Some(date(3)),
            },
        );
        let mut late = loan("l1", "TS1", 4, "desk-a");
        late.reader = "BD0002".into();
        let found = find_exceptions(std::slice::from_ref(&late), &[], &readers);
        assert_eq!(
            found,
            vec![Exception::LoanDespiteBlock {
                loan: late.clone(),
                card_expired: true,
                reader_blocked: true
            }]
        );
        assert!(
            found[0]
                .resolutions()
                .contains(&Resolution::CloseLoanAsReturned {
                    loan: "l1".into(),
                    on: date(4)
                })
        );
    }
}
