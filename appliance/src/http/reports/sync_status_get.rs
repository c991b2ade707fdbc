//! `GET /staff/sync`: this device's id, the peers it has synced with (named by library and
//! device from their certificates), when it last finished a session with each, and how many
//! changes each still lacks in the scopes they share; then, since serve started, each peer's
//! last attempt, over which kind of link, how it ended and the bytes it moved; the neighbours
//! mDNS shows on this network, members or not; the serial line's last attempt (see
//! [`super::sync_serial`]); the addresses typed by hand, with the form
//! admins add and remove them with; the "sync now" button and the way to the USB stick page.
//! `GET /api/sync/status`: the same as JSON.

use std::fmt::Write as _;

use std::collections::HashMap;

use tusach_sync::trust::MemberRole;

use crate::http::i18n::Lang;
use crate::sync_service::manual_peers::{self, ManualPeerStatus};
use crate::sync_service::neighbours::{NeighbourView, Standing};
use crate::sync_service::peers::{NamedPeer, PeerIdentity, identities, named_peers};
use crate::sync_service::{LinkKind, PeerActivity, SessionOutcome};
use warp::http::StatusCode;

use super::{internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::{ApiError, AppState, PageRequest, json_error, json_reply};

/// The peers, named; every known member's identity (for the recent-sessions table); and how
/// many changes this device holds.
type Statuses = (Vec<NamedPeer>, HashMap<String, PeerIdentity>, i64);

fn statuses(state: &AppState) -> Result<Statuses, ApiError> {
    let now = tusach_sync::transport::tcp::unix_now();
    state
        .write(|store| {
            Ok::<_, tusach_sync::StoreError>((
                named_peers(store, now)?,
                identities(store)?,
                store.feed_len()?,
            ))
        })?
        .map_err(internal)
}

/// "Thư viện xã Nghi Phú — Máy thư viện", or the label when it says more than the library.
pub(super) fn peer_name(lang: Lang, identity: Option<&PeerIdentity>) -> String {
    let Some(identity) = identity else {
        return lang.t("reports.sync.unknown_peer").to_owned();
    };
    let libraries = if identity.all_libraries {
        lang.t("reports.sync.all_libraries").to_owned()
    } else {
        identity
            .libraries
            .iter()
            .map(|(_, name)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = super::network_get::role_word(lang, identity.role);
    let label_is_library = identity
        .libraries
        .iter()
        .any(|(id, _)| *id == identity.label);
    match (libraries.is_empty(), label_is_library) {
        (true, _) => format!("{role} «{}»", identity.label),
        (false, true) => format!("{libraries} — {role}"),
        (false, false) => format!("{libraries} — {role} «{}»", identity.label),
    }
}

fn role_code(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Appliance => "appliance",
        MemberRole::Hub => "hub",
        MemberRole::Mule => "mule",
    }
}

/// A peer's name cell: the name, with the start of its id for whoever must tell two apart.
fn name_cell(lang: Lang, id: &str, identity: Option<&PeerIdentity>) -> String {
    format!(
        "{} <code class=\"hint\" title=\"{id}\">{short}…</code>",
        escape(&peer_name(lang, identity)),
        id = escape(id),
        short = escape(id.get(..8).unwrap_or(id)),
    )
}

pub(super) fn local_time(seconds: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(seconds, 0).map(|t| {
        t.with_timezone(&chrono::Local)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    })
}

/// How a session came about, in the librarian's words.
fn link_word(lang: Lang, link: LinkKind) -> &'static str {
    match link {
        LinkKind::Neighbour => lang.t("peers.link.neighbour"),
        LinkKind::Manual => lang.t("peers.link.manual"),
        LinkKind::Hub => lang.t("peers.link.hub"),
        LinkKind::Incoming => lang.t("peers.link.incoming"),
        LinkKind::Usb => lang.t("peers.link.usb"),
        LinkKind::Command => lang.t("peers.link.command"),
        LinkKind::Serial => lang.t("peers.link.serial"),
    }
}

/// The typed addresses with how their last try went, and (for admins) the forms that add and
/// remove them.
fn typed_addresses(html: &mut String, lang: Lang, staff: &Staff, statuses: &[ManualPeerStatus]) {
    let _ = write!(
        html,
        "<h2 id=\"typed-addresses\">{}</h2><p class=\"hint\">{}</p>",
        lang.t("peers.typed.title"),
        lang.t("peers.typed.hint"),
    );
    if statuses.is_empty() {
        let _ = write!(html, "<p>{}</p>", lang.t("peers.typed.none"));
    } else {
        let _ = write!(
            html,
            "<table data-typed-addresses><thead><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
            lang.t("reports.sync.address"),
            lang.t("peers.typed.last_synced"),
            lang.t("reports.sync.result"),
        );
        for status in statuses {
            let result = match (&status.last_error, status.in_flight) {
                (_, true) => lang.t("peers.typed.running").to_owned(),
                (Some(error), false) => format!(
                    "{} ({}×): {error}",
                    lang.t("reports.sync.failed"),
                    status.failures
                ),
                (None, false) if status.last_synced.is_some() => {
                    lang.t("reports.sync.ok").to_owned()
                }
                (None, false) => lang.t("peers.typed.not_tried").to_owned(),
            };
            let remove = if staff.admin {
                format!(
                    "<form method=\"post\" action=\"/staff/sync/peers/remove\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <input type=\"hidden\" name=\"address\" value=\"{address}\"><button type=\"submit\">{label}</button></form>",
                    csrf = escape(&staff.csrf),
                    address = escape(&status.address),
                    label = lang.t("peers.typed.remove"),
                )
            } else {
                String::new()
            };
            let _ = write!(
                html,
                "<tr data-typed-address=\"{address}\"><td><code>{address}</code></td><td>{synced}</td><td>{result}</td><td>{remove}</td></tr>",
                address = escape(&status.address),
                synced = escape(
                    &status
                        .last_synced
                        .and_then(local_time)
                        .unwrap_or_else(|| lang.t("reports.sync.never").to_owned())
                ),
                result = escape(&result),
            );
        }
        html.push_str("</tbody></table>");
    }
    if staff.admin {
        let _ = write!(
            html,
            "<form method=\"post\" action=\"/staff/sync/peers/add\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>{label} <input name=\"address\" required maxlength=\"300\" placeholder=\"192.168.1.20:7654\" autocomplete=\"off\" spellcheck=\"false\"></label> \
             <button type=\"submit\">{add}</button></form>",
            csrf = escape(&staff.csrf),
            label = lang.t("peers.typed.address"),
            add = lang.t("peers.typed.add"),
        );
    } else {
        let _ = write!(
            html,
            "<p class=\"hint\">{}</p>",
            lang.t("peers.typed.admins_only")
        );
    }
}

/// The recent-sessions table: what the librarian checks when the hub seems not to get her work.
fn activity_table(
    html: &mut String,
    lang: Lang,
    activity: &[PeerActivity],
    names: &HashMap<String, PeerIdentity>,
) {
    let _ = write!(html, "<h2>{}</h2>", lang.t("reports.sync.recent"));
    if activity.is_empty() {
        let _ = write!(html, "<p>{}</p>", lang.t("reports.sync.no_recent"));
        return;
    }
    let _ = write!(
        html,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("reports.sync.peer"),
        lang.t("peers.link"),
        lang.t("reports.sync.last_attempt"),
        lang.t("reports.sync.result"),
        lang.t("reports.sync.bytes"),
    );
    for session in activity {
        let result = match &session.outcome {
            SessionOutcome::Synced {
                changes_sent,
                new_changes,
            } => format!(
                "{}: {} {changes_sent}, {} {new_changes}",
                lang.t("reports.sync.ok"),
                lang.t("reports.sync.sent"),
                lang.t("reports.sync.received"),
            ),
            SessionOutcome::Failed(error) => {
                format!("{}: {error}", lang.t("reports.sync.failed"))
            }
        };
        let _ = write!(
            html,
            "<tr data-session=\"{peer}\"><td>{name}</td><td data-link=\"{code}\">{link}</td><td>{when}</td><td>{result}</td><td>{out} ↑ {inn} ↓</td></tr>",
            peer = escape(&session.peer),
            code = session.link.code(),
            link = escape(link_word(lang, session.link)),
            // Before a peer says hello only its address is known; that shows as it is.
            name = match names.get(&session.peer) {
                Some(identity) => name_cell(lang, &session.peer, Some(identity)),
                None => format!("<code>{}</code>", escape(&session.peer)),
            },
            when = escape(&local_time(session.last_attempt).unwrap_or_default()),
            result = escape(&result),
            out = session.bytes_out,
            inn = session.bytes_in,
        );
    }
    html.push_str("</tbody></table>");
}

fn standing_code(standing: Standing) -> &'static str {
    match standing {
        Standing::Member => "member",
        Standing::Stranger => "stranger",
        Standing::Revoked => "revoked",
    }
}

