//! The spreadsheet import on a real store: headers recognised however they are typed, CSV
//! and real `.xlsx` files read with Excel's line numbers, every kind of row error named with
//! its line and column, and plans that write all or nothing.

use chrono::NaiveDate;
use tusach_sync::{Store, Value, WriteBatch};

use super::headers::{
    Field, MapError, column_letter, folded, guess_columns, map_chosen, map_columns,
    parse_overrides, recognise,
};
use super::readers::CardStyle;
use super::*;
use crate::circulation::library::Desk;
use crate::demo::demo_desk;
use crate::search::{self, SearchQuery};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).expect("date")
}

fn open() -> (Store, Desk, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("tusach.db")).expect("open");
    crate::query_tables::attach(&mut store).expect("attach");
    (store, demo_desk("desk-a").expect("desk"), dir)
}

/// An ISBN-13 with its check digit, from its first twelve digits.
fn isbn13(first12: &str) -> String {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}

fn csv_rows(text: &str) -> Vec<Row> {
    table::read_csv(text.as_bytes()).expect("csv")
}

/// One header, the field it must be recognised as (for its kind).
fn check_header(kind: RowKind, header: &str, expected: Option<Field>) {
    assert_eq!(recognise(kind, header), expected, "header {header:?}");
}

#[test]
fn vietnamese_headers_are_recognised_with_or_without_marks_case_and_spacing() {
    use Field::*;
    let books: &[(&str, Option<Field>)] = &[
        ("Tên sách", Some(Title)),
        ("TEN SACH", Some(Title)),
        ("  Tên   sách : ", Some(Title)),
        ("Nhan đe", Some(Title)),
        ("Nhan đề", Some(Title)),
        ("Tác giả", Some(Authors)),
        ("tac gia", Some(Authors)),
        ("Nhà xuất bản", Some(Publisher)),
        ("NXB", Some(Publisher)),
        ("N.X.B", None),
        ("nxb.", Some(Publisher)),
        ("Năm", Some(Year)),
        ("Năm xuất bản", Some(Year)),
        ("Năm XB", Some(Year)),
        ("ISBN", Some(Isbn)),
        ("Số đăng ký cá biệt", Some(Barcode)),
        ("SỐ ĐĂNG KÝ CÁ BIỆT", Some(Barcode)),
        ("ĐKCB", Some(Barcode)),
        ("Số ĐKCB", Some(Barcode)),
        ("Mã vạch", Some(Barcode)),
        ("Môn loại", Some(Ddc)),
        ("DDC", Some(Ddc)),
        ("Ký hiệu phân loại", Some(Ddc)),
        ("Kệ", Some(Shelf)),
        ("Vị trí", Some(Shelf)),
        ("Số trang", Some(Pages)),
        ("Ngôn ngữ", Some(Language)),
        ("STT", None),
        ("Ghi chú", None),
        ("Họ và tên", None),
    ];
    for (header, field) in books {
        check_header(RowKind::Books, header, *field);
    }
    let readers: &[(&str, Option<Field>)] = &[
        ("Họ và tên", Some(Name)),
        ("HO VA TEN", Some(Name)),
        ("Họ tên", Some(Name)),
        ("Lớp", Some(Class)),
        ("Số thẻ", Some(Card)),
        ("Mã bạn đọc", Some(Card)),
        ("Đối tượng", Some(Category)),
        ("Ngày sinh", Some(Born)),
        ("Điện thoại", Some(Contact)),
        ("SĐT", Some(Contact)),
        ("Hạn thẻ", Some(Expires)),
        ("Tên sách", None),
    ];
    for (header, field) in readers {
        check_header(RowKind::Readers, header, *field);
    }
    // A telex keyboard's decomposed marks in another order fold the same.
    assert_eq!(folded("Te\u{0302}\u{0301}n sa\u{0301}ch"), "ten sach");
    assert_eq!(folded("Đ\u{00D0}KCB"), "ddkcb");
}

