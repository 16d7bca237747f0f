//! Webhook endpoints and their delivery logs, and the HTTP [`Sender`] the dispatcher uses.

use assay_api::problem::Problem;
use assay_api::webhooks::{
    CreateEndpoint, Delivery, DeliveryLog, Endpoint, EndpointHealth, PauseEndpoint, TestQueued, UpdateEndpoint,
};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use std::net::{SocketAddr, ToSocketAddrs};

use assay_core::address::Outbound;
use assay_core::webhook::{DeliveryRecord, EndpointRecord};
use assay_service::{FailureKind, SendFailure, Sender};

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, ApiPath};

/// Delivers signed webhook messages over HTTP(S): a timeout (default 10 s), no redirects
/// followed (a receiver that moved registers its new URL), no proxy, and every address it
/// connects to checked first by [`PublicOnly`].
#[derive(Debug)]
pub struct HttpSender {
    agent: ureq::Agent,
}

impl Default for HttpSender {
    fn default() -> Self {
        HttpSender::new(Outbound::default(), Duration::from_secs(10))
    }
}

impl HttpSender {
    /// A sender that reaches only what `outbound` allows, giving up after `timeout`.
    pub fn new(outbound: Outbound, timeout: Duration) -> HttpSender {
        let connector = ureq::unversioned::transport::DefaultConnector::default();
        HttpSender::with_parts(PublicOnly::new(outbound), connector, timeout)
    }

    /// A sender that looks hosts up with `resolver` and connects through `connector` (tests
    /// give one that records the addresses it is handed instead of connecting).
    pub fn with_parts(
        resolver: PublicOnly,
        connector: impl ureq::unversioned::transport::Connector,
        timeout: Duration,
    ) -> HttpSender {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .proxy(None)
            .http_status_as_error(false)
            .user_agent(concat!("assay-webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(config, connector, resolver);
        HttpSender { agent }
    }
}

impl Sender for HttpSender {
    fn send(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, SendFailure> {
        let mut request = self.agent.post(url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send(body) {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => Err(SendFailure { kind: failure_kind(&e), detail: e.to_string() }),
        }
    }
}

/// What a transport error means for the partner reading the delivery log.
fn failure_kind(e: &ureq::Error) -> FailureKind {
    match e {
        ureq::Error::Other(inner) if inner.is::<NotPublic>() => FailureKind::NotPublic,
        ureq::Error::HostNotFound | ureq::Error::BadUri(_) => FailureKind::NotPublic,
        ureq::Error::Timeout(_) => FailureKind::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => FailureKind::Timeout,
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed => FailureKind::Unreachable,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => FailureKind::Tls,
        _ => FailureKind::Protocol,
    }
}

/// A resolution refused because an address is not public.
#[derive(Debug)]
struct NotPublic(String);

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotPublic {}

/// Look a host up and refuse it unless every address it resolves to may be reached: the
/// addresses returned are the only ones the connector is given, so the check applies to the
/// address actually connected to, literal or resolved, whatever DNS answers next time. One
/// address that is not public refuses the host (a name that resolves inward as well as
/// outward is hostile).
pub struct PublicOnly {
    outbound: Outbound,
    lookup: Box<Lookup>,
}

/// Resolves `host:port` to socket addresses.
type Lookup = dyn Fn(&str) -> std::io::Result<Vec<SocketAddr>> + Send + Sync;

impl std::fmt::Debug for PublicOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicOnly").field("outbound", &self.outbound).finish_non_exhaustive()
    }
}

impl PublicOnly {
    /// The system's resolver, checked by `outbound`.
    pub fn new(outbound: Outbound) -> PublicOnly {
        PublicOnly::with_lookup(outbound, |host_port| host_port.to_socket_addrs().map(Iterator::collect))
    }

    /// Another lookup (tests answer for names without asking DNS), checked by `outbound`.
    pub fn with_lookup(
        outbound: Outbound,
        lookup: impl Fn(&str) -> std::io::Result<Vec<SocketAddr>> + Send + Sync + 'static,
    ) -> PublicOnly {
        PublicOnly { outbound, lookup: Box::new(lookup) }
    }

    /// The addresses for `host:port` that may be connected to, or why none may.
    pub fn addresses(&self, host_port: &str) -> Result<Vec<SocketAddr>, String> {
        let found = (self.lookup)(host_port).map_err(|e| format!("{host_port} did not resolve: {e}"))?;
        if found.is_empty() {
            return Err(format!("{host_port} resolved to no address"));
        }
        if let Some(why) = found.iter().find_map(|a| self.outbound.refusal(a.ip())) {
            return Err(why);
        }
        Ok(found)
    }
}

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let authority = uri.authority().ok_or_else(|| ureq::Error::BadUri(uri.to_string()))?;
        let port = authority.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
        let host = authority.host();
        let addresses =
            self.addresses(&format!("{host}:{port}")).map_err(|why| ureq::Error::Other(Box::new(NotPublic(why))))?;
        let mut resolved = self.empty();
        for address in addresses.into_iter().take(16) {
            resolved.push(address);
        }
        Ok(resolved)
    }
}

