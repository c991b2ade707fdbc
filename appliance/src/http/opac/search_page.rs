//! `GET /search?q=TEXT&year=&language=&subject=&library=`: the readers' search page. Plain
//! HTML and a few lines of CSS, no JavaScript, so the first load on a cheap phone is a few
//! kilobytes. Results link to record pages; facets (in a `<details>` that opens without
//! script) narrow them by decade, language, subject and library.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::records_search::{find, parse, parse_filters};
use super::{frame, language_name, library_names};
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::layout;
use crate::http::{AppState, PageRequest, percent_encode};
use crate::search::{Faceted, Filters};

pub fn get(state: &AppState, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let parsed = parse(&request.params).and_then(|(text, limit)| {
        let filters = parse_filters(&request.params)?;
        Ok((text, limit, filters))
    });
    let (query, filters, results, status, message) = match parsed {
        Ok((text, _, filters)) if text.is_empty() => (text, filters, None, StatusCode::OK, None),
        Ok((text, limit, filters)) => match find(state, &text, &filters, limit) {
            Ok(found) => (text, filters, Some(found), StatusCode::OK, None),
            Err(e) => (text, filters, None, e.status(), Some(e.lang_message(lang))),
        },
        Err(e) => (
            String::new(),
            Filters::default(),
            None,
            e.status(),
            Some(e.lang_message(lang)),
        ),
    };
    let body = render(
        state,
        lang,
        &query,
        &filters,
        results.as_ref(),
        message.as_deref(),
    );
    let html = layout::page(&frame(state, request), lang.t("opac.search.title"), &body);
    layout::reply(html, status, lang, request.lang_in_query)
}

/// The search link for `query` with `filters`.
fn link(query: &str, filters: &Filters) -> String {
    let mut href = format!("/search?q={}", percent_encode(query));
    if let Some(decade) = filters.decade {
        let _ = write!(href, "&year={decade}");
    }
    for (name, value) in [
        ("language", &filters.language),
        ("subject", &filters.subject),
        ("library", &filters.library),
    ] {
        if let Some(value) = value {
            let _ = write!(href, "&{name}={}", percent_encode(value));
        }
    }
    escape(&href)
}

