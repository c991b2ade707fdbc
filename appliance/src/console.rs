//! The commands a person types at the appliance's console: `tusach id`, `tusach staff …`,
//! `tusach sync …`, `tusach network …`, `tusach import …` and `tusach export …`. Each has one implementation, which takes a [`Console`] (the sync service
//! with its store, an input and an output), so the same code runs in two places:
//!
//! - alone, on the data folder, when no server holds it (this process opens the store);
//! - inside `tusach serve`, when it holds the folder: the command line goes over
//!   [`crate::control_socket`], serve runs it against its own store and streams the output back.
//!
//! [`run`] decides which. It does not know how the socket carries requests.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tusach_sync::StoreError;

use crate::control_socket;
use crate::data_dir::{DataDir, DataDirError};
use crate::export_cmd::ExportArgs;
use crate::import_cmd::ImportArgs;
use crate::network_cmd::NetworkArgs;
use crate::staff_cmd::StaffArgs;
use crate::sync_cmd::SyncArgs;
use crate::sync_service::SyncService;

/// How long a command waits for `serve` to answer on its control socket when the data folder
/// is locked but the socket is not there yet (serve is still starting).
const WAIT_FOR_SERVE: Duration = Duration::from_secs(15);

#[derive(clap::Subcommand)]
pub enum ConsoleCommand {
    /// Print this device's id (what `sync --bundle-out --for` takes).
    Id,
    /// Staff accounts from the console: list, add, reset-password.
    Staff(StaffArgs),
    /// Exchange data with a peer, a bundle file, or answer peers.
    Sync(SyncArgs),
    /// The library network: make it, enrol devices with one-time codes, revoke them.
    Network(NetworkArgs),
    /// Bring records into the catalogue from a file (MARC21), or books and readers from a
    /// .xlsx or .csv list, all or nothing.
    Import(ImportArgs),
    /// Write the catalogue, or some of its records, to a file (MARC21).
    Export(ExportArgs),
}

impl ConsoleCommand {
    /// True when the command reads one line of stdin (a password), which a client sends along
    /// with the request because serve has no terminal.
    pub fn reads_a_line_of_input(&self) -> bool {
        match self {
            ConsoleCommand::Staff(args) => args.reads_password_from_stdin(),
            ConsoleCommand::Id
            | ConsoleCommand::Sync(_)
            | ConsoleCommand::Network(_)
            | ConsoleCommand::Import(_)
            | ConsoleCommand::Export(_) => false,
        }
    }

    /// Makes file names absolute against `cwd`, the directory of the person who typed them,
    /// before a server with another working directory runs the command.
    pub fn resolve_paths(&mut self, cwd: &std::path::Path) {
        match self {
            ConsoleCommand::Sync(args) => args.resolve_paths(cwd),
            ConsoleCommand::Network(args) => args.resolve_paths(cwd),
            ConsoleCommand::Import(args) => args.resolve_paths(cwd),
            ConsoleCommand::Export(args) => args.resolve_paths(cwd),
            ConsoleCommand::Id | ConsoleCommand::Staff(_) => {}
        }
    }
}

/// What a console command works with.
pub struct Console<'a> {
    pub sync: Arc<SyncService>,
    /// Runs the async parts (sessions); the command itself runs on a plain thread.
    pub runtime: tokio::runtime::Handle,
    pub input: &'a mut dyn BufRead,
    pub out: &'a mut dyn Write,
    /// True when `serve` runs the command on its own store.
    pub inside_serve: bool,
}

/// Runs `command` with `console`.
pub fn execute(command: ConsoleCommand, console: &mut Console<'_>) -> anyhow::Result<()> {
    match command {
        ConsoleCommand::Id => {
            let device = console
                .sync
                .store()
                .lock()
                .map_err(|_| anyhow::anyhow!("the store is unavailable"))?
                .device_id();
            writeln!(console.out, "{device}")?;
            Ok(())
        }
        ConsoleCommand::Staff(args) => crate::staff_cmd::run(console, args),
        ConsoleCommand::Sync(args) => crate::sync_cmd::run(console, args),
        ConsoleCommand::Network(args) => crate::network_cmd::run(console, args),
        ConsoleCommand::Import(args) => crate::import_cmd::run(console, args),
        ConsoleCommand::Export(args) => crate::export_cmd::run(console, args),
    }
}

/// Runs `command`, typed as `argv` (the arguments after the program name), on `data`: through
/// the serve that holds the folder, or directly when none does. Returns the exit status.
pub fn run(data: &DataDir, command: ConsoleCommand, argv: Vec<String>) -> anyhow::Result<i32> {
    let socket = data.control_socket_path();
    if control_socket::client::is_live(&socket) {
        return forward(data, &command, argv);
    }
    let store = match data.open_store() {
        Ok(store) => store,
        Err(DataDirError::Open { source, .. }) if matches!(*source, StoreError::InUse(_)) => {
            // Locked with no live socket: serve may be starting; give it a moment to answer.
            let deadline = Instant::now() + WAIT_FOR_SERVE;
            let mut opened = None;
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                if control_socket::client::is_live(&socket) {
                    return forward(data, &command, argv);
                }
                // Or the holder was a one-shot tool that has just ended.
                if let Ok(store) = data.open_store() {
                    opened = Some(store);
                    break;
                }
            }
            if let Some(store) = opened {
                return run_alone(command, store);
            }
            anyhow::bail!(
                "the data folder {} is in use by another tusach process that takes no commands \
                 (a `tusach sync --listen` or `tusach dev` tool?); wait until it ends or stop it",
                data.root().display()
            );
        }
        Err(error) => return Err(error).context("opening the data folder"),
    };
    run_alone(command, store)
}

/// Runs `command` on a store this process opened itself.
fn run_alone(command: ConsoleCommand, store: tusach_sync::Store) -> anyhow::Result<i32> {
    // One worker thread: sessions need a runtime that drives I/O while the command waits on
    // it from this thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut console = Console {
        sync: SyncService::new(Arc::new(Mutex::new(store))),
        runtime: runtime.handle().clone(),
        input: &mut input,
        out: &mut out,
        inside_serve: false,
    };
    execute(command, &mut console)?;
    Ok(0)
}

fn forward(data: &DataDir, command: &ConsoleCommand, argv: Vec<String>) -> anyhow::Result<i32> {
    let input_line = if command.reads_a_line_of_input() {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading stdin")?;
        Some(line)
    } else {
        None
    };
    let cwd: PathBuf = std::env::current_dir().context("finding the current directory")?;
    let request = control_socket::Request {
        argv,
        cwd,
        input_line,
    };
    let status = control_socket::client::send(
        &data.control_socket_path(),
        &request,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
    .context("asking the running `tusach serve` to run the command")?;
    Ok(status)
}
