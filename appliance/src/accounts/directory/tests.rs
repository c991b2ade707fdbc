//! The staff directory on real stores: the first admin, logins, password changes, admin
//! actions closing sessions, damaged accounts, and two replicas that both made `admin`.

use std::time::Instant;

use tusach_sync::Store;

use super::*;
use crate::accounts::SessionToken;

struct Device {
    store: Store,
    staff: StaffDirectory,
    sessions: SessionBook,
    _dir: tempfile::TempDir,
}

fn device() -> Device {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("tusach.db")).expect("open");
    Device {
        store,
        staff: StaffDirectory::new("xa-nghi-phu").expect("library"),
        sessions: SessionBook::new(),
        _dir: dir,
    }
}

/// Both ways, everything: what a sync session does, without the wire.
fn merge(a: &mut Device, b: &mut Device) {
    send(&mut a.store, &mut b.store);
    send(&mut b.store, &mut a.store);
}

fn send(from: &mut Store, to: &mut Store) {
    let known = to.knowledge(|_| true).expect("knowledge");
    let mut plan = from.plan_for(&known, |_| true).expect("plan");
    while let Some(batch) = from.next_batch(&mut plan, 1 << 20).expect("batch") {
        to.apply_batch(&batch).expect("apply");
    }
}

const ADMIN_PASSWORD: &str = "quản trị 2026";

/// A device whose first admin has changed the one-time password to [`ADMIN_PASSWORD`].
fn device_with_admin() -> Device {
    let mut d = device();
    let one_time = d
        .staff
        .ensure_first_admin(&mut d.store)
        .expect("first admin")
        .expect("made");
    d.staff
        .change_password(
            &mut d.store,
            &mut d.sessions,
            FIRST_ADMIN,
            one_time.as_str(),
            ADMIN_PASSWORD,
        )
        .expect("change");
    d
}

fn add(d: &mut Device, username: &str, role: Role, password: &str) {
    d.staff
        .create(
            &mut d.store,
            FIRST_ADMIN,
            username,
            "Trần Thị Mai",
            role,
            password,
        )
        .expect("create");
}

fn login(d: &mut Device, username: &str, password: &str) -> Result<StaffUser, LoginError> {
    d.staff.verify_login(&mut d.store, username, password)
}

/// Logs in and opens a session, returning its token.
fn session(d: &mut Device, username: &str, password: &str) -> SessionToken {
    let user = login(d, username, password).expect("login");
    d.sessions.open(&user, Instant::now()).expect("open").0
}

fn live(d: &mut Device, token: &SessionToken) -> bool {
    d.sessions.lookup(token.as_str(), Instant::now()).is_some()
}

#[test]
fn the_first_admin_is_made_once_and_must_change_the_one_time_password() {
    let mut d = device();
    let one_time = d
        .staff
        .ensure_first_admin(&mut d.store)
        .expect("first admin")
        .expect("an empty library gets an admin");
    assert!(
        d.staff
            .ensure_first_admin(&mut d.store)
            .expect("again")
            .is_none()
    );

    let admin = login(&mut d, "admin", one_time.as_str()).expect("one-time password works");
    assert_eq!(admin.role, Role::Admin);
    assert!(admin.must_change_password);
    let (_, session) = d.sessions.open(&admin, Instant::now()).expect("open");
    assert!(session.must_change_password);

    // Until it is changed, the admin may not manage staff.
    let refused = d.staff.create(
        &mut d.store,
        "admin",
        "mai",
        "Mai",
        Role::Librarian,
        "mật khẩu mới",
    );
    assert!(matches!(
        refused,
        Err(CreateError::ActingAdmin(
            ActingAdminError::MustChangePasswordFirst(_)
        ))
    ));
    let same = d.staff.change_password(
        &mut d.store,
        &mut d.sessions,
        "admin",
        one_time.as_str(),
        one_time.as_str(),
    );
    assert!(matches!(same, Err(ChangePasswordError::SameAsCurrent)));

    let changed = d
        .staff
        .change_password(
            &mut d.store,
            &mut d.sessions,
            "admin",
            one_time.as_str(),
            ADMIN_PASSWORD,
        )
        .expect("change");
    assert!(!changed.must_change_password);
    assert!(
        !login(&mut d, "admin", ADMIN_PASSWORD)
            .expect("new")
            .must_change_password
    );
    assert!(login(&mut d, "admin", one_time.as_str()).is_err());

    // A restart (a new directory on the reopened store) makes nothing new.
    let path = d.store.path().to_owned();
    drop(d.store);
    let mut reopened = Store::open(&path).expect("reopen");
    let staff = StaffDirectory::new("xa-nghi-phu").expect("library");
    assert!(
        staff
            .ensure_first_admin(&mut reopened)
            .expect("restart")
            .is_none()
    );
    assert_eq!(staff.list(&mut reopened).expect("list").len(), 1);
}

