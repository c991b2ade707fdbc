//! The web server's routes. This is the only module that knows JSON and HTML: handlers parse
//! the request, call the library, and render what comes back. One file per resource action.
//!
//! - `GET /healthz` — [`health`]
//! - `GET /api/records?q=TEXT&limit=N` — [`records_search`]
//! - `GET /search?q=TEXT&lang=vi|en` — [`search_page`], the readers' page (no JavaScript)
//! - `GET /api/openapi.json` — [`openapi`]
//! - `GET /static/PATH` — [`assets`]: `web-ui/static`, embedded, with ETag and gzip
//!
//! Searches read through their own read-only SQLite connection, so readers never wait behind a
//! write (WAL lets readers and the one writer proceed together).

mod assets;
mod health;
mod html;
mod openapi;
mod records_search;
mod search_page;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use tusach_sync::DeviceId;
use warp::Filter;
use warp::http::StatusCode;

/// What the handlers share.
pub struct AppState {
    pub device: DeviceId,
    reader: Mutex<Connection>,
}

impl AppState {
    /// Opens a read-only connection on the appliance database for searches.
    pub fn open(database: &Path, device: DeviceId) -> rusqlite::Result<AppState> {
        let reader = Connection::open_with_flags(
            database,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(AppState {
            device,
            reader: Mutex::new(reader),
        })
    }

    fn with_reader<T>(&self, read: impl FnOnce(&Connection) -> T) -> Result<T, ApiError> {
        let conn = self.reader.lock().map_err(|_| ApiError::Unavailable)?;
        Ok(read(&conn))
    }
}

/// Errors a handler returns, each with its status and a sentence for people.
#[derive(Debug)]
pub enum ApiError {
    BadRequest { vi: String, en: String },
    Unavailable,
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message in Vietnamese (the default) or English.
    fn message(&self, english: bool) -> String {
        match (self, english) {
            (ApiError::BadRequest { en, .. }, true) => en.clone(),
            (ApiError::BadRequest { vi, .. }, false) => vi.clone(),
            (ApiError::Unavailable, true) => "The library is busy; try again in a moment.".into(),
            (ApiError::Unavailable, false) => {
                "Thư viện đang bận, vui lòng thử lại sau giây lát.".into()
            }
            (ApiError::Internal(_), true) => {
                "Something went wrong; the librarian can check the log.".into()
            }
            (ApiError::Internal(_), false) => {
                "Đã xảy ra lỗi; thủ thư có thể xem nhật ký hệ thống.".into()
            }
        }
    }
}

/// The one place errors become HTTP responses for the JSON API.
fn json_error(error: &ApiError) -> warp::reply::Response {
    if let ApiError::Internal(detail) = error {
        eprintln!("http: internal error: {detail}");
    }
    let body = serde_json::json!({
        "error": error.message(false),
        "error_en": error.message(true),
    });
    warp::reply::with_status(warp::reply::json(&body), error.status()).into_response()
}

use warp::Reply;

type Params = HashMap<String, String>;

/// All routes of the appliance.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let state = warp::any().map(move || state.clone());
    let health = warp::path!("healthz")
        .and(warp::get())
        .and(state.clone())
        .map(|state: Arc<AppState>| health::get(&state));
    let records = warp::path!("api" / "records")
        .and(warp::get())
        .and(warp::query::<Params>())
        .and(state.clone())
        .map(|params: Params, state: Arc<AppState>| records_search::get(&state, &params));
    let openapi = warp::path!("api" / "openapi.json")
        .and(warp::get())
        .map(openapi::get);
    let search = warp::path!("search")
        .and(warp::get())
        .and(warp::query::<Params>())
        .and(state)
        .map(|params: Params, state: Arc<AppState>| search_page::get(&state, &params));
    let assets = warp::path("static")
        .and(warp::path::tail())
        .and(warp::get())
        .and(warp::header::optional::<String>("if-none-match"))
        .and(warp::header::optional::<String>("accept-encoding"))
        .map(
            |tail: warp::path::Tail, etag: Option<String>, encodings: Option<String>| {
                assets::get(tail.as_str(), etag, encodings)
            },
        );
    let home = warp::path::end()
        .and(warp::get())
        .map(|| warp::redirect::see_other(warp::http::Uri::from_static("/search")).into_response());
    health
        .or(records)
        .unify()
        .or(openapi)
        .unify()
        .or(search)
        .unify()
        .or(assets)
        .unify()
        .or(home)
        .unify()
}
