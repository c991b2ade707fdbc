//! The readers' pages (no login, phone first, no JavaScript): search with facets, a record's
//! page with where to find it, new arrivals, and the reserve form; and the JSON catalogue
//! `/api/records` and `/api/records/{id}`.

mod new_get;
mod record_get;
mod record_reserve;
pub mod records_search;
mod search_page;

use std::collections::HashMap;
use std::sync::Arc;

use warp::filters::BoxedFilter;

use super::route::any_of;
use warp::Filter;

use super::i18n::Lang;
use super::layout::Frame;
use super::{AppState, PageRequest, Params, blocking, form_body, page_request, with_state};
use crate::holdings::ShelfAvailability;

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let records = warp::path!("api" / "records")
        .and(warp::get())
        .and(warp::query::<Params>())
        .and(with_state(state.clone()))
        .and_then(|params: Params, state: Arc<AppState>| {
            blocking(move || records_search::get(&state, &params))
        })
        .boxed();
    let record_json = warp::path!("api" / "records" / String)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|id: String, state: Arc<AppState>| {
            blocking(move || record_get::get_json(&state, &id))
        })
        .boxed();
    let search = warp::path!("search")
        .and(warp::get())
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|request: PageRequest, state: Arc<AppState>| {
            blocking(move || search_page::get(&state, &request))
        })
        .boxed();
    let record = warp::path!("records" / String)
        .and(warp::get())
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|id: String, request: PageRequest, state: Arc<AppState>| {
            blocking(move || record_get::get(&state, &request, &id))
        })
        .boxed();
    let reserve = warp::path!("records" / String / "reserve")
        .and(warp::post())
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|id: String, request, input, state: Arc<AppState>| {
            blocking(move || record_reserve::post(&state, &request, &id, &input))
        })
        .boxed();
    let new = warp::path!("new")
        .and(warp::get())
        .and(page_request())
        .and(with_state(state))
        .and_then(|request: PageRequest, state: Arc<AppState>| {
            blocking(move || new_get::get(&state, &request))
        })
        .boxed();
    any_of(vec![records, record_json, search, record, reserve, new])
}

/// The frame of a readers' page.
fn frame<'a>(state: &'a AppState, request: &'a PageRequest) -> Frame<'a> {
    Frame {
        lang: request.lang,
        library: &state.library.name,
        staff: None,
        clock_wrong: false,
        here: &request.here,
    }
}

/// A record id as it may appear in a path: what the catalogue makes, nothing else.
pub fn valid_record_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A language code as readers read it.
pub fn language_name(lang: Lang, code: &str) -> String {
    let key = match code {
        "vie" => "opac.language.vie",
        "eng" => "opac.language.eng",
        "fra" => "opac.language.fra",
        "rus" => "opac.language.rus",
        "zho" => "opac.language.zho",
        _ => return code.to_owned(),
    };
    lang.t(key).to_owned()
}

/// Library display names, read from the network scope; a library without a name shows its id.
pub fn library_names(
    state: &AppState,
    ids: impl IntoIterator<Item = String>,
) -> HashMap<String, String> {
    let ids: Vec<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return HashMap::new();
    }
    state
        .write(|store| crate::holdings::library_names(store, ids.clone()))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(|| ids.into_iter().map(|id| (id.clone(), id)).collect())
}

/// "2 trên giá, 1 đang cho mượn (hạn 12/12)": one shelf's copies in words (not escaped).
pub fn availability_words(lang: Lang, shelf: &ShelfAvailability) -> String {
    let mut parts = Vec::new();
    if shelf.on_shelf > 0 {
        parts.push(format!(
            "{} {}",
            shelf.on_shelf,
            lang.t("opac.avail.on_shelf")
        ));
    }
    if shelf.reading_room > 0 {
        parts.push(format!(
            "{} {}",
            shelf.reading_room,
            lang.t("opac.avail.reading_room")
        ));
    }
    if shelf.on_loan > 0 {
        let due = shelf
            .next_due
            .map(|d| format!(" ({} {})", lang.t("opac.avail.due"), d.format("%d/%m")))
            .unwrap_or_default();
        parts.push(format!(
            "{} {}{due}",
            shelf.on_loan,
            lang.t("opac.avail.on_loan")
        ));
    }
    parts.join(", ")
}

