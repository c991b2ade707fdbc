//! `GET /staff/stick`: the USB stick page. It says whether a stick is plugged in and offers
//! "Xuất cho máy chủ huyện" (a sealed bundle for a member, hubs first) and "Nhập từ USB"
//! (every bundle on the stick for this device). Its two forms, `stick_export_post` and
//! `stick_import_post`, answer with this page and their result on top; this file also turns
//! the stick's errors into the librarian's words, for both.

use std::fmt::Write as _;

use tusach_sync::bundle::SealError;
use tusach_sync::trust::MemberRole;
use warp::http::StatusCode;

use super::{error_page, frame, internal};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest, layout};
use crate::sync_service::SyncError;
use crate::sync_service::peers::{PeerIdentity, identities};
use crate::sync_service::stick::StickError;

/// Every member this device could make a bundle for (all but itself), by device id (hex):
/// hubs first, then by label.
pub(super) fn destinations(state: &AppState) -> Result<Vec<(String, PeerIdentity)>, ApiError> {
    let this = state.device.to_hex();
    let mut members: Vec<(String, PeerIdentity)> = state
        .write(identities)?
        .map_err(internal)?
        .into_iter()
        .filter(|(id, _)| *id != this)
        .collect();
    members.sort_by(|(a_id, a), (b_id, b)| {
        (a.role != MemberRole::Hub, &a.label, a_id).cmp(&(
            b.role != MemberRole::Hub,
            &b.label,
            b_id,
        ))
    });
    Ok(members)
}

/// A stick error as the librarian reads it: what happened and what to do.
pub(super) fn refusal_of(error: StickError) -> ApiError {
    let words = |key: &'static str| ApiError::Conflict {
        vi: Lang::Vi.t(key).to_owned(),
        en: Lang::En.t(key).to_owned(),
    };
    match error {
        StickError::NoStick => words("stick.no_stick"),
        StickError::Full(_) => words("stick.full"),
        StickError::ReadOnly(_) => words("stick.read_only"),
        StickError::CannotList { .. } => {
            eprintln!("stick: {error}");
            words("stick.cannot_list")
        }
        StickError::Sync(error) => match *error {
            SyncError::Bundle(
                SealError::UnknownDestination(_) | SealError::DestinationNotMember(..),
            ) => words("stick.destination_not_member"),
            other => internal(other),
        },
    }
}

/// The page after a refused or failed form: the message on top, with the error's status.
pub(super) fn refused(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    error: &ApiError,
) -> warp::reply::Response {
    if let ApiError::Internal(detail) = error {
        eprintln!("http: internal error: {detail}");
    }
    let notice = format!(
        "<p role=\"alert\" class=\"error\">{}</p>",
        escape(&error.lang_message(request.lang))
    );
    reply(state, staff, request, error.status(), &notice)
}

/// The page with `notice` (HTML) under its heading, answered with `status`.
pub(super) fn reply(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    status: StatusCode,
    notice: &str,
) -> warp::reply::Response {
    let lang = request.lang;
    let frame = frame(state, staff, request);
    match body(state, staff, lang, notice) {
        Ok(body) => layout::reply(
            layout::page(&frame, lang.t("stick.title"), &body),
            status,
            lang,
            request.lang_in_query,
        ),
        Err(error) => error_page(&frame, &error, "/staff/sync"),
    }
}

fn body(state: &AppState, staff: &Staff, lang: Lang, notice: &str) -> Result<String, ApiError> {
    let members = destinations(state)?;
    let mut html = format!("<h1>{}</h1>{notice}", lang.t("stick.title"));
    let sticks = state.sync.sticks();
    if sticks.is_empty() {
        let _ = write!(html, "<p data-no-stick>{}</p>", lang.t("stick.none"));
    } else {
        let places = sticks
            .iter()
            .map(|p| format!("<code>{}</code>", escape(&p.display().to_string())))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            html,
            "<p data-sticks>{}: {places}</p>",
            lang.t("stick.found")
        );
    }
    let csrf = escape(&staff.csrf);
    let _ = write!(
        html,
        "<section><h2>{}</h2><p class=\"hint\">{}</p>",
        lang.t("stick.export"),
        lang.t("stick.export_hint")
    );
    if members.is_empty() {
        let _ = write!(html, "<p>{}</p>", lang.t("stick.no_members"));
    } else {
        let _ = write!(
            html,
            "<form class=\"stack\" method=\"post\" action=\"/staff/stick/export\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>{} <select name=\"to\">",
            lang.t("stick.to")
        );
        for (id, identity) in &members {
            let _ = write!(
                html,
                "<option value=\"{id}\">{name} ({short}…)</option>",
                id = escape(id),
                name = escape(&super::sync_status_get::peer_name(lang, Some(identity))),
                short = escape(id.get(..8).unwrap_or(id)),
            );
        }
        let _ = write!(
            html,
            "</select></label><button type=\"submit\">{}</button></form>",
            lang.t("stick.export")
        );
    }
    let _ = write!(
        html,
        "</section><section><h2>{import}</h2><p class=\"hint\">{}</p>\
         <form class=\"stack\" method=\"post\" action=\"/staff/stick/import\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">{import}</button></form></section>\
         <p><a class=\"button\" href=\"/staff/sync\">{}</a></p>",
        lang.t("stick.import_hint"),
        lang.t("reports.sync.title"),
        import = lang.t("stick.import"),
    );
    Ok(html)
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    reply(state, staff, request, StatusCode::OK, "")
}
