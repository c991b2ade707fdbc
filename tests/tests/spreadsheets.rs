//! Books and readers lists as a commune librarian brings them, while `tusach serve` holds the
//! data folder: `tusach import xlsx|csv` goes through serve's control socket; the books are
//! found by the readers' search without diacritics, their copies are lent at the desk, the
//! readers are there; a list with one bad row imports nothing and names the line; the same
//! list imported again adds nothing and names what is already there.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use rust_xlsxwriter::Workbook;
use tusach_tests::cli::{ok_in, tusach_in};
use tusach_tests::web::Server;

/// A commune's books workbook: a title row, a blank row, the header on row 3 with an "STT"
/// column and a "Ghi chú" we do not read; years and barcodes typed as numbers; two rows of
/// the same book (two copies of one record).
fn books_workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Sổ đăng ký").expect("sheet name");
    sheet
        .write_string(0, 0, "SỔ ĐĂNG KÝ CÁ BIỆT — THƯ VIỆN XÃ NGHĨA PHÚ")
        .expect("write");
    let header = [
        "STT",
        "Tên sách",
        "Tác giả",
        "NXB",
        "Năm",
        "ĐKCB",
        "Ghi chú",
    ];
    for (column, text) in header.iter().enumerate() {
        sheet.write_string(2, column as u16, *text).expect("write");
    }
    for (index, row) in rows.iter().enumerate() {
        let line = 3 + index as u32;
        sheet
            .write_number(line, 0, index as f64 + 1.0)
            .expect("write");
        for (column, cell) in row.iter().enumerate() {
            let column = column as u16 + 1;
            match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(line, column, number),
                Err(_) => sheet.write_string(line, column, *cell),
            }
            .expect("write");
        }
    }
    workbook.save_to_buffer().expect("xlsx")
}

const BOOKS: &[[&str; 6]] = &[
    ["Truyện Kiều", "Nguyễn Du", "Văn học", "2015", "100201", ""],
    [
        "Truyện Kiều",
        "Nguyễn Du",
        "Văn học",
        "2015",
        "100202",
        "bản 2",
    ],
    [
        "Dế Mèn phiêu lưu ký",
        "Tô Hoài",
        "Kim Đồng",
        "2019",
        "100203",
        "",
    ],
    [
        "Thơ Xuân Diệu",
        "Xuân Diệu; Huy Cận",
        "Văn học",
        "2001",
        "100204",
        "",
    ],
];

/// A readers list as Vietnamese Excel saves "CSV UTF-8": a byte-order mark, semicolons.
const READERS: &str = "\u{FEFF}Họ và tên;Lớp;Số thẻ;Đối tượng;SĐT\r\n\
                       Lê Thị Hoa;5A;HS-001;Học sinh;0912345678\r\n\
                       Trần Văn Bình;;GV-001;Giáo viên;\r\n\
                       Phạm Bé Na;;TN-001;thieu nhi;\r\n";

