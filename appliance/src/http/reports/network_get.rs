//! `GET /staff/network` (admins): this device's place in the library network. An appliance
//! not yet enrolled shows the form to join with the code its hub shows; a hub shows the form
//! that makes such a code (with a QR for a phone's camera), the members it knows with a button
//! to revoke each, and every refused connection attempt. `POST` handlers are in
//! `network_post.rs`; what they do is `tusach_sync::trust`'s business.

use std::fmt::Write as _;

use tusach_sync::transport::tcp::unix_now;
use tusach_sync::trust::{self, Certificate, MemberRole, Refusal, Standing};

use super::{internal, render};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest};

/// What the page shows, read under one store lock.
pub(super) struct NetworkView {
    pub standing: Standing,
    pub members: Vec<Certificate>,
    pub refusals: Vec<Refusal>,
}

pub(super) fn view(state: &AppState) -> Result<NetworkView, ApiError> {
    state
        .write(|store| {
            Ok::<_, tusach_sync::StoreError>(NetworkView {
                standing: trust::standing(store, unix_now())?,
                members: trust::known_members(store)?,
                refusals: trust::refusals(store, 50)?,
            })
        })?
        .map_err(internal)
}

fn when(lang: Lang, seconds: i64) -> String {
    let _ = lang;
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub(super) fn role_word(lang: Lang, role: MemberRole) -> &'static str {
    match role {
        MemberRole::Appliance => lang.t("reports.network.role_appliance"),
        MemberRole::Hub => lang.t("reports.network.role_hub"),
        MemberRole::Mule => lang.t("reports.network.role_mule"),
    }
}

/// The refused attempts as a table (also shown on the sync page).
pub(super) fn refusals_html(lang: Lang, refusals: &[Refusal]) -> String {
    let mut html = format!("<h2>{}</h2>", lang.t("reports.network.refused"));
    if refusals.is_empty() {
        let _ = write!(html, "<p>{}</p>", lang.t("reports.network.no_refused"));
        return html;
    }
    let _ = write!(
        html,
        "<table data-refusals><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("reports.network.when"),
        lang.t("reports.network.address"),
        lang.t("reports.network.fingerprint"),
        lang.t("reports.network.reason"),
    );
    for r in refusals {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&when(lang, r.at)),
            escape(&r.address),
            escape(&r.fingerprint),
            escape(&r.reason),
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// A QR code of `text` as inline SVG (no script, a few hundred bytes).
pub(super) fn qr_svg(text: &str) -> Option<String> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 2;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                let _ = write!(path, "M{},{}h1v1h-1z", x + border, y + border);
            }
        }
    }
    let full = size + 2 * border;
    Some(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" width=\"200\" height=\"200\" role=\"img\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The page; `made` is a code just made (shown once, never in a URL), `problem` an error to
/// show above the forms.
pub fn get(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    made: Option<(String, String)>,
    problem: Option<&ApiError>,
) -> warp::reply::Response {
    let lang = request.lang;
    let page = (|| {
        if !staff.admin {
            return Err(ApiError::Forbidden);
        }
        let view = view(state)?;
        let title = lang.t("reports.network.title").to_owned();
        let mut html = format!("<h1>{}</h1>", escape(&title));
        if let Some(problem) = problem {
            let _ = write!(
                html,
                "<p class=\"error\" role=\"alert\">{}</p>",
                escape(&problem.lang_message(lang))
            );
        }
        let csrf = escape(&staff.csrf);
        match (&view.standing.network, &view.standing.membership) {
            (Some(network), Some(me)) => {
                let _ = write!(
                    html,
                    "<p data-standing=\"member\">{} <strong>{}</strong> — {} {} <strong>{}</strong>, {} {}.</p>",
                    lang.t("reports.network.member_of"),
                    escape(network),
                    role_word(lang, me.role),
                    lang.t("reports.network.of"),
                    escape(&me.label),
                    lang.t("reports.network.until"),
                    escape(&when(lang, me.expires_at as i64)),
                );
            }
            _ => {
                let problem = view
                    .standing
                    .problem
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                let _ = write!(
                    html,
                    "<p data-standing=\"none\">{}{}</p>\
<form method=\"post\" action=\"/staff/network/join\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label>{}<input name=\"hub\" required placeholder=\"192.168.1.10:7654\" autocomplete=\"off\"></label>\
<label>{}<input name=\"code\" required placeholder=\"K7PM-X2QA-9FRT\" autocomplete=\"off\" autocapitalize=\"characters\"></label>\
<button type=\"submit\">{}</button></form>",
                    lang.t("reports.network.not_member"),
                    escape(&problem),
                    lang.t("reports.network.hub_address"),
                    lang.t("reports.network.code"),
                    lang.t("reports.network.join"),
                );
            }
        }
        let is_hub = view
            .standing
            .membership
            .as_ref()
            .is_some_and(|m| m.role == MemberRole::Hub);
        if is_hub {
            if let Some((code, library)) = &made {
                let _ = write!(
                    html,
                    "<div class=\"card\" data-code><p>{} <strong>{}</strong>:</p><p class=\"big\"><code>{}</code></p>{}<p class=\"hint\">{}</p></div>",
                    lang.t("reports.network.code_for"),
                    escape(library),
                    escape(code),
                    qr_svg(&format!("TUSACH-ENROL:{code}")).unwrap_or_default(),
                    lang.t("reports.network.code_hint"),
                );
            }
            let _ = write!(
                html,
                "<h2>{}</h2><form method=\"post\" action=\"/staff/network/code\" class=\"card\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label>{}<input name=\"library\" required pattern=\"[a-z0-9-]{{2,40}}\" placeholder=\"xa-nghi-phu\"></label>\
<label>{}<select name=\"role\"><option value=\"appliance\">{}</option><option value=\"mule\">{}</option><option value=\"hub\">{}</option></select></label>\
<label>{}<input name=\"libraries\" placeholder=\"xa-a,xa-b\"></label>\
<button type=\"submit\">{}</button></form>",
                lang.t("reports.network.new_code"),
                lang.t("reports.network.library"),
                lang.t("reports.network.role"),
                lang.t("reports.network.role_appliance"),
                lang.t("reports.network.role_mule"),
                lang.t("reports.network.role_hub"),
                lang.t("reports.network.libraries"),
                lang.t("reports.network.make_code"),
            );
        }
        if !view.members.is_empty() {
            let _ = write!(
                html,
                "<h2>{}</h2><table data-members><thead><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
                lang.t("reports.network.members"),
                lang.t("reports.network.device"),
                lang.t("reports.network.role"),
                lang.t("reports.network.library"),
            );
            for member in &view.members {
                let device = member.device().to_hex();
                let revoke = if is_hub && member.device() != state.device {
                    format!(
                        "<form method=\"post\" action=\"/staff/network/revoke\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"device\" value=\"{device}\"><button type=\"submit\" class=\"danger\">{}</button></form>",
                        lang.t("reports.network.revoke")
                    )
                } else {
                    String::new()
                };
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{revoke}</td></tr>",
                    escape(&device[..12]),
                    role_word(lang, member.role),
                    escape(&member.label),
                );
            }
            html.push_str("</tbody></table>");
        }
        html.push_str(&refusals_html(lang, &view.refusals));
        Ok((title, html))
    })();
    render(state, staff, request, "/staff/sync", page)
}
