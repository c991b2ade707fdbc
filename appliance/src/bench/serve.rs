//! `serve`: 50 concurrent clients against a real `tusach serve` process over loopback for
//! 30 seconds, on 100,000 records, with the mix a busy library sees: readers searching (JSON
//! and the HTML page) and desks lending and taking back copies. Reports latency percentiles,
//! errors, and the server's peak resident memory.
//!
//! The baseline, measured under the same load in the same run, is a small static file: it
//! shows what the machine and the HTTP stack cost before any library work.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tusach_sync::{Durability, StoreOptions, WriteBatch};

use crate::data_dir::DataDir;
use crate::home_library::{HomeLibrary, LibraryChoice};

const CLIENTS: usize = 50;
/// Staff sessions the lending clients share: a busy commune library has a few desks, not
/// fifty librarians; the other clients are readers searching.
const DESKS: usize = 5;
const BENCH_LIBRARY: &str = "thu-vien-bench";
const STAFF_USER: &str = "bench";
const STAFF_PASSWORD: &str = "mật khẩu đo tải";

/// What each client asks, in turn.
pub(super) const QUERIES: &[&str] = &[
    "nguyen du",
    "Nguyễn Du",
    "truyen kieu",
    "lịch sử",
    "lich su viet nam",
    "tho",
    "van hoc",
    "khoa hoc",
    "Hồ Chí Minh",
    "nghe an",
];

pub fn run(records: u64, seconds: u64) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("finding the tusach binary")?;
    let dir = tempfile::tempdir()?;
    let data = DataDir::new(dir.path().join("data"));
    crate::dev::seed(&data, 0, records, 500, true)?;
    prepare_desks(&data)?;

    let mut server = spawn_serve(&exe, data.root())?;
    let pid = server.id();
    let result = (|| {
        let addr = address(&mut server)?;
        load(&addr, Duration::from_secs(seconds))
    })();
    let peak_kb = peak_rss_kb(pid);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.wait();
    let outcome = result?;
    let p = |q: f64| percentile(&outcome.library, q);
    let p99 = p(0.99);
    let rss_mb = peak_kb.map(|kb| kb as f64 / 1024.0);
    Ok(json!({
        "bench": "serve",
        "records": records,
        "clients": CLIENTS,
        "seconds": seconds,
        "requests": outcome.library.len() + outcome.baseline.len(),
        "errors": outcome.errors,
        "first_error": outcome.first_error,
        "searches": outcome.searches,
        "loans": outcome.loans,
        "returns": outcome.returns,
        "p50_ms": p(0.50),
        "p95_ms": p(0.95),
        "p99_ms": p99,
        "baseline_static_p99_ms": percentile(&outcome.baseline, 0.99),
        "rss_mb": rss_mb,
        "goal_met": p99 <= 100.0 && outcome.errors == 0 && rss_mb.is_some_and(|mb| mb <= 128.0),
    }))
}

fn reader_card(client: usize) -> String {
    format!("BENCH{client:03}")
}

fn copy_barcode(client: usize) -> String {
    format!("BENCHC{client:03}")
}

/// One reader and one copy per client, and a staff account, in the bench library.
fn prepare_desks(data: &DataDir) -> anyhow::Result<()> {
    let mut store = data.open_store_with(StoreOptions {
        durability: Durability::Relaxed,
        cache_shards: 16,
    })?;
    let library = HomeLibrary::settle(
        &mut store,
        &LibraryChoice {
            id: Some(BENCH_LIBRARY.into()),
            name: Some("Thư viện đo tải".into()),
        },
    )?;
    let desk = library.desk("bench")?;
    let today = chrono::Local::now().date_naive();
    let expires = today + chrono::Days::new(365);
    let first_record = crate::sample::SampleLibrary::new(2026).record(0).id;
    let mut batch = WriteBatch::new();
    for client in 0..CLIENTS {
        desk.put_reader(
            &mut batch,
            &reader_card(client),
            "Bạn đọc đo tải",
            "adult",
            expires,
            today,
        );
        desk.put_copy(&mut batch, &copy_barcode(client), &first_record, "book");
    }
    store.commit(&batch)?;
    crate::accounts::StaffDirectory::new(&library.id)?.set_from_console(
        &mut store,
        STAFF_USER,
        "Đo tải",
        crate::accounts::Role::Librarian,
        STAFF_PASSWORD,
        false,
    )?;
    Ok(())
}