#[test]
fn the_header_row_is_found_below_a_title_and_unknown_columns_are_listed() {
    let rows = csv_rows(
        "DANH MỤC SÁCH THƯ VIỆN XÃ NGHĨA PHÚ\n\
         ,,\n\
         STT,Tên sách,Tác giả,Ghi chú,NXB\n\
         1,Truyện Kiều,Nguyễn Du,,Văn học\n",
    );
    let map = map_columns(RowKind::Books, &rows, &[]).expect("map");
    assert_eq!(map.header_line, 3);
    assert_eq!(map.column(Field::Title), Some(1));
    assert_eq!(map.column(Field::Publisher), Some(4));
    assert_eq!(map.ignored, ["STT", "Ghi chú"]);

    let overrides =
        parse_overrides(RowKind::Books, &["Ghi chú=shelf".to_owned()]).expect("override");
    let map = map_columns(RowKind::Books, &rows, &overrides).expect("map");
    assert_eq!(map.column(Field::Shelf), Some(3));
    assert_eq!(map.ignored, ["STT"]);

    let rows = csv_rows("Tên truyện,Người viết\nDế Mèn,Tô Hoài\n");
    assert!(matches!(
        map_columns(RowKind::Books, &rows, &[]),
        Err(MapError::NoHeader { .. })
    ));
    let overrides = parse_overrides(
        RowKind::Books,
        &["Tên truyện=title".into(), "Người viết=authors".into()],
    )
    .expect("overrides");
    let map = map_columns(RowKind::Books, &rows, &overrides).expect("map");
    assert_eq!(
        (map.column(Field::Title), map.column(Field::Authors)),
        (Some(0), Some(1))
    );
    assert!(matches!(
        parse_overrides(RowKind::Books, &["Tên truyện".into()]),
        Err(MapError::NoEquals(_))
    ));
    assert!(matches!(
        parse_overrides(RowKind::Books, &["Tên truyện=card".into()]),
        Err(MapError::UnknownField { .. })
    ));
    let overrides = parse_overrides(RowKind::Books, &["Cột X=isbn".into()]).expect("override");
    assert!(matches!(
        map_columns(RowKind::Books, &csv_rows("Tên sách\nA\n"), &overrides),
        Err(MapError::NoSuchColumn(_))
    ));
}

/// What the import page offers: the header row and each column's field, as guessed.
fn guessed(kind: RowKind, text: &str, line: Option<usize>) -> (usize, Vec<Option<Field>>) {
    let guess = guess_columns(kind, &csv_rows(text), line).expect("a guess");
    let fields = guess.columns.iter().map(|(_, field)| *field).collect();
    (guess.header_line, fields)
}

#[test]
fn the_import_page_guesses_the_header_and_maps_the_columns_a_librarian_chose() {
    use Field::*;
    let list = "DANH MỤC SÁCH\n\
                ,,\n\
                STT,Tên truyện,Tác giả,Tác giả,Năm\n\
                1,Dế Mèn,Tô Hoài,,2019\n";
    // No title column is recognised, so the header is the row naming the most fields; a
    // field's second column is left for the librarian.
    assert_eq!(
        guessed(RowKind::Books, list, None),
        (3, vec![None, None, Some(Authors), None, Some(Year)])
    );
    // The librarian's own header row wins, even a poor one.
    assert_eq!(guessed(RowKind::Books, list, Some(1)).0, 1);
    assert!(guess_columns(RowKind::Books, &csv_rows(list), Some(9)).is_none());
    // Recognised headers: the row map_columns takes.
    assert_eq!(
        guessed(RowKind::Readers, "Họ và tên;Lớp;Ghi chú\nAn;5A;\n", None),
        (1, vec![Some(Name), Some(Class), None])
    );
    // Nothing recognised at all: the fullest of the first rows.
    assert_eq!(guessed(RowKind::Books, "Sổ\nA,B,C\nx,y,\n", None).0, 2);

    let rows = csv_rows(list);
    let map = map_chosen(
        RowKind::Books,
        &rows,
        3,
        &[None, Some(Title), Some(Authors), None, Some(Year)],
    )
    .expect("map");
    assert_eq!(map.header_index, 2);
    assert_eq!(map.column(Title), Some(1));
    assert_eq!(map.header(Title), "Tên truyện");
    assert_eq!(map.ignored, ["STT", "Tác giả"]);
    // A column without a header is named by its letter.
    let map = map_chosen(
        RowKind::Books,
        &csv_rows("Tên,\nA,1\n"),
        1,
        &[Some(Title), Some(Year)],
    )
    .expect("map");
    assert_eq!(map.header(Year), "B");
    assert!(matches!(
        map_chosen(RowKind::Books, &rows, 3, &[None, Some(Title), Some(Title)]),
        Err(MapError::FieldTwice { field: "title", .. })
    ));
    assert!(matches!(
        map_chosen(RowKind::Books, &rows, 3, &[None, Some(Authors)]),
        Err(MapError::KeyNotChosen { field: "title" })
    ));
    assert!(matches!(
        map_chosen(RowKind::Books, &rows, 7, &[Some(Title)]),
        Err(MapError::NoSuchLine(7))
    ));
    assert_eq!(
        [0, 25, 26, 27, 701].map(column_letter),
        ["A", "Z", "AA", "AB", "ZZ"]
    );
}

