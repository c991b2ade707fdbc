//! Reports and the back office of a library: statistics with charts (`/staff/stats`), the
//! monthly CSV for the district (`/staff/stats/month.csv`), a month's or a year's report as a
//! printable page and an `.xlsx` file (`/staff/stats/report`, and across the libraries a hub
//! holds, `/staff/district/report`), the visit counter at the door
//! (`/staff/visits`), the exceptions inbox (`/staff/exceptions`), the sync status
//! (`/staff/sync`) with its typed peer addresses, what this device carries for whom
//! (`/staff/sync/carrying`), with their JSON twins under `/api/`, the USB stick page
//! (`/staff/stick`: export a bundle for the hub, import the bundles on a stick) and the
//! district pages of a hub (`/staff/district`).
//!
//! Handlers only parse, call the domain ([`crate::reports`], the [`crate::circulation`] desk,
//! the store's peer status) and render. One file per resource action.

mod carrying_get;
mod charts;
mod csv;
mod district_csv;
mod district_get;
mod exception_resolve;
mod exceptions_get;
mod figures;
mod network_get;
mod network_post;
mod report_get;
mod report_xlsx;
mod stats_get;
mod stats_month_csv;
mod stick_export_post;
mod stick_get;
mod stick_import_post;
mod sync_now_post;
mod sync_peer_add;
mod sync_peer_remove;
mod sync_serial;
mod sync_status_get;
mod union_catalogue_get;
mod visits_get;
mod visits_post;

use std::sync::Arc;

use warp::Reply;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;

use super::auth::Staff;
use super::i18n::Lang;
use super::layout::{self, Frame};
use super::route::{any_of, staff_api_get, staff_form, staff_get, staff_json, with_param};
use super::{ApiError, AppState, PageRequest, form_body};

/// The frame of a staff page of this area.
fn frame<'a>(state: &'a AppState, staff: &'a Staff, request: &'a PageRequest) -> Frame<'a> {
    Frame {
        lang: request.lang,
        library: &state.library.name,
        staff: Some(staff),
        clock_wrong: state.clock_wrong(),
        here: &request.here,
    }
}

/// A staff page, or the error page with the error's status.
fn render(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    back: &str,
    page: Result<(String, String), ApiError>,
) -> warp::reply::Response {
    let frame = frame(state, staff, request);
    match page {
        Ok((title, body)) => layout::reply(
            layout::page(&frame, &title, &body),
            StatusCode::OK,
            request.lang,
            request.lang_in_query,
        ),
        Err(error) => error_page(&frame, &error, back),
    }
}

fn error_page(frame: &Frame<'_>, error: &ApiError, back: &str) -> warp::reply::Response {
    if let ApiError::Internal(detail) = error {
        eprintln!("http: internal error: {detail}");
    }
    let html = layout::error_page(frame, &error.lang_message(frame.lang), back);
    layout::reply(html, error.status(), frame.lang, false)
}

