//! Who may sync: the network's root key, membership certificates, enrolment with one-time
//! codes, revocations, and the record of refused attempts.
//!
//! - [`cert`]: certificate and chain bytes, signing and checking one signature.
//! - [`verify`]: walking a chain to the root; the [`Membership`] it proves.
//! - [`revocation`]: signed revocations, replicated as data.
//! - [`enrol`]: one-time codes and the proofs bound to a handshake.
//!
//! This module also keeps a device's own trust state in the store's local tables (SQL in
//! `store/db.rs`) and publishes certificates and revocations as entities of the network scope,
//! so every member learns them like any other data. It knows keys, scopes and labels; what a
//! label or scope means (a library) is the caller's business.

pub mod cert;
pub mod enrol;
pub mod revocation;
pub mod verify;

use std::collections::HashSet;

use ed25519_dalek::SigningKey;

pub use cert::{Certificate, CertificateRequest, Chain, MemberRole};
pub use enrol::EnrolmentCode;
pub use revocation::{REVOCATIONS, Revocation};
pub use verify::{Membership, TrustAnchor, TrustError};

use crate::identity::DeviceId;
use crate::protocol::policy::ScopeSet;
use crate::protocol::secure::{LinkTrust, SecureError};
use crate::protocol::wire::{Reader, WireError, put_str};
use crate::store::{EntityKey, Scope, Store, StoreError, Value, WriteBatch, db};

/// The scope every member holds: the union catalogue and the network's own documents.
pub const NETWORK_SCOPE: &str = "network";
/// The network-scope collection where each member's certificate chain is published.
pub const CERTIFICATES: &str = "trust.certificates";
/// How long a code stays usable.
pub const CODE_LIFETIME_SECS: u64 = 15 * 60;
/// Wrong proofs after which every pending code stops working.
pub const CODE_MAX_FAILURES: i64 = 5;
/// The first hub's certificate, made by `network init`, lasts this long.
const ROOT_HUB_DAYS: u64 = 20 * 365;

const ROOT_KEY: &str = "network_root";
const ROOT_SECRET: &str = "root_secret";
const NETWORK_NAME: &str = "network_name";
const CHAIN: &str = "chain";

fn network_scope() -> Scope {
    Scope::new(NETWORK_SCOPE).unwrap_or_else(|| unreachable!("'network' is a valid scope name"))
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(
        "this device already belongs to a network ({0}); a second `network init` would split it"
    )]
    AlreadyInNetwork(String),
    #[error("this device is not enrolled in a network")]
    NotEnrolled,
    #[error("only a hub can do this; this device is enrolled as {0}")]
    NotHub(&'static str),
    #[error("a hub cannot hand out scopes it does not hold: {0}")]
    ScopeNotHeld(String),
    #[error("{0} is not a valid scope name")]
    InvalidScope(String),
    #[error("no device {0} is known in this network")]
    UnknownDevice(String),
    #[error("the operating system gave no randomness: {0}")]
    Random(String),
    #[error("stored trust data is damaged: {0}")]
    Damaged(#[from] WireError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for NetworkError {
    fn from(e: rusqlite::Error) -> NetworkError {
        NetworkError::Store(StoreError::Sqlite(e))
    }
}

/// What an enrolment gives the new device: the network it joined and its certificate chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub root: [u8; 32],
    pub network: String,
    pub chain: Chain,
}

impl Grant {
    /// `root 32 | network name str | chain`
    pub fn body(&self) -> Vec<u8> {
        let mut out = self.root.to_vec();
        put_str(&mut out, &self.network);
        out.extend_from_slice(&self.chain.to_bytes());
        out
    }

    pub fn from_body(body: &[u8]) -> Result<Grant, WireError> {
        let mut r = Reader { buf: body };
        let root = cert::fixed::<32>(&mut r)?;
        let network = r.string()?;
        let chain = Chain::read(&mut r)?;
        if !r.buf.is_empty() {
            return Err(WireError::Malformed("trailing bytes after a grant"));
        }
        Ok(Grant {
            root,
            network,
            chain,
        })
    }
}

/// This device's standing, for status pages and the CLI.
#[derive(Clone, Debug)]
pub struct Standing {
    pub network: Option<String>,
    pub root: Option<[u8; 32]>,
    /// This device's certificate, when it is enrolled (and not revoked or expired).
    pub membership: Option<Membership>,
    /// Why not, when enrolled once but no longer valid.
    pub problem: Option<TrustError>,
    pub holds_root_secret: bool,
}

