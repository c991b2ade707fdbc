//! `tusach network`: making a library network, enrolling devices into it and revoking them.
//!
//! - `network init --name NAME` at the province or district hub: a new root key stays on that
//!   hub, which becomes the network's first hub (every scope).
//! - `network code --library ID [--role appliance|mule|hub]` at a hub: a one-time code for a new
//!   device, valid 15 minutes; an appliance gets the network scope and its library's scope, a
//!   mule or hub the libraries named with `--libraries` (or `--all-libraries`).
//! - `network join --hub HOST:PORT --code CODE` on the new device: enrols it, takes its library
//!   from the certificate, then syncs once (see [`crate::joining`]).
//! - `network revoke DEVICE_ID` at a hub: the revocation spreads with the next syncs.
//! - `network show`: this device's standing, the members it knows, refused attempts.
//!
//! What a library's scopes are (`network`, `library:<id>`) is decided here, the one place
//! where trust meets the library domain.

use std::time::Duration;

use anyhow::{Context, bail};
use tusach_sync::DeviceId;
use tusach_sync::transport::tcp::unix_now;
use tusach_sync::trust::{self, CodeRequest, EnrolmentCode, MemberRole};

use crate::console::Console;
use crate::data_dir::DataDir;
use crate::holdings::LIBRARY_SCOPE_PREFIX;

#[derive(clap::Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    command: NetworkCommand,
}

#[derive(clap::Subcommand)]
enum NetworkCommand {
    /// Make a new network; this device becomes its first hub and keeps the root key.
    Init {
        /// The network's name, e.g. "Thư viện tỉnh Nghệ An".
        #[arg(long)]
        name: String,
    },
    /// (Hub) Make a one-time enrolment code for a new device.
    Code {
        /// The library the device serves (its id, e.g. xa-nghi-phu).
        #[arg(long)]
        library: String,
        /// appliance, mule or hub.
        #[arg(long, default_value = "appliance")]
        role: String,
        /// For a mule or hub: the other libraries it may carry or hold, comma-separated.
        #[arg(long, value_delimiter = ',')]
        libraries: Vec<String>,
        /// For a mule or hub: every library.
        #[arg(long)]
        all_libraries: bool,
        /// How long the certificate lasts.
        #[arg(long, default_value_t = 3 * 365)]
        days: u64,
    },
    /// Join a network with the code its hub showed, then sync once.
    Join {
        /// The hub's sync address, HOST:PORT.
        #[arg(long)]
        hub: String,
        /// The code, e.g. K7PM-X2QA-9FRT.
        #[arg(long)]
        code: String,
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
    },
    /// (Hub) Revoke a device; the revocation spreads to every member.
    Revoke {
        device: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// This device's standing, the members it knows, refused attempts.
    Show,
    /// (Hub) Vouch for a file, e.g. an update bundle: writes FILE.sig beside it.
    Sign { file: std::path::PathBuf },
    /// Check FILE.sig: a current hub of this device's network vouched for FILE exactly.
    Verify { file: std::path::PathBuf },
}

impl NetworkArgs {
    /// Makes file names absolute against `cwd` before serve (elsewhere) runs the command.
    pub fn resolve_paths(&mut self, cwd: &std::path::Path) {
        if let NetworkCommand::Sign { file } | NetworkCommand::Verify { file } = &mut self.command {
            *file = cwd.join(&*file);
        }
    }
}

fn signature_path(file: &std::path::Path) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    name.into()
}

fn digest_of(file: &std::path::Path) -> anyhow::Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut reader =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// The scopes of a library's own data.
pub fn library_scope(library: &str) -> String {
    format!("{LIBRARY_SCOPE_PREFIX}{library}")
}

/// The scopes a new device gets: the network's, its library's, and for a mule or hub the
/// other libraries it carries.
pub fn scopes_for(library: &str, role: MemberRole, others: &[String], all: bool) -> Vec<String> {
    if all && role != MemberRole::Appliance {
        return vec![trust::cert::ALL_SCOPES.to_owned()];
    }
    let mut scopes = vec![trust::NETWORK_SCOPE.to_owned(), library_scope(library)];
    if role != MemberRole::Appliance {
        for other in others {
            let scope = library_scope(other.trim());
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
    }
    scopes
}

fn lock<'c>(
    console: &'c Console<'_>,
) -> anyhow::Result<std::sync::MutexGuard<'c, tusach_sync::Store>> {
    console
        .sync
        .store()
        .lock()
        .map_err(|_| anyhow::anyhow!("the store is unavailable"))
}