#[test]
fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let mut d = device_with_admin();
    let unknown = login(&mut d, "nobody", ADMIN_PASSWORD).expect_err("unknown");
    let wrong = login(&mut d, "admin", "not the password").expect_err("wrong");
    let invalid = login(&mut d, "<script>", ADMIN_PASSWORD).expect_err("invalid name");
    for refusal in [&unknown, &wrong, &invalid] {
        assert!(matches!(refusal, LoginError::WrongUsernameOrPassword));
    }
    assert_eq!(unknown.to_string(), wrong.to_string());
    // The username is normalised before it is looked up.
    assert!(login(&mut d, "  ADMIN ", ADMIN_PASSWORD).is_ok());
}

#[test]
fn creating_staff_checks_names_passwords_and_who_asks() {
    let mut d = device_with_admin();
    let mai = d
        .staff
        .create(
            &mut d.store,
            "admin",
            " Mai.Tran ",
            " Trần Thị Mai ",
            Role::Librarian,
            "sách hay",
        )
        .expect("create");
    assert_eq!(mai.username.as_str(), "mai.tran");
    assert_eq!(mai.display_name, "Trần Thị Mai");
    assert!(login(&mut d, "mai.tran", "sách hay").is_ok());

    let mut create = |by: &str, username: &str, password: &str| {
        d.staff
            .create(&mut d.store, by, username, "Lan", Role::Librarian, password)
            .map(|_| ())
    };
    assert!(matches!(
        create("admin", "MAI.TRAN", "sách hay 2"),
        Err(CreateError::UsernameTaken(_))
    ));
    assert!(matches!(
        create("admin", "", "sách hay 2"),
        Err(CreateError::InvalidUsername(UsernameError::Length(0)))
    ));
    assert!(matches!(
        create("admin", "<script>", "sách hay 2"),
        Err(CreateError::InvalidUsername(UsernameError::Character('<')))
    ));
    assert!(matches!(
        create("admin", &"a".repeat(33), "sách hay 2"),
        Err(CreateError::InvalidUsername(UsernameError::Length(33)))
    ));
    assert!(matches!(
        create("admin", "lan", "sáchhay"),
        Err(CreateError::InvalidPassword(PasswordError::TooShort {
            chars: 7
        }))
    ));
    assert!(matches!(
        create("mai.tran", "lan", "sách hay 2"),
        Err(CreateError::ActingAdmin(ActingAdminError::NotAnAdmin(_)))
    ));
    assert!(matches!(
        create("ghost", "lan", "sách hay 2"),
        Err(CreateError::ActingAdmin(ActingAdminError::NotAnAdmin(_)))
    ));
    let names: Vec<String> = d
        .staff
        .list(&mut d.store)
        .expect("list")
        .into_iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["admin", "mai.tran"]);
}

#[test]
fn changing_a_password_closes_the_users_sessions() {
    let mut d = device_with_admin();
    add(&mut d, "mai", Role::Librarian, "mật khẩu cũ");
    let phone = session(&mut d, "mai", "mật khẩu cũ");
    let other = session(&mut d, "admin", ADMIN_PASSWORD);
    let wrong = d.staff.change_password(
        &mut d.store,
        &mut d.sessions,
        "mai",
        "sai rồi!",
        "mật khẩu mới",
    );
    assert!(matches!(
        wrong,
        Err(ChangePasswordError::CurrentPassword(
            LoginError::WrongUsernameOrPassword
        ))
    ));
    assert!(live(&mut d, &phone));
    d.staff
        .change_password(
            &mut d.store,
            &mut d.sessions,
            "mai",
            "mật khẩu cũ",
            "mật khẩu mới",
        )
        .expect("change");
    assert!(!live(&mut d, &phone));
    assert!(live(&mut d, &other));
    assert!(login(&mut d, "mai", "mật khẩu cũ").is_err());
    assert!(login(&mut d, "mai", "mật khẩu mới").is_ok());
}

