//! `GET /staff/catalogue/import/{id}/progress`: an import under way, as a `<progress>` bar and
//! its three steps (read the file, check every line, write), reloading itself every two
//! seconds (no JavaScript needed) until it ends; then what it did, or why it did nothing,
//! with every bad row by its line when a row went bad since the preview.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::preview_get::{skip_words, write_errors};
use super::{PATH, import_error, to_step, with_pending};
use crate::http::auth::Staff;
use crate::http::cataloguing::{form_error, frame};
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest, layout, percent_encode};
use crate::imports::{ImportError, ImportSummary, Phase, ProgressView};

/// Seconds between reloads while the import runs.
const REFRESH_SECONDS: u32 = 2;

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    id: &str,
    _: &(),
) -> warp::reply::Response {
    let lang = request.lang;
    let found = with_pending(state, staff, id, |pending| {
        let progress = pending.progress.as_ref().map(|p| p.view());
        (pending.file_name.clone(), progress)
    });
    let (file_name, view) = match found {
        Ok((name, Some(view))) => (name, view),
        Ok((_, None)) => return to_step(id, "preview"),
        Err(error) => return form_error(state, staff, request, &error, PATH),
    };
    let mut body = String::new();
    let title = match view.phase {
        Phase::Done => lang.t("import.done.title"),
        Phase::Failed => lang.t("import.failed.title"),
        _ => lang.t("import.progress.title"),
    };
    let _ = write!(
        body,
        "<h1>{title}</h1><p>{file_word}: <strong>{name}</strong></p>\
<section class=\"import-progress\" data-phase=\"{phase}\">",
        file_word = lang.t("import.file"),
        name = escape(&file_name),
        phase = view.phase.name(),
    );
    match view.outcome.as_deref() {
        None => write_running(&mut body, lang, &view),
        Some(Ok(summary)) => write_done(&mut body, lang, summary),
        Some(Err(error)) => write_failed(&mut body, lang, error),
    }
    body.push_str("</section>");
    let frame = frame(state, staff, &request.here, request);
    let html = if view.phase.is_over() {
        layout::page(&frame, title, &body)
    } else {
        layout::page_refreshing(&frame, title, &body, REFRESH_SECONDS)
    };
    layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
}

fn write_running(body: &mut String, lang: Lang, view: &ProgressView) {
    let words = match view.phase {
        Phase::Queued => lang.t("import.phase.queued").to_owned(),
        Phase::Reading if view.done > 0 => lang
            .t("import.phase.reading_records")
            .replace("{n}", &view.done.to_string()),
        Phase::Reading => lang.t("import.phase.reading").to_owned(),
        Phase::Waiting => lang.t("import.phase.waiting").to_owned(),
        Phase::Checking => lang
            .t("import.phase.checking")
            .replace("{done}", &view.done.to_string())
            .replace("{total}", &view.total.to_string()),
        // A MARC import counts the records handed to its one commit, shard by shard.
        Phase::Writing if view.done > 0 => lang
            .t("import.phase.writing_records")
            .replace("{done}", &view.done.to_string())
            .replace("{total}", &view.total.to_string()),
        Phase::Writing | Phase::Done | Phase::Failed => lang.t("import.phase.writing").to_owned(),
    };
    // A bar with a value only where the count is known: the check, row by row, and a MARC
    // import's writing. Reading and a list's commit show a bar that moves without saying how
    // far.
    let counted = view.phase == Phase::Checking || (view.phase == Phase::Writing && view.done > 0);
    let bar = if counted && view.total > 0 {
        format!(
            "<progress value=\"{}\" max=\"{}\">{}</progress>",
            view.done.min(view.total),
            view.total,
            escape(&words)
        )
    } else {
        format!("<progress>{}</progress>", escape(&words))
    };
    let step = |phase: Phase| match phase {
        Phase::Queued | Phase::Reading => 0,
        Phase::Waiting | Phase::Checking => 1,
        _ => 2,
    };
    let now = step(view.phase);
    let _ = write!(
        body,
        "<p role=\"status\">{}</p>{bar}<ol class=\"steps\">",
        escape(&words)
    );
    for (index, key) in ["import.step.read", "import.step.check", "import.step.write"]
        .into_iter()
        .enumerate()
    {
        let (mark, class) = match index.cmp(&now) {
            std::cmp::Ordering::Less => ("✓ ", "ok"),
            std::cmp::Ordering::Equal => ("… ", "current"),
            std::cmp::Ordering::Greater => ("", "meta"),
        };
        let _ = write!(body, "<li class=\"{class}\">{mark}{}</li>", lang.t(key));
    }
    let _ = write!(
        body,
        "</ol><p class=\"hint\">{}</p>",
        lang.t("import.progress.refresh")
    );
}

