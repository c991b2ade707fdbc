//! `GET /staff/login?next=PATH`: the login form. Also drawn again, with the reason, when a
//! login fails.

use warp::http::StatusCode;

use super::{frame, html, message_html};
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, layout};

pub fn get(
    state: &AppState,
    request: &PageRequest,
    error: Option<(&ApiError, StatusCode)>,
) -> warp::reply::Response {
    let lang = request.lang;
    let next = safe_next(request.params.get("next").map(String::as_str));
    let body = format!(
        "<h1>{title}</h1>{message}\
<form method=\"post\" action=\"/staff/login\" class=\"stack\">\
<input type=\"hidden\" name=\"next\" value=\"{next}\">\
<label for=\"username\">{username}</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" required autofocus>\
<label for=\"password\">{password}</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">{login}</button></form><p class=\"hint\">{hint}</p>",
        title = lang.t("session.login_title"),
        message = message_html(error.map(|(e, _)| e), lang),
        next = escape(next),
        username = lang.t("session.username"),
        password = lang.t("session.password"),
        login = lang.t("session.login"),
        hint = lang.t("session.login_hint"),
    );
    let page = layout::page(
        &frame(state, None, request),
        lang.t("session.login_title"),
        &body,
    );
    html(
        request,
        page,
        error.map(|(_, status)| status).unwrap_or(StatusCode::OK),
    )
}

/// Where to go after logging in: only a path on this appliance's staff pages, never another
/// site (an open redirect would let a link send a librarian anywhere).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/staff/")
                && !path.starts_with("/staff/login")
                && !path.contains("//")
                && !path.contains('\\') =>
        {
            path
        }
        _ => "/staff/desk",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_staff_paths_are_followed_after_login() {
        for (next, expected) in [
            (Some("/staff/readers"), "/staff/readers"),
            (Some("https://evil.example/"), "/staff/desk"),
            (Some("//evil.example/staff/"), "/staff/desk"),
            (Some("/staff//evil"), "/staff/desk"),
            (Some("/staff/login"), "/staff/desk"),
            (None, "/staff/desk"),
        ] {
            assert_eq!(super::safe_next(next), expected, "{next:?}");
        }
    }
}
