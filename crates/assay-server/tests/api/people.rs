//! People, organisations, credentials and decision rights: the isolation matrix over every
//! operation of the OpenAPI document and every role, members, tokens and capability decisions.

use std::collections::BTreeSet;

use assay_service::{Role, Scope, Scopes};
use assay_store::{NewToken, NewUser, TokenOwner};

use super::*;

/// The people of a matrix run, and a token of each.
struct People {
    /// (label, role, token); the label says whose organisation.
    tokens: Vec<(&'static str, Role, String)>,
    /// An owner of another partner (globex), for operations on acme's objects.
    outsider: String,
    /// acme's developer with only the `read` scope.
    read_only: String,
    /// A token to revoke, one to rotate (acme's developer's).
    spare_tokens: (i64, i64),
}

async fn person(
    store: &Store,
    email: &str,
    partner: Option<assay_core::identity::PartnerId>,
    role: Role,
) -> (String, i64) {
    let user = store.create_user("test", &NewUser { email, name: email, partner, role }).await.unwrap();
    let new = NewToken { name: "matrix", owner: TokenOwner::User(user.id), scopes: role.scopes(), ttl_secs: 3600 };
    let (secret, record) = store.issue_token("test", &new).await.unwrap();
    (secret, record.id)
}

async fn people(app: &App) -> People {
    let store = &app.store;
    let acme = store.partner_by_name("acme").await.unwrap().unwrap().id;
    let globex = store.partner_by_name("globex").await.unwrap().unwrap().id;
    let mut tokens = Vec::new();
    for (label, email, partner, role) in [
        ("staff admin", "admin@platform.test", None, Role::Admin),
        ("staff reviewer", "reviewer@platform.test", None, Role::Reviewer),
        ("acme owner", "owner@acme.test", Some(acme), Role::Owner),
        ("acme developer", "developer@acme.test", Some(acme), Role::Developer),
        ("acme viewer", "viewer@acme.test", Some(acme), Role::Viewer),
    ] {
        tokens.push((label, role, person(store, email, partner, role).await.0));
    }
    let (outsider, _) = person(store, "owner@globex.test", Some(globex), Role::Owner).await;
    person(store, "spare@acme.test", Some(acme), Role::Developer).await;
    let developer = store.user_by_email("developer@acme.test").await.unwrap().unwrap();
    let narrow = |name| NewToken {
        name,
        owner: TokenOwner::User(developer.id),
        scopes: Scopes::of(&[Scope::Read]),
        ttl_secs: 3600,
    };
    let (read_only, _) = store.issue_token("test", &narrow("read-only")).await.unwrap();
    let revoke = store.issue_token("test", &narrow("to-revoke")).await.unwrap().1.id;
    let rotate = store.issue_token("test", &narrow("to-rotate")).await.unwrap().1.id;
    People { tokens, outsider, read_only, spare_tokens: (revoke, rotate) }
}

/// A request that reaches an operation's permission check: its path with acme's objects, and a
/// body that parses.
struct Probe {
    path: String,
    body: Option<Body>,
}

enum Body {
    Json(Value),
    Form(&'static str, String),
}

/// Every operation's probe, by `operationId`. An operation missing here fails the test: a new
/// route joins the matrix when it joins the API.
fn probes(
    slug: &str,
    version: &str,
    waiver: i64,
    notice: i64,
    endpoints: (i64, i64),
    tokens: (i64, i64),
    exception: i64,
) -> Vec<(&'static str, Probe)> {
    let (endpoint, spare_endpoint) = endpoints;
    let json = |path: String, body: Value| Probe { path, body: Some(Body::Json(body)) };
    let get = |path: String| Probe { path, body: None };
    let listing = format!("/v1/listings/{slug}");
    let version_path = format!("{listing}/versions/{version}");
    let manifest = example("clean").replace("version = \"1.0.0\"", "version = \"9.0.0\"");
    let manifest = manifest.replace(&slug_of(&manifest), slug);
    vec![
        ("healthz", get("/healthz".into())),
        ("readyz", get("/readyz".into())),
        ("list_rules", get("/v1/rules".into())),
        ("get_rule", get("/v1/rules/urls.https".into())),
        ("get_active_pack", get("/v1/rules/pack".into())),
        ("check_context", get(format!("{listing}/check-context"))),
        ("metrics_text", get("/metrics".into())),
        ("checkpoints", get("/v1/audit/checkpoints".into())),
        ("verify", get("/v1/audit/verify".into())),
        ("list_deprecations", get("/v1/deprecations".into())),
        (
            "create_deprecation",
            json(
                "/v1/deprecations".into(),
                json!({"listing": slug, "versions": "<1.0.0", "deprecated_from": in_days(0), "sunset": in_days(400),
                       "summary": "0.x is gone", "action_required": "Upgrade"}),
            ),
        ),
        ("queue", get("/v1/jobs".into())),
        ("list_listings", get("/v1/listings".into())),
        ("create_listing", json("/v1/listings".into(), json!({"slug": "matrix-new", "name": "Matrix"}))),
        ("get_listing", get(listing.clone())),
        ("update_listing", json(listing.clone(), json!({"auto_release": false}))),
        (
            "update_checks",
            Probe { path: format!("{listing}/checks"), body: Some(Body::Form("check", "not a component".into())) },
        ),
        ("list_listing_deprecations", get(format!("{listing}/deprecations"))),
        ("list_listing_notices", get(format!("{listing}/notices"))),
        (
            "create_listing_notice",
            json(format!("{listing}/notices"), json!({"kind": "fix", "summary": "A fix", "effective": in_days(1)})),
        ),
        ("listing_notices_feed", get(format!("{listing}/notices.atom"))),
        ("timeline", get(format!("{listing}/timeline"))),
        ("submit_version", Probe { path: format!("{listing}/versions"), body: Some(Body::Form("manifest", manifest)) }),
        ("get_version", get(version_path.clone())),
        ("get_bundle", get(format!("{version_path}/bundle"))),
        ("decide", json(format!("{version_path}/decisions"), json!({"action": "request_changes", "note": "matrix"}))),
        ("rechecks", get(format!("{version_path}/rechecks"))),
        ("move_version", json(format!("{version_path}/moves"), json!({"action": "release"}))),
        ("list_waivers", get(format!("{listing}/waivers"))),
        (
            "request_exception",
            json(
                format!("{version_path}/exceptions"),
                json!({"rule_id": "urls.https", "justification": "matrix", "expires_at": format!("{}T00:00:00Z", in_days(30))}),
            ),
        ),
        ("list_exceptions", get("/v1/exceptions".into())),
        ("get_exception", get(format!("/v1/exceptions/{exception}"))),
        (
            "decide_exception",
            json(format!("/v1/exceptions/{exception}/decision"), json!({"action": "deny", "rationale": "matrix"})),
        ),
        ("expire_waiver", json(format!("{listing}/waivers/{waiver}/expire"), json!({"note": "matrix"}))),
        ("file_appeal", json(format!("{version_path}/appeals"), json!({"statement": "matrix"}))),
        ("list_appeals", get("/v1/appeals".into())),
        ("get_appeal", get("/v1/appeals/999".into())),
        ("decide_appeal", json("/v1/appeals/999/decision".into(), json!({"action": "uphold", "rationale": "matrix"}))),
        ("conversation", get(format!("{version_path}/conversation"))),
        ("post_message", json(format!("{version_path}/messages"), json!({"body": "matrix"}))),
        ("place_hold", json(format!("{version_path}/hold"), json!({"reason": "matrix"}))),
        ("release_hold", get(format!("{version_path}/hold"))),
        ("list_notices", get("/v1/notices".into())),
        (
            "create_platform_notice",
            json("/v1/notices".into(), json!({"kind": "fix", "summary": "A platform fix", "effective": in_days(1)})),
        ),
        ("get_notice", get(format!("/v1/notices/{notice}"))),
        ("review_queue", get("/v1/review-queue".into())),
        ("assign_review", json(format!("{version_path}/assignee"), json!({"reviewer": "me"}))),
        ("unassign_review", get(format!("{version_path}/assignee"))),
        ("list_packs", get("/v1/rule-packs".into())),
        (
            "publish_pack",
            Probe { path: "/v1/rule-packs".into(), body: Some(Body::Form("manifest", "not a pack".into())) },
        ),
        ("get_pack", get("/v1/rule-packs/builtin/0.0.1".into())),
        ("enforce_pack", json("/v1/rule-packs/builtin/0.0.1/enforce".into(), json!({"grace_days": 0}))),
        ("standing", get("/v1/standing".into())),
        (
            "create_waiver",
            json(
                "/v1/waivers".into(),
                json!({"slug": slug, "rule_id": "urls.https", "versions": "^1", "justification": "matrix",
                       "expires_at": "2099-01-01T00:00:00Z"}),
            ),
        ),
        ("list_endpoints", get("/v1/webhooks".into())),
        ("create_endpoint", json("/v1/webhooks".into(), json!({"url": "https://hooks.acme.test/assay"}))),
        ("delivery_log", get(format!("/v1/webhooks/{endpoint}/deliveries"))),
        ("get_endpoint", get(format!("/v1/webhooks/{endpoint}"))),
        ("update_endpoint", json(format!("/v1/webhooks/{endpoint}"), json!({"events": ["notice.published"]}))),
        ("delete_endpoint", get(format!("/v1/webhooks/{spare_endpoint}"))),
        ("pause_endpoint", json(format!("/v1/webhooks/{endpoint}/pause"), json!({"reason": "matrix"}))),
        ("resume_endpoint", get(format!("/v1/webhooks/{endpoint}/resume"))),
        ("rotate_secret", get(format!("/v1/webhooks/{endpoint}/rotate-secret"))),
        ("test_endpoint", get(format!("/v1/webhooks/{endpoint}/test"))),
        ("redeliver", get(format!("/v1/webhooks/{endpoint}/messages/msg_matrix/redeliver"))),
        ("me", get("/v1/me".into())),
        ("email_preferences", get("/v1/me/email-preferences".into())),
        ("set_email_preferences", json("/v1/me/email-preferences".into(), json!({"opted_out": ["notice"]}))),
        ("list_members", get("/v1/organisations/acme/members".into())),
        (
            "add_member",
            json(
                "/v1/organisations/acme/members".into(),
                json!({"email": "new@acme.test", "name": "New Person", "role": "viewer"}),
            ),
        ),
        ("change_member", json("/v1/organisations/acme/members/spare@acme.test".into(), json!({"role": "viewer"}))),
        ("remove_member", get("/v1/organisations/acme/members/spare@acme.test".into())),
        (
            "issue_member_token",
            json("/v1/organisations/acme/members/viewer@acme.test/tokens".into(), json!({"name": "first"})),
        ),
        ("list_invitations", get("/v1/organisations/acme/invitations".into())),
        (
            "invite",
            json(
                "/v1/organisations/acme/invitations".into(),
                json!({"email": "invitee@acme.test", "role": "developer"}),
            ),
        ),
        ("list_tokens", get("/v1/tokens".into())),
        ("create_token", json("/v1/tokens".into(), json!({"name": "matrix", "expires_in_days": 1}))),
        ("revoke_token", get(format!("/v1/tokens/{}", tokens.0))),
        ("rotate_token", json(format!("/v1/tokens/{}/rotate", tokens.1), json!({"grace_hours": 0}))),
        ("list_partners", get("/v1/partners".into())),
        (
            "create_partner",
            json(
                "/v1/partners".into(),
                json!({"name": "matrix-partner", "capabilities": ["list"],
                       "owner": {"email": "owner@matrix.test", "name": "Matrix Owner"}}),
            ),
        ),
        ("get_partner", get("/v1/partners/acme".into())),
        (
            "decide_capabilities",
            json("/v1/partners/acme/capabilities".into(), json!({"grant": ["checks"], "rationale": "matrix"})),
        ),
    ]
}

/// Whether `path` is an instance of the OpenAPI path `template`.
fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            t == p
                || (t.starts_with('{') && t.ends_with('}'))
                || (t.starts_with('{') && t.ends_with("}.atom") && p.ends_with(".atom"))
        })
}

