//! The sync one-shots as a district engineer runs them: real `tusach` processes, real TCP on
//! loopback, real bundle files.

use std::path::Path;

use std::time::Duration;

use tusach_tests::cli::{device_id, digest, ok, tusach};
use tusach_tests::network::enrol;
use tusach_tests::process::Tusach;

/// Starts `tusach sync --listen` on a free loopback port for `data`; the guard stops it.
fn listener(data: &Path, extra: &[&str]) -> (Tusach, String) {
    let mut args = vec!["sync", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut process = Tusach::spawn(data, &args);
    let addr = process.listening_address();
    (process, addr)
}

#[test]
fn a_bundle_carries_what_its_destination_lacks_and_imports_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (commune, hub) = (dir.path().join("commune"), dir.path().join("hub"));
    ok(&commune, &["dev", "seed", "--records", "300"]);
    enrol(&hub, &commune, None);
    let hub_id = device_id(&hub);
    let file = dir.path().join("for-hub.tsb");
    let file = file.to_str().expect("utf-8 path");

    ok(&commune, &["sync", "--bundle-out", file, "--for", &hub_id]);
    let first = ok(&hub, &["sync", "--bundle-in", file, "--json"]);
    assert_eq!(digest(&commune), digest(&hub));
    assert!(first.contains("\"duplicates\":0"), "{first}");

    let again = ok(&hub, &["sync", "--bundle-in", file, "--json"]);
    assert!(
        again.contains("\"new_changes\":0"),
        "importing twice is harmless: {again}"
    );
    assert_eq!(digest(&commune), digest(&hub));
}

#[test]
fn a_bundle_for_another_device_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (commune, hub, stranger) = (
        dir.path().join("commune"),
        dir.path().join("hub"),
        dir.path().join("stranger"),
    );
    ok(&commune, &["dev", "seed", "--records", "20"]);
    enrol(&hub, &commune, None);
    enrol(&hub, &stranger, None);
    let file = dir.path().join("for-hub.tsb");
    let file = file.to_str().expect("utf-8 path");
    ok(
        &commune,
        &["sync", "--bundle-out", file, "--for", &device_id(&hub)],
    );
    let before = digest(&stranger);
    let refused = tusach(&stranger, &["sync", "--bundle-in", file]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("meant for another device"), "{message}");
    assert_eq!(digest(&stranger), before, "nothing was applied");

    let nonsense = tusach(
        &stranger,
        &["sync", "--bundle-out", file, "--for", "not-an-id"],
    );
    assert!(!nonsense.status.success());
    assert!(String::from_utf8_lossy(&nonsense.stderr).contains("not a device id"));

    // A device this one never heard of has no certificate to seal a bundle for.
    let unknown = tusach(
        &commune,
        &["sync", "--bundle-out", file, "--for", &"ab".repeat(16)],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no certificate of device"));
}

#[test]
fn a_bundle_from_a_stranger_applies_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, rogue) = (dir.path().join("hub"), dir.path().join("rogue"));
    enrol(&hub, &dir.path().join("desk"), None);
    // The rogue runs its own network and seals a bundle for the hub's key it learned.
    ok(&rogue, &["dev", "seed", "--records", "20"]);
    enrol(&rogue, &dir.path().join("rogue-desk"), None);
    let before = digest(&hub);
    let file = dir.path().join("forged.tsb");
    let file = file.to_str().expect("utf-8 path");
    let made = tusach(
        &rogue,
        &["sync", "--bundle-out", file, "--for", &device_id(&hub)],
    );
    assert!(
        !made.status.success(),
        "the rogue knows no certificate of the hub"
    );
    // A bundle the rogue can make (for its own desk) does not open at the hub.
    ok(
        &rogue,
        &[
            "sync",
            "--bundle-out",
            file,
            "--for",
            &device_id(&dir.path().join("rogue-desk")),
        ],
    );
    let refused = tusach(&hub, &["sync", "--bundle-in", file]);
    assert!(!refused.status.success());
    assert_eq!(digest(&hub), before, "nothing was applied");
}

