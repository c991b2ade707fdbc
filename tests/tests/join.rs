//! A second desk joining an existing library, with real `tusach serve` processes: the district
//! hub, the library's first desk with its admin and name, and newcomers that join it the
//! README's way (`network join` on an empty folder, then `serve`) and the old way that took the
//! library over (`serve --library ID` on an empty folder, then `network join` through it).
//! Whatever the newcomer does, the library keeps its admin's password and its name at every
//! desk, and no competing first admin appears. Also: the Pi card's placeholder id is refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tusach_tests::cli::{device_id, ok};
use tusach_tests::process::Tusach;
use tusach_tests::web::{STAFF_PASSWORD, Server};

const LIBRARY: &str = "xa-nghi-phu";
const NAME: &str = "Thư viện xã Nghi Phú";

/// The hub (served, holding the network's root) and the library's first desk, whose admin has
/// replaced the one-time password with [`STAFF_PASSWORD`] and synced with the hub.
struct Library {
    dir: tempfile::TempDir,
    hub: Server,
    first: Server,
}

impl Library {
    fn new() -> Library {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub_data = dir.path().join("hub");
        ok(&hub_data, &["network", "init", "--name", "Huyện Nghi Lộc"]);
        let hub = Server::start(hub_data, &[], None);
        let first_data = dir.path().join("first");
        join(&first_data, &hub);
        let first = Server::start(
            first_data,
            &["--library", LIBRARY, "--library-name", NAME],
            None,
        );
        assert!(
            first.one_time_password().is_some(),
            "the library's first desk makes its first admin: {:?}",
            first.startup
        );
        first.staff_client();
        ok(&first.data, &["sync", "--peer", &hub.sync_addr()]);
        Library { dir, hub, first }
    }

