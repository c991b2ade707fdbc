//! Neighbours find each other by real mDNS multicast and converge with no command typed: each
//! appliance is a real `tusach serve` in its own network namespace, cabled to a bridge
//! (`tusach::bench::netns::Lan`). Changes are made through the console (the control socket is a
//! file, so it reaches into any namespace) and checked the same way; at the end the stores
//! are stopped and compared whole.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tusach::bench::netns::Lan;
use tusach::data_dir::DataDir;
use tusach_tests::cli::{device_id, digest, ok, ok_with_input};
use tusach_tests::network::{enrol, join};
use tusach_tests::process::{Tusach, tusach_binary};

const LIBRARY: &str = "xa-nghi-phu";
/// Convergence is promised within 10 s (the `neighbours` bench measures it); the tests allow
/// a slow CI machine several times that before they call it a failure.
const CONVERGE: Duration = Duration::from_secs(60);

/// A `tusach serve` in node `i`'s namespace, reachable by its neighbours.
struct Node {
    data: PathBuf,
    process: Tusach,
}

impl Node {
    fn start(lan: &Lan, i: usize, data: &Path) -> Node {
        Node::start_with(lan, i, data, &[])
    }

    fn start_with(lan: &Lan, i: usize, data: &Path, extra: &[&str]) -> Node {
        let mut args = vec![
            "serve",
            "--listen",
            "0.0.0.0:8080",
            "--sync-listen",
            "0.0.0.0:7654",
        ];
        args.extend_from_slice(extra);
        let mut process = Tusach::spawn_with(lan.command(i, tusach_binary()), data, &args);
        process
            .wait_for_line("Tủ Sách is running: http://", Duration::from_secs(120))
            .unwrap_or_else(|| panic!("serve did not start\n{}", process.diagnostics()));
        Node {
            data: data.to_owned(),
            process,
        }
    }

    fn stop(mut self) -> PathBuf {
        assert!(
            self.process.terminate(Duration::from_secs(20)),
            "serve did not stop on SIGTERM\n{}",
            self.process.diagnostics()
        );
        // mDNS says goodbye on a clean stop.
        assert!(
            self.process.stderr().contains("mDNS: announcing"),
            "serve never announced itself\n{}",
            self.process.diagnostics()
        );
        self.data.clone()
    }
}

/// A staff account made at `node`'s desk: a change in the library's scope.
fn add_staff(node: &Node, username: &str) {
    ok_with_input(
        &node.data,
        &[
            "staff",
            "add",
            "--username",
            username,
            "--display-name",
            username,
        ],
        "Mật khẩu đủ dài 2026\n",
    );
}

fn has_staff(node: &Node, username: &str) -> bool {
    ok_with_input(&node.data, &["staff", "list"], "")
        .split_whitespace()
        .any(|word| word == username)
}

