//! `GET /staff/catalogue?q=ISBN-or-title` and `GET /staff/catalogue?record=ID`: copy
//! cataloguing. Find the record in the union catalogue (scan the ISBN or type the title), pick
//! it with "Dùng biểu ghi này", scan the copies' barcodes; only when nothing matches, the form
//! for a new record.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::frame;
use crate::cataloguing::ITEM_TYPES;
use crate::db::{self, RecordRow};
use crate::holdings::suggested_shelf;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::layout;
use crate::http::opac::valid_record_id;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};
use crate::search::{self, SearchQuery};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let param = |name: &str| {
        request
            .params
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let query: String = param("q").unwrap_or("").chars().take(200).collect();
    let mut body = format!(
        "<h1>{title}</h1><form action=\"/staff/catalogue\" method=\"get\" role=\"search\">\
<input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"{placeholder}\" aria-label=\"{placeholder}\" {focus}>\
<button type=\"submit\">{button}</button></form>",
        title = lang.t("cat.title"),
        q = escape(&query),
        placeholder = lang.t("cat.search.placeholder"),
        button = lang.t("cat.search.button"),
        focus = if param("record").is_none() {
            "autofocus"
        } else {
            ""
        },
    );
    let result = match param("record") {
        Some(record) => record_section(state, staff, request, &mut body, record),
        None if !query.is_empty() => results_section(state, lang, &mut body, &query, staff),
        None => {
            let _ = write!(
                body,
                "<p class=\"hint\">{}</p><p><a href=\"/staff/catalogue/labels\">{}</a></p>\
<p><a href=\"/staff/catalogue/import\">{}</a></p>",
                lang.t("cat.search.hint"),
                lang.t("labels.spine.link"),
                lang.t("import.link")
            );
            Ok(())
        }
    };
    let frame = frame(state, staff, &request.here, request);
    match result {
        Ok(()) => {
            let html = layout::page(&frame, lang.t("cat.title"), &body);
            layout::reply(html, StatusCode::OK, lang, request.lang_in_query)
        }
        Err(error) => {
            let html = layout::error_page(&frame, &error.lang_message(lang), "/staff/catalogue");
            layout::reply(html, error.status(), lang, request.lang_in_query)
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn record_line(r: &RecordRow) -> String {
    format!(
        "<strong>{}</strong><br><span class=\"who\">{}</span><br><span class=\"meta\">{} {} · DDC {}{}</span>",
        escape(&r.title),
        escape(&r.authors.join(", ")),
        escape(&r.publisher),
        r.year.map(|y| y.to_string()).unwrap_or_default(),
        escape(r.ddc.as_deref().unwrap_or("")),
        r.isbn
            .as_deref()
            .map(|i| format!(" · ISBN {}", escape(i)))
            .unwrap_or_default(),
    )
}

fn results_section(
    state: &AppState,
    lang: Lang,
    body: &mut String,
    query: &str,
    staff: &Staff,
) -> Result<(), ApiError> {
    let found = state
        .read(|conn| {
            search::search(
                conn,
                &SearchQuery {
                    text: query,
                    limit: 20,
                },
            )
        })?
        .map_err(internal)?;
    if found.is_empty() {
        let _ = write!(body, "<p>{}</p>", lang.t("cat.search.none"));
        new_record_form(lang, body, query, staff);
        return Ok(());
    }
    let _ = write!(body, "<ol class=\"results\">");
    for r in &found {
        let _ = write!(
            body,
            "<li>{}<br><a class=\"button\" href=\"/staff/catalogue?record={}\">{}</a></li>",
            record_line(r),
            percent_encode(&r.id),
            lang.t("cat.use_record"),
        );
    }
    body.push_str("</ol>");
    Ok(())
}

fn new_record_form(lang: Lang, body: &mut String, query: &str, staff: &Staff) {
    let (title, isbn) = match crate::cataloguing::isbn::normalise(query) {
        Some(isbn) => (String::new(), isbn),
        None if query.chars().all(|c| c.is_ascii_digit() || c == '-') => {
            (String::new(), query.to_owned())
        }
        None => (query.to_owned(), String::new()),
    };
    let input = |name: &str, label: &str, value: &str, extra: &str| {
        format!(
            "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" value=\"{}\" {extra}>",
            escape(value)
        )
    };
    let area = |name: &str, label: &str| {
        format!(
            "<label for=\"{name}\">{label}</label><textarea id=\"{name}\" name=\"{name}\" rows=\"2\"></textarea>"
        )
    };
    let languages: String = ["vie", "eng", "fra", "rus", "zho"]
        .iter()
        .map(|code| {
            format!(
                "<option value=\"{code}\">{}</option>",
                escape(&crate::http::opac::language_name(lang, code))
            )
        })
        .collect();
    let _ = write!(
        body,
        "<h2>{heading}</h2><form method=\"post\" action=\"/staff/catalogue/records\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{title}{authors}{publisher}{year}{isbn}\
<label for=\"language\">{language}</label><select id=\"language\" name=\"language\">{languages}</select>\
{ddc}{subjects}{summary}<button type=\"submit\">{button}</button></form>",
        heading = lang.t("cat.new.title"),
        csrf = escape(&staff.csrf),
        title = input(
            "title",
            lang.t("cat.new.record_title"),
            &title,
            "required maxlength=\"300\""
        ),
        authors = area("authors", lang.t("cat.new.authors")),
        publisher = input(
            "publisher",
            lang.t("cat.new.publisher"),
            "",
            "maxlength=\"120\""
        ),
        year = input(
            "year",
            lang.t("cat.new.year"),
            "",
            "inputmode=\"numeric\" maxlength=\"4\""
        ),
        isbn = input(
            "isbn",
            "ISBN",
            &isbn,
            "inputmode=\"numeric\" maxlength=\"20\""
        ),
        language = lang.t("cat.new.language"),
        ddc = input("ddc", "DDC", "", "inputmode=\"decimal\" maxlength=\"20\""),
        subjects = area("subjects", lang.t("cat.new.subjects")),
        summary = area("summary", lang.t("cat.new.summary")),
        button = lang.t("cat.new.button"),
    );
}

fn record_section(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    body: &mut String,
    id: &str,
) -> Result<(), ApiError> {
    let lang = request.lang;
    let not_found = || ApiError::NotFound {
        vi: format!("Không có biểu ghi {id}."),
        en: format!("There is no record {id}."),
    };
    if !valid_record_id(id) {
        return Err(not_found());
    }
    let scope = state.desk.scope().as_str().to_owned();
    let (record, copies, shelves) = state
        .read(|conn| -> rusqlite::Result<_> {
            Ok((
                db::record_by_id(conn, id)?,
                db::holdings_of_record(conn, id)?,
                db::shelves_of_scope(conn, &scope)?,
            ))
        })?
        .map_err(internal)?;
    let record = record.ok_or_else(not_found)?;
    let here: Vec<_> = copies.iter().filter(|c| c.copy.scope == scope).collect();
    let param = |name: &str| {
        request
            .params
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    if param("created").is_some() {
        let _ = write!(
            body,
            "<p class=\"ok\" role=\"status\">{}</p>",
            lang.t("cat.created")
        );
    }
    if let Some(added) = param("added").and_then(|n| n.parse::<usize>().ok()) {
        let _ = write!(
            body,
            "<p class=\"ok\" role=\"status\">{} {}</p>",
            lang.t("cat.added"),
            added
        );
    }
    let _ = write!(
        body,
        "<h2>{}</h2><p>{}<br><a href=\"/records/{}\">{}</a> · <a href=\"/staff/catalogue/records/{}\">{}</a></p>",
        lang.t("cat.record"),
        record_line(&record),
        percent_encode(&record.id),
        lang.t("cat.readers_view"),
        percent_encode(&record.id),
        lang.pick("Sửa hoặc gộp biểu ghi", "Edit or merge the record"),
    );
    let _ = write!(
        body,
        "<h3>{} ({})</h3>",
        lang.t("cat.copies_here"),
        here.len()
    );
    if !here.is_empty() {
        body.push_str("<ul>");
        for copy in &here {
            let _ = write!(
                body,
                "<li>{} — {} <span class=\"meta\">({})</span></li>",
                escape(&copy.copy.barcode),
                escape(&copy.copy.shelf),
                escape(&copy.copy.item_type),
            );
        }
        let _ = write!(
            body,
            "</ul><p><a href=\"/staff/catalogue/labels?record={}\">{}</a></p>",
            percent_encode(&record.id),
            lang.t("labels.spine.link")
        );
    }
    let shelf = param("shelf")
        .map(str::to_owned)
        .or_else(|| here.first().map(|c| c.copy.shelf.clone()))
        .unwrap_or_else(|| suggested_shelf(record.ddc.as_deref().unwrap_or(""), "book"));
    let chosen_type = param("item_type")
        .filter(|t| ITEM_TYPES.contains(t))
        .unwrap_or("book");
    let type_label = |t: &str| match t {
        "book" => lang.t("cat.type.book"),
        "reference" => lang.t("cat.type.reference"),
        "periodical" => lang.t("cat.type.periodical"),
        _ => lang.t("cat.type.av"),
    };
    let chosen_label = type_label(chosen_type);
    let types: String = ITEM_TYPES
        .iter()
        .map(|t| {
            let label = type_label(t);
            let selected = if *t == chosen_type { " selected" } else { "" };
            format!("<option value=\"{t}\"{selected}>{label}</option>")
        })
        .collect();
    let options: String = shelves
        .iter()
        .map(|s| format!("<option value=\"{}\">", escape(s)))
        .collect();
    // One at a time: the scanner types the code and Enter, the page comes back ready for the
    // next, with the same shelf and item type.
    let _ = write!(
        body,
        "<h3>{heading}</h3><form method=\"post\" action=\"/staff/catalogue/copies\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"record\" value=\"{id}\">\
<input type=\"hidden\" name=\"shelf\" value=\"{shelf}\"><input type=\"hidden\" name=\"item_type\" value=\"{item_type}\">\
<input type=\"search\" name=\"barcodes\" aria-label=\"{label}\" placeholder=\"{label}\" autofocus required \
autocomplete=\"off\" autocapitalize=\"characters\" maxlength=\"32\"><button type=\"submit\">{button}</button></form>\
<p class=\"meta\">{shelf} · {item_label}</p>",
        heading = lang.t("cat.add.one"),
        csrf = escape(&staff.csrf),
        id = escape(&record.id),
        shelf = escape(&shelf),
        item_type = escape(chosen_type),
        label = lang.t("cat.add.one_label"),
        button = lang.t("cat.add.button"),
        item_label = escape(chosen_label),
    );
    let _ = write!(
        body,
        "<h3>{heading}</h3><form method=\"post\" action=\"/staff/catalogue/copies\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"record\" value=\"{id}\">\
<label for=\"barcodes\">{barcodes}</label><textarea id=\"barcodes\" name=\"barcodes\" rows=\"4\" required \
autocomplete=\"off\" autocapitalize=\"characters\"></textarea>\
<label for=\"shelf\">{shelf_label}</label><input id=\"shelf\" name=\"shelf\" value=\"{shelf}\" list=\"shelves\" maxlength=\"60\">\
<datalist id=\"shelves\">{options}</datalist>\
<label for=\"item_type\">{type_label}</label><select id=\"item_type\" name=\"item_type\">{types}</select>\
<button type=\"submit\">{button}</button></form>",
        heading = lang.t("cat.add.title"),
        csrf = escape(&staff.csrf),
        id = escape(&record.id),
        barcodes = lang.t("cat.add.barcodes"),
        shelf_label = lang.t("cat.add.shelf"),
        shelf = escape(&shelf),
        type_label = lang.t("cat.add.item_type"),
        button = lang.t("cat.add.button"),
    );
    Ok(())
}
