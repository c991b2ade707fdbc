//! The catalogue as readers and librarians use it, against a real `tusach serve --demo`: a
//! reader finds a book and sees where it stands, narrows results by facets, types a barcode;
//! a librarian adds copies to an existing record, creates a new one, runs a stocktake; a
//! reader with a PIN reserves a book from its page; and every state-changing endpoint refuses
//! bad input with a message, writing nothing.
//!
//! One server for the whole file: seeding the demo library in a debug build takes a while.

use std::io::Write as _;

use serde_json::{Value, json};
use tusach_tests::web::{Client, Response, Server, percent_encode};

fn location(response: &Response) -> String {
    assert_eq!(response.status, 303, "{} {}", response.head, response.body);
    response.header("location").expect("a Location header")
}

fn gzip_size(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip").len()
}

/// The record ids a readers' page links to, in order.
fn record_links(html: &str) -> Vec<String> {
    html.split("href=\"/records/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

fn on_shelf(record: &Value) -> i64 {
    record["availability"]
        .as_array()
        .expect("availability")
        .iter()
        .map(|a| a["on_shelf"].as_i64().unwrap_or(0))
        .sum()
}

#[test]
fn readers_and_librarians_use_the_catalogue() {
    let mut server = Server::demo();
    let mut reader = server.client();
    let mut librarian = server.staff_client();
    assert!(!librarian.csrf.is_empty(), "a session has a CSRF token");

    let kieu = reader_finds_a_book_and_sees_where_it_is(&mut reader);
    facets_narrow_the_results(&mut reader);
    a_barcode_finds_its_record(&mut reader);
    new_arrivals_are_paged(&mut reader);
    a_librarian_adds_copies_to_an_existing_record(&mut librarian, &mut reader, &kieu);
    a_librarian_creates_a_record_that_readers_then_find(&mut librarian, &mut reader);
    let stocktake = a_stocktake_finds_missing_and_misplaced_copies(&mut librarian, &kieu);
    bad_input_is_refused_and_nothing_is_written(&mut librarian, &mut reader, &kieu, &stocktake);
    a_reader_reserves_from_the_record_page(&mut librarian, &mut reader, &kieu);
    the_readers_first_load_is_small(&mut reader);
    assert!(server.process.try_wait().is_none(), "the server survived");
}

fn reader_finds_a_book_and_sees_where_it_is(reader: &mut Client) -> String {
    let page = reader.get("/search?q=nguyen+du");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("<script"),
        "readers' pages need no JavaScript"
    );
    let links = record_links(&page.body);
    assert!(
        !links.is_empty(),
        "results link to record pages: {}",
        page.body
    );
    let record = links
        .iter()
        .find(|id| {
            reader.get(&format!("/api/records/{id}")).json()["authors"]
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n == "Nguyễn Du"))
        })
        .expect("a work of Nguyễn Du among the results");
    let page = reader.get(&format!("/records/{record}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Nguyễn Du"), "{}", page.body);
    assert!(
        page.body.contains("Thư viện xã Nghi Phú</strong> — Kệ "),
        "availability names the library and the shelf: {}",
        page.body
    );
    assert!(
        page.body.contains("trên giá") || page.body.contains("đang cho mượn"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("action=\"/records/{record}/reserve\""))
    );
    let english = reader.get(&format!("/records/{record}?lang=en"));
    assert!(
        english.body.contains("Where to find it"),
        "{}",
        english.body
    );
    reader.get("/search?lang=vi");

    let json = reader.get(&format!("/api/records/{record}")).json();
    assert_eq!(json["id"], record.as_str());
    let availability = json["availability"].as_array().expect("availability");
    assert!(!availability.is_empty(), "{json}");
    assert_eq!(availability[0]["library"], "xa-nghi-phu");
    assert_eq!(availability[0]["library_name"], "Thư viện xã Nghi Phú");
    assert!(
        availability[0]["shelf"]
            .as_str()
            .unwrap_or("")
            .starts_with("Kệ "),
        "{json}"
    );
    assert_eq!(reader.get("/records/no-such-record").status, 404);
    assert_eq!(reader.get("/api/records/no-such-record").status, 404);
    record.clone()
}

