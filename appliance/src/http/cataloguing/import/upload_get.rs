//! `GET /staff/catalogue/import`: "Nhập từ tệp", the form that uploads a list or a MARC file
//! (and, for a list, says whether it holds books or readers). `upload_post` shows it again
//! with the error when a file is refused.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::PATH;
use crate::http::auth::Staff;
use crate::http::cataloguing::frame;
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, layout};
use crate::imports::pending::MAX_FILE_BYTES;

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    render(state, staff, request, None, StatusCode::OK)
}

/// The form, with the error that refused the last upload.
pub fn render(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    error: Option<&ApiError>,
    status: StatusCode,
) -> warp::reply::Response {
    let lang = request.lang;
    let mut body = format!("<h1>{}</h1>", lang.t("import.title"));
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(&error.lang_message(lang))
        );
    }
    let _ = write!(
        body,
        "<p class=\"hint\">{hint}</p>\
<form method=\"post\" action=\"{PATH}\" enctype=\"multipart/form-data\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"file\">{file}</label>\
<input id=\"file\" name=\"file\" type=\"file\" required data-max-bytes=\"{MAX_FILE_BYTES}\" \
accept=\".xlsx,.csv,.txt,.mrc,.marc,.iso,.xml\">\
<p class=\"hint\">{max}</p>\
<fieldset class=\"what\"><legend>{kind}</legend>\
<label><input type=\"radio\" name=\"kind\" value=\"books\" checked> {books}</label>\
<label><input type=\"radio\" name=\"kind\" value=\"readers\"> {readers}</label>\
</fieldset><button type=\"submit\">{button}</button></form>",
        hint = lang.t("import.upload.hint"),
        csrf = escape(&staff.csrf),
        file = lang.t("import.upload.file"),
        max = lang.t("import.upload.max"),
        kind = lang.t("import.upload.kind"),
        books = lang.t("import.kind.books"),
        readers = lang.t("import.kind.readers"),
        button = lang.t("import.upload.button"),
    );
    let frame = frame(state, staff, PATH, request);
    let html = layout::page(&frame, lang.t("import.title"), &body);
    layout::reply(html, status, lang, request.lang_in_query)
}
