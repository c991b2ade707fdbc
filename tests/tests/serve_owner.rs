//! `tusach serve` as the one owner of its data folder: console commands typed while it runs
//! go through its control socket, it syncs with peers and a hub without stopping, and a
//! librarian stays logged in through all of it. Real processes, real sockets.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tusach_tests::cli::{digest, ok_in, tusach_in};
use tusach_tests::network::enrol;

use tusach_tests::process::{run_ok, tusach_binary};
use tusach_tests::web::{Client, Server};

const MINUTE: Duration = Duration::from_secs(60);
/// Kills of serve during an incoming sync: at least this many rounds…
const ROUNDS: u64 = 4;
/// …and more, up to this many, until two kills landed inside a session. How long a session
/// lasts depends on the machine, so the test keeps killing until it has the crashes it is
/// about rather than guessing one window that fits every machine.
const MAX_ROUNDS: u64 = 16;
/// Kills that must cut an incoming session short.
const CUTS_WANTED: u64 = 2;

fn ok(data: &Path, args: &[&str]) -> String {
    ok_in(Path::new("."), data, args, "")
}

fn seed(data: &Path, records: u64, start: u64) {
    let (records, start) = (records.to_string(), start.to_string());
    run_ok(
        data,
        &[
            "dev",
            "seed",
            "--records",
            &records,
            "--start",
            &start,
            "--relaxed",
        ],
        Duration::from_secs(300),
    );
}

/// Stops a server cleanly and checks it took its control socket with it.
fn stop(server: &mut Server) {
    assert!(
        server.process.terminate(Duration::from_secs(20)),
        "serve did not stop on SIGTERM\n{}",
        server.process.diagnostics()
    );
    assert!(
        !server.data().join("control.sock").exists(),
        "a clean stop removes the control socket"
    );
}

/// The same cookie still belongs to a logged-in librarian.
fn still_logged_in(client: &mut Client, when: &str) {
    let session = client.get("/api/session");
    assert_eq!(session.status, 200, "logged out {when}: {}", session.body);
}

fn new_folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    (dir, data)
}

#[test]
fn console_commands_run_inside_serve_and_print_what_they_print_alone() {
    let (dir, data) = new_folder();
    let mut server = Server::start(data.clone(), &[], None);
    let socket = data.join("control.sock");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&socket)
            .expect("serve made its control socket")
            .permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "only the folder's owner may run commands"
    );

    let id_served = ok(&data, &["id"]);
    let staff_served = ok(&data, &["staff", "list"]);
    assert!(staff_served.starts_with("admin\tadmin"), "{staff_served}");

    // A password read from the client's stdin; the account logs in at once over HTTP.
    let added = ok_in(
        dir.path(),
        &data,
        &[
            "staff",
            "add",
            "--username",
            "mai",
            "--display-name",
            "Chị Mai",
        ],
        "Mai đọc sách 2026\n",
    );
    assert_eq!(added, "account mai (librarian) saved\n");
    let login = server.client().login("mai", "Mai đọc sách 2026");
    assert_eq!(login.status, 303, "{}", login.body);

    // Errors come back with the command's status and words.
    let refused = tusach_in(
        dir.path(),
        &data,
        &["staff", "reset-password", "nobody"],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).starts_with("Error: "),
        "{refused:?}"
    );
    let listen = tusach_in(dir.path(), &data, &["sync", "--listen", "127.0.0.1:0"], "");
    assert!(!listen.status.success());
    let message = String::from_utf8_lossy(&listen.stderr);
    assert!(
        message.contains(&format!("already answers peers on {}", server.sync_addr())),
        "{message}"
    );

    // Garbage on the socket gets an answer, and serve goes on.
    for garbage in [
        "nonsense\n",
        "{\"v\":1,\"argv\":[\"serve\"],\"cwd\":\"/\"}\n",
        "{\"v\":9}\n",
    ] {
        let mut stream = UnixStream::connect(&socket).expect("connect");
        stream.write_all(garbage.as_bytes()).expect("write");
        let mut reply = String::new();
        BufReader::new(stream)
            .read_line(&mut reply)
            .expect("a reply");
        assert!(reply.contains("\"exit\":2"), "{garbage:?} got {reply:?}");
    }
    let mut silent = UnixStream::connect(&socket).expect("connect");
    silent.write_all(&[0xff; 100]).expect("write");
    drop(silent);
    assert!(server.process.try_wait().is_none(), "serve survived");

    let staff_after = ok(&data, &["staff", "list"]);
    assert!(
        staff_after.contains("mai\tlibrarian\tChị Mai\n"),
        "{staff_after}"
    );

    // Alone on the folder, the commands print what they printed through serve.
    stop(&mut server);
    assert_eq!(ok(&data, &["id"]), id_served);
    assert_eq!(ok(&data, &["staff", "list"]), staff_after);
}

