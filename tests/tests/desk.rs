//! The circulation desk against a real `tusach serve --demo`: scanning cards and copies
//! through the plain forms, the JSON API, holds, readers, "my loans", and bad input that must
//! be refused with a message and write nothing.
//!
//! One server for the whole file (seeding the demo in a debug build takes a while); the cases
//! run in order in one test and each uses its own readers and copies.

use std::time::Duration;

use serde_json::json;
use tusach_tests::process::run_ok;
use tusach_tests::web::{Client, Response, Server, percent_encode};

const EVIL_CARD: &str = "BDX001";
const EVIL_NAME: &str = "<script>alert(1)</script> & \"Cô\" Ba";

/// The demo library, plus a reader written straight into the store (not through the web
/// forms, which refuse markup) whose name has markup in it.
fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut first = Server::start(data.clone(), &["--demo"], None);
    // The first admin replaces the one-time password now: later starts print none.
    first.staff_client();
    assert!(
        first.process.terminate(Duration::from_secs(30)),
        "serve did not stop"
    );
    drop(first);
    {
        let mut store = tusach::data_dir::DataDir::new(&data)
            .open_store()
            .expect("open store");
        let desk = tusach::demo::demo_desk("test-device").expect("desk");
        let today = chrono::Local::now().date_naive();
        let expires = today
            .checked_add_days(chrono::Days::new(300))
            .expect("date");
        desk.add_reader(&mut store, EVIL_CARD, EVIL_NAME, "adult", expires, today)
            .expect("reader");
    }
    (Server::start(data, &["--demo"], None), dir)
}

fn staff(server: &Server) -> Client {
    let client = server.staff_client();
    assert!(!client.csrf.is_empty(), "no CSRF token after login");
    client
}

fn location(response: &Response) -> String {
    assert_eq!(response.status, 303, "{} {}", response.head, response.body);
    response.header("location").expect("location")
}

fn loans_of(client: &mut Client, card: &str) -> Vec<String> {
    let response = client.get(&format!("/api/readers/{card}/loans"));
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["loans"]
        .as_array()
        .expect("loans")
        .iter()
        .map(|l| l["barcode"].as_str().expect("barcode").to_owned())
        .collect()
}

/// Copies that are on the shelf now: each candidate is checked in first (closing whatever
/// demo loan it had), and reference books are skipped.
fn free_copies(client: &mut Client, from: u32, count: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut n = from;
    while found.len() < count {
        let barcode = format!("TS{n:06}");
        n += 1;
        let back = client.post_json("/api/returns", &json!({"barcode": barcode}));
        assert_eq!(back.status, 200, "{}", back.body);
        // The demo makes every 50th record a reference book: its copies never go out.
        let record_is_reference = {
            let mut copies = 0u32;
            let mut record = 0u32;
            loop {
                let these = if record.is_multiple_of(2) { 2 } else { 1 };
                if n - 1 < copies + these {
                    break record.is_multiple_of(50);
                }
                copies += these;
                record += 1;
            }
        };
        if !record_is_reference {
            found.push(barcode);
        }
    }
    found
}

fn register(client: &mut Client, card: &str, name: &str, category: &str, pin: Option<&str>) {
    let mut body = json!({
        "card": card, "name": name, "category": category, "card_expires": "2099-12-31",
        "school": "Trường Tiểu học Nghi Phú",
    });
    if let Some(pin) = pin {
        body["pin"] = json!(pin);
    }
    let response = client.post_json("/api/readers", &body);
    assert_eq!(response.status, 201, "{}", response.body);
}

#[test]
fn the_circulation_desk_end_to_end() {
    let (server, _dir) = server();
    let mut client = staff(&server);
    register(
        &mut client,
        "BDT001",
        "Nguyễn Văn An",
        "adult",
        Some("1357"),
    );
    register(&mut client, "BDT002", "Trần Thị Bé & Co", "student", None);
    register(&mut client, "BDT003", "Lê Văn Cường", "teacher", None);
    let copies = free_copies(&mut client, 1_001, 6);

    scanning_a_card_then_two_copies_lends_them_and_a_return_clears_one(&mut client, &copies);
    the_json_api_lends_renews_returns_and_lists_refusals(&mut client, &copies);
    holds_route_a_returned_copy_to_the_first_reader_waiting(&mut client, &copies);
    in_house_use_and_blocks(&mut client, &copies);
    staff_pages_list_sort_and_escape(&mut client);
    readers_see_their_loans_with_card_and_pin(&server);
    bad_input_is_refused_with_a_message_and_writes_nothing(server, &copies);
}

