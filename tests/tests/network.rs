//! Enrolment as a district engineer does it, through the `tusach network` commands and real TCP:
//! the hub makes the network and a one-time code, the new appliance joins with it and syncs; a
//! stranger on the same network gets nothing and is recorded with its address and key.

use std::time::Duration;

use tusach_tests::cli::{digest, ok, tusach};
use tusach_tests::process::Tusach;

fn code_from(output: &str) -> String {
    output
        .split_whitespace()
        .find(|w| w.len() == 14 && w.matches('-').count() == 2)
        .unwrap_or_else(|| panic!("no code in {output:?}"))
        .to_owned()
}

#[test]
fn a_device_joins_with_a_code_and_a_stranger_gets_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, desk, stranger) = (
        dir.path().join("hub"),
        dir.path().join("desk"),
        dir.path().join("stranger"),
    );
    ok(&hub, &["dev", "seed", "--records", "50"]);
    ok(&hub, &["network", "init", "--name", "Huyện Nghi Lộc"]);
    let refused = tusach(&hub, &["network", "init", "--name", "again"]);
    assert!(
        !refused.status.success(),
        "a second init would split the network"
    );

    let code = code_from(&ok(&hub, &["network", "code", "--library", "xa-nghi-phu"]));
    let mut listener = Tusach::spawn(&hub, &["sync", "--listen", "127.0.0.1:0"]);
    let addr = listener.listening_address();

    // A wrong code is refused and leaves nothing behind.
    let wrong = tusach(
        &desk,
        &[
            "network",
            "join",
            "--hub",
            &addr,
            "--code",
            "0000-0000-0000",
        ],
    );
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("code"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let joined = ok(&desk, &["network", "join", "--hub", &addr, "--code", &code]);
    assert!(
        joined.contains("joined network 'Huyện Nghi Lộc' as appliance of xa-nghi-phu"),
        "{joined}"
    );
    assert!(joined.contains("first sync"), "{joined}");
    // The code worked once.
    let again = tusach(
        &stranger,
        &["network", "join", "--hub", &addr, "--code", &code],
    );
    assert!(!again.status.success());

    // The stranger (unenrolled, its own key) asks for a sync: nothing moves, either way.
    let before = digest(&stranger);
    let attempt = tusach(&stranger, &["sync", "--peer", &addr, "--timeout-secs", "5"]);
    assert!(!attempt.status.success());
    assert_eq!(digest(&stranger), before);
    listener.terminate(Duration::from_secs(10));

    // The catalogue reached the desk; the hub recorded the stranger's attempts.
    let shown = ok(&desk, &["network", "show"]);
    assert!(
        shown.contains("member as appliance of xa-nghi-phu"),
        "{shown}"
    );
    let hub_shown = ok(&hub, &["network", "show"]);
    assert!(hub_shown.contains("refused\t"), "{hub_shown}");
    assert!(hub_shown.contains("127.0.0.1"), "{hub_shown}");
    let desk_records = ok(&desk, &["dev", "digest"]);
    assert!(desk_records.contains("integrity ok"));

    // Update bundles: the hub vouches for one; the desk checks it before installing.
    let bundle = dir.path().join("tusach-0.2.0-arm64.update.tar");
    std::fs::write(&bundle, b"a new version").expect("write");
    let bundle_arg = bundle.to_str().expect("utf-8");
    let signed = ok(&hub, &["network", "sign", bundle_arg]);
    assert!(signed.contains("signed"), "{signed}");
    let verified = ok(&desk, &["network", "verify", bundle_arg]);
    assert!(verified.contains("verified: signed by hub"), "{verified}");
    std::fs::write(&bundle, b"a new version, changed").expect("write");
    let changed = tusach(&desk, &["network", "verify", bundle_arg]);
    assert!(
        !changed.status.success(),
        "a changed bundle must not verify"
    );
    // An appliance cannot vouch for updates, and a stranger's network does not count.
    let by_desk = tusach(&desk, &["network", "sign", bundle_arg]);
    assert!(!by_desk.status.success());
    ok(&stranger, &["network", "init", "--name", "rogue"]);
    ok(&stranger, &["network", "sign", bundle_arg]);
    let rogue = tusach(&desk, &["network", "verify", bundle_arg]);
    assert!(
        !rogue.status.success(),
        "a rogue hub's signature must not verify"
    );

    // Revoked at the hub: the desk is refused from then on.
    let desk_id = ok(&desk, &["id"]).trim().to_owned();
    ok(
        &hub,
        &["network", "revoke", &desk_id, "--reason", "thẻ nhớ bị mất"],
    );
    let mut listener = Tusach::spawn(&hub, &["sync", "--listen", "127.0.0.1:0"]);
    let addr = listener.listening_address();
    let refused = tusach(&desk, &["sync", "--peer", &addr, "--timeout-secs", "5"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a member"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    listener.terminate(Duration::from_secs(10));
    let hub_shown = ok(&hub, &["network", "show"]);
    assert!(
        hub_shown
            .lines()
            .any(|l| l.starts_with("refused\t") && l.contains("revoked")),
        "the revoked desk's attempt is recorded: {hub_shown}"
    );
}

/// The same through the staff pages: the hub's admin makes a code (shown with a QR), the new
/// appliance's admin types it with the hub's address on the Network page, both while `serve`
/// runs; a stranger's attempt shows on the hub's sync page.
#[test]
fn enrolment_through_the_staff_pages_while_both_serve() {
    use tusach_tests::web::Server;
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, desk, stranger) = (
        dir.path().join("hub"),
        dir.path().join("desk"),
        dir.path().join("stranger"),
    );
    ok(&hub, &["dev", "seed", "--records", "30"]);
    let hub_server = Server::start(hub.clone(), &[], None);
    // The console reaches the running hub through its control socket.
    ok(&hub, &["network", "init", "--name", "Huyện Nghi Lộc"]);
    // The desk serves the library its code is for (the Pi passes its tusach.txt's id): a code
    // for another library than the folder serves is refused.
    let desk_server = Server::start(desk.clone(), &["--library", "xa-nghi-phu"], None);

    let mut hub_admin = hub_server.staff_client();
    let page = hub_admin.get("/staff/network");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"/staff/network/code\""),
        "{}",
        page.body
    );
    let csrf = hub_admin.csrf.clone();
    let bad = hub_admin.post_form(
        "/staff/network/code",
        &[
            ("csrf", &csrf),
            ("library", "Xã Nghi Phú"),
            ("role", "appliance"),
        ],
    );
    assert!(bad.body.contains("Mã thư viện"), "{}", bad.body);
    let made = hub_admin.post_form(
        "/staff/network/code",
        &[
            ("csrf", &csrf),
            ("library", "xa-nghi-phu"),
            ("role", "appliance"),
        ],
    );
    assert_eq!(made.status, 200);
    assert!(
        made.body.contains("data-code") && made.body.contains("<svg"),
        "{}",
        made.body
    );
    let code = made
        .body
        .split("<code>")
        .filter_map(|s| s.split("</code>").next())
        .find(|s| s.len() == 14 && s.matches('-').count() == 2)
        .expect("a code on the page")
        .to_owned();

    let mut desk_admin = desk_server.staff_client();
    let page = desk_admin.get("/staff/network");
    assert!(
        page.body.contains("data-standing=\"none\""),
        "{}",
        page.body
    );
    let csrf = desk_admin.csrf.clone();
    let forged = desk_admin.post_form(
        "/staff/network/join",
        &[
            ("csrf", "wrong"),
            ("hub", &hub_server.sync_addr()),
            ("code", &code),
        ],
    );
    assert_ne!(forged.status, 303, "a forged form must not join");
    let joined = desk_admin.post_form(
        "/staff/network/join",
        &[
            ("csrf", &csrf),
            ("hub", &hub_server.sync_addr()),
            ("code", &code),
        ],
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    let page = desk_admin.get("/staff/network");
    assert!(
        page.body.contains("data-standing=\"member\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Huyện Nghi Lộc"), "{}", page.body);

    // A stranger with an empty folder tries the hub: refused, and the hub's sync page says so.
    let attempt = tusach(
        &stranger,
        &[
            "sync",
            "--peer",
            &hub_server.sync_addr(),
            "--timeout-secs",
            "5",
        ],
    );
    assert!(!attempt.status.success());
    let sync_page = hub_admin.get("/staff/sync");
    assert!(
        sync_page.body.contains("data-refusals"),
        "{}",
        sync_page.body
    );
    assert!(
        sync_page
            .body
            .contains("presented no membership certificate"),
        "{}",
        sync_page.body
    );
    let status = hub_admin.get("/api/sync/status").json();
    assert!(
        status["refused"].as_array().is_some_and(|r| !r.is_empty()),
        "{status}"
    );
}
