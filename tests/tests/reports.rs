//! Statistics, the monthly CSV, the visit counter, the exceptions inbox and sync status,
//! against a real `tusach serve --demo`. One server for the whole file (seeding the demo in a
//! debug build takes a while); the cases run in order in one test because some change what
//! later ones see (a resolved exception, a synced peer).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tusach_sync::{EntityKey, Scope, Store, Value, WriteBatch};
use tusach_tests::process::tusach_binary;
use tusach_tests::web::{Client, Response, Server};

const LIBRARY_SCOPE: &str = "library:xa-nghi-phu";

fn staff(server: &Server) -> Client {
    let client = server.staff_client();
    assert!(!client.csrf.is_empty(), "no CSRF token after login");
    client
}

/// The SVG of one chart on a page.
fn chart<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!("data-chart=\"{name}\""))
        .unwrap_or_else(|| panic!("no chart {name} in {page}"));
    let end = page[start..].find("</svg>").expect("chart ends") + start;
    &page[start..end]
}

fn visits_today(client: &mut Client) -> i64 {
    let page = client.get("/staff/visits");
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.body.find("data-visits-today>").expect("today's count") + 18;
    let end = page.body[start..].find('<').expect("end") + start;
    page.body[start..end].parse().expect("a number")
}

fn inbox(client: &mut Client) -> Vec<serde_json::Value> {
    let response = client.get("/api/exceptions");
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["exceptions"]
        .as_array()
        .expect("exceptions")
        .clone()
}

/// A 4xx with a message in both languages (JSON) or an error page (HTML).
fn assert_refused(response: &Response, status: u16, case: &str) {
    assert_eq!(response.status, status, "{case}: {}", response.body);
    if response.content_type.starts_with("application/json") {
        let body = response.json();
        assert!(
            body["error"].as_str().is_some_and(|m| !m.is_empty())
                && body["error_en"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}: {}",
            response.body
        );
    } else {
        assert!(
            response.body.contains("role=\"alert\""),
            "{case}: {}",
            response.body
        );
    }
}

fn oversized() -> String {
    format!("{{\"people\": 1, \"pad\": \"{}\"}}", "x".repeat(70 * 1024))
}

fn post_raw(client: &mut Client, path: &str, content_type: &str, body: &[u8]) -> Response {
    let csrf = client.csrf.clone();
    client.request(
        "POST",
        path,
        &[("Content-Type", content_type), ("X-CSRF-Token", &csrf)],
        body,
    )
}

#[test]
fn reports_visits_exceptions_and_sync_status_on_the_demo_library() {
    let server = Server::demo();
    let mut client = staff(&server);

    // Visits first: the JSON answer also tells the server's today.
    let before = visits_today(&mut client);
    let counted = client.post_json("/api/visits", &serde_json::json!({"people": 1}));
    assert_eq!(counted.status, 200, "{}", counted.body);
    let today = counted.json()["day"].as_str().expect("day").to_owned();
    assert_eq!(counted.json()["today"], before + 1);
    let tapped = client.post_form("/staff/visits", &[("people", "5")]);
    assert_eq!(tapped.status, 303, "{}", tapped.body);
    assert_eq!(visits_today(&mut client), before + 6);
    visits_refuse_bad_input(&mut client, before + 6);

    stats_and_csv(&mut client, &today);
    report_page_and_xlsx(&server, &mut client, &today);
    exceptions_inbox(&mut client);
    sync_status_and_escaping(&server, &mut client, &today);
}