#[test]
fn two_appliances_converge_over_tcp_and_a_second_sync_sends_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (commune, hub) = (dir.path().join("commune"), dir.path().join("hub"));
    ok(&commune, &["dev", "seed", "--records", "400"]);
    ok(
        &hub,
        &["dev", "seed", "--records", "100", "--start", "1000"],
    );
    enrol(&hub, &commune, None);

    let (mut listener, addr) = listener(&hub, &[]);

    let first = ok(&commune, &["sync", "--peer", &addr, "--json"]);
    let second = ok(&commune, &["sync", "--peer", &addr, "--json"]);
    listener.terminate(Duration::from_secs(10));

    assert!(!first.contains("\"new_changes\":0,"), "{first}");
    assert!(second.contains("\"changes_sent\":0"), "{second}");
    assert!(second.contains("\"new_changes\":0"), "{second}");
    assert_eq!(digest(&commune), digest(&hub));

    // The commune now knows what the hub holds: a bundle for it carries nothing.
    let file = dir.path().join("for-hub.tsb");
    let bundle = ok(
        &commune,
        &[
            "sync",
            "--bundle-out",
            file.to_str().expect("utf-8"),
            "--for",
            &device_id(&hub),
            "--json",
        ],
    );
    assert!(bundle.contains("\"changes\":0"), "{bundle}");
}

#[test]
fn a_peer_that_is_not_there_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = tusach(
        &dir.path().join("commune"),
        &["sync", "--peer", "127.0.0.1:1", "--timeout-secs", "2"],
    );
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("could not connect"), "{message}");
}

#[test]
fn a_listener_answers_garbage_with_an_error_and_keeps_serving() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let (commune, hub) = (dir.path().join("commune"), dir.path().join("hub"));
    ok(&hub, &["dev", "seed", "--records", "50"]);
    enrol(&hub, &commune, None);
    let (mut listener, addr) = listener(&hub, &["--timeout-secs", "5"]);

    let strangers: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: tusach\r\n\r\n",
        b"TSYN\x09",
        b"TSYN\x01\x01\xff\xff\xff\x7f",
        b"TSYN\x02\x05\x00abcde",
    ];
    for garbage in strangers {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(garbage).expect("write");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(
            answer.starts_with(b"TSYN\x02") && answer.len() < 200,
            "a stranger sending {garbage:?} gets our preamble and no data, got {answer:?}"
        );
    }
    assert!(
        listener.try_wait().is_none(),
        "the listener is still running"
    );
    ok(&commune, &["sync", "--peer", &addr]);
    listener.terminate(Duration::from_secs(10));
    assert_eq!(digest(&commune), digest(&hub));
}

/// Importing a bundle writes `FILE.receipt` for its maker; once the maker imports that, its
/// next bundle carries only what is new (before, it re-carried everything).
#[test]
fn a_receipt_carried_back_stops_the_next_bundle_from_carrying_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (commune, hub) = (dir.path().join("commune"), dir.path().join("hub"));
    ok(&commune, &["dev", "seed", "--records", "300"]);
    enrol(&hub, &commune, None);
    let hub_id = device_id(&hub);
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    let bundle = |name: &str| {
        let out = ok(
            &commune,
            &[
                "sync",
                "--bundle-out",
                &path(name),
                "--for",
                &hub_id,
                "--json",
            ],
        );
        let report: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
        report["changes"].as_u64().expect("changes")
    };

    assert!(bundle("first.tsb") > 10);
    let imported = ok(&hub, &["sync", "--bundle-in", &path("first.tsb"), "--json"]);
    let imported: serde_json::Value = serde_json::from_str(imported.trim()).expect("json");
    assert_eq!(imported["receipt"], path("first.tsb.receipt"), "{imported}");
    assert!(dir.path().join("first.tsb.receipt").exists());

    ok(&commune, &["dev", "edit", "--records", "3", "--round", "1"]);
    let without_receipt = bundle("again.tsb");
    assert!(without_receipt > 3, "{without_receipt}");

    let read = ok(
        &commune,
        &["sync", "--bundle-in", &path("first.tsb.receipt"), "--json"],
    );
    let read: serde_json::Value = serde_json::from_str(read.trim()).expect("json");
    assert_eq!(read["batches"], 0, "{read}");
    assert_eq!(
        read["receipt"],
        serde_json::Value::Null,
        "no receipt for a receipt"
    );
    assert_eq!(
        bundle("second.tsb"),
        3,
        "the second bundle carries only the 3 edits"
    );
    let second = ok(
        &hub,
        &["sync", "--bundle-in", &path("second.tsb"), "--json"],
    );
    assert!(second.contains("\"new_changes\":3"), "{second}");
    assert!(second.contains("\"duplicates\":0"), "{second}");
    assert_eq!(digest(&commune), digest(&hub));
}