/// Reads `serve`'s stdout until it says where it listens (the first start prints the first
/// admin's password before that), then keeps draining it.
pub(super) fn address(server: &mut std::process::Child) -> anyhow::Result<String> {
    addresses(server).map(|(web, _)| web)
}

/// Starts `tusach serve` on `data` with free loopback ports; read where with [`addresses`].
pub(super) fn spawn_serve(
    exe: &std::path::Path,
    data: &std::path::Path,
) -> anyhow::Result<std::process::Child> {
    Command::new(exe)
        .arg("--data")
        .arg(data)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sync-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting tusach serve")
}

/// The web and sync addresses `tusach serve` says it listens on.
pub(super) fn addresses(server: &mut std::process::Child) -> anyhow::Result<(String, String)> {
    let stdout = server
        .stdout
        .take()
        .context("no stdout from tusach serve")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        if let Some(addr) = line
            .split("running: http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            let addr = addr.to_owned();
            let sync = line
                .split("(sync on ")
                .nth(1)
                .and_then(|rest| rest.split(')').next())
                .unwrap_or_default()
                .to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).unwrap_or(0) > 0 {
                    sink.clear();
                }
            });
            return Ok((addr, sync));
        }
        line.clear();
    }
    bail!("tusach serve did not say where it listens")
}

#[derive(Default)]
struct Outcome {
    /// Latencies of library requests (searches, loans, returns), in milliseconds.
    library: Vec<f64>,
    baseline: Vec<f64>,
    errors: u64,
    first_error: Option<String>,
    searches: u64,
    loans: u64,
    returns: u64,
}

fn load(addr: &str, duration: Duration) -> anyhow::Result<Outcome> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut sessions = Vec::new();
    for _ in 0..DESKS {
        sessions.push(Connection::open(addr)?.login()?);
    }
    // Every client connects first; the measured window starts when all are ready.
    let ready = Arc::new(Barrier::new(CLIENTS + 1));
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let addr = addr.to_owned();
        let stop = stop.clone();
        let ready = ready.clone();
        let session = sessions[client % DESKS].clone();
        clients.push(std::thread::spawn(move || {
            run_client(&addr, client, session, &ready, &stop)
        }));
    }
    ready.wait();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut total = Outcome::default();
    for client in clients {
        let outcome = client
            .join()
            .map_err(|_| anyhow::anyhow!("a bench client panicked"))?;
        total.library.extend(outcome.library);
        total.baseline.extend(outcome.baseline);
        total.errors += outcome.errors;
        total.first_error = total.first_error.or(outcome.first_error);
        total.searches += outcome.searches;
        total.loans += outcome.loans;
        total.returns += outcome.returns;
    }
    Ok(total)
}

/// One client: connects, then loops over its mix until told to stop, lending with its desk's
/// session. Every fifth request is a
/// desk action (a loan of its own copy, then its return), every tenth the HTML search page,
/// every twentieth the static baseline; the rest are JSON searches.
fn run_client(
    addr: &str,
    client: usize,
    (cookie, csrf): (String, String),
    ready: &Barrier,
    stop: &AtomicBool,
) -> Outcome {
    let mut outcome = Outcome::default();
    let connection = Connection::open(addr);
    ready.wait();
    let mut connection = match connection {
        Ok(connection) => connection,
        Err(e) => {
            outcome.errors += 1;
            outcome.first_error = Some(format!("connect: {e}"));
            return outcome;
        }
    };
    let mut lent = false;
    let mut n: usize = client;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let query = QUERIES[n % QUERIES.len()];
        let (request, baseline) = if n.is_multiple_of(20) {
            (Request::get("/static/tusach.css"), true)
        } else if n.is_multiple_of(5) {
            let request = if lent {
                Request::post_json(
                    "/api/returns",
                    &json!({"barcode": copy_barcode(client)}),
                    &cookie,
                    &csrf,
                )
            } else {
                Request::post_json(
                    "/api/loans",
                    &json!({"card": reader_card(client), "barcode": copy_barcode(client)}),
                    &cookie,
                    &csrf,
                )
            };
            (request, false)
        } else if n % 10 == 1 {
            (Request::get(&format!("/search?q={}", encode(query))), false)
        } else {
            (
                Request::get(&format!("/api/records?q={}", encode(query))),
                false,
            )
        };
        let started = Instant::now();
        match connection.send(&request) {
            Ok((status, _)) if (200..300).contains(&status) => {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                if baseline {
                    outcome.baseline.push(ms);
                } else {
                    outcome.library.push(ms);
                    if request.path == "/api/loans" {
                        outcome.loans += 1;
                        lent = true;
                    } else if request.path == "/api/returns" {
                        outcome.returns += 1;
                        lent = false;
                    } else {
                        outcome.searches += 1;
                    }
                }
            }
            Ok((status, body)) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| format!("{} {status}: {body}", request.path));
            }
            Err(e) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| format!("{}: {e}", request.path));
                match Connection::open(addr) {
                    Ok(c) => connection = c,
                    Err(_) => return outcome,
                }
            }
        }
    }
    outcome
}

