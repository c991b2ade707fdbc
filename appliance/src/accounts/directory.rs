//! The staff of one library as entities of its scope (`library:<id>`, collection `staff`,
//! keyed by normalised username), and the [`StaffDirectory`] that creates them, checks their
//! passwords and lets admins manage them.
//!
//! Staff replicate to the library's hub and every desk like the rest of the library's data,
//! so a librarian can log in at any desk of her library with the same password.
//!
//! # Fields of a `staff` entity
//!
//! | field | value |
//! |---|---|
//! | `display_name` | text, NFC |
//! | `role` | `"admin"` or `"librarian"` |
//! | `password_hash` | argon2id PHC string (private to this module) |
//! | `must_change_password` | bool: set by the first-admin setup and by admin resets |
//! | `disabled` | bool; missing means false |
//!
//! # Two desks that create the same username while apart
//!
//! The store keeps both maps and reads the entity as their union: for each field, the value
//! of the map automerge picks as the winner (its own deterministic order of the two
//! creations, the same on every replica) is read if that map has the field, else the other
//! map's. Every creation here writes every field, so in practice one side's account wins as a
//! whole: its display name, role and password hash. The other side's password stops working
//! after the sync, including a first admin's one-time password printed on the other desk.
//! Later edits go into the winning map and so win. Whatever the merged state is, reading it
//! never panics: a missing or unreadable hash or an unknown role makes the account
//! [`AccountDamage`]d, which refuses logins with an error that says to reset it, and an admin's
//! [`StaffDirectory::reset_password`] or [`StaffDirectory::set_role`] repairs it.
//!
//! Deliberately not here: sessions ([`super::sessions`]), rate limiting
//! ([`super::limiter`]), and HTTP. Authorisation is checked here, against the store: every
//! admin action names the acting admin, who must be an enabled admin *now*, on this replica.

use std::fmt;

use sha2::{Digest, Sha256};
use tusach_sync::{Entity, EntityKey, Scope, Store, StoreError, Value, WriteBatch};

use super::password::{self, NewPassword, OneTimePassword, PasswordError, Verdict};
use super::sessions::{Session, SessionBook};
use super::username::{DisplayNameError, Username, UsernameError, normalise_display_name};

/// The collection of staff accounts within a library's scope.
pub const STAFF: &str = "staff";

/// The username and display name of the account [`StaffDirectory::ensure_first_admin`] makes.
pub const FIRST_ADMIN: &str = "admin";
const FIRST_ADMIN_DISPLAY_NAME: &str = "Quản trị viên";

const DISPLAY_NAME: &str = "display_name";
const ROLE: &str = "role";
const PASSWORD_HASH: &str = "password_hash";
const MUST_CHANGE_PASSWORD: &str = "must_change_password";
const DISABLED: &str = "disabled";

/// What a staff member may do. Admins manage staff; librarians run the desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Librarian,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Librarian => "librarian",
        }
    }

    /// Reads the stored spelling; `None` for anything else.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "librarian" => Some(Role::Librarian),
            _ => None,
        }
    }
}

/// Why a stored account cannot log in until an admin repairs it. Only merged or damaged data
/// gets here: every account this module writes is whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountDamage {
    /// No `password_hash` field: reset the password.
    MissingPasswordHash,
    /// A `password_hash` that is not an argon2id hash we will run: reset the password.
    UnreadablePasswordHash,
    /// A role this version does not know (perhaps written by a newer one): set the role.
    UnknownRole(String),
}

impl fmt::Display for AccountDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountDamage::MissingPasswordHash => f.write_str("it has no password"),
            AccountDamage::UnreadablePasswordHash => f.write_str("its password is unreadable"),
            AccountDamage::UnknownRole(role) => write!(f, "its role {role:?} is unknown"),
        }
    }
}

/// A staff member as the rest of the appliance sees them. The password hash is not here: it
/// never leaves this module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffUser {
    pub username: Username,
    pub display_name: String,
    /// The stored role; [`Role::Librarian`], the lesser one, when it is unknown (see `damage`).
    pub role: Role,
    /// The web layer lets this user do nothing but change the password until it is false.
    pub must_change_password: bool,
    pub disabled: bool,
    /// Set when the stored account cannot be used as it is; shown on the staff list so an
    /// admin can repair it.
    pub damage: Option<AccountDamage>,
    /// Which password this view was read with; sessions keep it to notice a later change.
    pub(super) credential: CredentialStamp,
}

