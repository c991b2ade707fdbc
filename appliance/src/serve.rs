//! `tusach serve`: the long-running appliance: the web server (readers' search, JSON API,
//! health) and the sync listener, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::tcp;
use tusach_sync::{Durability, SessionReport, StoreOptions};

use crate::data_dir::DataDir;
use crate::home_library::{HomeLibrary, LibraryChoice};

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

pub fn run_until_signal(
    data: &DataDir,
    listen: SocketAddr,
    sync_listen: SocketAddr,
    demo: bool,
    mut choice: LibraryChoice,
) -> anyhow::Result<()> {
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
            "Tủ Sách is running: http://{} (sync on {}), device {device}",
            web_listener.local_addr()?,
            sync_listener.local_addr()?
        );
        let contacts = store.clone();
        let on_session = Arc::new(
            move |peer: SocketAddr, result: Result<SessionReport, tcp::TcpSyncError>| match result {
                Ok(report) => crate::sync_cmd::note_contact(&contacts, &report),
                Err(error) => eprintln!("sync session with {peer} failed: {error}"),
            },
        );
        let sync = tcp::serve(
            sync_listener,
            store.clone(),
            SessionOptions::default(),
            Duration::from_secs(60),
            on_session,
            shutdown_signal(),
        );
        let state = Arc::new(
            crate::http::AppState::open(&database, store.clone(), library, desk)
                .context("opening the catalogue for reading")?,
        );
        let web = warp::serve(crate::http::routes(state))
            .incoming(web_listener)
            .graceful(shutdown_signal())
            .run();
        let (sync, ()) = tokio::join!(sync, web);
        sync.context("sync listener")?;
        Ok(())
    })
}