fn scanning_a_card_then_two_copies_lends_them_and_a_return_clears_one(
    client: &mut Client,
    copies: &[String],
) {
    let chosen = location(&client.post_form("/staff/desk/scan", &[("code", "BDT001")]));
    assert_eq!(chosen, "/staff/desk?reader=BDT001");
    let page = client.get(&chosen);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Nguyễn Văn An") && page.body.contains("data-scan"));
    for copy in &copies[..2] {
        let after = location(
            &client.post_form("/staff/desk/scan", &[("code", copy), ("reader", "BDT001")]),
        );
        assert!(
            after.starts_with("/staff/desk?reader=BDT001&result="),
            "{after}"
        );
        let page = client.get(&after);
        assert!(page.body.contains("Đã cho mượn"), "{}", page.body);
        assert!(page.body.contains("hạn trả"));
    }
    let mut out = loans_of(client, "BDT001");
    out.sort();
    assert_eq!(out, copies[..2].to_vec());
    // The same copy again: refused, with the reason, and the reader stays chosen.
    let again = location(&client.post_form(
        "/staff/desk/scan",
        &[("code", &copies[0]), ("reader", "BDT001")],
    ));
    let page = client.get(&again);
    assert!(
        page.body.contains("Không cho mượn") && page.body.contains("đang cho bạn đọc BDT001 mượn")
    );
    // No reader chosen: the copy's barcode checks it in.
    let back = location(&client.post_form("/staff/desk/scan", &[("code", &copies[0])]));
    assert!(back.starts_with("/staff/desk?result="), "{back}");
    assert!(client.get(&back).body.contains("Đã nhận trả"));
    assert_eq!(loans_of(client, "BDT001"), vec![copies[1].clone()]);
    // Renew from the desk page.
    let loan = client.get("/api/readers/BDT001/loans").json()["loans"][0]["loan"]
        .as_str()
        .expect("loan")
        .to_owned();
    let renewed = location(&client.post_form(
        "/staff/desk/renew",
        &[("loan", &loan), ("reader", "BDT001")],
    ));
    assert!(client.get(&renewed).body.contains("Đã gia hạn"));
    // An unknown code: the desk again, 404, with a message.
    let unknown = client.post_form("/staff/desk/scan", &[("code", "KHONGCO123")]);
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("KHONGCO123") && unknown.body.contains("data-scan"));
}

fn the_json_api_lends_renews_returns_and_lists_refusals(client: &mut Client, copies: &[String]) {
    let lent = client.post_json(
        "/api/loans",
        &json!({"card": "BDT003", "barcode": copies[2]}),
    );
    assert_eq!(lent.status, 201, "{}", lent.body);
    let loan = lent.json()["loan"].as_str().expect("loan").to_owned();
    assert!(lent.json()["due"].as_str().is_some_and(|d| d.len() == 10));
    let renewed = client.post_json(&format!("/api/loans/{loan}/renew"), &json!({}));
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    assert_eq!(renewed.json()["loan"], json!(loan));
    let back = client.post_json("/api/returns", &json!({"barcode": copies[2]}));
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.json()["closed"], json!(true));
    assert_eq!(back.json()["late_days"], json!(0));
    assert_eq!(back.json()["fine"], json!(0));
    assert!(loans_of(client, "BDT003").is_empty());
    // Refused: a copy already out, and an expired card (the demo's reader BD0000).
    let taken = client.post_json(
        "/api/loans",
        &json!({"card": "BDT003", "barcode": copies[1]}),
    );
    assert_eq!(taken.status, 409, "{}", taken.body);
    let reasons = taken.json()["reasons"].clone();
    assert_eq!(reasons[0]["code"], json!("copy_on_loan"), "{reasons}");
    assert!(
        reasons[0]["vi"]
            .as_str()
            .is_some_and(|t| t.contains("BDT001"))
    );
    assert!(reasons[0]["en"].as_str().is_some_and(|t| !t.is_empty()));
    let expired = client.post_json(
        "/api/loans",
        &json!({"card": "BD0000", "barcode": copies[2]}),
    );
    assert_eq!(expired.status, 409, "{}", expired.body);
    assert!(
        expired.json()["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["code"] == json!("card_expired"))
    );
    assert!(
        expired.json()["error"]
            .as_str()
            .is_some_and(|t| t.contains("hết hạn"))
    );
}