pub fn run(console: &mut Console<'_>, args: NetworkArgs) -> anyhow::Result<()> {
    let now = unix_now();
    match args.command {
        NetworkCommand::Init { name } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                bail!("the network name must be 1 to 80 characters");
            }
            let me = trust::init_network(&mut *lock(console)?, name, now)?;
            writeln!(
                console.out,
                "network '{name}' made; this device ({}) is its first hub",
                me.device
            )?;
        }
        NetworkCommand::Code {
            library,
            role,
            libraries,
            all_libraries,
            days,
        } => {
            let role = MemberRole::parse(&role)
                .with_context(|| format!("role must be appliance, mule or hub, not {role:?}"))?;
            if !crate::home_library::is_valid_id(&library) {
                bail!("'{library}' is not a library id (2 to 40 lowercase letters, digits or '-')");
            }
            let request = CodeRequest {
                role,
                label: library.clone(),
                scopes: scopes_for(&library, role, &libraries, all_libraries),
                cert_days: days.clamp(1, 20 * 365),
            };
            let code = trust::make_code(&mut *lock(console)?, &request, now)?;
            writeln!(
                console.out,
                "enrolment code for a {} of {library}: {}  (valid {} minutes, once)",
                role.as_str(),
                code.display(),
                trust::CODE_LIFETIME_SECS / 60
            )?;
        }
        NetworkCommand::Join {
            hub,
            code,
            timeout_secs,
        } => {
            let code = EnrolmentCode::parse(&code)
                .context("the code is 12 letters and digits, like K7PM-X2QA-9FRT")?;
            let timeout = Duration::from_secs(timeout_secs.max(1));
            let service = console.sync.clone();
            let joined = console
                .runtime
                .block_on(crate::joining::join(&service, &hub, code, timeout))?;
            writeln!(
                console.out,
                "joined network '{}' as {} of {}",
                joined.network,
                joined.role.as_str(),
                joined.label
            )?;
            if !joined.held_back.is_empty() {
                writeln!(
                    console.out,
                    "this desk's own accounts ({}) were held back for the first sync, so the \
                     library's accounts of the same name stay whole",
                    joined.held_back.join(", ")
                )?;
            }
            let report = joined
                .first_sync
                .with_context(|| format!("the first sync with {hub} failed"))?;
            writeln!(
                console.out,
                "first sync with the hub: received {} changes, sent {}",
                report.received.new_changes, report.changes_sent
            )?;
            if let Some(library) = &joined.library {
                let mut store = lock(console)?;
                let name = crate::home_library::stored_name(&mut store, library)?;
                let staff = crate::accounts::StaffDirectory::new(library)?.list(&mut store)?;
                drop(store);
                let names: Vec<&str> = staff.iter().map(|u| u.username.as_str()).collect();
                writeln!(
                    console.out,
                    "this desk serves library {library}{}; {}",
                    name.map(|n| format!(" ({n})")).unwrap_or_default(),
                    if names.is_empty() {
                        "it has no staff yet: serve makes a first admin and prints its one-time \
                         password"
                            .to_owned()
                    } else {
                        format!(
                            "its staff ({}) log in here with the library's passwords",
                            names.join(", ")
                        )
                    }
                )?;
            }
        }
        NetworkCommand::Revoke { device, reason } => {
            let id = DeviceId::parse_hex(&device)
                .with_context(|| format!("'{device}' is not a device id (32 hex digits)"))?;
            trust::revoke(&mut *lock(console)?, &id, reason.trim(), now)?;
            writeln!(
                console.out,
                "revoked {id}; the revocation spreads with the next syncs"
            )?;
        }
        NetworkCommand::Show => {
            let mut lines = Vec::new();
            {
                let mut store = lock(console)?;
                let standing = trust::standing(&mut store, now)?;
                lines.push(format!("device: {}", store.device_id()));
                lines.push(
                    match (&standing.network, &standing.membership, &standing.problem) {
                        (Some(network), Some(me), _) => format!(
                            "network: {network}; member as {} of {} until {}",
                            me.role.as_str(),
                            me.label,
                            me.expires_at
                        ),
                        (_, None, Some(problem)) => format!("not a valid member: {problem}"),
                        _ => "not enrolled in a network".to_owned(),
                    },
                );
                for member in trust::known_members(&mut store)? {
                    lines.push(format!(
                        "member\t{}\t{}\t{}",
                        member.device(),
                        member.role.as_str(),
                        member.label
                    ));
                }
                for refusal in trust::refusals(&store, 20)? {
                    lines.push(format!(
                        "refused\t{}\t{}\t{}\t{}",
                        refusal.at, refusal.address, refusal.fingerprint, refusal.reason
                    ));
                }
            }
            for line in lines {
                writeln!(console.out, "{line}")?;
            }
        }
        NetworkCommand::Sign { file } => {
            let digest = digest_of(&file)?;
            let signature = trust::sign_file_digest(&mut *lock(console)?, &digest, now)?;
            let out = signature_path(&file);
            std::fs::write(&out, signature)
                .with_context(|| format!("cannot write {}", out.display()))?;
            writeln!(console.out, "signed: {}", out.display())?;
        }
        NetworkCommand::Verify { file } => {
            let digest = digest_of(&file)?;
            let sig = signature_path(&file);
            let signature = std::fs::read(&sig).with_context(|| {
                format!(
                    "{} has no signature ({} is missing)",
                    file.display(),
                    sig.display()
                )
            })?;
            let signer = trust::verify_file_digest(&mut *lock(console)?, &digest, &signature, now)
                .with_context(|| {
                    format!("{} is not vouched for by this network", file.display())
                })?;
            writeln!(
                console.out,
                "verified: signed by hub {} ({})",
                signer.device, signer.label
            )?;
        }
    }
    Ok(())
}