fn visits_refuse_bad_input(client: &mut Client, expected: i64) {
    let cases: &[(&str, serde_json::Value, u16)] = &[
        ("missing people", serde_json::json!({}), 400),
        ("people as text", serde_json::json!({"people": "năm"}), 400),
        ("people as a list", serde_json::json!({"people": [1]}), 400),
        ("zero people", serde_json::json!({"people": 0}), 400),
        ("too many people", serde_json::json!({"people": 501}), 400),
        (
            "markup",
            serde_json::json!({"people": "<script>alert(1)</script>"}),
            400,
        ),
    ];
    for (case, body, status) in cases {
        assert_refused(&client.post_json("/api/visits", body), *status, case);
    }
    for (case, fields) in [
        ("form without people", vec![]),
        ("form with text", vec![("people", "một")]),
        ("form with markup", vec![("people", "<script>")]),
    ] {
        assert_refused(&client.post_form("/staff/visits", &fields), 400, case);
    }
    assert_refused(
        &post_raw(
            client,
            "/api/visits",
            "application/json",
            oversized().as_bytes(),
        ),
        413,
        "oversized",
    );
    assert_refused(
        &post_raw(client, "/api/visits", "application/json", b"{not json"),
        400,
        "not JSON",
    );
    let csrf = std::mem::replace(&mut client.csrf, "wrong".into());
    assert_refused(
        &client.post_json("/api/visits", &serde_json::json!({"people": 1})),
        403,
        "wrong CSRF token",
    );
    assert_refused(
        &client.post_form("/staff/visits", &[("people", "1")]),
        403,
        "wrong form token",
    );
    client.csrf = csrf;
    assert_eq!(visits_today(client), expected, "a refused request counted");
}

