//! A real `tusach serve` on port 0 and a small HTTP/1.1 client with a cookie jar, for tests
//! that talk to the web server as a phone or a librarian's browser would.
//!
//! Plain `std::net` on purpose: every byte the server sends is visible, and nothing in the
//! client hides a redirect or a header.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{Tusach, run_ok};

const DEMO_LIBRARY: &str = tusach::demo::DEMO_LIBRARY;

/// The password tests give the first admin.
pub const STAFF_PASSWORD: &str = "mật khẩu thử nghiệm";

/// A running appliance and its data folder.
pub struct Server {
    pub process: Tusach,
    pub addr: String,
    pub data: PathBuf,
    /// Lines `serve` printed before it said where it listens (the first admin's password).
    pub startup: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// `tusach serve` on free ports over `records` sample records (no copies or readers).
    pub fn with_records(records: u64) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let records = records.to_string();
        // Joined before seeding, so the first sync carries nothing but the handshake.
        crate::network::join(&Server::hub_of(&data), &data, DEMO_LIBRARY);
        run_ok(
            &data,
            &[
                "dev",
                "seed",
                "--records",
                &records,
                "--per-commit",
                "500",
                "--relaxed",
            ],
            Duration::from_secs(180),
        );
        Server::start(data, &[], Some(dir))
    }

    /// The district hub's data folder (never served) that enrolled this appliance: tests
    /// enrol peers there so they may sync with it.
    pub fn hub_of(data: &Path) -> PathBuf {
        data.with_file_name("district-hub")
    }

    pub fn hub(&self) -> PathBuf {
        Server::hub_of(&self.data)
    }

    /// `tusach serve --demo`: the whole demo library (2,000 records, copies, readers, loans).
    pub fn demo() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        crate::network::join(&Server::hub_of(&data), &data, DEMO_LIBRARY);
        Server::start(data, &["--demo"], Some(dir))
    }

    /// `tusach serve` on an existing data folder, with extra arguments.
    pub fn start(data: PathBuf, extra: &[&str], dir: Option<tempfile::TempDir>) -> Server {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sync-listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let mut process = Tusach::spawn(&data, &args);
        let line = process
            .wait_for_line("Tủ Sách is running: http://", Duration::from_secs(300))
            .unwrap_or_else(|| panic!("serve did not start\n{}", process.diagnostics()));
        let addr = line.split_whitespace().next().expect("address").to_owned();
        let startup = process.seen_lines().to_vec();
        Server {
            process,
            addr,
            data,
            startup,
            _dir: dir,
        }
    }

    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Where this server's sync listener answers peers, as it printed at start.
    pub fn sync_addr(&self) -> String {
        self.startup
            .iter()
            .find_map(|line| line.split("(sync on ").nth(1))
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("serve did not say where it syncs: {:?}", self.startup))
            .to_owned()
    }

    /// The first admin's one-time password, as `serve` printed it at first start.
    pub fn one_time_password(&self) -> Option<String> {
        self.startup
            .iter()
            .find_map(|line| line.split("one-time password: ").nth(1))
            .map(|p| p.trim().to_owned())
    }

    /// A librarian's browser: logged in as the first admin, who has replaced the one-time
    /// password with [`STAFF_PASSWORD`] (the first call does that; later calls log in again).
    pub fn staff_client(&self) -> Client {
        let mut client = self.client();
        let response = client.login("admin", STAFF_PASSWORD);
        if response.status == 303 {
            return client;
        }
        let one_time = self
            .one_time_password()
            .unwrap_or_else(|| panic!("serve printed no one-time password: {:?}", self.startup));
        let first = client.login("admin", &one_time);
        assert_eq!(
            first.status, 303,
            "login with the one-time password: {}",
            first.body
        );
        let changed = client.post_form(
            "/staff/password",
            &[
                ("current", &one_time),
                ("new", STAFF_PASSWORD),
                ("repeat", STAFF_PASSWORD),
            ],
        );
        assert_eq!(changed.status, 303, "password change: {}", changed.body);
        let session = client.get("/api/session");
        assert_eq!(session.status, 200, "{}", session.body);
        client.csrf = session.json()["csrf"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        client
    }

    /// A client without cookies: a reader's phone.
    pub fn client(&self) -> Client {
        Client {
            addr: self.addr.clone(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    /// The titles the readers' search (`/api/records?q=`) finds for `query`.
    pub fn titles_found(&self, query: &str) -> Vec<String> {
        let found = self
            .client()
            .get(&format!("/api/records?q={}", percent_encode(query)))
            .json();
        found["records"]
            .as_array()
            .expect("records")
            .iter()
            .filter_map(|r| r["title"].as_str().map(str::to_owned))
            .collect()
    }
}

/// One HTTP answer.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub head: String,
    pub body: String,
    /// The body as sent (dechunked): a PDF or other binary answer, which `body` mangles.
    pub bytes: Vec<u8>,
}

impl Response {
    /// A response header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<String> {
        let name = format!("{}:", name.to_ascii_lowercase());
        self.head.lines().find_map(|line| {
            line.to_ascii_lowercase()
                .starts_with(&name)
                .then(|| line[name.len()..].trim().to_owned())
        })
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// A browser-like client: keeps cookies, remembers the CSRF token of its session.
#[derive(Clone, Debug)]
pub struct Client {
    pub addr: String,
    pub cookies: BTreeMap<String, String>,
    /// The session's CSRF token, after [`Client::login`].
    pub csrf: String,
}

impl Client {
    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    pub fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", path, headers, b"")
    }

    /// A URL-encoded form post; `csrf` is added when the client has a session.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>();
        if !self.csrf.is_empty() && !fields.iter().any(|(k, _)| *k == "csrf") {
            body.push(format!("csrf={}", percent_encode(&self.csrf)));
        }
        let body = body.join("&");
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    /// A `multipart/form-data` post, as a browser sends a form with a file: the `fields`, then
    /// `file` as (field name, file name, bytes); `csrf` is added first when the client has a
    /// session and `fields` has none.
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Response {
        const BOUNDARY: &str = "----tusach-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        let mut part = |name: &str, file_name: Option<&str>, content: &[u8]| {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let disposition = match file_name {
                Some(file_name) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        };
        if !self.csrf.is_empty() && !fields.iter().any(|(k, _)| *k == "csrf") {
            part("csrf", None, self.csrf.as_bytes());
        }
        for (name, value) in fields {
            part(name, None, value.as_bytes());
        }
        if let Some((name, file_name, content)) = file {
            part(name, Some(file_name), content);
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        self.request("POST", path, &[("Content-Type", &content_type)], &body)
    }

    /// A JSON post with the session's `X-CSRF-Token`.
    pub fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Response {
        let csrf = self.csrf.clone();
        self.request(
            "POST",
            path,
            &[
                ("Content-Type", "application/json"),
                ("X-CSRF-Token", &csrf),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// Logs in through the login form and fetches the session's CSRF token.
    pub fn login(&mut self, username: &str, password: &str) -> Response {
        let response = self.post_form(
            "/staff/login",
            &[("username", username), ("password", password)],
        );
        let session = self.get("/api/session");
        if session.status == 200 {
            self.csrf = session.json()["csrf"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
        response
    }

    /// Any request; the path is sent as given (percent-encode queries first).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut extra: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect();
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            extra.push_str(&format!("Cookie: {jar}\r\n"));
        }
        if method != "GET" || !body.is_empty() {
            extra.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: tusach\r\n{extra}Connection: close\r\n\r\n")
                .into_bytes();
        request.extend_from_slice(body);
        stream.write_all(&request).expect("request");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let response = parse(&raw);
        for line in response.head.lines() {
            if let Some(cookie) = line
                .to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| line["set-cookie:".len()..].trim())
                && let Some((pair, attributes)) = cookie.split_once(';').or(Some((cookie, "")))
                && let Some((name, value)) = pair.split_once('=')
            {
                let expired = attributes.to_ascii_lowercase().contains("max-age=0");
                if expired || value.is_empty() {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        response
    }
}

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    let raw_body = &raw[split + 4..];
    let bytes = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Response {
        status,
        content_type,
        head,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&body[..line_end]);
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        let rest = &body[line_end + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        body = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// Percent-encodes a query or form component.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
