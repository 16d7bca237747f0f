//! The webhook events in the OpenAPI document, and as one JSON Schema per event type.
//!
//! OpenAPI 3.1 lists what a service sends under `webhooks`: one entry per event type, its
//! request body the envelope with that type's `data` schema (a component from
//! `assay_api::events`). [`event_schemas`] turns each entry into a standalone JSON Schema
//! (2020-12, every `$ref` inlined) for receivers that validate without reading OpenAPI; they
//! are checked in under `docs/events/` and a test fails when they drift.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

use assay_api::events::EVENTS;

/// Add `webhooks` to the document: one `POST` per event type.
pub(crate) fn declare_events(openapi: &mut OpenApi) {
    let mut webhooks = serde_json::Map::new();
    for (event, schema, summary) in EVENTS {
        let body = json!({
            "type": "object",
            "required": ["type", "timestamp", "data"],
            "properties": {
                "type": { "type": "string", "enum": [event], "description": "The event type." },
                "timestamp": { "type": "string", "format": "date-time", "description": "When it happened (RFC 3339)." },
                "data": { "$ref": format!("#/components/schemas/{schema}") },
            },
        });
        webhooks.insert(
            (*event).to_owned(),
            json!({
                "post": {
                    "operationId": format!("event_{}", event.replace('.', "_")),
                    "summary": summary,
                    "description": "Signed per Standard Webhooks: `webhook-id`, `webhook-timestamp` and \
                                    `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one \
                                    per secret during a rotation's grace period). Delivered at least once: \
                                    deduplicate on `webhook-id`.",
                    "tags": ["webhooks"],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
                    "responses": { "2XX": { "description": "Received. Any other answer, or none within the timeout, is retried with backoff." } },
                }
            }),
        );
    }
    match serde_json::from_value(Value::Object(webhooks)) {
        Ok(paths) => openapi.webhooks = Some(paths),
        Err(e) => panic!("the webhook events do not make OpenAPI paths: {e}"),
    }
}

/// Each event type's standalone JSON Schema, from the document: `(event type, schema)`.
pub fn event_schemas() -> Vec<(String, Value)> {
    let doc = serde_json::to_value(crate::openapi()).unwrap_or_default();
    let components = &doc["components"]["schemas"];
    EVENTS
        .iter()
        .map(|(event, _, summary)| {
            let body = &doc["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]["schema"];
            let mut schema = inline(body, components);
            if let Value::Object(fields) = &mut schema {
                fields.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
                fields.insert("title".into(), json!(event));
                fields.insert("description".into(), json!(summary));
            }
            ((*event).to_owned(), schema)
        })
        .collect()
}

/// `schema` with every `#/components/schemas/…` reference replaced by the component.
fn inline(schema: &Value, components: &Value) -> Value {
    match schema {
        Value::Object(fields) => {
            if let Some(Value::String(reference)) = fields.get("$ref")
                && let Some(name) = reference.strip_prefix("#/components/schemas/")
            {
                return inline(&components[name], components);
            }
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), inline(v, components))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, components)).collect()),
        other => other.clone(),
    }
}