/// A short digest of the stored password hash: it changes whenever the password does, on any
/// desk, so a session opened with the old one can be told apart once the change syncs here.
/// Not secret (it is a hash of a salted hash), but never shown: `Debug` hides it.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct CredentialStamp([u8; 16]);

impl CredentialStamp {
    fn of(password_hash: Option<&str>) -> CredentialStamp {
        let mut stamp = [0u8; 16];
        if let Some(hash) = password_hash {
            let digest = Sha256::digest(hash.as_bytes());
            for (to, from) in stamp.iter_mut().zip(digest.iter()) {
                *to = *from;
            }
        }
        CredentialStamp(stamp)
    }
}

impl fmt::Debug for CredentialStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialStamp(…)")
    }
}

impl StaffUser {
    /// An enabled, undamaged admin: one who may manage staff (once the password is changed).
    fn is_working_admin(&self) -> bool {
        self.role == Role::Admin && !self.disabled && self.damage.is_none()
    }
}

/// An account as stored: the public view plus the hash.
struct StaffRecord {
    user: StaffUser,
    password_hash: Option<String>,
}

/// Something under the accounts module failed: the store, the operating system's randomness or
/// the hasher. Nothing the user typed was wrong.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the operating system gave no randomness; try again: {0}")]
    Random(String),
    #[error("the password hasher failed: {0}")]
    Hasher(String),
}

impl BackendError {
    /// True when the same call will fail again.
    pub fn is_permanent(&self) -> bool {
        match self {
            BackendError::Store(e) => e.is_permanent(),
            BackendError::Random(_) => false,
            BackendError::Hasher(_) => true,
        }
    }
}

/// `library_id` cannot name a scope.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not a valid library id")]
pub struct InvalidLibrary(pub String);

/// Why a login was refused.
///
/// An unknown username and a wrong password give the same [`LoginError::WrongUsernameOrPassword`]
/// after the same amount of hashing, so neither the answer nor its timing tells a guesser
/// which usernames exist. `Disabled` and an unknown role are only told to someone who typed the
/// right password; an account whose hash is missing or unreadable cannot check a password, so
/// it says so to anyone (only a damaged merge makes one, and an admin should hear of it).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong username or password; check both and try again")]
    WrongUsernameOrPassword,
    #[error("account {0} is disabled; ask an admin of this library to enable it")]
    Disabled(Username),
    #[error("account {username} cannot log in because {damage}; ask an admin to repair it")]
    Damaged {
        username: Username,
        damage: AccountDamage,
    },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Why the acting user may not manage staff.
#[derive(Debug, thiserror::Error)]
pub enum ActingAdminError {
    #[error("only an enabled admin of this library may manage staff; {0:?} is not one")]
    NotAnAdmin(String),
    #[error("{0} must change their own password before managing staff")]
    MustChangePasswordFirst(Username),
}