fn holds_route_a_returned_copy_to_the_first_reader_waiting(client: &mut Client, copies: &[String]) {
    let record = client.get("/api/readers/BDT001/loans").json()["loans"][0]["record"]
        .as_str()
        .expect("record")
        .to_owned();
    let hold = client.post_json("/api/holds", &json!({"card": "BDT003", "record": record}));
    assert_eq!(hold.status, 201, "{}", hold.body);
    let hold = hold.json()["hold"].as_str().expect("hold").to_owned();
    // BDT001 has the record on loan: their hold is refused with the reason.
    let own = client.post_json("/api/holds", &json!({"card": "BDT001", "record": record}));
    assert_eq!(own.status, 409);
    assert_eq!(own.json()["reasons"][0]["code"], json!("already_borrowed"));
    let back = client.post_json("/api/returns", &json!({"barcode": copies[1]}));
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(
        back.json()["hold_for"]["card"],
        json!("BDT003"),
        "{}",
        back.body
    );
    assert_eq!(back.json()["hold_for"]["name"], json!("Lê Văn Cường"));
    let page = client.get("/staff/holds");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Lê Văn Cường") && page.body.contains(&copies[1]));
    // The desk's return receipt says so too, for a copy scanned back while someone waits.
    let lent = client.post_json(
        "/api/loans",
        &json!({"card": "BDT003", "barcode": copies[1]}),
    );
    assert_eq!(lent.status, 201, "{}", lent.body);
    let cancelled = client.post_json(&format!("/api/holds/{hold}/cancel"), &json!({}));
    assert_eq!(
        cancelled.status, 404,
        "collected holds are closed: {}",
        cancelled.body
    );
    let hold = client.post_json("/api/holds", &json!({"card": "BDT002", "record": record}));
    assert_eq!(hold.status, 201, "{}", hold.body);
    let receipt = location(&client.post_form("/staff/desk/scan", &[("code", &copies[1])]));
    let page = client.get(&receipt);
    assert!(
        page.body
            .contains("Để riêng cho bạn đọc Trần Thị Bé &amp; Co"),
        "{}",
        page.body
    );
    // Choosing BDT002 at the desk shows the book waiting for them.
    let desk = client.get("/staff/desk?reader=BDT002");
    assert!(desk.body.contains("đang chờ bạn đọc này") && desk.body.contains(&copies[1]));
    // Set aside for BDT002: nobody else may borrow it meanwhile.
    let other = client.post_json(
        "/api/loans",
        &json!({"card": "BDT001", "barcode": copies[1]}),
    );
    assert_eq!(other.status, 409, "{}", other.body);
    assert_eq!(
        other.json()["reasons"][0]["code"],
        json!("copy_held_for_reader")
    );
    let hold = hold.json()["hold"].as_str().expect("hold").to_owned();
    let cancelled = client.post_json(&format!("/api/holds/{hold}/cancel"), &json!({}));
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json()["cancelled"], json!(true));
    // A reader reserves with card and PIN, without a staff session.
    let mut reader = Client {
        csrf: String::new(),
        cookies: Default::default(),
        addr: client.addr.clone(),
    };
    let by_pin = reader.post_json(
        "/api/holds",
        &json!({"card": "BDT001", "record": "no-such-record", "pin": "1357"}),
    );
    assert_eq!(by_pin.status, 404, "{}", by_pin.body);
    let no_pin = reader.post_json("/api/holds", &json!({"card": "BDT001", "record": record}));
    assert_eq!(no_pin.status, 403, "{}", no_pin.body);
}

