//! The district hub's pages with real `tusach serve` processes: two communes sync with their
//! hub (one by the `--hub` schedule, one by a console `sync`), and the hub's staff see each
//! library's devices, last contact and pending changes, the month's figures per library (the
//! same numbers as each commune's own month CSV), the district's CSV, and the union
//! catalogue. A commune sees only its own figures; a stranger sees nothing.

use std::time::Duration;

use tusach_tests::cli::ok;
use tusach_tests::network::join;
use tusach_tests::process::wait_for;
use tusach_tests::web::{Client, Server};

const OTHER_LIBRARY: &str = "xa-nghi-thai";
const OTHER_NAME: &str = "Thư viện xã Nghi Thái";

/// The figure of library `library` in the month table: the cell after `data-figure="KEY"`
/// within that library's row.
fn figure(page: &str, library: &str, key: &str) -> Option<i64> {
    let row = page
        .split("<tr data-library=\"")
        .filter(|row| row.starts_with(&format!("{library}\"")))
        .find(|row| row.contains("data-figure"))?;
    let row = row.split("</tr>").next()?;
    let cell = row.split(&format!("data-figure=\"{key}\">")).nth(1)?;
    cell.split('<').next()?.trim().parse().ok()
}

/// The libraries table's row of `library`.
fn contact_row<'a>(page: &'a str, library: &str) -> &'a str {
    let table = page
        .split("<table data-libraries>")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no libraries table: {page}"));
    table
        .split("<tr data-library=\"")
        .find(|row| row.starts_with(&format!("{library}\"")))
        .and_then(|row| row.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row for {library}: {table}"))
}

/// The rows of a month CSV for one library, without the header.
fn csv_rows(csv: &str, library_name: &str) -> Vec<String> {
    csv.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .filter(|line| line.starts_with(library_name))
        .map(str::to_owned)
        .collect()
}

fn get_ok(client: &mut Client, path: &str) -> String {
    let response = client.get(path);
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    response.body
}

