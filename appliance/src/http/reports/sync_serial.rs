//! The sync page's serial-line section (`serve --serial`): which device, calling or
//! answering, the last attempt, the bytes the line carried, and what went wrong in plain
//! words with what to check. Also its JSON for `/api/sync/status`.

use std::fmt::Write as _;

use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::sync_service::serial_line::{SerialOutcome, SerialProblem, SerialRole, SerialStatus};

use super::sync_status_get::local_time;

/// The section's HTML; empty when no serial line is configured.
pub fn section(lang: Lang, status: Option<&SerialStatus>) -> String {
    let Some(status) = status else {
        return String::new();
    };
    let mut html = format!(
        "<section data-serial><h2>{}</h2><p>{}: <code>{}</code>, {} baud, {}</p>",
        lang.t("serial.title"),
        lang.t("serial.device"),
        escape(&status.device),
        status.baud,
        escape(role_words(lang, status)),
    );
    let when = status
        .last_attempt
        .and_then(local_time)
        .unwrap_or_else(|| lang.t("serial.never").to_owned());
    let _ = write!(
        html,
        "<p>{}: <span data-serial-last>{}</span>{}</p>",
        lang.t("serial.last_attempt"),
        escape(&when),
        if status.in_call {
            format!(" — {}", lang.t("serial.in_call"))
        } else {
            String::new()
        }
    );
    match &status.outcome {
        Some(SerialOutcome::Synced {
            changes_sent,
            new_changes,
        }) => {
            let _ = write!(
                html,
                "<p data-serial-result=\"ok\">{}: {} {changes_sent}, {} {new_changes}. {}</p>",
                lang.t("serial.ok"),
                lang.t("reports.sync.sent"),
                lang.t("reports.sync.received"),
                escape(
                    &lang
                        .t("serial.bytes")
                        .replace("{out}", &status.wire_bytes_out.to_string())
                        .replace("{in}", &status.wire_bytes_in.to_string())
                        .replace("{resent}", &status.retransmitted_bytes.to_string())
                        .replace("{calls}", &status.calls.to_string())
                ),
            );
        }
        Some(SerialOutcome::Failed { problem, detail }) => {
            let _ = write!(
                html,
                "<p class=\"error\" data-serial-result=\"{code}\">{}</p><p class=\"hint\">{}: <code>{}</code></p>",
                escape(problem_words(lang, *problem)),
                lang.t("serial.detail"),
                escape(detail),
                code = problem.code(),
            );
        }
        None => {}
    }
    html.push_str("</section>");
    html
}

/// What went wrong and what to check, in the librarian's words.
fn problem_words(lang: Lang, problem: SerialProblem) -> &'static str {
    match problem {
        SerialProblem::DeviceMissing => lang.t("serial.problem.device_missing"),
        SerialProblem::DeviceBusy => lang.t("serial.problem.device_busy"),
        SerialProblem::DeviceGone => lang.t("serial.problem.device_gone"),
        SerialProblem::ModemSilent => lang.t("serial.problem.modem_silent"),
        SerialProblem::ModemRefused => lang.t("serial.problem.modem_refused"),
        SerialProblem::Busy => lang.t("serial.problem.busy"),
        SerialProblem::NoDialtone => lang.t("serial.problem.no_dialtone"),
        SerialProblem::NoAnswer => lang.t("serial.problem.no_answer"),
        SerialProblem::NoCarrier => lang.t("serial.problem.no_carrier"),
        SerialProblem::LineCut => lang.t("serial.problem.line_cut"),
        SerialProblem::PeerRestarted => lang.t("serial.problem.peer_restarted"),
        SerialProblem::Refused => lang.t("serial.problem.refused"),
        SerialProblem::Other => lang.t("serial.problem.other"),
    }
}

fn role_words(lang: Lang, status: &SerialStatus) -> &'static str {
    match (&status.role, status.modem) {
        (SerialRole::Answer, true) => lang.t("serial.role.answer_modem"),
        (SerialRole::Answer, false) => lang.t("serial.role.answer_plain"),
        (SerialRole::Call { .. }, true) => lang.t("serial.role.call_modem"),
        (SerialRole::Call { .. }, false) => lang.t("serial.role.call_plain"),
    }
}

/// The same for the JSON API; `null` without a line.
pub fn json(status: Option<&SerialStatus>) -> serde_json::Value {
    let Some(status) = status else {
        return serde_json::Value::Null;
    };
    let (ok, problem, error) = match &status.outcome {
        Some(SerialOutcome::Synced { .. }) => (Some(true), None, None),
        Some(SerialOutcome::Failed { problem, detail }) => {
            (Some(false), Some(problem.code()), Some(detail.as_str()))
        }
        None => (None, None, None),
    };
    serde_json::json!({
        "device": status.device,
        "baud": status.baud,
        "modem": status.modem,
        "role": match status.role { SerialRole::Answer => "answer", SerialRole::Call { .. } => "call" },
        "last_attempt": status.last_attempt.and_then(local_time),
        "in_call": status.in_call,
        "ok": ok,
        "problem": problem,
        "message": match &status.outcome {
            Some(SerialOutcome::Failed { problem, .. }) => Some(problem_words(Lang::Vi, *problem)),
            _ => None,
        },
        "error": error,
        "wire_bytes_out": status.wire_bytes_out,
        "wire_bytes_in": status.wire_bytes_in,
        "retransmitted_bytes": status.retransmitted_bytes,
        "calls": status.calls,
        "attempts": status.attempts,
    })
}
