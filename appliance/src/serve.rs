//! `tusach serve`: the long-running appliance and the one owner of its data folder: the web
//! server (readers' search, JSON API, health), the sync listener, the hub schedule
//! (`--hub`), and the control socket on which console commands run, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tusach_sync::{Durability, StoreOptions};

use crate::control_socket::server::ControlSocket;
use crate::data_dir::DataDir;
use crate::home_library::{HomeLibrary, LibraryChoice};
use crate::sync_service::SyncService;
use crate::sync_service::hub::HubSchedule;

/// Resolves on Ctrl-C or SIGTERM (what systemd sends), so the stores close cleanly.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Threads that run handlers (see `http::blocking`).
const BLOCKING_THREADS: usize = 6;
/// How long a peer may stay silent within a session the listener answers.
const PEER_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What `tusach serve` was asked to do.
pub struct ServeOptions {
    /// Where the web server listens.
    pub listen: SocketAddr,
    /// Where the sync listener answers peers.
    pub sync_listen: SocketAddr,
    /// Seed an empty folder with the demo library.
    pub demo: bool,
    pub library: LibraryChoice,
    /// Dial a hub by itself, on this schedule.
    pub hub: Option<HubSchedule>,
}

pub fn run_until_signal(data: &DataDir, options: ServeOptions) -> anyhow::Result<()> {
    let ServeOptions {
        listen,
        sync_listen,
        demo,
        library: mut choice,
        hub,
    } = options;
    if demo {
        // Demo data is disposable: seeding without an fsync per commit takes seconds instead of
        // a minute on an SD card, and a power cut mid-seed only means seeding again.
        let mut seeding = data.open_store_with(StoreOptions {
            durability: Durability::Relaxed,
            ..StoreOptions::default()
        })?;
        let today = chrono::Local::now().date_naive();
        if let Some(made) = crate::demo::seed(&mut seeding, today)? {
            println!(
                "demo library seeded: {} records, {} copies, {} readers, {} loans ({} returned), {} visits",
                made.records, made.copies, made.readers, made.loans, made.returns, made.visits
            );
        }
    }
    if demo {
        choice
            .id
            .get_or_insert_with(|| crate::demo::DEMO_LIBRARY.to_owned());
        choice
            .name
            .get_or_insert_with(|| crate::demo::DEMO_LIBRARY_NAME.to_owned());
    }
    let mut store = data.open_store()?;
    let library = HomeLibrary::settle(&mut store, &choice)?;
    let device = store.device_id();
    let desk = library.desk(&device.to_hex())?;
    let staff = crate::accounts::StaffDirectory::new(&library.id)?;
    if let Some(one_time) = staff.ensure_first_admin(&mut store)? {
        // The console is the one place a new appliance can tell its owner how to get in.
        println!(
            "Tài khoản quản trị đầu tiên / first admin: {} — mật khẩu dùng một lần / one-time password: {}",
            crate::accounts::FIRST_ADMIN,
            one_time.as_str()
        );
    }
    let database = data.database_path();
    let store = Arc::new(Mutex::new(store));
    let sync = SyncService::new(store.clone());
    // We hold the folder's lock, so a socket file already there is a dead serve's. Without a
    // socket (a path too long for one, a read-only folder) the library still opens; only the
    // console commands must wait for a stop.
    let control = match ControlSocket::bind(&data.control_socket_path()) {
        Ok(control) => Some(control),
        Err(error) => {
            eprintln!("console commands cannot reach this serve: {error}");
            None
        }
    };
    let console_note = control
        .as_ref()
        .map(|c| format!(", console commands on {}", c.path().display()))
        .unwrap_or_default();
    // Handlers run on the blocking pool (SQLite work). A handful of threads keeps both cores
    // busy with four read connections to share; fifty threads for fifty phones only queued on
    // those connections and cost several megabytes of allocator cache each.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let sync_listener = tokio::net::TcpListener::bind(sync_listen)
            .await
            .with_context(|| format!("cannot listen for sync on {sync_listen}"))?;
        let web_listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!(
            "Tủ Sách is running: http://{} (sync on {}), device {device}{console_note}",
            web_listener.local_addr()?,
            sync_listener.local_addr()?,
        );
        // One signal handler, many listeners: each part stops when the flag turns.
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        let stopped = move || {
            let mut stopping = stopping.clone();
            async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            }
        };
        let peers = sync.listen(sync_listener, PEER_IDLE_TIMEOUT, stopped());
        let console = async {
            match control {
                Some(control) => control.serve(sync.clone(), stopped()).await,
                None => Ok(()),
            }
        };
        let schedule = async {
            if let Some(schedule) = hub {
                eprintln!(
                    "syncing with the hub {} every {:?}",
                    schedule.addr, schedule.every
                );
                crate::sync_service::hub::run(sync.clone(), schedule, stopped()).await;
            }
        };
        let state = Arc::new(
            crate::http::AppState::open(&database, store.clone(), library, desk, sync.clone())
                .context("opening the catalogue for reading")?,
        );
        let web = warp::serve(crate::http::routes(state))
            .incoming(web_listener)
            .graceful(stopped())
            .run();
        let (peers, console, (), ()) = tokio::join!(peers, console, schedule, web);
        peers.context("sync listener")?;
        console.context("control socket")?;
        Ok(())
    })
}
