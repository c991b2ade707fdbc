//! The `tusach` command: parses arguments and hands over to the library. Nothing here decides
//! anything about libraries or sync.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use tusach::home_library::LibraryChoice;
use tusach::{bench, data_dir::DataDir, dev, network_cmd, serve, staff_cmd, sync_cmd};

#[derive(Parser)]
#[command(
    name = "tusach",
    version,
    about = "Tủ Sách — thư viện ngoại tuyến / offline-first library appliance"
)]
struct Cli {
    /// The data folder (database, keys). Made on first use.
    #[arg(long, global = true, default_value = "tusach-data")]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance: health endpoint and sync listener.
    Serve {
        /// Where the web server listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the sync listener accepts peers.
        #[arg(long, default_value = "127.0.0.1:7654")]
        sync_listen: SocketAddr,
        /// Seed an empty data folder with a sample Vietnamese library.
        #[arg(long)]
        demo: bool,
        /// The library this appliance serves (its id, e.g. xa-nghi-phu); fixed at first start.
        #[arg(long)]
        library: Option<String>,
        /// The library's name as readers see it.
        #[arg(long)]
        library_name: Option<String>,
    },
    /// Print this device's id (what `sync --bundle-out --for` takes).
    Id,
    /// Staff accounts from the console: list, add, reset-password.
    Staff(staff_cmd::StaffArgs),
    /// Exchange data with a peer, a bundle file, or answer peers.
    Sync(sync_cmd::SyncArgs),
    /// The library network: make it, enrol devices with one-time codes, revoke them.
    Network(network_cmd::NetworkArgs),
    /// Run a benchmark and print one JSON object.
    Bench(bench::BenchArgs),
    /// Tools for tests and diagnosis.
    #[command(hide = true)]
    Dev(dev::DevArgs),
}

/// mimalloc instead of glibc's malloc: glibc keeps large freed blocks (each password check
/// takes 19 MiB) in per-thread arenas once its mmap threshold has grown, and a burst of fifty
/// logins left hundreds of megabytes resident; mimalloc gives them back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let data = DataDir::new(cli.data);
    match cli.command {
        Command::Serve {
            listen,
            sync_listen,
            demo,
            library,
            library_name,
        } => serve::run_until_signal(
            &data,
            listen,
            sync_listen,
            demo,
            LibraryChoice {
                id: library,
                name: library_name,
            },
        ),
        Command::Id => {
            let store = data.open_store().context("opening the data folder")?;
            println!("{}", store.device_id());
            Ok(())
        }
        Command::Sync(args) => sync_cmd::run(&data, args),
        Command::Network(args) => network_cmd::run(&data, args),
        Command::Staff(args) => staff_cmd::run(&data, args),
        Command::Bench(args) => bench::run(args),
        Command::Dev(args) => dev::run(&data, args),
    }
}
