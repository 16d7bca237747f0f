//! # assay-server: the HTTP API and the web console
//!
//! [`router`] builds the whole application; `assay serve` binds it to a socket, tests drive it
//! with `tower::ServiceExt::oneshot` (no socket needed).
//!
//! - [`api`]: the `/v1` routes — listings, versions (multipart submissions), the review queue,
//!   decisions and waivers. Handlers are glue over [`assay_service::Service`], which decides
//!   every permission.
//! - [`dto`]: the JSON shapes, converted from the service's types at this edge.
//! - [`problem`]: every error as `application/problem+json` with a stable `code`.
//! - [`auth`]: bearer tokens.
//! - [`people`]: the caller (`/v1/me`), organisations' members, tokens through their lifecycle,
//!   partners and staff decisions on their capabilities.
//! - [`packs`]: re-checks — rule-pack rollout (publish in shadow, progress and blast radius,
//!   enforce), partners' check updates, a version's re-check verdicts, and the job queue with
//!   its dead letters.
//! - [`rules`]: the active pack's rules and their documentation, public.
//! - [`email`]: e-mail over SMTP (lettre) and its text and HTML templates.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`, request metrics.
//! - `console`: the web console at `/` for reviewers and partners — server-rendered HTML over
//!   the same service calls, signed in with a session cookie, CSRF-checked forms.
//!
//! The OpenAPI 3.1 document is generated from the handlers ([`openapi`]), served at
//! `/openapi.json` and checked in at `docs/openapi.json`; a test fails when they differ.
//!
//! Rules this crate keeps: it is the only crate that knows HTTP; nothing internal reaches a
//! response body (causes are logged with the request id).

pub mod api;
pub mod audit;
pub mod auth;
mod console;
mod contract;
pub mod conversation;
pub mod dto;
pub mod email;
pub mod events;
pub mod exceptions;
pub mod listen;
pub mod notices;
pub mod oidc;
pub mod ops;
pub mod packs;
pub mod people;
pub mod problem;
pub mod rules;
pub mod webhooks;

use assay_api::ProblemCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use assay_service::Service;

use crate::problem::ApiError;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest JSON body, in bytes.
    pub max_body_bytes: usize,
    /// The largest submission (manifest and check components together), in bytes.
    pub max_upload_bytes: usize,
    /// Requests taking longer are answered 503 (uploads validate components, which compiles them).
    pub request_timeout: Duration,
    /// Mark console session cookies `Secure` on every response (the console is served over
    /// TLS by a proxy that does not send `X-Forwarded-Proto`).
    pub secure_cookies: bool,
    /// How long a console session lasts after sign-in.
    pub session_ttl: Duration,
    /// The OpenID provider people sign in to the console through, discovered at start.
    pub oidc: Option<oidc::Oidc>,
    /// The console's public base URL (invitation links); `None`: links are relative.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 64 << 10,
            max_upload_bytes: 48 << 20,
            request_timeout: Duration::from_secs(120),
            secure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            oidc: None,
            public_url: None,
        }
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub service: Service,
    /// Limits.
    pub config: Arc<ServerConfig>,
    metrics: PrometheusHandle,
    openapi: Arc<String>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "assay",
        description = "Review service for an app marketplace: partners submit listing versions, the platform's \
                       rules and the partners' own checks run as sandboxed WebAssembly components, reviewers decide.\n\n\
                       Authenticate with `Authorization: Bearer <token>` (`assay token create`). Errors are \
                       `application/problem+json` with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(
        assay_api::events::VersionSubmitted,
        assay_api::events::VersionReviewed,
        assay_api::events::VersionDecided,
        assay_api::events::VersionStateChanged,
        assay_api::events::VersionUncertified,
        assay_api::events::ExceptionEvent,
        assay_api::events::ExceptionLinks,
        assay_api::events::AppealEvent,
        assay_api::events::AppealLinks,
        assay_api::events::MessageEvent,
        assay_api::events::ConversationLinks,
        assay_api::events::HoldEvent,
        assay_api::events::NoticePublished,
        assay_api::events::DeprecationScheduled,
        assay_api::events::DeprecationReminder,
        assay_api::events::TestEvent,
    )),
    tags(
        (name = "listings", description = "Listings a partner owns"),
        (name = "versions", description = "Submitting versions and following their review"),
        (name = "review", description = "The reviewers' queue, decisions and waivers"),
        (name = "lifecycle", description = "Change notices (JSON and Atom) and deprecation schedules"),
        (name = "rule-packs", description = "Re-checks: rule-pack rollout (shadow re-check, blast radius, enforcement with a grace deadline), partners' check updates, re-check verdicts and the job queue"),
        (name = "rules", description = "The rules new reviews run and their documentation: public, no token needed"),
        (name = "webhooks", description = "Partner webhook endpoints (Standard Webhooks signatures) and their delivery logs"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "audit", description = "The hash-chained audit log: signed checkpoints of its head, and verification"),
        (name = "people", description = "The caller, organisations' members, tokens (create, list, revoke, rotate) and partners' capabilities"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("assay_<40 base62><6 base62 CRC-32>")
                    .build(),
            ),
        );
    }
}

