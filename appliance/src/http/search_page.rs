//! `GET /search?q=TEXT&lang=vi|en`: the readers' search page. Plain HTML and a few lines of
//! CSS, no JavaScript, so the first load on a cheap phone is a few kilobytes. Vietnamese by
//! default; `lang=en` switches to English.

use std::fmt::Write as _;

use warp::Reply;
use warp::http::StatusCode;

use super::html::escape;
use super::records_search::{find, parse};
use super::{AppState, Params};
use crate::db::RecordRow;

struct Words {
    lang: &'static str,
    title: &'static str,
    placeholder: &'static str,
    button: &'static str,
    none: &'static str,
    found: &'static str,
    hint: &'static str,
    switch_label: &'static str,
    switch_lang: &'static str,
}

const VI: Words = Words {
    lang: "vi",
    title: "Tìm sách",
    placeholder: "Tên sách, tác giả, chủ đề hoặc ISBN",
    button: "Tìm",
    none: "Không tìm thấy sách nào. Hãy thử từ khóa ngắn hơn, có dấu hoặc không dấu đều được.",
    found: "kết quả",
    hint: "Gõ có dấu hoặc không dấu: \u{201c}nguyen du\u{201d} cũng tìm được \u{201c}Nguyễn Du\u{201d}.",
    switch_label: "English",
    switch_lang: "en",
};

const EN: Words = Words {
    lang: "en",
    title: "Find a book",
    placeholder: "Title, author, subject or ISBN",
    button: "Search",
    none: "No books found. Try fewer words; with or without Vietnamese accents both work.",
    found: "results",
    hint: "Type with or without accents: \u{201c}nguyen du\u{201d} finds \u{201c}Nguyễn Du\u{201d}.",
    switch_label: "Tiếng Việt",
    switch_lang: "vi",
};

pub fn get(state: &AppState, params: &Params) -> warp::reply::Response {
    let words = match params.get("lang").map(String::as_str) {
        Some("en") => &EN,
        _ => &VI,
    };
    let english = words.lang == "en";
    let (query, results, error) = match parse(params) {
        Ok((text, _)) if text.is_empty() => (text, Ok(None), None),
        Ok((text, limit)) => {
            let found = find(state, &text, limit);
            (text, found.map(Some), None)
        }
        Err(e) => (String::new(), Ok(None), Some(e)),
    };
    let (results, status, message) = match (results, error) {
        (_, Some(e)) => (None, e.status(), Some(e.message(english))),
        (Err(e), None) => (None, e.status(), Some(e.message(english))),
        (Ok(found), None) => (found, StatusCode::OK, None),
    };
    let page = render(words, &query, results.as_deref(), message.as_deref());
    warp::reply::with_status(warp::reply::html(page), status).into_response()
}

fn render(
    words: &Words,
    query: &str,
    results: Option<&[RecordRow]>,
    error: Option<&str>,
) -> String {
    let q = escape(query);
    let mut page = String::with_capacity(4096);
    let _ = write!(
        page,
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} — Tủ Sách</title>\
<link rel=\"stylesheet\" href=\"/static/tusach.css?v={version}\"></head><body>\
<nav><a href=\"/search?q={q}&amp;lang={switch}\">{switch_label}</a></nav>\
<h1>{title}</h1>\
<form action=\"/search\" method=\"get\" role=\"search\">\
<input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"{placeholder}\" aria-label=\"{placeholder}\" autofocus>\
<input type=\"hidden\" name=\"lang\" value=\"{lang}\"><button type=\"submit\">{button}</button></form>",
        lang = words.lang,
        title = words.title,
        version = super::assets::etag("tusach.css")
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned(),
        switch = words.switch_lang,
        switch_label = words.switch_label,
        placeholder = words.placeholder,
        button = words.button,
    );
    match (error, results) {
        (Some(message), _) => {
            let _ = write!(page, "<p role=\"alert\">{}</p>", escape(message));
        }
        (None, None) => {
            let _ = write!(page, "<p class=\"hint\">{}</p>", words.hint);
        }
        (None, Some([])) => {
            let _ = write!(page, "<p>{}</p>", words.none);
        }
        (None, Some(found)) => {
            let _ = write!(page, "<p>{} {}</p><ol>", found.len(), words.found);
            for record in found {
                let _ = write!(
                    page,
                    "<li><strong>{}</strong><br><span class=\"who\">{}</span><br>\
<span class=\"meta\">{} {} · DDC {}{}</span></li>",
                    escape(&record.title),
                    escape(&record.authors.join(", ")),
                    escape(&record.publisher),
                    record.year.map(|y| y.to_string()).unwrap_or_default(),
                    escape(record.ddc.as_deref().unwrap_or("")),
                    record
                        .isbn
                        .as_deref()
                        .map(|i| format!(" · ISBN {}", escape(i)))
                        .unwrap_or_default(),
                );
            }
            page.push_str("</ol>");
        }
    }
    page.push_str("</body></html>");
    page
}