#[test]
fn a_semicolon_csv_with_a_byte_order_mark_reads_with_excel_line_numbers() {
    let text = "\u{FEFF}Tên sách;Tác giả;Năm\n\
                Truyện Kiều;Nguyễn Du;2015\n\
                \"Thơ; tuyển\";\"Tố Hữu\";1999\n\
                \"Một dòng\nhai dòng\";X;2000\r\n\
                \n\
                Cuối;Y;2001\n";
    let rows = table::read_csv(text.as_bytes()).expect("csv");
    assert_eq!(rows[0].cells, ["Tên sách", "Tác giả", "Năm"]);
    assert_eq!(rows[2].cells, ["Thơ; tuyển", "Tố Hữu", "1999"]);
    assert_eq!(rows[3].cells[0], "Một dòng\nhai dòng");
    // The quoted line break stays inside Excel's row 4; the blank line is Excel's row 5.
    let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 2, 3, 4, 6]);
    assert_eq!(rows[4].cells, ["Cuối", "Y", "2001"]);
    let lines: Vec<usize> = csv_rows("a\r\n\r\n\r\nb\r\n\"c\r\nd\"\r\ne\r\n")
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [1, 4, 5, 6]);

    assert_eq!(table::detect_separator("a;b;c\n1,5;2;3"), b';');
    assert_eq!(table::detect_separator("a,b,c\n"), b',');
    assert_eq!(table::detect_separator("a\tb\tc\n"), b'\t');
    assert_eq!(table::detect_separator("\"x;y\",b\n"), b',');
}

#[test]
fn a_file_that_is_not_utf8_names_its_line() {
    let bytes = b"T\xc3\xaan s\xc3\xa1ch\nTruy\xe7n\n";
    assert!(matches!(
        table::read_csv(bytes),
        Err(SheetError::NotUtf8 { line: 2 })
    ));
    assert!(matches!(table::read_csv(b""), Err(SheetError::Empty)));
    assert!(matches!(
        table::read_xlsx(b"PK\x03\x04 not a zip", None),
        Err(SheetError::Xlsx(_))
    ));
}

/// A real workbook as Excel writes it: a title row, the header on row 3, a number, a date.
fn books_workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Sách").expect("name");
    sheet.write_string(0, 0, "DANH MỤC SÁCH").expect("write");
    let header = ["Tên sách", "Tác giả", "Năm", "Số ĐKCB", "Ngày nhập"];
    for (column, text) in header.iter().enumerate() {
        sheet.write_string(2, column as u16, *text).expect("write");
    }
    sheet.write_string(3, 0, "Truyện Kiều").expect("write");
    sheet.write_string(3, 1, "Nguyễn Du").expect("write");
    sheet.write_number(3, 2, 2015.0).expect("write");
    sheet.write_number(3, 3, 100234.0).expect("write");
    let date = ExcelDateTime::from_ymd(2026, 9, 1).expect("date");
    let format = Format::new().set_num_format("dd/mm/yyyy");
    sheet
        .write_datetime_with_format(3, 4, &date, &format)
        .expect("write");
    let other = workbook.add_worksheet();
    other.set_name("Bạn đọc").expect("name");
    other.write_string(0, 1, "Họ và tên").expect("write");
    other.write_string(1, 1, "Lê Thị Hoa").expect("write");
    workbook.save_to_buffer().expect("xlsx")
}

