//! The staff import page against a real `tusach serve`, as a librarian's browser drives it
//! (forms and a multipart upload, no JavaScript): a workbook whose title column has a header
//! we do not recognise is matched by hand, previewed, imported while its progress page
//! reloads, and its books are found by the readers' search; a readers CSV with one bad row
//! names the line and column in Vietnamese, offers no import and imports nothing even when the
//! import is forced; a MARC file goes straight to its preview and in. Strangers, a form
//! without its CSRF token, another librarian's import id and a file over the limit are
//! refused.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use rust_xlsxwriter::Workbook;
use tusach::cataloguing::marc::iso2709;
use tusach::cataloguing::marc::mapping::{self, BookFields};
use tusach_tests::web::{Client, Response, Server};

const PAGE: &str = "/staff/catalogue/import";

/// A commune's books workbook: its title and a blank line above the header on line 3, whose
/// title column says "Tên truyện" (which we do not recognise); a second sheet of notes.
fn stories_workbook() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Truyện thiếu nhi").expect("sheet name");
    sheet
        .write_string(0, 0, "TỦ TRUYỆN THIẾU NHI — THƯ VIỆN XÃ AN PHÚ")
        .expect("write");
    let rows: &[[&str; 4]] = &[
        ["Tên truyện", "Tác giả", "ĐKCB", "Năm"],
        ["Góc sân và khoảng trời", "Trần Đăng Khoa", "300101", "2018"],
        ["Góc sân và khoảng trời", "Trần Đăng Khoa", "300102", "2018"],
        ["Quê nội", "Võ Quảng", "300103", "2016"],
    ];
    for (index, row) in rows.iter().enumerate() {
        for (column, cell) in row.iter().enumerate() {
            let (line, column) = (2 + index as u32, column as u16);
            match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(line, column, number),
                Err(_) => sheet.write_string(line, column, *cell),
            }
            .expect("write");
        }
    }
    let notes = workbook.add_worksheet();
    notes.set_name("Ghi chú").expect("sheet name");
    notes.write_string(0, 0, "Kiểm kê 2026").expect("write");
    workbook.save_to_buffer().expect("xlsx")
}

/// A readers list in Vietnamese Excel's "CSV UTF-8": line 3 has a category nobody has.
const READERS: &str = "\u{FEFF}Họ và tên;Lớp;Số thẻ;Đối tượng\r\n\
                       Lê Thị Hoa;5A;HS-101;Học sinh\r\n\
                       Trần Văn Bình;;GV-101;Bộ đội\r\n";

/// A district's MARC file: two records, one without a title.
fn district_marc() -> Vec<u8> {
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("time");
    let mut bytes = Vec::new();
    for (number, title) in [("AP0001", "Đất rừng phương Nam"), ("AP0002", "")] {
        let book = BookFields {
            title: title.to_owned(),
            authors: vec!["Đoàn Giỏi".into()],
            language: "vie".into(),
            year: Some(2019),
            ..BookFields::default()
        };
        let record = mapping::generate(number, &book, None, now);
        iso2709::write(&record, &mut bytes).expect("fits");
    }
    bytes
}

fn location(response: &Response) -> String {
    assert_eq!(response.status, 303, "{}", response.body);
    response.header("location").expect("a location")
}

/// The value of a form field `name` on a page.
fn field_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        .to_owned()
}

/// Uploads a file; returns the import's page it redirects to.
fn upload(librarian: &mut Client, name: &str, bytes: &[u8], kind: &str) -> String {
    let uploaded = librarian.post_multipart(PAGE, &[("kind", kind)], Some(("file", name, bytes)));
    location(&uploaded)
}

