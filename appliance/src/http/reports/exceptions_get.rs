//! `GET /staff/exceptions`: the exceptions inbox, each case explained in plain words (which
//! copy, which readers, which desks, which days) with one button per resolution.
//! `GET /api/exceptions`: the same as JSON, with each resolution's token (a `give_new_card`
//! token takes the new card as `newcard:REG:CARD`, or the desk picks one).

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::exception_resolve::token;
use super::{internal, render};
use crate::circulation::exceptions::{Exception, LoanRecord, Registration, Resolution};
use crate::circulation::library::InboxItem;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest, json_error, json_reply};

fn inbox(state: &AppState) -> Result<Vec<InboxItem>, ApiError> {
    state
        .write(|store| state.desk.inbox(store))?
        .map_err(internal)
}

fn day(date: chrono::NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// A desk as a librarian knows it: "this desk", or its name (device ids shortened).
fn desk_label(state: &AppState, lang: Lang, desk: &str) -> String {
    if desk == state.device.to_hex() {
        lang.t("reports.exceptions.this_desk").to_owned()
    } else if desk.len() == 32 && desk.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("{} {}", lang.t("reports.exceptions.device"), &desk[..8])
    } else {
        desk.to_owned()
    }
}

fn reader_label(item: &InboxItem, card: &str) -> String {
    match item.reader_names.get(card) {
        Some(name) => format!("{name} ({card})"),
        None => card.to_owned(),
    }
}

fn copy_label(item: &InboxItem, copy: &str) -> String {
    match item.copy_titles.get(copy) {
        Some(title) => format!("{copy} «{title}»"),
        None => copy.to_owned(),
    }
}

fn loan_sentence(state: &AppState, lang: Lang, item: &InboxItem, loan: &LoanRecord) -> String {
    lang.pick(
        format!(
            "ngày {} tại {} cho {} (hạn trả {})",
            day(loan.out),
            desk_label(state, lang, &loan.desk),
            reader_label(item, &loan.reader),
            day(loan.due)
        ),
        format!(
            "on {} at {} to {} (due {})",
            day(loan.out),
            desk_label(state, lang, &loan.desk),
            reader_label(item, &loan.reader),
            day(loan.due)
        ),
    )
}

fn person_label(state: &AppState, lang: Lang, person: &Registration) -> String {
    let contact = person
        .contact
        .as_deref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default();
    let on = person.registered.map(day).unwrap_or_default();
    lang.pick(
        format!(
            "{}{contact} (đăng ký ngày {on} tại {})",
            person.name,
            desk_label(state, lang, &person.desk)
        ),
        format!(
            "{}{contact} (registered on {on} at {})",
            person.name,
            desk_label(state, lang, &person.desk)
        ),
    )
}

