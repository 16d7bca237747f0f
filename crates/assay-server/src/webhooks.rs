//! Webhook endpoints and their delivery logs, and the HTTP [`Sender`] the dispatcher uses.

use assay_api::problem::Problem;
use assay_api::webhooks::{CreateEndpoint, Delivery, DeliveryLog, Endpoint};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use assay_core::webhook::{DeliveryRecord, EndpointRecord};
use assay_service::Sender;

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, ApiPath};

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

pub(crate) fn endpoint(e: &EndpointRecord, with_secret: bool) -> Endpoint {
    Endpoint {
        id: e.id,
        url: e.url.clone(),
        events: e.events.clone(),
        secret: with_secret.then(|| e.secret.clone()),
        created_at: timestamp(e.created_at),
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
