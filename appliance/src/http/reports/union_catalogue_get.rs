//! `GET /staff/district/catalogue?q=TEXT`: the union catalogue. The same search as the
//! readers' (diacritics optional), and for each title found, every library holding a copy
//! with how many are on the shelf, for reading there, or out. The staff at the hub answer
//! "which commune has this book?" from here, and a record's own page shows the shelves.

use std::fmt::Write as _;

use super::{internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{AppState, PageRequest, percent_encode};
use crate::reports::district::{LibraryCopies, TitleHoldings, union_holdings};
use crate::search::{self, SearchQuery};

/// Titles shown for one search: a union catalogue is for finding a book, not browsing.
const MAX_TITLES: usize = 50;
/// The longest search text taken (longer is cut, as the readers' search does).
const MAX_QUERY_CHARS: usize = 200;

/// "Thư viện xã A: 2 trên giá, 1 đang cho mượn" (not escaped).
fn copies_words(lang: Lang, name: &str, copies: &LibraryCopies) -> String {
    let mut parts = Vec::new();
    for (count, key) in [
        (copies.on_shelf, "opac.avail.on_shelf"),
        (copies.reading_room, "opac.avail.reading_room"),
        (copies.on_loan, "opac.avail.on_loan"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {}", lang.t(key)));
        }
    }
    format!("{name}: {}", parts.join(", "))
}

fn results(
    html: &mut String,
    lang: Lang,
    titles: &[TitleHoldings],
    names: &std::collections::HashMap<String, String>,
) {
    if titles.is_empty() {
        let _ = write!(html, "<p>{}</p>", lang.t("district.catalogue_none"));
        return;
    }
    let _ = write!(
        html,
        "<table data-union><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("district.title_column"),
        lang.t("district.where"),
    );
    for title in titles {
        let record = &title.record;
        let byline = [
            record.authors.join(", "),
            record.year.map(|y| y.to_string()).unwrap_or_default(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
        let _ = write!(
            html,
            "<tr data-record=\"{id}\"><td><a href=\"/records/{link}\">{title}</a><br><small>{byline}</small></td><td>",
            id = escape(&record.id),
            link = percent_encode(&record.id),
            title = escape(&record.title),
            byline = escape(&byline),
        );
        if title.libraries.is_empty() {
            let _ = write!(html, "{}", lang.t("district.no_copy"));
        }
        for (library, copies) in &title.libraries {
            let name = names.get(library).map_or(library.as_str(), String::as_str);
            let available = if copies.on_shelf + copies.reading_room > 0 {
                " class=\"available\""
            } else {
                ""
            };
            let _ = write!(
                html,
                "<div data-library=\"{}\"{available}>{}</div>",
                escape(library),
                escape(&copies_words(lang, name, copies))
            );
        }
        html.push_str("</td></tr>");
    }
    html.push_str("</tbody></table>");
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let query: String = request
        .params
        .get("q")
        .map(|q| q.trim().chars().take(MAX_QUERY_CHARS).collect())
        .unwrap_or_default();
    let page = (|| -> Result<(String, String), crate::http::ApiError> {
        let title = lang.t("district.catalogue").to_owned();
        let mut html = format!(
            "<h1>{}</h1><form method=\"get\" action=\"/staff/district/catalogue\" role=\"search\">\
             <label>{} <input type=\"search\" name=\"q\" value=\"{}\" autofocus></label> <button type=\"submit\">{}</button></form>",
            escape(&title),
            lang.t("district.search_label"),
            escape(&query),
            lang.t("district.search"),
        );
        if !query.is_empty() {
            let titles = state
                .read(|conn| {
                    let found = search::search(
                        conn,
                        &SearchQuery {
                            text: &query,
                            limit: MAX_TITLES,
                        },
                    )?;
                    Ok::<_, search::SearchError>(union_holdings(conn, found)?)
                })?
                .map_err(internal)?;
            let ids = titles
                .iter()
                .flat_map(|t| t.libraries.keys().cloned())
                .collect::<Vec<_>>();
            let names = crate::http::opac::library_names(state, ids);
            results(&mut html, lang, &titles, &names);
        }
        let _ = write!(
            html,
            "<p><a href=\"/staff/district\">{}</a></p>",
            lang.t("district.title")
        );
        Ok((title, html))
    })();
    render(state, staff, request, "/staff/district", page)
}
