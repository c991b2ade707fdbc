//! Spine labels and reader cards against a real `tusach serve --demo`, judged by independent
//! tools: `pdfinfo` and `pdftotext` (poppler) must find a valid PDF with the Vietnamese text
//! exactly as stored, and `zbarimg` must read every Code 128 barcode back from a 300 dpi
//! rendering (`pdftoppm`), as a scanner at the desk would. A stranger gets no PDF.
//!
//! One server for the whole file: seeding the demo library in a debug build takes a while.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use tusach::sample::SampleLibrary;
use tusach_tests::web::{Client, Response, Server};

/// The demo library's sample seed (`demo::seed`).
const DEMO_SEED: u64 = 2026;

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run ({e}): tests/run installs it"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 from the tool")
}

/// A PDF answer: its type, its Vietnamese file name, and the bytes saved as `name` in `dir`.
fn save_pdf(response: &Response, dir: &Path, name: &str, filename_start: &str) -> String {
    assert_eq!(response.status, 200, "{}\n{}", response.head, response.body);
    assert_eq!(
        response.content_type, "application/pdf",
        "{}",
        response.head
    );
    let disposition = response.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(filename_start),
        "{disposition}"
    );
    assert!(response.bytes.starts_with(b"%PDF-"));
    let path = dir.join(name);
    std::fs::write(&path, &response.bytes).expect("write the PDF");
    path.to_str().expect("UTF-8 path").to_owned()
}

/// Pages, as poppler counts them (which also proves it parses the file).
fn pages(pdf: &str) -> usize {
    run("pdfinfo", &[pdf])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo says how many pages")
}

fn text_of(pdf: &str) -> String {
    run("pdftotext", &["-enc", "UTF-8", pdf, "-"])
}

/// Every barcode zbarimg reads from page `page` rendered at 300 dpi.
fn barcodes_on(pdf: &str, page: usize, dir: &Path) -> BTreeSet<String> {
    let prefix = dir.join(format!("page{page}"));
    let prefix = prefix.to_str().expect("UTF-8 path");
    let page = page.to_string();
    run(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-png",
            "-singlefile",
            "-f",
            &page,
            "-l",
            &page,
            pdf,
            prefix,
        ],
    );
    // zbarimg exits 4 when it finds nothing: read its output either way.
    let output = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Scode128.enable"])
        .arg(format!("{prefix}.png"))
        .output()
        .expect("zbarimg could not run: tests/run installs zbar-tools");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn csrf_of(page: &Response) -> String {
    page.body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_owned()
}

#[test]
fn librarians_print_spine_labels_and_reader_cards() {
    let server = Server::demo();
    let mut librarian = server.staff_client();
    let dir = tempfile::tempdir().expect("tempdir");
    a_stranger_gets_no_pdf(&mut server.client());
    spine_labels_carry_call_numbers_titles_and_barcodes(&mut librarian, dir.path());
    an_unknown_barcode_prints_nothing(&mut librarian);
    reader_cards_carry_vietnamese_names_exactly(&mut librarian, dir.path());
}

fn a_stranger_gets_no_pdf(stranger: &mut Client) {
    for path in ["/staff/catalogue/labels", "/staff/readers/cards"] {
        let page = stranger.get(path);
        assert_eq!(page.status, 303, "{path}: {}", page.head);
        let to = page.header("location").unwrap_or_default();
        assert!(to.starts_with("/staff/login"), "{path} → {to}");
        let posted = stranger.post_form(
            path,
            &[
                ("what", "barcodes"),
                ("barcodes", "TS000000"),
                ("cards", "BD0001"),
                ("layout", "a4-3x8"),
                ("csrf", "guess"),
            ],
        );
        assert_ne!(posted.status, 200, "{path}: {}", posted.head);
        assert_ne!(posted.content_type, "application/pdf");
        assert!(!posted.bytes.starts_with(b"%PDF"));
    }
}

fn spine_labels_carry_call_numbers_titles_and_barcodes(librarian: &mut Client, dir: &Path) {
    let form = librarian.get("/staff/catalogue/labels?record=rec-00000000");
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("In nhãn gáy"), "{}", form.body);
    assert!(form.body.contains("value=\"rec-00000000\""));
    let csrf = csrf_of(&form);
    assert_eq!(csrf, librarian.csrf);

    // Copies of records 0 (two copies), 1 and 2 (two), as a scanner types them: one per line,
    // one in lower case; three labels of the 4 × 10 sheet already used.
    let barcodes = ["TS000000", "TS000001", "TS000002", "TS000003", "TS000004"];
    let typed = "TS000000\r\nts000001\r\nTS000002\nTS000003 TS000004\n";
    let response = librarian.post_form(
        "/staff/catalogue/labels",
        &[
            ("what", "barcodes"),
            ("barcodes", typed),
            ("layout", "a4-4x10"),
            ("skip", "3"),
        ],
    );
    let pdf = save_pdf(
        &response,
        dir,
        "spine.pdf",
        "filename*=UTF-8''nh%C3%A3n-g%C3%A1y-",
    );
    println!(
        "spine labels: {} bytes for {} labels",
        response.bytes.len(),
        barcodes.len()
    );
    assert_eq!(pages(&pdf), 1);
    let text = text_of(&pdf);
    let library = SampleLibrary::new(DEMO_SEED);
    for n in 0..3 {
        let record = library.record(n);
        // The title, whole or shortened with "…" to fit the label.
        let shown = text.lines().map(str::trim).find(|line| {
            *line == record.title
                || line
                    .strip_suffix('…')
                    .is_some_and(|start| start.len() >= 10 && record.title.starts_with(start))
        });
        assert!(shown.is_some(), "title {:?} not in:\n{text}", record.title);
        let class: String = record.ddc.chars().take(7).collect();
        assert!(text.contains(&class), "call number {class} not in:\n{text}");
    }
    for barcode in barcodes {
        assert!(text.contains(barcode), "{barcode} not printed:\n{text}");
    }
    assert!(text.contains("Kệ "), "no shelf in:\n{text}");
    let read = barcodes_on(&pdf, 1, dir);
    let expected: BTreeSet<String> = barcodes.iter().map(|b| b.to_string()).collect();
    assert_eq!(read, expected, "zbarimg read other barcodes");

    // Every copy of a record, on the default sheet.
    let response = librarian.post_form(
        "/staff/catalogue/labels",
        &[
            ("what", "record"),
            ("record", "rec-00000002"),
            ("layout", "a4-3x8"),
        ],
    );
    let pdf = save_pdf(&response, dir, "record.pdf", "nh%C3%A3n-g%C3%A1y");
    let read = barcodes_on(&pdf, 1, dir);
    assert_eq!(
        read,
        BTreeSet::from(["TS000003".to_owned(), "TS000004".to_owned()])
    );
}

