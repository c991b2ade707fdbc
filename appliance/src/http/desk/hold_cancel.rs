//! Cancelling a hold: `POST /staff/holds/{id}/cancel` (form: `csrf`) from the holds page, and
//! `POST /api/holds/{id}/cancel` (header `X-CSRF-Token`) → `{hold, cancelled, passed_to}`. A
//! copy that was waiting for the hold passes to the next in line.

use warp::http::StatusCode;

use super::flash::{self, Flash};
use super::{
    check_form_csrf, day, desk_error, desk_error_json, error_reply, path_code, see_other,
    staff_frame,
};
use crate::circulation::library::HoldRoute;
use crate::http::auth::Staff;
use crate::http::input::Input;
use crate::http::{ApiError, AppState, PageRequest, check_csrf, json_reply};

fn cancel(
    state: &AppState,
    hold: &str,
) -> Result<Result<Option<HoldRoute>, crate::circulation::library::DeskError>, ApiError> {
    let hold = path_code(hold, "lượt đặt trước", "hold")?;
    let today = state.today();
    state.write(|store| state.desk.cancel_hold(store, &hold, today))
}

pub fn post_form(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    hold: &str,
    input: &Input,
) -> warp::reply::Response {
    let done =
        check_form_csrf(staff, input).and_then(|()| cancel(state, hold)?.map_err(desk_error));
    match done {
        Ok(route) => {
            let (mut vi, mut en) = (
                "Đã huỷ lượt đặt trước.".to_owned(),
                "Hold cancelled.".to_owned(),
            );
            if let Some(route) = route {
                vi.push_str(&format!(
                    " Cuốn {} chuyển sang giữ cho bạn đọc {} (đến {}).",
                    route.copy,
                    route.reader,
                    day(route.until)
                ));
                en.push_str(&format!(
                    " Copy {} is now set aside for reader {} (until {}).",
                    route.copy,
                    route.reader,
                    day(route.until)
                ));
            }
            see_other(&format!(
                "/staff/holds?result={}",
                flash::keep(Flash::ok(vi, en))
            ))
        }
        Err(error) => error_reply(
            &staff_frame(state, staff, request, "/staff/holds"),
            &error,
            "/staff/holds",
        ),
    }
}

pub fn post_json(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    hold: &str,
) -> Result<warp::reply::Response, ApiError> {
    check_csrf(staff, csrf)?;
    Ok(match cancel(state, hold)? {
        Ok(route) => json_reply(
            StatusCode::OK,
            &serde_json::json!({
                "hold": hold,
                "cancelled": true,
                "passed_to": route.map(|r| serde_json::json!({
                    "hold": r.hold, "card": r.reader, "copy": r.copy,
                    "until": r.until.format("%Y-%m-%d").to_string(),
                })),
            }),
        ),
        Err(error) => desk_error_json(error),
    })
}
