//! `POST /staff/network/code`, `/staff/network/join` and `/staff/network/revoke` (admins,
//! forms with `csrf`): make a one-time enrolment code at a hub, join a network with one, revoke
//! a member. Each answers with the network page: the code is shown once, never put in a URL.

use std::time::Duration;

use tusach_sync::DeviceId;
use tusach_sync::transport::tcp::unix_now;
use tusach_sync::trust::{self, CodeRequest, EnrolmentCode, MemberRole, NetworkError};

use super::{internal, network_get, see_other};
use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::{ApiError, AppState, PageRequest, check_csrf};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const LIBRARY: Field = Field::new("library", "mã thư viện", "the library id");
const ROLE: Field = Field::new("role", "vai trò", "the role");
const LIBRARIES: Field = Field::new("libraries", "các thư viện khác", "other libraries");
const HUB: Field = Field::new("hub", "địa chỉ máy chủ huyện", "the hub's address");
const CODE: Field = Field::new("code", "mã tham gia", "the enrolment code");
const DEVICE: Field = Field::new("device", "mã máy", "the device id");

/// How long joining waits for a silent hub.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);

fn admin(staff: &Staff, input: &Input) -> Result<(), ApiError> {
    let csrf = input.optional_text(CSRF, 128)?.unwrap_or_default();
    check_csrf(staff, &csrf)?;
    if !staff.admin {
        return Err(ApiError::Forbidden);
    }
    Ok(())
}

fn refused(vi: &str, en: impl std::fmt::Display) -> ApiError {
    ApiError::Conflict {
        vi: format!("{vi} ({en})"),
        en: en.to_string(),
    }
}

fn network_error(error: NetworkError) -> ApiError {
    match error {
        NetworkError::NotHub(_) | NetworkError::NotEnrolled => refused(
            "Chỉ máy chủ huyện đã tham gia mạng lưới mới làm được việc này",
            error,
        ),
        NetworkError::ScopeNotHeld(_) | NetworkError::InvalidScope(_) => {
            refused("Máy chủ này không giữ dữ liệu của thư viện đó", error)
        }
        NetworkError::UnknownDevice(_) => refused("Không biết máy này trong mạng lưới", error),
        other => internal(other),
    }
}

fn make_code(state: &AppState, input: &Input) -> Result<(String, String), ApiError> {
    let library = input.text(LIBRARY, 40)?;
    if !crate::home_library::is_valid_id(&library) {
        return Err(ApiError::BadRequest {
            vi: "Mã thư viện gồm 2–40 chữ thường không dấu, chữ số hoặc '-', ví dụ xa-nghi-phu."
                .into(),
            en: "A library id is 2–40 lowercase letters, digits or '-', e.g. xa-nghi-phu.".into(),
        });
    }
    let role = input.choice(ROLE, &["appliance", "mule", "hub"])?;
    let role = MemberRole::parse(&role).unwrap_or(MemberRole::Appliance);
    let others: Vec<String> = input
        .optional_text(LIBRARIES, 400)?
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = others.iter().find(|l| !crate::home_library::is_valid_id(l)) {
        return Err(ApiError::BadRequest {
            vi: format!("'{bad}' không phải mã thư viện."),
            en: format!("'{bad}' is not a library id."),
        });
    }
    let request = CodeRequest {
        role,
        label: library.clone(),
        scopes: crate::network_cmd::scopes_for(&library, role, &others, false),
        cert_days: 3 * 365,
    };
    let code = state
        .write(|store| trust::make_code(store, &request, unix_now()))?
        .map_err(network_error)?;
    Ok((code.display(), library))
}

fn join(state: &AppState, input: &Input) -> Result<(), ApiError> {
    let hub = input.text(HUB, 200)?;
    let code = EnrolmentCode::parse(&input.text(CODE, 40)?).ok_or(ApiError::BadRequest {
        vi: "Mã tham gia gồm 12 chữ và số, ví dụ K7PM-X2QA-9FRT.".into(),
        en: "The code is 12 letters and digits, like K7PM-X2QA-9FRT.".into(),
    })?;
    let runtime = tokio::runtime::Handle::try_current().map_err(internal)?;
    let service = state.sync.clone();
    let joined = runtime
        .block_on(crate::joining::join(&service, &hub, code, JOIN_TIMEOUT))
        .map_err(|e| match e {
            crate::joining::JoinError::OtherLibrary { .. } => refused(
                "Mã này dành cho một thư viện khác với thư viện máy này phục vụ: hãy xin máy chủ huyện mã cho đúng thư viện",
                e,
            ),
            e => refused(
                "Không tham gia được: kiểm tra địa chỉ máy chủ huyện và mã (mã chỉ dùng một lần, trong 15 phút)",
                e,
            ),
        })?;
    // The first sync brings the catalogue; a failure here is not a failed enrolment.
    if let Err(error) = joined.first_sync {
        eprintln!("first sync with {hub} after joining failed: {error}");
    }
    Ok(())
}

fn revoke(state: &AppState, input: &Input) -> Result<(), ApiError> {
    let device = input.text(DEVICE, 64)?;
    let device = DeviceId::parse_hex(&device).ok_or(ApiError::BadRequest {
        vi: "Mã máy không hợp lệ.".into(),
        en: "Not a device id.".into(),
    })?;
    state
        .write(|store| trust::revoke(store, &device, "thu hồi từ trang mạng lưới", unix_now()))?
        .map_err(network_error)
}

/// `POST /staff/network/{action}`: `code`, `join` or `revoke`; any other action is not a page.
pub fn post_action(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    action: &str,
    input: &Input,
) -> warp::reply::Response {
    if !matches!(action, "code" | "join" | "revoke") {
        let error = ApiError::NotFound {
            vi: "Không có trang này.".into(),
            en: "There is no such page.".into(),
        };
        return super::error_page(
            &super::frame(state, staff, request),
            &error,
            "/staff/network",
        );
    }
    post_form(state, staff, request, input, action)
}

fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
    action: &str,
) -> warp::reply::Response {
    let result = admin(staff, input).and_then(|()| match action {
        "code" => make_code(state, input).map(Some),
        "join" => join(state, input).map(|()| None),
        _ => revoke(state, input).map(|()| None),
    });
    match result {
        Ok(Some(made)) => network_get::get(state, staff, request, Some(made), None),
        Ok(None) => see_other("/staff/network"),
        Err(error) => network_get::get(state, staff, request, None, Some(&error)),
    }
}
