//! Spine labels: the call number a reader looks for on the shelf, the copy's barcode that the
//! desk scans, and the start of the title so the librarian sticks each label on the right
//! book.
//!
//! The call number is the library's own where it wrote one: the part of the copy's shelf
//! field after the dash ("Kệ 9 – 895.922 NGU"). Where that part is only a class number (or
//! there is none, and the record's DDC number stands in), an author mark follows it: the
//! first three letters of the first author's name as catalogued, in capitals, or of the title
//! when there is no author, as small Vietnamese libraries commonly do.

use super::code128;
use super::pdf::{self, Align, Label, PT_PER_MM};
use super::text::{self, Weight};
use super::{LabelError, Layout, check_count};

/// One copy's spine label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpineLabel {
    pub barcode: String,
    /// "895.922 NGU".
    pub call_number: String,
    /// The shelf, printed small beside the call number ("Kệ 9"); may be empty.
    pub shelf: String,
    pub title: String,
}

impl SpineLabel {
    /// The label of a copy with `shelf_field` as stored ("Kệ 9 – 895.922"), of a record with
    /// `ddc`, `authors` and `title`.
    pub fn of_copy(
        barcode: &str,
        shelf_field: &str,
        ddc: Option<&str>,
        authors: &[String],
        title: &str,
    ) -> SpineLabel {
        let shelf_field = text::clean(shelf_field);
        let (shelf, call) = match shelf_field
            .split_once(" – ")
            .or_else(|| shelf_field.split_once(" - "))
        {
            Some((shelf, call)) => (shelf.trim().to_owned(), call.trim().to_owned()),
            // A shelf field that is only a class number is a call number without a shelf.
            None if shelf_field.starts_with(|c: char| c.is_ascii_digit()) => {
                (String::new(), shelf_field.clone())
            }
            None => (shelf_field.clone(), String::new()),
        };
        let call = if call.is_empty() {
            text::clean(ddc.unwrap_or_default())
        } else {
            call
        };
        let call_number = if call.chars().any(char::is_alphabetic) {
            // The library wrote its own mark (or a Cutter number): printed as it is.
            call
        } else {
            let mark = author_mark(authors, title);
            [call.as_str(), mark.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        };
        SpineLabel {
            barcode: barcode.to_owned(),
            call_number,
            shelf,
            title: text::clean(title),
        }
    }
}

/// The first three letters of the first author's name (of the title without one), capitals.
pub fn author_mark(authors: &[String], title: &str) -> String {
    let source = authors
        .iter()
        .map(|a| text::clean(a))
        .find(|a| a.chars().any(char::is_alphabetic))
        .unwrap_or_else(|| text::clean(title));
    source
        .chars()
        .filter(|c| c.is_alphabetic())
        .take(3)
        .flat_map(char::to_uppercase)
        .collect()
}

/// A label's barcode, checked before any page is drawn.
struct Ready<'a> {
    label: &'a SpineLabel,
    modules: Vec<bool>,
}

fn padding(h_mm: f32) -> f32 {
    (h_mm * 0.07).clamp(1.2, 2.5)
}

/// A PDF of spine labels on `layout`, leaving the first `skip` labels of the sheet unused.
pub fn spine_labels_pdf(
    labels: &[SpineLabel],
    layout: &Layout,
    skip: usize,
) -> Result<Vec<u8>, LabelError> {
    check_count(labels.len())?;
    layout.cells(labels.len(), skip)?;
    let bar_width = layout.label_mm.0 - 2.0 * padding(layout.label_mm.1);
    let ready = labels
        .iter()
        .map(|label| {
            let modules = code128::modules(&label.barcode)?;
            if pdf::barcode_min_width_mm(modules.len()) > bar_width {
                return Err(LabelError::BarcodeTooWide {
                    barcode: label.barcode.clone(),
                    layout: layout.name,
                });
            }
            Ok(Ready { label, modules })
        })
        .collect::<Result<Vec<_>, _>>()?;
    pdf::sheets(&ready, layout, skip, "Nhãn gáy sách", draw)
}

/// Points for a line `row_mm` high (Noto Sans's line is about 1.36 em; a little tighter
/// here, labels have no line spacing to spare).
fn size_for_row(row_mm: f32) -> f32 {
    row_mm * PT_PER_MM / 1.25
}

