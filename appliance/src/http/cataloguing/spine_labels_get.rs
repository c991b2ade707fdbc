//! `GET /staff/catalogue/labels[?record=ID]`: the form "In nhãn gáy": which copies (of one
//! record, on one shelf, or barcodes scanned one per line), the label sheet and how many of
//! its labels are used already. The form posts to `spine_labels_post`, which answers with the
//! PDF, or with this form again and the error above it.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::frame;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::input::Input;
use crate::http::labels::{layout_fields, lines};
use crate::http::{ApiError, AppState, PageRequest, layout};
use crate::labels::select;

pub const PATH: &str = "/staff/catalogue/labels";

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let mut input = std::collections::HashMap::new();
    if let Some(record) = request.params.get("record") {
        input.insert("what".to_owned(), "record".to_owned());
        input.insert("record".to_owned(), record.trim().to_owned());
    }
    render(state, staff, request, &Input::from_form(input), None)
}

/// The form, filled with what was posted, and the error that stopped it.
pub fn render(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
    error: Option<&ApiError>,
) -> warp::reply::Response {
    let lang = request.lang;
    let scope = state.desk.scope().as_str().to_owned();
    let shelves = state
        .read(|conn| select::shelves(conn, &scope))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let value = |name: &str| lines(input, name);
    let what = input
        .raw("what")
        .and_then(|v| v.as_str())
        .unwrap_or("barcodes");
    let checked = |choice: &str| if what == choice { " checked" } else { "" };
    let mut body = format!("<h1>{}</h1>", lang.t("labels.spine.title"));
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(&error.lang_message(lang))
        );
    }
    let chosen_shelf = value("shelf");
    let shelf_options: String = shelves
        .iter()
        .map(|s| {
            let s = escape(s);
            let selected = if s == chosen_shelf { " selected" } else { "" };
            format!("<option value=\"{s}\"{selected}>{s}</option>")
        })
        .collect();
    let chosen_layout = input
        .raw("layout")
        .and_then(|v| v.as_str())
        .unwrap_or("a4-3x8");
    let _ = write!(
        body,
        "<p class=\"hint\">{hint}</p>\
<form method=\"post\" action=\"{PATH}\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<fieldset class=\"what\"><legend>{legend}</legend>\
<label><input type=\"radio\" name=\"what\" value=\"barcodes\"{c_barcodes}> {barcodes_label}</label>\
<textarea name=\"barcodes\" rows=\"6\" autocomplete=\"off\" autocapitalize=\"characters\" aria-label=\"{barcodes_label}\">{barcodes}</textarea>\
<label><input type=\"radio\" name=\"what\" value=\"record\"{c_record}> {record_label}</label>\
<input name=\"record\" value=\"{record}\" maxlength=\"64\" autocomplete=\"off\" aria-label=\"{record_label}\">\
<label><input type=\"radio\" name=\"what\" value=\"shelf\"{c_shelf}> {shelf_label}</label>\
<select name=\"shelf\" aria-label=\"{shelf_label}\">{shelf_options}</select>\
</fieldset>{layout_fields}<button type=\"submit\">{button}</button></form>",
        hint = lang.t("labels.spine.hint"),
        csrf = escape(&staff.csrf),
        legend = lang.t("labels.spine.which"),
        c_barcodes = checked("barcodes"),
        barcodes_label = lang.t("labels.spine.barcodes"),
        barcodes = value("barcodes"),
        c_record = checked("record"),
        record_label = lang.t("labels.spine.record"),
        record = value("record"),
        c_shelf = checked("shelf"),
        shelf_label = lang.t("labels.spine.shelf"),
        layout_fields = layout_fields(lang, chosen_layout),
        button = lang.t("labels.download"),
    );
    let frame = frame(state, staff, PATH, request);
    let html = layout::page(&frame, lang.t("labels.spine.title"), &body);
    let status = error.map_or(StatusCode::OK, ApiError::status);
    layout::reply(html, status, lang, request.lang_in_query)
}