/// What an announcement claims, in words: "xa-nghi-phu — appliance". Unverified until a
/// session proves it, which the table's heading says.
fn claimed_name(neighbour: &NeighbourView) -> String {
    let sighting = &neighbour.sighting;
    let id = sighting.device.map(|d| d.to_hex()).unwrap_or_default();
    match (sighting.library.is_empty(), sighting.role.is_empty()) {
        (false, _) => format!("{} — {}", sighting.library, sighting.role),
        (true, false) => format!("{} {}", sighting.role, id.get(..8).unwrap_or(&id)),
        (true, true) => sighting.instance.clone(),
    }
}

/// The neighbours on this network: who they say they are, and whether this device syncs with
/// them by itself.
fn neighbours_table(html: &mut String, lang: Lang, neighbours: &[NeighbourView]) {
    let _ = write!(html, "<h2>{}</h2>", lang.t("reports.sync.neighbours"));
    if neighbours.is_empty() {
        let _ = write!(
            html,
            "<p>{}</p><p class=\"hint\">{}</p>",
            lang.t("reports.sync.no_neighbours"),
            lang.t("reports.sync.neighbours_hint")
        );
        return;
    }
    let _ = write!(
        html,
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("reports.sync.neighbour"),
        lang.t("reports.sync.address"),
        lang.t("reports.sync.standing"),
        lang.t("reports.sync.last_seen"),
        lang.t("reports.sync.result"),
    );
    for neighbour in neighbours {
        let standing = match neighbour.standing {
            Standing::Member => lang.t("reports.sync.standing_member"),
            Standing::Stranger => lang.t("reports.sync.standing_stranger"),
            Standing::Revoked => lang.t("reports.sync.standing_revoked"),
        };
        let result = match &neighbour.last_error {
            Some(error) => format!(
                "{} ({}×): {error}",
                lang.t("reports.sync.failed"),
                neighbour.failures
            ),
            None => String::new(),
        };
        let addresses = neighbour
            .sighting
            .addresses
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            html,
            "<tr data-neighbour=\"{id}\" data-standing=\"{code}\"><td>{name}</td><td><code>{addresses}</code></td><td>{standing}</td><td>{seen}</td><td>{result}</td></tr>",
            id = escape(
                &neighbour
                    .sighting
                    .device
                    .map(|d| d.to_hex())
                    .unwrap_or_default()
            ),
            code = standing_code(neighbour.standing),
            name = escape(&claimed_name(neighbour)),
            addresses = escape(&addresses),
            standing = escape(standing),
            seen = escape(&local_time(neighbour.last_seen).unwrap_or_default()),
            result = escape(&result),
        );
    }
    let _ = write!(
        html,
        "</tbody></table><p class=\"hint\">{}</p>",
        lang.t("reports.sync.neighbours_hint")
    );
}

