//! `GET /staff/district/month.csv?month=YYYY-MM`: every library's month in one file, in the
//! columns and rows of a commune's own month CSV, one library after another. A library whose
//! data this device does not hold has no rows (its page row says so).

use super::district_get::{district_month, month_asked};
use super::stats_month_csv::{download, header, rows};
use super::{error_page, frame};
use crate::http::auth::Staff;
use crate::http::{AppState, PageRequest};

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let asked = month_asked(state, request)
        .and_then(|(year, month)| Ok((year, month, district_month(state, year, month)?)));
    let (year, month, months) = match asked {
        Ok(asked) => asked,
        Err(error) => {
            return error_page(&frame(state, staff, request), &error, "/staff/district");
        }
    };
    let month_text = format!("{year:04}-{month:02}");
    let mut body = header();
    for library in &months {
        if let Some(report) = &library.report {
            rows(&mut body, &library.library.name, &month_text, report);
        }
    }
    download(body, &format!("tusach-huyen-{month_text}.csv"))
}