impl LinkTrust {
    /// Reads what this device trusts and shows, at `now` (Unix seconds). Revocations that
    /// arrived as data since the last call are verified and kept for good.
    pub fn load(store: &mut Store, now: u64) -> Result<LinkTrust, StoreError> {
        let root = db::trust_setting(store.connection(), ROOT_KEY)?
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok());
        let mut anchor = TrustAnchor {
            root,
            revoked: HashSet::new(),
        };
        for key in db::revoked_keys(store.connection())? {
            if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                anchor.revoked.insert(key);
            }
        }
        learn_revocations(store, &mut anchor, now)?;
        let chain = own_chain(store)?;
        let scopes = match chain.leaf() {
            Some(leaf) if anchor.verify(&leaf.subject, &chain, now).is_ok() => leaf.scope_set(),
            _ => ScopeSet::none(),
        };
        Ok(LinkTrust {
            anchor,
            chain,
            scopes,
            now,
        })
    }
}

/// Verifies revocation entities not yet in the local table; repeats until nothing changes, so
/// a hub revoked by the root no longer counts as a revoker.
fn learn_revocations(
    store: &mut Store,
    anchor: &mut TrustAnchor,
    now: u64,
) -> Result<(), StoreError> {
    let mut statements = Vec::new();
    store.scan(&network_scope(), REVOCATIONS, |_, fields| {
        if let Some(Value::Bytes(bytes)) = fields.get("statement")
            && let Ok(revocation) = Revocation::from_bytes(bytes)
        {
            statements.push(revocation);
        }
    })?;
    statements.retain(|r| !anchor.revoked.contains(&r.subject));
    loop {
        let mut learned = Vec::new();
        for revocation in &statements {
            if !anchor.revoked.contains(&revocation.subject) && revocation.is_valid(anchor, now) {
                learned.push(revocation.subject);
            }
        }
        if learned.is_empty() {
            return Ok(());
        }
        for key in learned {
            anchor.revoked.insert(key);
            db::insert_revoked_key(store.connection(), &key, now as i64)?;
        }
    }
}

/// This device's chain, or an empty one when it has none or it names another key (the
/// database was copied and took a new identity: it must enrol again).
fn own_chain(store: &Store) -> Result<Chain, StoreError> {
    let Some(bytes) = db::trust_setting(store.connection(), CHAIN)? else {
        return Ok(Chain::default());
    };
    let chain = Chain::from_bytes(&bytes).unwrap_or_default();
    let mine = store.device_key().public_bytes();
    Ok(if chain.leaf().is_some_and(|leaf| leaf.subject == mine) {
        chain
    } else {
        Chain::default()
    })
}

/// This device's standing in its network at `now`.
pub fn standing(store: &mut Store, now: u64) -> Result<Standing, StoreError> {
    let trust = LinkTrust::load(store, now)?;
    let network = db::trust_setting(store.connection(), NETWORK_NAME)?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let holds_root_secret = db::trust_setting(store.connection(), ROOT_SECRET)?.is_some();
    let (membership, problem) = match trust.chain.leaf() {
        None => (None, None),
        Some(leaf) => match trust.anchor.verify(&leaf.subject, &trust.chain, now) {
            Ok(member) => (Some(member), None),
            Err(problem) => (None, Some(problem)),
        },
    };
    Ok(Standing {
        network,
        root: trust.anchor.root,
        membership,
        problem,
        holds_root_secret,
    })
}

/// `tusach network init`: makes a new network whose root key stays on this device, and makes
/// this device its first hub, holding every scope.
pub fn init_network(store: &mut Store, name: &str, now: u64) -> Result<Membership, NetworkError> {
    if let Some(existing) = db::trust_setting(store.connection(), NETWORK_NAME)? {
        return Err(NetworkError::AlreadyInNetwork(
            String::from_utf8_lossy(&existing).into_owned(),
        ));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| NetworkError::Random(e.to_string()))?;
    let root = SigningKey::from_bytes(&secret);
    let cert = Certificate::issue(
        CertificateRequest {
            role: MemberRole::Hub,
            subject: store.device_key().public_bytes(),
            issued_at: now,
            expires_at: now + ROOT_HUB_DAYS * 86_400,
            label: name.to_owned(),
            scopes: vec![cert::ALL_SCOPES.to_owned()],
        },
        &root,
    );
    let chain = Chain(vec![cert]);
    let root_public = root.verifying_key().to_bytes();
    let tx = store.connection_mut().transaction()?;
    db::set_trust_setting(&tx, ROOT_SECRET, &secret)?;
    db::set_trust_setting(&tx, ROOT_KEY, &root_public)?;
    db::set_trust_setting(&tx, NETWORK_NAME, name.as_bytes())?;
    db::set_trust_setting(&tx, CHAIN, &chain.to_bytes())?;
    tx.commit()?;
    publish_chain(store, &chain)?;
    let anchor = TrustAnchor {
        root: Some(root_public),
        revoked: HashSet::new(),
    };
    Ok(anchor.verify(&store.device_key().public_bytes(), &chain, now)?)
}