fn draw(pen: &mut Label<'_, '_>, ready: &Ready<'_>) {
    let (w, h) = (pen.width_mm(), pen.height_mm());
    let pad = padding(h);
    let (inner_w, inner_h) = (w - 2.0 * pad, h - 2.0 * pad);
    let (call_row, title_row, bars_row, digits_row) = (
        inner_h * 0.26,
        inner_h * 0.15,
        inner_h * 0.40,
        inner_h * 0.14,
    );
    let gap = (inner_h - call_row - title_row - bars_row - digits_row) / 2.0;
    let label = ready.label;

    // The call number, large and bold; the shelf small at the right.
    let call_size = size_for_row(call_row);
    let shelf_size = call_size * 0.6;
    let shelf = text::fit(
        &label.shelf,
        Weight::Regular,
        shelf_size,
        inner_w * 0.4 * PT_PER_MM,
    );
    let shelf_w = text::width(&shelf, Weight::Regular, shelf_size) / PT_PER_MM;
    let call_w = inner_w - if shelf.is_empty() { 0.0 } else { shelf_w + 2.0 };
    let call_size = text::size_to_fit(
        &label.call_number,
        Weight::Bold,
        call_size,
        call_size * 0.6,
        call_w * PT_PER_MM,
    );
    let call = text::fit(
        &label.call_number,
        Weight::Bold,
        call_size,
        call_w * PT_PER_MM,
    );
    let call_baseline = pad + call_row * 0.8;
    pen.text(
        &call,
        Weight::Bold,
        call_size,
        (pad, call_w),
        call_baseline,
        Align::Left,
    );
    pen.text(
        &shelf,
        Weight::Regular,
        shelf_size,
        (pad, inner_w),
        call_baseline,
        Align::Right,
    );

    let title_size = size_for_row(title_row);
    let title = text::fit(
        &label.title,
        Weight::Regular,
        title_size,
        inner_w * PT_PER_MM,
    );
    let title_baseline = pad + call_row + title_row * 0.8;
    pen.text(
        &title,
        Weight::Regular,
        title_size,
        (pad, inner_w),
        title_baseline,
        Align::Left,
    );

    let bars_top = pad + call_row + title_row + gap;
    pen.bars(&ready.modules, (pad, inner_w), bars_top, bars_row);
    let digits_baseline = bars_top + bars_row + gap + digits_row * 0.8;
    pen.text(
        &label.barcode,
        Weight::Regular,
        size_for_row(digits_row),
        (pad, inner_w),
        digits_baseline,
        Align::Centre,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(shelf: &str, ddc: Option<&str>, authors: &[&str], title: &str) -> SpineLabel {
        let authors: Vec<String> = authors.iter().map(|a| a.to_string()).collect();
        SpineLabel::of_copy("TS000001", shelf, ddc, &authors, title)
    }

    #[test]
    fn call_numbers_come_from_the_shelf_field_or_the_record() {
        for (shelf, ddc, authors, call, on_shelf) in [
            // The shelf field's class number, and the author's mark.
            (
                "Kệ 9 – 895.922",
                Some("895.9223"),
                &["Nguyễn Nhật Ánh"][..],
                "895.922 NGU",
                "Kệ 9",
            ),
            // The library's own call number is printed as it is.
            (
                "Kệ 9 – 895.922 T 550",
                None,
                &["Tô Hoài"],
                "895.922 T 550",
                "Kệ 9",
            ),
            (
                "Kệ 6 - 633.18",
                None,
                &["Đặng Văn Hùng"],
                "633.18 ĐẶN",
                "Kệ 6",
            ),
            // No call number on the shelf: the record's DDC number.
            ("Kệ chung", Some("363.7"), &[], "363.7 SỔT", "Kệ chung"),
            ("", Some("641.5"), &["  ", "Lê Thị Mai"], "641.5 LÊT", ""),
            ("398.2", None, &["Khuyết danh"], "398.2 KHU", ""),
            ("", None, &[], "SỔT", ""),
        ] {
            let made = label(shelf, ddc, authors, "Sổ tay nhà nông");
            assert_eq!(
                (made.call_number.as_str(), made.shelf.as_str()),
                (call, on_shelf),
                "{shelf}"
            );
        }
    }

    #[test]
    fn the_author_mark_is_taken_after_normalising() {
        let nfd = "Đa\u{323}\u{306}ng Thu\u{300}y".to_string();
        assert_eq!(author_mark(&[nfd], ""), "ĐẶN");
        assert_eq!(author_mark(&[], "  \"Ô\" – ăn quan"), "ÔĂN");
    }
}