fn write_done(body: &mut String, lang: Lang, summary: &ImportSummary) {
    let count = |n: &usize| n.to_string();
    let (sentence, link) = match summary {
        ImportSummary::Books {
            new_records,
            existing_records,
            copies,
        } => (
            lang.t("import.done.books")
                .replace("{new}", &count(new_records))
                .replace("{existing}", &count(existing_records))
                .replace("{copies}", &count(copies)),
            ("/search", lang.t("import.done.search")),
        ),
        ImportSummary::Readers {
            registered,
            already,
            cards_given,
        } => {
            let mut sentence = lang
                .t("import.done.readers")
                .replace("{new}", &count(registered))
                .replace("{already}", &count(already));
            if let Some((first, last)) = cards_given {
                sentence.push(' ');
                sentence.push_str(
                    &lang
                        .t("import.done.cards")
                        .replace("{first}", first)
                        .replace("{last}", last),
                );
            }
            (
                sentence,
                ("/staff/readers", lang.t("import.done.readers_link")),
            )
        }
        ImportSummary::Marc {
            records,
            created,
            merged,
            skipped,
        } => {
            let mut sentence = lang
                .t("import.done.marc")
                .replace("{records}", &count(records))
                .replace("{created}", &count(created))
                .replace("{merged}", &count(merged))
                .replace("{skipped}", &count(&skipped.len()));
            for (record, reason) in skipped.iter().take(20) {
                let _ = write!(
                    sentence,
                    " {} {record}: {}.",
                    lang.t("import.col.record"),
                    skip_words(lang, reason)
                );
            }
            (sentence, ("/search", lang.t("import.done.search")))
        }
    };
    let _ = write!(
        body,
        "<progress value=\"1\" max=\"1\"></progress>\
<p class=\"result ok\" role=\"status\">{sentence}</p>\
<p><a class=\"button\" href=\"{href}?lang={code}\">{words}</a> \
<a class=\"button\" href=\"{PATH}\">{again}</a></p>",
        sentence = escape(&sentence),
        href = link.0,
        code = percent_encode(lang.code()),
        words = link.1,
        again = lang.t("import.again"),
    );
}

fn write_failed(body: &mut String, lang: Lang, error: &ImportError) {
    let api = import_error(error);
    if let ApiError::Internal(detail) = &api {
        eprintln!("http: import failed: {detail}");
    }
    if let ImportError::BadRows(errors) = error {
        write_errors(body, lang, errors);
    } else {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(&api.lang_message(lang))
        );
    }
    let _ = write!(
        body,
        "<p>{hint}</p><p><a class=\"button\" href=\"{PATH}\">{again}</a></p>",
        hint = lang.t("import.failed.hint"),
        again = lang.t("import.again"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(phase: Phase, done: usize, total: usize) -> String {
        let mut body = String::new();
        let view = ProgressView {
            phase,
            done,
            total,
            outcome: None,
        };
        write_running(&mut body, Lang::Vi, &view);
        body
    }

    #[test]
    fn the_bar_counts_the_check_and_marks_the_steps_done() {
        let checking = running(Phase::Checking, 37, 120);
        assert!(
            checking.contains("<progress value=\"37\" max=\"120\">"),
            "{checking}"
        );
        assert!(checking.contains("Đang kiểm tra: 37 / 120"), "{checking}");
        assert!(
            checking.contains("<li class=\"ok\">✓ Đọc tệp</li>"),
            "{checking}"
        );
        assert!(
            checking.contains("<li class=\"current\">… Kiểm tra từng dòng</li>"),
            "{checking}"
        );
        // Reading a MARC file counts records with no end known; the commit is one step.
        let reading = running(Phase::Reading, 500, 0);
        assert!(reading.contains("<progress>"), "{reading}");
        assert!(reading.contains("500 biểu ghi"), "{reading}");
        let writing = running(Phase::Writing, 0, 3);
        assert!(writing.contains("<progress>"), "{writing}");
        assert!(writing.contains("<li class=\"current\">… Ghi vào thư viện</li>"));
        // A MARC import's writing counts records as the store takes them.
        let marc = running(Phase::Writing, 1_500, 96_138);
        assert!(
            marc.contains("<progress value=\"1500\" max=\"96138\">"),
            "{marc}"
        );
        assert!(marc.contains("1500 / 96138 biểu ghi"), "{marc}");
    }
}
