//! The HTTP API, driven in-process with `oneshot`: real service, real plugin host and pack,
//! real SQLite store.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use assay_host::{Host, HostConfig, RulePack};
use assay_server::{ServerConfig, router};
use assay_service::{Capability, Role, Service, ServiceConfig};
use assay_store::{NewToken, NewUser, Store, TokenOwner};

#[path = "api/appeals.rs"]
mod appeals;
#[path = "api/browser.rs"]
mod browser;
#[path = "api/console.rs"]
mod console;
#[path = "api/email.rs"]
mod email;
#[path = "api/exceptions.rs"]
mod exceptions;
#[path = "api/listen.rs"]
mod listen;
#[path = "api/outbound.rs"]
mod outbound;
#[path = "api/people.rs"]
mod people;
#[path = "api/queue.rs"]
mod queue;
#[path = "api/rules.rs"]
mod rules;

fn host() -> Arc<Host> {
    static HOST: OnceLock<Arc<Host>> = OnceLock::new();
    HOST.get_or_init(|| {
        let cache_dir = Some(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("server-components"));
        // Findings link to this (test) service's rule pages.
        let docs_url = Some("https://review.example".to_owned());
        Arc::new(Host::new(HostConfig { cache_dir, docs_url, ..HostConfig::default() }).unwrap())
    })
    .clone()
}

fn pack() -> Arc<RulePack> {
    let pack = RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::file(name).map(Arc::from));
    Arc::new(pack.unwrap())
}

struct App {
    router: Router,
    service: Service,
    /// The store under `service`, for what a test checks behind the service's back.
    store: Store,
    acme: String,
    globex: String,
    reviewer: String,
    admin: String,
    _dir: tempfile::TempDir,
}

async fn app_with(config: ServerConfig) -> App {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let acme = store.ensure_partner("test", "acme", &[Capability::List, Capability::Checks]).await.unwrap();
    let globex = store.ensure_partner("test", "globex", &[Capability::List, Capability::Checks]).await.unwrap();
    let service = Service::new(store.clone(), host(), pack(), ServiceConfig::default());
    App {
        router: router(service.clone(), config),
        service,
        store: store.clone(),
        acme: store.create_token("test", Role::Owner, Some(acme)).await.unwrap(),
        globex: store.create_token("test", Role::Owner, Some(globex)).await.unwrap(),
        reviewer: store.create_token("test", Role::Reviewer, None).await.unwrap(),
        admin: store.create_token("test", Role::Admin, None).await.unwrap(),
        _dir: dir,
    }
}