fn routes(config: &ServerConfig) -> OpenApiRouter<AppState> {
    // The innermost body limit wins: JSON routes get the small one, submissions the large one.
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::create_listing, api::list_listings))
        .routes(routes!(api::get_listing, api::update_listing))
        .routes(routes!(api::get_version))
        .routes(routes!(api::get_bundle))
        .routes(routes!(api::review_queue))
        .routes(routes!(api::assign_review, api::unassign_review))
        .routes(routes!(api::decide))
        .routes(routes!(api::move_version))
        .routes(routes!(api::create_waiver))
        .routes(routes!(api::list_waivers))
        .routes(routes!(api::expire_waiver))
        .routes(routes!(exceptions::request_exception))
        .routes(routes!(exceptions::list_exceptions))
        .routes(routes!(exceptions::get_exception))
        .routes(routes!(exceptions::decide_exception))
        .routes(routes!(conversation::file_appeal))
        .routes(routes!(conversation::list_appeals))
        .routes(routes!(conversation::get_appeal))
        .routes(routes!(conversation::decide_appeal))
        .routes(routes!(conversation::conversation))
        .routes(routes!(conversation::post_message))
        .routes(routes!(conversation::place_hold, conversation::release_hold))
        .routes(routes!(notices::create_listing_notice, notices::list_listing_notices))
        .routes(routes!(notices::listing_notices_feed))
        .routes(routes!(notices::create_platform_notice, notices::list_notices))
        .routes(routes!(notices::get_notice))
        .routes(routes!(notices::create_deprecation, notices::list_deprecations))
        .routes(routes!(notices::list_listing_deprecations))
        .routes(routes!(notices::standing))
        .routes(routes!(notices::timeline))
        .routes(routes!(webhooks::create_endpoint, webhooks::list_endpoints))
        .routes(routes!(webhooks::delivery_log))
        .routes(routes!(webhooks::get_endpoint, webhooks::update_endpoint, webhooks::delete_endpoint))
        .routes(routes!(webhooks::pause_endpoint))
        .routes(routes!(webhooks::resume_endpoint))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::test_endpoint))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(rules::list_rules))
        .routes(routes!(rules::get_active_pack))
        .routes(routes!(rules::get_rule))
        .routes(routes!(rules::check_context))
        .routes(routes!(packs::list_packs))
        .routes(routes!(packs::get_pack))
        .routes(routes!(packs::enforce_pack))
        .routes(routes!(packs::queue))
        .routes(routes!(packs::rechecks))
        .routes(routes!(audit::checkpoints))
        .routes(routes!(audit::verify))
        .routes(routes!(people::me))
        .routes(routes!(people::email_preferences, people::set_email_preferences))
        .routes(routes!(people::list_members, people::add_member))
        .routes(routes!(people::change_member, people::remove_member))
        .routes(routes!(people::issue_member_token))
        .routes(routes!(people::invite, people::list_invitations))
        .routes(routes!(people::list_tokens, people::create_token))
        .routes(routes!(people::revoke_token))
        .routes(routes!(people::rotate_token))
        .routes(routes!(people::list_partners, people::create_partner))
        .routes(routes!(people::get_partner))
        .routes(routes!(people::decide_capabilities))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics_text))
        .route_layer(DefaultBodyLimit::max(config.max_body_bytes))
        .routes(routes!(api::submit_version))
        .routes(routes!(packs::publish_pack))
        .routes(routes!(packs::update_checks))
        .route_layer(DefaultBodyLimit::max(config.max_upload_bytes))
}

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut openapi = routes(&ServerConfig::default()).split_for_parts().1;
    contract::declare_transport_problems(&mut openapi);
    contract::declare_permissions(&mut openapi);
    events::declare_events(&mut openapi);
    openapi
}

/// The OpenAPI document as served and checked in (pretty JSON with a trailing newline).
pub fn openapi_json() -> String {
    let mut json = openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// The whole application.
pub fn router(service: Service, config: ServerConfig) -> Router {
    let (router, _) = routes(&config).split_for_parts();
    let state = AppState {
        service,
        config: Arc::new(config.clone()),
        metrics: ops::prometheus(),
        openapi: Arc::new(openapi_json()),
    };
    let request_id = HeaderName::from_static("x-request-id");
    router
        .merge(console::routes(&state))
        .route("/openapi.json", axum::routing::get(serve_openapi))
        .layer(axum::middleware::from_fn(ops::track))
        .fallback(|| async { ApiError::not_found("no such route; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ProblemCode::MethodNotAllowed, "see /openapi.json")
        })
        .with_state(state)
        .layer(axum::middleware::map_response(problem::timeout_problem))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.request_timeout))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(ProblemCode::Internal, "the request failed; it has been logged")
                .into_response()
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        // One structured line per response: method, path, request id, actor, status, latency.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id, actor = tracing::field::Empty)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, Counter::default()))
}

async fn serve_openapi(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], state.openapi.as_str().to_owned()).into_response()
}

/// Request ids: a per-process random prefix and a counter, unless the client sent one.
#[derive(Debug, Clone)]
struct Counter {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl Default for Counter {
    fn default() -> Self {
        let prefix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        Counter { prefix, next: Arc::new(AtomicU64::new(1)) }
    }
}

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}-{n}", self.prefix).parse().ok().map(RequestId::new)
    }
}