fn facets_narrow_the_results(reader: &mut Client) {
    let all = reader.get("/api/records?q=van&limit=100&facets=1").json();
    let total = all["total"].as_u64().expect("total");
    assert!(total > 10, "{all}");
    let languages = all["facets"]["languages"].as_array().expect("languages");
    assert!(languages.len() >= 2, "{all}");
    let (code, count) = (
        languages[1]["value"].as_str().expect("code").to_owned(),
        languages[1]["count"].as_u64().expect("count"),
    );
    let narrowed = reader
        .get(&format!("/api/records?q=van&limit=100&language={code}"))
        .json();
    assert_eq!(narrowed["total"].as_u64(), Some(count), "{narrowed}");
    for record in narrowed["records"].as_array().expect("records") {
        assert_eq!(record["language"].as_str(), Some(code.as_str()));
    }
    let decades = all["facets"]["decades"].as_array().expect("decades");
    let decade = decades[0]["value"].as_i64().expect("decade");
    let by_decade = reader
        .get(&format!("/api/records?q=van&limit=100&year={decade}"))
        .json();
    for record in by_decade["records"].as_array().expect("records") {
        let year = record["year"].as_i64().expect("year");
        assert!(
            (decade..decade + 10).contains(&year),
            "{year} not in {decade}s"
        );
    }
    let libraries = all["facets"]["libraries"].as_array().expect("libraries");
    assert_eq!(libraries[0]["value"], "xa-nghi-phu", "{all}");
    let subject = all["facets"]["subjects"][0]["value"]
        .as_str()
        .expect("subject")
        .to_owned();
    let page = reader.get(&format!(
        "/search?q=van&subject={}&library=xa-nghi-phu",
        percent_encode(&subject)
    ));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Đang lọc:"), "{}", page.body);
    assert!(
        page.body.contains("Thư viện xã Nghi Phú ×"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<details class=\"facets\">"),
        "{}",
        page.body
    );
    assert_eq!(reader.get("/api/records?q=van&year=abc").status, 400);
}

fn a_barcode_finds_its_record(reader: &mut Client) {
    let found = reader.get("/api/records?q=TS000000").json();
    assert_eq!(found["count"], 1, "{found}");
    let id = found["records"][0]["id"].as_str().expect("id").to_owned();
    let lower = reader.get("/api/records?q=ts000000").json();
    assert_eq!(lower["records"][0]["id"], id.as_str());
    let page = reader.get("/search?q=TS000000");
    assert_eq!(record_links(&page.body), vec![id]);
}

fn new_arrivals_are_paged(reader: &mut Client) {
    let first = reader.get("/new");
    assert_eq!(first.status, 200);
    assert_eq!(record_links(&first.body).len(), 20, "{}", first.body);
    assert!(first.body.contains("href=\"/new?page=2\""));
    let second = reader.get("/new?page=2");
    assert_eq!(record_links(&second.body).len(), 20);
    assert_ne!(record_links(&first.body), record_links(&second.body));
    assert_eq!(reader.get("/new?page=abc").status, 400);
}

fn a_librarian_adds_copies_to_an_existing_record(
    librarian: &mut Client,
    reader: &mut Client,
    record: &str,
) {
    let before = reader.get(&format!("/api/records/{record}")).json();
    let isbn = before["isbn"].as_str().unwrap_or("").to_owned();
    let query = if isbn.is_empty() {
        percent_encode(before["title"].as_str().expect("title"))
    } else {
        isbn
    };
    let page = librarian.get(&format!("/staff/catalogue?q={query}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("href=\"/staff/catalogue?record={record}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Dùng biểu ghi này"));
    let form = librarian.get(&format!("/staff/catalogue?record={record}"));
    assert!(
        form.body.contains("action=\"/staff/catalogue/copies\""),
        "{}",
        form.body
    );
    let done = librarian.post_form(
        "/staff/catalogue/copies",
        &[
            ("record", record),
            ("barcodes", "NEW0001\r\nNEW0002\r\n"),
            ("shelf", "Kệ 9 – 895.922"),
            ("item_type", "book"),
        ],
    );
    let next = location(&done);
    assert!(next.contains("added=2"), "{next}");
    let after = reader.get(&format!("/api/records/{record}")).json();
    assert_eq!(on_shelf(&after), on_shelf(&before) + 2, "{after}");
    let page = reader.get(&format!("/records/{record}"));
    assert!(page.body.contains("Kệ 9 – 895.922"), "{}", page.body);
    let found = reader.get("/api/records?q=NEW0002").json();
    assert_eq!(found["records"][0]["id"], record);

    let again = librarian.post_form(
        "/staff/catalogue/copies",
        &[
            ("record", record),
            ("barcodes", "NEW0003\nNEW0001"),
            ("shelf", "Kệ 9"),
            ("item_type", "book"),
        ],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("NEW0001") && again.body.contains("đã được dùng"));
    assert_eq!(reader.get("/api/records?q=NEW0003").json()["count"], 0);

    let by_json = librarian.post_json(
        "/api/copies",
        &json!({"record": record, "barcodes": ["NEW0004"], "shelf": "Kệ 9", "item_type": "reference"}),
    );
    assert_eq!(by_json.status, 201, "{}", by_json.body);
    assert_eq!(by_json.json()["added"], 1);
}