fn import(cwd: &Path, server: &Server, args: &[&str]) -> Output {
    tusach_in(cwd, server.data(), args, "")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn books_and_readers_lists_import_through_a_running_serve() {
    let server = Server::with_records(10);
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    std::fs::write(dir.join("sach.xlsx"), books_workbook(BOOKS)).expect("write");
    std::fs::write(dir.join("ban-doc.csv"), READERS).expect("write");

    let preview = ok_in(
        dir,
        server.data(),
        &["import", "xlsx", "sach.xlsx", "--as", "books", "--dry-run"],
        "",
    );
    assert!(
        preview.contains("3 sách mới, 0 đã có trong mục lục (thêm bản), 4 bản sách"),
        "{preview}"
    );
    assert!(preview.contains("Bỏ qua cột: STT, Ghi chú"), "{preview}");
    assert!(
        server.titles_found("truyen kieu").is_empty(),
        "a preview writes nothing"
    );

    let said = ok_in(
        dir,
        server.data(),
        &["import", "xlsx", "sach.xlsx", "--as", "books", "--json"],
        "",
    );
    let report: serde_json::Value = serde_json::from_str(said.trim()).expect("json");
    assert_eq!(report["imported"], true, "{report}");
    assert_eq!(report["new_records"], 3);
    assert_eq!(report["copies"], 4);
    assert_eq!(report["header_line"], 3);
    assert_eq!(report["columns"]["barcode"], "ĐKCB");
    assert!(
        server
            .process
            .wait_for_stderr("import xlsx sach.xlsx", Duration::from_secs(5)),
        "the import ran inside serve: {}",
        server.process.stderr()
    );
    assert_eq!(server.titles_found("truyen kieu"), ["Truyện Kiều"]);
    // The ten sample records may share words with these; the imported book must be there.
    assert!(
        server
            .titles_found("nguyen du")
            .contains(&"Truyện Kiều".to_owned())
    );
    assert!(
        server
            .titles_found("DE MEN")
            .contains(&"Dế Mèn phiêu lưu ký".to_owned())
    );
    assert!(
        server
            .titles_found("huy can")
            .contains(&"Thơ Xuân Diệu".to_owned()),
        "found by its second author"
    );

    let said = ok_in(
        dir,
        server.data(),
        &["import", "csv", "ban-doc.csv", "--as", "readers"],
        "",
    );
    assert!(
        said.contains("3 bạn đọc mới, 0 đã có (để nguyên)"),
        "{said}"
    );

    // At the desk: the imported reader borrows an imported copy.
    let mut desk = server.staff_client();
    let lent = desk.post_json(
        "/api/loans",
        &serde_json::json!({"card": "HS-001", "barcode": "100202"}),
    );
    assert_eq!(lent.status, 201, "{}", lent.body);
    assert_eq!(lent.json()["title"], "Truyện Kiều");
    let loans = desk.get("/api/readers/HS-001/loans").json();
    assert_eq!(loans["name"], "Lê Thị Hoa");
    assert_eq!(loans["loans"][0]["barcode"], "100202");
    let teacher = desk.get("/api/readers/GV-001/loans");
    assert_eq!(teacher.status, 200, "{}", teacher.body);
    assert_eq!(teacher.json()["name"], "Trần Văn Bình");

    // The same lists again: the books' barcodes are taken (nothing written, each named);
    // the readers are already there, left as they are.
    let again = import(
        dir,
        &server,
        &["import", "xlsx", "sach.xlsx", "--as", "books"],
    );
    assert!(!again.status.success());
    let said = text(&again);
    assert!(said.contains("Không nhập gì: 4 dòng lỗi"), "{said}");
    assert!(
        said.contains(
            "Dòng 4, cột ĐKCB: mã 100201 đã dùng cho một bản sách của thư viện (Truyện Kiều)"
        ),
        "{said}"
    );
    assert!(
        said.contains("Line 7, column ĐKCB: barcode 100204"),
        "{said}"
    );
    let said = ok_in(
        dir,
        server.data(),
        &["import", "csv", "ban-doc.csv", "--as", "readers"],
        "",
    );
    assert!(said.contains("0 bạn đọc mới, 3 đã có"), "{said}");

    // A list with one bad row imports none of its good ones.
    let bad = books_workbook(&[
        ["Lão Hạc", "Nam Cao", "Văn học", "2012", "100301", ""],
        [
            "Số đỏ",
            "Vũ Trọng Phụng",
            "Văn học",
            "hai nghìn",
            "100302",
            "",
        ],
        ["Chí Phèo", "Nam Cao", "Văn học", "2012", "100303", ""],
    ]);
    std::fs::write(dir.join("loi.xlsx"), bad).expect("write");
    let refused = import(
        dir,
        &server,
        &["import", "xlsx", "loi.xlsx", "--as", "books"],
    );
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(
        said.contains("Dòng 5, cột Năm: \"hai nghìn\" không phải là năm"),
        "{said}"
    );
    assert!(
        server.titles_found("lao hac").is_empty(),
        "nothing half-imported"
    );
    assert!(
        server.titles_found("chi pheo").is_empty(),
        "nothing half-imported"
    );

    // A semicolon CSV of books whose headers have no marks, through a mapping for the one
    // header nobody recognises.
    std::fs::write(
        dir.join("tang.csv"),
        "Ten sach;Tac gia;Nam XB;Ma so\nLão Hạc;Nam Cao;2012;100401\n",
    )
    .expect("write");
    let said = ok_in(
        dir,
        server.data(),
        &[
            "import",
            "csv",
            "tang.csv",
            "--as",
            "books",
            "--map",
            "Ma so=barcode",
        ],
        "",
    );
    assert!(said.contains("1 sách mới"), "{said}");
    assert_eq!(server.titles_found("lao hac"), ["Lão Hạc"]);
}
