//! `GET /api/readers/{card}/loans` (staff): a reader's open loans with titles, oldest first →
//! `{card, name, loans: [{loan, barcode, record, title, out, due, renewals, overdue}]}`.

use warp::http::StatusCode;

use super::{desk_error, path_code};
use crate::circulation::library::DeskError;
use crate::db;
use crate::http::{ApiError, AppState, json_reply};

pub fn get(state: &AppState, card: &str) -> Result<warp::reply::Response, ApiError> {
    let card = path_code(card, "bạn đọc", "reader")?;
    let scope = state.desk.scope().as_str().to_owned();
    let today = state.today().format("%Y-%m-%d").to_string();
    let (reader, loans) = state
        .read(|conn| {
            Ok::<_, rusqlite::Error>((
                db::reader_by_card(conn, &scope, &card)?,
                db::open_loan_lines_of_reader(conn, &scope, &card)?,
            ))
        })?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(reader) = reader else {
        return Err(desk_error(DeskError::UnknownReader(card)));
    };
    let loans: Vec<serde_json::Value> = loans
        .iter()
        .map(|line| {
            serde_json::json!({
                "loan": line.loan.id,
                "barcode": line.loan.copy,
                "record": line.record,
                "title": line.title,
                "out": line.loan.out,
                "due": line.loan.due,
                "renewals": line.loan.renewals,
                "overdue": line.loan.due < today,
            })
        })
        .collect();
    Ok(json_reply(
        StatusCode::OK,
        &serde_json::json!({"card": reader.card, "name": reader.name, "loans": loans}),
    ))
}