fn in_house_use_and_blocks(client: &mut Client, copies: &[String]) {
    let counted = location(&client.post_form("/staff/desk/in-house", &[("code", &copies[3])]));
    assert!(client.get(&counted).body.contains("đọc tại chỗ"));
    let blocked = location(&client.post_form(
        "/staff/readers/BDT002/block",
        &[("action", "block"), ("note", "mất 2 cuốn sách")],
    ));
    assert_eq!(blocked, "/staff/readers/BDT002");
    let refused = client.post_json(
        "/api/loans",
        &json!({"card": "BDT002", "barcode": copies[3]}),
    );
    assert_eq!(refused.status, 409);
    assert_eq!(
        refused.json()["reasons"][0]["code"],
        json!("reader_blocked")
    );
    assert!(
        client
            .get("/staff/readers/BDT002")
            .body
            .contains("mất 2 cuốn sách")
    );
    location(&client.post_form("/staff/readers/BDT002/block", &[("action", "unblock")]));
    let lent = client.post_json(
        "/api/loans",
        &json!({"card": "BDT002", "barcode": copies[3]}),
    );
    assert_eq!(lent.status, 201, "{}", lent.body);
}

fn staff_pages_list_sort_and_escape(client: &mut Client) {
    let overdue = client.get("/staff/overdue");
    assert_eq!(overdue.status, 200);
    assert!(
        overdue.body.contains("<table>"),
        "the demo has overdue loans"
    );
    let readers = client.get("/staff/readers");
    assert_eq!(readers.status, 200);
    // Filed under the given name: An (BDT001) before Bé (BDT002) before Cường (BDT003).
    let at = |card: &str| readers.body.find(&format!(">{card} ·")).expect(card);
    assert!(at("BDT001") < at("BDT002") && at("BDT002") < at("BDT003"));
    let found = client.get("/staff/readers?q=nguyen+van+an");
    assert!(found.body.contains("BDT001") && !found.body.contains("BDT003"));
    for page in [
        "/staff/readers".to_owned(),
        format!("/staff/readers/{EVIL_CARD}"),
        format!("/staff/desk?reader={EVIL_CARD}"),
    ] {
        let response = client.get(&page);
        assert_eq!(response.status, 200, "{page}");
        assert!(
            response
                .body
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Cô&quot; Ba"),
            "{page}: {}",
            response.body
        );
        assert!(!response.body.contains("<script>alert"), "{page}");
    }
    let new_form = client.get("/staff/readers/new");
    assert!(new_form.status == 200 && new_form.body.contains("name=\"pin\""));
    let openapi = client.get("/api/openapi.json").json();
    for path in [
        "/api/loans",
        "/api/returns",
        "/api/loans/{id}/renew",
        "/api/holds",
        "/api/readers",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} not in the OpenAPI document"
        );
    }
}

fn readers_see_their_loans_with_card_and_pin(server: &Server) {
    let mut phone = server.client();
    let form = phone.get("/my-loans");
    assert_eq!(form.status, 200);
    assert!(!form.body.contains("nav class=\"staff\""));
    let mine = phone.post_form("/my-loans", &[("card", "BDT001"), ("pin", "1357")]);
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains("Nguyễn Văn An") && mine.body.contains("Sách đang mượn"));
    assert!(phone.cookies.is_empty(), "my-loans sets no cookie");
    let generic = "Số thẻ hoặc mã PIN không đúng.";
    for (card, pin) in [("BDT001", "9999"), ("KHONGCO", "1357"), ("BDT003", "1357")] {
        let wrong = phone.post_form("/my-loans", &[("card", card), ("pin", pin)]);
        assert_eq!(wrong.status, 400, "{card}");
        assert!(wrong.body.contains(generic), "{card}: {}", wrong.body);
    }
    // The librarian sets a PIN for BDT003 on the reader's page; then it works.
    let mut librarian = staff(server);
    location(&librarian.post_form("/staff/readers/BDT003/pin", &[("pin", "8642")]));
    let theirs = phone.post_form("/my-loans", &[("card", "BDT003"), ("pin", "8642")]);
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(theirs.body.contains("Lê Văn Cường"));
    // Four more wrong PINs for BDT001 make five: then even the right one waits.
    for _ in 0..4 {
        phone.post_form("/my-loans", &[("card", "BDT001"), ("pin", "0000")]);
    }
    let locked = phone.post_form("/my-loans", &[("card", "BDT001"), ("pin", "1357")]);
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("15 phút"));
}

