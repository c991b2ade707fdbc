//! The web server as a phone sees it: a real `tusach serve` on port 0, plain HTTP requests.

use tusach_tests::web::{Response, Server, percent_encode};

/// `tusach serve` over 2,000 sample records (among them works of Nguyễn Du). The full
/// `--demo` library has its own tests; seeding it in every debug-built server would only slow
/// these down.
fn server() -> Server {
    Server::with_records(2_000)
}

fn get(server: &Server, path: &str) -> Response {
    server.client().get(path)
}

fn get_with(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    server.client().get_with(path, headers)
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