/// The heading and the explanation of an exception, as plain text (escaped by the caller).
fn explain(state: &AppState, lang: Lang, item: &InboxItem) -> (String, Vec<String>) {
    match &item.exception {
        Exception::CopyLentTwice { copy, loans } => {
            let heading = lang.pick(
                format!(
                    "Bản sách {} đang được cho mượn {} lần",
                    copy_label(item, copy),
                    loans.len()
                ),
                format!(
                    "Copy {} is lent {} times",
                    copy_label(item, copy),
                    loans.len()
                ),
            );
            let mut lines = vec![lang.t("reports.exceptions.twice_why").to_owned()];
            lines.extend(loans.iter().map(|l| loan_sentence(state, lang, item, l)));
            (heading, lines)
        }
        Exception::ReturnWithoutLoan { stray } => (
            lang.pick(
                format!(
                    "Bản sách {} được trả nhưng không có lượt mượn",
                    copy_label(item, &stray.copy)
                ),
                format!(
                    "Copy {} was returned but no loan of it is known",
                    copy_label(item, &stray.copy)
                ),
            ),
            vec![lang.pick(
                format!(
                    "Trả ngày {} tại {}. Không tìm thấy lượt mượn nào của bản này trước ngày đó.",
                    day(stray.on),
                    desk_label(state, lang, &stray.desk)
                ),
                format!(
                    "Returned on {} at {}. No loan of this copy made before that day is known.",
                    day(stray.on),
                    desk_label(state, lang, &stray.desk)
                ),
            )],
        ),
        Exception::LoanDespiteBlock {
            loan,
            card_expired,
            reader_blocked,
        } => {
            let mut why = Vec::new();
            if *card_expired {
                why.push(lang.t("reports.exceptions.card_expired"));
            }
            if *reader_blocked {
                why.push(lang.t("reports.exceptions.reader_blocked"));
            }
            (
                lang.pick(
                    format!(
                        "Cho mượn dù bạn đọc {} không được mượn",
                        reader_label(item, &loan.reader)
                    ),
                    format!(
                        "Lent although {} may not borrow",
                        reader_label(item, &loan.reader)
                    ),
                ),
                vec![
                    why.join("; "),
                    lang.pick(
                        format!(
                            "Bản {} đã cho mượn {}",
                            copy_label(item, &loan.copy),
                            loan_sentence(state, lang, item, loan)
                        ),
                        format!(
                            "Copy {} was lent {}",
                            copy_label(item, &loan.copy),
                            loan_sentence(state, lang, item, loan)
                        ),
                    ),
                ],
            )
        }
        Exception::CardRegisteredTwice {
            card,
            registrations,
        } => {
            let mut lines = vec![lang.t("reports.exceptions.card_twice_why").to_owned()];
            lines.extend(registrations.iter().map(|r| person_label(state, lang, r)));
            (
                lang.pick(
                    format!(
                        "Thẻ số {card} được cấp cho {} người khác nhau",
                        registrations.len()
                    ),
                    format!(
                        "Card {card} was given to {} different people",
                        registrations.len()
                    ),
                ),
                lines,
            )
        }
        Exception::CardReplaced { card, person } => (
            lang.pick(
                format!("Thẻ số {card} đã được thay bằng thẻ {}", person.card),
                format!("Card {card} was replaced by card {}", person.card),
            ),
            vec![
                lang.t("reports.exceptions.card_replaced_why").to_owned(),
                person_label(state, lang, person),
            ],
        ),
    }
}

/// A note's choice in words: whose loan was kept, or the note as written.
fn history_words(lang: Lang, item: &InboxItem, resolution: &str) -> String {
    if let (Some(loan), Exception::CopyLentTwice { loans, .. }) =
        (resolution.strip_prefix("keep "), &item.exception)
        && let Some(kept) = loans.iter().find(|l| l.id == loan)
    {
        return lang.pick(
            format!("giữ lượt mượn của {}", reader_label(item, &kept.reader)),
            format!("kept the loan to {}", reader_label(item, &kept.reader)),
        );
    }
    resolution.to_owned()
}

