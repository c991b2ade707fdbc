//! `GET /staff/password`: the password change form; the only page a one-time password opens.

use warp::http::StatusCode;

use super::{frame, html, message_html};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, layout};

pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    error: Option<&ApiError>,
) -> warp::reply::Response {
    let lang = request.lang;
    let forced = if staff.must_change_password {
        format!(
            "<p class=\"banner\">{}</p>",
            lang.t("session.password_forced")
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{title}</h1>{forced}{message}\
<form method=\"post\" action=\"/staff/password\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"current\">{current}</label>\
<input id=\"current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required autofocus>\
<label for=\"new\">{new}</label>\
<input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>\
<label for=\"repeat\">{repeat}</label>\
<input id=\"repeat\" name=\"repeat\" type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>\
<button type=\"submit\">{change}</button></form>",
        title = lang.t("session.password_title"),
        message = message_html(error, lang),
        csrf = escape(&staff.csrf),
        current = lang.t("session.current"),
        new = lang.t("session.new"),
        repeat = lang.t("session.repeat"),
        change = lang.t("session.change"),
    );
    let page = layout::page(
        &frame(state, Some(staff), request),
        lang.t("session.password_title"),
        &body,
    );
    html(
        request,
        page,
        error.map(ApiError::status).unwrap_or(StatusCode::OK),
    )
}