async fn app() -> App {
    app_with(ServerConfig::default()).await
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl App {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply { status, headers, body }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    async fn submit(&self, slug: &str, token: &str, manifest: &str, checks: &[(&str, &[u8])]) -> Reply {
        let boundary = "assay-test-boundary";
        let mut body = Vec::new();
        let mut part = |name: &str, file: &str, bytes: &[u8]| {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        };
        part("manifest", "listing.toml", manifest.as_bytes());
        for (file, bytes) in checks {
            part("check", file, bytes);
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = Request::post(format!("/v1/listings/{slug}/versions"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// A reviewer's decision on a version (`approve`, `request_changes`, `reject`, `certify`).
    async fn decide(&self, token: &str, slug: &str, version: &str, action: &str, note: &str) -> Reply {
        let path = format!("/v1/listings/{slug}/versions/{version}/decisions");
        self.call(Method::POST, &path, Some(token), Some(json!({"action": action, "note": note}))).await
    }

    /// `PUT /v1/listings/{slug}/checks` with one `check` part per component.
    async fn put_checks(&self, slug: &str, token: &str, checks: &[(&str, &[u8])]) -> Reply {
        let boundary = "assay-test-boundary";
        let mut body = Vec::new();
        for (file, bytes) in checks {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"check\"; filename=\"{file}\"\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = Request::put(format!("/v1/listings/{slug}/checks"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Create the listing of example `name` for acme, submit it and run its review.
    async fn reviewed(&self, name: &str) -> (String, String) {
        self.reviewed_manifest(example(name)).await
    }

    async fn reviewed_manifest(&self, manifest: String) -> (String, String) {
        let slug = slug_of(&manifest);
        let created = self
            .call(Method::POST, "/v1/listings", Some(&self.acme), Some(json!({"slug": slug, "name": "Example"})))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let submitted = self.submit(&slug, &self.acme, &manifest, &[]).await;
        assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.body);
        assert_eq!(submitted.body["state"], "submitted");
        assert_eq!(submitted.headers[header::LOCATION], submitted.body["url"].as_str().unwrap());
        self.service.review_next().await.unwrap().unwrap();
        (slug, submitted.body["version"].as_str().unwrap().to_owned())
    }
}

/// A person with `role` (in `partner`, by name) and a token of theirs.
async fn person_token(store: &Store, email: &str, name: &str, partner: Option<&str>, role: Role) -> String {
    let partner = match partner {
        Some(name) => Some(store.partner_by_name(name).await.unwrap().unwrap().id),
        None => None,
    };
    let user = store.create_user("test", &NewUser { email, name, partner, role }).await.unwrap();
    let new = NewToken { name: "laptop", owner: TokenOwner::User(user.id), scopes: role.scopes(), ttl_secs: 3600 };
    store.issue_token("test", &new).await.unwrap().0
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../examples/listings/{name}/listing.toml", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
}

fn slug_of(manifest: &str) -> String {
    assay_core::Manifest::parse("listing.toml", manifest).unwrap().manifest.slug.as_str().to_owned()
}

/// The day `days` from today (UTC), `YYYY-MM-DD`: the API tests run on the system clock.
fn in_days(days: i64) -> String {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    today.saturating_add(jiff::Span::new().days(days)).to_string()
}

fn assert_problem(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert_eq!(reply.body["status"], status.as_u16());
    assert_eq!(reply.body["type"], format!("urn:assay:problem:{code}"));
}

#[tokio::test]
async fn a_partner_submits_and_a_reviewer_approves() {
    let app = app().await;
    let (slug, version) = app.reviewed("http-urls").await;
    let path = format!("/v1/listings/{slug}/versions/{version}");
    let got = app.call(Method::GET, &path, Some(&app.acme), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!((got.body["state"].as_str(), got.body["verdict"].as_str()), (Some("changes_requested"), Some("fail")));
    let findings = got.body["findings"].as_array().unwrap();
    assert!(
        !findings.is_empty()
            && findings
                .iter()
                .all(|f| f["rule_id"] == "urls.https" && f["pointer"].as_str().unwrap().starts_with("/urls/"))
    );
    let checks = got.body["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 34);
    assert!(checks.iter().all(|c| c["usage"]["peak_memory_bytes"].as_u64().unwrap() > 0));
    assert_eq!(got.headers[header::ETAG], format!("\"r{}\"", got.body["revision"]));

    // A waiver from a reviewer turns the verdict; the fixed version goes to the queue.
    let waiver = json!({"slug": slug, "rule_id": "urls.https", "versions": "^1", "justification": "CDN moves to HTTPS in Q1", "expires_at": "2099-01-01T00:00:00Z"});
    let granted = app.call(Method::POST, "/v1/waivers", Some(&app.reviewer), Some(waiver.clone())).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.body);
    assert_eq!(granted.body["live"], true);
    assert_problem(
        &app.call(Method::POST, "/v1/waivers", Some(&app.acme), Some(waiver)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let got = app.call(Method::GET, &path, Some(&app.acme), None).await;
    assert_eq!(got.body["verdict"], "pass");
    assert!(got.body["findings"].as_array().unwrap().iter().all(|f| f["waived_by"] == granted.body["id"]));

    let (clean, clean_version) = app.reviewed_manifest(example("clean").replace(&slug, "acme-clean")).await;
    let queue = app.call(Method::GET, "/v1/review-queue", Some(&app.reviewer), None).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.body.as_array().unwrap().len(), 1);
    assert_eq!(queue.body[0]["slug"], clean.as_str());
    assert_problem(
        &app.call(Method::GET, "/v1/review-queue", Some(&app.acme), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let decide = format!("/v1/listings/{clean}/versions/{clean_version}/decisions");
    let no_note =
        app.call(Method::POST, &decide, Some(&app.reviewer), Some(json!({"action": "approve", "note": ""}))).await;
    assert_problem(&no_note, StatusCode::UNPROCESSABLE_ENTITY, "note_required");
    let approved = app
        .call(Method::POST, &decide, Some(&app.reviewer), Some(json!({"action": "approve", "note": "ship it"})))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["state"], "approved");
    assert_eq!(approved.body["decisions"][0]["note"], "ship it");
    // acme does not hold `certify`.
    let certify = app
        .call(Method::POST, &decide, Some(&app.reviewer), Some(json!({"action": "certify", "note": "audited"})))
        .await;
    assert_problem(&certify, StatusCode::FORBIDDEN, "capability_required");
    let again =
        app.call(Method::POST, &decide, Some(&app.reviewer), Some(json!({"action": "reject", "note": "no"}))).await;
    assert_problem(&again, StatusCode::CONFLICT, "transition_not_allowed");
    assert_eq!(again.body["current_state"], "approved");

    let listings = app.call(Method::GET, "/v1/listings", Some(&app.acme), None).await;
    assert_eq!(listings.body.as_array().unwrap().len(), 2);
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn of_many_concurrent_decisions_exactly_one_wins() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let path = format!("/v1/listings/{slug}/versions/{version}/decisions");
    let attempts = (0..24).map(|i| {
        let action = ["approve", "reject", "request_changes"][i % 3];
        let body = json!({"action": action, "note": format!("reviewer {i}")});
        let request = Request::post(&path)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.reviewer))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let router = app.router.clone();
        tokio::spawn(async move { router.oneshot(request).await.unwrap() })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        let response = attempt.await.unwrap();
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
        if status == StatusCode::CONFLICT {
            assert!(body["code"] == "conflict" || body["code"] == "transition_not_allowed", "{body}");
            assert_ne!(body["current_state"], "awaiting_review");
        }
        statuses.push(status);
    }
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    println!("24 concurrent decisions: {wins} won, {conflicts} got 409");
    assert_eq!((wins, conflicts), (1, 23));
    let decisions = app.store.decisions(&slug, &version).await.unwrap();
    assert_eq!(decisions.len(), 1);
}

#[tokio::test]
async fn errors_are_problem_json_with_stable_codes() {
    let app = app_with(ServerConfig { max_upload_bytes: 256 << 10, ..ServerConfig::default() }).await;
    assert_problem(
        &app.call(Method::GET, "/v1/listings", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let wrong = app.call(Method::GET, "/v1/listings", Some("assay_0000"), None).await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(wrong.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_problem(&app.call(Method::GET, "/v1/nothing-here", None, None).await, StatusCode::NOT_FOUND, "not_found");
    assert_problem(
        &app.call(Method::DELETE, "/v1/listings", None, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    // Bodies: wrong type, malformed, unknown field, too large.
    let text = Request::post("/v1/listings")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.acme))
        .body(Body::from("slug=x"))
        .unwrap();
    assert_problem(&app.send(text).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let broken = Request::post("/v1/listings")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.acme))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"slug\": "))
        .unwrap();
    assert_problem(&app.send(broken).await, StatusCode::BAD_REQUEST, "invalid_request");
    let extra = json!({"slug": "acme-a", "name": "A", "owner": "globex"});
    assert_problem(
        &app.call(Method::POST, "/v1/listings", Some(&app.acme), Some(extra)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let huge = json!({"slug": "acme-a", "name": "x".repeat(100 << 10)});
    assert_problem(
        &app.call(Method::POST, "/v1/listings", Some(&app.acme), Some(huge)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let bad_slug = json!({"slug": "Not A Slug", "name": "A"});
    let reply = app.call(Method::POST, "/v1/listings", Some(&app.acme), Some(bad_slug)).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(reply.body["errors"][0]["pointer"], "/slug");

    // Submissions: invalid manifest with its location, refused components, oversized uploads.
    let manifest = example("clean");
    let slug = slug_of(&manifest);
    app.call(Method::POST, "/v1/listings", Some(&app.acme), Some(json!({"slug": slug, "name": "Clean"}))).await;
    let invalid = app
        .submit(&slug, &app.acme, &example("invalid-unknown-field").replace("invalid-unknown-field", &slug), &[])
        .await;
    assert_problem(&invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest");
    assert!(invalid.body["errors"][0]["line"].as_u64().unwrap() > 0, "{}", invalid.body);
    let core = app.submit(&slug, &app.acme, &manifest, &[("core.wasm", b"\0asm\x01\0\0\0")]).await;
    assert_problem(&core, StatusCode::UNPROCESSABLE_ENTITY, "invalid_plugin");
    assert!(core.body["detail"].as_str().unwrap().contains("core WebAssembly module"), "{}", core.body);
    let big = vec![0u8; 300 << 10];
    assert_problem(
        &app.submit(&slug, &app.acme, &manifest, &[("big.wasm", &big)]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    // Nothing was left behind by any refusal.
    let listing = app.call(Method::GET, &format!("/v1/listings/{slug}"), Some(&app.acme), None).await;
    assert_eq!(listing.body["versions"], json!([]));
    assert_eq!(app.store.pending_reviews().await.unwrap(), 0);
    let first = app.submit(&slug, &app.acme, &manifest, &[]).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_problem(&app.submit(&slug, &app.acme, &manifest, &[]).await, StatusCode::CONFLICT, "already_exists");
    // Internal details never reach a body.
    let everything = format!("{}{}{}", invalid.body, core.body, first.body);
    assert!(!everything.contains("sqlx") && !everything.contains("wasmtime") && !everything.contains(".rs:"));
}

/// Every route × every role, against objects owned by acme. globex (another partner) must get
/// no success on any of them and see none of them in any list.
#[tokio::test]
async fn partners_are_isolated_on_every_route() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let v = format!("/v1/listings/{slug}/versions/{version}");
    let bumped = example("clean").replace("version = \"1.4.0\"", "version = \"1.5.0\"");
    let waiver = json!({"slug": slug, "rule_id": "urls.https", "versions": "*", "justification": "x", "expires_at": "2099-01-01T00:00:00Z"});
    let decision = json!({"action": "request_changes", "note": "x"});
    let effective = in_days(60);
    let notice = json!({"kind": "feature", "summary": "Forecasts", "effective": effective});
    let published =
        app.call(Method::POST, &format!("/v1/listings/{slug}/notices"), Some(&app.acme), Some(notice.clone())).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    let deprecation = json!({"listing": slug, "versions": "<1.0.0", "deprecated_from": in_days(1), "sunset": in_days(400),
        "summary": "0.x goes", "action_required": "Upgrade"});
    let hook = app
        .call(Method::POST, "/v1/webhooks", Some(&app.acme), Some(json!({"url": "https://acme.example/hook"})))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let deliveries = format!("/v1/webhooks/{}/deliveries", hook.body["id"]);
    let granted = app.call(Method::POST, "/v1/waivers", Some(&app.reviewer), Some(waiver.clone())).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.body);
    let expire = format!("/v1/listings/{slug}/waivers/{}/expire", granted.body["id"]);
    // (route, method, body, who may succeed)
    let routes: Vec<(String, Method, Option<Value>, &[&str])> = vec![
        (format!("/v1/listings/{slug}"), Method::GET, None, &["acme", "reviewer", "admin"]),
        (v.clone(), Method::GET, None, &["acme", "reviewer", "admin"]),
        (format!("{v}/bundle"), Method::GET, None, &["acme", "reviewer", "admin"]),
        (format!("/v1/listings/{slug}/waivers"), Method::GET, None, &["acme", "reviewer", "admin"]),
        (format!("{v}/decisions"), Method::POST, Some(decision), &["reviewer"]),
        ("/v1/waivers".into(), Method::POST, Some(waiver), &["reviewer"]),
        (expire, Method::POST, Some(json!({"note": "x"})), &["reviewer"]),
        ("/v1/review-queue".into(), Method::GET, None, &["reviewer", "admin"]),
        (format!("/v1/listings/{slug}/notices"), Method::GET, None, &["acme", "reviewer", "admin"]),
        (format!("/v1/listings/{slug}/notices.atom"), Method::GET, None, &["acme", "reviewer", "admin"]),
        (
            published.headers[header::LOCATION].to_str().unwrap().to_owned(),
            Method::GET,
            None,
            &["acme", "reviewer", "admin"],
        ),
        (format!("/v1/listings/{slug}/deprecations"), Method::GET, None, &["acme", "reviewer", "admin"]),
        // A listing's notices and deprecations are its partner's to publish; staff use platform notices.
        (format!("/v1/listings/{slug}/notices"), Method::POST, Some(notice), &["acme"]),
        ("/v1/deprecations".into(), Method::POST, Some(deprecation), &["acme"]),
        (deliveries, Method::GET, None, &["acme", "reviewer", "admin"]),
        (format!("/v1/listings/{slug}/timeline"), Method::GET, None, &["acme", "reviewer", "admin"]),
        (format!("{v}/rechecks"), Method::GET, None, &["acme", "reviewer", "admin"]),
        ("/v1/rule-packs".into(), Method::GET, None, &["reviewer", "admin"]),
        ("/v1/jobs".into(), Method::GET, None, &["reviewer", "admin"]),
    ];
    let callers = [
        ("acme", Some(app.acme.as_str())),
        ("globex", Some(app.globex.as_str())),
        ("reviewer", Some(app.reviewer.as_str())),
        ("admin", Some(app.admin.as_str())),
        ("anonymous", None),
    ];
    let mut unauthorized_successes = 0;
    let mut checked = 0;
    for (path, method, body, allowed) in &routes {
        for (who, token) in callers {
            // Decisions change state: try the ones that must fail first, the allowed one last.
            if allowed.contains(&who) && method == Method::POST {
                continue;
            }
            let reply = app.call(method.clone(), path, token, body.clone()).await;
            checked += 1;
            if allowed.contains(&who) {
                assert!(reply.status.is_success(), "{who} {method} {path}: {}", reply.body);
            } else if reply.status.is_success() {
                unauthorized_successes += 1;
                eprintln!("UNAUTHORIZED SUCCESS: {who} {method} {path}");
            } else if who == "globex" {
                // Another partner learns nothing, not even that the object exists: the answer is
                // the one it gets for an object that does not exist.
                let ghost_path = path.replace(&slug, "no-such-listing");
                let ghost_body = body
                    .as_ref()
                    .map(|b| serde_json::from_str(&b.to_string().replace(&slug, "no-such-listing")).unwrap());
                let ghost = app.call(method.clone(), &ghost_path, token, ghost_body).await;
                assert_eq!(
                    (reply.status, &reply.body["code"]),
                    (ghost.status, &ghost.body["code"]),
                    "{who} {method} {path}"
                );
            }
        }
    }
    // Submitting to acme's listing.
    for (who, token) in [("globex", &app.globex), ("reviewer", &app.reviewer), ("admin", &app.admin)] {
        checked += 1;
        let reply = app.submit(&slug, token, &bumped, &[]).await;
        if reply.status.is_success() {
            unauthorized_successes += 1;
            eprintln!("UNAUTHORIZED SUCCESS: {who} submitted to {slug}");
        }
    }
    // New partner checks for acme's listing: another partner gets what a missing listing gets.
    let check = b"\0asm\x0d\0\x01\0";
    for (who, token) in [("globex", &app.globex), ("reviewer", &app.reviewer), ("admin", &app.admin)] {
        checked += 1;
        let reply = app.put_checks(&slug, token, &[("c.wasm", check)]).await;
        if reply.status.is_success() {
            unauthorized_successes += 1;
            eprintln!("UNAUTHORIZED SUCCESS: {who} updated the checks of {slug}");
        }
        if who == "globex" {
            let ghost = app.put_checks("no-such-listing", token, &[("c.wasm", check)]).await;
            assert_eq!((reply.status, &reply.body["code"]), (ghost.status, &ghost.body["code"]));
        }
    }
    // Lists show nothing foreign.
    let theirs = app.call(Method::GET, "/v1/listings", Some(&app.globex), None).await;
    assert_eq!(theirs.body, json!([]));
    let all = app.call(Method::GET, "/v1/listings", Some(&app.reviewer), None).await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);
    println!(
        "isolation matrix: {checked} forbidden or foreign requests, {unauthorized_successes} unauthorized successes"
    );
    assert_eq!(unauthorized_successes, 0);
    assert!(checked >= 20);
    // And the allowed writes still work afterwards.
    for (path, method, body, allowed) in routes.iter().filter(|r| r.1 == Method::POST) {
        let (who, token) = callers.iter().find(|(who, _)| allowed.contains(who)).unwrap();
        let reply = app.call(method.clone(), path, *token, body.clone()).await;
        assert!(reply.status.is_success(), "{who} {method} {path}: {}", reply.body);
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = app().await;
    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!((ready.body["status"].as_str(), ready.body["database"].as_str()), (Some("ready"), Some("sqlite")));
    assert!(ready.body["rule_pack"].as_str().unwrap().starts_with("assay-builtin@"));
    app.reviewed("clean").await;
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("assay_http_requests_total{method=\"POST\",route=\"/v1/listings\",status=\"201\"}"),
        "{text}"
    );
    assert!(text.contains("assay_review_host_seconds"), "{text}");
    // Every metric is described and exported; histograms are histograms, not summaries.
    for &(name, kind, help) in assay_server::ops::METRICS {
        assert!(text.contains(&format!("# HELP {name} {help}")), "{name} has no HELP: {text}");
        let kind = match kind {
            assay_server::ops::Kind::Counter => "counter",
            assay_server::ops::Kind::Gauge => "gauge",
            assay_server::ops::Kind::Histogram => "histogram",
        };
        assert!(text.contains(&format!("# TYPE {name} {kind}")), "{name} is not a {kind}: {text}");
    }
    assert!(!text.contains("quantile=\""), "no summaries: {text}");
    for series in ["assay_versions_awaiting_reviewer ", "assay_jobs{kind=\"recheck\",state=\"dead\"} "] {
        assert!(text.contains(series), "{series}: {text}");
    }
    let verdicts = text.lines().find_map(|l| l.strip_prefix("assay_submit_to_verdict_seconds_count ")).unwrap();
    assert!(verdicts.parse::<f64>().unwrap() >= 1.0, "the review was timed from its submission: {text}");
    // The gauges read the store (this app's; the recorder is shared by every test here): the
    // reviewed version waits for a reviewer, while its review job is done.
    let gauges = app.service.operator_gauges().await.unwrap();
    assert_eq!((gauges.awaiting_reviewer, gauges.pending_reviews), (1, 0), "{gauges:?}");
    let review = gauges.jobs.iter().find(|j| j.kind == "review");
    assert!(review.is_none_or(|j| (j.waiting, j.running, j.dead) == (0, 0, 0)), "{gauges:?}");
    assert!(metrics.headers.contains_key("x-request-id"));
    // A client's own request id is echoed.
    let request = Request::get("/healthz").header("x-request-id", "trace-me-42").body(Body::empty()).unwrap();
    assert_eq!(app.send(request).await.headers["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn expired_and_revoked_tokens_fail_with_their_own_codes() {
    let app = app().await;
    let expired = app.store.create_token_for("test", Role::Reviewer, None, 0).await.unwrap();
    let reply = app.call(Method::GET, "/v1/review-queue", Some(&expired), None).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "token_expired");
    assert!(reply.body["detail"].as_str().unwrap().contains("expired at"), "{}", reply.body);

    let revoked = app.store.create_token("test", Role::Reviewer, None).await.unwrap();
    assert_eq!(app.call(Method::GET, "/v1/review-queue", Some(&revoked), None).await.status, StatusCode::OK);
    let id = app.store.authenticate(&revoked).await.unwrap().unwrap().token.to_string();
    assert!(app.store.revoke_token("test", id.parse().unwrap()).await.unwrap());
    let reply = app.call(Method::GET, "/v1/review-queue", Some(&revoked), None).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "token_revoked");

    // A look-alike (the checksum fails) is nobody at all.
    let last = if revoked.ends_with('0') { '1' } else { '0' };
    let typo = format!("{}{last}", &revoked[..revoked.len() - 1]);
    let reply = app.call(Method::GET, "/v1/review-queue", Some(&typo), None).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn the_audit_chain_is_verified_by_admins_and_readiness_reports_a_break() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app().await;
    let key = assay_service::audit::AuditKey::load_or_create(&dir.path().join("audit.p8")).unwrap();
    let public_key = key.public_key();
    app.service = app.service.clone().with_audit_key(std::sync::Arc::new(key));
    app.router = router(app.service.clone(), ServerConfig::default());
    app.reviewed("clean").await;
    let checkpoint = app.service.checkpoint_audit().await.unwrap().unwrap();

    // The checkpoints and the key are public; the signature verifies with it.
    let published = app.call(Method::GET, "/v1/audit/checkpoints", None, None).await;
    assert_eq!(published.status, StatusCode::OK);
    assert_eq!(published.body["public_key"], public_key);
    assert_eq!(published.body["checkpoints"][0]["seq"], checkpoint.seq);
    assert_eq!(assay_service::audit::check_signatures(std::slice::from_ref(&checkpoint), &public_key), Ok(1));

    // Only admins walk the chain.
    for token in [&app.acme, &app.reviewer] {
        let reply = app.call(Method::GET, "/v1/audit/verify", Some(token), None).await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let verified = app.call(Method::GET, "/v1/audit/verify", Some(&app.admin), None).await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.body);
    assert_eq!(verified.body["intact"], true);
    assert_eq!(verified.body["checkpoints"], 1);

    // A forged checkpoint (a signature that is not the key's) breaks it, and readiness says so.
    app.store.execute_unchecked("UPDATE audit_checkpoints SET at = at + 1").await.unwrap();
    let verified = app.call(Method::GET, "/v1/audit/verify", Some(&app.admin), None).await;
    assert_eq!(verified.body["intact"], false, "{:?}", verified.body);
    assert!(verified.body["broken"]["reason"].as_str().unwrap().contains("does not verify"), "{:?}", verified.body);
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body["audit"].as_str().unwrap().starts_with("broken at event"), "{:?}", ready.body);
}

/// The checked-in OpenAPI document is the one the code generates, and the server serves it.
/// After changing the API: `ASSAY_UPDATE_OPENAPI=1 cargo test -p assay-server openapi`.
#[tokio::test]
async fn the_openapi_document_is_checked_in_and_served() {
    let generated = assay_server::openapi_json();
    let path = format!("{}/../../docs/openapi.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("ASSAY_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "docs/openapi.json is out of date: run `ASSAY_UPDATE_OPENAPI=1 cargo test -p assay-server` and review the diff"
    );
    let doc: Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for route in [
        "/v1/listings",
        "/v1/listings/{slug}/versions",
        "/v1/listings/{slug}/versions/{version}",
        "/v1/review-queue",
        "/v1/listings/{slug}/versions/{version}/decisions",
        "/v1/waivers",
    ] {
        assert!(doc["paths"][route].is_object(), "{route} is not documented");
    }
    let app = app().await;
    let served = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.body, doc);
}

/// Each webhook event type's JSON Schema is checked in under `docs/events/`, generated from the
/// OpenAPI document's `webhooks` (the same `ASSAY_UPDATE_OPENAPI=1` run rewrites them).
#[test]
fn the_event_schemas_are_checked_in() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/events");
    let schemas = assay_server::events::event_schemas();
    if std::env::var_os("ASSAY_UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for (event, schema) in &schemas {
            let text = serde_json::to_string_pretty(schema).unwrap() + "\n";
            std::fs::write(dir.join(format!("{event}.schema.json")), text).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (event, schema) in &schemas {
        let path = dir.join(format!("{event}.schema.json"));
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != serde_json::to_string_pretty(schema).unwrap() + "\n" {
            stale.push(event.clone());
        }
        // Strict: a receiver validating with it refuses a field the event does not have.
        assert_eq!(schema["properties"]["data"]["additionalProperties"], false, "{event}: {schema:#}");
        assert_eq!(schema["properties"]["type"]["enum"], json!([event]));
    }
    let files = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or_default();
    assert!(
        stale.is_empty() && files == schemas.len(),
        "docs/events is out of date ({stale:?}; {files} files for {} events): run \
         `ASSAY_UPDATE_OPENAPI=1 cargo test -p assay-server` and review the diff",
        schemas.len()
    );
}

/// Notices keep their lead time (a refusal names the rule and the field), list as JSON and as
/// Atom; a deprecation schedule keeps its minimum notice and marks the versions it covers with
/// `Deprecation`, `Sunset` and `Link` headers.
#[tokio::test]
async fn notices_and_deprecations_through_the_api() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let notices = format!("/v1/listings/{slug}/notices");
    let breaking = |effective: String| {
        json!({"kind": "breaking", "summary": "Stock webhooks drop `legacy_id`", "effective": effective,
               "action_required": "Read `id` instead"})
    };
    let early = app.call(Method::POST, &notices, Some(&app.acme), Some(breaking(in_days(10)))).await;
    assert_problem(&early, StatusCode::UNPROCESSABLE_ENTITY, "policy_violation");
    assert_eq!(early.body["errors"][0]["pointer"], "/effective");
    assert!(early.body["detail"].as_str().unwrap().contains("(rule notice.breaking-lead-time)"), "{}", early.body);
    let published = app.call(Method::POST, &notices, Some(&app.acme), Some(breaking(in_days(45)))).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    assert_eq!(published.body["audience"], "merchants");
    let unknown = app
        .call(
            Method::POST,
            &notices,
            Some(&app.acme),
            Some(json!({"kind": "urgent", "summary": "x", "effective": in_days(1)})),
        )
        .await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(unknown.body["errors"][0]["pointer"], "/kind");

    let listed = app.call(Method::GET, &notices, Some(&app.acme), None).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let feed = app.call(Method::GET, &format!("{notices}.atom"), Some(&app.acme), None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.headers[header::CONTENT_TYPE], "application/atom+xml; charset=utf-8");
    let feed: atom_syndication::Feed = feed.body.as_str().unwrap().parse().unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].title.value, "[breaking] Stock webhooks drop `legacy_id`");
    assert!(
        feed.entries[0]
            .content
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .contains("Action required: Read `id` instead")
    );
    let platform = app
        .call(
            Method::POST,
            "/v1/notices",
            Some(&app.acme),
            Some(json!({"kind": "fix", "summary": "x", "effective": in_days(0)})),
        )
        .await;
    assert_problem(&platform, StatusCode::FORBIDDEN, "forbidden");

    // Six months' notice for a GA range is refused; thirteen is scheduled.
    let schedule = |sunset: String| {
        json!({"listing": slug, "versions": "<2.0.0", "deprecated_from": in_days(0), "sunset": sunset,
               "summary": "1.x is replaced by 2.0", "action_required": "Install 2.0"})
    };
    let short = app.call(Method::POST, "/v1/deprecations", Some(&app.acme), Some(schedule(in_days(180)))).await;
    assert_problem(&short, StatusCode::UNPROCESSABLE_ENTITY, "policy_violation");
    assert!(short.body["detail"].as_str().unwrap().contains("(rule deprecation.minimum-notice)"), "{}", short.body);
    assert_eq!(short.body["errors"][0]["pointer"], "/sunset");
    let sunset = in_days(400);
    let scheduled = app.call(Method::POST, "/v1/deprecations", Some(&app.acme), Some(schedule(sunset.clone()))).await;
    assert_eq!(scheduled.status, StatusCode::CREATED, "{}", scheduled.body);
    assert_eq!(scheduled.body["phase"], "deprecated");
    assert_eq!(scheduled.body["days_to_sunset"], 400);
    let notice = scheduled.body["notice"].as_str().unwrap().to_owned();
    let announcing = app.call(Method::GET, &notice, Some(&app.acme), None).await;
    assert_eq!(
        (announcing.body["kind"].as_str(), announcing.body["effective"].as_str()),
        (Some("deprecation"), Some(sunset.as_str()))
    );

    let reply = app.call(Method::GET, &format!("/v1/listings/{slug}/versions/{version}"), Some(&app.acme), None).await;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let midnight = today.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_second();
    assert_eq!(reply.headers["deprecation"], format!("@{midnight}"));
    let sunset_date: jiff::civil::Date = sunset.parse().unwrap();
    let http_date =
        sunset_date.to_zoned(jiff::tz::TimeZone::UTC).unwrap().strftime("%a, %d %b %Y 00:00:00 GMT").to_string();
    assert_eq!(reply.headers["sunset"], http_date);
    assert_eq!(
        reply.headers[header::LINK],
        format!(
            "<{notice}>; rel=\"deprecation\"; type=\"application/json\", <{notice}>; rel=\"sunset\"; type=\"application/json\""
        )
    );
    // A version the schedule does not cover carries none of them.
    let calendar = app.call(Method::GET, "/v1/deprecations", Some(&app.globex), None).await;
    assert_eq!(calendar.body, json!([]), "another partner's schedules are not in its calendar");
    let theirs = app.call(Method::GET, "/v1/notices", Some(&app.globex), None).await;
    assert_eq!(theirs.body, json!([]));

    // Standing: the live version, a blocked one with its rules, and the fix-by dates.
    let flawed = example("http-urls").replace(&format!("slug = \"{slug}\""), "slug = \"acme-http\"");
    app.reviewed_manifest(flawed).await;
    let standing = app.call(Method::GET, "/v1/standing", Some(&app.acme), None).await;
    assert_eq!(standing.status, StatusCode::OK, "{}", standing.body);
    let listings = standing.body["listings"].as_array().unwrap();
    let clean = listings.iter().find(|l| l["listing"] == slug.as_str()).unwrap();
    assert_eq!(clean["pending"], json!([version]), "awaiting review: {clean}");
    let http = listings.iter().find(|l| l["listing"] == "acme-http").unwrap();
    assert_eq!(http["blocked"][0]["rules"], json!(["urls.https"]), "{http}");
    let fix_by: Vec<(&str, &str)> = standing.body["fix_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["date"].as_str().unwrap()))
        .collect();
    assert_eq!(fix_by, [("notice", in_days(45).as_str()), ("sunset", sunset.as_str())], "{}", standing.body);
    let theirs = app.call(Method::GET, "/v1/standing", Some(&app.globex), None).await;
    assert_eq!(theirs.body["listings"], json!([]));
    assert_problem(
        &app.call(Method::GET, "/v1/standing", Some(&app.reviewer), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // The timeline, oldest first.
    let timeline = app.call(Method::GET, &format!("/v1/listings/{slug}/timeline"), Some(&app.acme), None).await;
    let actions: Vec<&str> = timeline.body.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "listing.create",
            "version.submit",
            "version.start_checks",
            "version.review",
            "notice.publish",
            "notice.publish",
            "deprecation.schedule"
        ]
    );
    assert_eq!(timeline.body[1]["version"], version.as_str());
}

/// A real receiver on loopback: records every request; answers 500 to the first `fail` ones.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    fail: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    async fn start(fail: usize) -> (Receiver, String) {
        let receiver = Receiver::default();
        receiver.fail.store(fail, std::sync::atomic::Ordering::SeqCst);
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state.seen.lock().unwrap().push((headers, body));
                    let failing = state.fail.load(std::sync::atomic::Ordering::SeqCst);
                    if failing > 0 {
                        state.fail.store(failing - 1, std::sync::atomic::Ordering::SeqCst);
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn seen(&self) -> Vec<(axum::http::HeaderMap, String)> {
        self.seen.lock().unwrap().clone()
    }
}

/// Webhooks are signed per Standard Webhooks (checked with the reference library), retried after
/// a failure, and survive a restart between attempts and a crash in the middle of one: the
/// receiver gets every event, with one `webhook-id` per event however often it was tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_and_survive_restarts() {
    use assay_service::WebhookConfig;
    let mut app = app().await;
    // The receiver is on loopback, which only a development server accepts.
    let config = WebhookConfig { allow_private: true, first_backoff_secs: 0, ..WebhookConfig::default() };
    let outbound = assay_core::address::Outbound { allow_local: true };
    let sender = Arc::new(assay_server::webhooks::HttpSender::new(outbound, std::time::Duration::from_secs(10)));
    app.service = app.service.clone().with_webhooks(sender.clone(), config.clone());
    app.router = router(app.service.clone(), ServerConfig::default());
    let (receiver, url) = Receiver::start(1).await;
    let created = app
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(&app.acme),
            Some(json!({"url": url, "events": ["listing.version.reviewed", "listing.version.decided"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let endpoint = created.body["id"].as_i64().unwrap();
    let listed = app.call(Method::GET, "/v1/webhooks", Some(&app.acme), None).await;
    assert!(listed.body[0].get("secret").is_none(), "the secret is shown once: {}", listed.body);
    let bad =
        app.call(Method::POST, "/v1/webhooks", Some(&app.acme), Some(json!({"url": "http://example.com/hook"}))).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    let node = |service: &Service| service.clone().with_webhooks(sender.clone(), config.clone());
    let (slug, version) = app.reviewed("clean").await;
    // The first attempt gets a 500 and is kept for a retry.
    let first = node(&app.service).dispatch_webhooks().await.unwrap();
    assert_eq!((first.enqueued, first.delivered, first.failed_attempts), (1, 0, 1), "{first:?}");
    // The failing endpoint backs off (a second, after one failure) before it is tried again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // A restart: a new service over the same store retries and delivers; nothing is enqueued twice.
    let restarted = Service::new(app.store.clone(), host(), pack(), ServiceConfig::default());
    let second = node(&restarted).dispatch_webhooks().await.unwrap();
    assert_eq!((second.enqueued, second.delivered), (0, 1), "{second:?}");

    // A crash in the middle of a delivery: the message was claimed (leased) and never recorded.
    let reviewer = app.service.authenticate(&app.reviewer).await.unwrap();
    app.service.decide(&reviewer, &slug, &version, assay_service::Action::Approve, "ok").await.unwrap();
    let fanned = Service::new(app.store.clone(), host(), pack(), ServiceConfig::default());
    assert_eq!(fanned.dispatch_webhooks().await.unwrap().enqueued, 1, "no sender: fan-out only");
    let now = app.service.now();
    let claimed = app.store.claim_due_messages(now, 3, 10, 8, &Default::default()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(node(&restarted).dispatch_webhooks().await.unwrap().delivered, 0, "leased to the crashed node");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(node(&restarted).dispatch_webhooks().await.unwrap().delivered, 1, "taken over once the lease lapsed");

    let seen = receiver.seen();
    assert_eq!(seen.len(), 3, "one failed attempt, then each event once");
    let ids: Vec<_> = seen.iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned()).collect();
    assert_eq!(ids[0], ids[1], "a retry carries the same webhook-id");
    assert_ne!(ids[1], ids[2]);
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    for (headers, body) in &seen {
        verifier.verify(body.as_bytes(), headers).unwrap_or_else(|e| panic!("signature does not verify: {e:?}"));
        assert!(headers["webhook-signature"].to_str().unwrap().starts_with("v1,"));
    }
    let types: Vec<String> = seen
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["listing.version.reviewed", "listing.version.reviewed", "listing.version.decided"]);
    let approved: Value = serde_json::from_str(&seen[2].1).unwrap();
    assert_eq!(
        (approved["data"]["listing"].as_str(), approved["data"]["version"].as_str()),
        (Some(slug.as_str()), Some(version.as_str()))
    );
    assert_eq!(
        (approved["data"]["action"].as_str(), approved["data"]["from"].as_str(), approved["data"]["to"].as_str()),
        (Some("approve"), Some("awaiting_review"), Some("approved")),
        "{approved}"
    );
    assert_eq!(approved["data"]["note"], "ok");
    // The payload names who decided, never a token id.
    assert_eq!(approved["data"]["decided_by"], "reviewer (service account, platform staff)", "{approved}");
    // A tampered body does not verify.
    assert!(verifier.verify(seen[2].1.replace("approved", "rejected").as_bytes(), &seen[2].0).is_err());

    // The delivery log: every attempt, newest first; another partner cannot read it.
    let log = app.call(Method::GET, &format!("/v1/webhooks/{endpoint}/deliveries"), Some(&app.acme), None).await;
    assert_eq!(
        (log.body["pending"].as_i64(), log.body["delivered"].as_i64(), log.body["failed"].as_i64()),
        (Some(0), Some(2), Some(0)),
        "{}",
        log.body
    );
    let attempts: Vec<(i64, Option<i64>)> = log.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["attempt"].as_i64().unwrap(), d["status"].as_i64()))
        .collect();
    assert_eq!(attempts, [(1, Some(204)), (2, Some(204)), (1, Some(500))]);
    let foreign = app.call(Method::GET, &format!("/v1/webhooks/{endpoint}/deliveries"), Some(&app.globex), None).await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");
}

/// What the framework's extractors refuse is problem+json with a documented code, never
/// `text/plain`: a path id that does not parse, a body that is not JSON, a missing content type,
/// a multipart body without a boundary, and a decision without a note.
#[tokio::test]
async fn extractor_refusals_are_problems_with_codes() {
    let app = app().await;
    let problem = |reply: &Reply, status: StatusCode, code: &str| {
        assert_eq!(reply.status, status, "{:?}", reply.body);
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/problem+json", "{:?}", reply.body);
        assert_eq!(reply.body["code"], code, "{:?}", reply.body);
    };
    let reply = app.call(Method::GET, "/v1/notices/9223372036854775808", Some(&app.reviewer), None).await;
    problem(&reply, StatusCode::BAD_REQUEST, "invalid_request");

    let not_json = Request::builder()
        .method(Method::POST)
        .uri("/v1/listings")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.acme))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    problem(&app.send(not_json).await, StatusCode::BAD_REQUEST, "invalid_request");

    let no_type = Request::builder()
        .method(Method::POST)
        .uri("/v1/listings")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.acme))
        .body(Body::from(r#"{"slug":"acme-x","name":"X"}"#))
        .unwrap();
    problem(&app.send(no_type).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let created = app.call(Method::POST, "/v1/listings", Some(&app.acme), Some(json!({"slug": "acme-x", "name": "X"})));
    assert_eq!(created.await.status, StatusCode::CREATED);
    for content_type in [None, Some("multipart/form-data"), Some("text/plain")] {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/v1/listings/acme-x/versions")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.acme));
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let reply = app.send(request.body(Body::from("--x\r\n")).unwrap()).await;
        let (status, code) = match content_type {
            Some("multipart/form-data") => (StatusCode::BAD_REQUEST, "invalid_request"),
            _ => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        };
        problem(&reply, status, code);
    }

    let reply = app
        .call(
            Method::POST,
            "/v1/listings/acme-x/versions/1.0.0/decisions",
            Some(&app.reviewer),
            Some(json!({"action": "approve"})),
        )
        .await;
    assert_ne!(reply.body["code"], "invalid_field", "a missing note is `note_required`: {:?}", reply.body);

    // A whole number is read in any JSON form; a fraction or a grace past the documented
    // maximum is a field error. (The pack does not exist: a body that parsed reaches that.)
    let enforce = |grace: Value| {
        app.call(
            Method::POST,
            "/v1/rule-packs/nope/1.0.0/enforce",
            Some(&app.admin),
            Some(json!({"grace_days": grace})),
        )
    };
    problem(&enforce(json!(117.0)).await, StatusCode::NOT_FOUND, "not_found");
    problem(&enforce(json!(117)).await, StatusCode::NOT_FOUND, "not_found");
    for refused in [json!(117.5), json!(-1), json!(3651)] {
        problem(&enforce(refused).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
}

/// The partner's own moves: release an approved version, withdraw one in review; each refused
/// where the state or the caller does not allow it, and each told to the partner's webhooks.
#[tokio::test]
async fn a_partner_releases_and_withdraws_its_own_versions() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let moves = format!("/v1/listings/{slug}/versions/{version}/moves");
    let release = json!({"action": "release"});
    assert_problem(
        &app.call(Method::POST, &moves, Some(&app.globex), Some(release.clone())).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_problem(
        &app.call(Method::POST, &moves, Some(&app.reviewer), Some(release.clone())).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let early = app.call(Method::POST, &moves, Some(&app.acme), Some(release.clone())).await;
    assert_problem(&early, StatusCode::CONFLICT, "transition_not_allowed");
    let decided = app
        .call(
            Method::POST,
            &format!("/v1/listings/{slug}/versions/{version}/decisions"),
            Some(&app.reviewer),
            Some(json!({"action": "approve", "note": "ok"})),
        )
        .await;
    assert_eq!(decided.body["state"], "approved", "{}", decided.body);
    let released = app.call(Method::POST, &moves, Some(&app.acme), Some(release.clone())).await;
    assert_eq!(
        (released.status, released.body["state"].as_str()),
        (StatusCode::OK, Some("published")),
        "{}",
        released.body
    );

    // A second version in review is withdrawn, with a reason; then it cannot be decided.
    let (other, v2) = app.reviewed_manifest(example("clean").replace(&slug, &format!("{slug}-two"))).await;
    let path = format!("/v1/listings/{other}/versions/{v2}/moves");
    let withdrawn =
        app.call(Method::POST, &path, Some(&app.acme), Some(json!({"action": "withdraw", "note": "superseded"}))).await;
    assert_eq!(withdrawn.body["state"], "withdrawn", "{}", withdrawn.body);
    let late = app.decide(&app.reviewer, &other, &v2, "approve", "ok").await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    let timeline = app.call(Method::GET, &format!("/v1/listings/{other}/timeline"), Some(&app.acme), None).await;
    assert!(
        timeline.body.to_string().contains("version.withdraw") && timeline.body.to_string().contains("superseded"),
        "{}",
        timeline.body
    );
}

/// A partner rolls back to an earlier approved version: the newer live one is withdrawn and
/// the earlier one is live again; a version never approved, or already the newest, is refused.
#[tokio::test]
async fn a_partner_rolls_back_to_an_earlier_approved_version() {
    let app = app().await;
    let clean = example("clean");
    let (slug, v1) = app.reviewed_manifest(clean.clone()).await;
    let approve = |version: String| {
        let path = format!("/v1/listings/{slug}/versions/{version}/decisions");
        let app = &app;
        async move {
            app.call(Method::POST, &path, Some(&app.reviewer), Some(json!({"action": "approve", "note": "ok"}))).await
        }
    };
    let moves = |version: &str, action: &str| {
        let (path, body) = (format!("/v1/listings/{slug}/versions/{version}/moves"), json!({"action": action}));
        let app = &app;
        async move { app.call(Method::POST, &path, Some(&app.acme), Some(body)).await }
    };
    assert_eq!(approve(v1.clone()).await.body["state"], "approved");
    assert_eq!(moves(&v1, "release").await.body["state"], "published");
    let newest = moves(&v1, "rollback").await;
    assert_problem(&newest, StatusCode::CONFLICT, "transition_not_allowed");
    assert!(newest.body["detail"].as_str().unwrap().contains("already the newest"), "{}", newest.body);

    // 1.5.0 is approved and released; then 1.6.0 is rejected.
    let next = |v: &str| clean.replace("version = \"1.4.0\"", &format!("version = \"{v}\""));
    let submitted = app.submit(&slug, &app.acme, &next("1.5.0"), &[]).await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.body);
    app.service.review_next().await.unwrap().unwrap();
    assert_eq!(approve("1.5.0".into()).await.body["state"], "approved");
    assert_eq!(moves("1.5.0", "release").await.body["state"], "published");
    app.submit(&slug, &app.acme, &next("1.6.0"), &[]).await;
    app.service.review_next().await.unwrap().unwrap();
    let path = format!("/v1/listings/{slug}/versions/1.6.0/decisions");
    app.call(Method::POST, &path, Some(&app.reviewer), Some(json!({"action": "reject", "note": "no"}))).await;
    let never = moves("1.6.0", "rollback").await;
    assert_problem(&never, StatusCode::CONFLICT, "transition_not_allowed");
    assert!(never.body["detail"].as_str().unwrap().contains("a reviewer approved"), "{}", never.body);
    let foreign = app
        .call(
            Method::POST,
            &format!("/v1/listings/{slug}/versions/{v1}/moves"),
            Some(&app.globex),
            Some(json!({"action": "rollback"})),
        )
        .await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");

    // Back to 1.4.0: 1.5.0 is withdrawn, 1.4.0 is live; the standing says so.
    let back = moves(&v1, "rollback").await;
    assert_eq!((back.status, back.body["state"].as_str()), (StatusCode::OK, Some("published")), "{}", back.body);
    let state = |version: &str| {
        let path = format!("/v1/listings/{slug}/versions/{version}");
        let app = &app;
        async move { app.call(Method::GET, &path, Some(&app.acme), None).await.body["state"].clone() }
    };
    assert_eq!((state("1.5.0").await, state("1.6.0").await), (json!("withdrawn"), json!("rejected")));
    // The withdrawn version says so in its headers: deprecated since now, 1.4.0 succeeds it.
    let withdrawn = app.call(Method::GET, &format!("/v1/listings/{slug}/versions/1.5.0"), Some(&app.acme), None).await;
    let since = withdrawn.headers["deprecation"].to_str().unwrap();
    let at: i64 = since.strip_prefix('@').unwrap().parse().unwrap();
    assert!((at - jiff::Timestamp::now().as_second()).abs() < 120, "{since}");
    assert_eq!(
        withdrawn.headers[header::LINK],
        format!("</v1/listings/{slug}/versions/{v1}>; rel=\"successor-version\"")
    );
    let live = app.call(Method::GET, &format!("/v1/listings/{slug}/versions/{v1}"), Some(&app.acme), None).await;
    assert!(!live.headers.contains_key("deprecation"), "the live version is not deprecated");
    let standing = app.call(Method::GET, "/v1/standing", Some(&app.acme), None).await;
    assert!(standing.body.to_string().contains(&v1), "{}", standing.body);
    let timeline = app.call(Method::GET, &format!("/v1/listings/{slug}/timeline"), Some(&app.acme), None).await;
    assert!(timeline.body.to_string().contains(&format!("rolled back to {v1}")), "{}", timeline.body);
}

/// A listing set to release automatically puts an approved version live at once.
#[tokio::test]
async fn a_listing_that_releases_automatically_goes_live_when_approved() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let path = format!("/v1/listings/{slug}");
    let on = json!({"auto_release": true});
    assert_problem(
        &app.call(Method::PATCH, &path, Some(&app.globex), Some(on.clone())).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_problem(
        &app.call(Method::PATCH, &path, Some(&app.reviewer), Some(on.clone())).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(app.call(Method::GET, &path, Some(&app.acme), None).await.body["auto_release"], false);
    let set = app.call(Method::PATCH, &path, Some(&app.acme), Some(on)).await;
    assert_eq!((set.status, set.body["auto_release"].as_bool()), (StatusCode::OK, Some(true)), "{}", set.body);
    let decided = app
        .call(
            Method::POST,
            &format!("/v1/listings/{slug}/versions/{version}/decisions"),
            Some(&app.reviewer),
            Some(json!({"action": "approve", "note": "ok"})),
        )
        .await;
    assert_eq!(decided.body["state"], "published", "{}", decided.body);
    let timeline = app.call(Method::GET, &format!("{path}/timeline"), Some(&app.acme), None).await;
    let text = timeline.body.to_string();
    assert!(text.contains("listing.auto_release") && text.contains("released automatically"), "{text}");
    let off = app.call(Method::PATCH, &path, Some(&app.acme), Some(json!({"auto_release": false}))).await;
    assert_eq!(off.body["auto_release"], false);
}

/// The Grafana dashboard in docs/grafana/ uses only metrics the service exports, and
/// docs/operations.md describes every one of them.
#[test]
fn the_dashboard_and_the_docs_name_only_metrics_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("docs/grafana/assay.json")).unwrap()).unwrap();
    let known: Vec<&str> = assay_server::ops::METRICS.iter().map(|(name, ..)| *name).collect();
    let mut used = std::collections::BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let words = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            for word in words.filter(|w| w.starts_with("assay_")) {
                let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| word.strip_suffix(s)).unwrap_or(word);
                assert!(known.contains(&base), "panel `{}` uses `{word}`, which assay does not export", panel["title"]);
                used.insert(base.to_owned());
            }
            assert_eq!(target["datasource"]["uid"], "${datasource}", "panel `{}`", panel["title"]);
        }
    }
    assert!(used.len() >= 15, "the dashboard shows most metrics: {used:?}");
    let docs = std::fs::read_to_string(root.join("docs/operations.md")).unwrap();
    for name in known {
        assert!(docs.contains(&format!("`{name}`")), "docs/operations.md does not describe {name}");
    }
}

/// `?wait=` is a long poll: it answers once the review is recorded, not before and not after
/// its wait; a decided version answers at once; a wait that is not one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_when_the_verdict_is_recorded() {
    let app = Arc::new(app().await);
    let manifest = example("clean");
    let slug = slug_of(&manifest);
    let created =
        app.call(Method::POST, "/v1/listings", Some(&app.acme), Some(json!({"slug": slug, "name": "Example"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let submitted = app.submit(&slug, &app.acme, &manifest, &[]).await;
    let url = submitted.body["url"].as_str().unwrap().to_owned();

    let poll = {
        let (app, url) = (app.clone(), url.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let reply = app.call(Method::GET, &format!("{url}?wait=30s"), Some(&app.acme), None).await;
            (reply, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!poll.is_finished(), "the long poll answered before the review ran");
    app.service.review_next().await.unwrap().unwrap();
    let (reply, waited) = tokio::time::timeout(std::time::Duration::from_secs(20), poll).await.unwrap().unwrap();
    assert_eq!((reply.status, reply.body["verdict"].as_str()), (StatusCode::OK, Some("pass")), "{}", reply.body);
    assert!(waited < std::time::Duration::from_secs(20), "answered by its timeout, not the review: {waited:?}");

    // Decided: no waiting at all.
    let long = format!("{url}?wait=60s");
    let decided = app.call(Method::GET, &long, Some(&app.acme), None);
    let decided =
        tokio::time::timeout(std::time::Duration::from_secs(5), decided).await.expect("a decided version waited");
    assert_eq!(decided.body["state"], "awaiting_review");
    for bad in ["61s", "abc", "-1", "1m", "s", "1s&wait=2s"] {
        let refused = app.call(Method::GET, &format!("{url}?wait={bad}"), Some(&app.acme), None).await;
        assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
    // Another partner waits for nothing: 404 at once.
    let foreign = app.call(Method::GET, &long, Some(&app.globex), None);
    let foreign = tokio::time::timeout(std::time::Duration::from_secs(5), foreign).await.unwrap();
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");
}

/// The re-checks' long polls: a rollout's `?wait=` answers once its re-check has no job left,
/// and a version's `rechecks?job=N&wait=` once job N's verdict is recorded — not before; a
/// finished re-check answers at once; a `wait` without a `job`, or a `job` that is not one, is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_check_long_polls_answer_when_the_re_check_is_recorded() {
    let app = Arc::new(app().await);
    let (slug, version) = app.reviewed("clean").await;
    let decide = format!("/v1/listings/{slug}/versions/{version}/decisions");
    let note = json!({"action": "approve", "note": "ship it"});
    let approved = app.call(Method::POST, &decide, Some(&app.reviewer), Some(note)).await;
    assert_eq!(approved.body["state"], "approved", "{}", approved.body);
    let admin = app.service.authenticate(&app.admin).await.unwrap();
    let manifest = assay_builtin::PACK_TOML.replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    let upload = assay_service::PackUpload { manifest, files: assay_builtin::files() };
    app.service.publish_pack(&admin, upload).await.unwrap();

    // The submission's review was job 1; the shadow pack's re-check of the live version is job 2.
    let rechecks = format!("/v1/listings/{slug}/versions/{version}/rechecks");
    let rollout_path = "/v1/rule-packs/assay-builtin/0.2.0";
    let get = |path: String, token: String| {
        let app = app.clone();
        tokio::spawn(async move { app.call(Method::GET, &path, Some(&token), None).await })
    };
    let rollout = get(format!("{rollout_path}?wait=30s"), app.reviewer.clone());
    let recheck = get(format!("{rechecks}?job=2&wait=30s"), app.acme.clone());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!rollout.is_finished(), "the rollout's long poll answered before the re-check ran");
    assert!(!recheck.is_finished(), "the re-checks' long poll answered before the re-check ran");
    assert_eq!(app.service.work_once("test").await.unwrap().rechecks, 1);
    let within = std::time::Duration::from_secs(20);
    let rollout = tokio::time::timeout(within, rollout).await.unwrap().unwrap();
    assert_eq!(rollout.status, StatusCode::OK, "{}", rollout.body);
    let progress = &rollout.body["progress"];
    assert_eq!((&progress["waiting"], &progress["running"], &progress["done"]), (&json!(0), &json!(0), &json!(1)));
    let recheck = tokio::time::timeout(within, recheck).await.unwrap().unwrap();
    assert_eq!(recheck.status, StatusCode::OK, "{}", recheck.body);
    assert_eq!(recheck.body.as_array().unwrap().iter().filter(|r| r["job_id"] == 2).count(), 1, "{}", recheck.body);

    // Finished: no waiting at all.
    let at_once = std::time::Duration::from_secs(5);
    let path = format!("{rollout_path}?wait=60s");
    let finished = app.call(Method::GET, &path, Some(&app.reviewer), None);
    assert_eq!(
        tokio::time::timeout(at_once, finished).await.expect("a finished re-check waited").status,
        StatusCode::OK
    );
    let path = format!("{rechecks}?job=2&wait=60s");
    let recorded = app.call(Method::GET, &path, Some(&app.acme), None);
    assert_eq!(
        tokio::time::timeout(at_once, recorded).await.expect("a recorded re-check waited").status,
        StatusCode::OK
    );
    // A job that is not a re-check of this version still to run is not waited for either.
    for job in [1, 999] {
        let path = format!("{rechecks}?job={job}&wait=60s");
        let other = app.call(Method::GET, &path, Some(&app.acme), None);
        let other = tokio::time::timeout(at_once, other).await.expect("waited for a job that will not come");
        assert_eq!(other.status, StatusCode::OK);
    }
    for query in ["wait=5s", "job=x&wait=1s", "job=0&wait=1s", "job=2&wait=2m", "job=2&job=3&wait=1s"] {
        let refused = app.call(Method::GET, &format!("{rechecks}?{query}"), Some(&app.acme), None).await;
        assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
    let refused = app.call(Method::GET, &format!("{rollout_path}?wait=forever"), Some(&app.reviewer), None).await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}