impl From<TrustError> for NetworkError {
    fn from(_: TrustError) -> NetworkError {
        NetworkError::NotEnrolled
    }
}

/// What a hub's staff chose for a new device.
#[derive(Clone, Debug)]
pub struct CodeRequest {
    pub role: MemberRole,
    pub label: String,
    pub scopes: Vec<String>,
    /// How long the certificate lasts once granted.
    pub cert_days: u64,
}

/// A hub makes a one-time code for a new device (shown on its staff page and the console).
pub fn make_code(
    store: &mut Store,
    request: &CodeRequest,
    now: u64,
) -> Result<EnrolmentCode, NetworkError> {
    let me = hub_membership(store, now)?;
    let my_scopes = match &me.1.leaf() {
        Some(leaf) => leaf.scopes.clone(),
        None => return Err(NetworkError::NotEnrolled),
    };
    for scope in &request.scopes {
        if scope != cert::ALL_SCOPES && Scope::new(scope.clone()).is_none() {
            return Err(NetworkError::InvalidScope(scope.clone()));
        }
        if !verify::scopes_within(std::slice::from_ref(scope), &my_scopes) {
            return Err(NetworkError::ScopeNotHeld(scope.clone()));
        }
    }
    let code = EnrolmentCode::generate().map_err(|e| NetworkError::Random(e.to_string()))?;
    db::insert_code(
        store.connection(),
        &db::CodeRow {
            code: code.as_str().to_owned(),
            role: request.role.as_str().to_owned(),
            label: request.label.clone(),
            scopes: request.scopes.join("\n"),
            cert_days: request.cert_days as i64,
            expires_at: (now + CODE_LIFETIME_SECS) as i64,
        },
        now as i64,
    )?;
    Ok(code)
}

/// This device's membership, which must be a hub's, and its chain.
fn hub_membership(store: &mut Store, now: u64) -> Result<(Membership, Chain), NetworkError> {
    let trust = LinkTrust::load(store, now)?;
    let leaf = trust.chain.leaf().ok_or(NetworkError::NotEnrolled)?;
    let me = trust.anchor.verify(&leaf.subject, &trust.chain, now)?;
    if me.role != MemberRole::Hub {
        return Err(NetworkError::NotHub(me.role.as_str()));
    }
    Ok((me, trust.chain))
}

/// The hub's side of an enrolment: finds the pending code the device proved, signs its
/// certificate and publishes it. `None` when no code matches (every pending code then counts
/// one failure).
pub(crate) fn grant_for(
    store: &mut Store,
    device_key: &[u8; 32],
    proof: &[u8; 32],
    handshake_hash: &[u8],
    now: u64,
) -> Result<Option<(Grant, EnrolmentCode)>, SecureError> {
    let pending = db::pending_codes(store.connection(), now as i64, CODE_MAX_FAILURES)
        .map_err(StoreError::from)?;
    let matched = pending.into_iter().find_map(|row| {
        let code = EnrolmentCode::parse(&row.code)?;
        enrol::proofs_equal(&code.device_proof(handshake_hash, device_key), proof)
            .then_some((row, code))
    });
    let Some((row, code)) = matched else {
        db::count_code_failure(store.connection(), now as i64).map_err(StoreError::from)?;
        return Ok(None);
    };
    let (_, my_chain) = hub_membership(store, now)
        .map_err(|_| SecureError::Enrol("this hub is not a valid hub"))?;
    let role = MemberRole::parse(&row.role).ok_or(SecureError::Enrol("the code names no role"))?;
    let leaf = Certificate::issue(
        CertificateRequest {
            role,
            subject: *device_key,
            issued_at: now,
            expires_at: now + row.cert_days.max(1) as u64 * 86_400,
            label: row.label.clone(),
            scopes: row.scopes.lines().map(str::to_owned).collect(),
        },
        store.device_key().signing_key(),
    );
    let mut certs = vec![leaf];
    certs.extend(my_chain.0);
    let chain = Chain(certs);
    let root = db::trust_setting(store.connection(), ROOT_KEY)
        .map_err(StoreError::from)?
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or(SecureError::Enrol("this hub knows no network root"))?;
    let network = db::trust_setting(store.connection(), NETWORK_NAME)
        .map_err(StoreError::from)?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    db::mark_code_used(
        store.connection(),
        &row.code,
        &DeviceId::from_public_key(device_key).0,
    )
    .map_err(StoreError::from)?;
    publish_chain(store, &chain).map_err(|e| match e {
        NetworkError::Store(e) => SecureError::Store(e),
        _ => SecureError::Enrol("could not publish the certificate"),
    })?;
    Ok(Some((
        Grant {
            root,
            network,
            chain,
        },
        code,
    )))
}

