//! `GET /staff/sync/carrying`: what this device carries for whom, for the district laptop
//! that goes between commune hotspots and the office: the hub first, with how many changes it
//! lacks, then each library with its desks and what of its work the hub has not yet got
//! ("undelivered"). Shown on any device (a desk carries for its neighbours too), linked from
//! the sync page. `GET /api/sync/carrying`: the same as JSON. The counting is
//! [`crate::sync_service::carrying`]'s.

use std::fmt::Write as _;

use warp::http::StatusCode;

use super::sync_status_get::local_time;
use super::{internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest, json_error, json_reply};
use crate::sync_service::carrying::{Carrying, Destination, carrying};

fn read(state: &AppState) -> Result<Carrying, ApiError> {
    let now = tusach_sync::transport::tcp::unix_now();
    state.write(|store| carrying(store, now))?.map_err(internal)
}

fn contact(lang: Lang, destination: &Destination) -> String {
    destination
        .last_contact
        .and_then(local_time)
        .unwrap_or_else(|| lang.t("reports.sync.never").to_owned())
}

fn destination_row(html: &mut String, lang: Lang, destination: &Destination) {
    let id = destination.device.to_hex();
    let _ = write!(
        html,
        "<tr data-destination=\"{id}\"><td>{label} <code class=\"hint\" title=\"{id}\">{short}…</code></td>\
         <td data-carries>{carries}</td><td>{contact}</td></tr>",
        id = escape(&id),
        label = escape(&destination.label),
        short = escape(id.get(..8).unwrap_or(&id)),
        carries = destination.carries,
        contact = escape(&contact(lang, destination)),
    );
}

fn table_head(html: &mut String, lang: Lang) {
    let _ = write!(
        html,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("peers.carrying.device"),
        lang.t("peers.carrying.carries"),
        lang.t("peers.carrying.last_contact"),
    );
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let page = read(state).map(|carried| {
        let title = lang.t("peers.carrying.title").to_owned();
        let mut html = format!(
            "<h1>{}</h1><p class=\"hint\">{}</p><h2>{}</h2>",
            escape(&title),
            lang.t("peers.carrying.intro"),
            lang.t("reports.network.role_hub"),
        );
        if carried.hubs.is_empty() {
            let _ = write!(html, "<p>{}</p>", lang.t("peers.carrying.no_hub"));
        } else {
            table_head(&mut html, lang);
            for hub in &carried.hubs {
                destination_row(&mut html, lang, hub);
            }
            html.push_str("</tbody></table>");
        }
        if carried.libraries.is_empty() {
            let _ = write!(html, "<p>{}</p>", lang.t("peers.carrying.no_libraries"));
        }
        for library in &carried.libraries {
            let undelivered = match library.undelivered {
                Some(count) => count.to_string(),
                None => lang.t("peers.carrying.no_hub").to_owned(),
            };
            let _ = write!(
                html,
                "<section data-library=\"{id}\"><h2>{name}</h2><p>{label}: <strong data-undelivered>{undelivered}</strong></p>",
                id = escape(&library.id),
                name = escape(&library.name),
                label = lang.t("peers.carrying.undelivered"),
                undelivered = escape(&undelivered),
            );
            table_head(&mut html, lang);
            for device in &library.devices {
                destination_row(&mut html, lang, device);
            }
            html.push_str("</tbody></table></section>");
        }
        let _ = write!(
            html,
            "<p class=\"hint\">{}</p><p><a class=\"button\" href=\"/staff/sync\">{}</a></p>",
            lang.t("peers.carrying.hint"),
            lang.t("reports.sync.title"),
        );
        (title, html)
    });
    render(state, staff, request, "/staff/sync", page)
}

fn destination_json(destination: &Destination) -> serde_json::Value {
    serde_json::json!({
        "device": destination.device.to_hex(),
        "role": destination.role.as_str(),
        "label": destination.label,
        "carries": destination.carries,
        "last_contact": destination.last_contact.and_then(|s| {
            chrono::DateTime::from_timestamp(s, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        }),
    })
}

pub fn get_json(state: &AppState) -> warp::reply::Response {
    match read(state) {
        Ok(carried) => json_reply(
            StatusCode::OK,
            &serde_json::json!({
                "hubs": carried.hubs.iter().map(destination_json).collect::<Vec<_>>(),
                "libraries": carried.libraries.iter().map(|library| serde_json::json!({
                    "id": library.id,
                    "name": library.name,
                    "undelivered": library.undelivered,
                    "devices": library.devices.iter().map(destination_json).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }),
        ),
        Err(error) => json_error(&error),
    }
}
