//! Text on labels: the embedded Noto Sans, Vietnamese in one normal form, and lines measured
//! before they are drawn so that a long title is shortened with "…" instead of running off
//! its label.
//!
//! Text is normalised to NFC first: Noto Sans has a precomposed glyph for every Vietnamese
//! letter, so "ễ" typed as e + circumflex + tilde (NFD, as some keyboards and old files give
//! it) prints and copies out of the PDF exactly like the precomposed letter.

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// Noto Sans (SIL Open Font License, `web-ui/fonts/OFL.txt`), embedded so the binary alone
/// prints labels: it covers every Vietnamese letter, where Liberation and DejaVu Mono do not.
pub const REGULAR: &[u8] = include_bytes!("../../../web-ui/fonts/NotoSans-Regular.ttf");
pub const BOLD: &[u8] = include_bytes!("../../../web-ui/fonts/NotoSans-Bold.ttf");

/// The two faces for measuring; `None` only if the embedded files were not fonts.
static FACES: LazyLock<Option<(rustybuzz::Face<'static>, rustybuzz::Face<'static>)>> =
    LazyLock::new(|| {
        Some((
            rustybuzz::Face::from_slice(REGULAR, 0)?,
            rustybuzz::Face::from_slice(BOLD, 0)?,
        ))
    });

/// Regular or bold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// `text` as one printable line: NFC, control characters and runs of white space made one
/// space, trimmed.
pub fn clean(text: &str) -> String {
    let nfc: String = text.nfc().collect();
    nfc.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The width of `text` in points at `size` points.
pub fn width(text: &str, weight: Weight, size: f32) -> f32 {
    let Some((regular, bold)) = FACES.as_ref() else {
        return 0.0;
    };
    let face = match weight {
        Weight::Regular => regular,
        Weight::Bold => bold,
    };
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(face, &[], buffer);
    let units: i64 = shaped
        .glyph_positions()
        .iter()
        .map(|p| i64::from(p.x_advance))
        .sum();
    units as f32 * size / face.units_per_em().max(1) as f32
}

/// `text` (already [`clean`]) shortened with "…" so that it is at most `max_width` points wide
/// at `size`; whole characters are dropped from the end, never half a letter.
pub fn fit(text: &str, weight: Weight, size: f32, max_width: f32) -> String {
    if width(text, weight, size) <= max_width {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let shortened = format!("{}…", chars.iter().collect::<String>().trim_end());
        if width(&shortened, weight, size) <= max_width {
            return shortened;
        }
    }
    String::new()
}

/// The largest size from `size` down to `smallest` at which `text` fits in `max_width`, or
/// `smallest` when it fits at none (then [`fit`] shortens it).
pub fn size_to_fit(text: &str, weight: Weight, size: f32, smallest: f32, max_width: f32) -> f32 {
    let needed = width(text, weight, size);
    if needed <= max_width || needed <= 0.0 {
        return size;
    }
    (size * max_width / needed).max(smallest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precomposed_and_decomposed_vietnamese_become_the_same_text() {
        let nfd = "Nguye\u{302}\u{303}n Thi\u{323} Thu\u{31b}\u{300}a";
        let nfc = "Nguyễn Thị Thừa";
        assert_ne!(nfd, nfc);
        assert_eq!(clean(nfd), nfc);
        assert_eq!(clean(nfc), nfc);
        // Same glyphs, same width: NFD no longer draws marks as separate glyphs.
        assert_eq!(
            width(&clean(nfd), Weight::Regular, 10.0),
            width(nfc, Weight::Regular, 10.0)
        );
        assert_eq!(
            clean("  Dế Mèn\tphiêu\n\u{7}lưu ký "),
            "Dế Mèn phiêu lưu ký"
        );
    }

    #[test]
    fn lines_are_measured_and_shortened_to_fit() {
        let one = width("Đ", Weight::Regular, 10.0);
        assert!(one > 3.0 && one < 10.0, "{one}");
        assert!(width("Đường", Weight::Bold, 10.0) > width("Đường", Weight::Regular, 10.0));
        assert_eq!(
            width("Đường", Weight::Regular, 20.0),
            2.0 * width("Đường", Weight::Regular, 10.0)
        );
        let title = "Những ngôi sao xa xôi và những truyện ngắn khác";
        let full = width(title, Weight::Regular, 8.0);
        assert_eq!(fit(title, Weight::Regular, 8.0, full + 1.0), title);
        let short = fit(title, Weight::Regular, 8.0, full / 2.0);
        assert!(short.ends_with('…') && short.len() < title.len(), "{short}");
        assert!(width(&short, Weight::Regular, 8.0) <= full / 2.0);
        assert!(title.starts_with(short.trim_end_matches('…')));
        assert_eq!(fit(title, Weight::Regular, 8.0, 0.5), "");
        let size = size_to_fit(title, Weight::Regular, 8.0, 5.0, full * 0.8);
        assert!(
            (5.0..8.0).contains(&size) && width(title, Weight::Regular, size) <= full * 0.8 + 0.01
        );
        assert_eq!(
            size_to_fit(title, Weight::Regular, 8.0, 7.0, full / 2.0),
            7.0
        );
    }
}