/// The device's side: checks the granted chain against the granted root for its own key, then
/// keeps both (replacing any earlier membership: re-enrolment after a revocation or a clone).
pub(crate) fn accept_grant(store: &mut Store, grant: &Grant, now: u64) -> Result<(), SecureError> {
    let anchor = TrustAnchor {
        root: Some(grant.root),
        revoked: HashSet::new(),
    };
    anchor.verify(&store.device_key().public_bytes(), &grant.chain, now)?;
    let tx = store
        .connection_mut()
        .transaction()
        .map_err(StoreError::from)?;
    db::set_trust_setting(&tx, ROOT_KEY, &grant.root).map_err(StoreError::from)?;
    db::set_trust_setting(&tx, NETWORK_NAME, grant.network.as_bytes()).map_err(StoreError::from)?;
    db::set_trust_setting(&tx, CHAIN, &grant.chain.to_bytes()).map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    // Publish our chain and our issuers' here too, so a bundle for the hub can be sealed
    // before the first sync.
    for start in 0..grant.chain.0.len() {
        publish_chain(store, &Chain(grant.chain.0[start..].to_vec())).map_err(|e| match e {
            NetworkError::Store(e) => SecureError::Store(e),
            _ => SecureError::Enrol("could not publish the certificate"),
        })?;
    }
    Ok(())
}

/// Publishes a member's chain as data, so every member can name it and address bundles to it.
fn publish_chain(store: &mut Store, chain: &Chain) -> Result<(), NetworkError> {
    let Some(leaf) = chain.leaf() else {
        return Ok(());
    };
    let key = EntityKey::new(&network_scope(), CERTIFICATES, leaf.device().to_hex());
    let mut batch = WriteBatch::new();
    batch
        .put(&key, "chain", Value::Bytes(chain.to_bytes()))
        .put(&key, "role", leaf.role.as_str())
        .put(&key, "label", leaf.label.as_str())
        .put(&key, "expires_at", leaf.expires_at as i64);
    store.commit(&batch)?;
    Ok(())
}

/// A member's published chain, if this device has heard of it.
pub fn published_chain(store: &mut Store, device: &DeviceId) -> Result<Option<Chain>, StoreError> {
    let key = EntityKey::new(&network_scope(), CERTIFICATES, device.to_hex());
    Ok(store
        .get(&key)?
        .and_then(|fields| match fields.get("chain") {
            Some(Value::Bytes(bytes)) => Chain::from_bytes(bytes).ok(),
            _ => None,
        }))
}

/// Every member this device has heard of, with its published leaf certificate.
pub fn known_members(store: &mut Store) -> Result<Vec<Certificate>, StoreError> {
    let mut members = Vec::new();
    store.scan(&network_scope(), CERTIFICATES, |_, fields| {
        if let Some(Value::Bytes(bytes)) = fields.get("chain")
            && let Ok(chain) = Chain::from_bytes(bytes)
            && let Some(leaf) = chain.leaf()
        {
            members.push(leaf.clone());
        }
    })?;
    Ok(members)
}

/// Revokes a member: signed by the root key where this device holds it, otherwise by this
/// hub's key; stored as data so it spreads with the next syncs.
pub fn revoke(
    store: &mut Store,
    device: &DeviceId,
    reason: &str,
    now: u64,
) -> Result<(), NetworkError> {
    let chain = published_chain(store, device)?
        .ok_or_else(|| NetworkError::UnknownDevice(device.to_hex()))?;
    let subject = chain
        .leaf()
        .ok_or_else(|| NetworkError::UnknownDevice(device.to_hex()))?
        .subject;
    let revocation = match db::trust_setting(store.connection(), ROOT_SECRET)? {
        Some(secret) if secret.len() == 32 => {
            let mut fixed = [0u8; 32];
            fixed.copy_from_slice(&secret);
            Revocation::sign(
                subject,
                now,
                reason,
                &SigningKey::from_bytes(&fixed),
                Chain::default(),
            )
        }
        _ => {
            let (_, my_chain) = hub_membership(store, now)?;
            Revocation::sign(
                subject,
                now,
                reason,
                store.device_key().signing_key(),
                my_chain,
            )
        }
    };
    let key = EntityKey::new(&network_scope(), REVOCATIONS, device.to_hex());
    let mut batch = WriteBatch::new();
    batch.put(&key, "statement", Value::Bytes(revocation.to_bytes()));
    store.commit(&batch)?;
    db::insert_revoked_key(store.connection(), &subject, now as i64)?;
    Ok(())
}