/// Fails unless the answer is a 4xx that says something.
#[track_caller]
fn refused(response: &Response, what: &str) {
    assert!(
        (400..500).contains(&response.status),
        "{what}: {} {}",
        response.status,
        response.body
    );
    let says_something = if response.content_type.starts_with("application/json") {
        response.json()["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
            && response.json()["error_en"]
                .as_str()
                .is_some_and(|e| !e.is_empty())
    } else {
        response.body.contains("error")
    };
    assert!(says_something, "{what}: no message in {}", response.body);
}

/// The store's content digest and feed length; the server must be stopped (one process per
/// data folder).
fn digest(data: &std::path::Path) -> Vec<String> {
    run_ok(data, &["dev", "digest"], Duration::from_secs(180))
        .stdout
        .into_iter()
        .filter(|l| l.starts_with("digest") || l.starts_with("feed"))
        .collect()
}

fn bad_input_is_refused_with_a_message_and_writes_nothing(mut server: Server, copies: &[String]) {
    let data = server.data().to_owned();
    assert!(
        server.process.terminate(Duration::from_secs(30)),
        "serve did not stop"
    );
    drop(server);
    let before = digest(&data);
    let mut server = Server::start(data.clone(), &["--demo"], None);
    let mut client = staff(&server);
    let client = &mut client;
    let loans_before = loans_of(client, "BDT001");
    let big = "x".repeat(70 * 1024);
    let free = copies[4].as_str();
    let json_cases: Vec<(&str, serde_json::Value)> = vec![
        ("/api/loans", json!({})),
        ("/api/loans", json!({"card": "BDT001"})),
        ("/api/loans", json!({"card": ["BDT001"], "barcode": free})),
        ("/api/loans", json!({"card": "BDT001", "barcode": {"x": 1}})),
        (
            "/api/loans",
            json!({"card": "<script>alert(1)</script>", "barcode": free}),
        ),
        ("/api/loans", json!({"card": "KHONGCO", "barcode": free})),
        (
            "/api/loans",
            json!({"card": "BDT001", "barcode": "KHONGCO"}),
        ),
        ("/api/loans", json!({"card": "BDT001", "barcode": big})),
        ("/api/returns", json!({})),
        ("/api/returns", json!({"barcode": true})),
        ("/api/returns", json!({"barcode": "<b>TS000001</b>"})),
        ("/api/returns", json!({"barcode": "KHONGCO"})),
        ("/api/loans/KHONGCO/renew", json!({})),
        ("/api/loans/%3Cscript%3E/renew", json!({})),
        ("/api/holds", json!({})),
        ("/api/holds", json!({"card": "BDT001", "record": 12.5})),
        (
            "/api/holds",
            json!({"card": "BDT001", "record": "<script>"}),
        ),
        ("/api/holds", json!({"card": "KHONGCO", "record": "x"})),
        (
            "/api/holds",
            json!({"card": "BDT001", "record": "no-such-record"}),
        ),
        ("/api/holds/KHONGCO/cancel", json!({})),
        ("/api/readers", json!({})),
        (
            "/api/readers",
            json!({"card": "BDT009", "name": "An", "category": "child"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT009", "name": ["An"], "category": "child", "card_expires": "2099-01-01"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT009", "name": "<script>x</script>", "category": "child", "card_expires": "2099-01-01"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT009", "name": "An", "category": "robot", "card_expires": "2099-01-01"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT009", "name": "An", "category": "child", "card_expires": "2026-02-30"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT009", "name": "An", "category": "child", "card_expires": "2099-01-01", "pin": "12"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT 009", "name": "An", "category": "child", "card_expires": "2099-01-01"}),
        ),
        (
            "/api/readers",
            json!({"card": "BDT001", "name": "An", "category": "child", "card_expires": "2099-01-01"}),
        ),
    ];
    for (path, body) in &json_cases {
        refused(&client.post_json(path, body), &format!("{path} {body}"));
    }
    // Not JSON, not an object, too big, no CSRF token.
    let csrf = client.csrf.clone();
    for (path, body) in [
        ("/api/loans", "{not json".to_owned()),
        ("/api/returns", "[1, 2]".to_owned()),
        ("/api/readers", format!("{{\"card\": \"{big}\"}}")),
        ("/api/loans/KHONGCO/renew", big.clone()),
    ] {
        let response = client.request(
            "POST",
            path,
            &[
                ("Content-Type", "application/json"),
                ("X-CSRF-Token", &csrf),
            ],
            body.as_bytes(),
        );
        refused(&response, path);
    }
    let no_token = client.request(
        "POST",
        "/api/loans",
        &[("Content-Type", "application/json")],
        json!({"card": "BDT001", "barcode": free})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(no_token.status, 403);
    let form_cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/staff/desk/scan", vec![]),
        (
            "/staff/desk/scan",
            vec![("code", "<script>alert(1)</script>")],
        ),
        ("/staff/desk/scan", vec![("code", "KHONGCO")]),
        (
            "/staff/desk/scan",
            vec![("code", free), ("reader", "KHONGCO")],
        ),
        (
            "/staff/desk/scan",
            vec![("code", free), ("reader", "BDT001"), ("csrf", "wrong")],
        ),
        ("/staff/desk/scan", vec![("code", &big)]),
        ("/staff/desk/renew", vec![("reader", "BDT001")]),
        (
            "/staff/desk/renew",
            vec![("loan", "KHONGCO"), ("reader", "BDT001")],
        ),
        ("/staff/desk/in-house", vec![]),
        ("/staff/desk/in-house", vec![("code", "KHONGCO")]),
        ("/staff/desk/in-house", vec![("code", "<i>")]),
        ("/staff/readers/new", vec![("card", "BDT009")]),
        (
            "/staff/readers/new",
            vec![
                ("card", "BDT009"),
                ("name", "<script>"),
                ("category", "child"),
                ("card_expires", "2099-01-01"),
            ],
        ),
        (
            "/staff/readers/new",
            vec![
                ("card", "BDT001"),
                ("name", "An"),
                ("category", "child"),
                ("card_expires", "2099-01-01"),
            ],
        ),
        (
            "/staff/readers/KHONGCO/block",
            vec![("action", "block"), ("note", "x")],
        ),
        ("/staff/readers/BDT001/block", vec![("action", "block")]),
        (
            "/staff/readers/BDT001/block",
            vec![("action", "explode"), ("note", "x")],
        ),
        (
            "/staff/readers/BDT001/block",
            vec![("action", "block"), ("note", "<script>")],
        ),
        ("/staff/readers/BDT001/pin", vec![("pin", "12")]),
        ("/staff/readers/BDT001/pin", vec![("pin", "<script>")]),
        ("/staff/readers/BDT001/pin", vec![]),
        ("/staff/readers/KHONGCO/pin", vec![("pin", "1234")]),
        ("/staff/holds/KHONGCO/cancel", vec![]),
        ("/staff/holds/lapse", vec![("csrf", "wrong")]),
        ("/my-loans", vec![("card", "BDT003")]),
        ("/my-loans", vec![("card", "BDT003"), ("pin", &big)]),
    ];
    for (path, fields) in &form_cases {
        refused(
            &client.post_form(path, fields),
            &format!("{path} {fields:?}"),
        );
    }
    assert_eq!(loans_of(client, "BDT001"), loans_before);
    let quoted = percent_encode("BDT001");
    assert_eq!(
        client.get(&format!("/api/readers/{quoted}/loans")).status,
        200
    );
    assert_eq!(client.get("/api/readers/KHONGCO/loans").status, 404);
    assert!(
        server.process.terminate(Duration::from_secs(30)),
        "serve did not stop"
    );
    assert_eq!(digest(&data), before, "a refused request wrote something");
}
