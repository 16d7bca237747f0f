//! Operations: liveness, readiness, Prometheus metrics, and the request metrics middleware.

use assay_api::ops::Readiness;
use assay_api::problem::Problem;
use std::sync::OnceLock;
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// The process's Prometheus recorder, installed on first use. A second server in the same
/// process (tests) shares it.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // The review clock's histograms get buckets people read in hours and days.
            let hours: Vec<f64> = [1.0, 4.0, 8.0, 24.0, 48.0, 72.0, 120.0, 168.0, 336.0].map(|h| h * 3600.0).to_vec();
            let builder = ["assay_review_first_decision_seconds", "assay_review_hold_seconds"]
                .into_iter()
                .try_fold(PrometheusBuilder::new(), |b, name| {
                    b.set_buckets_for_metric(Matcher::Full(name.into()), &hours)
                });
            let Ok(builder) = builder else {
                tracing::warn!("the review clock's buckets were refused; /metrics will be empty");
                return PrometheusBuilder::new().build_recorder().handle();
            };
            match builder.install_recorder() {
                Ok(handle) => handle,
                // Someone else installed a recorder: render an empty one rather than fail.
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder already installed; /metrics will be empty");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            }
        })
        .clone()
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and is migrated, the rule pack is loaded, and the newest
/// audit events verified.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database does not answer or the audit chain is broken (the readiness document), or the request took longer than the server allows (a `timeout` problem)", content(
            (Readiness = "application/json"),
            (Problem = "application/problem+json"),
        )),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = state.service.readiness().await;
    let (status, pending) = match readiness.pending_reviews {
        Ok(pending) => (StatusCode::OK, pending),
        Err(e) => {
            tracing::warn!(error = %assay_service::error_chain(&e), "readiness check: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, -1)
        }
    };
    metrics::gauge!("assay_pending_reviews").set(pending as f64);
    let audit = match &readiness.audit_broken {
        None => "intact".to_owned(),
        Some((seq, why)) => format!("broken at event {seq}: {why}"),
    };
    let status = if readiness.audit_broken.is_some() { StatusCode::SERVICE_UNAVAILABLE } else { status };
    let body = Readiness {
        status: if status == StatusCode::OK { "ready" } else { "unavailable" }.to_owned(),
        database: readiness.database.to_owned(),
        rule_pack: readiness.rule_pack,
        pending_reviews: pending,
        audit,
    };
    (status, Json(body)).into_response()
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus metrics", body = String, content_type = "text/plain")))]
pub async fn metrics_text(State(state): State<AppState>) -> Response {
    if let Ok(pending) = state.service.pending_reviews().await {
        metrics::gauge!("assay_pending_reviews").set(pending as f64);
    }
    if let Ok(late) = state.service.reviews_past_target().await {
        metrics::gauge!("assay_reviews_past_target").set(late as f64);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// Count and time every request by route template (never by raw path: slugs are unbounded).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("assay_http_requests_total", &labels).increment(1);
    metrics::histogram!("assay_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