/// The words on a resolution's button.
fn button(state: &AppState, lang: Lang, item: &InboxItem, resolution: &Resolution) -> String {
    match (&item.exception, resolution) {
        (Exception::CopyLentTwice { loans, .. }, Resolution::KeepLoan { loan }) => {
            let who = loans
                .iter()
                .find(|l| &l.id == loan)
                .map(|l| {
                    format!(
                        "{} ({}, {})",
                        reader_label(item, &l.reader),
                        day(l.out),
                        desk_label(state, lang, &l.desk)
                    )
                })
                .unwrap_or_else(|| loan.clone());
            lang.pick(
                format!("Giữ lượt mượn của {who}; đóng lượt kia vì cho mượn nhầm"),
                format!("Keep the loan to {who}; close the other as lent by mistake"),
            )
        }
        (Exception::ReturnWithoutLoan { .. }, Resolution::CloseLoanAsReturned { loan, on }) => {
            let which = item
                .related_loans
                .iter()
                .find(|l| &l.id == loan)
                .map(|l| loan_sentence(state, lang, item, l))
                .unwrap_or_else(|| loan.clone());
            lang.pick(
                format!("Ghép với lượt mượn {which}: sách đã trả ngày {}", day(*on)),
                format!("Pair with the loan {which}: returned on {}", day(*on)),
            )
        }
        (_, Resolution::CloseLoanAsReturned { on, .. }) => lang.pick(
            format!("Đóng lượt mượn: sách đã về (ngày {})", day(*on)),
            format!("Close the loan: the copy is back (on {})", day(*on)),
        ),
        (Exception::ReturnWithoutLoan { .. }, Resolution::Acknowledge) => {
            lang.t("reports.exceptions.dismiss").to_owned()
        }
        (_, Resolution::Acknowledge) => lang.t("reports.exceptions.keep_anyway").to_owned(),
        (_, Resolution::KeepLoan { loan }) => loan.clone(),
        (
            Exception::CardRegisteredTwice { registrations, .. },
            Resolution::GiveNewCard { registration, .. },
        ) => {
            let who = registrations
                .iter()
                .find(|r| &r.id == registration)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| registration.clone());
            lang.pick(
                format!("Cấp thẻ mới cho {who} (các lượt mượn của người này đi theo)"),
                format!("Give {who} a new card (their loans follow them)"),
            )
        }
        (_, Resolution::GiveNewCard { registration, .. }) => registration.clone(),
        (Exception::CardReplaced { person, .. }, Resolution::RetireCard { card }) => lang.pick(
            format!(
                "Hủy thẻ {card}; các lượt mượn chuyển sang thẻ {} của {}",
                person.card, person.name
            ),
            format!(
                "Retire card {card}; its loans move to {}'s card {}",
                person.name, person.card
            ),
        ),
        (_, Resolution::RetireCard { card }) => card.clone(),
    }
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let page = inbox(state).map(|items| {
        let title = lang.t("reports.exceptions.title").to_owned();
        let mut html = format!("<h1>{}</h1>", escape(&title));
        if request.params.contains_key("resolved") {
            let _ = write!(
                html,
                "<p class=\"ok\" role=\"status\">{}</p>",
                lang.t("reports.exceptions.resolved")
            );
        }
        if items.is_empty() {
            let _ = write!(html, "<p>{}</p>", lang.t("reports.exceptions.none"));
        } else {
            let _ = write!(
                html,
                "<p class=\"hint\">{}</p>",
                lang.t("reports.exceptions.intro")
            );
        }
        for item in &items {
            let (heading, lines) = explain(state, lang, item);
            let _ = write!(
                html,
                "<section class=\"exception\" data-exception=\"{}\"><h2>{}</h2><ul>",
                escape(&item.id),
                escape(&heading)
            );
            for line in lines.iter().filter(|l| !l.is_empty()) {
                let _ = write!(html, "<li>{}</li>", escape(line));
            }
            html.push_str("</ul>");
            if !item.history.is_empty() {
                // The case is back: desks chose differently while apart. Say who chose what.
                let _ = write!(
                    html,
                    "<p class=\"hint\">{}</p><ul class=\"history\">",
                    lang.t("reports.exceptions.chosen_before")
                );
                for note in &item.history {
                    let _ = write!(
                        html,
                        "<li>{} – {}: {}</li>",
                        escape(&note.on),
                        escape(&desk_label(state, lang, &note.desk)),
                        escape(&history_words(lang, item, &note.resolution))
                    );
                }
                html.push_str("</ul>");
            }
            for resolution in &item.resolutions {
                // A new card's number is typed by the librarian (or left empty: the desk
                // picks the first free one).
                let new_card = match resolution {
                    Resolution::GiveNewCard { .. } => format!(
                        "<label>{} <input name=\"new_card\" maxlength=\"64\" \
autocomplete=\"off\" placeholder=\"{}\"></label> ",
                        lang.t("reports.exceptions.new_card"),
                        lang.t("reports.exceptions.new_card_hint")
                    ),
                    _ => String::new(),
                };
                let _ = write!(
                    html,
                    "<form method=\"post\" action=\"/staff/exceptions/resolve\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"exception\" value=\"{}\">\
<input type=\"hidden\" name=\"resolution\" value=\"{}\">\
{new_card}<button type=\"submit\">{}</button></form>",
                    escape(&staff.csrf),
                    escape(&item.id),
                    escape(&token(resolution)),
                    escape(&button(state, lang, item, resolution)),
                );
            }
            html.push_str("</section>");
        }
        (title, html)
    });
    render(state, staff, request, "/staff/exceptions", page)
}