#[test]
fn an_admin_reset_closes_sessions_and_forces_a_change() {
    let mut d = device_with_admin();
    add(&mut d, "mai", Role::Librarian, "mật khẩu cũ");
    add(&mut d, "lan", Role::Librarian, "mật khẩu lan");
    let phone = session(&mut d, "mai", "mật khẩu cũ");
    let refused = d
        .staff
        .reset_password(&mut d.store, &mut d.sessions, "lan", "mai", "tạm thời 1");
    assert!(matches!(
        refused,
        Err(AdminError::ActingAdmin(ActingAdminError::NotAnAdmin(_)))
    ));
    let unknown = d.staff.reset_password(
        &mut d.store,
        &mut d.sessions,
        "admin",
        "ghost",
        "tạm thời 1",
    );
    assert!(matches!(unknown, Err(AdminError::UnknownUser(_))));
    assert!(live(&mut d, &phone));

    d.staff
        .reset_password(&mut d.store, &mut d.sessions, "admin", "mai", "tạm thời 1")
        .expect("reset");
    assert!(!live(&mut d, &phone));
    assert!(login(&mut d, "mai", "mật khẩu cũ").is_err());
    assert!(
        login(&mut d, "mai", "tạm thời 1")
            .expect("login")
            .must_change_password
    );
}

#[test]
fn a_disabled_user_cannot_log_in_and_is_logged_out() {
    let mut d = device_with_admin();
    add(&mut d, "mai", Role::Librarian, "mật khẩu mai");
    let phone = session(&mut d, "mai", "mật khẩu mai");
    d.staff
        .disable(&mut d.store, &mut d.sessions, "admin", "mai")
        .expect("disable");
    assert!(!live(&mut d, &phone));
    assert!(matches!(
        login(&mut d, "mai", "mật khẩu mai"),
        Err(LoginError::Disabled(_))
    ));
    // A guesser does not learn that the account is disabled.
    assert!(matches!(
        login(&mut d, "mai", "đoán bừa đi"),
        Err(LoginError::WrongUsernameOrPassword)
    ));
    d.staff
        .enable(&mut d.store, "admin", "mai")
        .expect("enable");
    assert!(login(&mut d, "mai", "mật khẩu mai").is_ok());
}

#[test]
fn the_last_working_admin_cannot_be_demoted_or_disabled() {
    let mut d = device_with_admin();
    let admin = session(&mut d, "admin", ADMIN_PASSWORD);
    let demote = d.staff.set_role(
        &mut d.store,
        &mut d.sessions,
        "admin",
        "admin",
        Role::Librarian,
    );
    assert!(matches!(demote, Err(AdminError::LastAdmin(_))));
    let disable = d
        .staff
        .disable(&mut d.store, &mut d.sessions, "admin", "admin");
    assert!(matches!(disable, Err(AdminError::LastAdmin(_))));
    assert!(live(&mut d, &admin));

    add(&mut d, "lan", Role::Librarian, "mật khẩu lan");
    let lan = session(&mut d, "lan", "mật khẩu lan");
    d.staff
        .set_role(&mut d.store, &mut d.sessions, "admin", "lan", Role::Admin)
        .expect("promote");
    assert!(
        !live(&mut d, &lan),
        "the new role applies from the next login"
    );
    assert_eq!(
        login(&mut d, "lan", "mật khẩu lan").expect("login").role,
        Role::Admin
    );
    d.staff
        .set_role(
            &mut d.store,
            &mut d.sessions,
            "lan",
            "admin",
            Role::Librarian,
        )
        .expect("now there is another admin");
    assert!(!live(&mut d, &admin));
    assert_eq!(
        login(&mut d, "admin", ADMIN_PASSWORD).expect("login").role,
        Role::Librarian
    );
}

