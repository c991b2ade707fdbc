//! `POST /staff/stick/export` (staff, form with `csrf` and `to`, a member's device id): writes
//! a sealed bundle with everything that member lacks on the USB stick, and answers with the
//! stick page saying which file, or why nothing was written (no stick, full, read-only).

use tusach_sync::DeviceId;
use warp::http::StatusCode;

use super::stick_get::{destinations, refusal_of, refused, reply};
use crate::http::auth::Staff;
use crate::http::html::escape;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_form_csrf};
use crate::sync_service::stick::Exported;

const TO: Field = Field::new("to", "máy nhận", "the receiving device");

fn export(state: &AppState, staff: &Staff, input: &Input) -> Result<Exported, ApiError> {
    check_form_csrf(staff, input)?;
    let to = input.text(TO, 64)?;
    let known = destinations(state)?.iter().any(|(id, _)| *id == to);
    let to = DeviceId::parse_hex(&to)
        .filter(|_| known)
        .ok_or_else(|| ApiError::BadRequest {
            vi: "Hãy chọn máy nhận trong danh sách.".into(),
            en: "Choose the receiving device from the list.".into(),
        })?;
    state.sync.export_to_stick(to).map_err(refusal_of)
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match export(state, staff, input) {
        Ok(exported) => {
            let file = exported
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let notice = format!(
                "<p class=\"notice\" data-exported=\"{file}\">{}</p>",
                escape(
                    &request
                        .lang
                        .t("stick.exported")
                        .replace("{file}", &file)
                        .replace("{n}", &exported.summary.changes.to_string())
                ),
                file = escape(&file),
            );
            reply(state, staff, request, StatusCode::OK, &notice)
        }
        Err(error) => refused(state, staff, request, &error),
    }
}
