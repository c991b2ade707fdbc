//! The OpenAPI path items of the desk's JSON endpoints, merged into `/api/openapi.json`.

use serde_json::{Value, json};

fn error_ref() -> Value {
    json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}})
}

fn refused() -> Value {
    json!({
        "description": "Refused: every reason is listed.",
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["error", "error_en", "reasons"],
            "properties": {
                "error": {"type": "string"},
                "error_en": {"type": "string"},
                "reasons": {"type": "array", "items": {
                    "type": "object",
                    "required": ["code", "vi", "en"],
                    "properties": {
                        "code": {"type": "string", "description": "card_expired, reader_blocked, too_many_loans, overdue, copy_on_loan, not_for_loan, copy_lost, copy_withdrawn, renewal_limit, not_this_readers_loan, copy_held_for_reader, already_queued, already_borrowed, too_many_holds"},
                        "vi": {"type": "string"},
                        "en": {"type": "string"}
                    }
                }}
            }
        }}}
    })
}

fn body(required: &[&str], properties: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "properties": properties
    }}}})
}

fn ok(description: &str, properties: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties
    }}}})
}

fn csrf() -> Value {
    json!({"name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"}, "description": "The session's CSRF token (GET /api/session)."})
}

fn common(mut responses: serde_json::Map<String, Value>) -> Value {
    responses.insert("400".into(), json!({"description": "A field is missing, of the wrong type, too long or contains markup.", "content": error_ref()}));
    responses.insert(
        "403".into(),
        json!({"description": "Missing or wrong CSRF token.", "content": error_ref()}),
    );
    responses.insert(
        "413".into(),
        json!({"description": "The body is larger than 64 KiB.", "content": error_ref()}),
    );
    Value::Object(responses)
}

fn responses(items: Value) -> Value {
    match items {
        Value::Object(map) => common(map),
        other => other,
    }
}

/// Path items for `/api/loans`, `/api/returns`, renewals, a reader's loans, holds and readers.
pub fn openapi_paths() -> Value {
    let string = json!({"type": "string"});
    let date = json!({"type": "string", "format": "date"});
    json!({
        "/api/loans": {"post": {
            "summary": "Lend a copy to a reader",
            "parameters": [csrf()],
            "requestBody": body(&["card", "barcode"], json!({"card": string, "barcode": string})),
            "responses": responses(json!({
                "201": ok("Lent.", json!({"loan": string, "card": string, "barcode": string, "title": string, "due": date})),
                "404": {"description": "No such reader card or copy.", "content": error_ref()},
                "409": refused()
            }))
        }},
        "/api/returns": {"post": {
            "summary": "Check a copy in",
            "description": "Closes the copy's open loan (or records the return for the sync to pair), works out days late and any fine, and sets the copy aside for the first reader holding its record.",
            "parameters": [csrf()],
            "requestBody": body(&["barcode"], json!({"barcode": string})),
            "responses": responses(json!({
                "200": ok("Checked in.", json!({
                    "barcode": string, "closed": {"type": "boolean"},
                    "loan": {"type": "string", "nullable": true},
                    "late_days": {"type": "integer"}, "fine": {"type": "integer", "description": "VND; 0 when the library charges no fines."},
                    "hold_for": {"type": "object", "nullable": true, "properties": {"hold": string, "card": string, "name": string, "until": date}}
                })),
                "404": {"description": "No such copy.", "content": error_ref()}
            }))
        }},
        "/api/loans/{id}/renew": {"post": {
            "summary": "Renew an open loan from today",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": string}, csrf()],
            "responses": responses(json!({
                "200": ok("Renewed.", json!({"loan": string, "due": date})),
                "404": {"description": "No such open loan.", "content": error_ref()},
                "409": refused()
            }))
        }},
        "/api/readers/{card}/loans": {"get": {
            "summary": "A reader's open loans with titles (staff)",
            "parameters": [{"name": "card", "in": "path", "required": true, "schema": string}],
            "responses": {
                "200": ok("Open loans, oldest first.", json!({
                    "card": string, "name": string,
                    "loans": {"type": "array", "items": {"type": "object", "properties": {
                        "loan": string, "barcode": string, "record": string, "title": string,
                        "out": date, "due": date, "renewals": {"type": "integer"}, "overdue": {"type": "boolean"}
                    }}}
                })),
                "404": {"description": "No such reader.", "content": error_ref()}
            }
        }},
        "/api/holds": {"post": {
            "summary": "Place a hold (reservation) on a record",
            "description": "Staff send X-CSRF-Token; a reader without a session sends the card's PIN in the body instead (throttled: 5 wrong PINs in 15 minutes lock the card for 15 minutes).",
            "requestBody": body(&["card", "record"], json!({"card": string, "record": string, "pin": {"type": "string", "pattern": "^[0-9]{4,8}$"}})),
            "responses": responses(json!({
                "201": ok("Placed.", json!({"hold": string, "card": string, "record": string})),
                "404": {"description": "No such reader or record.", "content": error_ref()},
                "409": refused()
            }))
        }},
        "/api/holds/{id}/cancel": {"post": {
            "summary": "Cancel an open hold",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": string}, csrf()],
            "responses": responses(json!({
                "200": ok("Cancelled; a copy waiting for it passed to the next in line.", json!({
                    "hold": string, "cancelled": {"type": "boolean"},
                    "passed_to": {"type": "object", "nullable": true, "properties": {"hold": string, "card": string, "copy": string, "until": date}}
                })),
                "404": {"description": "No such open hold.", "content": error_ref()}
            }))
        }},
        "/api/readers": {"post": {
            "summary": "Register a reader card",
            "parameters": [csrf()],
            "requestBody": body(&["card", "name", "category", "card_expires"], json!({
                "card": string, "name": {"type": "string", "maxLength": 80},
                "category": {"type": "string", "enum": ["child", "student", "teacher", "adult"]},
                "card_expires": date, "class": string, "school": string, "contact": string,
                "pin": {"type": "string", "pattern": "^[0-9]{4,8}$"}
            })),
            "responses": responses(json!({
                "201": ok("Registered.", json!({"card": string})),
                "409": {"description": "The card number is taken.", "content": error_ref()}
            }))
        }}
    })
}
