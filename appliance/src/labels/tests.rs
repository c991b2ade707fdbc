//! Whole sheets: what is refused before drawing, and what a drawn PDF holds. The PDF's text
//! and barcodes are read back by real tools in `tests/tests/labels.rs`.

use super::*;

fn spine(barcode: &str, title: &str) -> SpineLabel {
    SpineLabel::of_copy(
        barcode,
        "Kệ 9 – 895.922",
        Some("895.922"),
        &["Nguyễn Nhật Ánh".to_owned()],
        title,
    )
}

fn card(number: &str, name: &str) -> ReaderCard {
    ReaderCard {
        card: number.to_owned(),
        name: name.to_owned(),
        details: vec!["Học sinh · Lớp 5A".to_owned()],
    }
}

fn heading() -> CardHeading {
    CardHeading {
        library: "Thư viện xã Nghi Phú".to_owned(),
        title: "THẺ BẠN ĐỌC".to_owned(),
    }
}

fn layout(name: &str) -> &'static Layout {
    Layout::named(name).expect(name)
}

/// How many page objects a PDF has (`/Type/Page`, not `/Type/Pages`; krilla writes no spaces
/// there). Poppler counts them in `tests/tests/labels.rs`.
fn pages(pdf: &[u8]) -> usize {
    pdf.windows(11)
        .filter(|w| w.starts_with(b"/Type/Page") && w[10] != b's')
        .count()
}

#[test]
fn a_sheet_of_spine_labels_is_a_pdf_with_a_page_per_sheet() {
    let labels: Vec<SpineLabel> = (0..30)
        .map(|n| spine(&format!("TS{n:06}"), "Tôi thấy hoa vàng trên cỏ xanh"))
        .collect();
    let pdf = spine_labels_pdf(&labels, layout("a4-3x8"), 0).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    // 30 labels of 24 a sheet: two pages; with 20 used, three.
    assert_eq!(pages(&pdf), 2);
    let skipped = spine_labels_pdf(&labels, layout("a4-3x8"), 20).expect("pdf");
    assert_eq!(pages(&skipped), 3);
    // The font is embedded as a subset, so a sheet stays small.
    assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
}

#[test]
fn cards_with_decomposed_names_are_drawn_like_precomposed_ones() {
    let nfc = reader_cards_pdf(
        &[card("BD0001", "Nguyễn Thị Hoà")],
        &heading(),
        layout("a4-2x5-cards"),
        0,
    )
    .expect("pdf");
    let nfd = reader_cards_pdf(
        &[card("BD0001", "Nguye\u{302}\u{303}n Thi\u{323} Hoa\u{300}")],
        &heading(),
        layout("a4-2x5-cards"),
        0,
    )
    .expect("pdf");
    // Normalised first, the same glyphs are embedded and drawn: byte for byte the same
    // content (krilla's output has no date or random id).
    assert_eq!(nfc, nfd);
}

#[test]
fn what_cannot_be_printed_is_refused_before_drawing() {
    let sheet = layout("a4-3x8");
    assert!(matches!(
        spine_labels_pdf(&[], sheet, 0),
        Err(LabelError::NothingSelected)
    ));
    assert!(matches!(
        reader_cards_pdf(&[], &heading(), sheet, 0),
        Err(LabelError::NothingSelected)
    ));
    let too_many: Vec<SpineLabel> = (0..=MAX_LABELS)
        .map(|n| spine(&n.to_string(), ""))
        .collect();
    assert!(matches!(
        spine_labels_pdf(&too_many, sheet, 0),
        Err(LabelError::TooMany(n)) if n == MAX_LABELS + 1
    ));
    assert!(matches!(
        spine_labels_pdf(&[spine("TS000001", "")], sheet, 24),
        Err(LabelError::SkipTooLarge {
            skip: 24,
            per_page: 24
        })
    ));
    assert!(matches!(
        spine_labels_pdf(&[spine("TS000001", ""), spine("Sách-1", "")], sheet, 0),
        Err(LabelError::Unencodable(b)) if b == "Sách-1"
    ));
    assert!(matches!(
        reader_cards_pdf(&[card("", "Lê Văn An")], &heading(), sheet, 0),
        Err(LabelError::Unencodable(_))
    ));
    // 20 letters need 22 symbols, 275 modules with the quiet zones: 69 mm at the narrowest
    // bars, more than a 48.5 mm label holds.
    let long = "ABCDEFGHIJKLMNOPQRST";
    assert!(matches!(
        spine_labels_pdf(&[spine(long, "")], layout("a4-4x10"), 0),
        Err(LabelError::BarcodeTooWide {
            layout: "a4-4x10",
            ..
        })
    ));
    // The same barcode fits an 85 mm card; 32 characters do not.
    assert!(
        reader_cards_pdf(
            &[card(long, "Lê Văn An")],
            &heading(),
            layout("a4-2x5-cards"),
            0
        )
        .is_ok()
    );
    assert!(matches!(
        reader_cards_pdf(
            &[card(&"A".repeat(32), "Lê Văn An")],
            &heading(),
            layout("a4-2x5-cards"),
            0
        ),
        Err(LabelError::BarcodeTooWide { .. })
    ));
}

#[test]
fn odd_text_never_panics() {
    let long: String = "Đường ".repeat(200);
    let odd = [
        "",
        " ",
        "\u{0}\u{7}",
        "\u{300}\u{301}",
        "e\u{302}\u{303}\u{323}\u{309}",
        "😀 emoji và chữ Hán 漢字",
        long.as_str(),
    ];
    for text in odd {
        let label = SpineLabel::of_copy("TS1", text, Some(text), &[text.to_owned()], text);
        for layout in LAYOUTS {
            spine_labels_pdf(std::slice::from_ref(&label), layout, 0).expect(text);
            reader_cards_pdf(&[card("BD1", text)], &heading(), layout, 0).expect(text);
        }
    }
}

/// A whole collection's labels in one go stays quick (a commune library has a few thousand
/// copies); the time and size are printed for the record.
#[test]
fn a_thousand_labels_take_seconds_not_minutes() {
    let labels: Vec<SpineLabel> = (0..1_000)
        .map(|n| spine(&format!("TS{n:06}"), &format!("Truyện Kiều, tập {n}")))
        .collect();
    let started = std::time::Instant::now();
    let pdf = spine_labels_pdf(&labels, layout("a4-4x10"), 0).expect("pdf");
    let spine_time = started.elapsed();
    let cards: Vec<ReaderCard> = (0..1_000)
        .map(|n| card(&format!("BD{n:04}"), "Nguyễn Thị Thu Hằng"))
        .collect();
    let started = std::time::Instant::now();
    let card_pdf = reader_cards_pdf(&cards, &heading(), layout("a4-2x5-cards"), 0).expect("pdf");
    let card_time = started.elapsed();
    println!(
        "1000 spine labels: {spine_time:?}, {} bytes, {} pages; 1000 cards: {card_time:?}, {} bytes",
        pdf.len(),
        pages(&pdf),
        card_pdf.len()
    );
    assert_eq!(pages(&pdf), 25);
    assert!(spine_time.as_secs() < 30 && card_time.as_secs() < 30);
}
