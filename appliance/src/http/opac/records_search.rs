//! `GET /api/records?q=TEXT&limit=N&year=&language=&subject=&library=`: catalogue records
//! matching what was typed, narrowed by facets, with the facet counts, as JSON.

use warp::Reply;

use crate::db::RecordRow;
use crate::http::{ApiError, AppState, Params, json_error};
use crate::search::{self, Faceted, Filters};

/// Default and largest page of results.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
/// A query longer than this is not a search a person typed.
pub const MAX_QUERY_CHARS: usize = 200;

pub fn get(state: &AppState, params: &Params) -> warp::reply::Response {
    match run(state, params) {
        Ok(reply) => reply,
        Err(error) => json_error(&error),
    }
}

fn bad(vi: String, en: String) -> ApiError {
    ApiError::BadRequest { vi, en }
}

/// Reads and checks `q` and `limit`, shared with the readers' HTML page.
pub fn parse(params: &Params) -> Result<(String, usize), ApiError> {
    let text = params
        .get("q")
        .map(String::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(
            format!("Từ khóa tìm kiếm quá dài (tối đa {MAX_QUERY_CHARS} ký tự)."),
            format!("The search text is too long (at most {MAX_QUERY_CHARS} characters)."),
        ));
    }
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(bad(
                    format!("Giá trị limit phải là số từ 1 đến {MAX_LIMIT}."),
                    format!("limit must be a number from 1 to {MAX_LIMIT}."),
                ));
            }
        },
    };
    Ok((text, limit))
}

/// Reads the facet filters `year`, `language`, `subject` and `library`; blank means none.
pub fn parse_filters(params: &Params) -> Result<Filters, ApiError> {
    let text = |name: &str, max: usize, vi: &str, en: &str| -> Result<Option<String>, ApiError> {
        match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if v.chars().count() <= max && !v.contains(char::is_control) => {
                Ok(Some(v.to_owned()))
            }
            Some(_) => Err(bad(
                format!("Bộ lọc {vi} quá dài (tối đa {max} ký tự)."),
                format!("The {en} filter is too long (at most {max} characters)."),
            )),
        }
    };
    let decade = match params
        .get("year")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(year) if (1000..=2100).contains(&year) => Some(year - year.rem_euclid(10)),
            _ => {
                return Err(bad(
                    "Năm phải là một số từ 1000 đến 2100.".into(),
                    "year must be a number from 1000 to 2100.".into(),
                ));
            }
        },
    };
    Ok(Filters {
        decade,
        language: text("language", 8, "ngôn ngữ", "language")?,
        subject: text("subject", 120, "chủ đề", "subject")?,
        library: text("library", 40, "thư viện", "library")?,
    })
}

pub fn find(
    state: &AppState,
    text: &str,
    filters: &Filters,
    limit: usize,
) -> Result<Faceted, ApiError> {
    state
        .read(|conn| search::search_faceted(conn, text, filters, limit))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn run(state: &AppState, params: &Params) -> Result<warp::reply::Response, ApiError> {
    let (text, limit) = parse(params)?;
    let filters = parse_filters(params)?;
    let unfiltered = filters.decade.is_none()
        && filters.language.is_none()
        && filters.subject.is_none()
        && filters.library.is_none();
    if unfiltered && params.get("facets").is_none_or(|f| f != "1") {
        // The common case (a phone searching as the reader types): the ranked search alone,
        // without reading the best matches' rows to count facets.
        let records = state
            .read(|conn| search::search(conn, &search::SearchQuery { text: &text, limit }))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let body = serde_json::json!({
            "query": text,
            "count": records.len(),
            "records": records.iter().map(record_json).collect::<Vec<_>>(),
        });
        return Ok(warp::reply::json(&body).into_response());
    }
    let found = find(state, &text, &filters, limit)?;
    let pairs = |list: &[(String, usize)]| {
        list.iter()
            .map(|(value, count)| serde_json::json!({"value": value, "count": count}))
            .collect::<Vec<_>>()
    };
    let body = serde_json::json!({
        "query": text,
        "count": found.records.len(),
        "total": found.total,
        "capped": found.capped,
        "records": found.records.iter().map(record_json).collect::<Vec<_>>(),
        "facets": {
            "decades": found.facets.decades.iter()
                .map(|(value, count)| serde_json::json!({"value": value, "count": count}))
                .collect::<Vec<_>>(),
            "languages": pairs(&found.facets.languages),
            "subjects": pairs(&found.facets.subjects),
            "libraries": pairs(&found.facets.libraries),
        },
    });
    Ok(warp::reply::json(&body).into_response())
}

pub fn record_json(r: &RecordRow) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "title": r.title,
        "authors": r.authors,
        "publisher": r.publisher,
        "year": r.year,
        "isbn": r.isbn,
        "language": r.language,
        "ddc": r.ddc,
        "subjects": r.subjects,
    })
}