    fn folder(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Brings the newcomer's writes to the first desk through the hub.
    fn sync_through_hub(&self, newcomer: &Path) {
        ok(newcomer, &["sync", "--peer", &self.hub.sync_addr()]);
        ok(&self.first.data, &["sync", "--peer", &self.hub.sync_addr()]);
    }
}

/// `tusach network join` with a fresh code the hub made for [`LIBRARY`]; returns what it printed.
fn join(desk: &Path, hub: &Server) -> String {
    let made = ok(&hub.data, &["network", "code", "--library", LIBRARY]);
    let code = made
        .split_whitespace()
        .find(|w| w.len() == 14 && w.matches('-').count() == 2)
        .unwrap_or_else(|| panic!("no code in {made:?}"))
        .to_owned();
    ok(
        desk,
        &[
            "network",
            "join",
            "--hub",
            &hub.sync_addr(),
            "--code",
            &code,
        ],
    )
}

fn logs_in(server: &Server, password: &str) -> bool {
    server.client().login("admin", password).status == 303
}

/// The library id and name a running serve says it serves.
fn served(server: &Server) -> (String, String) {
    let health = server.client().get("/healthz").json();
    (
        health["library"].as_str().unwrap_or_default().to_owned(),
        health["library_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn staff_list(data: &Path) -> Vec<String> {
    ok(data, &["staff", "list"])
        .lines()
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

/// What the whole library must look like after a newcomer came: one admin, whose password
/// works at the first desk and at the newcomer, and the name the first desk gave.
fn assert_library_kept(library: &mut Library, newcomer: &Server) {
    assert!(
        logs_in(newcomer, STAFF_PASSWORD),
        "the library's admin logs in at the newcomer"
    );
    assert!(
        logs_in(&library.first, STAFF_PASSWORD),
        "the library's admin still logs in at the first desk"
    );
    assert_eq!(staff_list(&newcomer.data), ["admin"], "no new account");
    assert_eq!(staff_list(&library.first.data), ["admin"], "no new account");
    assert_eq!(served(newcomer), (LIBRARY.to_owned(), NAME.to_owned()));
    // The first desk shows its name as read at start: restart it to read the merged one.
    let data = library.first.data.clone();
    assert!(library.first.process.terminate(Duration::from_secs(30)));
    library.first = Server::start(data, &[], None);
    assert_eq!(
        served(&library.first),
        (LIBRARY.to_owned(), NAME.to_owned()),
        "the library's name is unchanged at the first desk"
    );
}

/// The README's way: `network join` on an empty folder, then `serve` with no `--library`. The
/// desk serves the library of its code, with the library's name, admin and password, and
/// prints no one-time password.
#[test]
fn a_second_desk_joins_with_a_code_and_keeps_the_librarys_admin_and_name() {
    let mut library = Library::new();
    let data = library.folder("second");
    let joined = join(&data, &library.hub);
    let second = Server::start(data.clone(), &[], None);
    assert_eq!(
        second.one_time_password(),
        None,
        "no competing first admin: {:?}",
        second.startup
    );
    library.sync_through_hub(&data);
    assert_library_kept(&mut library, &second);
    assert!(
        joined.contains(&format!("this desk serves library {LIBRARY} ({NAME})")),
        "{joined}"
    );
}

/// The way that took the library over: `serve --library ID` on an empty folder (a standalone
/// first desk, with its own one-time password), then `network join` through the running serve.
/// The newcomer's own admin (untouched, or with its password changed as on a Pi before anyone
/// reaches the join form) gives way to the library's. Two newcomers, one whose device id sorts
/// after the first desk's and one before: automerge keeps one of two concurrent creations by
/// the order of their actors, so before the fix one of the two took the library over.
#[test]
fn serving_first_then_joining_no_longer_takes_the_library_over() {
    let mut library = Library::new();
    let first_id = device_id(&library.first.data);
    let mut after = None;
    let mut before = None;
    for attempt in 0..40 {
        let data = library.folder(&format!("newcomer-{attempt}"));
        let id = device_id(&data);
        if id > first_id && after.is_none() {
            after = Some(data);
        } else if id < first_id && before.is_none() {
            before = Some(data);
        }
        if after.is_some() && before.is_some() {
            break;
        }
    }
    for (used, data) in [(false, after), (true, before)] {
        let data = data.expect("a device id on that side of the first desk's");
        let newcomer = Server::start(data.clone(), &["--library", LIBRARY], None);
        let mut own = newcomer
            .one_time_password()
            .expect("a standalone desk makes its own first admin");
        if used {
            // As on a Pi: its admin logs in and changes the password to reach the join form.
            let changed = change_password(&newcomer, &own, "mật khẩu của bàn mới");
            own = changed;
        }
        let joined = join(&data, &library.hub);
        library.sync_through_hub(&data);
        assert!(
            !logs_in(&newcomer, &own),
            "the newcomer's own password no longer works"
        );
        assert!(
            !logs_in(&library.first, &own),
            "the newcomer's own password does not work at the first desk"
        );
        // Its name is read at start: restart it to read the library's.
        let mut newcomer = newcomer;
        assert!(newcomer.process.terminate(Duration::from_secs(30)));
        let newcomer = Server::start(data, &[], None);
        assert_library_kept(&mut library, &newcomer);
        assert!(
            joined.contains("this desk's own accounts (admin) were held back"),
            "{joined}"
        );
    }
}

/// Logs in with `current` and changes it to `new`; returns `new`.
fn change_password(server: &Server, current: &str, new: &str) -> String {
    let mut client = server.client();
    assert_eq!(client.login("admin", current).status, 303);
    let changed = client.post_form(
        "/staff/password",
        &[("current", current), ("new", new), ("repeat", new)],
    );
    assert_eq!(changed.status, 303, "password change: {}", changed.body);
    new.to_owned()
}

/// The Pi card's placeholder id: serve refuses it, says what to do in both languages, and
/// leaves no library behind.
#[test]
fn the_placeholder_library_id_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("pi");
    let mut serve = Tusach::spawn(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sync-listen",
            "127.0.0.1:0",
            "--library",
            "doi-ten-thu-vien",
            "--library-name",
            "Thư viện xã",
        ],
    );
    let Some(status) = serve.wait_timeout(Duration::from_secs(60)) else {
        serve.kill_hard();
        panic!(
            "serve started with the placeholder id\n{}",
            serve.diagnostics()
        );
    };
    assert!(!status.success(), "serve must not start");
    // Its stderr is read on a thread: wait for the message's last words.
    assert!(
        serve.wait_for_stderr("e.g. xa-nghi-phu", Duration::from_secs(10)),
        "{}",
        serve.stderr()
    );
    let stderr = serve.stderr();
    assert!(stderr.contains("TUSACH_LIBRARY_ID"), "{stderr}");
    assert!(stderr.contains("mã mẫu"), "Vietnamese: {stderr}");
    assert!(stderr.contains("placeholder"), "English: {stderr}");
    assert!(
        serve.stdout_lines().is_empty(),
        "no first admin, nothing served"
    );
}