#[test]
fn an_xlsx_reads_with_excel_line_numbers_numbers_and_dates() {
    let bytes = books_workbook();
    assert_eq!(
        table::xlsx_sheet_names(&bytes).expect("names"),
        ["Sách", "Bạn đọc"]
    );
    let rows = table::read_xlsx(&bytes, None).expect("read");
    let row = rows.iter().find(|r| r.line == 4).expect("row 4");
    assert_eq!(
        row.cells,
        ["Truyện Kiều", "Nguyễn Du", "2015", "100234", "2026-09-01"]
    );
    let map = map_columns(RowKind::Books, &rows, &[]).expect("map");
    assert_eq!(map.header_line, 3);

    let readers = table::read_xlsx(&bytes, Some("bạn đọc")).expect("second sheet");
    assert_eq!(readers[0].line, 1);
    assert_eq!(
        readers[1].cells,
        ["", "Lê Thị Hoa"],
        "columns keep their places"
    );
    assert!(matches!(
        table::read_xlsx(&bytes, Some("Kho")),
        Err(SheetError::NoSuchSheet { .. })
    ));
}

/// Plans `csv` as a books list and returns its errors as the librarian reads them.
fn book_errors(store: &mut Store, desk: &Desk, csv: &str) -> Vec<String> {
    let plan = books::plan(store, desk, &csv_rows(csv), &[], today()).expect("plan");
    plan.errors.iter().map(RowError::vi).collect()
}

#[test]
fn every_kind_of_bad_book_row_is_named_by_line_and_column() {
    let (mut store, desk, _dir) = open();
    let mut batch = WriteBatch::new();
    desk.put_copy(&mut batch, "VN0001", "rec-old", "book");
    store.commit(&batch).expect("copy");
    let header = "Tên sách,Tác giả,Năm,ISBN,Số ĐKCB,Số trang\n";
    let cases: &[(&str, &str)] = &[
        (
            "Truyện Kiều,Nguyễn Du,hai nghìn,,VN1,",
            "Dòng 2, cột Năm: \"hai nghìn\" không phải là năm",
        ),
        (
            "Truyện Kiều,Nguyễn Du,2015,978-604-1-00000-0,VN1,",
            "Dòng 2, cột ISBN: \"978-604-1-00000-0\" không phải là ISBN hợp lệ (sai số kiểm tra)",
        ),
        (
            "Truyện Kiều,Nguyễn Du,2015,,VN 1/2,",
            "Dòng 2, cột Số ĐKCB: \"1/2\" không phải là mã vạch (chỉ dùng chữ, số và '-')",
        ),
        (
            ",Nguyễn Du,2015,,VN1,",
            "Dòng 2, cột Tên sách: ô này không được để trống",
        ),
        (
            "Truyện Kiều,Nguyễn Du,2015,,VN1,ba trăm",
            "Dòng 2, cột Số trang: \"ba trăm\" không phải là số",
        ),
        (
            "Truyện Kiều,Nguyễn Du,2015,,VN0001,",
            "Dòng 2, cột Số ĐKCB: mã VN0001 đã dùng cho một bản sách của thư viện (rec-old)",
        ),
        (
            "Truyện Kiều,Nguyễn Du,3015,,VN1,",
            "Dòng 2, cột Năm: \"3015\" không phải là năm",
        ),
    ];
    for (row, expected) in cases {
        let errors = book_errors(&mut store, &desk, &format!("{header}{row}\n"));
        assert_eq!(errors, [*expected], "row {row:?}");
    }
    let errors = book_errors(
        &mut store,
        &desk,
        &format!("{header}A,B,2015,,VN1,\nC,D,2016,,VN2 VN1,\n"),
    );
    assert_eq!(errors, ["Dòng 3, cột Số ĐKCB: mã VN1 đã có ở dòng 2"]);
    let long = "x".repeat(501);
    let errors = book_errors(&mut store, &desk, &format!("{header}{long},B,,,VN1,\n"));
    assert_eq!(errors, ["Dòng 2, cột Tên sách: dài quá 500 ký tự"]);

    let error = RowError::new(17, "Năm", Problem::NotYear("hai nghìn".into()));
    assert_eq!(
        error.to_string(),
        "Dòng 17, cột Năm: \"hai nghìn\" không phải là năm / Line 17, column Năm: \"hai nghìn\" is not a year"
    );
}