/// OpenAPI path items of the readers' JSON endpoints.
pub fn openapi_paths() -> serde_json::Value {
    let error = serde_json::json!({"$ref": "#/components/schemas/Error"});
    let count_list = |value_type: &str| {
        serde_json::json!({"type": "array", "items": {"type": "object", "required": ["value", "count"], "properties": {
            "value": {"type": value_type}, "count": {"type": "integer"}
        }}})
    };
    serde_json::json!({
        "/api/records": {
            "get": {
                "summary": "Search the catalogue, with facets",
                "description": "Diacritic-insensitive, prefix search over titles, authors, subjects and publishers; accented queries rank exact forms first; 10 or 13 digits are looked up as an ISBN, a copy's barcode finds its record. With `facets=1` or any filter, the answer also has facets (decade, language, subject, library holding a copy) counted over the best 150 matches after filtering, `total`, and `capped` (the query matched more); without, only the ranked records, which is faster.",
                "parameters": [
                    {"name": "q", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 200}, "description": "What the reader typed; empty gives no results."},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                    {"name": "facets", "in": "query", "required": false, "schema": {"type": "string", "enum": ["1"]}, "description": "Count facets even without a filter."},
                    {"name": "year", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1000, "maximum": 2100}, "description": "Only records of this year's decade (1990 = 1990–1999)."},
                    {"name": "language", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 8}, "description": "ISO 639-2 code, e.g. vie."},
                    {"name": "subject", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 120}},
                    {"name": "library", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 40}, "description": "A library id: records with a copy there."}
                ],
                "responses": {
                    "200": {
                        "description": "Matching records, best first, and the facets of all matches.",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["query", "count", "records"],
                            "properties": {
                                "query": {"type": "string"},
                                "count": {"type": "integer", "description": "Records in this answer."},
                                "total": {"type": "integer", "description": "Matching records after filtering (within the first 150 matches); with facets only."},
                                "capped": {"type": "boolean"},
                                "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                                "facets": {"type": "object", "properties": {
                                    "decades": count_list("integer"),
                                    "languages": count_list("string"),
                                    "subjects": count_list("string"),
                                    "libraries": count_list("string")
                                }}
                            }
                        }}}
                    },
                    "400": {"description": "The query, limit or a filter is not acceptable.", "content": {"application/json": {"schema": error}}}
                }
            }
        },
        "/api/records/{id}": {
            "get": {
                "summary": "One record and where its copies are",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 64}}],
                "responses": {
                    "200": {
                        "description": "The record, its summary and availability per library and shelf.",
                        "content": {"application/json": {"schema": {"allOf": [
                            {"$ref": "#/components/schemas/Record"},
                            {"type": "object", "properties": {
                                "summary": {"type": "string", "nullable": true},
                                "availability": {"type": "array", "items": {"type": "object",
                                    "required": ["library", "library_name", "shelf", "on_shelf", "reading_room", "on_loan"],
                                    "properties": {
                                        "library": {"type": "string"},
                                        "library_name": {"type": "string"},
                                        "shelf": {"type": "string"},
                                        "on_shelf": {"type": "integer"},
                                        "reading_room": {"type": "integer", "description": "On the shelf, to read in the library only."},
                                        "on_loan": {"type": "integer"},
                                        "next_due": {"type": "string", "format": "date", "nullable": true}
                                    }}}
                            }}
                        ]}}}
                    },
                    "404": {"description": "No such record.", "content": {"application/json": {"schema": error}}}
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_areas_describe_their_methods_of_one_path() {
        let doc = crate::http::openapi::document();
        let paths = &doc["paths"];
        assert!(paths["/api/records"]["get"].is_object(), "{paths}");
        assert!(paths["/api/records"]["post"].is_object(), "{paths}");
        assert!(paths["/api/records/{id}"]["get"].is_object());
        assert!(paths["/api/copies"]["post"].is_object());
    }

    #[test]
    fn a_shelf_in_words() {
        let shelf = ShelfAvailability {
            library: "xa-nghi-phu".into(),
            shelf: "Kệ 9".into(),
            on_shelf: 2,
            reading_room: 1,
            on_loan: 1,
            next_due: chrono::NaiveDate::from_ymd_opt(2026, 12, 12),
        };
        assert_eq!(
            availability_words(Lang::Vi, &shelf),
            "2 trên giá, 1 chỉ đọc tại chỗ, 1 đang cho mượn (hạn 12/12)"
        );
        assert_eq!(
            availability_words(Lang::En, &shelf),
            "2 on the shelf, 1 for reading in the library only, 1 on loan (due 12/12)"
        );
        assert!(valid_record_id("rec-00000001"));
        assert!(!valid_record_id("../etc"));
        assert!(!valid_record_id(""));
    }
}
