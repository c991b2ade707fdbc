//! `POST /staff/clock` (form: `csrf`, `phone_time` = milliseconds since 1970 from the phone's
//! JavaScript): takes the phone's time as the appliance's, then goes back to the desk.

use warp::Reply;

use crate::http::auth::Staff;
use crate::http::input::{Field, Input};
use crate::http::layout::{self, Frame};
use crate::http::{ApiError, AppState, PageRequest, check_csrf};

const CSRF: Field = Field::new("csrf", "mã bảo vệ biểu mẫu", "the form token");
const PHONE_TIME: Field = Field::new("phone_time", "giờ của điện thoại", "the phone's time");

pub fn post(
    state: &AppState,
    staff: &Staff,
    request: &PageRequest,
    input: &Input,
) -> warp::reply::Response {
    match set(state, staff, input) {
        Ok(()) => {
            warp::redirect::see_other(warp::http::Uri::from_static("/staff/desk")).into_response()
        }
        Err(error) => {
            let frame = Frame {
                lang: request.lang,
                library: &state.library.name,
                staff: Some(staff),
                clock_wrong: state.clock_wrong(),
                here: "/staff/desk",
            };
            let html = layout::error_page(&frame, &error.lang_message(request.lang), "/staff/desk");
            layout::reply(html, error.status(), request.lang, false)
        }
    }
}

fn set(state: &AppState, staff: &Staff, input: &Input) -> Result<(), ApiError> {
    check_csrf(staff, &input.optional_text(CSRF, 128)?.unwrap_or_default())?;
    // Between 2024 and 2100: a phone that says 1970 is no better than the appliance.
    let millis = input.number(PHONE_TIME, 1_704_067_200_000..=4_102_444_800_000)?;
    let phone = chrono::DateTime::from_timestamp_millis(millis).ok_or(ApiError::BadRequest {
        vi: "Giờ của điện thoại không hợp lệ.".into(),
        en: "The phone's time is not valid.".into(),
    })?;
    state.set_clock(phone)?;
    Ok(())
}
