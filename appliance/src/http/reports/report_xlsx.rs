//! A period's report as an `.xlsx` workbook: one row per figure, one column per library (and a
//! total when there are several), numbers as numbers so the district can add them up. The
//! figures and their order are [`super::figures`], the same as the CSV and the printable page.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use warp::Reply;
use warp::http::{HeaderValue, StatusCode};

use super::figures::side_by_side;
use crate::http::i18n::Lang;
use crate::reports::PeriodReport;

/// The workbook of one or more libraries' reports of one period (`period` as
/// [`crate::reports::Period::label`] writes it). Libraries without figures are left out.
pub(super) fn workbook(
    title: &str,
    period: &str,
    libraries: &[(&str, &PeriodReport)],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Báo cáo")?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    sheet.write_string(1, 0, format!("Kỳ báo cáo: {period}"))?;
    let header_row = 3;
    for (col, name) in ["Mã chỉ tiêu", "Chỉ tiêu", "Nhóm"].iter().enumerate() {
        sheet.write_string_with_format(header_row, col as u16, *name, &bold)?;
    }
    let first_library_col: u16 = 3;
    for (i, (library, _)) in libraries.iter().enumerate() {
        sheet.write_string_with_format(
            header_row,
            first_library_col + i as u16,
            *library,
            &bold,
        )?;
    }
    let with_total = libraries.len() > 1;
    let total_col = first_library_col + libraries.len() as u16;
    if with_total {
        sheet.write_string_with_format(header_row, total_col, "Tổng", &bold)?;
    }
    let reports: Vec<&PeriodReport> = libraries.iter().map(|(_, r)| *r).collect();
    for (i, figure) in side_by_side(Lang::Vi, &reports).iter().enumerate() {
        let row = header_row + 1 + i as u32;
        sheet.write_string(row, 0, &figure.code)?;
        sheet.write_string(row, 1, figure.name)?;
        sheet.write_string(row, 2, &figure.group)?;
        for (j, value) in figure.values.iter().enumerate() {
            sheet.write_number(row, first_library_col + j as u16, *value as f64)?;
        }
        if with_total {
            sheet.write_number_with_format(row, total_col, figure.total() as f64, &bold)?;
        }
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 28)?;
    for col in first_library_col..=total_col {
        sheet.set_column_width(col, 16)?;
    }
    sheet.set_freeze_panes(header_row + 1, first_library_col)?;
    book.save_to_buffer()
}

/// An `.xlsx` file to download, not to cache. `file_name` must be plain ASCII without quotes.
pub(super) fn download(body: Vec<u8>, file_name: &str) -> warp::reply::Response {
    let mut response = warp::reply::with_status(body, StatusCode::OK).into_response();
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert("content-disposition", value);
    }
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{LibraryFacts, Period};

    #[test]
    fn a_workbook_is_a_zip_with_a_sheet_named_in_vietnamese() {
        let report = PeriodReport::of(&LibraryFacts::default(), Period::Year(2026));
        let bytes =
            workbook("Thư viện xã Nghi Phú", "2026", &[("Nghi Phú", &report)]).expect("workbook");
        assert!(bytes.starts_with(b"PK\x03\x04"), "not a zip");
        assert!(bytes.len() > 2_000, "{} bytes", bytes.len());
    }
}
