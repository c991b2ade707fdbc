//! The web server's routes. This is the only module that knows JSON and HTML: handlers parse
//! the request, call the library, and render what comes back. One file per resource action,
//! grouped by area; each area exports `routes(state)` and this module joins them.
//!
//! Readers (no login): `/search`, `/records/{id}`, `/new`, the JSON catalogue `/api/records`,
//! `/healthz`,
//! `/api/openapi.json`, `/static/…`. Staff (session cookie): `/staff/…` pages and the
//! state-changing JSON endpoints under `/api/…`.
//!
//! Handler shape: a route extracts what it needs with the filters below ([`with_state`],
//! [`page_request`], [`staff`], [`form_body`], [`json_body`]) and runs the handler with
//! [`blocking`], because the library does SQLite work (and fsyncs) that must not stall the
//! async runtime. Form posts check the CSRF field `csrf`, JSON posts the `X-CSRF-Token`
//! header ([`check_csrf`]). Rejections become clear 4xx answers in [`recover`].
//!
//! Reads go through a small pool of read-only SQLite connections (WAL lets them proceed while
//! the one writer commits); writes take the store, which the sync listener shares.

mod assets;
pub mod auth;
mod cataloguing;
mod desk;
mod health;
mod html;
pub mod i18n;
pub mod input;
mod labels;
pub mod layout;
mod opac;
mod openapi;
mod readers_pin;
mod reports;
mod route;
mod session;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use rusqlite::{Connection, OpenFlags};
use tusach_sync::{DeviceId, Store};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::accounts::{LoginLimiter, SessionBook, StaffDirectory};
use crate::circulation::library::Desk;
use crate::clock::WallClock;
use crate::home_library::HomeLibrary;
use auth::Staff;
use i18n::Lang;
use input::{Input, MAX_BODY_BYTES};

/// Read-only connections for queries; more than one so fifty phones searching at once do not
/// queue behind each other.
const READ_CONNECTIONS: usize = 4;

/// What the handlers share.
pub struct AppState {
    pub device: DeviceId,
    pub library: HomeLibrary,
    pub desk: Desk,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    store: Arc<Mutex<Store>>,
    clock: Mutex<WallClock>,
    /// The library's staff accounts.
    pub staff: StaffDirectory,
    /// Who is logged in on this appliance (in memory only).
    pub sessions: Mutex<SessionBook>,
    /// Failed logins per client address and username.
    pub login_limiter: Mutex<LoginLimiter>,
    /// Sessions whose account was checked against the store moments ago, by CSRF token
    /// (see `auth::authenticate`).
    pub recent_staff_checks: Mutex<HashMap<String, (std::time::Instant, Staff)>>,
    /// Sessions with peers, for the sync status page.
    pub sync: Arc<crate::sync_service::SyncService>,
    /// Files uploaded on the import page, between its steps (in memory only).
    pub imports: Mutex<crate::imports::pending::PendingImports>,
}