#[test]
fn the_hub_shows_each_library_its_month_and_where_a_title_is() {
    let demo = Server::demo();
    let demo_id = tusach::demo::DEMO_LIBRARY;
    let demo_name = tusach::demo::DEMO_LIBRARY_NAME;
    let hub_data = demo.hub();
    let other_data = demo.data().with_file_name(OTHER_LIBRARY);
    join(&hub_data, &other_data, OTHER_LIBRARY);
    let hub = Server::start(hub_data.clone(), &[], None);
    let other = Server::start(
        other_data.clone(),
        &[
            "--library-name",
            OTHER_NAME,
            "--hub",
            &hub.sync_addr(),
            "--hub-every-secs",
            "2",
        ],
        None,
    );
    // The demo library syncs once, by a console command through its running serve.
    ok(demo.data(), &["sync", "--peer", &hub.sync_addr()]);
    let mut other_staff = other.staff_client();
    let counted = other_staff.post_json("/api/visits", &serde_json::json!({"people": 7}));
    assert_eq!(counted.status, 200, "{}", counted.body);

    let mut hub_staff = hub.staff_client();
    let month = chrono::Local::now().format("%Y-%m").to_string();
    let district = format!("/staff/district?month={month}");
    let mut page = String::new();
    wait_for(
        "the other library's visits at the hub",
        Duration::from_secs(60),
        || {
            page = get_ok(&mut hub_staff, &district);
            figure(&page, OTHER_LIBRARY, "visits") == Some(7)
        },
    );

    // Each library's devices, heard from, with a pending count.
    for library in [demo_id, OTHER_LIBRARY] {
        let row = contact_row(&page, library);
        assert!(row.contains("data-device=\""), "{row}");
        assert!(
            !row.contains("Chưa bao giờ"),
            "{library} never heard from: {row}"
        );
        let pending = row
            .split("data-pending>")
            .nth(1)
            .and_then(|c| c.split('<').next())
            .and_then(|n| n.parse::<i64>().ok());
        assert!(pending.is_some(), "{row}");
    }
    assert!(
        page.contains(demo_name) && page.contains(OTHER_NAME),
        "{page}"
    );

    // The hub counts the demo library's month as the library does itself.
    let mut demo_staff = demo.staff_client();
    let own_csv = get_ok(
        &mut demo_staff,
        &format!("/staff/stats/month.csv?month={month}"),
    );
    let own_rows = csv_rows(&own_csv, demo_name);
    assert!(own_rows.len() > 20, "{own_csv}");
    let own = |code: &str| -> i64 {
        own_rows
            .iter()
            .find(|r| r.split(',').nth(2) == Some(code))
            .and_then(|r| r.rsplit(',').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {code} in {own_csv}"))
    };
    assert!(own("loans") > 0, "the demo month has loans: {own_csv}");
    for code in [
        "loans",
        "returns",
        "visits",
        "in_house_uses",
        "new_readers",
        "active_readers",
        "collection",
    ] {
        assert_eq!(figure(&page, demo_id, code), Some(own(code)), "{code}");
    }
    let total = page
        .split("<tr data-total>")
        .nth(1)
        .and_then(|t| t.split("data-figure=\"visits\">").nth(1))
        .and_then(|c| c.split('<').next())
        .and_then(|n| n.parse::<i64>().ok());
    assert_eq!(total, Some(own("visits") + 7));

    // The district's CSV: the demo library's rows exactly as its own file, then the other's.
    let csv = hub_staff.get(&format!("/staff/district/month.csv?month={month}"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.head);
    assert_eq!(
        csv.header("content-disposition").as_deref(),
        Some(format!("attachment; filename=\"tusach-huyen-{month}.csv\"").as_str())
    );
    assert!(csv.body.starts_with('\u{feff}'));
    assert_eq!(csv_rows(&csv.body, demo_name), own_rows);
    let other_visits = csv_rows(&csv.body, OTHER_NAME)
        .into_iter()
        .find(|r| r.split(',').nth(2) == Some("visits"))
        .unwrap_or_else(|| panic!("no visits row for the other library: {}", csv.body));
    assert!(other_visits.ends_with(",7"), "{other_visits}");

    // The district's workbook: one column per library, each equal to the library's own CSV
    // for the demo library, and a total.
    let xlsx = hub_staff.get(&format!("/staff/district/report.xlsx?period={month}"));
    assert_eq!(xlsx.status, 200, "{}", xlsx.body);
    let columns = tusach_tests::sheets::report_columns(&xlsx.bytes);
    let own_figures: std::collections::BTreeMap<String, f64> = own_rows
        .iter()
        .filter_map(|r| {
            let code = r.split(',').nth(2)?.to_owned();
            Some((code, r.rsplit(',').next()?.trim().parse().ok()?))
        })
        .collect();
    assert_eq!(columns.get(demo_name), Some(&own_figures), "{columns:?}");
    let other = columns.get(OTHER_NAME).expect("the other library's column");
    assert_eq!(other.get("visits"), Some(&7.0));
    assert_eq!(
        columns["Tổng"]["visits"],
        own_figures["visits"] + 7.0,
        "{columns:?}"
    );
    let printable = get_ok(
        &mut hub_staff,
        &format!("/staff/district/report?period={month}"),
    );
    assert!(
        printable.contains(demo_name) && printable.contains(OTHER_NAME),
        "{printable}"
    );

    // The union catalogue: typed without diacritics, the title and who holds it.
    let union = get_ok(
        &mut hub_staff,
        "/staff/district/catalogue?q=van%20te%20thap%20loai",
    );
    let row = union
        .split("<tr data-record=\"")
        .find(|r| r.contains("Văn tế thập loại chúng sinh"))
        .unwrap_or_else(|| panic!("Văn tế thập loại chúng sinh not found: {union}"));
    assert!(
        row.contains(&format!("data-library=\"{demo_id}\"")) && row.contains(demo_name),
        "{row}"
    );
    assert!(
        row.contains("trên giá") || row.contains("đang cho mượn"),
        "{row}"
    );
    let none = get_ok(&mut hub_staff, "/staff/district/catalogue?q=zzqqxx");
    assert!(none.contains("Không thấy sách nào"), "{none}");

    // Bad input: a clear error, in Vietnamese.
    let bad = hub_staff.get("/staff/district?month=2026-13");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("Tháng phải có dạng"), "{}", bad.body);
    let bad = hub_staff.get("/staff/district/month.csv?month=%3Cscript%3E");
    assert_eq!(bad.status, 400, "{}", bad.body);

    // A commune holds only its own library: the demo library is listed, with no figures.
    let own_page = get_ok(&mut other_staff, &district);
    assert_eq!(figure(&own_page, OTHER_LIBRARY, "visits"), Some(7));
    assert_eq!(figure(&own_page, demo_id, "loans"), None);
    assert!(own_page.contains("Chưa có dữ liệu"), "{own_page}");
    let own_csv = get_ok(
        &mut other_staff,
        &format!("/staff/district/month.csv?month={month}"),
    );
    assert!(!own_csv.contains(demo_name), "{own_csv}");

    // A stranger on the hotspot gets none of it.
    let mut stranger = hub.client();
    for path in [
        district.as_str(),
        "/staff/district/catalogue?q=truyen",
        "/staff/district/month.csv",
        "/staff/district/report.xlsx",
        "/staff/district/report",
    ] {
        let response = stranger.get(path);
        assert_ne!(response.status, 200, "{path}: {}", response.body);
        assert!(
            !response.body.contains(demo_name),
            "{path}: {}",
            response.body
        );
    }
}