#[test]
fn the_staff_list_shows_no_hash() {
    let mut d = device_with_admin();
    add(&mut d, "mai", Role::Librarian, "mật khẩu mai");
    let list = d.staff.list(&mut d.store).expect("list");
    assert_eq!(list.len(), 2);
    assert!(!format!("{list:?}").contains("argon2"));
    assert_eq!(
        d.staff.get(&mut d.store, "MAI").expect("get"),
        Some(list[1].clone())
    );
    assert_eq!(d.staff.get(&mut d.store, "<bad>").expect("get"), None);
}

#[test]
fn a_login_can_read_under_the_store_lock_and_hash_outside_it() {
    let mut d = device_with_admin();
    let pending = d.staff.pending_login(&mut d.store, "admin").expect("read");
    drop(d.store);
    assert_eq!(
        pending
            .verify(ADMIN_PASSWORD)
            .expect("login")
            .username
            .as_str(),
        "admin"
    );
}

#[test]
fn damaged_accounts_refuse_logins_without_panicking_and_can_be_repaired() {
    let mut d = device_with_admin();
    let key = |name: &str| EntityKey::new(d.staff.scope(), STAFF, name);
    let (no_hash, bad_hash, odd_role, odd_types) = (
        key("no-hash"),
        key("bad-hash"),
        key("odd-role"),
        key("odd-types"),
    );
    let good_hash = d
        .store
        .get(&key("admin"))
        .expect("get")
        .and_then(|f| f.get(PASSWORD_HASH).cloned())
        .expect("hash");
    let mut batch = WriteBatch::new();
    batch.put(&no_hash, ROLE, "librarian");
    batch
        .put(&bad_hash, ROLE, "librarian")
        .put(&bad_hash, PASSWORD_HASH, "plain text");
    batch
        .put(&odd_role, ROLE, "superuser")
        .put(&odd_role, PASSWORD_HASH, good_hash);
    batch
        .put(&odd_types, ROLE, Value::Int(1))
        .put(&odd_types, PASSWORD_HASH, Value::Bytes(vec![1, 2]))
        .put(&odd_types, DISABLED, "no")
        .put(&odd_types, MUST_CHANGE_PASSWORD, Value::List(vec![]));
    batch.put(&key("Not A Username"), ROLE, "admin");
    d.store.commit(&batch).expect("commit");

    let damage = |d: &mut Device, name: &str| login(d, name, ADMIN_PASSWORD);
    assert!(matches!(
        damage(&mut d, "no-hash"),
        Err(LoginError::Damaged {
            damage: AccountDamage::MissingPasswordHash,
            ..
        })
    ));
    assert!(matches!(
        damage(&mut d, "bad-hash"),
        Err(LoginError::Damaged {
            damage: AccountDamage::UnreadablePasswordHash,
            ..
        })
    ));
    assert!(matches!(
        damage(&mut d, "odd-role"),
        Err(LoginError::Damaged {
            damage: AccountDamage::UnknownRole(_),
            ..
        })
    ));
    // A wrong password on an account with a working hash says only that.
    assert!(matches!(
        login(&mut d, "odd-role", "sai mật khẩu"),
        Err(LoginError::WrongUsernameOrPassword)
    ));
    assert!(matches!(
        damage(&mut d, "odd-types"),
        Err(LoginError::Damaged {
            damage: AccountDamage::MissingPasswordHash,
            ..
        })
    ));
    let odd = d
        .staff
        .get(&mut d.store, "odd-types")
        .expect("get")
        .expect("exists");
    assert!(
        odd.disabled && odd.must_change_password,
        "odd flags read the cautious way"
    );
    assert_eq!(odd.role, Role::Librarian);

    let listed: Vec<String> = d
        .staff
        .list(&mut d.store)
        .expect("list")
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(
        listed,
        ["admin", "bad-hash", "no-hash", "odd-role", "odd-types"]
    );

    d.staff
        .reset_password(
            &mut d.store,
            &mut d.sessions,
            "admin",
            "no-hash",
            "mới đặt lại",
        )
        .expect("reset");
    assert!(login(&mut d, "no-hash", "mới đặt lại").is_ok());
    d.staff
        .set_role(
            &mut d.store,
            &mut d.sessions,
            "admin",
            "odd-role",
            Role::Librarian,
        )
        .expect("set role");
    assert!(login(&mut d, "odd-role", ADMIN_PASSWORD).is_ok());
}