impl App {
    async fn probe(&self, method: &Method, probe: &Probe, token: Option<&str>) -> Reply {
        let mut request = Request::builder().method(method.clone()).uri(&probe.path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match &probe.body {
            None => axum::body::Body::empty(),
            Some(Body::Json(json)) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                axum::body::Body::from(json.to_string())
            }
            Some(Body::Form(name, content)) => {
                let boundary = "assay-matrix";
                request = request.header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
                axum::body::Body::from(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\n\r\n{content}\r\n--{boundary}--\r\n"
                ))
            }
        };
        self.send(request.body(body).unwrap()).await
    }
}

/// Every operation of the OpenAPI document × every role (and another partner's owner, a token
/// without the scope, no token): the status matches the operation's `x-assay-permission`.
#[tokio::test]
async fn the_isolation_matrix_holds_every_operation_to_its_declared_permission() {
    let app = app().await;
    let (slug, version) = app.reviewed("http-urls").await;
    let people = people(&app).await;
    let reviewer = &people.tokens[1].2;
    let owner = &people.tokens[2].2;
    let waiver = app
        .call(
            Method::POST,
            "/v1/waivers",
            Some(reviewer),
            Some(json!({"slug": slug, "rule_id": "urls.https", "versions": "^1", "justification": "j",
                        "expires_at": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(waiver.status, StatusCode::CREATED, "{}", waiver.body);
    let notice = app
        .call(
            Method::POST,
            &format!("/v1/listings/{slug}/notices"),
            Some(owner),
            Some(json!({"kind": "fix", "summary": "A fix", "effective": in_days(1)})),
        )
        .await;
    assert_eq!(notice.status, StatusCode::CREATED, "{}", notice.body);
    let endpoint =
        app.call(Method::POST, "/v1/webhooks", Some(owner), Some(json!({"url": "https://hooks.acme.test/a"}))).await;
    assert_eq!(endpoint.status, StatusCode::CREATED, "{}", endpoint.body);
    let spare =
        app.call(Method::POST, "/v1/webhooks", Some(owner), Some(json!({"url": "https://hooks.acme.test/b"}))).await;
    assert_eq!(spare.status, StatusCode::CREATED, "{}", spare.body);
    let endpoints = (endpoint.body["id"].as_i64().unwrap(), spare.body["id"].as_i64().unwrap());
    let exception = app
        .call(
            Method::POST,
            &format!("/v1/listings/{slug}/versions/{version}/exceptions"),
            Some(owner),
            Some(json!({"rule_id": "urls.https", "justification": "j", "expires_at": format!("{}T00:00:00Z", in_days(30))})),
        )
        .await;
    assert_eq!(exception.status, StatusCode::CREATED, "{}", exception.body);
    let probes = probes(
        &slug,
        &version,
        waiver.body["id"].as_i64().unwrap(),
        notice.body["id"].as_i64().unwrap(),
        endpoints,
        people.spare_tokens,
        exception.body["id"].as_i64().unwrap(),
    );

    let document: Value = serde_json::from_str(&assay_server::openapi_json()).unwrap();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut cells = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let id = operation["operationId"].as_str().unwrap();
            seen.insert(id.to_owned());
            let Some((_, probe)) = probes.iter().find(|(op, _)| *op == id) else {
                failures.push(format!("{id}: no probe; add one to tests/api/people.rs"));
                continue;
            };
            assert!(matches_template(template, &probe.path), "{id}: {} is not an instance of {template}", probe.path);
            let permission = &operation["x-assay-permission"];
            let secured = operation.get("security").is_some();
            assert_eq!(secured, !permission.is_null(), "{id}: secured operations declare a permission");
            if !secured {
                let reply = app.probe(&method, probe, None).await;
                cells += 1;
                if matches!(reply.status.as_u16(), 401 | 403) {
                    failures.push(format!("{id}: public, yet {} without a token", reply.status));
                }
                continue;
            }
            let roles: Vec<&str> =
                permission["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            let anonymous = app.probe(&method, probe, None).await;
            cells += 1;
            if anonymous.status != StatusCode::UNAUTHORIZED {
                failures.push(format!("{id}: {} without a token", anonymous.status));
            }
            // Another partner's owner meets acme's objects as if they did not exist (first, while
            // every object is still there).
            let names_acme = probe.path.contains(slug.as_str())
                || probe.path.contains("/acme")
                || [endpoints.0, endpoints.1].iter().any(|e| probe.path.starts_with(&format!("/v1/webhooks/{e}")));
            if names_acme && roles.contains(&"owner") {
                let reply = app.probe(&method, probe, Some(&people.outsider)).await;
                cells += 1;
                if reply.status != StatusCode::NOT_FOUND {
                    failures.push(format!("{id} as globex's owner: {} {}", reply.status, reply.body));
                }
            }
            // Denied roles first, so nothing they could do changes what the allowed ones meet.
            let mut order: Vec<_> = people.tokens.iter().collect();
            order.sort_by_key(|(_, role, _)| roles.contains(&role.as_str()));
            for (label, role, token) in order {
                let reply = app.probe(&method, probe, Some(token)).await;
                cells += 1;
                let allowed = roles.contains(&role.as_str());
                let ok = if allowed {
                    !matches!(reply.status.as_u16(), 401 | 403)
                } else {
                    reply.status == StatusCode::FORBIDDEN && reply.body["code"] == "forbidden"
                };
                if !ok {
                    failures.push(format!("{id} as {label}: {} {} (allowed: {allowed})", reply.status, reply.body));
                }
            }
            // A token without the scope is refused even where its owner's role is allowed.
            if roles.contains(&"developer") && permission["scope"] != "read" {
                let reply = app.probe(&method, probe, Some(&people.read_only)).await;
                cells += 1;
                if reply.body["code"] != "insufficient_scope" {
                    failures.push(format!("{id} with a read-only token: {} {}", reply.status, reply.body));
                }
            }
        }
    }
    let unknown: Vec<_> = probes.iter().map(|(id, _)| *id).filter(|id| !seen.contains(*id)).collect();
    assert!(unknown.is_empty(), "probes for operations the document does not have: {unknown:?}");
    assert!(failures.is_empty(), "{} of {cells} cells failed:\n{}", failures.len(), failures.join("\n"));
    // 7 callers (5 roles, another partner's owner, no token) over every operation, give or take
    // the cells that do not apply.
    assert!(cells > seen.len() * 5, "{cells} cells over {} operations", seen.len());
    eprintln!("isolation matrix: {} operations, {} roles, {cells} cells, all as declared", seen.len(), Role::ALL.len());
}

/// An admin creates a partner with its owner; the owner adds a developer and a CI service
/// account; the CI token submits; a reviewer certifies; the admin revokes `certify` and the
/// mark disappears with a notice; members leave, tokens rotate, partners are suspended — each
/// refusal with its own code, and the audit trail names every person.
#[tokio::test]
async fn people_organisations_and_decision_rights_end_to_end() {
    let app = app().await;
    let store = &app.store;
    let (admin, _) = person(store, "ada@platform.test", None, Role::Admin).await;
    let (reviewer, _) = person(store, "rita@platform.test", None, Role::Reviewer).await;

    // The admin creates the partner and its first owner.
    let created = app
        .call(
            Method::POST,
            "/v1/partners",
            Some(&admin),
            Some(json!({"name": "initech", "capabilities": ["list"],
                        "owner": {"email": "Peter@Initech.test", "name": "Peter Gibbons"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["members"][0]["email"], "peter@initech.test");
    assert_eq!(created.body["members"][0]["role"], "owner");
    let peter = store.user_by_email("peter@initech.test").await.unwrap().unwrap();
    let owner_token =
        NewToken { name: "laptop", owner: TokenOwner::User(peter.id), scopes: Role::Owner.scopes(), ttl_secs: 3600 };
    let (owner, _) = store.issue_token("test", &owner_token).await.unwrap();
    let me = app.call(Method::GET, "/v1/me", Some(&owner), None).await;
    assert_eq!(me.body["actor"], "Peter Gibbons <peter@initech.test> (initech)", "{}", me.body);
    assert_eq!((me.body["role"].as_str(), me.body["organisation"].as_str()), (Some("owner"), Some("initech")));

    // The owner adds a developer and a viewer, and issues a CI token for a service account.
    let members = "/v1/organisations/initech/members";
    for (email, role) in [("milton@initech.test", "developer"), ("bill@initech.test", "viewer")] {
        let added = app
            .call(Method::POST, members, Some(&owner), Some(json!({"email": email, "name": email, "role": role})))
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    let twice = app
        .call(
            Method::POST,
            members,
            Some(&owner),
            Some(json!({"email": "bill@initech.test", "name": "B", "role": "viewer"})),
        )
        .await;
    assert_problem(&twice, StatusCode::CONFLICT, "already_exists");
    let staff_role = app
        .call(
            Method::POST,
            members,
            Some(&owner),
            Some(json!({"email": "x@initech.test", "name": "X", "role": "admin"})),
        )
        .await;
    assert_problem(&staff_role, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let ci = app
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&owner),
            Some(json!({"name": "ci", "scopes": ["submit"], "service_account": true, "expires_in_days": 30})),
        )
        .await;
    assert_eq!(ci.status, StatusCode::CREATED, "{}", ci.body);
    assert_eq!(ci.body["token"]["scopes"], json!(["read", "submit"]));
    assert_eq!(ci.body["token"]["role"], "developer");
    assert!(ci.body["token"].get("owner").is_none());
    let ci = ci.body["secret"].as_str().unwrap().to_owned();
    assert!(assay_store::token::well_formed(&ci));
    let too_much =
        app.call(Method::POST, "/v1/tokens", Some(&owner), Some(json!({"name": "x", "scopes": ["review"]}))).await;
    assert_problem(&too_much, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let too_long =
        app.call(Method::POST, "/v1/tokens", Some(&owner), Some(json!({"name": "x", "expires_in_days": 366}))).await;
    assert_problem(&too_long, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let listed = app.call(Method::GET, "/v1/tokens?of=organisation", Some(&owner), None).await;
    let names: Vec<_> = listed.body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ci", "laptop"], "{}", listed.body);

    // The CI token submits; a viewer cannot.
    let manifest = example("clean");
    let slug = slug_of(&manifest);
    let listing = app.call(Method::POST, "/v1/listings", Some(&ci), Some(json!({"slug": slug, "name": "Clean"}))).await;
    assert_eq!(listing.status, StatusCode::CREATED, "{}", listing.body);
    let bill = store.user_by_email("bill@initech.test").await.unwrap().unwrap();
    let viewer_token =
        NewToken { name: "v", owner: TokenOwner::User(bill.id), scopes: Role::Viewer.scopes(), ttl_secs: 3600 };
    let (viewer, _) = store.issue_token("test", &viewer_token).await.unwrap();
    assert_problem(&app.submit(&slug, &viewer, &manifest, &[]).await, StatusCode::FORBIDDEN, "forbidden");
    let submitted = app.submit(&slug, &ci, &manifest, &[]).await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.body);
    let version = submitted.body["version"].as_str().unwrap().to_owned();
    app.service.review_next().await.unwrap().unwrap();

    // Certifying needs the capability; the admin grants it, the reviewer certifies.
    let decide = format!("/v1/listings/{slug}/versions/{version}/decisions");
    let certify = json!({"action": "certify", "note": "Meets the bar"});
    let refused = app.call(Method::POST, &decide, Some(&reviewer), Some(certify.clone())).await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "capability_required");
    let capabilities = "/v1/partners/initech/capabilities";
    let no_why =
        app.call(Method::POST, capabilities, Some(&admin), Some(json!({"grant": ["certify"], "rationale": " "}))).await;
    assert_eq!(no_why.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_why.body);
    let not_admin = app
        .call(Method::POST, capabilities, Some(&reviewer), Some(json!({"grant": ["certify"], "rationale": "x"})))
        .await;
    assert_problem(&not_admin, StatusCode::FORBIDDEN, "forbidden");
    let granted = app
        .call(
            Method::POST,
            capabilities,
            Some(&admin),
            Some(json!({"grant": ["certify"], "rationale": "Passed the audit"})),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    let approved =
        app.call(Method::POST, &decide, Some(&reviewer), Some(json!({"action": "approve", "note": "Clean"}))).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let certified = app.call(Method::POST, &decide, Some(&reviewer), Some(certify)).await;
    assert_eq!(certified.status, StatusCode::OK, "{}", certified.body);
    let path = format!("/v1/listings/{slug}/versions/{version}");
    assert_eq!(app.call(Method::GET, &path, Some(&owner), None).await.body["certified"], true);

    // Revoking `certify` removes the mark and tells the partner why.
    let revoked = app
        .call(
            Method::POST,
            capabilities,
            Some(&admin),
            Some(json!({"revoke": ["certify"], "rationale": "Security review lapsed"})),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.body["uncertified"], json!([format!("{slug}@{version}")]));
    assert_eq!(app.call(Method::GET, &path, Some(&owner), None).await.body["certified"], false);
    let notices = app.call(Method::GET, &format!("/v1/listings/{slug}/notices"), Some(&owner), None).await;
    let summary = notices.body[0]["summary"].as_str().unwrap();
    assert!(summary.contains("certify") && summary.contains("Security review lapsed"), "{}", notices.body);
    let detail = app.call(Method::GET, "/v1/partners/initech", Some(&owner), None).await;
    let history: Vec<_> =
        detail.body["history"].as_array().unwrap().iter().map(|h| h["detail"].as_str().unwrap()).collect();
    assert_eq!(history.len(), 3, "{}", detail.body);
    assert!(
        history[2].contains("capabilities=list (was certify,list)") && history[2].contains("Security review lapsed")
    );
    assert_eq!(detail.body["history"][2]["actor"], "ada@platform.test <ada@platform.test> (platform staff)");

    // The partner's standing shows its capabilities and the decisions on them.
    let standing = app.call(Method::GET, "/v1/standing", Some(&owner), None).await;
    assert_eq!(standing.body["capabilities"], json!(["list"]), "{}", standing.body);
    assert_eq!(standing.body["capability_history"].as_array().unwrap().len(), 3, "{}", standing.body);

    // The audit trail names people, never token ids.
    let timeline = app.call(Method::GET, &format!("/v1/listings/{slug}/timeline"), Some(&owner), None).await;
    let actors: BTreeSet<_> =
        timeline.body.as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap().to_owned()).collect();
    assert!(actors.contains("ci (service account, initech)"), "{actors:?}");
    assert!(actors.contains("rita@platform.test <rita@platform.test> (platform staff)"), "{actors:?}");
    assert!(actors.iter().all(|a| !a.starts_with("token:")), "{actors:?}");

    // Suspension holds submissions; restoring lifts it. Revoking `list` holds them too.
    let next = manifest.replace("version = \"1.0.0\"", "version = \"1.1.0\"");
    let suspend = json!({"suspend": true, "rationale": "Unpaid invoices"});
    assert_eq!(app.call(Method::POST, capabilities, Some(&admin), Some(suspend)).await.status, StatusCode::OK);
    assert_problem(&app.submit(&slug, &ci, &next, &[]).await, StatusCode::FORBIDDEN, "partner_suspended");
    let restore = json!({"suspend": false, "revoke": ["list"], "rationale": "Paid; listing rights reviewed"});
    assert_eq!(app.call(Method::POST, capabilities, Some(&admin), Some(restore)).await.status, StatusCode::OK);
    assert_problem(&app.submit(&slug, &ci, &next, &[]).await, StatusCode::FORBIDDEN, "capability_required");

    // The last owner cannot leave or be demoted; a member who leaves loses their tokens.
    let peter_path = format!("{members}/peter@initech.test");
    assert_problem(
        &app.call(Method::DELETE, &peter_path, Some(&admin), None).await,
        StatusCode::CONFLICT,
        "last_owner",
    );
    let demote = app.call(Method::PATCH, &peter_path, Some(&owner), Some(json!({"role": "viewer"}))).await;
    assert_problem(&demote, StatusCode::CONFLICT, "last_owner");
    let milton = store.user_by_email("milton@initech.test").await.unwrap().unwrap();
    let dev_token =
        NewToken { name: "m", owner: TokenOwner::User(milton.id), scopes: Role::Developer.scopes(), ttl_secs: 3600 };
    let (developer, _) = store.issue_token("test", &dev_token).await.unwrap();
    assert_eq!(app.call(Method::GET, "/v1/me", Some(&developer), None).await.status, StatusCode::OK);
    let promoted = app
        .call(Method::PATCH, &format!("{members}/milton@initech.test"), Some(&owner), Some(json!({"role": "owner"})))
        .await;
    assert_eq!(promoted.body["role"], "owner", "{}", promoted.body);
    let left = app.call(Method::DELETE, &peter_path, Some(&admin), None).await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    assert_problem(&app.call(Method::GET, "/v1/me", Some(&owner), None).await, StatusCode::UNAUTHORIZED, "owner_left");
    // Another partner's owner cannot see initech's members.
    let (globex_owner, _) = person(
        store,
        "boss@globex.test",
        Some(store.partner_by_name("globex").await.unwrap().unwrap().id),
        Role::Owner,
    )
    .await;
    assert_problem(
        &app.call(Method::GET, members, Some(&globex_owner), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Rotation: the new secret works at once, the old one ends with its grace period.
    let mine = app.call(Method::GET, "/v1/tokens", Some(&developer), None).await;
    let id = mine.body[0]["id"].as_i64().unwrap();
    let rotated = app
        .call(Method::POST, &format!("/v1/tokens/{id}/rotate"), Some(&developer), Some(json!({"grace_hours": 1})))
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(Method::GET, "/v1/me", Some(&developer), None).await.status,
        StatusCode::OK,
        "in the grace period"
    );
    let again = app.call(Method::POST, &format!("/v1/tokens/{id}/rotate"), Some(&new_secret), Some(json!({}))).await;
    assert_problem(&again, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let new_id = rotated.body["token"]["id"].as_i64().unwrap();
    let now = app
        .call(Method::POST, &format!("/v1/tokens/{new_id}/rotate"), Some(&new_secret), Some(json!({"grace_hours": 0})))
        .await;
    assert_eq!(now.status, StatusCode::CREATED, "{}", now.body);
    assert_problem(
        &app.call(Method::GET, "/v1/me", Some(&new_secret), None).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    );
    let newest = now.body["secret"].as_str().unwrap().to_owned();
    let revoked =
        app.call(Method::DELETE, &format!("/v1/tokens/{}", now.body["token"]["id"]), Some(&newest), None).await;
    assert_eq!(revoked.body["state"], "revoked", "{}", revoked.body);
    assert_problem(
        &app.call(Method::GET, "/v1/me", Some(&newest), None).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    // Someone else's token is not found, not forbidden.
    let others = app.call(Method::DELETE, &format!("/v1/tokens/{id}"), Some(&globex_owner), None).await;
    assert_problem(&others, StatusCode::NOT_FOUND, "not_found");
}
