//! The statuses an operation can return before its handler runs, declared in the OpenAPI
//! document: the document is generated from the handlers' annotations, and these come from how
//! a request reaches a handler (its token, its path parameters, its body's media type and size,
//! the server's time limit), so they are declared here once, by the operation's shape, instead of
//! by hand on each handler.

use assay_api::ProblemCode;
use utoipa::openapi::path::Operation;
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// Declare on every operation the problems the HTTP layer answers with.
pub(crate) fn declare_transport_problems(openapi: &mut OpenApi) {
    for (path, item) in &mut openapi.paths.paths {
        let has_path_params = path.contains('{');
        for operation in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            declare(operation, has_path_params);
        }
    }
}

fn declare(operation: &mut Operation, has_path_params: bool) {
    let body = match &operation.request_body {
        Some(RefOr::T(RequestBody { content, .. })) => content.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let json = body.iter().any(|c| c == "application/json");
    let multipart = body.iter().any(|c| c == "multipart/form-data");
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut add = |code: ProblemCode, why: &str| {
        operation.responses.responses.entry(code.status().to_string()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(why)
                    .content("application/problem+json", Content::new(Some(Ref::from_schema_name("Problem"))))
                    .build(),
            )
        });
    };
    if json {
        add(
            ProblemCode::InvalidRequest,
            "The body is not JSON, or a path parameter does not parse (`invalid_request`)",
        );
    } else if multipart {
        add(
            ProblemCode::InvalidRequest,
            "The form is malformed (no boundary, a field that cannot be read), or a path parameter does not parse (`invalid_request`)",
        );
    } else if has_path_params {
        add(ProblemCode::InvalidRequest, "A path parameter does not parse (`invalid_request`)");
    }
    if secured {
        add(
            ProblemCode::Unauthenticated,
            "No valid token (`unauthenticated`), or an expired (`token_expired`) or revoked (`token_revoked`) one",
        );
    }
    if json || multipart {
        add(ProblemCode::PayloadTooLarge, "The body is larger than the server accepts (`payload_too_large`)");
        add(
            ProblemCode::UnsupportedMediaType,
            "The body is not sent with the content type this operation reads (`unsupported_media_type`)",
        );
    }
    if json {
        add(
            ProblemCode::InvalidField,
            "A field is missing, has the wrong type or breaks its schema's constraints (`invalid_field`, with a pointer to the field)",
        );
    }
    add(ProblemCode::Timeout, "The request took longer than the server allows (`timeout`); try again");
}

#[cfg(test)]
mod tests {
    use assay_core::deprecation::Stability;
    use assay_core::notice::{Audience, MAX_SUMMARY, NoticeKind};
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::openapi()).unwrap()
    }

    fn values(document: &Value, schema: &str) -> Vec<String> {
        let values = document["components"]["schemas"][schema]["enum"].as_array();
        values
            .unwrap_or_else(|| panic!("{schema} lists no values"))
            .iter()
            .map(|v| v.to_string().replace('"', ""))
            .collect()
    }

    /// The wire crate names the values and limits the server enforces for its schemas; this is
    /// where the two are held together.
    #[test]
    fn the_documented_values_and_limits_are_the_server_s() {
        let doc = document();
        assert_eq!(values(&doc, "NoticeKind"), NoticeKind::ALL.map(|k| k.as_str().to_owned()));
        assert_eq!(values(&doc, "Audience"), Audience::ALL.map(|a| a.as_str().to_owned()));
        assert_eq!(values(&doc, "Stability"), Stability::ALL.map(|s| s.as_str().to_owned()));
        let mut events: Vec<String> = assay_service::webhooks::EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect();
        events.push("*".into());
        assert_eq!(values(&doc, "EventType"), events);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Enforce"]["properties"]["grace_days"]["maximum"], assay_service::rollout::MAX_GRACE_DAYS);
        for (schema, field) in [("CreateNotice", "summary"), ("CreateDeprecation", "summary")] {
            assert_eq!(schemas[schema]["properties"][field]["maxLength"], MAX_SUMMARY, "{schema}.{field}");
        }
    }

    #[test]
    fn every_operation_declares_what_reaching_it_can_answer() {
        let doc = document();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let statuses = operation["responses"].as_object().unwrap();
                let has = |status: &str| statuses.contains_key(status);
                let what = format!("{method} {path}");
                assert!(has("503"), "{what}: the time limit");
                if operation.get("security").is_some_and(|s| !s.as_array().unwrap().is_empty()) {
                    assert!(has("401"), "{what}: a missing token");
                }
                if path.contains('{') {
                    assert!(has("400"), "{what}: a path parameter that does not parse");
                }
                if operation.get("requestBody").is_some() {
                    for status in ["400", "413", "415"] {
                        assert!(has(status), "{what}: {status} for its body");
                    }
                }
                for (status, response) in statuses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
                    let problem = response["content"].get("application/problem+json");
                    assert!(problem.is_some(), "{what}: {status} is not a problem document");
                }
                operations += 1;
            }
        }
        assert!(operations >= 35, "{operations} operations");
    }
}
