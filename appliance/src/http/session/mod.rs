//! Staff sessions over HTTP: who am I (`GET /api/session`), and the clock correction
//! (`POST /staff/clock`). Login and logout join them when the accounts module lands.

mod clock_set;
mod session_get;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

use super::{AppState, blocking, form_body, page_request, staff, with_state};

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let session = warp::path!("api" / "session")
        .and(warp::get())
        .and(staff(state.clone()))
        .map(|who| session_get::get(&who));
    let clock = warp::path!("staff" / "clock")
        .and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state))
        .and_then(|who, request, input, state: Arc<AppState>| {
            blocking(move || clock_set::post(&state, &who, &request, &input))
        });
    session.or(clock).unify().map(Reply::into_response).boxed()
}

/// The OpenAPI paths of this area.
pub fn openapi_paths() -> serde_json::Value {
    serde_json::json!({
        "/api/session": {
            "get": {
                "summary": "Who is logged in",
                "description": "The staff member behind the session cookie, and the CSRF token every state-changing JSON request must send as the X-CSRF-Token header.",
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
