//! `tusach serve`: the long-running appliance and the one owner of its data folder: the web
//! server (readers' search, JSON API, health), the sync listener, the hub schedule
//! (`--hub`), the neighbours found by mDNS, the addresses an admin typed on the sync page, and
//! the control socket on which console commands run, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tusach_sync::{Durability, StoreOptions};

use crate::control_socket::server::ControlSocket;
use crate::data_dir::DataDir;
use crate::home_library::{HomeLibrary, LibraryChoice};
use crate::joining::{self, FirstAdmin};
use crate::sync_service::SyncService;
use crate::sync_service::hub::HubSchedule;
use crate::sync_service::serial_line::SerialSettings;
use crate::sync_service::stick::StickPlaces;
use crate::sync_service::{manual_peers, neighbours};
use tusach_sync::discovery::{Discovery, SERVICE_TYPE};

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

/// The console is the one place a new appliance can tell its owner how to get in.
fn print_first_admin(one_time: &crate::accounts::OneTimePassword) {
    println!(
        "Tài khoản quản trị đầu tiên / first admin: {} — mật khẩu dùng một lần / one-time password: {}",
        crate::accounts::FIRST_ADMIN,
        one_time.as_str()
    );
}

/// What waited for a session to finish: the library's first admin, if the library still has
/// no staff now that this desk has heard from a member, and its name, if none came.
fn after_a_session(
    store: &mut tusach_sync::Store,
    library: &HomeLibrary,
    wanted_name: Option<&str>,
) {
    match joining::settle_first_admin(store, library) {
        Ok(FirstAdmin::Made(one_time)) => print_first_admin(&one_time),
        Ok(FirstAdmin::NotNeeded | FirstAdmin::WaitingForFirstSync) => {}
        Err(error) => eprintln!("could not settle the first admin: {error}"),
    }
    if wanted_name.is_some()
        && let Err(error) = library.name_if_unnamed(store, wanted_name)
    {
        eprintln!("could not name the library: {error}");
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
    /// Announce this device and sync with member neighbours found by mDNS (only when the sync
    /// listener is reachable from other machines).
    pub mdns: bool,
    /// Where the staff page looks for a USB stick.
    pub sticks: StickPlaces,
    /// A modem, radio or cable to call the hub over (or, on the hub, to answer).
    pub serial: Option<SerialSettings>,
}

pub fn run_until_signal(data: &DataDir, options: ServeOptions) -> anyhow::Result<()> {
    let ServeOptions {
        listen,
        sync_listen,
        demo,
        library: mut choice,
        hub,
        mdns,
        sticks,
        serial,
    } = options;
    // Before anything is opened or seeded: a placeholder or malformed id must not make a
    // library (every Pi started from an unedited card would be the same one).
    choice.check()?;
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
    // A desk enrolled in a library it has never synced with knows neither its staff nor its
    // name yet: it writes neither until its first session has finished (see `joining`).
    let waiting = joining::is_waiting_for_first_sync(&mut store)?;
    let library = HomeLibrary::settle_naming(&mut store, &choice, !waiting)?;
    let device = store.device_id();
    let desk = library.desk(&device.to_hex())?;
    match joining::settle_first_admin(&mut store, &library)? {
        FirstAdmin::Made(one_time) => print_first_admin(&one_time),
        FirstAdmin::NotNeeded => {}
        FirstAdmin::WaitingForFirstSync => println!(
            "Máy này đã tham gia thư viện {id} nhưng chưa đồng bộ lần nào: chưa tạo quản trị viên \
             đầu tiên; hãy đồng bộ với máy chủ huyện. / This desk joined library {id} but has \
             not synced yet: no first admin is made until a sync shows the library has none.",
            id = library.id
        ),
    }
    let database = data.database_path();
    let store = Arc::new(Mutex::new(store));
    let sync = SyncService::new(store.clone());
    sync.use_sticks(sticks);
    let waiting_library = library.clone();
    let wanted_name = choice.name.clone();
    sync.after_sessions(Box::new(move |store| {
        after_a_session(store, &waiting_library, wanted_name.as_deref());
    }));
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
        let sync_port = sync_listener.local_addr()?.port();
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
        let serial_line = async {
            if let Some(settings) = serial {
                crate::sync_service::serial_line::run(sync.clone(), settings, stopped()).await;
            }
        };
        // Always runs: with no address typed it only waits for one.
        let typed_addresses = manual_peers::run(sync.clone(), stopped());
        let library_id = library.id.clone();
        let neighbours = async {
            if !mdns {
                return;
            }
            if sync_listen.ip().is_loopback() {
                eprintln!(
                    "mDNS is off: the sync listener answers on {sync_listen} only, which no \
                     neighbour can reach (use --sync-listen 0.0.0.0:PORT)"
                );
                return;
            }
            let started = neighbours::announcement(&sync, Some(&library_id), sync_port)
                .map_err(anyhow::Error::from)
                .and_then(|announcement| Ok(Discovery::start(announcement)?));
            match started {
                Ok(discovery) => {
                    eprintln!("mDNS: announcing {SERVICE_TYPE} on port {sync_port}");
                    neighbours::run(sync.clone(), discovery, stopped()).await;
                }
                Err(error) => eprintln!("mDNS is off: {error}"),
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
        let (peers, console, (), (), (), (), ()) = tokio::join!(
            peers,
            console,
            schedule,
            neighbours,
            typed_addresses,
            serial_line,
            web
        );
        peers.context("sync listener")?;
        console.context("control socket")?;
        Ok(())
    })
}
