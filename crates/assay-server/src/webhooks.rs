//! Webhook endpoints and their delivery logs, and the HTTP [`Sender`] the dispatcher uses.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use assay_core::webhook::{DeliveryRecord, EndpointRecord};
use assay_service::Sender;

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, Problem};

/// Delivers signed webhook messages over HTTP(S): a 10 s timeout, no redirects followed (a
/// receiver that moved registers its new URL).
#[derive(Debug)]
pub struct HttpSender {
    agent: ureq::Agent,
}

impl Default for HttpSender {
    fn default() -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("assay-webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        HttpSender { agent: config.into() }
    }
}

impl Sender for HttpSender {
    fn send(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String> {
        let mut request = self.agent.post(url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send(body) {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// Where to POST messages: `https` (plain `http` only to a loopback address).
    pub url: String,
    /// Event types to receive; empty or `["*"]` for all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    /// Its id.
    pub id: i64,
    /// Where messages go.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`): only in the response that created the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When it was registered (RFC 3339).
    pub created_at: String,
}

impl Endpoint {
    fn new(e: &EndpointRecord, with_secret: bool) -> Self {
        Endpoint {
            id: e.id,
            url: e.url.clone(),
            events: e.events.clone(),
            secret: with_secret.then(|| e.secret.clone()),
            created_at: timestamp(e.created_at),
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The message's `webhook-id`.
    pub message: String,
    /// Its event type.
    pub event_type: String,
    /// Which attempt, from 1.
    pub attempt: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// The message's state now: `pending`, `delivered` or `failed`.
    pub state: String,
}

impl From<&DeliveryRecord> for Delivery {
    fn from(d: &DeliveryRecord) -> Self {
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
}

/// An endpoint's delivery log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryLog {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Messages waiting (new or to be retried).
    pub pending: i64,
    /// Messages delivered.
    pub delivered: i64,
    /// Messages that ran out of attempts.
    pub failed: i64,
    /// Attempts, newest first (at most 200).
    pub deliveries: Vec<Delivery>,
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
    Ok(created(&location, StatusCode::CREATED, Endpoint::new(&new.endpoint, true)))
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
    Ok(Json(state.service.endpoints(&who).await?.iter().map(|e| Endpoint::new(e, false)).collect()))
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
    Path(id): Path<i64>,
) -> Result<Json<DeliveryLog>, ApiError> {
    let (endpoint, log, (pending, delivered, failed)) = state.service.delivery_log(&who, id).await?;
    Ok(Json(DeliveryLog {
        endpoint: Endpoint::new(&endpoint, false),
        pending,
        delivered,
        failed,
        deliveries: log.iter().map(Delivery::from).collect(),
    }))
}