#[test]
fn two_replicas_that_both_made_admin_merge_into_one_that_logs_in() {
    let mut hub = device();
    let mut desk = device();
    let hub_password = hub
        .staff
        .ensure_first_admin(&mut hub.store)
        .expect("hub")
        .expect("made");
    let desk_password = desk
        .staff
        .ensure_first_admin(&mut desk.store)
        .expect("desk")
        .expect("made");
    merge(&mut hub, &mut desk);

    for d in [&mut hub, &mut desk] {
        let staff = d.staff.list(&mut d.store).expect("list");
        assert_eq!(staff.len(), 1);
        assert_eq!(staff[0].damage, None, "the winning creation reads whole");
        assert!(
            d.staff
                .ensure_first_admin(&mut d.store)
                .expect("again")
                .is_none()
        );
    }
    let works = |d: &mut Device, p: &OneTimePassword| login(d, "admin", p.as_str()).is_ok();
    let hub_works = works(&mut hub, &hub_password);
    let desk_works = works(&mut hub, &desk_password);
    assert!(
        hub_works != desk_works,
        "exactly one creation's password wins"
    );
    assert_eq!(
        works(&mut desk, &hub_password),
        hub_works,
        "both replicas agree"
    );

    // The admin changes it on one replica; after the next sync both accept the new one.
    let winner = if hub_works {
        &hub_password
    } else {
        &desk_password
    };
    desk.staff
        .change_password(
            &mut desk.store,
            &mut desk.sessions,
            "admin",
            winner.as_str(),
            ADMIN_PASSWORD,
        )
        .expect("change");
    merge(&mut hub, &mut desk);
    for d in [&mut hub, &mut desk] {
        let admin = login(d, "admin", ADMIN_PASSWORD).expect("login after merge");
        assert!(!admin.must_change_password);
    }
}

#[test]
fn a_change_made_at_another_desk_ends_sessions_here_once_it_syncs() {
    let mut hub = device_with_admin();
    add(&mut hub, "mai", Role::Librarian, "mật khẩu mai");
    add(&mut hub, "lan", Role::Librarian, "mật khẩu lan");
    let mut desk = device();
    merge(&mut hub, &mut desk);

    let current = |d: &mut Device, token: &SessionToken| {
        let session = d
            .sessions
            .lookup(token.as_str(), Instant::now())
            .expect("open here");
        d.staff
            .session_is_current(&mut d.store, &session)
            .expect("read")
    };
    let mai = session(&mut desk, "mai", "mật khẩu mai");
    let lan = session(&mut desk, "lan", "mật khẩu lan");
    assert!(current(&mut desk, &mai) && current(&mut desk, &lan));

    // On the hub: mai's password is reset, lan is disabled.
    hub.staff
        .reset_password(
            &mut hub.store,
            &mut hub.sessions,
            "admin",
            "mai",
            "đặt lại rồi",
        )
        .expect("reset");
    hub.staff
        .disable(&mut hub.store, &mut hub.sessions, "admin", "lan")
        .expect("disable");
    assert!(current(&mut desk, &mai), "the desk has not heard yet");
    merge(&mut hub, &mut desk);
    assert!(
        !current(&mut desk, &mai),
        "a password reset elsewhere ends it"
    );
    assert!(!current(&mut desk, &lan), "disabling elsewhere ends it");

    // A session opened after the change is current; a role change elsewhere ends it too.
    let mai = session(&mut desk, "mai", "đặt lại rồi");
    assert!(current(&mut desk, &mai));
    hub.staff
        .set_role(
            &mut hub.store,
            &mut hub.sessions,
            "admin",
            "mai",
            Role::Admin,
        )
        .expect("promote");
    merge(&mut hub, &mut desk);
    assert!(!current(&mut desk, &mai));
}

#[test]
fn the_first_admins_name_is_a_valid_username() {
    assert_eq!(
        Username::parse(FIRST_ADMIN).expect("valid"),
        Username::from_constant(FIRST_ADMIN)
    );
}