#[test]
fn books_make_or_find_records_and_import_in_one_commit() {
    let (mut store, desk, _dir) = open();
    let kieu_isbn = isbn13("978604100001");
    let mut batch = WriteBatch::new();
    let existing = crate::catalogue::record_key("rec-de-men");
    batch
        .put(&existing, "title", "Dế Mèn phiêu lưu ký")
        .put(
            &existing,
            "authors",
            Value::List(vec![Value::Str("Tô Hoài".into())]),
        )
        .put(&existing, "year", 2010i64);
    store.commit(&batch).expect("existing record");
    let csv = format!(
        "Tên sách;Tác giả;Năm;ISBN;Số ĐKCB;Kệ;Ngôn ngữ\n\
         Truyện Kiều;Nguyễn Du;2015;{kieu_isbn};VN1;Kệ 8;Tiếng Việt\n\
         TRUYỆN KIỀU;nguyễn du;2015;{kieu_isbn};VN2;Kệ 8;\n\
         De Men phieu luu ky;To Hoai;2010;;VN3, VN4;Kệ 2;\n\
         Thơ chọn lọc;\"Xuân Diệu; Huy Cận\";;;VN5;;Tiếng Anh\n"
    );
    let plan = books::plan(&mut store, &desk, &csv_rows(&csv), &[], today()).expect("plan");
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(
        (plan.new_records(), plan.existing_records(), plan.copies()),
        (2, 1, 5)
    );
    assert!(matches!(
        plan.rows[1].target,
        books::Target::SameAs { line: 2, .. }
    ));
    assert_eq!(plan.rows[2].target.id(), "rec-de-men");
    books::apply(&mut store, &desk, &plan, today()).expect("apply");

    let found = search::search(
        store.connection(),
        &SearchQuery {
            text: "truyen kieu",
            limit: 10,
        },
    )
    .expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].isbn.as_deref(), Some(kieu_isbn.as_str()));
    assert_eq!(found[0].language.as_deref(), Some("vie"));
    let poems = crate::db::records_by_barcode(store.connection(), "VN5").expect("by barcode");
    assert_eq!(poems[0].authors, ["Xuân Diệu", "Huy Cận"]);
    assert_eq!(poems[0].language.as_deref(), Some("eng"));
    let copy = store
        .get(&tusach_sync::EntityKey::new(
            desk.scope(),
            crate::circulation::library::COPIES,
            "VN4",
        ))
        .expect("get")
        .expect("copy");
    assert_eq!(
        copy.get("record").and_then(Value::as_str),
        Some("rec-de-men")
    );
    assert_eq!(copy.get("shelf").and_then(Value::as_str), Some("Kệ 2"));

    // The same file again: every barcode is taken, so nothing is written.
    let again = books::plan(&mut store, &desk, &csv_rows(&csv), &[], today()).expect("plan");
    assert_eq!(again.errors.len(), 5);
    assert_eq!(again.bad_lines(), 4);
    let feed = store.feed_len().expect("feed");
    assert!(matches!(
        books::apply(&mut store, &desk, &again, today()),
        Err(books::BooksError::HasErrors(4))
    ));
    assert_eq!(store.feed_len().expect("feed"), feed, "nothing written");
}

