//! The web server as a phone sees it: a real `tusach serve` on port 0, plain HTTP requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tusach_tests::process::{Tusach, run_ok};

struct Server {
    process: Tusach,
    addr: String,
    _dir: tempfile::TempDir,
}

/// Starts `tusach serve` on free ports over 2,000 sample records (among them works of
/// Nguyễn Du) and waits until it says where it listens. The full `--demo` library has its own
/// test; seeding it in every debug-built server would only slow these down.
fn server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    run_ok(
        &data,
        &[
            "dev",
            "seed",
            "--records",
            "2000",
            "--per-commit",
            "500",
            "--relaxed",
        ],
        Duration::from_secs(120),
    );
    let mut process = Tusach::spawn(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sync-listen",
            "127.0.0.1:0",
        ],
    );
    let line = process
        .wait_for_line("Tủ Sách is running: http://", Duration::from_secs(60))
        .unwrap_or_else(|| panic!("serve did not start\n{}", process.diagnostics()));
    let addr = line.split_whitespace().next().expect("address").to_owned();
    Server {
        process,
        addr,
        _dir: dir,
    }
}

struct Response {
    status: u16,
    content_type: String,
    head: String,
    body: String,
}

impl Response {
    /// A response header's value (names compared without case).
    fn header(&self, name: &str) -> Option<String> {
        let name = format!("{}:", name.to_ascii_lowercase());
        self.head.lines().find_map(|line| {
            line.to_ascii_lowercase()
                .starts_with(&name)
                .then(|| line[name.len()..].trim().to_owned())
        })
    }
}

/// One GET with `Connection: close`; the path is sent as given (percent-encode it first).
fn get(server: &Server, path: &str) -> Response {
    get_with(server, path, &[])
}

fn get_with(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: tusach\r\n{extra}Connection: close\r\n\r\n"
    )
    .expect("request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
    let (head, body) = (head.as_str(), body.as_str());
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
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status,
        content_type,
        head: head.to_owned(),
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_catalogue_answers_readers_in_json_and_html() {
    let mut server = server();

    let health = get(&server, "/healthz");
    assert_eq!(health.status, 200, "{}", health.body);
    assert!(health.body.contains("\"status\":\"ok\""), "{}", health.body);

    // The sample catalogue has Nguyễn Du among its authors; an unaccented query finds him.
    let api = get(&server, "/api/records?q=nguyen%20du&limit=5");
    assert_eq!(api.status, 200, "{}", api.body);
    assert!(api.content_type.starts_with("application/json"));
    assert!(api.body.contains("Nguyễn Du"), "{}", api.body);
    let accented = get(
        &server,
        &format!("/api/records?q={}", percent_encode("Nguyễn Du")),
    );
    assert!(accented.body.contains("Nguyễn Du"), "{}", accented.body);

    let page = get(&server, "/search?q=nguyen+du");
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("<html lang=\"vi\">"));
    assert!(page.body.contains("Nguyễn Du"));
    assert!(
        !page.body.contains("<script"),
        "the readers' page needs no JavaScript"
    );
    assert!(
        page.body.len() < 60 * 1024,
        "first load stays small: {} bytes",
        page.body.len()
    );
    let english = get(&server, "/search?q=nguyen+du&lang=en");
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("Find a book"));

    let spec = get(&server, "/api/openapi.json");
    assert_eq!(spec.status, 200);
    assert!(spec.body.contains("\"openapi\":\"3.0.3\"") && spec.body.contains("/api/records"));

    assert!(
        server.process.try_wait().is_none(),
        "the server is still running"
    );
}

#[test]
fn bad_input_gets_a_clear_message_and_markup_is_escaped() {
    let server = server();
    let too_long = "a".repeat(500);
    let bad = get(&server, &format!("/api/records?q={too_long}"));
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("quá dài"),
        "a Vietnamese message: {}",
        bad.body
    );
    for limit in ["0", "-1", "abc", "1000"] {
        let bad = get(&server, &format!("/api/records?q=kieu&limit={limit}"));
        assert_eq!(bad.status, 400, "limit={limit}: {}", bad.body);
        assert!(bad.body.contains("limit"), "{}", bad.body);
    }
    let script = percent_encode("<script>alert(1)</script>");
    let page = get(&server, &format!("/search?q={script}"));
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;"));
    let missing = get(&server, "/no/such/page");
    assert_eq!(missing.status, 404);
}

#[test]
fn embedded_assets_carry_an_etag_and_are_gzipped_only_when_asked() {
    let server = server();
    let css = get(&server, "/static/tusach.css");
    assert_eq!(css.status, 200);
    assert!(css.content_type.starts_with("text/css"), "{}", css.head);
    assert_eq!(css.header("content-encoding"), None, "not asked for gzip");
    assert!(css.body.contains("font-family"));
    let etag = css.header("etag").expect("an ETag");

    let again = get_with(&server, "/static/tusach.css", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304, "{}", again.head);
    assert!(again.body.is_empty());

    let zipped = get_with(
        &server,
        "/static/tusach.css",
        &[("Accept-Encoding", "br, gzip;q=0.8")],
    );
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(zipped.header("vary").as_deref(), Some("accept-encoding"));

    assert_eq!(get(&server, "/static/no-such-file.css").status, 404);
    assert_eq!(get(&server, "/static/../Cargo.toml").status, 404);
    let page = get(&server, "/search");
    assert!(
        page.body.contains("/static/tusach.css?v="),
        "the page links its stylesheet"
    );
}