/// A redirect after a successful form post, so a reload does not post again.
fn see_other(location: &str) -> warp::reply::Response {
    match location.parse::<warp::http::Uri>() {
        Ok(uri) => warp::redirect::see_other(uri).into_response(),
        Err(_) => {
            warp::redirect::see_other(warp::http::Uri::from_static("/staff/desk")).into_response()
        }
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(error.to_string())
}

/// A reader category's name in the page's language (unknown ones as stored).
fn category_label(lang: Lang, category: &str) -> String {
    let key = match category {
        "child" => "reports.category.child",
        "student" => "reports.category.student",
        "teacher" => "reports.category.teacher",
        "adult" => "reports.category.adult",
        "" => "reports.category.unknown",
        other => return other.to_owned(),
    };
    lang.t(key).to_owned()
}

/// "800 Văn học" / "800 Literature".
fn class_label(lang: Lang, class: usize) -> String {
    let (code, vi, en) = crate::reports::DDC_CLASSES[class.min(9)];
    format!("{code} {}", lang.pick(vi, en))
}

pub fn routes(state: Arc<AppState>) -> BoxedFilter<(warp::reply::Response,)> {
    let s = &state;
    any_of(vec![
        staff_get(s, warp::path!("staff" / "stats"), stats_get::get),
        staff_api_get(s, warp::path!("api" / "stats"), stats_get::get_json),
        staff_get(
            s,
            warp::path!("staff" / "stats" / "month.csv"),
            stats_month_csv::get,
        ),
        staff_get(
            s,
            warp::path!("staff" / "stats" / "report"),
            report_get::own_page,
        ),
        staff_get(
            s,
            warp::path!("staff" / "stats" / "report.xlsx"),
            report_get::own_xlsx,
        ),
        staff_get(s, warp::path!("staff" / "visits"), visits_get::get),
        staff_form(s, warp::path!("staff" / "visits"), visits_post::post_form),
        staff_json(
            s,
            warp::path!("api" / "visits"),
            |state, who, csrf, input| Ok(visits_post::post_json(state, who, input, csrf)),
        ),
        staff_get(s, warp::path!("staff" / "exceptions"), exceptions_get::get),
        staff_api_get(s, warp::path!("api" / "exceptions"), |state, _| {
            exceptions_get::get_json(state)
        }),
        staff_form(
            s,
            warp::path!("staff" / "exceptions" / "resolve"),
            exception_resolve::post_form,
        ),
        staff_json(
            s,
            warp::path!("api" / "exceptions" / "resolve"),
            |state, who, csrf, input| Ok(exception_resolve::post_json(state, who, input, csrf)),
        ),
        staff_get(s, warp::path!("staff" / "sync"), sync_status_get::get),
        staff_form(
            s,
            warp::path!("staff" / "sync" / "now"),
            sync_now_post::post_form,
        ),
        staff_api_get(s, warp::path!("api" / "sync" / "status"), |state, _| {
            sync_status_get::get_json(state)
        }),
        staff_form(
            s,
            warp::path!("staff" / "sync" / "peers" / "add"),
            sync_peer_add::post_form,
        ),
        staff_form(
            s,
            warp::path!("staff" / "sync" / "peers" / "remove"),
            sync_peer_remove::post_form,
        ),
        staff_get(
            s,
            warp::path!("staff" / "sync" / "carrying"),
            carrying_get::get,
        ),
        staff_api_get(s, warp::path!("api" / "sync" / "carrying"), |state, _| {
            carrying_get::get_json(state)
        }),
        staff_get(
            s,
            warp::path!("staff" / "network"),
            |state, who, request| network_get::get(state, who, request, None, None),
        ),
        with_param(
            s,
            warp::path!("staff" / "network" / String),
            warp::post(),
            form_body(),
            network_post::post_action,
        ),
        staff_get(s, warp::path!("staff" / "stick"), stick_get::get),
        staff_form(
            s,
            warp::path!("staff" / "stick" / "export"),
            stick_export_post::post_form,
        ),
        staff_form(
            s,
            warp::path!("staff" / "stick" / "import"),
            stick_import_post::post_form,
        ),
        staff_get(s, warp::path!("staff" / "district"), district_get::get),
        staff_get(
            s,
            warp::path!("staff" / "district" / "month.csv"),
            district_csv::get,
        ),
        staff_get(
            s,
            warp::path!("staff" / "district" / "report"),
            report_get::district_page,
        ),
        staff_get(
            s,
            warp::path!("staff" / "district" / "report.xlsx"),
            report_get::district_xlsx,
        ),
        staff_get(
            s,
            warp::path!("staff" / "district" / "catalogue"),
            union_catalogue_get::get,
        ),
    ])
}

/// The OpenAPI path items of this area's JSON endpoints.
pub fn openapi_paths() -> serde_json::Value {
    let error = serde_json::json!({"$ref": "#/components/schemas/Error"});
    let err = |description: &str| serde_json::json!({"description": description, "content": {"application/json": {"schema": error.clone()}}});
    let csrf = serde_json::json!({"name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"}, "description": "The session's token from GET /api/session."});
    let months = serde_json::json!({"type": "array", "items": {"type": "integer"}, "minItems": 12, "maxItems": 12, "description": "January first."});
    let resolution = serde_json::json!({
        "type": "object",
        "required": ["token", "kind"],
        "properties": {
            "token": {"type": "string", "description": "What to send as `resolution`: `keep:LOAN`, `close:LOAN:YYYY-MM-DD`, `acknowledge`, `retire:CARD`, or `newcard:REGISTRATION` with `:CARD` appended for the new card number typed (without it the desk picks the first free `<card>-N`)."},
            "kind": {"type": "string", "enum": ["keep_loan", "close_loan_as_returned", "acknowledge", "give_new_card", "retire_card"]},
            "loan": {"type": "string"},
            "registration": {"type": "string"},
            "card": {"type": "string"},
            "on": {"type": "string", "format": "date"}
        }
    });
    // The people of a card registered twice (or replaced), and earlier choices for a case.
    let registrations = serde_json::json!({"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "card": {"type": "string"}, "name": {"type": "string"}, "contact": {"type": "string", "nullable": true}, "desk": {"type": "string"}, "registered": {"type": "string", "format": "date", "nullable": true}}}});
    let history = serde_json::json!({"type": "array", "items": {"type": "object", "properties": {"resolution": {"type": "string"}, "desk": {"type": "string"}, "on": {"type": "string", "format": "date"}}}});
    let link = serde_json::json!({"type": "string", "nullable": true, "enum": ["neighbour", "manual", "hub", "incoming", "usb", "command"], "description": "How the last session came about (null: none since serve started). More kinds may come."});
    let destination = serde_json::json!({"type": "object", "properties": {
        "device": {"type": "string"},
        "role": {"type": "string", "enum": ["appliance", "hub"]},
        "label": {"type": "string"},
        "carries": {"type": "integer", "description": "Changes held here that it was last known to lack."},
        "last_contact": {"type": "string", "format": "date-time", "nullable": true}
    }});
    let loan = serde_json::json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"}, "copy": {"type": "string"}, "reader": {"type": "string"},
            "reader_name": {"type": "string", "nullable": true},
            "out": {"type": "string", "format": "date"}, "due": {"type": "string", "format": "date"},
            "returned": {"type": "string", "format": "date", "nullable": true},
            "desk": {"type": "string"}
        }
    });
    serde_json::json!({
        "/api/stats": {"get": {
            "summary": "A year's statistics",
            "parameters": [{"name": "year", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}, "description": "Defaults to this year."}],
            "responses": {
                "200": {"description": "Loans, visits and in-house uses per month, loans by reader category, the ten most lent titles, the collection by DDC main class.",
                    "content": {"application/json": {"schema": {"type": "object", "required": ["year", "loans_per_month", "visits_per_month", "in_house_per_month", "loans_by_category", "top_titles", "collection_by_class"], "properties": {
                        "year": {"type": "integer"},
                        "loans_per_month": months.clone(),
                        "visits_per_month": months.clone(),
                        "in_house_per_month": months,
                        "loans_by_category": {"type": "array", "items": {"type": "object", "properties": {"category": {"type": "string"}, "loans": {"type": "integer"}}}},
                        "top_titles": {"type": "array", "items": {"type": "object", "properties": {"record": {"type": "string"}, "title": {"type": "string"}, "loans": {"type": "integer"}}}},
                        "collection_by_class": {"type": "array", "items": {"type": "object", "properties": {"class": {"type": "string"}, "name": {"type": "string"}, "name_en": {"type": "string"}, "copies": {"type": "integer"}}}},
                        "unclassified_copies": {"type": "integer"}
                    }}}}},
                "400": err("The year is not valid."),
                "401": err("Not logged in.")
            }
        }},
        "/api/visits": {"post": {
            "summary": "Count visitors at the door",
            "parameters": [csrf.clone()],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["people"], "properties": {"people": {"type": "integer", "minimum": 1, "maximum": 500}}}}}},
            "responses": {
                "200": {"description": "Counted; today's total at all desks.", "content": {"application/json": {"schema": {"type": "object", "required": ["day", "today"], "properties": {"day": {"type": "string", "format": "date"}, "today": {"type": "integer"}}}}}},
                "400": err("`people` is missing or not a number from 1 to 500."),
                "401": err("Not logged in."),
                "403": err("Missing or wrong CSRF token."),
                "413": err("Body over 64 KiB.")
            }
        }},
        "/api/exceptions": {"get": {
            "summary": "The exceptions inbox",
            "description": "What merged circulation from several desks cannot settle alone: copies lent twice, returns without a loan, loans despite a block, a card number registered for two people, a card two desks replaced differently; each with its one-click resolutions and what librarians chose before (`history`).",
            "responses": {
                "200": {"description": "Unresolved exceptions.", "content": {"application/json": {"schema": {"type": "object", "required": ["exceptions"], "properties": {"exceptions": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "resolutions"], "properties": {
                    "id": {"type": "string"},
                    "kind": {"type": "string", "enum": ["copy_lent_twice", "return_without_loan", "loan_despite_block", "card_registered_twice", "card_replaced"]},
                    "card": {"type": "string"},
                    "registrations": registrations,
                    "history": history,
                    "copy": {"type": "string"},
                    "title": {"type": "string", "nullable": true},
                    "loans": {"type": "array", "items": loan},
                    "stray_return": {"type": "object", "properties": {"id": {"type": "string"}, "copy": {"type": "string"}, "on": {"type": "string", "format": "date"}, "desk": {"type": "string"}}},
                    "card_expired": {"type": "boolean"},
                    "reader_blocked": {"type": "boolean"},
                    "resolutions": {"type": "array", "items": resolution}
                }}}}}}}},
                "401": err("Not logged in.")
            }
        }},
        "/api/exceptions/resolve": {"post": {
            "summary": "Resolve one exception",
            "parameters": [csrf],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["exception", "resolution"], "properties": {
                "exception": {"type": "string", "description": "The exception's id."},
                "resolution": {"type": "string", "description": "One of the exception's resolution tokens."}
            }}}}},
            "responses": {
                "200": {"description": "Applied as one commit; the exception left the inbox.", "content": {"application/json": {"schema": {"type": "object", "properties": {"resolved": {"type": "string"}}}}}},
                "400": err("A field is missing, not text, or the resolution is not one this exception offers."),
                "401": err("Not logged in."),
                "403": err("Missing or wrong CSRF token."),
                "404": err("No such exception in the inbox (already resolved?)."),
                "409": err("The new card number is in use or not a card number."),
                "413": err("Body over 64 KiB.")
            }
        }},
        "/api/sync/status": {"get": {
            "summary": "Sync status",
            "description": "This device's id, the peers it has synced with, when, and how many changes each still lacks.",
            "responses": {
                "200": {"description": "The status.", "content": {"application/json": {"schema": {"type": "object", "required": ["device", "peers"], "properties": {
                    "device": {"type": "string"},
                    "changes": {"type": "integer", "description": "Changes this device holds."},
                    "peers": {"type": "array", "items": {"type": "object", "required": ["device", "pending"], "properties": {
                        "device": {"type": "string"},
                        "last_contact": {"type": "string", "format": "date-time", "nullable": true},
                        "sessions": {"type": "integer"},
                        "pending": {"type": "integer", "description": "Changes held here past what the peer was last known to hold."},
                        "link": link.clone()
                    }}},
                    "manual_peers": {"type": "array", "description": "Addresses typed on the sync page, with how their last try went.", "items": {"type": "object", "required": ["address"], "properties": {
                        "address": {"type": "string", "description": "HOST:PORT."},
                        "device": {"type": "string", "nullable": true, "description": "The device that answered there last time."},
                        "last_synced": {"type": "string", "format": "date-time", "nullable": true},
                        "failures": {"type": "integer", "description": "Failed sessions in a row."},
                        "error": {"type": "string", "nullable": true},
                        "running": {"type": "boolean"}
                    }}},
                    "recent_sessions": {"type": "array", "items": {"type": "object", "properties": {
                        "peer": {"type": "string"},
                        "link": link
                    }}}
                }}}}},
                "401": err("Not logged in.")
            }
        }},
        "/api/sync/carrying": {"get": {
            "summary": "What this device carries for whom",
            "description": "For the hub and each library's desks this device knows: changes held here that the destination was last known to lack, in the scopes the two share; per library, `undelivered`: changes of that library the hub was last known to lack (null when no hub is known).",
            "responses": {
                "200": {"description": "The count.", "content": {"application/json": {"schema": {"type": "object", "required": ["hubs", "libraries"], "properties": {
                    "hubs": {"type": "array", "items": destination.clone()},
                    "libraries": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "undelivered": {"type": "integer", "nullable": true},
                        "devices": {"type": "array", "items": destination}
                    }}}
                }}}}},
                "401": err("Not logged in.")
            }
        }}
    })
}