impl AppState {
    /// Opens the read-only connections on the appliance database and takes the shared store.
    pub fn open(
        database: &Path,
        store: Arc<Mutex<Store>>,
        library: HomeLibrary,
        desk: Desk,
        sync: Arc<crate::sync_service::SyncService>,
    ) -> rusqlite::Result<AppState> {
        let (device, clock) = {
            let store = store.lock().map_err(|_| rusqlite::Error::InvalidQuery)?;
            (store.device_id(), WallClock::load(store.connection())?)
        };
        let readers = (0..READ_CONNECTIONS)
            .map(|_| {
                Connection::open_with_flags(
                    database,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map(Mutex::new)
            })
            .collect::<rusqlite::Result<_>>()?;
        let staff = StaffDirectory::new(&library.id)
            .map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))?;
        Ok(AppState {
            device,
            staff,
            sessions: Mutex::new(SessionBook::new()),
            login_limiter: Mutex::new(LoginLimiter::new()),
            recent_staff_checks: Mutex::new(HashMap::new()),
            sync,
            imports: Mutex::new(crate::imports::pending::PendingImports::new()),
            library,
            desk,
            readers,
            next_reader: AtomicUsize::new(0),
            store,
            clock: Mutex::new(clock),
        })
    }

    /// Runs a read on one of the read-only connections.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> T) -> Result<T, ApiError> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for n in 0..self.readers.len() {
            if let Ok(conn) = self.readers[(start + n) % self.readers.len()].try_lock() {
                return Ok(read(&conn));
            }
        }
        let conn = self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| ApiError::Unavailable)?;
        Ok(read(&conn))
    }

    /// Runs a write (or a read that needs the documents) on the store.
    pub fn write<T>(&self, write: impl FnOnce(&mut Store) -> T) -> Result<T, ApiError> {
        let mut store = self.store.lock().map_err(|_| ApiError::Unavailable)?;
        Ok(write(&mut store))
    }

    /// Today's date by the appliance's (corrected) clock; notes the reading as seen.
    pub fn today(&self) -> NaiveDate {
        let Ok(mut clock) = self.clock.lock() else {
            return chrono::Local::now().date_naive();
        };
        if let Ok(store) = self.store.try_lock() {
            let _ = clock.observe(store.connection());
        }
        clock.today()
    }

    /// Now by the appliance's (corrected) clock, for history entries: shown, never ordered by.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match self.clock.lock() {
            Ok(clock) => clock.now(),
            Err(_) => chrono::Utc::now(),
        }
    }

    /// True when the clock reads earlier than a time already seen (staff pages warn).
    pub fn clock_wrong(&self) -> bool {
        self.clock.lock().map(|c| c.implausible()).unwrap_or(false)
    }

    /// Takes a librarian's phone time as correct.
    pub fn set_clock(&self, phone: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
        let mut clock = self.clock.lock().map_err(|_| ApiError::Unavailable)?;
        self.write(|store| clock.set_from_phone(store.connection(), phone))?
            .map_err(|e| ApiError::Internal(e.to_string()))
    }
}

/// Errors a handler returns, each with its status and a sentence for people.
#[derive(Debug)]
pub enum ApiError {
    BadRequest {
        vi: String,
        en: String,
    },
    NotFound {
        vi: String,
        en: String,
    },
    /// The request is well formed but the library says no (a refused loan, say).
    Conflict {
        vi: String,
        en: String,
    },
    Forbidden,
    Unavailable,
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message in Vietnamese (the default) or English.
    pub fn message(&self, english: bool) -> String {
        let pick = |vi: &str, en: &str| {
            if english {
                en.to_owned()
            } else {
                vi.to_owned()
            }
        };
        match self {
            ApiError::BadRequest { vi, en }
            | ApiError::NotFound { vi, en }
            | ApiError::Conflict { vi, en } => pick(vi, en),
            ApiError::Forbidden => pick(
                "Phiên làm việc đã hết hạn hoặc biểu mẫu đã cũ. Hãy tải lại trang rồi thử lại.",
                "Your session expired or the form is stale. Reload the page and try again.",
            ),
            ApiError::Unavailable => pick(
                "Thư viện đang bận, vui lòng thử lại sau giây lát.",
                "The library is busy; try again in a moment.",
            ),
            ApiError::Internal(_) => pick(
                "Đã xảy ra lỗi; thủ thư có thể xem nhật ký hệ thống.",
                "Something went wrong; the librarian can check the log.",
            ),
        }
    }

    pub fn lang_message(&self, lang: Lang) -> String {
        self.message(lang.is_english())
    }
}

/// The one place errors become HTTP responses for the JSON API.
pub fn json_error(error: &ApiError) -> warp::reply::Response {
    if let ApiError::Internal(detail) = error {
        eprintln!("http: internal error: {detail}");
    }
    let body = serde_json::json!({
        "error": error.message(false),
        "error_en": error.message(true),
    });
    warp::reply::with_status(warp::reply::json(&body), error.status()).into_response()
}

/// A JSON answer with a status.
pub fn json_reply(status: StatusCode, body: &serde_json::Value) -> warp::reply::Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

pub type Params = HashMap<String, String>;

/// What every HTML page needs from its request.
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub lang: Lang,
    /// The query said `lang=…`: the reply remembers it in a cookie.
    pub lang_in_query: bool,
    pub params: Params,
    /// Path and query without `lang`, for the language switch and `next=` links.
    pub here: String,
    /// The session cookie, when there is one.
    pub session_cookie: Option<String>,
}

