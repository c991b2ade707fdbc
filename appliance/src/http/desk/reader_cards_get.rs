//! `GET /staff/readers/cards[?card=…]`: the form "In thẻ bạn đọc": which readers (cards typed
//! or scanned one per line, a category, or a class), the sheet and how many of its cards are
//! used already. The form posts to `reader_cards_post`, which answers with the PDF, or with
//! this form again and the error above it.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::desk_get::category_name;
use super::staff_frame;
use crate::circulation::readers::CATEGORIES;
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::input::Input;
use crate::http::labels::{layout_fields, lines};
use crate::http::{ApiError, AppState, PageRequest, layout};

pub const PATH: &str = "/staff/readers/cards";

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let mut input = std::collections::HashMap::new();
    if let Some(card) = request.params.get("card") {
        input.insert("cards".to_owned(), card.trim().to_owned());
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
    let frame = staff_frame(state, staff, request, PATH);
    let value = |name: &str| lines(input, name);
    let what = input
        .raw("what")
        .and_then(|v| v.as_str())
        .unwrap_or("cards");
    let checked = |choice: &str| if what == choice { " checked" } else { "" };
    let mut body = format!("<h1>{}</h1>", lang.t("labels.cards.title"));
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"result error\" role=\"alert\">{}</p>",
            escape(&error.lang_message(lang))
        );
    }
    let chosen_category = value("category");
    let categories: String = CATEGORIES
        .iter()
        .map(|c| {
            let selected = if *c == chosen_category {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{c}\"{selected}>{}</option>",
                category_name(lang, c)
            )
        })
        .collect();
    let chosen_layout = input
        .raw("layout")
        .and_then(|v| v.as_str())
        .unwrap_or("a4-2x5-cards");
    let _ = write!(
        body,
        "<p class=\"hint\">{hint}</p>\
<form method=\"post\" action=\"{PATH}\" class=\"stack\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<fieldset class=\"what\"><legend>{legend}</legend>\
<label><input type=\"radio\" name=\"what\" value=\"cards\"{c_cards}> {cards_label}</label>\
<textarea name=\"cards\" rows=\"5\" autocomplete=\"off\" autocapitalize=\"characters\" aria-label=\"{cards_label}\">{cards}</textarea>\
<label><input type=\"radio\" name=\"what\" value=\"category\"{c_category}> {category_label}</label>\
<select name=\"category\" aria-label=\"{category_label}\">{categories}</select>\
<label><input type=\"radio\" name=\"what\" value=\"class\"{c_class}> {class_label}</label>\
<input name=\"class\" value=\"{class}\" maxlength=\"40\" aria-label=\"{class_label}\">\
</fieldset>{layout_fields}<button type=\"submit\">{button}</button></form>",
        hint = lang.t("labels.cards.hint"),
        csrf = escape(&staff.csrf),
        legend = lang.t("labels.cards.which"),
        c_cards = checked("cards"),
        cards_label = lang.t("labels.cards.cards"),
        cards = value("cards"),
        c_category = checked("category"),
        category_label = lang.t("labels.cards.category"),
        c_class = checked("class"),
        class_label = lang.t("labels.cards.class"),
        class = value("class"),
        layout_fields = layout_fields(lang, chosen_layout),
        button = lang.t("labels.download"),
    );
    let html = layout::page(&frame, lang.t("labels.cards.title"), &body);
    let status = error.map_or(StatusCode::OK, ApiError::status);
    layout::reply(html, status, lang, request.lang_in_query)
}