#[test]
fn authors_split_only_when_clearly_a_list() {
    let cases: &[(&str, &[&str])] = &[
        ("Nguyễn Du", &["Nguyễn Du"]),
        ("Xuân Diệu; Huy Cận", &["Xuân Diệu", "Huy Cận"]),
        ("Nguyễn Du, Tố Hữu", &["Nguyễn Du", "Tố Hữu"]),
        ("Tolstoy, Lev", &["Tolstoy, Lev"]),
        ("", &[]),
        (" ; ", &[]),
    ];
    for (cell, expected) in cases {
        assert_eq!(books::split_authors(cell), *expected, "{cell:?}");
    }
    assert_eq!(books::language_code("tiếng việt"), "vie");
    assert_eq!(books::language_code(""), "vie");
    assert_eq!(books::language_code("Tiếng Anh"), "eng");
    assert_eq!(books::language_code("Tiếng Khmer"), "Tiếng Khmer");
}

#[test]
fn years_and_dates_are_read_as_lists_write_them() {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    for (text, expected) in [
        ("31/12/2026", date(2026, 12, 31)),
        ("1/9/2026", date(2026, 9, 1)),
        ("01-09-2026", date(2026, 9, 1)),
        ("01.09.2026", date(2026, 9, 1)),
        ("2026-09-01", date(2026, 9, 1)),
        ("2026-09-01 00:00:00", date(2026, 9, 1)),
        ("31/02/2026", None),
        ("05/03/12", None),
        ("hôm qua", None),
    ] {
        assert_eq!(parse_date(text), expected, "{text:?}");
    }
    for (text, expected) in [
        ("2015", Some(2015)),
        ("2015.", Some(2015)),
        ("c2015", Some(2015)),
        ("[2015]", Some(2015)),
        ("2027", Some(2027)),
        ("2028", None),
        ("999", None),
        ("hai nghìn", None),
    ] {
        assert_eq!(parse_year(text, today()), expected, "{text:?}");
    }
}

fn reader_errors(store: &mut Store, desk: &Desk, csv: &str) -> Vec<String> {
    let plan = readers::plan(store, desk, &csv_rows(csv), &[], today()).expect("plan");
    plan.errors.iter().map(RowError::vi).collect()
}

fn register(store: &mut Store, desk: &Desk, card: &str, name: &str, class: Option<&str>) {
    let new = crate::circulation::readers::NewReader {
        card: card.into(),
        name: name.into(),
        category: "student".into(),
        card_expires: today(),
        class: class.map(str::to_owned),
        school: None,
        contact: None,
        pin: None,
    };
    desk.register_reader(store, &new, today())
        .expect("register");
}

#[test]
fn every_kind_of_bad_reader_row_is_named_by_line_and_column() {
    let (mut store, desk, _dir) = open();
    register(&mut store, &desk, "BD0007", "Trần Văn An", Some("5A"));
    let header = "Họ và tên,Lớp,Số thẻ,Đối tượng,Ngày sinh,Hạn thẻ\n";
    let cases: &[(&str, &str)] = &[
        (
            ",5A,BD1,Học sinh,,",
            "Dòng 2, cột Họ và tên: ô này không được để trống",
        ),
        (
            "Lê Hoa,5A,BD1,Học viên,,",
            "Dòng 2, cột Đối tượng: \"Học viên\" không phải là đối tượng (Học sinh, Thiếu nhi, Giáo viên, Người lớn)",
        ),
        (
            "Lê Hoa,5A,BD1,Học sinh,30/02/2015,",
            "Dòng 2, cột Ngày sinh: \"30/02/2015\" không phải là ngày (viết như 31/12/2026)",
        ),
        (
            "Lê Hoa,5A,BD1,Học sinh,,mai",
            "Dòng 2, cột Hạn thẻ: \"mai\" không phải là ngày (viết như 31/12/2026)",
        ),
        (
            "Lê Hoa,5A,BD 1,Học sinh,,",
            "Dòng 2, cột Số thẻ: \"BD 1\" không phải là số thẻ (không có khoảng trắng)",
        ),
        (
            "Lê Hoa,5A,,Học sinh,,",
            "Dòng 2, cột Số thẻ: ô này không được để trống",
        ),
        (
            "Lê Hoa,5A,BD0007,Học sinh,,",
            "Dòng 2, cột Số thẻ: thẻ BD0007 đã cấp cho bạn đọc khác (Trần Văn An)",
        ),
    ];
    for (row, expected) in cases {
        let errors = reader_errors(&mut store, &desk, &format!("{header}{row}\n"));
        assert_eq!(errors, [*expected], "row {row:?}");
    }
    let errors = reader_errors(
        &mut store,
        &desk,
        &format!("{header}Lê Hoa,5A,BD1,,,\nLê Lan,5B,BD1,,,\n"),
    );
    assert_eq!(errors, ["Dòng 3, cột Số thẻ: thẻ BD1 đã có ở dòng 2"]);
}

