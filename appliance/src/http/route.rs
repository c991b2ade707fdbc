//! Route builders for the web areas: each boxes one route (path, method, the logged-in staff
//! member, the page request or body, then a plain handler function on the blocking pool), and
//! [`any_of`] joins a list of them.
//!
//! Why boxes: a chain of fifteen `.or(...).unify()` of unboxed filters is one nested type
//! whose checking cost the compiler minutes per build; a list of boxed routes folded together
//! keeps every type shallow, and a new page is one line in its area's list.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;

use super::auth::Staff;
use super::input::Input;
use super::{
    ApiError, AppState, PageRequest, Params, blocking, csrf_header, form_body, json_body,
    json_error, page_request, staff, with_state,
};

pub type Route = BoxedFilter<(warp::reply::Response,)>;

/// A staff page: `GET` with the staff member and the page request.
pub fn staff_get(
    state: &Arc<AppState>,
    path: impl Filter<Extract = (), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(&AppState, &Staff, &PageRequest) -> warp::reply::Response,
) -> Route {
    path.and(warp::get())
        .and(staff(state.clone()))
        .and(page_request())
        .and(with_state(state.clone()))
        .and_then(
            move |who: Staff, request: PageRequest, state: Arc<AppState>| {
                blocking(move || handler(&state, &who, &request))
            },
        )
        .boxed()
}

/// A staff JSON read: `GET` with the query's parameters (the staff member only gates it).
pub fn staff_api_get(
    state: &Arc<AppState>,
    path: impl Filter<Extract = (), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(&AppState, &Params) -> warp::reply::Response,
) -> Route {
    path.and(warp::get())
        .and(staff(state.clone()))
        .and(warp::query::<Params>())
        .and(with_state(state.clone()))
        .and_then(move |_who: Staff, params: Params, state: Arc<AppState>| {
            blocking(move || handler(&state, &params))
        })
        .boxed()
}

/// A staff form: `POST` with the staff member, the page request and the form.
pub fn staff_form(
    state: &Arc<AppState>,
    path: impl Filter<Extract = (), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(&AppState, &Staff, &PageRequest, &Input) -> warp::reply::Response,
) -> Route {
    path.and(warp::post())
        .and(staff(state.clone()))
        .and(page_request())
        .and(form_body())
        .and(with_state(state.clone()))
        .and_then(
            move |who: Staff, request: PageRequest, input: Input, state: Arc<AppState>| {
                blocking(move || handler(&state, &who, &request, &input))
            },
        )
        .boxed()
}

/// A staff JSON post: the staff member, the CSRF header and the body.
pub fn staff_json(
    state: &Arc<AppState>,
    path: impl Filter<Extract = (), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(&AppState, &Staff, &str, &Input) -> Result<warp::reply::Response, ApiError>,
) -> Route {
    path.and(warp::post())
        .and(staff(state.clone()))
        .and(csrf_header())
        .and(json_body())
        .and(with_state(state.clone()))
        .and_then(
            move |who: Staff, csrf: String, input: Input, state: Arc<AppState>| {
                blocking(move || {
                    handler(&state, &who, &csrf, &input).unwrap_or_else(|e| json_error(&e))
                })
            },
        )
        .boxed()
}

/// A staff page or form with one path parameter.
pub fn with_param<T>(
    state: &Arc<AppState>,
    path: impl Filter<Extract = (String,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    method: impl Filter<Extract = (), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    body: impl Filter<Extract = (T,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    handler: fn(&AppState, &Staff, &PageRequest, &str, &T) -> warp::reply::Response,
) -> Route
where
    T: Send + 'static,
{
    path.and(method)
        .and(staff(state.clone()))
        .and(page_request())
        .and(body)
        .and(with_state(state.clone()))
        .and_then(
            move |param: String,
                  who: Staff,
                  request: PageRequest,
                  body: T,
                  state: Arc<AppState>| {
                blocking(move || handler(&state, &who, &request, &param, &body))
            },
        )
        .boxed()
}

/// No body (GET pages and bodiless posts).
pub fn no_body() -> impl Filter<Extract = ((),), Error = warp::Rejection> + Clone {
    warp::any()
        .map(|| ())
        .and_then(|unit: ()| async move { Ok::<_, warp::Rejection>(unit) })
}

/// One route that tries each of `routes` in order.
pub fn any_of(routes: Vec<Route>) -> Route {
    let mut all: Option<Route> = None;
    for route in routes {
        all = Some(match all {
            None => route,
            Some(before) => before.or(route).unify().boxed(),
        });
    }
    all.unwrap_or_else(|| {
        warp::any()
            .and_then(|| async { Err(warp::reject::not_found()) })
            .boxed()
    })
}