fn when(seconds: Option<i64>) -> Option<String> {
    seconds
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let lang = request.lang;
    let page = statuses(state).map(|(peers, names, changes)| {
        let title = lang.t("reports.sync.title").to_owned();
        let mut html = format!(
            "<h1>{}</h1><form method=\"post\" action=\"/staff/sync/now\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{now}</button></form>\
             <p>{}: <code data-device>{}</code></p><p>{}: {changes}</p>",
            escape(&title),
            lang.t("reports.sync.device"),
            escape(&state.device.to_hex()),
            lang.t("reports.sync.changes"),
            csrf = escape(&staff.csrf),
            now = lang.t("reports.sync.now"),
        );
        if peers.is_empty() {
            let _ = write!(html, "<p>{}</p>", lang.t("reports.sync.no_peers"));
        } else {
            let _ = write!(
                html,
                "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                lang.t("reports.sync.peer"),
                lang.t("reports.sync.last_contact"),
                lang.t("peers.link"),
                lang.t("reports.sync.pending"),
            );
            for named in &peers {
                let peer = &named.status;
                let contact = peer
                    .last_contact
                    .and_then(local_time)
                    .unwrap_or_else(|| lang.t("reports.sync.never").to_owned());
                // Known for sessions since serve started; older ones left no link behind.
                let link = state.sync.last_session_with(&peer.peer).map(|last| last.link);
                let _ = write!(
                    html,
                    "<tr data-peer=\"{id}\"><td>{name}</td><td>{contact}</td><td data-link=\"{code}\">{link}</td><td>{pending}</td></tr>",
                    id = escape(&peer.peer.to_hex()),
                    name = name_cell(lang, &peer.peer.to_hex(), named.identity.as_ref()),
                    contact = escape(&contact),
                    code = link.map(LinkKind::code).unwrap_or_default(),
                    link = escape(link.map(|l| link_word(lang, l)).unwrap_or("—")),
                    pending = peer.pending,
                );
            }
            html.push_str("</tbody></table>");
            let _ = write!(
                html,
                "<p class=\"hint\">{}</p>",
                lang.t("reports.sync.pending_hint")
            );
        }
        neighbours_table(&mut html, lang, &state.sync.neighbours());
        html.push_str(&super::sync_serial::section(
            lang,
            state.sync.serial_status().as_ref(),
        ));
        match manual_peers::statuses(&state.sync) {
            Ok(statuses) => typed_addresses(&mut html, lang, staff, &statuses),
            Err(error) => eprintln!("the sync page: typed addresses unreadable: {error}"),
        }
        activity_table(&mut html, lang, &state.sync.activity(), &names);
        let refusals = state
            .write(|store| tusach_sync::trust::refusals(store, 50))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        html.push_str(&super::network_get::refusals_html(lang, &refusals));
        let _ = write!(
            html,
            "<p><a class=\"button\" href=\"/staff/sync/carrying\">{}</a> <a class=\"button\" href=\"/staff/stick\">{}</a> <a class=\"button\" href=\"/staff/network\">{}</a></p>",
            lang.t("peers.carrying.title"),
            lang.t("stick.title"),
            lang.t("reports.network.title")
        );
        (title, html)
    });
    render(state, staff, request, "/staff/sync", page)
}

