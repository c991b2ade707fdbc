//! The frame every HTML page shares: head, language switch, navigation (readers' or staff's),
//! the clock banner on staff pages, and the reply with its language cookie.

use std::fmt::Write as _;

use warp::Reply;
use warp::http::StatusCode;

use super::auth::Staff;
use super::html::escape;
use super::i18n::Lang;

/// What a page needs to know about the request to draw its frame.
pub struct Frame<'a> {
    pub lang: Lang,
    /// The library's display name, shown in the header.
    pub library: &'a str,
    pub staff: Option<&'a Staff>,
    /// Staff pages: the appliance's clock went backwards.
    pub clock_wrong: bool,
    /// This page's path and query without `lang`, for the language switch.
    pub here: &'a str,
}

fn asset_version(name: &str) -> String {
    super::assets::etag(name)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

/// A whole HTML document around `body` (which the caller has escaped).
pub fn page(frame: &Frame<'_>, title: &str, body: &str) -> String {
    document(frame, title, "", body)
}

/// A page that reloads itself every `seconds`: a progress page that needs no JavaScript.
pub fn page_refreshing(frame: &Frame<'_>, title: &str, body: &str, seconds: u32) -> String {
    let head = format!("<meta http-equiv=\"refresh\" content=\"{seconds}\">");
    document(frame, title, &head, body)
}

fn document(frame: &Frame<'_>, title: &str, head: &str, body: &str) -> String {
    let lang = frame.lang;
    let mut html = String::with_capacity(body.len() + 2048);
    let separator = if frame.here.contains('?') {
        "&amp;"
    } else {
        "?"
    };
    let _ = write!(
        html,
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">{head}\
<title>{title} — {library}</title>\
<link rel=\"stylesheet\" href=\"/static/tusach.css?v={css}\"></head><body>\
<header><a class=\"brand\" href=\"/search?lang={code}\">{app} · {library}</a>\
<a class=\"lang\" href=\"{here}{separator}lang={other}\">{switch}</a></header>",
        code = lang.code(),
        title = escape(title),
        library = escape(frame.library),
        css = asset_version("tusach.css"),
        app = lang.t("app.name"),
        here = escape(frame.here),
        other = lang.other().code(),
        switch = lang.t("lang.switch"),
    );
    match frame.staff {
        None => {
            html.push_str("<nav class=\"readers\">");
            for (path, key) in READERS_NAV {
                let _ = write!(html, "<a href=\"{path}\">{}</a>", lang.t(key));
            }
            html.push_str("</nav>");
        }
        Some(staff) => {
            html.push_str("<nav class=\"staff\">");
            for (path, key) in STAFF_NAV {
                let _ = write!(html, "<a href=\"{path}\">{}</a>", lang.t(key));
            }
            // Accounts and the network are an admin's work; everyone may change their own
            // password.
            if staff.admin {
                let _ = write!(
                    html,
                    "<a href=\"/staff/accounts\">{}</a><a href=\"/staff/network\">{}</a>",
                    lang.t("nav.accounts"),
                    lang.t("nav.network")
                );
            }
            let _ = write!(
                html,
                "<a href=\"/staff/password\">{}</a>",
                lang.t("nav.password")
            );
            let _ = write!(
                html,
                "<form method=\"post\" action=\"/staff/logout\" class=\"inline\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\">{logout} ({who})</button></form></nav>",
                csrf = escape(&staff.csrf),
                logout = lang.t("nav.logout"),
                who = escape(&staff.display_name),
            );
            if frame.clock_wrong {
                let _ = write!(
                    html,
                    "<div class=\"banner\" role=\"alert\">{}\
<form method=\"post\" action=\"/staff/clock\" class=\"inline\" data-phone-time>\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"phone_time\" value=\"\">\
<button type=\"submit\">{}</button></form></div>",
                    lang.t("clock.banner"),
                    lang.t("clock.use_phone"),
                    csrf = escape(&staff.csrf),
                );
            }
        }
    }
    let _ = write!(html, "<main>{body}</main>");
    if frame.staff.is_some() {
        let _ = write!(
            html,
            "<script src=\"/static/staff.js?v={}\" defer></script>",
            asset_version("staff.js")
        );
    }
    html.push_str("</body></html>");
    html
}

/// The readers' navigation; the last link takes a librarian to the login page.
pub const READERS_NAV: &[(&str, &str)] = &[
    ("/search", "nav.search"),
    ("/new", "nav.new"),
    ("/my-loans", "nav.my_loans"),
    ("/staff/login", "nav.staff"),
];

/// The staff navigation, in the order of a librarian's day (then, on every staff page, the
/// accounts page for admins and the password change).
pub const STAFF_NAV: &[(&str, &str)] = &[
    ("/staff/desk", "nav.desk"),
    ("/staff/catalogue", "nav.catalogue"),
    ("/staff/readers", "nav.readers"),
    ("/staff/holds", "nav.holds"),
    ("/staff/overdue", "nav.overdue"),
    ("/staff/stocktake", "nav.stocktake"),
    ("/staff/exceptions", "nav.exceptions"),
    ("/staff/visits", "nav.visits"),
    ("/staff/stats", "nav.stats"),
    ("/staff/sync", "nav.sync"),
];

/// An HTML reply; remembers the language in a cookie when the query chose it.
pub fn reply(
    html: String,
    status: StatusCode,
    lang: Lang,
    chosen_in_query: bool,
) -> warp::reply::Response {
    let mut response = warp::reply::with_status(warp::reply::html(html), status).into_response();
    if chosen_in_query
        && let Ok(value) = format!(
            "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        )
        .parse()
    {
        response.headers_mut().insert("set-cookie", value);
    }
    response.headers_mut().insert(
        "cache-control",
        warp::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// A page that says what went wrong and offers the way back.
pub fn error_page(frame: &Frame<'_>, message: &str, back: &str) -> String {
    let body = format!(
        "<h1>{}</h1><p role=\"alert\" class=\"error\">{}</p><p><a class=\"button\" href=\"{}\">{}</a></p>",
        frame.lang.t("error.title"),
        escape(message),
        escape(back),
        frame.lang.t("error.back"),
    );
    page(frame, frame.lang.t("error.title"), &body)
}
