//! The statuses an operation can return before its handler runs, declared in the OpenAPI
//! document: the document is generated from the handlers' annotations, and these come from how
//! a request reaches a handler (its token, its path parameters, its body's media type and size,
//! the server's time limit), so they are declared here once, by the operation's shape, instead of
//! by hand on each handler.

use assay_api::ProblemCode;
use assay_service::access::Permission;
use utoipa::openapi::path::Operation;
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// The permission each operation needs, by its `operationId` (`None`: public). Declared on the
/// operation as `x-assay-permission` with the roles that hold it and the token scope it needs;
/// the isolation matrix test holds every operation × every role to it, and a test fails on an
/// operation missing here, so a new route cannot escape the matrix.
/// `create_deprecation` is a listing's (`submit`) or, for a platform API version, `govern`.
pub(crate) const PERMISSIONS: &[(&str, Option<Permission>)] = &[
    ("create_listing", Some(Permission::Submit)),
    ("list_listings", Some(Permission::Read)),
    ("get_listing", Some(Permission::Read)),
    ("update_listing", Some(Permission::Submit)),
    ("submit_version", Some(Permission::Submit)),
    ("get_version", Some(Permission::Read)),
    ("get_bundle", Some(Permission::Read)),
    ("review_queue", Some(Permission::SeeOperations)),
    ("assign_review", Some(Permission::Review)),
    ("unassign_review", Some(Permission::Review)),
    ("decide", Some(Permission::Review)),
    ("move_version", Some(Permission::Submit)),
    ("expire_waiver", Some(Permission::Review)),
    ("create_waiver", Some(Permission::Review)),
    ("list_waivers", Some(Permission::Read)),
    ("request_exception", Some(Permission::Submit)),
    ("list_exceptions", Some(Permission::Read)),
    ("get_exception", Some(Permission::Read)),
    ("decide_exception", Some(Permission::Review)),
    ("file_appeal", Some(Permission::Submit)),
    ("list_appeals", Some(Permission::Read)),
    ("get_appeal", Some(Permission::Read)),
    ("decide_appeal", Some(Permission::Review)),
    ("conversation", Some(Permission::Read)),
    ("post_message", Some(Permission::Converse)),
    ("place_hold", Some(Permission::Review)),
    ("release_hold", Some(Permission::Review)),
    ("checkpoints", None),
    ("verify", Some(Permission::VerifyAudit)),
    ("create_listing_notice", Some(Permission::Submit)),
    ("list_listing_notices", Some(Permission::Read)),
    ("listing_notices_feed", Some(Permission::Read)),
    ("create_platform_notice", Some(Permission::Govern)),
    ("list_notices", Some(Permission::Read)),
    ("get_notice", Some(Permission::Read)),
    ("create_deprecation", Some(Permission::Submit)),
    ("list_deprecations", Some(Permission::Read)),
    ("list_listing_deprecations", Some(Permission::Read)),
    ("standing", Some(Permission::SeeStanding)),
    ("timeline", Some(Permission::Read)),
    ("list_rules", None),
    ("get_rule", None),
    ("get_active_pack", None),
    ("check_context", Some(Permission::Read)),
    ("healthz", None),
    ("readyz", None),
    ("metrics_text", None),
    ("publish_pack", Some(Permission::Govern)),
    ("list_packs", Some(Permission::SeeOperations)),
    ("get_pack", Some(Permission::SeeOperations)),
    ("enforce_pack", Some(Permission::Govern)),
    ("queue", Some(Permission::SeeOperations)),
    ("update_checks", Some(Permission::Submit)),
    ("rechecks", Some(Permission::Read)),
    ("me", Some(Permission::Read)),
    ("email_preferences", Some(Permission::Read)),
    ("set_email_preferences", Some(Permission::Read)),
    ("list_members", Some(Permission::Read)),
    ("add_member", Some(Permission::ManageMembers)),
    ("change_member", Some(Permission::ManageMembers)),
    ("remove_member", Some(Permission::ManageMembers)),
    ("issue_member_token", Some(Permission::ManageMembers)),
    ("invite", Some(Permission::ManageMembers)),
    ("list_invitations", Some(Permission::ManageMembers)),
    ("list_tokens", Some(Permission::OwnTokens)),
    ("create_token", Some(Permission::OwnTokens)),
    ("revoke_token", Some(Permission::OwnTokens)),
    ("rotate_token", Some(Permission::OwnTokens)),
    ("list_partners", Some(Permission::Read)),
    ("create_partner", Some(Permission::DecideCapabilities)),
    ("get_partner", Some(Permission::Read)),
    ("decide_capabilities", Some(Permission::DecideCapabilities)),
    ("create_endpoint", Some(Permission::ManageWebhooks)),
    ("list_endpoints", Some(Permission::Read)),
    ("delivery_log", Some(Permission::Read)),
    ("get_endpoint", Some(Permission::Read)),
    ("update_endpoint", Some(Permission::ManageWebhooks)),
    ("delete_endpoint", Some(Permission::ManageWebhooks)),
    ("pause_endpoint", Some(Permission::ManageWebhooks)),
    ("resume_endpoint", Some(Permission::ManageWebhooks)),
    ("rotate_secret", Some(Permission::ManageWebhooks)),
    ("test_endpoint", Some(Permission::ManageWebhooks)),
    ("redeliver", Some(Permission::ManageWebhooks)),
];

/// Declare each operation's permission (`x-assay-permission`: its name, the roles that hold
/// it, the scope it needs) and the 403 a caller without it gets.
pub(crate) fn declare_permissions(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            let id = operation.operation_id.clone().unwrap_or_default();
            let Some((_, permission)) = PERMISSIONS.iter().find(|(op, _)| *op == id) else {
                panic!("operation `{id}` has no entry in contract::PERMISSIONS");
            };
            let Some(permission) = permission else { continue };
            let roles: Vec<&str> = permission.roles().iter().map(|r| r.as_str()).collect();
            let extension = serde_json::json!({
                "name": permission.as_str(),
                "roles": roles,
                "scope": permission.scope().as_str(),
            });
            let mut extensions = utoipa::openapi::extensions::Extensions::default();
            extensions.insert("x-assay-permission".into(), extension);
            operation.extensions.get_or_insert_with(Default::default).merge(extensions);
            let why = format!(
                "The caller's role is not {} (`forbidden`), or the token lacks the `{}` scope (`insufficient_scope`)",
                roles.join(" or "),
                permission.scope()
            );
            declare_problem(operation, ProblemCode::Forbidden, &why);
        }
    }
}

/// Declare that `operation` can answer `code`'s status with a problem, unless its handler
/// declared that status itself.
fn declare_problem(operation: &mut Operation, code: ProblemCode, why: &str) {
    operation.responses.responses.entry(code.status().to_string()).or_insert_with(|| {
        RefOr::T(
            ResponseBuilder::new()
                .description(why)
                .content("application/problem+json", Content::new(Some(Ref::from_schema_name("Problem"))))
                .build(),
        )
    });
}

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
    let mut add = |code: ProblemCode, why: &str| declare_problem(operation, code, why);
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
            "No valid token (`unauthenticated`), an expired (`token_expired`) or revoked (`token_revoked`) one, or one whose person left their organisation (`owner_left`)",
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