/// Why a new staff account was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    ActingAdmin(#[from] ActingAdminError),
    #[error(transparent)]
    InvalidUsername(#[from] UsernameError),
    #[error(transparent)]
    InvalidDisplayName(#[from] DisplayNameError),
    #[error(transparent)]
    InvalidPassword(#[from] PasswordError),
    #[error("username {0} is taken; choose another")]
    UsernameTaken(Username),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Why a user's own password change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password (or the username) was wrong, or the account is disabled or
    /// damaged: the same answers as a login.
    #[error(transparent)]
    CurrentPassword(LoginError),
    #[error(transparent)]
    InvalidNewPassword(#[from] PasswordError),
    #[error("the new password must differ from the current one")]
    SameAsCurrent,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Why an admin's action on another account was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    ActingAdmin(#[from] ActingAdminError),
    #[error("no staff account is called {0:?}")]
    UnknownUser(String),
    #[error("{0} is the last working admin of this library; make another admin first")]
    LastAdmin(Username),
    #[error(transparent)]
    InvalidPassword(#[from] PasswordError),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> Self {
        LoginError::Backend(e.into())
    }
}
impl From<StoreError> for CreateError {
    fn from(e: StoreError) -> Self {
        CreateError::Backend(e.into())
    }
}
impl From<StoreError> for ChangePasswordError {
    fn from(e: StoreError) -> Self {
        ChangePasswordError::Backend(e.into())
    }
}
impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Backend(e.into())
    }
}

/// What the store knows about a username, read under the store lock, to check a password
/// against *outside* it: [`PendingLogin::verify`] runs argon2 (about 20 ms on the build machine,
/// a few hundred on a Pi 3), which should not keep the sync listener or other requests waiting.
pub struct PendingLogin {
    record: Option<StaffRecord>,
}

impl PendingLogin {
    /// Checks the password. Always runs argon2 exactly once, whether or not the user exists.
    pub fn verify(self, password: &str) -> Result<StaffUser, LoginError> {
        let Some(record) = self.record else {
            password::spend_one_verify(password);
            return Err(LoginError::WrongUsernameOrPassword);
        };
        let Some(stored) = record.password_hash.as_deref() else {
            password::spend_one_verify(password);
            return Err(damaged(record.user, AccountDamage::MissingPasswordHash));
        };
        match password::verify(password, stored) {
            Verdict::DoesNotMatch => Err(LoginError::WrongUsernameOrPassword),
            Verdict::UnreadableHash => {
                Err(damaged(record.user, AccountDamage::UnreadablePasswordHash))
            }
            Verdict::Matches => {
                let user = record.user;
                if user.disabled {
                    return Err(LoginError::Disabled(user.username));
                }
                if let Some(damage) = user.damage.clone() {
                    return Err(damaged(user, damage));
                }
                Ok(user)
            }
        }
    }
}

fn damaged(user: StaffUser, damage: AccountDamage) -> LoginError {
    LoginError::Damaged {
        username: user.username,
        damage,
    }
}

/// The staff accounts of one library: reads and writes `staff` entities in `library:<id>`.
///
/// Cheap to build and holds no state besides the scope, so a request handler may make one per
/// request or share one. Every method takes the store; those that lock someone out also take
/// the [`SessionBook`] and close that person's sessions on this appliance (sessions on other
/// desks end at their own timeouts, since sessions do not replicate).
///
/// Methods that hash (create, the password changes) hold the store for one or two argon2 runs;
/// they are rare admin actions. Logins can avoid it with [`StaffDirectory::pending_login`].
#[derive(Clone, Debug)]
pub struct StaffDirectory {
    scope: Scope,
}

impl StaffDirectory {
    pub fn new(library_id: &str) -> Result<StaffDirectory, InvalidLibrary> {
        let scope = Scope::new(format!("library:{library_id}"))
            .filter(|_| !library_id.is_empty())
            .ok_or_else(|| InvalidLibrary(library_id.to_owned()))?;
        Ok(StaffDirectory { scope })
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    fn key(&self, username: &Username) -> EntityKey {
        EntityKey::new(&self.scope, STAFF, username.as_str())
    }

    fn record(
        &self,
        store: &mut Store,
        username: &Username,
    ) -> Result<Option<StaffRecord>, StoreError> {
        Ok(store
            .get(&self.key(username))?
            .map(|fields| read_record(username.clone(), &fields)))
    }

    /// Makes the first admin if this library has no staff at all: user `admin`, who must
    /// change the returned one-time password at first login. `serve` prints the password on
    /// the console. Returns `None` once any staff account exists, so restarts change nothing.
    ///
    /// Two replicas of a library that both made an `admin` while apart keep one map's fields
    /// (see the module documentation), which could be the newer one's: so whether a desk may
    /// call this at all is decided by [`crate::joining`] (only when the library has no staff
    /// anywhere this device has heard of), and a desk that joins a library holds its own
    /// accounts back before its first sync ([`StaffDirectory::hold_back`]).
    pub fn ensure_first_admin(
        &self,
        store: &mut Store,
    ) -> Result<Option<OneTimePassword>, BackendError> {
        let mut any = false;
        store.scan(&self.scope, STAFF, |_, _| any = true)?;
        if any {
            return Ok(None);
        }
        let one_time = OneTimePassword::generate()?;
        let mut batch = WriteBatch::new();
        self.put_account(
            &mut batch,
            &Username::from_constant(FIRST_ADMIN),
            FIRST_ADMIN_DISPLAY_NAME,
            Role::Admin,
            &password::hash(&one_time.as_new_password())?,
            true,
        );
        store.commit(&batch)?;
        Ok(Some(one_time))
    }

    /// True when the library has any staff account on this replica.
    pub fn has_any(&self, store: &mut Store) -> Result<bool, StoreError> {
        let mut any = false;
        store.scan(&self.scope, STAFF, |_, _| any = true)?;
        Ok(any)
    }

    /// Holds back every account of this library on this replica: each is kept in a local,
    /// unreplicated setting and deleted from the store. A desk that is about to sync with its
    /// library for the first time does this, because an account it made before it had heard
    /// from its library (its own first admin, above all) was created apart from the library's
    /// account of the same name, and the merge could keep this desk's password over the
    /// library's. The deletion removes only this desk's creation; the library's stays whole.
    /// [`StaffDirectory::restore_held_back`] brings back, after that sync, those whose name
    /// the library does not use. Returns the usernames held back.
    pub fn hold_back(&self, store: &mut Store) -> Result<Vec<Username>, BackendError> {
        let mut held = Vec::new();
        store.scan(&self.scope, STAFF, |id, fields| {
            if let Some(username) = Username::from_trusted(id) {
                let record = read_record(username, fields);
                held.push((record.user, record.password_hash));
            }
        })?;
        // The settings first: a power cut between the two steps leaves the account in both
        // places, never in neither, and holding back again is harmless.
        for (user, password_hash) in &held {
            let line = [
                user.display_name.as_str(),
                user.role.as_str(),
                password_hash.as_deref().unwrap_or(""),
                if user.must_change_password { "1" } else { "0" },
                if user.disabled { "1" } else { "0" },
            ]
            .join("\t");
            crate::db::set_setting(
                store.connection(),
                &self.held_back_key(&user.username),
                &line,
            )
            .map_err(|e| BackendError::Store(e.into()))?;
        }
        let mut batch = WriteBatch::new();
        for (user, _) in &held {
            batch.delete(&self.key(&user.username));
        }
        if !batch.is_empty() {
            store.commit(&batch)?;
        }
        Ok(held.into_iter().map(|(user, _)| user.username).collect())
    }

    /// Brings back the accounts [`StaffDirectory::hold_back`] kept, once this desk has heard
    /// from its library: each whose username the library does not use is created again as it
    /// was (same password, so its sessions stay valid); one whose name the library has is
    /// dropped, since the library's account is the one its staff know.
    pub fn restore_held_back(&self, store: &mut Store) -> Result<HeldBack, BackendError> {
        let mut outcome = HeldBack::default();
        let prefix = self.held_back_key_prefix();
        let held = crate::db::settings_with_prefix(store.connection(), &prefix)
            .map_err(|e| BackendError::Store(e.into()))?;
        for (key, line) in held {
            let Some(username) = key.strip_prefix(&prefix).and_then(Username::from_trusted) else {
                continue;
            };
            let fields: Vec<&str> = line.split('\t').collect();
            if store.get(&self.key(&username))?.is_some() {
                outcome.taken.push(username.clone());
            } else if let [display_name, role, password_hash, must_change, disabled] =
                fields.as_slice()
            {
                let key = self.key(&username);
                let mut batch = WriteBatch::new();
                batch
                    .put(&key, DISPLAY_NAME, *display_name)
                    .put(&key, ROLE, *role)
                    .put(&key, MUST_CHANGE_PASSWORD, *must_change == "1")
                    .put(&key, DISABLED, *disabled == "1");
                if !password_hash.is_empty() {
                    batch.put(&key, PASSWORD_HASH, *password_hash);
                }
                store.commit(&batch)?;
                outcome.restored.push(username.clone());
            }
            crate::db::delete_setting(store.connection(), &key)
                .map_err(|e| BackendError::Store(e.into()))?;
        }
        Ok(outcome)
    }

    /// True when accounts are held back, waiting for [`StaffDirectory::restore_held_back`].
    pub fn has_held_back(&self, store: &Store) -> Result<bool, BackendError> {
        Ok(
            !crate::db::settings_with_prefix(store.connection(), &self.held_back_key_prefix())
                .map_err(|e| BackendError::Store(e.into()))?
                .is_empty(),
        )
    }

    fn held_back_key_prefix(&self) -> String {
        format!("held_back_staff:{}:", self.scope.as_str())
    }

    fn held_back_key(&self, username: &Username) -> String {
        format!("{}{}", self.held_back_key_prefix(), username.as_str())
    }

    fn put_account(
        &self,
        batch: &mut WriteBatch,
        username: &Username,
        display_name: &str,
        role: Role,
        password_hash: &str,
        must_change_password: bool,
    ) {
        let key = self.key(username);
        // `disabled` is written even though missing means false: after a concurrent creation
        // the winning map then holds every field, and its side's account reads whole.
        batch
            .put(&key, DISPLAY_NAME, display_name)
            .put(&key, ROLE, role.as_str())
            .put(&key, PASSWORD_HASH, password_hash)
            .put(&key, MUST_CHANGE_PASSWORD, must_change_password)
            .put(&key, DISABLED, false);
    }

    /// Creates a staff account with a password the admin chose. The new user logs in with it
    /// directly (no forced change: use [`StaffDirectory::reset_password`] for that).
    pub fn create(
        &self,
        store: &mut Store,
        by_admin: &str,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<StaffUser, CreateError> {
        self.acting_admin(store, by_admin)??;
        let username = Username::parse(username)?;
        let display_name = normalise_display_name(display_name)?;
        let password = NewPassword::check(password)?;
        if store.get(&self.key(&username))?.is_some() {
            return Err(CreateError::UsernameTaken(username));
        }
        let password_hash = password::hash(&password)?;
        let mut batch = WriteBatch::new();
        self.put_account(
            &mut batch,
            &username,
            &display_name,
            role,
            &password_hash,
            false,
        );
        store.commit(&batch)?;
        Ok(StaffUser {
            username,
            display_name,
            role,
            must_change_password: false,
            disabled: false,
            damage: None,
            credential: CredentialStamp::of(Some(&password_hash)),
        })
    }

    /// Reads what a login needs, without hashing: take the store lock for this, release it,
    /// then call [`PendingLogin::verify`]. Invalid usernames read as unknown ones.
    pub fn pending_login(
        &self,
        store: &mut Store,
        username: &str,
    ) -> Result<PendingLogin, BackendError> {
        let record = match Username::parse(username) {
            Ok(username) => self.record(store, &username)?,
            Err(_) => None,
        };
        Ok(PendingLogin { record })
    }

    /// Checks a login: the user, if the password is right and the account is enabled and
    /// whole. The caller opens a session, and sends a user with `must_change_password` to the
    /// password change page. Runs argon2 once while holding `store`; see
    /// [`StaffDirectory::pending_login`] to avoid that.
    pub fn verify_login(
        &self,
        store: &mut Store,
        username: &str,
        password: &str,
    ) -> Result<StaffUser, LoginError> {
        self.pending_login(store, username)?.verify(password)
    }

    /// A user changes their own password, giving the current one. Clears
    /// `must_change_password` and closes all of the user's sessions here; the caller opens a
    /// fresh one for the returned user.
    pub fn change_password(
        &self,
        store: &mut Store,
        sessions: &mut SessionBook,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<StaffUser, ChangePasswordError> {
        let new = NewPassword::check(new)?;
        let mut user = self
            .verify_login(store, username, current)
            .map_err(|e| match e {
                LoginError::Backend(e) => ChangePasswordError::Backend(e),
                other => ChangePasswordError::CurrentPassword(other),
            })?;
        if NewPassword::check(current).is_ok_and(|c| c.as_str() == new.as_str()) {
            return Err(ChangePasswordError::SameAsCurrent);
        }
        let key = self.key(&user.username);
        let password_hash = password::hash(&new)?;
        let mut batch = WriteBatch::new();
        batch.put(&key, PASSWORD_HASH, password_hash.as_str()).put(
            &key,
            MUST_CHANGE_PASSWORD,
            false,
        );
        store.commit(&batch)?;
        sessions.close_all_for(&user.username);
        user.must_change_password = false;
        // A session opened for the returned user must match the new hash, or the very next
        // request would find it stale.
        user.credential = CredentialStamp::of(Some(&password_hash));
        Ok(user)
    }

    /// An admin sets another user's password (someone forgot theirs, or the account is
    /// damaged). The user must change it at next login; their sessions here are closed.
    pub fn reset_password(
        &self,
        store: &mut Store,
        sessions: &mut SessionBook,
        by_admin: &str,
        target: &str,
        new: &str,
    ) -> Result<(), AdminError> {
        self.acting_admin(store, by_admin)??;
        let target = self.existing(store, target)?;
        let new = NewPassword::check(new)?;
        let key = self.key(&target.username);
        let mut batch = WriteBatch::new();
        batch
            .put(&key, PASSWORD_HASH, password::hash(&new)?)
            .put(&key, MUST_CHANGE_PASSWORD, true);
        store.commit(&batch)?;
        sessions.close_all_for(&target.username);
        Ok(())
    }

    /// An admin changes a user's role. Refused when it would leave no working admin on this
    /// replica. The user's sessions here are closed, so the new role applies at next login.
    pub fn set_role(
        &self,
        store: &mut Store,
        sessions: &mut SessionBook,
        by_admin: &str,
        target: &str,
        role: Role,
    ) -> Result<(), AdminError> {
        self.acting_admin(store, by_admin)??;
        let target = self.existing(store, target)?;
        if role != Role::Admin {
            self.refuse_removing_last_admin(store, &target)?;
        }
        let mut batch = WriteBatch::new();
        batch.put(&self.key(&target.username), ROLE, role.as_str());
        store.commit(&batch)?;
        sessions.close_all_for(&target.username);
        Ok(())
    }

    /// An admin disables a user: no more logins, and their sessions here are closed. Refused
    /// for the last working admin on this replica.
    pub fn disable(
        &self,
        store: &mut Store,
        sessions: &mut SessionBook,
        by_admin: &str,
        target: &str,
    ) -> Result<(), AdminError> {
        self.acting_admin(store, by_admin)??;
        let target = self.existing(store, target)?;
        self.refuse_removing_last_admin(store, &target)?;
        let mut batch = WriteBatch::new();
        batch.put(&self.key(&target.username), DISABLED, true);
        store.commit(&batch)?;
        sessions.close_all_for(&target.username);
        Ok(())
    }

    /// An admin enables a disabled user again, with the password they had.
    pub fn enable(
        &self,
        store: &mut Store,
        by_admin: &str,
        target: &str,
    ) -> Result<(), AdminError> {
        self.acting_admin(store, by_admin)??;
        let target = self.existing(store, target)?;
        let mut batch = WriteBatch::new();
        batch.put(&self.key(&target.username), DISABLED, false);
        store.commit(&batch)?;
        Ok(())
    }

    /// One staff member, or `None` (also for a username that is not valid).
    pub fn get(
        &self,
        store: &mut Store,
        username: &str,
    ) -> Result<Option<StaffUser>, BackendError> {
        let Ok(username) = Username::parse(username) else {
            return Ok(None);
        };
        Ok(self.record(store, &username)?.map(|r| r.user))
    }

    /// Every staff account of the library, by username, damaged ones included (so an admin
    /// sees them and repairs them).
    pub fn list(&self, store: &mut Store) -> Result<Vec<StaffUser>, BackendError> {
        let mut users = Vec::new();
        store.scan(&self.scope, STAFF, |id, fields| {
            // An id that is not a valid username was not written by this module; skip it
            // rather than show an account nobody can name.
            if let Some(username) = Username::from_trusted(id) {
                users.push(read_record(username, fields).user);
            }
        })?;
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    /// Whether a session still stands for the account as stored now: the user exists, is
    /// enabled and whole, has the session's role, and has not changed password since the
    /// session opened. Call it on each staff request (one read of a cached shard, no hashing)
    /// and close the session when it is false: sessions do not replicate, so this is how a
    /// password change, reset, demotion or disabling made at *another* desk ends the
    /// sessions here, as soon as the sync brings it.
    pub fn session_is_current(
        &self,
        store: &mut Store,
        session: &Session,
    ) -> Result<bool, BackendError> {
        let Some(record) = self.record(store, &session.username)? else {
            return Ok(false);
        };
        let user = record.user;
        Ok(!user.disabled
            && user.damage.is_none()
            && user.role == session.role
            && user.credential == session.credential())
    }

    /// Creates or replaces an account from the appliance's own console (`tusach staff add`):
    /// whoever can run commands on the appliance holds its data folder already, so no acting
    /// admin is asked for. This is also the way back in when every admin password is lost.
    pub fn set_from_console(
        &self,
        store: &mut Store,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
        must_change_password: bool,
    ) -> Result<StaffUser, CreateError> {
        let username = Username::parse(username)?;
        let display_name = normalise_display_name(display_name)?;
        let password = NewPassword::check(password)?;
        let password_hash = password::hash(&password)?;
        let mut batch = WriteBatch::new();
        self.put_account(
            &mut batch,
            &username,
            &display_name,
            role,
            &password_hash,
            must_change_password,
        );
        store.commit(&batch)?;
        Ok(StaffUser {
            username,
            display_name,
            role,
            must_change_password,
            disabled: false,
            damage: None,
            credential: CredentialStamp::of(Some(&password_hash)),
        })
    }

    /// Gives an account a fresh one-time password from the console (`tusach staff
    /// reset-password`), enabled, to be changed at the next login.
    pub fn reset_from_console(
        &self,
        store: &mut Store,
        username: &str,
    ) -> Result<OneTimePassword, AdminError> {
        let user = self.existing(store, username)?;
        let one_time = OneTimePassword::generate()?;
        let mut batch = WriteBatch::new();
        self.put_account(
            &mut batch,
            &user.username,
            &user.display_name,
            user.role,
            &password::hash(&one_time.as_new_password())?,
            true,
        );
        store.commit(&batch)?;
        Ok(one_time)
    }

    /// The acting admin, if `by_admin` is an enabled, whole admin who has changed their
    /// one-time or reset password. Read from the store on every action, so an admin disabled
    /// or demoted on another desk loses the right as soon as that change arrives here.
    fn acting_admin(
        &self,
        store: &mut Store,
        by_admin: &str,
    ) -> Result<Result<StaffUser, ActingAdminError>, StoreError> {
        let not_admin = || ActingAdminError::NotAnAdmin(by_admin.to_owned());
        let Ok(username) = Username::parse(by_admin) else {
            return Ok(Err(not_admin()));
        };
        let user = self.record(store, &username)?.map(|r| r.user);
        Ok(match user {
            Some(user) if user.is_working_admin() && user.must_change_password => {
                Err(ActingAdminError::MustChangePasswordFirst(user.username))
            }
            Some(user) if user.is_working_admin() => Ok(user),
            _ => Err(not_admin()),
        })
    }

    fn existing(&self, store: &mut Store, target: &str) -> Result<StaffUser, AdminError> {
        let unknown = || AdminError::UnknownUser(target.to_owned());
        let username = Username::parse(target).map_err(|_| unknown())?;
        self.record(store, &username)?
            .map(|r| r.user)
            .ok_or_else(unknown)
    }

    fn refuse_removing_last_admin(
        &self,
        store: &mut Store,
        target: &StaffUser,
    ) -> Result<(), AdminError> {
        if !target.is_working_admin() {
            return Ok(());
        }
        let others = self
            .list(store)?
            .into_iter()
            .any(|u| u.is_working_admin() && u.username != target.username);
        if others {
            Ok(())
        } else {
            Err(AdminError::LastAdmin(target.username.clone()))
        }
    }
}

/// What [`StaffDirectory::restore_held_back`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HeldBack {
    /// Accounts created again: the library had none of that name.
    pub restored: Vec<Username>,
    /// Accounts dropped: the library has its own of that name.
    pub taken: Vec<Username>,
}

/// Reads a stored account leniently: a merge or a newer version may have left any field
/// missing or of another type, and that must make the account unusable, never panic.
fn read_record(username: Username, fields: &Entity) -> StaffRecord {
    let text = |name: &str| fields.get(name).and_then(Value::as_str);
    // Anything but a clear "false" counts as true for these two: the cautious reading.
    let flag = |name: &str| {
        !matches!(
            fields.get(name),
            None | Some(Value::Null | Value::Bool(false))
        )
    };
    let password_hash = text(PASSWORD_HASH).map(str::to_owned);
    let stored_role = text(ROLE).unwrap_or("");
    let role = Role::parse(stored_role);
    let damage = match (&password_hash, role) {
        (None, _) => Some(AccountDamage::MissingPasswordHash),
        (Some(hash), _) if !password::is_readable(hash) => {
            Some(AccountDamage::UnreadablePasswordHash)
        }
        (_, None) => Some(AccountDamage::UnknownRole(stored_role.to_owned())),
        _ => None,
    };
    let display_name = text(DISPLAY_NAME)
        .map(str::to_owned)
        .unwrap_or_else(|| username.as_str().to_owned());
    StaffRecord {
        user: StaffUser {
            username,
            display_name,
            role: role.unwrap_or(Role::Librarian),
            must_change_password: flag(MUST_CHANGE_PASSWORD),
            disabled: flag(DISABLED),
            damage,
            credential: CredentialStamp::of(password_hash.as_deref()),
        },
        password_hash,
    }
}

#[cfg(test)]
mod tests;
