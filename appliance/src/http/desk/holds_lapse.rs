//! `POST /staff/holds/lapse` (form: `csrf`): holds whose copy waited past its pickup day
//! lapse, and each copy goes to the next reader in line. Then back to the holds page.

use super::flash::{self, Flash};
use super::{check_form_csrf, desk_error, error_reply, see_other, staff_frame};
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{ApiError, AppState, PageRequest};

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match lapse(state, staff, input) {
        Ok(location) => see_other(&location),
        Err(error) => error_reply(
            &staff_frame(state, staff, request, "/staff/holds"),
            &error,
            "/staff/holds",
        ),
    }
}

fn lapse(state: &AppState, staff: &Staff, input: &Input) -> Result<String, ApiError> {
    check_form_csrf(staff, input)?;
    let today = state.today();
    let moved = state
        .write(|store| state.desk.lapse_holds(store, today))?
        .map_err(desk_error)?;
    let flash = Flash::ok(
        format!(
            "Đã huỷ các lượt giữ sách quá hạn lấy; {} cuốn chuyển cho người kế tiếp.",
            moved.len()
        ),
        format!(
            "Holds not picked up in time have lapsed; {} copies passed to the next in line.",
            moved.len()
        ),
    );
    Ok(format!("/staff/holds?result={}", flash::keep(flash)))
}