pub fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The language, query parameters and location of a page request.
pub fn page_request() -> impl Filter<Extract = (PageRequest,), Error = Rejection> + Clone {
    warp::path::full()
        .and(warp::query::<Params>())
        .and(warp::cookie::optional::<String>("lang"))
        .and(warp::cookie::optional::<String>(auth::SESSION_COOKIE))
        .map(
            |path: warp::path::FullPath,
             params: Params,
             cookie: Option<String>,
             session_cookie: Option<String>| {
                let lang = Lang::choose(params.get("lang").map(String::as_str), cookie.as_deref());
                let mut kept: Vec<(&String, &String)> = params
                    .iter()
                    .filter(|(k, _)| k.as_str() != "lang")
                    .collect();
                kept.sort();
                let query = kept
                    .iter()
                    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                let here = if query.is_empty() {
                    path.as_str().to_owned()
                } else {
                    format!("{}?{query}", path.as_str())
                };
                PageRequest {
                    lang,
                    lang_in_query: params.contains_key("lang"),
                    params,
                    here,
                    session_cookie,
                }
            },
        )
}

/// Encodes a query component.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Why a request was turned away before its handler ran.
#[derive(Debug)]
pub enum Refused {
    /// No valid session: pages redirect to the login page, the API answers 401.
    NotLoggedIn { api: bool, next: String },
    /// The password is a one-time one: change it first.
    MustChangePassword { api: bool },
    /// The body could not be read as the endpoint expects.
    BadBody(ApiError),
}

impl warp::reject::Reject for Refused {}

/// The logged-in staff member; pages without one go to the login page.
pub fn staff(state: Arc<AppState>) -> impl Filter<Extract = (Staff,), Error = Rejection> + Clone {
    warp::path::full()
        .and(warp::cookie::optional::<String>(auth::SESSION_COOKIE))
        .and(with_state(state))
        .and_then(
            |path: warp::path::FullPath, cookie: Option<String>, state: Arc<AppState>| async move {
                let api = path.as_str().starts_with("/api/");
                let staff = auth::authenticate(&state, cookie.as_deref()).ok_or_else(|| {
                    warp::reject::custom(Refused::NotLoggedIn {
                        api,
                        next: path.as_str().to_owned(),
                    })
                })?;
                // A one-time or reset password opens only the page that changes it.
                let allowed = ["/staff/password", "/staff/logout", "/api/session"];
                if staff.must_change_password && !allowed.contains(&path.as_str()) {
                    return Err(warp::reject::custom(Refused::MustChangePassword { api }));
                }
                Ok(staff)
            },
        )
}

/// A URL-encoded form body of at most [`MAX_BODY_BYTES`].
pub fn form_body() -> impl Filter<Extract = (Input,), Error = Rejection> + Clone {
    warp::body::content_length_limit(MAX_BODY_BYTES)
        .and(warp::body::form::<Params>())
        .map(Input::from_form)
}

/// A JSON object body of at most [`MAX_BODY_BYTES`].
pub fn json_body() -> impl Filter<Extract = (Input,), Error = Rejection> + Clone {
    warp::body::content_length_limit(MAX_BODY_BYTES)
        .and(warp::body::bytes())
        .and_then(|body: bytes::Bytes| async move {
            Input::from_json(&body).map_err(|e| warp::reject::custom(Refused::BadBody(e)))
        })
}

/// The `X-CSRF-Token` header of a JSON request (empty when absent).
pub fn csrf_header() -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    warp::header::optional::<String>("x-csrf-token").map(|t: Option<String>| t.unwrap_or_default())
}