fn a_librarian_creates_a_record_that_readers_then_find(
    librarian: &mut Client,
    reader: &mut Client,
) {
    let none = librarian.get("/staff/catalogue?q=9780306406157");
    assert!(none.body.contains("Tạo biểu ghi mới"), "{}", none.body);
    assert!(
        none.body.contains("value=\"9780306406157\""),
        "ISBN prefilled"
    );
    let created = librarian.post_form(
        "/staff/catalogue/records",
        &[
            ("title", "Cẩm nang nuôi ong mật"),
            ("authors", "Phan Văn Lộc\nLê Thị Hoa"),
            ("publisher", "NXB Nông nghiệp"),
            ("year", "2024"),
            ("isbn", "978-0-306-40615-7"),
            ("language", "vie"),
            ("ddc", "638.1"),
            ("subjects", "Nuôi ong"),
        ],
    );
    let next = location(&created);
    assert!(next.contains("created=1"), "{next}");
    let page = librarian.get(&next);
    assert!(
        page.body.contains("Thêm bản sách"),
        "it offers to add copies: {}",
        page.body
    );
    assert!(
        page.body.contains("Kệ 7 – 638.1"),
        "a shelf is suggested from the DDC class"
    );
    let found = reader.get("/api/records?q=nuoi+ong+mat").json();
    assert_eq!(
        found["records"][0]["title"], "Cẩm nang nuôi ong mật",
        "{found}"
    );
    assert_eq!(
        found["records"][0]["authors"],
        json!(["Phan Văn Lộc", "Lê Thị Hoa"])
    );
    let twice = librarian.post_form(
        "/staff/catalogue/records",
        &[("title", "Nuôi ong"), ("isbn", "9780306406157")],
    );
    assert_eq!(twice.status, 409, "{}", twice.body);

    let by_json = librarian.post_json(
        "/api/records",
        &json!({"title": "Sách \"hay\" & 'mới'", "authors": ["Trần Văn Nam"], "year": 2025, "subjects": "Thử; Mới"}),
    );
    assert_eq!(by_json.status, 201, "{}", by_json.body);
    let id = by_json.json()["id"].as_str().expect("id").to_owned();
    let page = reader.get(&format!("/records/{id}"));
    assert!(
        page.body
            .contains("Sách &quot;hay&quot; &amp; &#39;mới&#39;"),
        "text from the database is escaped: {}",
        page.body
    );
    assert!(page.body.contains("chưa có bản nào"));
}

