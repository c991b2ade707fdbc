//! `GET /staff/accounts`: the library's staff accounts and a form to add one (admins only).

use std::fmt::Write as _;

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
    let frame = frame(state, Some(staff), request);
    if !staff.admin {
        let page = layout::error_page(
            &frame,
            &ApiError::Forbidden.lang_message(lang),
            "/staff/desk",
        );
        return html(request, page, StatusCode::FORBIDDEN);
    }
    let users = match state.write(|store| state.staff.list(store)) {
        Ok(Ok(users)) => users,
        Ok(Err(e)) => {
            return html(
                request,
                layout::error_page(
                    &frame,
                    &ApiError::Internal(e.to_string()).lang_message(lang),
                    "/staff/desk",
                ),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
        Err(e) => {
            return html(
                request,
                layout::error_page(&frame, &e.lang_message(lang), "/staff/desk"),
                e.status(),
            );
        }
    };
    let mut body = format!(
        "<h1>{}</h1>{}",
        lang.t("session.accounts_title"),
        message_html(error, lang)
    );
    if request.params.contains_key("created") {
        let _ = write!(body, "<p class=\"ok\">{}</p>", lang.t("session.created"));
    }
    let _ = write!(
        body,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("session.username"),
        lang.t("session.display_name"),
        lang.t("session.role"),
        lang.t("session.state"),
    );
    for user in &users {
        let role = match user.role {
            crate::accounts::Role::Admin => lang.t("session.role_admin"),
            crate::accounts::Role::Librarian => lang.t("session.role_librarian"),
        };
        let state_text = if user.disabled {
            lang.t("session.disabled")
        } else if user.must_change_password {
            lang.t("session.must_change")
        } else {
            lang.t("session.active")
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{role}</td><td>{state_text}</td></tr>",
            escape(user.username.as_str()),
            escape(&user.display_name),
        );
    }
    let _ = write!(
        body,
        "</tbody></table><h2>{new_account}</h2>\
<form method=\"post\" action=\"/staff/accounts\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"username\">{username}</label><input id=\"username\" name=\"username\" autocapitalize=\"none\" required>\
<label for=\"display_name\">{display}</label><input id=\"display_name\" name=\"display_name\" required>\
<label for=\"role\">{role}</label><select id=\"role\" name=\"role\">\
<option value=\"librarian\">{librarian}</option><option value=\"admin\">{admin}</option></select>\
<label for=\"password\">{first}</label><input id=\"password\" name=\"password\" type=\"password\" minlength=\"8\" required>\
<button type=\"submit\">{create}</button></form>",
        new_account = lang.t("session.new_account"),
        csrf = escape(&staff.csrf),
        username = lang.t("session.username"),
        display = lang.t("session.display_name"),
        role = lang.t("session.role"),
        librarian = lang.t("session.role_librarian"),
        admin = lang.t("session.role_admin"),
        first = lang.t("session.first_password"),
        create = lang.t("session.create"),
    );
    let page = layout::page(&frame, lang.t("session.accounts_title"), &body);
    html(
        request,
        page,
        error.map(ApiError::status).unwrap_or(StatusCode::OK),
    )
}
