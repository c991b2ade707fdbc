//! Records at two desks of one library, through real `tusach serve` processes and their HTTP
//! API, synced with `tusach sync --peer` (through serve's control socket): the same book
//! catalogued at both desks while apart reaches the inbox at both and merges into one record
//! that every copy follows; a record edited differently at both desks shows the losing value
//! until a librarian keeps one, which settles it at both; and strangers cannot edit or merge.

use std::time::Duration;

use tusach_tests::cli::ok;
use tusach_tests::process::run_ok;
use tusach_tests::web::{Client, Server};

/// Desk A serves a small catalogue; desk B, enrolled at the same hub for the same library,
/// takes everything from A before its first start (so it has A's admin, not one of its own).
struct Desks {
    a: Server,
    b: Server,
    _dir: tempfile::TempDir,
}

fn two_desks() -> Desks {
    let library = tusach::demo::DEMO_LIBRARY;
    let dir = tempfile::tempdir().expect("tempdir");
    let (a_data, b_data) = (dir.path().join("desk-a"), dir.path().join("desk-b"));
    run_ok(
        &a_data,
        &["dev", "seed", "--records", "20"],
        Duration::from_secs(120),
    );
    let hub = Server::hub_of(&a_data);
    // A joins (enrols and syncs with its hub), so it may make the first admin.
    tusach_tests::network::join(&hub, &a_data, library);
    tusach_tests::network::enrol(&hub, &b_data, Some(library));
    let a = Server::start(a_data, &["--library", library], None);
    // The first admin replaces the one-time password before B takes the accounts.
    drop(a.staff_client());
    run_ok(
        &b_data,
        &["sync", "--peer", &a.sync_addr(), "--json"],
        Duration::from_secs(120),
    );
    let b = Server::start(b_data, &["--library", library], None);
    Desks { a, b, _dir: dir }
}

impl Desks {
    /// One session between the desks, started at A (inside A's serve).
    fn sync(&self) {
        let report = ok(
            &self.a.data,
            &["sync", "--peer", &self.b.sync_addr(), "--json"],
        );
        assert!(report.contains("\"changes_sent\""), "{report}");
    }
}

fn patch_json(
    client: &mut Client,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let csrf = client.csrf.clone();
    let response = client.request(
        "PATCH",
        path,
        &[
            ("Content-Type", "application/json"),
            ("X-CSRF-Token", &csrf),
        ],
        body.to_string().as_bytes(),
    );
    (response.status, response.json())
}

