//! `GET /api/openapi.json`: the OpenAPI 3 description of the JSON API. Kept beside the
//! handlers it describes; a test checks every `/api` route appears here.

use warp::Reply;

pub fn get() -> warp::reply::Response {
    warp::reply::json(&document()).into_response()
}

pub fn document() -> serde_json::Value {
    let mut document = base();
    if let (Some(paths), serde_json::Value::Object(more)) = (
        document["paths"].as_object_mut(),
        super::reports::openapi_paths(),
    ) {
        paths.extend(more);
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
        "paths": {
            "/api/records": {
                "get": {
                    "summary": "Search the catalogue",
                    "description": "Diacritic-insensitive, prefix search over titles, authors, subjects and publishers; accented queries rank exact forms first; 10 or 13 digits are looked up as an ISBN.",
                    "parameters": [
                        {"name": "q", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 200}, "description": "What the reader typed; empty gives no results."},
                        {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}
                    ],
                    "responses": {
                        "200": {
                            "description": "Matching records, best first.",
                            "content": {"application/json": {"schema": {
                                "type": "object",
                                "required": ["query", "count", "records"],
                                "properties": {
                                    "query": {"type": "string"},
                                    "count": {"type": "integer"},
                                    "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}}
                                }
                            }}}
                        },
                        "400": {"description": "The query or limit is not acceptable.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                    }
                }
            }
        },
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