fn a_stocktake_finds_missing_and_misplaced_copies(librarian: &mut Client, record: &str) -> String {
    let added = librarian.post_json(
        "/api/copies",
        &json!({"record": record, "barcodes": "KK01\nKK02\nKK03", "shelf": "Kệ 99 – 895", "item_type": "book"}),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let list = librarian.get("/staff/stocktake");
    assert_eq!(list.status, 200);
    let started = librarian.post_form("/staff/stocktake", &[]);
    let page = location(&started);
    assert!(page.starts_with("/staff/stocktake/kk-"), "{page}");
    let chosen = librarian.get(&format!("{page}?shelf={}", percent_encode("Kệ 99")));
    assert!(
        chosen.body.contains(&format!("action=\"{page}/scans\"")),
        "{}",
        chosen.body
    );
    for barcode in ["KK01", "KK02", "NEW0001", "ZZ404"] {
        let scanned = librarian.post_form(
            &format!("{page}/scans"),
            &[("shelf", "Kệ 99"), ("barcode", barcode)],
        );
        let back = location(&scanned);
        assert!(back.contains(&format!("scanned={barcode}")), "{back}");
    }
    let warned = librarian.get(&format!(
        "{page}?shelf={}&scanned=NEW0001",
        percent_encode("Kệ 99")
    ));
    assert!(
        warned.body.contains("Sách này thuộc Kệ 9 – 895.922"),
        "{}",
        warned.body
    );
    let report = librarian.get(&page);
    assert!(report.body.contains("Còn thiếu (1)"), "{}", report.body);
    assert!(report.body.contains("KK03"));
    assert!(report.body.contains("Xếp nhầm kệ (1)"), "{}", report.body);
    assert!(report.body.contains("NEW0001"));
    assert!(report.body.contains("Mã vạch lạ (1)") && report.body.contains("ZZ404"));

    let marked = librarian.post_form(&format!("{page}/lost"), &[]);
    assert!(location(&marked).contains("lost=1"));
    let closed = librarian.get(&page);
    assert!(closed.body.contains("đã kết thúc"), "{}", closed.body);
    let json = librarian.get(&format!("/api/records/{record}")).json();
    let shelf = json["availability"]
        .as_array()
        .expect("availability")
        .iter()
        .find(|a| a["shelf"] == "Kệ 99 – 895")
        .cloned()
        .expect("shelf 99");
    assert_eq!(
        shelf["on_shelf"], 2,
        "the lost copy is no longer counted: {json}"
    );
    page
}

/// A form post, its fields, the status it must get and a piece of its message.
type FormCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

/// What a write would change: the record count, a record with its copies, the stocktakes.
fn snapshot(client: &mut Client, record: &str) -> (String, String, String) {
    (
        client.get("/healthz").json()["records"].to_string(),
        client.get(&format!("/api/records/{record}")).body,
        client.get("/staff/stocktake").body,
    )
}

fn bad_input_is_refused_and_nothing_is_written(
    librarian: &mut Client,
    reader: &mut Client,
    record: &str,
    stocktake: &str,
) {
    let before = snapshot(librarian, record);
    let script = "<script>alert(1)</script>";
    let huge = "A".repeat(70 * 1024);
    let copies = "/staff/catalogue/copies";
    let records = "/staff/catalogue/records";
    let reserve = format!("/records/{record}/reserve");
    let scans = format!("{stocktake}/scans");
    let lost = format!("{stocktake}/lost");
    let form_cases: Vec<FormCase> = vec![
        (
            copies,
            vec![("barcodes", "X1"), ("item_type", "book")],
            400,
            "Thiếu biểu ghi",
        ),
        (
            copies,
            vec![("record", record), ("item_type", "book")],
            400,
            "Chưa có mã vạch",
        ),
        (
            copies,
            vec![("record", record), ("barcodes", "X1"), ("item_type", "dvd")],
            400,
            "Loại tài liệu",
        ),
        (
            copies,
            vec![("record", record), ("barcodes", "X1")],
            400,
            "Thiếu loại tài liệu",
        ),
        (
            copies,
            vec![
                ("record", "rec-nope"),
                ("barcodes", "X1"),
                ("item_type", "book"),
            ],
            404,
            "Không có biểu ghi",
        ),
        (
            copies,
            vec![
                ("record", record),
                ("barcodes", script),
                ("item_type", "book"),
            ],
            400,
            "&lt; hoặc &gt;",
        ),
        (
            copies,
            vec![
                ("record", record),
                ("barcodes", "X1"),
                ("shelf", script),
                ("item_type", "book"),
            ],
            400,
            "&lt; hoặc &gt;",
        ),
        (
            copies,
            vec![
                ("record", record),
                ("barcodes", "X1 X1"),
                ("item_type", "book"),
            ],
            400,
            "hai lần",
        ),
        (
            copies,
            vec![
                ("record", record),
                ("barcodes", "X1"),
                ("item_type", "book"),
                ("csrf", "wrong"),
            ],
            403,
            "Phiên làm việc",
        ),
        (
            copies,
            vec![
                ("record", record),
                ("barcodes", &huge),
                ("item_type", "book"),
            ],
            413,
            "quá lớn",
        ),
        (records, vec![("authors", "Ai đó")], 400, "Thiếu nhan đề"),
        (records, vec![("title", script)], 400, "&lt; hoặc &gt;"),
        (
            records,
            vec![("title", "Sách"), ("year", "năm ngoái")],
            400,
            "phải là một số",
        ),
        (
            records,
            vec![("title", "Sách"), ("year", "1200")],
            400,
            "từ 1400 đến 2100",
        ),
        (
            records,
            vec![("title", "Sách"), ("isbn", "978-0-306-40615-8")],
            400,
            "số kiểm tra",
        ),
        (
            records,
            vec![("title", "Sách"), ("language", "tiếng việt")],
            400,
            "Ngôn ngữ",
        ),
        (records, vec![("title", "Sách"), ("ddc", "abc")], 400, "DDC"),
        (records, vec![("title", &huge)], 413, "quá lớn"),
        (&reserve, vec![("pin", "1234")], 400, "Thiếu số thẻ"),
        (&reserve, vec![("card", "BD0001")], 400, "Thiếu mã PIN"),
        (
            &reserve,
            vec![("card", script), ("pin", "1234")],
            400,
            "&lt; hoặc &gt;",
        ),
        (
            &reserve,
            vec![("card", "BD0001"), ("pin", "abcd")],
            400,
            "chữ số",
        ),
        (
            "/records/rec-nope/reserve",
            vec![("card", "BD0001"), ("pin", "1234")],
            404,
            "Không có sách",
        ),
        (&scans, vec![("shelf", "Kệ 1")], 400, "Thiếu mã vạch"),
        (
            &scans,
            vec![("shelf", "Kệ 1"), ("barcode", &huge)],
            413,
            "quá lớn",
        ),
        (&scans, vec![("barcode", "TS000001")], 400, "Thiếu kệ"),
        (
            &scans,
            vec![("shelf", "Kệ 1"), ("barcode", script)],
            400,
            "&lt; hoặc &gt;",
        ),
        (
            "/staff/stocktake/kk-nope/scans",
            vec![("shelf", "Kệ 1"), ("barcode", "TS000001")],
            404,
            "kk-nope",
        ),
        ("/staff/stocktake/kk-nope/lost", vec![], 404, "kk-nope"),
        (
            "/staff/stocktake",
            vec![("csrf", "wrong")],
            403,
            "Phiên làm việc",
        ),
        (&lost, vec![("csrf", "wrong")], 403, "Phiên làm việc"),
        (
            &scans,
            vec![("shelf", "Kệ 1"), ("barcode", "TS1"), ("csrf", "")],
            403,
            "Phiên làm việc",
        ),
    ];
    for (path, fields, status, message) in &form_cases {
        let client = if path.starts_with("/records/") {
            &mut *reader
        } else {
            &mut *librarian
        };
        let response = client.post_form(path, fields);
        assert_eq!(
            response.status, *status,
            "{path} {fields:?}: {}",
            response.body
        );
        assert!(
            response.body.contains(message),
            "{path} {fields:?}: expected {message:?} in {}",
            response.body
        );
        assert!(
            !response.body.contains("<script>alert"),
            "{path}: markup escaped"
        );
    }
    // The stocktake is closed now: scans are refused with a clear message.
    let closed = librarian.post_form(&scans, &[("shelf", "Kệ 1"), ("barcode", "TS000001")]);
    assert_eq!(closed.status, 409, "{}", closed.body);

    let json_cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "/api/copies",
            json!({"record": record, "barcodes": 5, "item_type": "book"}).to_string(),
            400,
            "danh sách",
        ),
        (
            "/api/copies",
            json!({"record": record, "barcodes": [5], "item_type": "book"}).to_string(),
            400,
            "phải là chữ",
        ),
        (
            "/api/copies",
            json!({"record": ["x"], "barcodes": ["X1"], "item_type": "book"}).to_string(),
            400,
            "phải là chữ",
        ),
        (
            "/api/copies",
            json!({"record": "rec-nope", "barcodes": ["X1"], "item_type": "book"}).to_string(),
            404,
            "Không có biểu ghi",
        ),
        (
            "/api/copies",
            json!({"record": record, "barcodes": ["TS000000"], "item_type": "book"}).to_string(),
            409,
            "đã được dùng",
        ),
        (
            "/api/copies",
            json!({"record": record, "barcodes": [script], "item_type": "book"}).to_string(),
            400,
            "< hoặc >",
        ),
        ("/api/copies", "[1]".to_owned(), 400, "đối tượng JSON"),
        ("/api/copies", "{not json".to_owned(), 400, "JSON hợp lệ"),
        (
            "/api/copies",
            format!("{{\"record\": \"{huge}\"}}"),
            413,
            "quá lớn",
        ),
        (
            "/api/records",
            json!({"title": ["x"]}).to_string(),
            400,
            "phải là chữ",
        ),
        (
            "/api/records",
            json!({"title": "Sách", "year": true}).to_string(),
            400,
            "phải là một số",
        ),
        (
            "/api/records",
            json!({"title": "Sách", "isbn": "12345"}).to_string(),
            400,
            "số kiểm tra",
        ),
        (
            "/api/records",
            json!({"title": "Sách", "authors": [script]}).to_string(),
            400,
            "< hoặc >",
        ),
        (
            "/api/records",
            json!({"authors": ["Ai"]}).to_string(),
            400,
            "Thiếu nhan đề",
        ),
    ];
    for (path, body, status, message) in &json_cases {
        let csrf = librarian.csrf.clone();
        let response = librarian.request(
            "POST",
            path,
            &[
                ("Content-Type", "application/json"),
                ("X-CSRF-Token", &csrf),
            ],
            body.as_bytes(),
        );
        let start: String = body.chars().take(80).collect();
        assert_eq!(
            response.status, *status,
            "{path} {}: {}",
            start, response.body
        );
        let json = response.json();
        assert!(
            json["error"].as_str().unwrap_or("").contains(message),
            "{path}: expected {message:?} in {json}"
        );
        assert!(!json["error_en"].as_str().unwrap_or("").is_empty());
    }
    let no_token = librarian.request(
        "POST",
        "/api/records",
        &[("Content-Type", "application/json")],
        json!({"title": "Sách"}).to_string().as_bytes(),
    );
    assert_eq!(no_token.status, 403, "{}", no_token.body);

    assert_eq!(snapshot(librarian, record), before, "nothing was written");

    // A well-formed request for a card without that PIN: one message, nothing written.
    let wrong = reader.post_form(&reserve, &[("card", "BD0001"), ("pin", "1234")]);
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong.body.contains("Số thẻ hoặc mã PIN không đúng"),
        "{}",
        wrong.body
    );
    assert_eq!(snapshot(librarian, record), before, "nothing was written");
}