fn create_record(client: &mut Client, title: &str, isbn: &str) -> String {
    let created = client.post_json(
        "/api/records",
        &serde_json::json!({"title": title, "authors": ["Tô Hoài"], "isbn": isbn, "year": 2019}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_str().expect("id").to_owned()
}

fn add_copies(client: &mut Client, record: &str, barcodes: &[&str]) {
    let added = client.post_json(
        "/api/copies",
        &serde_json::json!({"record": record, "barcodes": barcodes, "item_type": "book", "shelf": "Kệ 1"}),
    );
    assert_eq!(added.status, 201, "{}", added.body);
}

/// The catalogue's part of the inbox.
fn catalogue_inbox(client: &mut Client) -> Vec<serde_json::Value> {
    let inbox = client.get("/api/exceptions");
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    inbox.json()["catalogue"]
        .as_array()
        .unwrap_or_else(|| panic!("no catalogue cases in the inbox: {}", inbox.body))
        .clone()
}

fn copies_of(client: &mut Client, record: &str) -> u64 {
    let page = client.get(&format!("/api/records/{record}"));
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()["availability"]
        .as_array()
        .expect("availability")
        .iter()
        .map(|a| a["on_shelf"].as_u64().unwrap_or(0) + a["on_loan"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn the_same_book_catalogued_at_two_desks_is_merged_once_with_the_copies_of_both() {
    let desks = two_desks();
    let (mut lan, mut hoa) = (desks.a.staff_client(), desks.b.staff_client());
    let isbn = "978-604-2-08812-1";
    let at_a = create_record(&mut lan, "Dế Mèn phiêu lưu ký", isbn);
    add_copies(&mut lan, &at_a, &["A-0001", "A-0002"]);
    let at_b = create_record(&mut hoa, "De Men phieu luu ky", isbn);
    add_copies(&mut hoa, &at_b, &["B-0001"]);
    desks.sync();

    // Both desks show the one case, with the same id.
    let (cases_a, cases_b) = (catalogue_inbox(&mut lan), catalogue_inbox(&mut hoa));
    assert_eq!(cases_a.len(), 1, "{cases_a:?}");
    assert_eq!(cases_a, cases_b);
    let case = &cases_a[0];
    assert_eq!(case["kind"], "isbn_catalogued_twice");
    assert_eq!(case["records"].as_array().expect("records").len(), 2);
    let page = hoa.get("/staff/exceptions");
    assert!(
        page.body.contains("được biên mục 2 lần") && page.body.contains("Gộp các biểu ghi này"),
        "{}",
        page.body
    );

    // B merges; A learns it at the next sync.
    let resolved = hoa.post_json(
        "/api/exceptions/catalogue/resolve",
        &serde_json::json!({"exception": case["id"], "resolution": "merge"}),
    );
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    let survivor = resolved.json()["survivor"]
        .as_str()
        .expect("survivor")
        .to_owned();
    assert_eq!(survivor, at_a.clone().min(at_b.clone()));
    let gone = if survivor == at_a { &at_b } else { &at_a };
    desks.sync();
    for client in [&mut lan, &mut hoa] {
        assert!(catalogue_inbox(client).is_empty());
        let found = client.get("/api/records?q=9786042088121").json();
        let ids: Vec<&str> = found["records"]
            .as_array()
            .expect("records")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(ids, [survivor.as_str()], "search shows one record");
        assert_eq!(copies_of(client, &survivor), 3, "the copies of both desks");
        let old_link = client.get(&format!("/api/records/{gone}"));
        assert_eq!(old_link.status, 308, "{}", old_link.body);
        assert_eq!(
            old_link.header("location").as_deref(),
            Some(format!("/api/records/{survivor}").as_str())
        );
        let history = client.get(&format!("/api/records/{gone}/history")).json();
        assert_eq!(history["merged_into"], survivor.as_str(), "{history}");
    }
    // A resolved case is gone at both: resolving it again is a clear 404.
    let again = lan.post_json(
        "/api/exceptions/catalogue/resolve",
        &serde_json::json!({"exception": case["id"], "resolution": "merge"}),
    );
    assert_eq!(again.status, 404, "{}", again.body);
}

#[test]
fn a_record_edited_differently_at_two_desks_shows_the_losing_value_until_one_is_kept() {
    let desks = two_desks();
    let (mut lan, mut hoa) = (desks.a.staff_client(), desks.b.staff_client());
    let id = create_record(&mut lan, "Dế Mèn", "978-604-2-08812-1");
    desks.sync();
    let path = format!("/api/records/{id}");
    let (status, body) = patch_json(
        &mut lan,
        &path,
        &serde_json::json!({"title": "Dế Mèn phiêu lưu ký", "publisher": "Kim Đồng"}),
    );
    assert_eq!(status, 200, "{body}");
    let mut changed: Vec<&str> = body["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    changed.sort_unstable();
    assert_eq!(changed, ["publisher", "title"]);
    let (status, body) = patch_json(
        &mut hoa,
        &path,
        &serde_json::json!({"title": "Dế Mèn phiêu lưu kí", "year": 2020}),
    );
    assert_eq!(status, 200, "{body}");
    desks.sync();

    let (cases_a, cases_b) = (catalogue_inbox(&mut lan), catalogue_inbox(&mut hoa));
    assert_eq!(cases_a.len(), 1, "{cases_a:?}");
    assert_eq!(cases_a, cases_b, "both desks show the same case");
    let case = &cases_a[0];
    assert_eq!(case["kind"], "record_edited_differently");
    assert_eq!(case["field"], "title");
    let current = case["current"].as_str().expect("current").to_owned();
    let mut values: Vec<String> = case["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["value"].as_str().map(str::to_owned))
        .collect();
    values.sort();
    assert_eq!(values, ["Dế Mèn phiêu lưu kí", "Dế Mèn phiêu lưu ký"]);
    assert!(values.contains(&current));
    // The other fields merged field by field.
    let record = lan.get(&path).json();
    assert_eq!(record["publisher"], "Kim Đồng");
    assert_eq!(record["year"], 2020);
    // The page shows the losing value too, with one button per value.
    let losing = values
        .iter()
        .find(|v| **v != current)
        .expect("a loser")
        .clone();
    let page = lan.get("/staff/exceptions");
    assert!(
        page.body.contains("được sửa khác nhau ở hai quầy")
            && page.body.contains(&format!("Giữ \u{201c}{losing}\u{201d}")),
        "{}",
        page.body
    );

    // A keeps the value the store did not pick: settled at both after the next sync.
    let keep = case["resolutions"]
        .as_array()
        .expect("resolutions")
        .iter()
        .find(|r| r["value"] == losing.as_str())
        .expect("a resolution per value")["token"]
        .clone();
    let resolved = lan.post_json(
        "/api/exceptions/catalogue/resolve",
        &serde_json::json!({"exception": case["id"], "resolution": keep}),
    );
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    desks.sync();
    for client in [&mut lan, &mut hoa] {
        assert!(catalogue_inbox(client).is_empty());
        assert_eq!(client.get(&path).json()["title"], losing.as_str());
        let history = client.get(&format!("{path}/history")).json();
        let titles = history["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|e| e["field"] == "title")
            .count();
        assert_eq!(titles, 3, "two edits and the resolution: {history}");
    }
}

#[test]
fn strangers_and_readers_cannot_edit_or_merge_records() {
    let server = Server::with_records(5);
    let mut admin = server.staff_client();
    let one = create_record(&mut admin, "Tắt đèn", "978-604-2-08812-1");
    let two = create_record(&mut admin, "Số đỏ", "978-0-306-40615-7");
    let edit = serde_json::json!({"title": "Không được sửa"});
    let merge = serde_json::json!({"records": [two]});

    // Not logged in (a reader's phone, with or without a card and PIN in the body).
    let mut stranger = server.client();
    let (status, _) = patch_json(&mut stranger, &format!("/api/records/{one}"), &edit);
    assert_eq!(status, 401);
    let refused = stranger.post_json(
        &format!("/api/records/{one}/merge"),
        &serde_json::json!({"records": [two], "card": "BD0001", "pin": "1234"}),
    );
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(
        stranger.get(&format!("/api/records/{one}/history")).status,
        401
    );
    let form = stranger.post_form(
        &format!("/staff/catalogue/records/{one}"),
        &[("title", "x")],
    );
    assert_eq!(
        form.status, 303,
        "the form sends a stranger to the login page"
    );

    // Logged in, but a forged request without the session's token.
    let mut forged = server.staff_client();
    forged.csrf = "forged".into();
    let (status, _) = patch_json(&mut forged, &format!("/api/records/{one}"), &edit);
    assert_eq!(status, 403);
    assert_eq!(
        forged
            .post_json(&format!("/api/records/{one}/merge"), &merge)
            .status,
        403
    );

    // Nothing changed; bad edits are clear 4xx answers.
    assert_eq!(
        admin.get(&format!("/api/records/{one}")).json()["title"],
        "Tắt đèn"
    );
    for (body, status) in [
        (serde_json::json!({"merged_into": two}), 400),
        (serde_json::json!({"title": ""}), 400),
        (serde_json::json!({"isbn": "978-604-2-08812-2"}), 400),
        (serde_json::json!({}), 400),
        (serde_json::json!({"isbn": "9780306406157"}), 409),
    ] {
        let (got, answer) = patch_json(&mut admin, &format!("/api/records/{one}"), &body);
        assert_eq!(got, status, "{body} → {answer}");
        assert!(answer["error"].is_string() && answer["error_en"].is_string());
    }
    let (status, _) = patch_json(&mut admin, "/api/records/rec-nope", &edit);
    assert_eq!(status, 404);
    let page = admin.get(&format!("/staff/catalogue/records/{one}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Lịch sử sửa đổi") && page.body.contains("Gộp với"));
}