fn stats_and_csv(client: &mut Client, today: &str) {
    let year = &today[..4];
    let month: usize = today[5..7].parse().expect("month");
    for (lang, words) in [
        ("vi", ["Lượt mượn theo tháng", "800 Văn học", "Thiếu nhi"]),
        ("en", ["Loans per month", "800 Literature", "Children"]),
    ] {
        let page = client.get(&format!("/staff/stats?year={year}&lang={lang}"));
        assert_eq!(page.status, 200, "{}", page.body);
        for word in words {
            assert!(page.body.contains(word), "{lang}: no {word}");
        }
        assert_eq!(
            chart(&page.body, "loans-per-month")
                .matches("class=\"bar\"")
                .count(),
            12
        );
        assert_eq!(
            chart(&page.body, "visits-per-month")
                .matches("class=\"bar\"")
                .count(),
            12
        );
        assert_eq!(
            chart(&page.body, "collection-by-class")
                .matches("class=\"bar\"")
                .count(),
            10
        );
        assert!(
            chart(&page.body, "top-titles")
                .matches("class=\"bar\"")
                .count()
                >= 5
        );
    }
    let stats = client.get(&format!("/api/stats?year={year}"));
    assert_eq!(stats.status, 200, "{}", stats.body);
    let stats = stats.json();
    let loans_in_month = stats["loans_per_month"][month - 1].as_i64().expect("loans");
    let visits_in_month = stats["visits_per_month"][month - 1]
        .as_i64()
        .expect("visits");
    let copies: i64 = stats["collection_by_class"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| c["copies"].as_i64().expect("copies"))
        .sum::<i64>()
        + stats["unclassified_copies"].as_i64().expect("unclassified");
    assert!(copies >= 3_000, "{stats}");
    let total_loans: i64 = stats["loans_per_month"]
        .as_array()
        .expect("months")
        .iter()
        .filter_map(|n| n.as_i64())
        .sum();
    assert!(total_loans > 0, "{stats}");

    // The month's CSV agrees with the JSON.
    let csv = client.get(&format!("/staff/stats/month.csv?month={}", &today[..7]));
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.head);
    assert_eq!(
        csv.header("content-disposition").as_deref(),
        Some(
            format!(
                "attachment; filename=\"tusach-xa-nghi-phu-{}.csv\"",
                &today[..7]
            )
            .as_str()
        )
    );
    assert!(csv.body.starts_with('\u{feff}'), "no BOM");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0].trim_end(),
        "Thư viện,Kỳ báo cáo,Mã chỉ tiêu,Chỉ tiêu,Nhóm,Số liệu"
    );
    let figure = |code: &str| -> i64 {
        lines
            .iter()
            .find(|l| l.contains(&format!(",{code},")))
            .and_then(|l| l.trim_end().rsplit(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no figure {code} in {lines:?}"))
    };
    assert_eq!(figure("loans"), loans_in_month);
    assert_eq!(figure("visits"), visits_in_month);
    assert_eq!(figure("collection"), copies);
    let by_category: i64 = ["child", "student", "teacher", "adult"]
        .iter()
        .map(|c| figure(&format!("loans_by_category.{c}")))
        .sum();
    assert_eq!(by_category, loans_in_month);
    assert!(
        csv.body.contains("\"000 Tổng quát, tin học\""),
        "a group with a comma is quoted"
    );
    assert!(figure("in_house_uses") >= 0);

    // The demo registers readers in every recent month: last month's report counts them.
    let (year, month) = (today[..4].parse::<i32>().expect("year"), month as i32);
    let last = if month == 1 {
        format!("{}-12", year - 1)
    } else {
        format!("{year}-{:02}", month - 1)
    };
    let csv = client.get(&format!("/staff/stats/month.csv?month={last}"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    let new_readers = csv
        .body
        .lines()
        .find(|l| l.contains(",new_readers,"))
        .and_then(|l| l.trim_end().rsplit(',').next())
        .and_then(|n| n.parse::<i64>().ok());
    assert!(
        new_readers.is_some_and(|n| n > 0),
        "no new readers in {last}: {}",
        csv.body
    );

    for (case, query) in [
        ("no month", ""),
        ("month 13", "?month=2026-13"),
        ("markup", "?month=%3Cscript%3E"),
        ("text", "?month=th%C3%A1ng-m%E1%BB%99t"),
    ] {
        assert_refused(
            &client.get(&format!("/staff/stats/month.csv{query}")),
            400,
            case,
        );
    }
    assert_refused(&client.get("/staff/stats?year=abc"), 400, "bad year");
    assert_refused(&client.get("/api/stats?year=1800"), 400, "old year");
}

/// The one library's column of a library's own workbook.
fn only_column(bytes: &[u8]) -> std::collections::BTreeMap<String, f64> {
    let columns = tusach_tests::sheets::report_columns(bytes);
    assert_eq!(columns.len(), 1, "one library, no total: {columns:?}");
    columns.into_values().next().expect("a column")
}

/// A figure CSV's values by code.
fn csv_figures(csv: &str) -> std::collections::BTreeMap<String, f64> {
    csv.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut fields = l.trim_end().split(',');
            let code = fields.nth(2)?.to_owned();
            let value = l.trim_end().rsplit(',').next()?.parse().ok()?;
            Some((code, value))
        })
        .collect()
}

fn report_page_and_xlsx(server: &Server, client: &mut Client, today: &str) {
    let month = &today[..7];
    let year = &today[..4];
    // The month's workbook has every figure of the month's CSV, with the same values.
    let xlsx = client.get(&format!("/staff/stats/report.xlsx?period={month}"));
    assert_eq!(xlsx.status, 200, "{}", xlsx.body);
    assert_eq!(
        xlsx.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        xlsx.header("content-disposition").as_deref(),
        Some(format!("attachment; filename=\"tusach-xa-nghi-phu-{month}.xlsx\"").as_str())
    );
    let in_sheet = only_column(&xlsx.bytes);
    let csv = client.get(&format!("/staff/stats/month.csv?period={month}"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    let in_csv = csv_figures(&csv.body);
    assert!(in_csv.len() >= 40, "{in_csv:?}");
    assert_eq!(in_sheet, in_csv);
    assert!(in_sheet["readers"] > 0.0, "{in_sheet:?}");
    // The demo acquires copies through the past year.
    let year_sheet = only_column(
        &client
            .get(&format!("/staff/stats/report.xlsx?period={year}"))
            .bytes,
    );
    let stats = client.get(&format!("/api/stats?year={year}")).json();
    let loans_this_year: i64 = stats["loans_per_month"]
        .as_array()
        .expect("months")
        .iter()
        .filter_map(|n| n.as_i64())
        .sum();
    assert_eq!(year_sheet["loans"], loans_this_year as f64);
    assert!(year_sheet["new_copies"] > 0.0, "{year_sheet:?}");
    assert!(year_sheet["new_copies"] >= in_sheet["new_copies"]);
    assert_eq!(year_sheet["collection"], in_sheet["collection"]);

    // The printable page shows the same figures.
    let page = client.get(&format!("/staff/stats/report?period={month}"));
    assert_eq!(page.status, 200, "{}", page.body);
    for code in ["loans", "visits", "new_copies", "readers", "collection"] {
        let start = page
            .body
            .find(&format!("data-figure=\"{code}\""))
            .unwrap_or_else(|| panic!("no row {code} in {}", page.body));
        let row = &page.body[start..start + page.body[start..].find("</tr>").expect("row end")];
        let value = row
            .rsplit("<td class=\"number\">")
            .next()
            .and_then(|v| v.split('<').next())
            .and_then(|v| v.parse::<f64>().ok());
        assert_eq!(value, Some(in_csv[code]), "{code}: {row}");
    }
    assert!(page.body.contains("window.print()"), "no print button");

    // Bad periods are refused with a clear message; strangers get nothing.
    for (case, query) in [
        ("month 13", "?period=2026-13"),
        ("markup", "?period=%3Cscript%3E"),
        ("old", "?period=1999"),
    ] {
        for path in ["/staff/stats/report", "/staff/stats/report.xlsx"] {
            let refused = client.get(&format!("{path}{query}"));
            assert_refused(&refused, 400, case);
            // In the language this client chose earlier in the test.
            assert!(
                refused.body.contains("Kỳ báo cáo phải là")
                    || refused.body.contains("The period must be a month"),
                "{case}: {}",
                refused.body
            );
        }
    }
    let mut stranger = server.client();
    for path in [
        format!("/staff/stats/report.xlsx?period={month}"),
        format!("/staff/stats/report?period={month}"),
        format!("/staff/district/report.xlsx?period={month}"),
    ] {
        let refused = stranger.get(&path);
        assert_eq!(refused.status, 303, "{path}: {}", refused.head);
        assert!(!refused.bytes.starts_with(b"PK"), "{path}");
    }
}

fn exceptions_inbox(client: &mut Client) {
    let items = inbox(client);
    let twice: Vec<&serde_json::Value> = items
        .iter()
        .filter(|e| e["kind"] == "copy_lent_twice")
        .collect();
    assert_eq!(twice.len(), 2, "the demo lends two copies twice: {items:?}");
    let page = client.get("/staff/exceptions");
    assert_eq!(page.status, 200, "{}", page.body);
    for item in &twice {
        let copy = item["copy"].as_str().expect("copy");
        assert!(page.body.contains(copy), "{copy} not explained");
    }
    assert!(page.body.contains("desk-offline-laptop"));

    let first = twice[0];
    let id = first["id"].as_str().expect("id").to_owned();
    let keep = first["resolutions"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(keep.starts_with("keep:"), "{keep}");

    // Bad requests write nothing.
    let long_id = "x".repeat(500);
    let cases: Vec<(&str, serde_json::Value, u16)> = vec![
        ("missing everything", serde_json::json!({}), 400),
        (
            "missing resolution",
            serde_json::json!({"exception": id}),
            400,
        ),
        (
            "exception as a list",
            serde_json::json!({"exception": [id], "resolution": keep}),
            400,
        ),
        (
            "unknown exception",
            serde_json::json!({"exception": "twice:TS999999:loan-x+loan-y", "resolution": keep}),
            404,
        ),
        (
            "garbage resolution",
            serde_json::json!({"exception": id, "resolution": "drop-it"}),
            400,
        ),
        (
            "resolution not offered",
            serde_json::json!({"exception": id, "resolution": "keep:loan-not-involved"}),
            400,
        ),
        (
            "markup",
            serde_json::json!({"exception": "<script>alert(1)</script>", "resolution": keep}),
            400,
        ),
        (
            "too long",
            serde_json::json!({"exception": long_id, "resolution": keep}),
            400,
        ),
    ];
    for (case, body, status) in &cases {
        assert_refused(
            &client.post_json("/api/exceptions/resolve", body),
            *status,
            case,
        );
    }
    assert_refused(
        &client.post_form("/staff/exceptions/resolve", &[("exception", &id)]),
        400,
        "form without resolution",
    );
    assert_refused(
        &post_raw(
            client,
            "/api/exceptions/resolve",
            "application/json",
            oversized().as_bytes(),
        ),
        413,
        "oversized",
    );
    let csrf = std::mem::replace(&mut client.csrf, "wrong".into());
    assert_refused(
        &client.post_form(
            "/staff/exceptions/resolve",
            &[("exception", &id), ("resolution", &keep)],
        ),
        403,
        "wrong token",
    );
    client.csrf = csrf;
    assert_eq!(inbox(client).len(), items.len(), "a refused request wrote");

    // One click resolves one exception; the other stays.
    let resolved = client.post_form(
        "/staff/exceptions/resolve",
        &[("exception", &id), ("resolution", &keep)],
    );
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    let after = inbox(client);
    assert_eq!(after.len(), items.len() - 1, "{after:?}");
    assert!(after.iter().all(|e| e["id"] != id.as_str()));
    assert_eq!(
        after
            .iter()
            .filter(|e| e["kind"] == "copy_lent_twice")
            .count(),
        1
    );
    // Again: it is gone, and says so.
    assert_refused(
        &client.post_json(
            "/api/exceptions/resolve",
            &serde_json::json!({"exception": id, "resolution": keep}),
        ),
        404,
        "already resolved",
    );
    // The other by JSON.
    let other = after
        .iter()
        .find(|e| e["kind"] == "copy_lent_twice")
        .expect("the other");
    let token = other["resolutions"][1]["token"].as_str().expect("token");
    let done = client.post_json(
        "/api/exceptions/resolve",
        &serde_json::json!({"exception": other["id"], "resolution": token}),
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(inbox(client).iter().all(|e| e["kind"] != "copy_lent_twice"));
}

fn tusach(data: &Path, args: &[&str]) -> String {
    let output = Command::new(tusach_binary())
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("run tusach");
    assert!(
        output.status.success(),
        "tusach {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn sync_address(server: &Server) -> String {
    server
        .startup
        .iter()
        .find_map(|line| {
            let rest = &line[line.find("(sync on ")? + "(sync on ".len()..];
            Some(rest[..rest.find(')')?].to_owned())
        })
        .unwrap_or_else(|| panic!("no sync address in {:?}", server.startup))
}

/// A peer that writes markup into a title and a reader's name (no web form accepts it, but
/// another program on the network might), lends that copy 30 times today so it tops the
/// chart, and lends it twice at once so it reaches the inbox.
fn write_markup(data: &Path, today: &str) {
    std::fs::create_dir_all(data).expect("data folder");
    let mut store = Store::open(&data.join("tusach.db")).expect("peer store");
    let network = Scope::new("network").expect("scope");
    let library = Scope::new(LIBRARY_SCOPE).expect("scope");
    let mut batch = WriteBatch::new();
    let record = EntityKey::new(&network, "records", "rec-markup");
    batch
        .put(&record, "title", "<script>alert('title')</script>")
        .put(&record, "ddc", "895.9");
    batch.put(
        &EntityKey::new(&library, "copies", "TS-MARKUP"),
        "record",
        "rec-markup",
    );
    let reader = EntityKey::new(&library, "readers", "BD-MARKUP");
    batch
        .put(&reader, "name", "<img src=x onerror=alert(1)>")
        .put(&reader, "category", "<b>adult</b>")
        .put(&reader, "card_expires", "2100-01-01");
    for n in 0..32 {
        let loan = EntityKey::new(&library, "loans", format!("loan-markup-{n}"));
        batch
            .put(&loan, "copy", "TS-MARKUP")
            .put(&loan, "reader", "BD-MARKUP")
            .put(&loan, "out", today)
            .put(&loan, "due", "2100-01-01")
            .put(&loan, "renewals", Value::Counter(0))
            .put(&loan, "desk", "<i>desk</i>");
        if n >= 2 {
            batch.put(&loan, "returned", today);
        }
    }
    store.commit(&batch).expect("commit");
}

fn sync_status_and_escaping(server: &Server, client: &mut Client, today: &str) {
    // The demo desk joined its hub before serving (enrolled, then one sync, as `network join`
    // does): the hub is its one peer so far.
    let status = client.get("/api/sync/status").json();
    assert_eq!(
        status["peers"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let peer = dir.path().join("peer");
    write_markup(&peer, today);
    tusach_tests::network::enrol(&server.hub(), &peer, None);
    let peer_id = tusach(&peer, &["id"]).trim().to_owned();
    tusach(&peer, &["sync", "--peer", &sync_address(server)]);
    // The serving side records the contact when its session ends, just after the peer's.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let status = client.get("/api/sync/status").json();
        if status["peers"][0]["last_contact"].is_string() || std::time::Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let peers = status["peers"].as_array().expect("peers");
    assert_eq!(peers.len(), 2, "the hub and the new peer: {status}");
    assert_eq!(peers[0]["device"], peer_id.as_str(), "most recent first");
    assert!(peers[0]["last_contact"].is_string(), "{status}");
    assert_eq!(peers[0]["pending"], 0, "{status}");
    // Named from its certificate: a district laptop carrying every library.
    assert_eq!(peers[0]["role"], "mule", "{status}");
    assert_eq!(peers[0]["label"], "mule", "{status}");
    assert_eq!(peers[0]["all_libraries"], true, "{status}");
    assert_eq!(
        peers[0]["name_en"], "every library — District staff laptop «mule»",
        "{status}"
    );
    let page = client.get("/staff/sync?lang=en");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&peer_id), "{}", page.body);
    // On loopback nobody is announced: the neighbours' table says so, beside "sync now".
    assert!(
        page.body.contains("No other Tủ Sách device seen"),
        "{}",
        page.body
    );
    assert_eq!(status["neighbours"], serde_json::json!([]), "{status}");
    // "Sync now" wants the form's token, then shows the sync page again.
    let refused = client.post_form("/staff/sync/now", &[("csrf", "wrong")]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let pressed = client.post_form("/staff/sync/now", &[]);
    assert_eq!(pressed.status, 303, "{}", pressed.body);
    assert_eq!(pressed.header("location").as_deref(), Some("/staff/sync"));
    assert!(
        page.body
            .contains("every library — District staff laptop «mule»"),
        "{}",
        page.body
    );

    // Every label from the database is escaped.
    let year = &today[..4];
    for path in [
        format!("/staff/stats?year={year}"),
        "/staff/exceptions".to_owned(),
    ] {
        let page = client.get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        for raw in ["<script>alert", "<img src=x", "<b>adult", "<i>desk"] {
            assert!(!page.body.contains(raw), "{path} shows {raw} unescaped");
        }
    }
    let stats = client.get(&format!("/staff/stats?year={year}"));
    assert!(
        stats
            .body
            .contains("&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;"),
        "the top title is shown, escaped"
    );
    let inbox_page = client.get("/staff/exceptions");
    assert!(
        inbox_page
            .body
            .contains("&lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(inbox(client).iter().any(|e| e["copy"] == "TS-MARKUP"));
}