#[test]
fn serve_syncs_with_another_serve_from_the_console_and_by_bundles_without_logging_anyone_out() {
    let (dir, commune) = new_folder();
    let hub = dir.path().join("hub");
    seed(&commune, 300, 0);
    seed(&hub, 100, 1000);
    enrol(&hub, &commune, None);
    let mut commune_server = Server::start(commune.clone(), &[], None);
    let mut hub_server = Server::start(hub.clone(), &[], None);
    let mut librarian = commune_server.staff_client();

    let first = ok(
        &commune,
        &["sync", "--peer", &hub_server.sync_addr(), "--json"],
    );
    assert!(first.contains("\"changes_sent\":"), "{first}");
    assert!(!first.contains("\"new_changes\":0,"), "{first}");
    still_logged_in(&mut librarian, "after a sync over TCP");
    let again = ok(
        &commune,
        &["sync", "--peer", &hub_server.sync_addr(), "--json"],
    );
    assert!(again.contains("\"changes_sent\":0"), "{again}");

    // A change on each side, then bundles both ways, with relative file names.
    ok_in(
        dir.path(),
        &hub,
        &["staff", "add", "--username", "lan", "--display-name", "Lan"],
        "Lan đọc sách 2026\n",
    );
    ok_in(
        dir.path(),
        &commune,
        &["staff", "add", "--username", "mai", "--display-name", "Mai"],
        "Mai đọc sách 2026\n",
    );
    let hub_id = ok(&hub, &["id"]).trim().to_owned();
    let commune_id = ok(&commune, &["id"]).trim().to_owned();
    let out = ok_in(
        dir.path(),
        &commune,
        &[
            "sync",
            "--bundle-out",
            "for-hub.tsb",
            "--for",
            &hub_id,
            "--json",
        ],
        "",
    );
    assert!(!out.contains("\"changes\":0"), "{out}");
    assert!(
        dir.path().join("for-hub.tsb").is_file(),
        "written where typed"
    );
    let read = ok_in(
        dir.path(),
        &hub,
        &["sync", "--bundle-in", "for-hub.tsb", "--json"],
        "",
    );
    assert!(!read.contains("\"new_changes\":0"), "{read}");
    ok_in(
        dir.path(),
        &hub,
        &[
            "sync",
            "--bundle-out",
            "for-commune.tsb",
            "--for",
            &commune_id,
        ],
        "",
    );
    ok_in(
        dir.path(),
        &commune,
        &["sync", "--bundle-in", "for-commune.tsb"],
        "",
    );
    still_logged_in(&mut librarian, "after bundles");

    // The status page says what happened.
    let status = librarian.get("/api/sync/status").json();
    let sessions = status["recent_sessions"]
        .as_array()
        .expect("recent sessions");
    assert!(
        sessions
            .iter()
            .any(|s| s["peer"] == hub_server.sync_addr().as_str() && s["ok"] == true),
        "{status}"
    );

    stop(&mut commune_server);
    stop(&mut hub_server);
    assert_eq!(digest(&commune), digest(&hub));
}

