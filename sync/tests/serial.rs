//! The serial transport between real stores over real pseudo-terminals joined by socat (a
//! perfect null-modem cable): a desk calls, the hub answers, both converge; a stranger is
//! refused; a missing or busy device says so. The noisy line, the cuts and the modems are
//! tested in `tests/tests/serial.rs` with our own line simulator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tusach_sync::protocol::resume::Tickets;
use tusach_sync::protocol::session::SessionOptions;
use tusach_sync::transport::memory::enrol_in_memory;
use tusach_sync::transport::serial::{
    CallPolicy, Device, PortError, SerialError, SerialLine, answer_calls, sync_over_serial,
};
use tusach_sync::transport::tcp::unix_now;
use tusach_sync::trust::{self, CodeRequest, MemberRole};
use tusach_sync::{EntityKey, Scope, Store, WriteBatch};

fn store(dir: &Path, name: &str) -> Store {
    Store::open(&dir.join(format!("{name}.db"))).expect("open store")
}

fn key(id: &str) -> EntityKey {
    EntityKey::new(&Scope::new("library:a").expect("scope"), "things", id)
}

fn write(store: &mut Store, id: &str) {
    let mut batch = WriteBatch::new();
    batch.put(&key(id), "v", id);
    store.commit(&batch).expect("commit");
}

fn has(store: &Mutex<Store>, id: &str) -> bool {
    store
        .lock()
        .expect("lock")
        .get(&key(id))
        .expect("get")
        .is_some()
}

/// A hub and an enrolled desk of library "a", each with some writes of its own.
fn hub_and_desk(dir: &Path) -> (Store, Store) {
    let now = unix_now();
    let mut hub = store(dir, "hub");
    trust::init_network(&mut hub, "net", now).expect("init");
    let mut desk = store(dir, "desk");
    let code = trust::make_code(
        &mut hub,
        &CodeRequest {
            role: MemberRole::Appliance,
            label: "a".into(),
            scopes: vec!["network".into(), "library:a".into()],
            cert_days: 30,
        },
        now,
    )
    .expect("code");
    enrol_in_memory(&mut desk, &mut hub, code, now).expect("enrol");
    for i in 0..40 {
        write(&mut hub, &format!("hub-{i}"));
        write(&mut desk, &format!("desk-{i}"));
    }
    (hub, desk)
}

/// A null-modem cable: two pseudo-terminals joined by socat, at `a` and `b`.
struct Cable {
    socat: Child,
    a: PathBuf,
    b: PathBuf,
}

impl Cable {
    fn new(dir: &Path) -> Cable {
        let a = dir.join("tty-a");
        let b = dir.join("tty-b");
        let socat = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", a.display()))
            .arg(format!("pty,raw,echo=0,link={}", b.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (apt-get install socat)");
        for _ in 0..100 {
            if a.exists() && b.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Cable { socat, a, b }
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        let _ = self.socat.kill();
        let _ = self.socat.wait();
    }
}

fn plain(path: &Path, baud: u32) -> SerialLine {
    SerialLine {
        device: Device {
            path: path.to_owned(),
            baud,
            hardware_flow: false,
        },
        modem: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_and_its_hub_converge_over_a_null_modem_cable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, desk) = hub_and_desk(dir.path());
    let hub = Arc::new(Mutex::new(hub));
    let desk = Arc::new(Mutex::new(desk));
    let cable = Cable::new(dir.path());
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let answering = tokio::spawn(answer_calls(
        plain(&cable.b, 115_200),
        hub.clone(),
        Arc::new(Tickets::new()),
        SessionOptions::default(),
        CallPolicy::default(),
        Arc::new(move |_line, result| {
            let _ = done_tx.send(
                result
                    .map(|r| r.session.batches_received)
                    .map_err(|e| e.to_string()),
            );
        }),
        async {
            let _ = stop_rx.await;
        },
    ));
    let tickets = Tickets::new();
    let report = sync_over_serial(
        &plain(&cable.a, 115_200),
        None,
        desk.clone(),
        &tickets,
        SessionOptions::default(),
        &CallPolicy::default(),
    )
    .await
    .expect("sync over the cable");
    assert_eq!(report.calls, 1);
    assert!(report.link.wire_bytes_sent > 0 && report.link.retransmitted_bytes == 0);
    for i in 0..40 {
        assert!(has(&hub, &format!("desk-{i}")), "the hub lacks desk-{i}");
        assert!(has(&desk, &format!("hub-{i}")), "the desk lacks hub-{i}");
    }
    let answered = tokio::time::timeout(Duration::from_secs(10), done_rx.recv())
        .await
        .expect("the hub reports its session")
        .expect("report");
    assert!(answered.is_ok(), "{answered:?}");

    // A second sync resumes the Noise session with the ticket and moves nothing new.
    write(&mut desk.lock().expect("lock"), "desk-late");
    let again = sync_over_serial(
        &plain(&cable.a, 115_200),
        None,
        desk.clone(),
        &tickets,
        SessionOptions::default(),
        &CallPolicy::default(),
    )
    .await
    .expect("second sync");
    assert!(has(&hub, "desk-late"));
    assert!(again.link.wire_bytes_sent < report.link.wire_bytes_sent);
    let _ = stop_tx.send(());
    answering.await.expect("answerer stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_on_the_line_gets_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _desk) = hub_and_desk(dir.path());
    let hub = Arc::new(Mutex::new(hub));
    let mut stranger = store(dir.path(), "stranger");
    trust::init_network(&mut stranger, "other", unix_now()).expect("own network");
    let stranger = Arc::new(Mutex::new(stranger));
    let cable = Cable::new(dir.path());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let answering = tokio::spawn(answer_calls(
        plain(&cable.b, 115_200),
        hub.clone(),
        Arc::new(Tickets::new()),
        SessionOptions::default(),
        CallPolicy::default(),
        Arc::new(|_, _| {}),
        async {
            let _ = stop_rx.await;
        },
    ));
    let result = sync_over_serial(
        &plain(&cable.a, 115_200),
        None,
        stranger.clone(),
        &Tickets::new(),
        SessionOptions::default(),
        &CallPolicy::default(),
    )
    .await;
    assert!(matches!(result, Err(SerialError::Session(_))), "{result:?}");
    assert!(!has(&stranger, "hub-0"));
    let _ = stop_tx.send(());
    answering.await.expect("answerer stops");
    let refused = trust::refusals(&hub.lock().expect("lock"), 10).expect("refusals");
    assert!(!refused.is_empty(), "the hub did not record the stranger");
}

#[tokio::test]
async fn a_missing_or_busy_device_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_hub, desk) = hub_and_desk(dir.path());
    let desk = Arc::new(Mutex::new(desk));
    let missing = sync_over_serial(
        &plain(&dir.path().join("no-such-tty"), 9600),
        None,
        desk.clone(),
        &Tickets::new(),
        SessionOptions::default(),
        &CallPolicy::default(),
    )
    .await;
    assert!(
        matches!(missing, Err(SerialError::Port(PortError::Missing { .. }))),
        "{missing:?}"
    );
    let cable = Cable::new(dir.path());
    let held = tusach_sync::transport::serial::port::open(&plain(&cable.a, 9600).device)
        .expect("first open");
    let busy = sync_over_serial(
        &plain(&cable.a, 9600),
        None,
        desk.clone(),
        &Tickets::new(),
        SessionOptions::default(),
        &CallPolicy::default(),
    )
    .await;
    assert!(
        matches!(busy, Err(SerialError::Port(PortError::Busy { .. }))),
        "{busy:?}"
    );
    drop(held);
}
