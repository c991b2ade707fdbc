//! `GET /api/session`: the logged-in staff member and the CSRF token their JSON requests
//! send as `X-CSRF-Token`.

use warp::Reply;

use crate::http::auth::Staff;

pub fn get(staff: &Staff) -> warp::reply::Response {
    warp::reply::json(&serde_json::json!({
        "username": staff.username,
        "display_name": staff.display_name,
        "role": if staff.admin { "admin" } else { "librarian" },
        "must_change_password": staff.must_change_password,
        "csrf": staff.csrf,
    }))
    .into_response()
}