/// Starts an import and follows its progress page until it ends; returns the last page.
fn import_and_follow(librarian: &mut Client, import: &str) -> Response {
    let started = librarian.post_form(&format!("{import}/start"), &[]);
    assert_eq!(location(&started), format!("{import}/progress"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let page = librarian.get(&format!("{import}/progress"));
        assert_eq!(page.status, 200, "{}", page.body);
        let over = ["data-phase=\"done\"", "data-phase=\"failed\""]
            .iter()
            .any(|phase| page.body.contains(phase));
        if over {
            assert!(
                !page.body.contains("http-equiv=\"refresh\""),
                "{}",
                page.body
            );
            return page;
        }
        assert!(page.body.contains("<progress"), "{}", page.body);
        assert!(
            page.body
                .contains("<meta http-equiv=\"refresh\" content=\"2\">"),
            "a running import's page reloads itself: {}",
            page.body
        );
        assert!(
            Instant::now() < deadline,
            "the import never ended: {}",
            page.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn lists_and_marc_files_import_from_the_staff_page_with_progress() {
    let server = Server::with_records(10);
    let mut librarian = server.staff_client();

    let page = librarian.get("/staff/catalogue");
    assert!(
        page.body.contains("href=\"/staff/catalogue/import\""),
        "linked"
    );
    let form = librarian.get(PAGE);
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    assert!(form.body.contains("Nhập từ tệp"));

    // A workbook: the title column must be named by hand.
    let import = upload(&mut librarian, "truyen.xlsx", &stories_workbook(), "books");
    assert!(import.starts_with("/staff/catalogue/import/"), "{import}");
    let columns = librarian.get(&import);
    assert_eq!(columns.status, 200, "{}", columns.body);
    let html = &columns.body;
    assert!(html.contains("Ghép cột") && html.contains("<strong>Tên truyện</strong>"));
    assert!(html.contains("Góc sân và khoảng trời"), "examples shown");
    assert!(
        html.contains("<option value=\"Ghi chú\">"),
        "the sheet choice"
    );
    assert!(
        html.contains("<select id=\"col-0\" name=\"col-0\"><option value=\"\" selected>"),
        "an unknown header is ignored until the librarian says otherwise: {html}"
    );
    assert!(html.contains("<option value=\"authors\" selected>"));
    assert!(html.contains("<option value=\"barcode\" selected>"));
    let line = field_value(html, "shown_line");
    assert_eq!(line, "3", "the header line is found below the title");
    let sheet = field_value(html, "shown_sheet");
    assert_eq!(sheet, "Truyện thiếu nhi");

    // Two columns as one field: the page says so and keeps the choice.
    let mapping = |title_column: &str| {
        let fields = [
            ("shown_line", line.as_str()),
            ("shown_sheet", sheet.as_str()),
            ("header_line", line.as_str()),
            ("sheet", sheet.as_str()),
            ("col-0", title_column),
            ("col-1", "authors"),
            ("col-2", "barcode"),
            ("col-3", "year"),
        ];
        fields.map(|(k, v)| (k, v.to_owned()))
    };
    let post = |client: &mut Client, fields: &[(&str, String)]| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        client.post_form(&import, &fields)
    };
    let refused = post(&mut librarian, &mapping("authors"));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains(
            "Hai cột &quot;Tên truyện&quot; và &quot;Tác giả&quot; cùng được chọn là Tác giả"
        ),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("<select id=\"col-0\" name=\"col-0\"><option value=\"\">"),
        "the choice as posted is kept: {}",
        refused.body
    );
    let mapped = post(&mut librarian, &mapping("title"));
    assert_eq!(location(&mapped), format!("{import}/preview"));

    let preview = librarian.get(&format!("{import}/preview"));
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview
            .body
            .contains("2 sách mới, 0 sách đã có trong mục lục (thêm bản), 3 bản sách."),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("như dòng 4"), "{}", preview.body);
    assert!(preview.body.contains(&format!("action=\"{import}/start\"")));
    assert!(
        server.titles_found("goc san").is_empty(),
        "a preview writes nothing"
    );

    let done = import_and_follow(&mut librarian, &import);
    assert!(
        done.body
            .contains("Đã nhập 2 sách mới, thêm bản cho 0 sách đã có: 3 bản sách."),
        "{}",
        done.body
    );
    assert_eq!(
        server.titles_found("goc san va khoang troi"),
        ["Góc sân và khoảng trời"]
    );
    assert!(
        server
            .titles_found("vo quang")
            .contains(&"Quê nội".to_owned())
    );
    let opac = server.client().get("/search?q=que+noi");
    assert!(opac.body.contains("Quê nội"), "{}", opac.body);
    // Started once: posting again only shows the result.
    let again = librarian.post_form(&format!("{import}/start"), &[]);
    assert_eq!(location(&again), format!("{import}/progress"));

    // A readers CSV with a bad row: named by line and column, no import button.
    let import = upload(&mut librarian, "ban-doc.csv", READERS.as_bytes(), "readers");
    let preview = librarian.get(&format!("{import}/preview"));
    assert_eq!(preview.status, 422, "{}", preview.body);
    assert!(
        preview
            .body
            .contains("Dòng 3, cột Đối tượng: &quot;Bộ đội&quot; không phải là đối tượng"),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains("Tệp có lỗi ở 1 dòng, nên không thể nhập")
    );
    assert!(!preview.body.contains("/start\""), "no import button");
    let english = librarian.get(&format!("{import}/preview?lang=en"));
    assert!(
        english.body.contains("Line 3, column Đối tượng"),
        "{}",
        english.body
    );
    librarian.cookies.remove("lang");
    // Forced anyway, the import checks again and writes nothing.
    let failed = import_and_follow(&mut librarian, &import);
    assert!(failed.body.contains("data-phase=\"failed\""));
    assert!(
        failed.body.contains("Dòng 3, cột Đối tượng"),
        "{}",
        failed.body
    );
    assert!(
        failed.body.contains("Không có gì được ghi"),
        "{}",
        failed.body
    );
    let good_row = librarian.get("/api/readers/HS-101/loans");
    assert_eq!(
        good_row.status, 404,
        "nothing half-imported: {}",
        good_row.body
    );

    // A MARC file: no columns, straight to its preview.
    let import = upload(&mut librarian, "huyen.mrc", &district_marc(), "books");
    assert!(import.ends_with("/preview"), "{import}");
    let import = import.trim_end_matches("/preview").to_owned();
    let preview = librarian.get(&format!("{import}/preview"));
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview
            .body
            .contains("2 biểu ghi: 1 tạo mới, 0 gộp vào biểu ghi đã có, 1 bỏ qua."),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("bỏ qua: không có nhan đề (245 $a)"));
    assert!(
        preview
            .body
            .contains("<li>Biểu ghi 2: bỏ qua: không có nhan đề (245 $a)</li>"),
        "{}",
        preview.body
    );
    let done = import_and_follow(&mut librarian, &import);
    assert!(done.body.contains("data-phase=\"done\""), "{}", done.body);
    assert_eq!(
        server.titles_found("dat rung phuong nam"),
        ["Đất rừng phương Nam"]
    );
}

