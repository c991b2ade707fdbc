//! `GET /api/openapi.json`: the OpenAPI 3 description of the JSON API. Kept beside the
//! handlers it describes; a test checks every `/api` route appears here.

use warp::Reply;

pub fn get() -> warp::reply::Response {
    warp::reply::json(&document()).into_response()
}

pub fn document() -> serde_json::Value {
    let error = serde_json::json!({
        "type": "object",
        "required": ["error", "error_en"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, in Vietnamese."},
            "error_en": {"type": "string", "description": "The same in English."}
        }
    });
    let mut paths = serde_json::Map::new();
    for area in [
        super::opac::openapi_paths(),
        super::cataloguing::openapi_paths(),
    ] {
        // Two areas may describe different methods of one path (GET and POST /api/records).
        if let serde_json::Value::Object(items) = area {
            for (path, methods) in items {
                match (paths.get_mut(&path), methods) {
                    (Some(serde_json::Value::Object(known)), serde_json::Value::Object(more)) => {
                        known.extend(more)
                    }
                    (_, methods) => {
                        paths.insert(path, methods);
                    }
                }
            }
        }
    }
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Tủ Sách API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API of a Tủ Sách library appliance."
        },
        "paths": paths,
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
