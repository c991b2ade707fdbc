//! `GET /api/records?q=TEXT&limit=N`: catalogue records matching what was typed, as JSON.

use warp::Reply;

use super::{ApiError, AppState, Params, json_error};
use crate::db::RecordRow;
use crate::search::{self, SearchQuery};

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

/// Reads and checks `q` and `limit`, shared with the readers' HTML page.
pub fn parse(params: &Params) -> Result<(String, usize), ApiError> {
    let text = params
        .get("q")
        .map(String::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest {
            vi: format!("Từ khóa tìm kiếm quá dài (tối đa {MAX_QUERY_CHARS} ký tự)."),
            en: format!("The search text is too long (at most {MAX_QUERY_CHARS} characters)."),
        });
    }
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest {
                    vi: format!("Giá trị limit phải là số từ 1 đến {MAX_LIMIT}."),
                    en: format!("limit must be a number from 1 to {MAX_LIMIT}."),
                });
            }
        },
    };
    Ok((text, limit))
}

pub fn find(state: &AppState, text: &str, limit: usize) -> Result<Vec<RecordRow>, ApiError> {
    state
        .read(|conn| search::search(conn, &SearchQuery { text, limit }))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn run(state: &AppState, params: &Params) -> Result<warp::reply::Response, ApiError> {
    let (text, limit) = parse(params)?;
    let records = find(state, &text, limit)?;
    let body = serde_json::json!({
        "query": text,
        "count": records.len(),
        "records": records.iter().map(record_json).collect::<Vec<_>>(),
    });
    Ok(warp::reply::json(&body).into_response())
}

fn record_json(r: &RecordRow) -> serde_json::Value {
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