/// One refused connection, as the sync page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub at: i64,
    pub address: String,
    pub fingerprint: String,
    pub reason: String,
}

/// Records a connection refused for want of trust.
pub fn record_refusal(store: &Store, refusal: &Refusal) -> Result<(), StoreError> {
    db::insert_refusal(
        store.connection(),
        refusal.at,
        &refusal.address,
        &refusal.fingerprint,
        &refusal.reason,
    )?;
    Ok(())
}

/// The most recent refusals, newest first.
pub fn refusals(store: &Store, limit: i64) -> Result<Vec<Refusal>, StoreError> {
    Ok(db::refusals(store.connection(), limit)?
        .into_iter()
        .map(|(at, address, fingerprint, reason)| Refusal {
            at,
            address,
            fingerprint,
            reason,
        })
        .collect())
}

// ---- Signed files: update bundles a hub vouches for ----

const FILE_SIGNATURE_MAGIC: &[u8; 4] = b"TSIG";
const FILE_SIGNATURE_VERSION: u8 = 1;
const FILE_SIGNING_CONTEXT: &[u8] = b"tusach-file-v1\0";

#[derive(Debug, thiserror::Error)]
pub enum FileSignatureError {
    #[error("the signature file is damaged: {0}")]
    Damaged(#[from] WireError),
    #[error("the signature does not match the file: it was changed or signed for another file")]
    Mismatch,
    #[error("the signer is not a hub of this network: {0}")]
    NotTrusted(TrustError),
    #[error("the signer is a {0}, not a hub")]
    NotHub(&'static str),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A hub signs the SHA-256 of a file (an update bundle): `"TSIG" 0x01 | chain | signature 64`,
/// the signature Ed25519 over `"tusach-file-v1\0"` and the digest.
pub fn sign_file_digest(
    store: &mut Store,
    digest: &[u8; 32],
    now: u64,
) -> Result<Vec<u8>, NetworkError> {
    use ed25519_dalek::Signer;
    let (_, chain) = hub_membership(store, now)?;
    let mut signed = FILE_SIGNING_CONTEXT.to_vec();
    signed.extend_from_slice(digest);
    let signature = store.device_key().signing_key().sign(&signed).to_bytes();
    let mut out = FILE_SIGNATURE_MAGIC.to_vec();
    out.push(FILE_SIGNATURE_VERSION);
    out.extend_from_slice(&chain.to_bytes());
    out.extend_from_slice(&signature);
    Ok(out)
}

/// Checks that `signature` is a current hub of this device's network vouching for `digest`;
/// returns the hub.
pub fn verify_file_digest(
    store: &mut Store,
    digest: &[u8; 32],
    signature: &[u8],
    now: u64,
) -> Result<Membership, FileSignatureError> {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let mut r = Reader { buf: signature };
    if r.take(4)? != FILE_SIGNATURE_MAGIC || r.u8()? != FILE_SIGNATURE_VERSION {
        return Err(WireError::BadMagic.into());
    }
    let chain = Chain::read(&mut r)?;
    let bytes = cert::fixed::<64>(&mut r)?;
    if !r.buf.is_empty() {
        return Err(WireError::Malformed("trailing bytes after a file signature").into());
    }
    let leaf = chain
        .leaf()
        .ok_or(FileSignatureError::NotTrusted(TrustError::NoCertificate))?;
    let trust = LinkTrust::load(store, now)?;
    let signer = trust
        .anchor
        .verify(&leaf.subject, &chain, now)
        .map_err(FileSignatureError::NotTrusted)?;
    if signer.role != MemberRole::Hub {
        return Err(FileSignatureError::NotHub(signer.role.as_str()));
    }
    let key = VerifyingKey::from_bytes(&signer.key).map_err(|_| FileSignatureError::Mismatch)?;
    let mut signed = FILE_SIGNING_CONTEXT.to_vec();
    signed.extend_from_slice(digest);
    key.verify(&signed, &Signature::from_bytes(&bytes))
        .map_err(|_| FileSignatureError::Mismatch)?;
    Ok(signer)
}
