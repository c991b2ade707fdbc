//! Staff sessions over HTTP: logging in and out, the password change a one-time password
//! forces, the admins' staff accounts page, who am I (`GET /api/session`), and the clock
//! correction (`POST /staff/clock`).
//!
//! - `GET/POST /staff/login` — [`login_get`], [`login_post`]
//! - `POST /staff/logout` — [`logout_post`]
//! - `GET/POST /staff/password` — [`password_get`], [`password_post`]
//! - `GET/POST /staff/accounts` — [`accounts_get`], [`accounts_post`] (admins)
//! - `GET /api/session` — [`session_get`]
//! - `POST /staff/clock` — [`clock_set`]

mod accounts_get;
mod accounts_post;
mod clock_set;
mod login_get;
mod login_post;
mod logout_post;
mod password_get;
mod password_post;
mod session_get;

use std::net::SocketAddr;
use std::sync::Arc;

use warp::filters::BoxedFilter;

use super::route::any_of;
use warp::http::StatusCode;
use warp::{Filter, Reply};

use super::auth::Staff;
use super::layout::{self, Frame};
use super::{
    ApiError, AppState, PageRequest, blocking, form_body, page_request, staff, with_state,
};

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let session = warp::path!("api" / "session")
        .and(warp::get())
        .and(staff(state.clone()))
        .map(|who| session_get::get(&who))
        .boxed();
    let clock = warp::path!("staff" / "clock")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || clock_set::post(&state, &who, &request, &input))
        })
        .boxed();
    let login_page = warp::path!("staff" / "login")
        .and(warp::get())
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|request, state: Arc<AppState>| {
            blocking(move || login_get::get(&state, &request, None))
        })
        .boxed();
    let login = warp::path!("staff" / "login")
        .and(warp::post())
        .and(page_request())
        .and(warp::addr::remote())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(
            |request, remote: Option<SocketAddr>, input, state: Arc<AppState>| {
                blocking(move || login_post::post(&state, &request, remote, &input))
            },
        )
        .boxed();
    let logout = warp::path!("staff" / "logout")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || logout_post::post(&state, &who, &request, &input))
        })
        .boxed();
    let password_page = warp::path!("staff" / "password")
        .and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|who, request, state: Arc<AppState>| {
            blocking(move || password_get::get(&state, &who, &request, None))
        })
        .boxed();
    let password = warp::path!("staff" / "password")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(warp::addr::remote())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(
            |who, request, remote: Option<SocketAddr>, input, state: Arc<AppState>| {
                blocking(move || password_post::post(&state, &who, &request, remote, &input))
            },
        )
        .boxed();
    let accounts_page = warp::path!("staff" / "accounts")
        .and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(|who, request, state: Arc<AppState>| {
            blocking(move || accounts_get::get(&state, &who, &request, None))
        })
        .boxed();
    let accounts = warp::path!("staff" / "accounts")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || accounts_post::post(&state, &who, &request, &input))
        })
        .boxed();
    let staff_home = warp::path!("staff")
        .and(warp::get())
        .map(|| {
            warp::redirect::see_other(warp::http::Uri::from_static("/staff/desk")).into_response()
        })
        .boxed();
    any_of(vec![
        session,
        clock,
        login_page,
        login,
        logout,
        password_page,
        password,
        accounts_page,
        accounts,
        staff_home,
    ])
}

/// The frame of this area's pages.
fn frame<'a>(state: &'a AppState, staff: Option<&'a Staff>, request: &'a PageRequest) -> Frame<'a> {
    Frame {
        lang: request.lang,
        library: &state.library.name,
        staff,
        clock_wrong: staff.is_some() && state.clock_wrong(),
        here: &request.here,
    }
}

/// An HTML page with a status.
fn html(request: &PageRequest, page: String, status: StatusCode) -> warp::reply::Response {
    layout::reply(page, status, request.lang, request.lang_in_query)
}

/// A redirect that also sets (or clears) the session cookie.
fn redirect_with_cookie(location: &str, cookie: &str) -> warp::reply::Response {
    let uri = location
        .parse::<warp::http::Uri>()
        .unwrap_or_else(|_| warp::http::Uri::from_static("/staff/desk"));
    let mut response = warp::redirect::see_other(uri).into_response();
    if let Ok(value) = cookie.parse() {
        response.headers_mut().insert("set-cookie", value);
    }
    response
}

/// A message line above a form: an error in red, or a confirmation.
fn message_html(error: Option<&ApiError>, lang: super::i18n::Lang) -> String {
    error
        .map(|e| {
            format!(
                "<p role=\"alert\" class=\"error\">{}</p>",
                super::html::escape(&e.lang_message(lang))
            )
        })
        .unwrap_or_default()
}

/// The OpenAPI paths of this area.
pub fn openapi_paths() -> serde_json::Value {
    serde_json::json!({
        "/api/session": {
            "get": {
                "summary": "Who is logged in",
                "description": "The staff member behind the session cookie, and the CSRF token every state-changing JSON request must send as the X-CSRF-Token header. Log in with a form post to /staff/login (username, password); the answer sets the HttpOnly session cookie.",
                "responses": {
                    "200": {"description": "The session.", "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["username", "display_name", "role", "csrf"],
                        "properties": {
                            "username": {"type": "string"},
                            "display_name": {"type": "string"},
                            "role": {"type": "string", "enum": ["admin", "librarian"]},
                            "csrf": {"type": "string"}
                        }
                    }}}},
                    "401": {"description": "Not logged in.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
            }
        }
    })
}
