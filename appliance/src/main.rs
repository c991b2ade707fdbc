//! The `tusach` command: parses arguments and hands over to the library. Nothing here decides
//! anything about libraries or sync.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use tusach::console::{self, ConsoleCommand};
use tusach::home_library::LibraryChoice;
use tusach::serve::ServeOptions;
use tusach::sync_cmd::SerialLineArgs;
use tusach::sync_service::hub::HubSchedule;
use tusach::sync_service::stick::StickPlaces;
use tusach::{bench, data_dir::DataDir, dev, serve};

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
    /// Run the appliance: web server, sync listener, console commands; the data folder's owner.
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
        /// Sync with this hub by itself: soon after start, every --hub-every-mins, and when a
        /// network with a default route appears.
        #[arg(long, value_name = "HOST:PORT")]
        hub: Option<String>,
        /// Minutes between syncs with the hub (at most a week).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_080))]
        hub_every_mins: u64,
        /// Seconds between syncs with the hub (tests; overrides --hub-every-mins).
        #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..=604_800))]
        hub_every_secs: Option<u64>,
        /// Neither announce this device by mDNS nor sync with the neighbours it finds.
        #[arg(long)]
        no_mdns: bool,
        /// A folder that stands for a USB stick on the staff page's export and import (may be
        /// given more than once). Without it: every file system mounted under /media/ or
        /// /run/media/USER/.
        #[arg(long = "stick-dir", value_name = "DIR")]
        stick_dirs: Vec<PathBuf>,
        /// Call the hub over a serial line on a schedule (or, with --answer, answer calls).
        #[command(flatten)]
        serial_line: SerialLineArgs,
        /// Minutes between calls over the serial line (at most a week).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10_080))]
        serial_every_mins: u64,
        /// Seconds between calls over the serial line (tests; overrides --serial-every-mins).
        #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..=604_800))]
        serial_every_secs: Option<u64>,
    },
    /// Commands that run through `serve` while it holds the data folder.
    #[command(flatten)]
    Console(ConsoleCommand),
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
            hub,
            hub_every_mins,
            hub_every_secs,
            no_mdns,
            stick_dirs,
            serial_line,
            serial_every_mins,
            serial_every_secs,
        } => serve::run_until_signal(
            &data,
            ServeOptions {
                listen,
                sync_listen,
                demo,
                library: LibraryChoice {
                    id: library,
                    name: library_name,
                },
                hub: hub.map(|addr| HubSchedule {
                    addr,
                    every: hub_every_secs
                        .map(Duration::from_secs)
                        .unwrap_or(Duration::from_secs(hub_every_mins * 60)),
                }),
                mdns: !no_mdns,
                sticks: StickPlaces::from_folders(stick_dirs),
                serial: serial_line.settings(
                    serial_every_secs
                        .map(Duration::from_secs)
                        .unwrap_or(Duration::from_secs(serial_every_mins * 60)),
                )?,
            },
        ),
        Command::Console(command) => {
            // Serve parses the same words again, so they go over as typed.
            let argv = std::env::args_os()
                .skip(1)
                .map(|arg| arg.into_string())
                .collect::<Result<Vec<String>, _>>()
                .map_err(|arg| anyhow::anyhow!("{arg:?} is not valid text"))?;
            let status = console::run(&data, command, argv)?;
            if status != 0 {
                std::process::exit(status);
            }
            Ok(())
        }
        Command::Bench(args) => bench::run(args),
        Command::Dev(args) => dev::run(&data, args),
    }
}
