//! `GET /staff/readers/new` and `POST /staff/readers/new` (form: `csrf`, `card`, `name`,
//! `category`, `card_expires`, `class`, `school`, `contact`, `pin`): registers a reader card,
//! then shows the reader. A refused form comes back filled in, with the message.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::desk_get::category_name;
use super::{check_form_csrf, desk_error, readers_post, see_other, staff_frame};
use crate::circulation::readers::CATEGORIES;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::input::Input;
use crate::http::layout;
use crate::http::{ApiError, AppState, PageRequest, percent_encode};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    form(
        state,
        staff,
        request,
        &Input::default(),
        None,
        StatusCode::OK,
    )
}

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    let registered = check_form_csrf(staff, input)
        .and_then(|()| readers_post::parse(input))
        .and_then(|new| {
            let today = state.today();
            state
                .write(|store| state.desk.register_reader(store, &new, today))?
                .map_err(desk_error)
                .map(|()| new.card)
        });
    match registered {
        Ok(card) => see_other(&format!("/staff/readers/{}", percent_encode(&card))),
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                eprintln!("http: internal error: {detail}");
            }
            let status = error.status();
            form(state, staff, request, input, Some(&error), status)
        }
    }
}

fn form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
    error: Option<&ApiError>,
    status: StatusCode,
) -> warp::reply::Response {
    let lang = request.lang;
    let frame = staff_frame(state, staff, request, "/staff/readers/new");
    // What was typed comes back (escaped) so a refused form need not be filled in again.
    let value = |name: &str| {
        input
            .raw(name)
            .and_then(|v| v.as_str())
            .map(escape)
            .unwrap_or_default()
    };
    let mut body = String::with_capacity(4096);
    let _ = write!(body, "<h1>{}</h1>", lang.t("desk.readers.new"));
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(&error.lang_message(lang))
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/staff/readers/new\" class=\"stacked\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">",
        csrf = escape(&staff.csrf)
    );
    for (name, key, kind, extra) in [
        (
            "card",
            "desk.readers.card",
            "text",
            " required maxlength=\"40\" autocomplete=\"off\"",
        ),
        (
            "name",
            "desk.readers.name",
            "text",
            " required maxlength=\"80\"",
        ),
    ] {
        let _ = write!(
            body,
            "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"{kind}\" value=\"{value}\"{extra}>",
            label = lang.t(key),
            value = value(name),
        );
    }
    let chosen = value("category");
    let _ = write!(
        body,
        "<label for=\"category\">{}</label><select id=\"category\" name=\"category\">",
        lang.t("desk.readers.category")
    );
    for category in CATEGORIES {
        let _ = write!(
            body,
            "<option value=\"{category}\"{selected}>{label}</option>",
            selected = if chosen == category { " selected" } else { "" },
            label = category_name(lang, category),
        );
    }
    body.push_str("</select>");
    let default_expiry = state
        .today()
        .checked_add_months(chrono::Months::new(12))
        .unwrap_or_else(|| state.today())
        .format("%Y-%m-%d")
        .to_string();
    let expires = match value("card_expires") {
        v if v.is_empty() => default_expiry,
        v => v,
    };
    let _ = write!(
        body,
        "<label for=\"card_expires\">{}</label><input id=\"card_expires\" name=\"card_expires\" type=\"date\" value=\"{}\" required>",
        lang.t("desk.readers.expires"),
        expires
    );
    for (name, key, extra) in [
        ("class", "desk.readers.class", " maxlength=\"40\""),
        ("school", "desk.readers.school", " maxlength=\"80\""),
        ("contact", "desk.readers.contact", " maxlength=\"120\""),
        (
            "pin",
            "desk.readers.pin",
            " inputmode=\"numeric\" pattern=\"[0-9]{4,8}\" maxlength=\"8\" autocomplete=\"off\"",
        ),
    ] {
        let _ = write!(
            body,
            "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"text\" value=\"{value}\"{extra}>",
            label = lang.t(key),
            value = if name == "pin" {
                String::new()
            } else {
                value(name)
            },
        );
    }
    let _ = write!(
        body,
        "<p><button type=\"submit\">{}</button></p></form>",
        lang.t("desk.readers.save")
    );
    let html = layout::page(&frame, lang.t("desk.readers.new"), &body);
    layout::reply(html, status, lang, request.lang_in_query)
}
