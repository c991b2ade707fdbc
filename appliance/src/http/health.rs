//! `GET /healthz`: the appliance answers and its catalogue index can be read; it also says
//! which library it serves (what the Pi's `tusach.txt` set), for the image's checks.

use warp::Reply;
use warp::http::StatusCode;

use super::AppState;

pub fn get(state: &AppState) -> warp::reply::Response {
    let records = state.read(crate::db::record_count);
    match records {
        Ok(Ok(count)) => warp::reply::json(&serde_json::json!({
            "status": "ok",
            "device": state.device.to_hex(),
            "library": state.library.id,
            "library_name": state.library.name,
            "records": count,
        }))
        .into_response(),
        _ => warp::reply::with_status(
            warp::reply::json(&serde_json::json!({"status": "unavailable"})),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .into_response(),
    }
}