/// A state change must echo the session's CSRF token: from a form field `csrf`, or the
/// `X-CSRF-Token` header for JSON.
pub fn check_csrf(staff: &Staff, presented: &str) -> Result<(), ApiError> {
    if staff.csrf_matches(presented) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The CSRF token of a staff form (field `csrf`), checked before anything else. A token that
/// is missing or unreadable is a wrong one.
pub fn check_form_csrf(staff: &Staff, input: &Input) -> Result<(), ApiError> {
    const CSRF: input::Field = input::Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
    let presented = input.optional_text(CSRF, 128).ok().flatten();
    check_csrf(staff, &presented.unwrap_or_default())
}

/// Runs a handler off the async threads: the library's SQLite work blocks.
pub async fn blocking<F>(handler: F) -> Result<warp::reply::Response, Rejection>
where
    F: FnOnce() -> warp::reply::Response + Send + 'static,
{
    Ok(tokio::task::spawn_blocking(handler)
        .await
        .unwrap_or_else(|e| json_error(&ApiError::Internal(format!("handler failed: {e}")))))
}

/// Turns every rejection into a clear answer: a login redirect, or a 4xx with a message.
pub async fn recover(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
    let error = if let Some(refused) = rejection.find::<Refused>() {
        match refused {
            Refused::NotLoggedIn { api: false, next } => {
                let location = format!("/staff/login?next={}", percent_encode(next));
                return Ok(match location.parse::<warp::http::Uri>() {
                    Ok(uri) => warp::redirect::see_other(uri).into_response(),
                    Err(_) => {
                        warp::redirect::see_other(warp::http::Uri::from_static("/staff/login"))
                            .into_response()
                    }
                });
            }
            Refused::NotLoggedIn { api: true, .. } => {
                let body = serde_json::json!({
                    "error": "Cần đăng nhập bằng tài khoản thủ thư.",
                    "error_en": "Log in with a staff account first.",
                });
                return Ok(json_reply(StatusCode::UNAUTHORIZED, &body));
            }
            Refused::MustChangePassword { api: false } => {
                return Ok(warp::redirect::see_other(warp::http::Uri::from_static(
                    "/staff/password",
                ))
                .into_response());
            }
            Refused::MustChangePassword { api: true } => {
                let body = serde_json::json!({
                    "error": "Hãy đổi mật khẩu dùng một lần trước khi làm việc.",
                    "error_en": "Change your one-time password first.",
                });
                return Ok(json_reply(StatusCode::FORBIDDEN, &body));
            }
            Refused::BadBody(error) => return Ok(json_error(error)),
        }
    } else if rejection.is_not_found() {
        return Ok(json_reply(
            StatusCode::NOT_FOUND,
            &serde_json::json!({
                "error": "Không có trang này.",
                "error_en": "There is no such page.",
            }),
        ));
    } else if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Nội dung gửi lên quá lớn.",
            "The request body is too large.",
        )
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "Thiếu độ dài nội dung (Content-Length).",
            "Content-Length is required.",
        )
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "Không dùng được phương thức này ở đây.",
            "That method is not allowed here.",
        )
    } else if rejection
        .find::<warp::reject::UnsupportedMediaType>()
        .is_some()
    {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Kiểu nội dung không được hỗ trợ.",
            "Unsupported content type.",
        )
    } else if rejection.find::<warp::reject::InvalidQuery>().is_some()
        || rejection
            .find::<warp::filters::body::BodyDeserializeError>()
            .is_some()
    {
        (
            StatusCode::BAD_REQUEST,
            "Dữ liệu gửi lên không đọc được.",
            "The request could not be read.",
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            "Yêu cầu không hợp lệ.",
            "The request is not valid.",
        )
    };
    let (status, vi, en) = error;
    Ok(json_reply(
        status,
        &serde_json::json!({"error": vi, "error_en": en}),
    ))
}

/// All routes of the appliance.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let health = warp::path!("healthz")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|state: Arc<AppState>| blocking(move || health::get(&state)))
        .boxed();
    let openapi = warp::path!("api" / "openapi.json")
        .and(warp::get())
        .map(openapi::get)
        .boxed();
    let assets = warp::path("static")
        .and(warp::path::tail())
        .and(warp::get())
        .and(warp::header::optional::<String>("if-none-match"))
        .and(warp::header::optional::<String>("accept-encoding"))
        .map(
            |tail: warp::path::Tail, etag: Option<String>, encodings: Option<String>| {
                assets::get(tail.as_str(), etag, encodings)
            },
        )
        .boxed();
    let home = warp::path::end()
        .and(warp::get())
        .map(|| warp::redirect::see_other(warp::http::Uri::from_static("/search")).into_response())
        .boxed();
    route::any_of(vec![
        health,
        session::routes(state.clone()),
        desk::routes(state.clone()),
        opac::routes(state.clone()),
        cataloguing::routes(state.clone()),
        reports::routes(state),
        openapi,
        assets,
        home,
    ])
    .recover(recover)
    .unify()
    .boxed()
}
