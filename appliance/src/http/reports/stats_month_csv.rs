//! `GET /staff/stats/month.csv?month=YYYY-MM` (or `?period=YYYY-MM|YYYY`): the period's
//! figures as a commune sends them to the district, one row per figure, as a download Excel
//! opens with Vietnamese intact.

use chrono::NaiveDate;
use warp::Reply;
use warp::http::{HeaderValue, StatusCode};

use super::csv::{BOM, line};
use super::figures::figures;
use super::{error_page, frame, internal};
use crate::http::auth::Staff;
use crate::http::i18n::Lang;
use crate::http::{ApiError, AppState, PageRequest};
use crate::reports::{LibraryFacts, Period, PeriodReport};

/// The `period` (or, as older links say, `month`) of a report: `YYYY-MM` or `YYYY`.
pub(super) fn parse_period(text: Option<&str>) -> Result<Period, ApiError> {
    text.and_then(Period::parse)
        .ok_or_else(|| ApiError::BadRequest {
            vi: "Kỳ báo cáo phải là năm-tháng (ví dụ 2026-09) hoặc một năm (ví dụ 2026).".into(),
            en: "The period must be a month like 2026-09 or a year like 2026.".into(),
        })
}

/// The period a report page or file was asked for: `period`, else `month`.
pub(super) fn period_asked(request: &PageRequest) -> Result<Period, ApiError> {
    let asked = request
        .params
        .get("period")
        .or_else(|| request.params.get("month"))
        .map(String::as_str);
    parse_period(asked)
}

/// `YYYY-MM`, from 2000-01 to 2100-12.
pub(super) fn parse_month(text: Option<&str>) -> Result<(i32, u32), ApiError> {
    let bad = || ApiError::BadRequest {
        vi: "Tháng phải có dạng năm-tháng, ví dụ 2026-09.".into(),
        en: "The month must look like 2026-09 (year-month).".into(),
    };
    let text = text.map(str::trim).ok_or_else(bad)?;
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    if !(2000..=2100).contains(&year) || NaiveDate::from_ymd_opt(year, month, 1).is_none() {
        return Err(bad());
    }
    Ok((year, month))
}

pub fn get(state: &AppState, staff: &Staff, request: &PageRequest) -> warp::reply::Response {
    let report = period_asked(request).and_then(|period| own_report(state, period));
    let report = match report {
        Ok(report) => report,
        Err(error) => return error_page(&frame(state, staff, request), &error, "/staff/stats"),
    };
    let period = report.period.label();
    let body = csv(&state.library.name, &period, &report);
    // The library id is lowercase letters, digits and '-' (checked when it was chosen).
    download(body, &format!("tusach-{}-{period}.csv", state.library.id))
}

/// This library's report of `period`.
pub(super) fn own_report(state: &AppState, period: Period) -> Result<PeriodReport, ApiError> {
    let facts = state
        .write(|store| LibraryFacts::gather(store, state.desk.scope()))?
        .map_err(internal)?;
    Ok(PeriodReport::of(&facts, period))
}

/// A CSV file to download, not to cache. `file_name` must be plain ASCII without quotes.
pub(super) fn download(body: String, file_name: &str) -> warp::reply::Response {
    let mut response = warp::reply::with_status(body, StatusCode::OK).into_response();
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert("content-disposition", value);
    }
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

/// The CSV text: a header, then one row per figure.
pub(super) fn csv(library: &str, period: &str, report: &PeriodReport) -> String {
    let mut out = header();
    rows(&mut out, library, period, report);
    out
}

/// The byte-order mark and the header line. The district's file has the same columns, one
/// library after another, so the commune files and the district's paste into one sheet.
pub(super) fn header() -> String {
    let mut out = String::from(BOM);
    out.push_str(&line(&[
        "Thư viện",
        "Kỳ báo cáo",
        "Mã chỉ tiêu",
        "Chỉ tiêu",
        "Nhóm",
        "Số liệu",
    ]));
    out
}

/// One line per figure of one library's period.
pub(super) fn rows(out: &mut String, library: &str, period: &str, report: &PeriodReport) {
    for figure in figures(Lang::Vi, report) {
        out.push_str(&line(&[
            library,
            period,
            &figure.code,
            figure.name,
            &figure.group,
            &figure.value.to_string(),
        ]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_checked() {
        assert_eq!(parse_month(Some("2026-09")).expect("month"), (2026, 9));
        for bad in [
            None,
            Some(""),
            Some("2026-13"),
            Some("2026-9"),
            Some("26-09"),
            Some("2026/09"),
            Some("<script>"),
            Some("1999-12"),
        ] {
            assert!(parse_month(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_csv_starts_with_a_bom_and_quotes_names_with_commas() {
        let report = PeriodReport::of(
            &LibraryFacts::default(),
            Period::Month {
                year: 2026,
                month: 9,
            },
        );
        let text = csv("Thư viện xã \"Nghi Phú\", Nghệ An", "2026-09", &report);
        assert!(text.starts_with('\u{feff}'));
        let mut lines = text.trim_start_matches('\u{feff}').split("\r\n");
        assert_eq!(
            lines.next(),
            Some("Thư viện,Kỳ báo cáo,Mã chỉ tiêu,Chỉ tiêu,Nhóm,Số liệu")
        );
        assert_eq!(
            lines.next(),
            Some("\"Thư viện xã \"\"Nghi Phú\"\", Nghệ An\",2026-09,loans,Lượt mượn,,0")
        );
        assert!(text.contains(
            "collection_by_class.000,Số bản sách theo môn loại,\"000 Tổng quát, tin học\",0\r\n"
        ));
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn in_house_uses_and_new_readers_have_their_rows() {
        let mut report = PeriodReport::of(
            &LibraryFacts::default(),
            Period::Month {
                year: 2026,
                month: 9,
            },
        );
        report.in_house_uses = 7;
        report.new_readers = 3;
        let text = csv("Nghi Phú", "2026-09", &report);
        assert!(
            text.contains("Nghi Phú,2026-09,in_house_uses,Lượt đọc tại chỗ,,7\r\n"),
            "{text}"
        );
        assert!(text.contains("Nghi Phú,2026-09,new_readers,Bạn đọc mới đăng ký,,3\r\n"));
    }
}