#[test]
fn serve_with_a_hub_converges_with_it_by_itself() {
    let (dir, appliance) = new_folder();
    let hub = dir.path().join("hub");
    seed(&hub, 200, 0);
    seed(&appliance, 50, 5000);
    enrol(&hub, &appliance, None);
    let mut hub_server = Server::start(hub.clone(), &[], None);
    let mut appliance_server = Server::start(
        appliance.clone(),
        &["--hub", &hub_server.sync_addr(), "--hub-every-secs", "1"],
        None,
    );
    let mut librarian = appliance_server.staff_client();
    let synced = |server: &Server| {
        server
            .process
            .stderr()
            .matches("synced with the hub")
            .count()
    };
    let wait_for_syncs = |server: &Server, count: usize| {
        let deadline = Instant::now() + MINUTE;
        while synced(server) < count {
            assert!(
                Instant::now() < deadline,
                "no hub sync within a minute\n{}",
                server.process.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for_syncs(&appliance_server, 1);
    // A change at the hub reaches the appliance on a later round, with nothing typed there.
    ok_in(
        dir.path(),
        &hub,
        &["staff", "add", "--username", "lan", "--display-name", "Lan"],
        "Lan đọc sách 2026\n",
    );
    let after_write = synced(&appliance_server);
    wait_for_syncs(&appliance_server, after_write + 2);
    still_logged_in(&mut librarian, "after syncs with the hub");

    stop(&mut appliance_server);
    stop(&mut hub_server);
    assert_eq!(digest(&appliance), digest(&hub));
}

#[test]
fn killing_serve_during_an_incoming_sync_loses_no_acknowledged_write() {
    let (dir, target) = new_folder();
    let source = dir.path().join("source");
    seed(&source, 3000, 0);
    enrol(&source, &target, None);
    let seed = tusach_tests::process::seed_from_env();
    println!(
        "seed {seed} (replay: TUSACH_SEED={seed} cargo test -p tusach-tests --test serve_owner killing)"
    );
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut acknowledged: Vec<String> = Vec::new();
    let mut cut_short = 0;
    let mut round = 0;
    while round < ROUNDS || (cut_short < CUTS_WANTED && round < MAX_ROUNDS) {
        // New single changes on the source each round, so every session has batches to send.
        let start = 10_000 + round * 1000;
        run_ok(
            &source,
            &[
                "dev",
                "seed",
                "--records",
                "1000",
                "--start",
                &start.to_string(),
                "--per-commit",
                "1",
                "--relaxed",
            ],
            Duration::from_secs(300),
        );
        let mut server = Server::start(target.clone(), &[], None);
        let addr = server.sync_addr();
        // The source dials the target's listener: an incoming sync for serve.
        let mut incoming = Command::new(tusach_binary())
            .arg("--data")
            .arg(&source)
            .args(["sync", "--peer", &addr, "--timeout-secs", "5"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the source's sync");
        // Librarians' writes meanwhile, each acknowledged by the console before the next.
        // A session here takes about a second.
        let kill_at = Instant::now() + Duration::from_millis(rng.u64(20..700));
        let mut n = 0;
        while Instant::now() < kill_at {
            let username = format!("nv{round}x{n}");
            let output = tusach_in(
                dir.path(),
                &target,
                &[
                    "staff",
                    "add",
                    "--username",
                    &username,
                    "--display-name",
                    "NV",
                ],
                "Mật khẩu đủ dài 2026\n",
            );
            if output.status.success() {
                acknowledged.push(username);
            }
            n += 1;
        }
        server.process.kill_hard();
        // The source's session fails when the kill cut it short.
        if !incoming.wait().expect("wait for the source").success() {
            cut_short += 1;
        }
        assert!(
            target.join("control.sock").exists(),
            "kill -9 leaves a stale socket for the next start to replace"
        );
        // The store opens, whole, with every acknowledged account.
        let listed = ok(&target, &["staff", "list"]);
        for username in &acknowledged {
            assert!(
                listed
                    .lines()
                    .any(|l| l.starts_with(&format!("{username}\t"))),
                "round {round}: acknowledged account {username} is gone after kill -9"
            );
        }
        digest(&target);
        round += 1;
    }
    println!(
        "{cut_short} of {round} kills cut an incoming session short; {} acknowledged writes",
        acknowledged.len()
    );
    assert!(
        cut_short >= CUTS_WANTED,
        "every session finished before its kill: the test did not exercise a crash during sync"
    );
    // Afterwards the two still converge, through a restarted serve that replaced the socket.
    let mut server = Server::start(target.clone(), &[], None);
    ok(&source, &["sync", "--peer", &server.sync_addr()]);
    assert!(
        ok(&target, &["id"]).len() > 30,
        "the console reaches the new serve"
    );
    stop(&mut server);
    assert_eq!(digest(&source), digest(&target));
}
