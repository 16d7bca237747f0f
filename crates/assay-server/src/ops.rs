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

/// What a metric is, for `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations in buckets (`_bucket`, `_sum`, `_count`).
    Histogram,
}

/// Every metric assay exports: name, kind and the `# HELP` text. `docs/operations.md` lists
/// them and the Grafana dashboard in `docs/grafana/` uses only these (a test holds both).
pub const METRICS: &[(&str, Kind, &str)] = &[
    ("assay_http_requests_total", Kind::Counter, "HTTP requests answered, by method, route template and status."),
    (
        "assay_http_request_duration_seconds",
        Kind::Histogram,
        "Time to answer an HTTP request, by method, route template and status.",
    ),
    (
        "assay_submit_to_verdict_seconds",
        Kind::Histogram,
        "From a version's submission to its recorded automated verdict.",
    ),
    ("assay_review_host_seconds", Kind::Histogram, "Time a review spends in the sandboxed plugin host."),
    (
        "assay_review_store_seconds",
        Kind::Histogram,
        "Time recording a review's result takes, waiting for its group commit included.",
    ),
    (
        "assay_review_batch_size",
        Kind::Histogram,
        "Reviews recorded per transaction (reviews that finish together commit together).",
    ),
    (
        "assay_store_write_wait_seconds",
        Kind::Histogram,
        "Time a write transaction waited for the store's one writer (this process's queue, then the database's lock).",
    ),
    (
        "assay_store_write_held_seconds",
        Kind::Histogram,
        "Time a write transaction held the store's one writer; its rate is the share of time the writer is busy.",
    ),
    ("assay_reviews_total", Kind::Counter, "Automated reviews recorded, by verdict."),
    ("assay_rechecks_total", Kind::Counter, "Re-check verdicts recorded."),
    (
        "assay_review_first_decision_seconds",
        Kind::Histogram,
        "From a version reaching the review queue to a reviewer's first decision, time on hold excluded.",
    ),
    ("assay_review_hold_seconds", Kind::Histogram, "How long a hold paused a version's review."),
    ("assay_versions_awaiting_reviewer", Kind::Gauge, "Versions waiting for a reviewer's decision (holds included)."),
    ("assay_reviews_past_target", Kind::Gauge, "Versions waiting for a reviewer past their review target."),
    (
        "assay_pending_reviews",
        Kind::Gauge,
        "Automated review jobs waiting or running (not versions waiting for a reviewer).",
    ),
    ("assay_jobs", Kind::Gauge, "Jobs by kind (review, recheck) and state (waiting, running, dead)."),
    (
        "assay_job_oldest_waiting_seconds",
        Kind::Gauge,
        "Age of the oldest job waiting to be claimed, by kind (0 when none waits).",
    ),
    (
        "assay_dead_jobs_total",
        Kind::Counter,
        "Jobs this process dead-lettered: after their last retry, or after losing their worker too often.",
    ),
    ("assay_webhook_delivery_seconds", Kind::Histogram, "Time a webhook delivery attempt takes, answered or not."),
    ("assay_webhook_failures_total", Kind::Counter, "Webhook delivery attempts that failed."),
    ("assay_webhook_endpoints_failing", Kind::Gauge, "Webhook endpoints whose deliveries fail now."),
    ("assay_email_failures_total", Kind::Counter, "E-mail send attempts that failed."),
];

/// The job kinds the `assay_jobs` gauges are reported for (a drained kind reads 0).
const JOB_KINDS: [&str; 2] = ["review", "recheck"];

/// The process's Prometheus recorder, installed on first use, with every metric described
/// (`# HELP`) and registered (so each is exported before its first observation). A second
/// server in the same process (tests) shares it.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = match recorder() {
                Ok(builder) => match builder.install_recorder() {
                    Ok(handle) => handle,
                    // Someone else installed a recorder: render an empty one rather than fail.
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics recorder already installed; /metrics will be empty");
                        return PrometheusBuilder::new().build_recorder().handle();
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "the histogram buckets were refused; /metrics will be empty");
                    return PrometheusBuilder::new().build_recorder().handle();
                }
            };
            for &(name, kind, help) in METRICS {
                match kind {
                    Kind::Counter => metrics::describe_counter!(name, help),
                    Kind::Gauge => metrics::describe_gauge!(name, help),
                    Kind::Histogram => metrics::describe_histogram!(name, help),
                }
            }
            // Unlabelled metrics exist from the start; labelled ones appear with their labels.
            for name in [
                "assay_rechecks_total",
                "assay_dead_jobs_total",
                "assay_webhook_failures_total",
                "assay_email_failures_total",
            ] {
                metrics::counter!(name).absolute(0);
            }
            for &(name, kind, _) in METRICS {
                if kind == Kind::Histogram && !name.starts_with("assay_http_") {
                    drop(metrics::histogram!(name));
                }
            }
            handle
        })
        .clone()
}

/// The builder: every histogram a histogram (never a summary), with buckets people read — the
/// request path in milliseconds to a minute, the store's writer from 100 µs, the review clock in
/// hours and days.
fn recorder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    let fast = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
    let hours: Vec<f64> = [1.0, 4.0, 8.0, 24.0, 48.0, 72.0, 120.0, 168.0, 336.0].map(|h| h * 3600.0).to_vec();
    let sizes = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0];
    // The store's writer: a transaction holds it for well under a millisecond when all is well.
    let writer = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
    let builder = ["assay_review_first_decision_seconds", "assay_review_hold_seconds"]
        .into_iter()
        .try_fold(PrometheusBuilder::new().set_buckets(&fast)?, |b, name| {
            b.set_buckets_for_metric(Matcher::Full(name.into()), &hours)
        })?
        .set_buckets_for_metric(Matcher::Full("assay_review_batch_size".into()), &sizes)?;
    ["assay_store_write_wait_seconds", "assay_store_write_held_seconds"]
        .into_iter()
        .try_fold(builder, |b, name| b.set_buckets_for_metric(Matcher::Full(name.into()), &writer))
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
    match state.service.operator_gauges().await {
        Ok(g) => {
            metrics::gauge!("assay_versions_awaiting_reviewer").set(g.awaiting_reviewer as f64);
            metrics::gauge!("assay_reviews_past_target").set(g.past_target as f64);
            metrics::gauge!("assay_pending_reviews").set(g.pending_reviews as f64);
            metrics::gauge!("assay_webhook_endpoints_failing").set(g.failing_endpoints as f64);
            for kind in JOB_KINDS {
                let jobs = g.jobs.iter().find(|j| j.kind == kind).cloned().unwrap_or_default();
                for (state, n) in [("waiting", jobs.waiting), ("running", jobs.running), ("dead", jobs.dead)] {
                    metrics::gauge!("assay_jobs", "kind" => kind, "state" => state).set(n as f64);
                }
                metrics::gauge!("assay_job_oldest_waiting_seconds", "kind" => kind)
                    .set(jobs.oldest_waiting_secs as f64);
            }
        }
        // The gauges keep their last values; readiness reports the store.
        Err(e) => tracing::warn!(error = %assay_service::error_chain(&e), "/metrics: the store did not answer"),
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