fn render(
    state: &AppState,
    lang: Lang,
    query: &str,
    filters: &Filters,
    results: Option<&Faceted>,
    error: Option<&str>,
) -> String {
    let mut page = String::with_capacity(8192);
    let placeholder = lang.t("opac.search.placeholder");
    let _ = write!(
        page,
        "<h1>{title}</h1><form action=\"/search\" method=\"get\" role=\"search\">\
<input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"{placeholder}\" aria-label=\"{placeholder}\" autofocus>\
<button type=\"submit\">{button}</button></form>",
        title = lang.t("opac.search.title"),
        q = escape(query),
        button = lang.t("opac.search.button"),
    );
    let names = library_names(
        state,
        results
            .map(|r| {
                r.facets
                    .libraries
                    .iter()
                    .map(|(id, _)| id.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .chain(filters.library.clone()),
    );
    let library_name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    // Active filters, each with a link that removes it.
    let mut active = Vec::new();
    if let Some(decade) = filters.decade {
        active.push((
            format!("{decade}–{}", decade + 9),
            Filters {
                decade: None,
                ..filters.clone()
            },
        ));
    }
    if let Some(language) = &filters.language {
        active.push((
            language_name(lang, language),
            Filters {
                language: None,
                ..filters.clone()
            },
        ));
    }
    if let Some(subject) = &filters.subject {
        active.push((
            subject.clone(),
            Filters {
                subject: None,
                ..filters.clone()
            },
        ));
    }
    if let Some(library) = &filters.library {
        active.push((
            library_name(library),
            Filters {
                library: None,
                ..filters.clone()
            },
        ));
    }
    if !active.is_empty() && !query.is_empty() {
        let _ = write!(page, "<p class=\"chips\">{} ", lang.t("opac.facets.active"));
        for (label, without) in &active {
            let _ = write!(
                page,
                "<a class=\"chip\" href=\"{}\" aria-label=\"{} {}\">{} ×</a> ",
                link(query, without),
                lang.t("opac.facets.remove"),
                escape(label),
                escape(label),
            );
        }
        page.push_str("</p>");
    }
    match (error, results) {
        (Some(message), _) => {
            let _ = write!(
                page,
                "<p role=\"alert\" class=\"error\">{}</p>",
                escape(message)
            );
        }
        (None, None) => {
            let _ = write!(page, "<p class=\"hint\">{}</p>", lang.t("opac.search.hint"));
        }
        (None, Some(found)) if found.records.is_empty() => {
            let _ = write!(page, "<p>{}</p>", lang.t("opac.search.none"));
        }
        (None, Some(found)) => {
            let _ = write!(
                page,
                "<p>{} {}{}</p>",
                found.total,
                lang.t("opac.search.found"),
                if found.capped {
                    format!(
                        " <span class=\"meta\">({})</span>",
                        lang.t("opac.search.capped")
                    )
                } else {
                    String::new()
                }
            );
            facets(&mut page, lang, query, filters, found, &library_name);
            page.push_str("<ol class=\"results\">");
            for record in &found.records {
                let _ = write!(
                    page,
                    "<li><a href=\"/records/{id}\"><strong>{title}</strong></a><br><span class=\"who\">{who}</span><br>\
<span class=\"meta\">{publisher} {year} · DDC {ddc}{isbn}</span></li>",
                    id = percent_encode(&record.id),
                    title = escape(&record.title),
                    who = escape(&record.authors.join(", ")),
                    publisher = escape(&record.publisher),
                    year = record.year.map(|y| y.to_string()).unwrap_or_default(),
                    ddc = escape(record.ddc.as_deref().unwrap_or("")),
                    isbn = record
                        .isbn
                        .as_deref()
                        .map(|i| format!(" · ISBN {}", escape(i)))
                        .unwrap_or_default(),
                );
            }
            page.push_str("</ol>");
        }
    }
    page
}

/// A facet value's label, its count, and the filters that choose it.
type FacetLink = (String, usize, Filters);

fn facets(
    page: &mut String,
    lang: Lang,
    query: &str,
    filters: &Filters,
    found: &Faceted,
    library_name: &dyn Fn(&str) -> String,
) {
    let mut groups: Vec<(&str, Vec<FacetLink>)> = Vec::new();
    if filters.decade.is_none() && !found.facets.decades.is_empty() {
        groups.push((
            lang.t("opac.facets.decade"),
            found
                .facets
                .decades
                .iter()
                .map(|(d, n)| {
                    (
                        format!("{d}–{}", d + 9),
                        *n,
                        Filters {
                            decade: Some(*d),
                            ..filters.clone()
                        },
                    )
                })
                .collect(),
        ));
    }
    if filters.language.is_none() && !found.facets.languages.is_empty() {
        groups.push((
            lang.t("opac.facets.language"),
            found
                .facets
                .languages
                .iter()
                .map(|(l, n)| {
                    (
                        language_name(lang, l),
                        *n,
                        Filters {
                            language: Some(l.clone()),
                            ..filters.clone()
                        },
                    )
                })
                .collect(),
        ));
    }
    if filters.subject.is_none() && !found.facets.subjects.is_empty() {
        groups.push((
            lang.t("opac.facets.subject"),
            found
                .facets
                .subjects
                .iter()
                .map(|(s, n)| {
                    (
                        s.clone(),
                        *n,
                        Filters {
                            subject: Some(s.clone()),
                            ..filters.clone()
                        },
                    )
                })
                .collect(),
        ));
    }
    if filters.library.is_none() && !found.facets.libraries.is_empty() {
        groups.push((
            lang.t("opac.facets.library"),
            found
                .facets
                .libraries
                .iter()
                .map(|(l, n)| {
                    (
                        library_name(l),
                        *n,
                        Filters {
                            library: Some(l.clone()),
                            ..filters.clone()
                        },
                    )
                })
                .collect(),
        ));
    }
    if groups.is_empty() {
        return;
    }
    let _ = write!(
        page,
        "<details class=\"facets\"><summary>{}</summary>",
        lang.t("opac.facets.title")
    );
    for (title, items) in groups {
        let _ = write!(page, "<h2>{title}</h2><p>");
        for (label, count, narrowed) in items {
            let _ = write!(
                page,
                "<a class=\"chip\" href=\"{}\">{} ({count})</a> ",
                link(query, &narrowed),
                escape(&label),
            );
        }
        page.push_str("</p>");
    }
    page.push_str("</details>");
}
