//! `GET /static/PATH`: files from `web-ui/static`, embedded in the binary. Each answer carries
//! an ETag (from the file's SHA-256) so a phone revalidates with one tiny request, and is
//! gzipped when the browser says it accepts gzip.

use std::io::Write;

use rust_embed::RustEmbed;
use warp::Reply;
use warp::http::{Response, StatusCode, header};

#[derive(RustEmbed)]
#[folder = "../web-ui/static/"]
struct Assets;

/// Files smaller than this go out as they are: gzip would save less than its own overhead.
const COMPRESS_FROM: usize = 512;

/// The ETag of an embedded file, for links that change when the file does.
pub fn etag(path: &str) -> Option<String> {
    Assets::get(path).map(|file| {
        let hash = file.metadata.sha256_hash();
        format!(
            "\"{}\"",
            hash[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    })
}

pub fn get(
    path: &str,
    if_none_match: Option<String>,
    accept_encoding: Option<String>,
) -> warp::reply::Response {
    let (Some(file), Some(tag)) = (Assets::get(path), etag(path)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let builder = Response::builder()
        .header(header::ETAG, &tag)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "accept-encoding");
    if if_none_match.is_some_and(|sent| sent.split(',').any(|t| t.trim() == tag)) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Vec::new().into())
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    let builder = builder.header(header::CONTENT_TYPE, file.metadata.mimetype());
    let gzip_ok = accept_encoding.is_some_and(|accepted| {
        accepted
            .split(',')
            .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "gzip"))
    });
    let (builder, body) = match (gzip_ok && file.data.len() >= COMPRESS_FROM)
        .then(|| gzip(&file.data))
        .flatten()
    {
        Some(compressed) => (builder.header(header::CONTENT_ENCODING, "gzip"), compressed),
        None => (builder, file.data.into_owned()),
    };
    builder
        .body(body.into())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).ok()?;
    encoder.finish().ok()
}