fn an_unknown_barcode_prints_nothing(librarian: &mut Client) {
    let response = librarian.post_form(
        "/staff/catalogue/labels",
        &[
            ("what", "barcodes"),
            ("barcodes", "TS000000\nTS999999"),
            ("layout", "a4-3x8"),
        ],
    );
    assert_eq!(response.status, 404, "{}", response.head);
    assert!(response.content_type.starts_with("text/html"));
    assert!(response.body.contains("TS999999"), "{}", response.body);
    // What was scanned comes back in the form.
    assert!(
        response.body.contains("TS000000\nTS999999"),
        "{}",
        response.body
    );
    let skip_too_far = librarian.post_form(
        "/staff/catalogue/labels",
        &[
            ("what", "barcodes"),
            ("barcodes", "TS000000"),
            ("layout", "a4-3x8"),
            ("skip", "24"),
        ],
    );
    assert_eq!(skip_too_far.status, 400, "{}", skip_too_far.head);
    let stale = librarian.post_form(
        "/staff/readers/cards",
        &[
            ("what", "cards"),
            ("cards", "BD0001"),
            ("layout", "a4-2x5-cards"),
            ("csrf", "stale"),
        ],
    );
    assert_eq!(stale.status, 403, "{}", stale.head);
    assert!(!stale.bytes.starts_with(b"%PDF"));
}

fn reader_cards_carry_vietnamese_names_exactly(librarian: &mut Client, dir: &Path) {
    let library = SampleLibrary::new(DEMO_SEED);
    // Readers whose name starts with "Nguyễn", the most common family name.
    let nguyen: Vec<(String, String)> = (0..300u64)
        .map(|n| (format!("BD{n:04}"), library.reader_name(n)))
        .filter(|(_, name)| name.starts_with("Nguyễn"))
        .take(3)
        .collect();
    assert_eq!(nguyen.len(), 3, "the demo has readers named Nguyễn");

    // A reader whose name was typed decomposed (NFD), as some keyboards send it.
    let nfd = "Nguye\u{302}\u{303}n Thi\u{323} Hoa\u{300}";
    let registered = librarian.post_form(
        "/staff/readers/new",
        &[
            ("card", "NFD-0001"),
            ("name", nfd),
            ("category", "student"),
            ("card_expires", "2030-06-30"),
            ("class", "5A"),
        ],
    );
    assert_eq!(registered.status, 303, "{}", registered.body);

    let form = librarian.get("/staff/readers/cards?card=BD0001");
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("In thẻ bạn đọc"));
    let mut cards: Vec<&str> = nguyen.iter().map(|(card, _)| card.as_str()).collect();
    cards.push("nfd-0001");
    let response = librarian.post_form(
        "/staff/readers/cards",
        &[
            ("what", "cards"),
            ("cards", &cards.join("\n")),
            ("layout", "a4-2x5-cards"),
            ("skip", "1"),
        ],
    );
    let pdf = save_pdf(
        &response,
        dir,
        "cards.pdf",
        "th%E1%BA%BB-b%E1%BA%A1n-%C4%91%E1%BB%8Dc-",
    );
    println!(
        "reader cards: {} bytes for {} cards",
        response.bytes.len(),
        cards.len()
    );
    assert_eq!(pages(&pdf), 1);
    let text = text_of(&pdf);
    for (_, name) in &nguyen {
        assert!(text.contains(name.as_str()), "{name} not in:\n{text}");
    }
    assert!(
        text.contains("Nguyễn Thị Hoà"),
        "the NFD name is not NFC in:\n{text}"
    );
    assert!(
        !text.contains('\u{302}') && !text.contains('\u{303}'),
        "{text}"
    );
    assert!(text.contains("Thư viện xã Nghi Phú"), "{text}");
    assert!(text.contains("THẺ BẠN ĐỌC"), "{text}");
    assert!(text.contains("Lớp 5A"), "{text}");
    let read = barcodes_on(&pdf, 1, dir);
    let mut expected: BTreeSet<String> = nguyen.iter().map(|(card, _)| card.clone()).collect();
    expected.insert("NFD-0001".to_owned());
    assert_eq!(read, expected);

    // Every teacher: 30 of the demo's 300 readers, three sheets of ten.
    let response = librarian.post_form(
        "/staff/readers/cards",
        &[
            ("what", "category"),
            ("category", "teacher"),
            ("layout", "a4-2x5-cards"),
        ],
    );
    let pdf = save_pdf(&response, dir, "teachers.pdf", "th%E1%BA%BB");
    assert_eq!(pages(&pdf), 3);
    assert_eq!(barcodes_on(&pdf, 3, dir).len(), 10);
}