/// A reader with a PIN reserves a book from its page; the hold is on the staff's holds page.
/// A wrong PIN is refused and writes nothing; a second hold on the same book is refused with
/// the reason.
fn a_reader_reserves_from_the_record_page(
    librarian: &mut Client,
    reader: &mut Client,
    record: &str,
) {
    let registered = librarian.post_json(
        "/api/readers",
        &json!({"card": "BDR001", "name": "Phan Thị Đặt", "category": "adult",
                "card_expires": "2099-12-31", "pin": "2468"}),
    );
    assert_eq!(registered.status, 201, "{}", registered.body);
    let reserve = format!("/records/{record}/reserve");
    let holds_before = librarian.get("/staff/holds");
    assert_eq!(holds_before.status, 200, "{}", holds_before.body);
    assert!(!holds_before.body.contains("BDR001"));

    let wrong = reader.post_form(&reserve, &[("card", "BDR001"), ("pin", "1111")]);
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains("Số thẻ hoặc mã PIN không đúng"));
    assert!(
        !librarian.get("/staff/holds").body.contains("BDR001"),
        "a wrong PIN wrote a hold"
    );

    let placed = reader.post_form(&reserve, &[("card", "BDR001"), ("pin", "2468")]);
    assert_eq!(placed.status, 200, "{}", placed.body);
    for words in [
        "Đã đặt trước cho thẻ BDR001",
        "Bạn đứng thứ 1 trong hàng chờ",
        "3 ngày mở cửa",
    ] {
        assert!(
            placed.body.contains(words),
            "no {words:?} in {}",
            placed.body
        );
    }
    let holds = librarian.get("/staff/holds");
    assert!(
        holds.body.contains("BDR001") && holds.body.contains("Phan Thị Đặt"),
        "the hold is not on the holds page: {}",
        holds.body
    );

    let again = reader.post_form(
        &format!("{reserve}?lang=en"),
        &[("card", "BDR001"), ("pin", "2468")],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(
        again.body.contains("already has a hold on this title"),
        "{}",
        again.body
    );
    reader.cookies.remove("lang");
}

fn the_readers_first_load_is_small(reader: &mut Client) {
    let mut fresh = Client {
        cookies: Default::default(),
        ..reader.clone()
    };
    let page = fresh.get("/search");
    assert_eq!(page.status, 200);
    let css_path = page
        .body
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page links its stylesheet")
        .replace("&amp;", "&");
    let css = fresh.get(&css_path);
    assert_eq!(css.status, 200);
    let results = fresh.get("/search?q=nguyen+du");
    let total = gzip_size(page.body.as_bytes()) + gzip_size(css.body.as_bytes());
    assert!(total <= 60 * 1024, "first load is {total} bytes gzipped");
    let with_results = gzip_size(results.body.as_bytes()) + gzip_size(css.body.as_bytes());
    assert!(
        with_results <= 60 * 1024,
        "a results page is {with_results} bytes gzipped"
    );
}