#[test]
fn readers_register_in_one_commit_and_an_identical_card_is_left_alone() {
    let (mut store, desk, _dir) = open();
    register(&mut store, &desk, "BD0007", "Trần Văn An", Some("5A"));
    let csv = "\u{FEFF}Họ và tên;Lớp;Số thẻ;Đối tượng;Điện thoại;Hạn thẻ\n\
               Tran Van An;5A;BD0007;Học sinh;;\n\
               Lê Thị Hoa;5B;BD0101;hoc sinh;0912345678;31/05/2027\n\
               Nguyễn Văn Bình;;BD0102;Giáo viên;;\n\
               Phạm Bé;;BD0103;Thiếu nhi;;\n\
               Đỗ Minh;;BD0104;;;\n";
    let plan = readers::plan(&mut store, &desk, &csv_rows(csv), &[], today()).expect("plan");
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.already, [(2, "BD0007".to_owned())]);
    let categories: Vec<&str> = plan
        .rows
        .iter()
        .map(|r| r.reader.category.as_str())
        .collect();
    assert_eq!(categories, ["student", "teacher", "child", "adult"]);
    readers::apply(&mut store, &desk, &plan, today()).expect("apply");
    let hoa = desk.reader_profile(&mut store, "BD0101").expect("reader");
    assert_eq!(hoa.name, "Lê Thị Hoa");
    assert_eq!(hoa.class.as_deref(), Some("5B"));
    assert_eq!(hoa.contact.as_deref(), Some("0912345678"));
    assert_eq!(hoa.card_expires, NaiveDate::from_ymd_opt(2027, 5, 31));
    let minh = desk.reader_profile(&mut store, "BD0104").expect("reader");
    assert_eq!(minh.card_expires, NaiveDate::from_ymd_opt(2027, 12, 7));

    let again = readers::plan(&mut store, &desk, &csv_rows(csv), &[], today()).expect("plan");
    assert!(again.errors.is_empty() && again.rows.is_empty());
    assert_eq!(again.already.len(), 5);
}

#[test]
fn a_list_without_cards_gets_them_in_the_librarys_style() {
    let (mut store, desk, _dir) = open();
    for (card, name) in [("TV-041", "A"), ("TV-042", "B"), ("X9", "C")] {
        register(&mut store, &desk, card, name, None);
    }
    let csv = "Họ tên,Lớp\nLê Hoa,5A\nLê Lan,5B\nB,\n";
    let plan = readers::plan(&mut store, &desk, &csv_rows(csv), &[], today()).expect("plan");
    let cards: Vec<&str> = plan.rows.iter().map(|r| r.reader.card.as_str()).collect();
    assert_eq!(cards, ["TV-043", "TV-044"]);
    assert!(plan.rows.iter().all(|r| r.card_generated));
    assert_eq!(
        plan.already,
        [(4, "TV-042".to_owned())],
        "B is already registered"
    );

    assert_eq!(
        CardStyle::of([]),
        CardStyle {
            prefix: "BD".into(),
            width: 4,
            next: 1
        }
    );
    assert_eq!(CardStyle::of(["0099", "0100", "BD1"]).next, 101);
}