/// Enrols the data folder `device` at the hub whose data folder is `hub`, both on this machine
/// and free: makes the hub's network first if it has none. `library` makes the device an
/// appliance of that library; `None` a mule carrying every library. For benches and tests
/// that need two members; in the field a device enrols over the network with `network join`.
pub fn enrol_locally(hub: &DataDir, device: &DataDir, library: Option<&str>) -> anyhow::Result<()> {
    let now = unix_now();
    let mut hub_store = hub.open_store().context("opening the hub's folder")?;
    if trust::standing(&mut hub_store, now)?.membership.is_none() {
        trust::init_network(&mut hub_store, "Mạng thử nghiệm", now)?;
    }
    let (role, label, scopes) = match library {
        Some(library) => (
            MemberRole::Appliance,
            library.to_owned(),
            scopes_for(library, MemberRole::Appliance, &[], false),
        ),
        None => (
            MemberRole::Mule,
            "mule".to_owned(),
            vec![trust::cert::ALL_SCOPES.to_owned()],
        ),
    };
    let request = CodeRequest {
        role,
        label,
        scopes,
        cert_days: 30,
    };
    let code = trust::make_code(&mut hub_store, &request, now)?;
    let mut device_store = device.open_store().context("opening the device's folder")?;
    tusach_sync::transport::memory::enrol_in_memory(&mut device_store, &mut hub_store, code, now)?;
    Ok(())
}

/// [`enrol_locally`] as an appliance of `library`, then what `network join` does next: the
/// folder takes the library from its certificate and syncs once with the hub
/// ([`sync_locally`]). A desk enrolled this way has heard from its library, so `serve` may make
/// a first admin if the hub knew no staff (see [`crate::joining`]).
pub fn join_locally(hub: &DataDir, device: &DataDir, library: &str) -> anyhow::Result<()> {
    enrol_locally(hub, device, Some(library))?;
    crate::home_library::HomeLibrary::adopt(&mut device.open_store()?, library)?;
    sync_locally(hub, device)
}

/// One session between two enrolled members' folders on this machine, in memory over the real
/// authenticated session, recorded as a contact on both sides as the sync service records it.
/// Both folders must be free. For tests and benches.
pub fn sync_locally(hub: &DataDir, device: &DataDir) -> anyhow::Result<()> {
    use tusach_sync::protocol::secure::{LinkTrust, Purpose, SecureSession};
    use tusach_sync::protocol::session::SessionOptions;
    let now = unix_now();
    let mut hub_store = hub.open_store().context("opening the hub's folder")?;
    let mut device_store = device.open_store().context("opening the device's folder")?;
    let options = SessionOptions::default();
    let (device_trust, hub_trust) = (
        LinkTrust::load(&mut device_store, now)?,
        LinkTrust::load(&mut hub_store, now)?,
    );
    let mut d =
        SecureSession::initiate(&device_store, Purpose::Sync, device_trust, options.clone())?;
    let mut h = SecureSession::respond(&hub_store, hub_trust, options)?;
    let (on_device, on_hub, _) = tusach_sync::transport::memory::pump_secure(
        &mut d,
        &mut device_store,
        &mut h,
        &mut hub_store,
        |_, _| {},
    );
    on_device.context("the sync, at the device")?;
    on_hub.context("the sync, at the hub")?;
    let (hub_id, device_id) = (hub_store.device_id(), device_store.device_id());
    device_store.record_peer_contact(&hub_id, now as i64)?;
    hub_store.record_peer_contact(&device_id, now as i64)?;
    Ok(())
}