pub(super) struct Request {
    method: &'static str,
    path: String,
    headers: String,
    body: Vec<u8>,
}

impl Request {
    pub(super) fn get(path: &str) -> Request {
        Request {
            method: "GET",
            path: path.split('?').next().unwrap_or(path).to_owned() + &query_of(path),
            headers: String::new(),
            body: Vec::new(),
        }
    }

    fn post_json(path: &str, body: &serde_json::Value, cookie: &str, csrf: &str) -> Request {
        Request {
            method: "POST",
            path: path.to_owned(),
            headers: format!(
                "Content-Type: application/json\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n"
            ),
            body: body.to_string().into_bytes(),
        }
    }
}

fn query_of(path: &str) -> String {
    path.split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default()
}

pub(super) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A kept-alive HTTP/1.1 connection, as a browser holds one.
pub(super) struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    pub(super) fn open(addr: &str) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Logs in with the bench's staff account; returns the session cookie and CSRF token.
    fn login(&mut self) -> anyhow::Result<(String, String)> {
        let form = format!(
            "username={}&password={}",
            encode(STAFF_USER),
            encode(STAFF_PASSWORD)
        );
        let request = Request {
            method: "POST",
            path: "/staff/login".into(),
            headers: "Content-Type: application/x-www-form-urlencoded\r\n".into(),
            body: form.into_bytes(),
        };
        let (status, head, _) = self.exchange(&request)?;
        let cookie = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .map(|l| l["set-cookie:".len()..].trim())
            .find(|c| c.starts_with("tusach_session="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
            .with_context(|| format!("login answered {status} without a session cookie"))?;
        let session = Request {
            method: "GET",
            path: "/api/session".into(),
            headers: format!("Cookie: {cookie}\r\n"),
            body: Vec::new(),
        };
        let (_, _, body) = self.exchange(&session)?;
        let csrf = serde_json::from_slice::<serde_json::Value>(&body)?["csrf"]
            .as_str()
            .context("no csrf in /api/session")?
            .to_owned();
        Ok((cookie, csrf))
    }

    fn send(&mut self, request: &Request) -> anyhow::Result<(u16, String)> {
        let (status, _, body) = self.exchange(request)?;
        Ok((
            status,
            String::from_utf8_lossy(&body).chars().take(200).collect(),
        ))
    }

    pub(super) fn exchange(&mut self, request: &Request) -> anyhow::Result<(u16, String, Vec<u8>)> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: tusach\r\n{}",
            request.method, request.path, request.headers
        );
        if request.method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&request.body);
        self.writer.write_all(&bytes)?;
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("connection closed");
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status line")?;
        let lower = head.to_ascii_lowercase();
        let body = if let Some(length) = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body)?;
            body
        } else if lower.contains("transfer-encoding: chunked") {
            let mut body = Vec::new();
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size)?;
                let size = usize::from_str_radix(size.trim(), 16)?;
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
            body
        } else {
            Vec::new()
        };
        Ok((status, head, body))
    }
}

pub(super) fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    (sorted[index.min(sorted.len() - 1)] * 100.0).round() / 100.0
}

/// Peak resident memory (VmHWM) of another process, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