/// Waits until every node in `nodes` lists `username`, with nothing typed on them.
fn wait_for_staff(nodes: &[&Node], username: &str) -> Duration {
    let started = Instant::now();
    while !nodes.iter().all(|node| has_staff(node, username)) {
        assert!(
            started.elapsed() < CONVERGE,
            "{username} did not reach every neighbour within {CONVERGE:?}\n{}",
            nodes
                .iter()
                .map(|node| node.process.diagnostics())
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    started.elapsed()
}

/// A hub folder and `n` appliances of one library enrolled at it. Each joined (and synced
/// once) in turn, so the first knows none of the later ones: they meet on the LAN.
fn library_of(dir: &Path, n: usize) -> Vec<PathBuf> {
    let hub = dir.join("hub");
    (0..n)
        .map(|i| {
            let data = dir.join(format!("desk-{i}"));
            join(&hub, &data, LIBRARY);
            data
        })
        .collect()
}

#[test]
fn two_appliances_find_each_other_and_converge_with_no_command_typed() {
    let lan = Lan::new(2).expect("a LAN of namespaces");
    let dir = tempfile::tempdir().expect("tempdir");
    let desks = library_of(dir.path(), 2);
    let a = Node::start(&lan, 0, &desks[0]);
    let b = Node::start(&lan, 1, &desks[1]);

    add_staff(&a, "lan");
    let took = wait_for_staff(&[&b], "lan");
    eprintln!("a → b: {took:?}");
    add_staff(&b, "minh");
    let took = wait_for_staff(&[&a], "minh");
    eprintln!("b → a: {took:?}");

    let (a, b) = (a.stop(), b.stop());
    assert_eq!(digest(&a), digest(&b));
}

#[test]
fn three_appliances_converge_by_discovery_alone() {
    let lan = Lan::new(3).expect("a LAN of namespaces");
    let dir = tempfile::tempdir().expect("tempdir");
    let desks = library_of(dir.path(), 3);
    let nodes: Vec<Node> = (0..3).map(|i| Node::start(&lan, i, &desks[i])).collect();

    // A change at each desk, the last two at once, reaches the two others.
    add_staff(&nodes[0], "lan");
    wait_for_staff(&[&nodes[1], &nodes[2]], "lan");
    add_staff(&nodes[1], "minh");
    add_staff(&nodes[2], "hoa");
    wait_for_staff(&[&nodes[0], &nodes[2]], "minh");
    wait_for_staff(&[&nodes[0], &nodes[1]], "hoa");

    let digests: Vec<String> = nodes.into_iter().map(|n| digest(&n.stop())).collect();
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[1], digests[2]);
}

/// A peer speaking mDNS through another implementation, in node `i`: python-zeroconf
/// (`tests/mdns/zeroconf_peer.py`) or Avahi (`tests/mdns/avahi-peer`). It runs on a thread for
/// as long as it was told; joining the handle gives what it printed.
fn foreign_peer(
    lan: &Lan,
    i: usize,
    script: &str,
    args: Vec<String>,
) -> std::thread::JoinHandle<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mdns")
        .join(script);
    let mut command = lan.command(i, script);
    command.args(args);
    std::thread::spawn(move || {
        let out = command.output().expect("run the foreign mDNS peer");
        assert!(
            out.status.success(),
            "the foreign mDNS peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// The TXT record our appliance would announce, claiming `id`.
fn txt_claiming(id: &str) -> Vec<String> {
    ["id=", "lib=", "role=appliance", "v=2", "st=7"]
        .iter()
        .map(|kv| match *kv {
            "id=" => format!("id={id}"),
            "lib=" => format!("lib={LIBRARY}"),
            other => other.to_owned(),
        })
        .collect()
}

#[test]
fn python_zeroconf_sees_us_and_a_stranger_claiming_a_member_gets_only_a_handshake() {
    let lan = Lan::new(3).expect("a LAN of namespaces");
    let dir = tempfile::tempdir().expect("tempdir");
    // B joins first, so A holds B's certificate and takes the impostor for B.
    let desks = library_of(dir.path(), 2);
    let (b, a) = (&desks[0], &desks[1]);
    let (a_id, b_id) = (device_id(a), device_id(b));
    let node = Node::start(&lan, 0, a);

    let zeroconf = |i: usize, instance: &str, id: &str| {
        let mut args = vec![
            "--address".to_owned(),
            lan.addr(i).to_string(),
            "--seconds".to_owned(),
            "25".to_owned(),
            "--publish".to_owned(),
            instance.to_owned(),
        ];
        for kv in txt_claiming(id) {
            args.extend(["--txt".to_owned(), kv]);
        }
        foreign_peer(&lan, i, "zeroconf_peer.py", args)
    };
    // One claims to be member B; one is honestly nobody we know.
    let impostor = zeroconf(1, &b_id, &b_id);
    let stranger = zeroconf(2, "stranger", "0123456789abcdef0123456789abcdef");
    let lines = |out: String| -> Vec<Value> {
        out.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    };
    let impostor = lines(impostor.join().expect("impostor thread"));
    let stranger = lines(stranger.join().expect("stranger thread"));

    // python-zeroconf resolved our service with its TXT record.
    let ours = impostor
        .iter()
        .filter_map(|line| line.get("seen"))
        .find(|seen| seen["txt"]["id"] == a_id.as_str())
        .unwrap_or_else(|| panic!("python-zeroconf never saw our service: {impostor:?}"));
    assert_eq!(ours["txt"]["lib"], LIBRARY);
    assert_eq!(ours["txt"]["role"], "appliance");
    assert_eq!(ours["txt"]["v"], "2");
    assert!(
        ours["txt"]["st"]
            .as_str()
            .is_some_and(|st| st.parse::<u64>().is_ok())
    );
    assert_eq!(ours["port"], 7654);
    assert!(
        ours["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|ip| ip == &lan.addr(0).to_string())),
        "{ours}"
    );

    // We saw the impostor's service and dialled it as B; it got a handshake's first message
    // and nothing more, since it could not prove B's key.
    let connections: Vec<&Value> = impostor
        .iter()
        .filter_map(|line| line.get("connection"))
        .collect();
    assert!(
        !connections.is_empty(),
        "the appliance never dialled the service that claimed a member's id\n{}",
        node.process.diagnostics()
    );
    for connection in &connections {
        assert_eq!(connection["from"], lan.addr(0).to_string());
        let bytes = connection["bytes"].as_u64().expect("a byte count");
        assert!(
            bytes <= 100,
            "the impostor got {bytes} bytes, more than a handshake's first message: {connection}"
        );
    }
    // The honest stranger was seen, listed, and never dialled.
    assert!(
        node.process.stderr().contains("mDNS: saw stranger"),
        "{}",
        node.process.diagnostics()
    );
    assert!(
        !stranger.iter().any(|line| line.get("connection").is_some()),
        "the appliance dialled a device that is not a member: {stranger:?}"
    );
    node.stop();
}

#[test]
fn avahi_sees_our_service_and_we_see_the_one_it_publishes() {
    let lan = Lan::new(2).expect("a LAN of namespaces");
    let dir = tempfile::tempdir().expect("tempdir");
    let desks = library_of(dir.path(), 2);
    let (b, a) = (&desks[0], &desks[1]);
    let (a_id, b_id) = (device_id(a), device_id(b));
    let node = Node::start(&lan, 0, a);

    // Avahi publishes a service claiming B at an address where nothing listens.
    let mut args = vec!["12".to_owned(), b_id.clone(), "7654".to_owned()];
    args.extend(txt_claiming(&b_id));
    let browsed = foreign_peer(&lan, 1, "avahi-peer", args)
        .join()
        .expect("avahi thread");

    // avahi-browse resolved ours: `=;eth0;IPv4;NAME;_tusach._tcp;local;HOST;ADDR;PORT;TXT`.
    let ours = browsed
        .lines()
        .find(|line| line.starts_with("=;") && line.contains(&format!("\"id={a_id}\"")))
        .unwrap_or_else(|| panic!("avahi-browse did not resolve our service:\n{browsed}"));
    let fields: Vec<&str> = ours.split(';').collect();
    assert_eq!(
        fields.get(7),
        Some(&lan.addr(0).to_string().as_str()),
        "{ours}"
    );
    assert_eq!(fields.get(8), Some(&"7654"), "{ours}");
    for kv in [
        format!("lib={LIBRARY}"),
        "role=appliance".into(),
        "v=2".into(),
    ] {
        assert!(ours.contains(&format!("\"{kv}\"")), "{kv} missing: {ours}");
    }
    // We saw Avahi's service, took it for member B and tried it (nothing answers there).
    assert!(
        node.process
            .wait_for_stderr(&format!("mDNS: saw {b_id}"), Duration::from_secs(5)),
        "we never saw the service Avahi published\n{}",
        node.process.diagnostics()
    );
    assert!(
        node.process
            .wait_for_stderr(&format!("neighbour {b_id}"), Duration::from_secs(30)),
        "we never dialled the service Avahi published\n{}",
        node.process.diagnostics()
    );
    node.stop();
}

#[test]
fn a_revoked_desk_is_refused_once_the_revocation_has_spread_and_gets_nothing() {
    let lan = Lan::new(2).expect("a LAN of namespaces");
    let dir = tempfile::tempdir().expect("tempdir");
    // A joins first; B joins after, so B holds A's certificate and takes A for a member.
    let desks = library_of(dir.path(), 2);
    let (a, b) = (&desks[0], &desks[1]);
    let b_id = device_id(b);
    // The hub revokes B (a stolen laptop, say); A hears of it at its next sync with the hub.
    // B never does.
    let hub = dir.path().join("hub");
    ok(
        &hub,
        &["network", "revoke", &b_id, "--reason", "máy bị mất"],
    );
    tusach::network_cmd::sync_locally(&DataDir::new(&hub), &DataDir::new(a))
        .expect("A syncs with the hub");
    let node_a = Node::start(&lan, 0, a);
    let node_b = Node::start(&lan, 1, b);
    add_staff(&node_a, "lan");
    add_staff(&node_b, "trom");

    // A lists B as revoked and never dials it; B still dials A and is refused in the
    // handshake, before any data moves.
    assert!(
        node_a
            .process
            .wait_for_stderr(&format!("mDNS: saw {b_id}"), CONVERGE),
        "{}",
        node_a.process.diagnostics()
    );
    // The standing ends the same line, which may not have been read whole yet.
    assert!(
        node_a.process.wait_for_stderr("Revoked", CONVERGE),
        "{}",
        node_a.process.diagnostics()
    );
    let started = Instant::now();
    while !ok(a, &["network", "show"])
        .lines()
        .any(|line| line.starts_with("refused") && line.contains("revoked"))
    {
        assert!(
            started.elapsed() < CONVERGE,
            "A never refused the revoked desk\n{}\n{}",
            node_a.process.diagnostics(),
            node_b.process.diagnostics()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Past B's retries: nothing of B's reached A, and nothing of A's reached B.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        !has_staff(&node_a, "trom"),
        "a revoked desk's change reached A"
    );
    assert!(
        !has_staff(&node_b, "lan"),
        "A's change reached a revoked desk"
    );
    node_a.stop();
    node_b.stop();
}

#[test]
fn a_mule_carries_changes_between_a_desk_and_the_hub_that_never_share_a_network() {
    // The commune's hotspot (the desk, and the district laptop on its visit) and the district
    // office's LAN (the hub): two bridges, nothing routed between them.
    let commune = Lan::new(2).expect("the commune's network");
    let office = Lan::new(1).expect("the office's network");
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = dir.path().join("hub");
    let desk = dir.path().join("desk");
    let laptop = dir.path().join("laptop");
    join(&hub, &desk, LIBRARY);
    enrol(&hub, &laptop, None);
    // The laptop leaves the office synced, so it knows the desks it will visit. (The desk
    // joined before the laptop and has not heard of it: the laptop dials.)
    tusach::network_cmd::sync_locally(&DataDir::new(&hub), &DataDir::new(&laptop))
        .expect("the laptop syncs with the hub before the visit");
    // The console lists one library's staff: the hub's and the laptop's consoles are pointed
    // at the commune's library to read what they carry.
    let hub_node = Node::start_with(&office, 0, &hub, &["--library", LIBRARY]);
    let desk_node = Node::start(&commune, 0, &desk);
    let laptop_node = Node::start_with(&commune, 1, &laptop, &["--library", LIBRARY]);

    // On the visit, the laptop picks up the desk's work by itself.
    add_staff(&desk_node, "lan");
    wait_for_staff(&[&laptop_node], "lan");
    // Back at the office it hands it to the hub, and picks up the hub's news.
    commune
        .move_node(1, &commune, &office)
        .expect("the laptop moves to the office");
    let took = wait_for_staff(&[&hub_node], "lan");
    eprintln!("laptop → hub after arriving at the office: {took:?}");
    add_staff(&hub_node, "huyen");
    wait_for_staff(&[&laptop_node], "huyen");
    // On the next visit the desk gets the hub's news.
    commune
        .move_node(1, &office, &commune)
        .expect("the laptop goes back to the commune");
    let took = wait_for_staff(&[&desk_node], "huyen");
    eprintln!("laptop → desk after arriving at the commune: {took:?}");

    // The hub never heard from the desk's address: only the laptop carried.
    assert!(
        !hub_node
            .process
            .stderr()
            .contains(&commune.addr(0).to_string())
    );
    desk_node.stop();
    hub_node.stop();
    laptop_node.stop();
}