pub(crate) fn endpoint(e: &EndpointRecord, with_secret: bool) -> Endpoint {
    let h = &e.health;
    Endpoint {
        id: e.id,
        url: e.url.clone(),
        events: e.events.clone(),
        secret: with_secret.then(|| e.secret.clone()),
        created_at: timestamp(e.created_at),
        previous_secret_until: e.previous_secret_until.map(timestamp),
        health: EndpointHealth {
            status: h.status().to_owned(),
            last_success_at: h.last_success_at.map(timestamp),
            last_failure_at: h.last_failure_at.map(timestamp),
            last_error: h.last_error.clone(),
            failures_in_a_row: h.failures_in_a_row,
            failing_since: h.failing_since.map(timestamp),
            paused_at: h.paused_at.map(timestamp),
            paused_reason: h.paused_reason.clone(),
        },
    }
}

pub(crate) fn delivery(d: &DeliveryRecord) -> Delivery {
    Delivery {
        message: d.msg_id.clone(),
        event_type: d.event_type.clone(),
        attempt: d.attempt,
        at: timestamp(d.at),
        status: d.status,
        error: d.error.clone(),
        duration_ms: d.duration_ms,
        state: d.state.clone(),
    }
}

/// Register a webhook endpoint (partners). The response carries the signing secret, once.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    request_body = CreateEndpoint,
    responses(
        (status = 201, description = "Registered; `secret` is shown only here", body = Endpoint),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an https URL, or an unknown event type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> Result<Response, ApiError> {
    let new = state.service.register_endpoint(&who, &body.url, &body.events).await?;
    let location = format!("/v1/webhooks/{}/deliveries", new.endpoint.id);
    Ok(created(&location, StatusCode::CREATED, crate::webhooks::endpoint(&new.endpoint, true)))
}

/// The caller's webhook endpoints (secrets not shown).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "Endpoints", body = [Endpoint]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<Vec<Endpoint>>, ApiError> {
    Ok(Json(state.service.endpoints(&who).await?.iter().map(|e| crate::webhooks::endpoint(e, false)).collect()))
}

/// An endpoint's delivery log: every attempt, newest first, and its messages by state.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The delivery log", body = DeliveryLog),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn delivery_log(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeliveryLog>, ApiError> {
    let (endpoint, log, (pending, delivered, failed)) = state.service.delivery_log(&who, id).await?;
    Ok(Json(DeliveryLog {
        endpoint: crate::webhooks::endpoint(&endpoint, false),
        pending,
        delivered,
        failed,
        deliveries: log.iter().map(crate::webhooks::delivery).collect(),
    }))
}

/// One of the caller's endpoints, with its health.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint", body = Endpoint),
        (status = 404, description = "No such endpoint the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Endpoint>, ApiError> {
    let (record, ..) = state.service.delivery_log(&who, id).await?;
    Ok(Json(endpoint(&record, false)))
}

/// Change which events an endpoint receives (its owner).
#[utoipa::path(
    patch, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    request_body = UpdateEndpoint,
    responses(
        (status = 200, description = "The endpoint, updated", body = Endpoint),
        (status = 404, description = "No such endpoint the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown event type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn update_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateEndpoint>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoint(&state.service.update_endpoint(&who, id, &body.events).await?, false)))
}

/// Delete an endpoint, its waiting messages and its delivery log (its owner).
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint the caller manages", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_endpoint(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause an endpoint: nothing is sent to it, its messages wait (its owner).
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/pause", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    request_body = PauseEndpoint,
    responses(
        (status = 200, description = "The endpoint, paused", body = Endpoint),
        (status = 404, description = "No such endpoint the caller manages", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn pause_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PauseEndpoint>,
) -> Result<Json<Endpoint>, ApiError> {
    let reason = body.reason.unwrap_or_default();
    Ok(Json(endpoint(&state.service.pause_endpoint(&who, id, Some(&reason)).await?, false)))
}

/// Resume a paused endpoint: what waited is sent now (its owner).
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/resume", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint, delivering again", body = Endpoint),
        (status = 404, description = "No such endpoint the caller manages", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn resume_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoint(&state.service.pause_endpoint(&who, id, None).await?, false)))
}

/// A new signing secret, shown once; the old one keeps signing beside it for the grace period
/// (`previous_secret_until`), so receivers can switch without losing a message (its owner).
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint with its new `secret`, shown only here", body = Endpoint),
        (status = 404, description = "No such endpoint the caller manages", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoint(&state.service.rotate_endpoint_secret(&who, id).await?, true)))
}

/// Queue a `webhook.test` message to the endpoint (its owner); follow it in the delivery log.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/test", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint")),
    responses(
        (status = 202, description = "Queued", body = TestQueued),
        (status = 404, description = "No such endpoint the caller manages", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn test_endpoint(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<TestQueued>), ApiError> {
    let message = state.service.send_test_event(&who, id).await?;
    Ok((StatusCode::ACCEPTED, Json(TestQueued { message })))
}

/// Send a message again, now; a failed one gets its attempts back (its owner).
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/messages/{message}/redeliver", tag = "webhooks",
    params(
        ("id" = i64, Path, description = "The endpoint"),
        ("message" = String, Path, description = "The message's `webhook-id`"),
    ),
    responses(
        (status = 202, description = "Queued for delivery"),
        (status = 404, description = "No such endpoint the caller manages, or no such message of it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((id, message)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    state.service.redeliver(&who, id, &message).await?;
    Ok(StatusCode::ACCEPTED)
}