fn loan_json(item: &InboxItem, loan: &LoanRecord) -> serde_json::Value {
    serde_json::json!({
        "id": loan.id,
        "copy": loan.copy,
        "reader": loan.reader,
        "reader_name": item.reader_names.get(&loan.reader),
        "out": loan.out.format("%Y-%m-%d").to_string(),
        "due": loan.due.format("%Y-%m-%d").to_string(),
        "returned": loan.returned.map(|d| d.format("%Y-%m-%d").to_string()),
        "desk": loan.desk,
    })
}

fn resolution_json(resolution: &Resolution) -> serde_json::Value {
    match resolution {
        Resolution::KeepLoan { loan } => {
            serde_json::json!({"token": token(resolution), "kind": "keep_loan", "loan": loan})
        }
        Resolution::CloseLoanAsReturned { loan, on } => serde_json::json!({
            "token": token(resolution), "kind": "close_loan_as_returned", "loan": loan,
            "on": on.format("%Y-%m-%d").to_string(),
        }),
        Resolution::Acknowledge => {
            serde_json::json!({"token": token(resolution), "kind": "acknowledge"})
        }
        Resolution::GiveNewCard { registration, .. } => serde_json::json!({
            "token": token(resolution), "kind": "give_new_card", "registration": registration,
        }),
        Resolution::RetireCard { card } => serde_json::json!({
            "token": token(resolution), "kind": "retire_card", "card": card,
        }),
    }
}

pub fn get_json(state: &AppState) -> warp::reply::Response {
    let items = match inbox(state) {
        Ok(items) => items,
        Err(error) => return json_error(&error),
    };
    let exceptions: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            let resolutions: Vec<_> = item.resolutions.iter().map(resolution_json).collect();
            let mut json = match &item.exception {
                Exception::CopyLentTwice { copy, loans } => serde_json::json!({
                    "kind": "copy_lent_twice",
                    "copy": copy,
                    "title": item.copy_titles.get(copy),
                    "loans": loans.iter().map(|l| loan_json(item, l)).collect::<Vec<_>>(),
                }),
                Exception::ReturnWithoutLoan { stray } => serde_json::json!({
                    "kind": "return_without_loan",
                    "copy": stray.copy,
                    "title": item.copy_titles.get(&stray.copy),
                    "stray_return": {
                        "id": stray.id, "copy": stray.copy, "desk": stray.desk,
                        "on": stray.on.format("%Y-%m-%d").to_string(),
                    },
                }),
                Exception::LoanDespiteBlock {
                    loan,
                    card_expired,
                    reader_blocked,
                } => serde_json::json!({
                    "kind": "loan_despite_block",
                    "copy": loan.copy,
                    "title": item.copy_titles.get(&loan.copy),
                    "loans": [loan_json(item, loan)],
                    "card_expired": card_expired,
                    "reader_blocked": reader_blocked,
                }),
                Exception::CardRegisteredTwice {
                    card,
                    registrations,
                } => serde_json::json!({
                    "kind": "card_registered_twice",
                    "card": card,
                    "registrations": registrations.iter().map(|r| serde_json::json!({
                        "id": r.id,
                        "card": r.card,
                        "name": r.name,
                        "contact": r.contact,
                        "desk": r.desk,
                        "registered": r.registered.map(|d| d.format("%Y-%m-%d").to_string()),
                    })).collect::<Vec<_>>(),
                }),
                Exception::CardReplaced { card, person } => serde_json::json!({
                    "kind": "card_replaced",
                    "card": card,
                    "registrations": [{
                        "id": person.id,
                        "card": person.card,
                        "name": person.name,
                        "contact": person.contact,
                        "desk": person.desk,
                        "registered": person.registered.map(|d| d.format("%Y-%m-%d").to_string()),
                    }],
                }),
            };
            json["id"] = serde_json::Value::String(item.id.clone());
            json["history"] = item
                .history
                .iter()
                .map(
                    |n| serde_json::json!({"resolution": n.resolution, "desk": n.desk, "on": n.on}),
                )
                .collect();
            json["resolutions"] = serde_json::Value::Array(resolutions);
            json
        })
        .collect();
    json_reply(
        StatusCode::OK,
        &serde_json::json!({"exceptions": exceptions}),
    )
}