pub fn get_json(state: &AppState) -> warp::reply::Response {
    match statuses(state) {
        Ok((peers, names, changes)) => json_reply(
            StatusCode::OK,
            &serde_json::json!({
                "device": state.device.to_hex(),
                "changes": changes,
                "peers": peers.iter().map(|named| {
                    let p = &named.status;
                    let identity = named.identity.as_ref();
                    serde_json::json!({
                        "device": p.peer.to_hex(),
                        "name": peer_name(Lang::Vi, identity),
                        "name_en": peer_name(Lang::En, identity),
                        "role": identity.map(|i| role_code(i.role)),
                        "label": identity.map(|i| i.label.as_str()),
                        "libraries": identity.map(|i| i.libraries.iter().map(|(id, name)| {
                            serde_json::json!({"id": id, "name": name})
                        }).collect::<Vec<_>>()),
                        "all_libraries": identity.is_some_and(|i| i.all_libraries),
                        "last_contact": when(p.last_contact),
                        "sessions": p.sessions,
                        "pending": p.pending,
                        "link": state.sync.last_session_with(&p.peer).map(|last| last.link.code()),
                    })
                }).collect::<Vec<_>>(),
                "refused": state
                    .write(|store| tusach_sync::trust::refusals(store, 50))
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default()
                    .iter()
                    .map(|r| serde_json::json!({
                        "at": when(Some(r.at)),
                        "address": r.address,
                        "fingerprint": r.fingerprint,
                        "reason": r.reason,
                    }))
                    .collect::<Vec<_>>(),
                "neighbours": state.sync.neighbours().iter().map(|n| serde_json::json!({
                    "device": n.sighting.device.map(|d| d.to_hex()),
                    "instance": n.sighting.instance,
                    "library": n.sighting.library,
                    "role": n.sighting.role,
                    "addresses": n.sighting.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                    "standing": standing_code(n.standing),
                    "last_seen": when(Some(n.last_seen)),
                    "failures": n.failures,
                    "error": n.last_error,
                })).collect::<Vec<_>>(),
                "serial": super::sync_serial::json(state.sync.serial_status().as_ref()),
                "manual_peers": manual_peers::statuses(&state.sync)
                    .unwrap_or_default()
                    .iter()
                    .map(|m| serde_json::json!({
                        "address": m.address,
                        "device": m.device.map(|d| d.to_hex()),
                        "last_synced": when(m.last_synced),
                        "failures": m.failures,
                        "error": m.last_error,
                        "running": m.in_flight,
                    }))
                    .collect::<Vec<_>>(),
                "recent_sessions": state.sync.activity().iter().map(|a| serde_json::json!({
                    "peer": a.peer,
                    "link": a.link.code(),
                    "name": names.get(&a.peer).map(|i| peer_name(Lang::Vi, Some(i))),
                    "last_attempt": when(Some(a.last_attempt)),
                    "ok": matches!(a.outcome, SessionOutcome::Synced { .. }),
                    "error": match &a.outcome {
                        SessionOutcome::Failed(error) => Some(error.as_str()),
                        SessionOutcome::Synced { .. } => None,
                    },
                    "changes_sent": match a.outcome {
                        SessionOutcome::Synced { changes_sent, .. } => changes_sent,
                        SessionOutcome::Failed(_) => 0,
                    },
                    "new_changes": match a.outcome {
                        SessionOutcome::Synced { new_changes, .. } => new_changes,
                        SessionOutcome::Failed(_) => 0,
                    },
                    "bytes_in": a.bytes_in,
                    "bytes_out": a.bytes_out,
                })).collect::<Vec<_>>(),
            }),
        ),
        Err(error) => json_error(&error),
    }
}
