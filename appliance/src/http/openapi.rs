//! `GET /api/openapi.json`: the OpenAPI 3 description of the JSON API. Kept beside the
//! handlers it describes; a test checks every `/api` route appears here.

use warp::Reply;

pub fn get() -> warp::reply::Response {
    warp::reply::json(&document()).into_response()
}

/// The whole document: the shared parts, then each area's own paths.
pub fn document() -> serde_json::Value {
    let mut document = base();
    for area_paths in [
        super::session::openapi_paths(),
        super::desk::openapi_paths(),
        super::reports::openapi_paths(),
        super::opac::openapi_paths(),
        super::cataloguing::openapi_paths(),
    ] {
        let (Some(paths), serde_json::Value::Object(more)) =
            (document["paths"].as_object_mut(), area_paths)
        else {
            continue;
        };
        // Two areas may describe different methods of one path (GET and POST /api/records).
        for (path, methods) in more {
            match (paths.get_mut(&path), methods) {
                (Some(serde_json::Value::Object(known)), serde_json::Value::Object(methods)) => {
                    known.extend(methods)
                }
                (_, methods) => {
                    paths.insert(path, methods);
                }
            }
        }
    }
    document
}

fn base() -> serde_json::Value {
    let error = serde_json::json!({
        "type": "object",
        "required": ["error", "error_en"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, in Vietnamese."},
            "error_en": {"type": "string", "description": "The same in English."}
        }
    });
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Tủ Sách API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API of a Tủ Sách library appliance."
        },
        "paths": {},
        "components": {
            "schemas": {
                "Record": {
                    "type": "object",
                    "required": ["id", "title", "authors", "publisher", "subjects"],
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "authors": {"type": "array", "items": {"type": "string"}},
                        "publisher": {"type": "string"},
                        "year": {"type": "integer", "nullable": true},
                        "isbn": {"type": "string", "nullable": true},
                        "language": {"type": "string", "nullable": true},
                        "ddc": {"type": "string", "nullable": true},
                        "subjects": {"type": "array", "items": {"type": "string"}}
                    }
                },
                "Error": error
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// `warp::path!("api" / "loans" / String / "renew")` → `/api/loans/{}/renew`.
    fn api_routes_in(source: &str, found: &mut BTreeSet<String>) {
        let mut rest = source;
        while let Some(start) = rest.find("warp::path!(") {
            rest = &rest[start + "warp::path!(".len()..];
            let Some(end) = rest.find(')') else { break };
            let segments: Vec<String> = rest[..end]
                .split('/')
                .map(str::trim)
                .map(
                    |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(literal) => literal.to_owned(),
                        None => "{}".to_owned(),
                    },
                )
                .collect();
            if segments.first().is_some_and(|s| s == "api") {
                found.insert(format!("/{}", segments.join("/")));
            }
        }
    }

    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read http/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("openapi.rs") {
                api_routes_in(&std::fs::read_to_string(&path).expect("source"), found);
            }
        }
    }

    #[test]
    fn every_api_route_is_described() {
        let mut routes = BTreeSet::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
            &mut routes,
        );
        let document = super::document();
        let described: BTreeSet<String> = document["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|path| {
                path.split('/')
                    .map(|s| if s.starts_with('{') { "{}" } else { s })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        assert!(routes.contains("/api/records"), "{routes:?}");
        let missing: Vec<_> = routes
            .iter()
            .filter(|r| !described.contains(*r) && r.as_str() != "/api/openapi.json")
            .collect();
        assert!(
            missing.is_empty(),
            "routes missing from the OpenAPI document: {missing:?}"
        );
    }
}
