//! `POST /staff/stick/import` (staff, form with `csrf`): imports every bundle on the USB stick
//! meant for this device and answers with the stick page and a line per file: applied (how
//! many changes were new), already here, a receipt, for another device (which), damaged, from
//! a non-member. A file that does not import changes nothing and does not stop the others.

use std::collections::HashMap;
use std::fmt::Write as _;

use tusach_sync::DeviceId;
use warp::http::StatusCode;

use super::stick_get::{refusal_of, refused, reply};
use super::sync_status_get::peer_name;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::input::Input;
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::sync_service::peers::{PeerIdentity, identities};
use crate::sync_service::stick::{FileOutcome, ImportReport, ReceiptOutcome, WriteRefusal};

fn import(state: &AppState, staff: &Staff, input: &Input) -> Result<ImportReport, ApiError> {
    check_form_csrf(staff, input)?;
    state.sync.import_from_stick().map_err(refusal_of)
}

/// A device by its name when its certificate is known here, else by the start of its id.
fn device_name(lang: Lang, names: &HashMap<String, PeerIdentity>, device: &DeviceId) -> String {
    match names.get(&device.to_hex()) {
        Some(identity) => peer_name(lang, Some(identity)),
        None => format!(
            "{} {}",
            lang.t("stick.device"),
            device.to_hex().get(..8).unwrap_or("")
        ),
    }
}

fn receipt_words(lang: Lang, receipt: &ReceiptOutcome) -> (&'static str, String) {
    match receipt {
        ReceiptOutcome::Written(file) => (
            "written",
            lang.t("stick.receipt_written").replace("{file}", file),
        ),
        ReceiptOutcome::Refused(WriteRefusal::Full) => {
            ("full", lang.t("stick.receipt_full").to_owned())
        }
        ReceiptOutcome::Refused(WriteRefusal::ReadOnly) => {
            ("read_only", lang.t("stick.receipt_read_only").to_owned())
        }
        ReceiptOutcome::Failed(detail) => {
            eprintln!("stick: no receipt written: {detail}");
            ("failed", lang.t("stick.receipt_failed").to_owned())
        }
    }
}

/// The outcome's code (for `data-outcome`), its sentence, and the receipt's code and sentence.
fn outcome_words(
    lang: Lang,
    names: &HashMap<String, PeerIdentity>,
    outcome: &FileOutcome,
) -> (&'static str, String, Option<(&'static str, String)>) {
    let named = |key: &'static str, device: &DeviceId| {
        lang.t(key)
            .replace("{name}", &device_name(lang, names, device))
    };
    match outcome {
        FileOutcome::Applied {
            maker,
            new_changes,
            receipt,
        } => (
            "applied",
            named("stick.applied", maker).replace("{n}", &new_changes.to_string()),
            Some(receipt_words(lang, receipt)),
        ),
        FileOutcome::AlreadyHad { maker, receipt } => (
            "already_had",
            named("stick.already_had", maker),
            Some(receipt_words(lang, receipt)),
        ),
        FileOutcome::Receipt { maker } => ("receipt", named("stick.receipt_in", maker), None),
        FileOutcome::ForAnotherDevice { short, device } => {
            let name = match device {
                Some(device) => device_name(lang, names, device),
                None => format!("{} {short}", lang.t("stick.device")),
            };
            (
                "for_another_device",
                lang.t("stick.for_another").replace("{name}", &name),
                None,
            )
        }
        FileOutcome::CannotOpen => ("cannot_open", lang.t("stick.cannot_open").to_owned(), None),
        FileOutcome::Damaged(detail) => {
            eprintln!("stick: a damaged bundle: {detail}");
            ("damaged", lang.t("stick.damaged").to_owned(), None)
        }
        FileOutcome::FromNonMember(detail) => {
            eprintln!("stick: a bundle from a non-member: {detail}");
            ("not_member", lang.t("stick.not_member").to_owned(), None)
        }
        FileOutcome::Refused(detail) => {
            eprintln!("stick: a bundle refused: {detail}");
            ("refused", lang.t("stick.refused").to_owned(), None)
        }
        FileOutcome::Unreadable(detail) => {
            eprintln!("stick: an unreadable file: {detail}");
            ("unreadable", lang.t("stick.unreadable").to_owned(), None)
        }
        FileOutcome::Failed(_) => ("failed", lang.t("stick.failed").to_owned(), None),
    }
}

fn report_html(lang: Lang, names: &HashMap<String, PeerIdentity>, report: &ImportReport) -> String {
    let mut html = format!("<section data-import><h2>{}</h2>", lang.t("stick.imported"));
    if report.files.is_empty() {
        let _ = write!(html, "<p>{}</p></section>", lang.t("stick.no_files"));
        return html;
    }
    let _ = write!(
        html,
        "<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("stick.file"),
        lang.t("reports.sync.result"),
    );
    for file in &report.files {
        let (code, words, receipt) = outcome_words(lang, names, &file.outcome);
        let (receipt_code, receipt_words) = receipt.unwrap_or(("", String::new()));
        let _ = write!(
            html,
            "<tr data-file=\"{name}\" data-outcome=\"{code}\" data-receipt=\"{receipt_code}\">\
             <td><code>{name}</code></td><td>{words} {receipt_words}</td></tr>",
            name = escape(&file.name),
            words = escape(&words),
            receipt_words = escape(&receipt_words),
        );
    }
    html.push_str("</tbody></table></section>");
    html
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let result = import(state, staff, input).and_then(|report| {
        let names = state.write(identities)?.map_err(super::internal)?;
        Ok(report_html(request.lang, &names, &report))
    });
    match result {
        Ok(notice) => reply(state, staff, request, StatusCode::OK, &notice),
        Err(error) => refused(state, staff, request, &error),
    }
}
