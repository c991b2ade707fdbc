//! Staff accounts over HTTP, against a real `tusach serve`: the first admin's one-time
//! password, the forced password change, cookies, CSRF, rate limiting, logout, and the
//! console's `tusach staff` commands.

use std::time::Duration;

use tusach_tests::process::run_ok;
use tusach_tests::web::{STAFF_PASSWORD, Server};

#[test]
fn the_first_admin_logs_in_once_with_the_printed_password_and_must_change_it() {
    let server = Server::with_records(50);
    let one_time = server
        .one_time_password()
        .expect("a one-time password on the console");
    assert_eq!(one_time.len(), 19, "{one_time}");

    // Staff pages and the API are closed without a session.
    let mut anonymous = server.client();
    let page = anonymous.get("/staff/accounts");
    assert_eq!(page.status, 303);
    assert!(
        page.header("location")
            .unwrap_or_default()
            .starts_with("/staff/login")
    );
    assert_eq!(anonymous.get("/api/session").status, 401);

    let mut browser = server.client();
    let wrong = browser.login("admin", "not the password");
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(
        wrong.body.contains("Sai tên đăng nhập hoặc mật khẩu"),
        "{}",
        wrong.body
    );
    let unknown = browser.login("nobody", "not the password");
    assert_eq!(unknown.status, 401);
    assert!(unknown.body.contains("Sai tên đăng nhập hoặc mật khẩu"));

    let first = browser.login("admin", &one_time);
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(first.header("location").as_deref(), Some("/staff/password"));
    let cookie = first.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    // With a one-time password, only the password page opens.
    let desk = browser.get("/staff/accounts");
    assert_eq!(desk.status, 303);
    assert_eq!(desk.header("location").as_deref(), Some("/staff/password"));

    // A change without the CSRF token is refused and changes nothing.
    let csrf = std::mem::take(&mut browser.csrf);
    let forged = browser.post_form(
        "/staff/password",
        &[
            ("current", &one_time),
            ("new", STAFF_PASSWORD),
            ("repeat", STAFF_PASSWORD),
        ],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    browser.csrf = csrf;
    let mismatch = browser.post_form(
        "/staff/password",
        &[
            ("current", &one_time),
            ("new", STAFF_PASSWORD),
            ("repeat", "something else"),
        ],
    );
    assert_eq!(mismatch.status, 400);
    assert!(
        mismatch.body.contains("không giống nhau"),
        "{}",
        mismatch.body
    );
    let short = browser.post_form(
        "/staff/password",
        &[("current", &one_time), ("new", "ngắn"), ("repeat", "ngắn")],
    );
    assert_eq!(short.status, 400);
    assert!(short.body.contains("ít nhất 8 ký tự"), "{}", short.body);

    let staff = server.staff_client();
    let accounts = staff.clone().get("/staff/accounts");
    assert_eq!(accounts.status, 200, "{}", accounts.body);
    assert!(accounts.body.contains("admin"));
    // The one-time password no longer works; the old browser's session ended with it.
    assert_eq!(server.client().login("admin", &one_time).status, 401);
    assert_eq!(browser.get("/api/session").status, 401);

    // Logging out ends the session.
    let mut staff = staff;
    let out = staff.post_form("/staff/logout", &[]);
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(staff.get("/api/session").status, 401);
}

#[test]
fn admins_add_librarians_and_guessing_is_slowed_down() {
    let server = Server::with_records(50);
    let mut admin = server.staff_client();
    for (fields, status, message) in [
        (
            vec![
                ("username", "mai"),
                ("display_name", "<script>x</script>"),
                ("role", "librarian"),
                ("password", "mật khẩu của Mai"),
            ],
            400,
            "không được chứa",
        ),
        (
            vec![
                ("username", "Mai Trần"),
                ("display_name", "Trần Thị Mai"),
                ("role", "librarian"),
                ("password", "mật khẩu của Mai"),
            ],
            400,
            "Tên đăng nhập chỉ dùng",
        ),
        (
            vec![
                ("username", "mai"),
                ("display_name", "Trần Thị Mai"),
                ("role", "boss"),
                ("password", "mật khẩu của Mai"),
            ],
            400,
            "Vai trò không hợp lệ",
        ),
        (vec![("username", "mai")], 400, "Thiếu họ tên"),
    ] {
        let refused = admin.post_form("/staff/accounts", &fields);
        assert_eq!(refused.status, status, "{fields:?}: {}", refused.body);
        assert!(
            refused.body.contains(message),
            "{fields:?}: {}",
            refused.body
        );
    }
    let created = admin.post_form(
        "/staff/accounts",
        &[
            ("username", "mai"),
            ("display_name", "Trần Thị Mai"),
            ("role", "librarian"),
            ("password", "mật khẩu của Mai"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let taken = admin.post_form(
        "/staff/accounts",
        &[
            ("username", "MAI"),
            ("display_name", "Ai đó"),
            ("role", "librarian"),
            ("password", "mật khẩu khác nữa"),
        ],
    );
    assert_eq!(taken.status, 409, "{}", taken.body);

    // Mai logs in with the password the admin chose and must change it.
    let mut mai = server.client();
    let login = mai.login("mai", "mật khẩu của Mai");
    assert_eq!(login.header("location").as_deref(), Some("/staff/password"));
    // A librarian may not manage staff.
    let changed = mai.post_form(
        "/staff/password",
        &[
            ("current", "mật khẩu của Mai"),
            ("new", "Mai đọc sách 2026"),
            ("repeat", "Mai đọc sách 2026"),
        ],
    );
    assert_eq!(changed.status, 303, "{}", changed.body);
    mai.csrf = mai.get("/api/session").json()["csrf"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(mai.get("/staff/accounts").status, 403);

    // Five wrong passwords in a row (from this address, which already had one failure when
    // the test's admin first tried its password) lock logins for a while, even the right one.
    let mut guesser = server.client();
    let statuses: Vec<u16> = (0..5)
        .map(|_| guesser.login("mai", "đoán mò mãi thôi").status)
        .collect();
    assert_eq!(statuses[..4], [401, 401, 401, 401], "{statuses:?}");
    let locked = guesser.login("mai", "Mai đọc sách 2026");
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("giây"), "{}", locked.body);
}

#[test]
fn the_console_adds_accounts_and_resets_a_lost_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(data.clone(), &[], None);
    drop(server);
    let listed = run_ok(&data, &["staff", "list"], Duration::from_secs(60));
    assert!(
        listed.stdout.iter().any(|l| l.starts_with("admin")),
        "{:?}",
        listed.stdout
    );
    let reset = run_ok(
        &data,
        &["staff", "reset-password", "admin"],
        Duration::from_secs(60),
    );
    let one_time = reset
        .stdout
        .iter()
        .find_map(|l| l.split("one-time password for admin: ").nth(1))
        .expect("a new one-time password")
        .trim()
        .to_owned();
    let server = Server::start(data, &[], Some(dir));
    assert_eq!(server.one_time_password(), None, "no second first admin");
    let login = server.client().login("admin", &one_time);
    assert_eq!(login.status, 303, "{}", login.body);
    assert_eq!(login.header("location").as_deref(), Some("/staff/password"));
}
