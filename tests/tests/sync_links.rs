//! Sync beyond mDNS's reach, as staff see it: an address typed on the sync page carries
//! changes between two desks with no command typed (on loopback mDNS is off, as across two
//! subnets); each session shows how it came about; and the district laptop's page says what
//! it carries for the hub and what of a library the hub still lacks. Real `tusach serve`
//! processes, real TCP, the staff forms with their tokens.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tusach::data_dir::DataDir;
use tusach_tests::cli::ok;
use tusach_tests::network::{enrol, join};
use tusach_tests::process::Tusach;
use tusach_tests::web::{Client, Server};

/// Loopback sessions take well under a second; this allows a slow, busy machine.
const ARRIVES: Duration = Duration::from_secs(45);

fn create_record(librarian: &mut Client, title: &str) -> String {
    let created = librarian.post_json(
        "/api/records",
        &serde_json::json!({"title": title, "authors": ["Tô Hoài"], "year": 2020}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_str().expect("id").to_owned()
}

fn has_record(reader: &mut Client, id: &str) -> bool {
    reader.get(&format!("/api/records/{id}")).status == 200
}

fn wait_for_record(reader: &mut Client, id: &str, why: &str, servers: &[&Server]) {
    let started = Instant::now();
    while !has_record(reader, id) {
        assert!(
            started.elapsed() < ARRIVES,
            "{why}: record {id} did not arrive within {ARRIVES:?}\n{}",
            servers
                .iter()
                .map(|s| s.process.diagnostics())
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn sync_status(staff: &mut Client) -> Value {
    let status = staff.get("/api/sync/status");
    assert_eq!(status.status, 200, "{}", status.body);
    status.json()
}

/// Waits until `check` holds for the sync status, which sessions update as they end.
fn wait_for_status(staff: &mut Client, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let status = sync_status(staff);
        if check(&status) {
            return status;
        }
        assert!(started.elapsed() < ARRIVES, "{what}: {status}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn peer_entry<'a>(status: &'a Value, device: &str) -> &'a Value {
    status["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|p| p["device"] == device))
        .unwrap_or_else(|| panic!("no peer {device} in {status}"))
}

fn device_of(server: &Server) -> String {
    let page = server
        .startup
        .iter()
        .find_map(|line| line.split(", device ").nth(1))
        .and_then(|rest| rest.split([',', ' ']).next())
        .unwrap_or_else(|| panic!("serve did not say its device: {:?}", server.startup));
    page.to_owned()
}

#[test]
fn a_typed_address_carries_changes_with_no_command_and_stops_when_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = dir.path().join("hub");
    let (a, b) = (dir.path().join("desk-a"), dir.path().join("desk-b"));
    join(&hub, &a, "xa-an-hoa");
    join(&hub, &b, "xa-binh-minh");
    let desk_a = Server::start(a, &["--no-mdns"], None);
    let desk_b = Server::start(b, &["--no-mdns"], None);
    let (id_a, id_b) = (device_of(&desk_a), device_of(&desk_b));
    let mut staff_a = desk_a.staff_client();
    let mut staff_b = desk_b.staff_client();
    let mut reader_b = desk_b.client();

    // Bad addresses are refused with a sentence saying what to type, and nothing is stored.
    let page = staff_a.get("/staff/sync");
    assert!(
        page.body.contains("action=\"/staff/sync/peers/add\""),
        "{}",
        page.body
    );
    for (typed, says) in [
        ("", "Thiếu địa chỉ"),
        ("192.168.1.20", "Thiếu cổng"),
        ("may-chu:0", "không phải số cổng"),
        ("may-chu:65536", "không phải số cổng"),
        ("máy chủ huyện:7654", "không phải tên máy hay địa chỉ IP"),
        ("300.1.1.1:7654", "không phải tên máy hay địa chỉ IP"),
    ] {
        let refused = staff_a.post_form("/staff/sync/peers/add", &[("address", typed)]);
        assert_eq!(refused.status, 400, "{typed:?}: {}", refused.body);
        assert!(
            refused.body.contains(says) && refused.body.contains("role=\"alert\""),
            "{typed:?}: {}",
            refused.body
        );
    }
    let forged = staff_a.post_form(
        "/staff/sync/peers/add",
        &[("address", &desk_b.sync_addr()), ("csrf", "wrong")],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(
        sync_status(&mut staff_a)["manual_peers"],
        serde_json::json!([])
    );

    // A change made before the address was typed: a new address is tried at once.
    let first = create_record(&mut staff_a, "Kỹ thuật trồng lúa nước vùng cao");
    let added = staff_a.post_form(
        "/staff/sync/peers/add",
        &[("address", &format!(" {} ", desk_b.sync_addr()))],
    );
    assert_eq!(added.status, 303, "{}", added.body);
    let twice = staff_a.post_form("/staff/sync/peers/add", &[("address", &desk_b.sync_addr())]);
    assert_eq!(twice.status, 409, "typed twice: {}", twice.body);
    assert!(
        twice.body.contains("đã có trong danh sách"),
        "{}",
        twice.body
    );
    wait_for_record(&mut reader_b, &first, "typed address", &[&desk_a, &desk_b]);

    // A change after that travels by itself, a moment after it is made.
    let second = create_record(&mut staff_a, "Nuôi cá lồng trên sông");
    wait_for_record(
        &mut reader_b,
        &second,
        "change after the address",
        &[&desk_a, &desk_b],
    );

    // Each side names how its last session came about.
    let at_a = wait_for_status(&mut staff_a, "A's session with B", |s| {
        s["manual_peers"][0]["device"] == id_b.as_str()
            && s["manual_peers"][0]["last_synced"].is_string()
    });
    assert_eq!(
        at_a["manual_peers"][0]["address"],
        desk_b.sync_addr(),
        "{at_a}"
    );
    assert_eq!(peer_entry(&at_a, &id_b)["link"], "manual", "{at_a}");
    let session = at_a["recent_sessions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["peer"] == desk_b.sync_addr().as_str()))
        .unwrap_or_else(|| panic!("no session with B's address: {at_a}"));
    assert_eq!(session["link"], "manual", "{at_a}");
    assert_eq!(session["ok"], true, "{at_a}");
    let at_b = wait_for_status(&mut staff_b, "B's record of A", |s| {
        s["peers"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["device"] == id_a.as_str()))
    });
    assert_eq!(peer_entry(&at_b, &id_a)["link"], "incoming", "{at_b}");
    let page_a = staff_a.get("/staff/sync");
    assert!(page_a.body.contains("địa chỉ nhập tay"), "{}", page_a.body);
    assert!(
        page_a
            .body
            .contains(&format!("data-typed-address=\"{}\"", desk_b.sync_addr())),
        "{}",
        page_a.body
    );
    assert!(staff_b.get("/staff/sync").body.contains("được gọi đến"));

    // Removed, the address is dialled no more: not after a change, not on "sync now".
    let removed = staff_a.post_form(
        "/staff/sync/peers/remove",
        &[("address", &desk_b.sync_addr())],
    );
    assert_eq!(removed.status, 303, "{}", removed.body);
    let gone = staff_a.post_form(
        "/staff/sync/peers/remove",
        &[("address", &desk_b.sync_addr())],
    );
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(
        sync_status(&mut staff_a)["manual_peers"],
        serde_json::json!([])
    );
    let third = create_record(&mut staff_a, "Sổ tay phòng chống bão lũ");
    let pressed = staff_a.post_form("/staff/sync/now", &[]);
    assert_eq!(pressed.status, 303, "{}", pressed.body);
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        !has_record(&mut reader_b, &third),
        "a removed address was dialled\n{}",
        desk_a.process.diagnostics()
    );
}

fn library<'a>(carrying: &'a Value, id: &str) -> &'a Value {
    carrying["libraries"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["id"] == id))
        .unwrap_or_else(|| panic!("no library {id} in {carrying}"))
}

fn carrying(staff: &mut Client) -> Value {
    let response = staff.get("/api/sync/carrying");
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()
}

/// `tusach sync --listen` on the hub's folder: the district office, answering the laptop.
fn hub_listener(hub: &Path) -> (Tusach, String) {
    let mut process = Tusach::spawn(hub, &["sync", "--listen", "127.0.0.1:0"]);
    let addr = process.listening_address();
    (process, addr)
}

#[test]
fn the_laptop_shows_what_it_carries_for_the_hub_until_it_delivers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = dir.path().join("hub");
    let (desk, laptop) = (dir.path().join("desk"), dir.path().join("laptop"));
    join(&hub, &desk, "xa-an-hoa");
    enrol(&hub, &laptop, None);
    // The laptop leaves the office synced: it knows the hub and the desk it will visit.
    tusach::network_cmd::sync_locally(&DataDir::new(&hub), &DataDir::new(&laptop))
        .expect("the laptop syncs with the hub before the visit");
    let desk_server = Server::start(desk, &["--no-mdns"], None);
    let laptop_server = Server::start(laptop.clone(), &["--no-mdns"], None);
    let mut desk_staff = desk_server.staff_client();
    let mut laptop_staff = laptop_server.staff_client();

    // Nothing of the commune's yet: the hub got all the laptop had at the office... except
    // what the laptop wrote since (its own first admin), which is not the commune's.
    let before = carrying(&mut laptop_staff);
    assert_eq!(before["hubs"].as_array().map(Vec::len), Some(1), "{before}");
    assert_eq!(library(&before, "xa-an-hoa")["undelivered"], 0, "{before}");

    // The desk counts visitors; the laptop visits and picks the work up.
    let counted = desk_staff.post_form("/staff/visits", &[("people", "4")]);
    assert_eq!(counted.status, 303, "{}", counted.body);
    ok(&laptop, &["sync", "--peer", &desk_server.sync_addr()]);
    let visited = carrying(&mut laptop_staff);
    let undelivered = library(&visited, "xa-an-hoa")["undelivered"]
        .as_i64()
        .unwrap_or_else(|| panic!("no count: {visited}"));
    assert!(
        undelivered > 0,
        "the desk's work is on the laptop: {visited}"
    );
    assert!(
        visited["hubs"][0]["carries"].as_i64() >= Some(undelivered),
        "carried for the hub: {visited}"
    );
    let desk_entry = &library(&visited, "xa-an-hoa")["devices"][0];
    assert_eq!(desk_entry["role"], "appliance", "{visited}");
    assert!(desk_entry["last_contact"].is_string(), "{visited}");
    let page = laptop_staff.get("/staff/sync/carrying");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("data-undelivered>{undelivered}<")),
        "{}",
        page.body
    );
    let status = sync_status(&mut laptop_staff);
    let session = status["recent_sessions"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["peer"] == desk_server.sync_addr().as_str())
        })
        .unwrap_or_else(|| panic!("no session with the desk: {status}"));
    assert_eq!(session["link"], "command", "{status}");
    assert!(
        laptop_staff
            .get("/staff/sync")
            .body
            .contains("href=\"/staff/sync/carrying\"")
    );

    // Back at the office: delivered, nothing of the commune's is left to carry.
    let (mut office, hub_addr) = hub_listener(&hub);
    ok(&laptop, &["sync", "--peer", &hub_addr]);
    let delivered = carrying(&mut laptop_staff);
    assert_eq!(
        library(&delivered, "xa-an-hoa")["undelivered"],
        0,
        "{delivered}"
    );
    assert_eq!(delivered["hubs"][0]["carries"], 0, "{delivered}");
    let page = laptop_staff.get("/staff/sync/carrying?lang=en");
    assert!(page.body.contains("data-undelivered>0<"), "{}", page.body);
    assert!(office.terminate(Duration::from_secs(20)));
}