#[test]
fn strangers_stale_forms_other_librarians_and_large_files_are_refused() {
    let server = Server::with_records(5);
    let mut admin = server.staff_client();
    let csv = "Tên sách;Số ĐKCB\r\nLão Hạc;400101\r\n";

    // Not logged in: to the login page, the file unread.
    let mut stranger = server.client();
    let page = stranger.get(PAGE);
    assert_eq!(page.status, 303);
    assert!(
        page.header("location")
            .unwrap_or_default()
            .starts_with("/staff/login")
    );
    let posted = stranger.post_multipart(
        PAGE,
        &[("kind", "books")],
        Some(("file", "sach.csv", csv.as_bytes())),
    );
    assert_eq!(posted.status, 303, "{}", posted.body);
    assert!(
        posted
            .header("location")
            .unwrap_or_default()
            .starts_with("/staff/login")
    );

    // Logged in, but the form has no CSRF token, or a wrong one.
    for token in [None, Some("not-the-token")] {
        let mut stale = admin.clone();
        let mut fields = vec![("kind", "books")];
        match token {
            Some(token) => fields.push(("csrf", token)),
            None => stale.csrf.clear(),
        }
        let refused =
            stale.post_multipart(PAGE, &fields, Some(("file", "sach.csv", csv.as_bytes())));
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(
            refused.body.contains("Phiên làm việc đã hết hạn"),
            "{}",
            refused.body
        );
    }

    // Another librarian cannot use the admin's import.
    let import = upload(&mut admin, "sach.csv", csv.as_bytes(), "books");
    let created = admin.post_form(
        "/staff/accounts",
        &[
            ("username", "lan"),
            ("display_name", "Nguyễn Thị Lan"),
            ("role", "librarian"),
            ("password", "mật khẩu của Lan"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let mut lan = server.client();
    lan.login("lan", "mật khẩu của Lan");
    let changed = lan.post_form(
        "/staff/password",
        &[
            ("current", "mật khẩu của Lan"),
            ("new", "Lan đọc sách 2026"),
            ("repeat", "Lan đọc sách 2026"),
        ],
    );
    assert_eq!(changed.status, 303, "{}", changed.body);
    lan.csrf = lan.get("/api/session").json()["csrf"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for step in ["", "/preview", "/progress"] {
        let seen = lan.get(&format!("{import}{step}"));
        assert_eq!(seen.status, 404, "{step}: {}", seen.body);
        assert!(
            seen.body.contains("Không còn lần nhập này"),
            "{}",
            seen.body
        );
    }
    let forced = lan.post_form(&format!("{import}/start"), &[]);
    assert_eq!(forced.status, 404, "{}", forced.body);
    assert!(server.titles_found("lao hac").is_empty());
    // The admin's own import is still there, untouched; its later forms check the token too.
    assert_eq!(admin.get(&format!("{import}/preview")).status, 200);
    for step in ["", "/start"] {
        let stale = admin.post_form(&format!("{import}{step}"), &[("csrf", "wrong")]);
        assert_eq!(stale.status, 403, "{step}: {}", stale.body);
    }
    assert!(server.titles_found("lao hac").is_empty());

    // Markup in a file name or a cell is shown as text.
    let script = "Tên sách;Số ĐKCB\r\n<script>alert(1)</script>;400201\r\n";
    let import = upload(&mut admin, "<b>sach</b>.csv", script.as_bytes(), "books");
    for step in ["", "/preview"] {
        let page = admin.get(&format!("{import}{step}"));
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        assert!(!page.body.contains("<b>sach"), "{}", page.body);
        assert!(
            page.body.contains("&lt;script&gt;alert(1)"),
            "{}",
            page.body
        );
    }

    // Over 20 MB: refused with the reason, in Vietnamese.
    let large = vec![b'x'; 21 * 1024 * 1024];
    let refused =
        admin.post_multipart(PAGE, &[("kind", "books")], Some(("file", "to.csv", &large)));
    assert_eq!(
        refused.status,
        413,
        "{}",
        &refused.body[..refused.body.len().min(500)]
    );
    assert!(
        refused.body.contains("Tệp lớn quá 20 MB"),
        "{}",
        refused.body
    );
    // A file we do not import.
    let refused = admin.post_multipart(
        PAGE,
        &[("kind", "books")],
        Some(("file", "sach.xls", b"\xD0\xCF\x11\xE0 old excel")),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("tệp Excel cũ (.xls)"),
        "{}",
        refused.body
    );
}
