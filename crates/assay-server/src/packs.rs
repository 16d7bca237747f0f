//! Rule-pack rollout: publish a pack in shadow mode, follow its re-check and blast radius,
//! enforce it with a grace deadline. Reviewers and admins only.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use assay_service::{PackUpload, Rollout};

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, Problem};

/// The multipart form of `POST /v1/rule-packs`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the fields as a stream
pub struct PackForm {
    /// The `pack.toml`.
    #[schema(format = Binary, content_media_type = "application/toml")]
    manifest: String,
    /// The components `pack.toml` names, each with its file name.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    component: Vec<String>,
}

/// `POST /v1/rule-packs/{name}/{version}/enforce`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enforce {
    /// Days from now until the pack's verdicts apply; affected partners are notified now.
    pub grace_days: u32,
}

/// Re-check jobs by state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    /// Every job of the phase.
    pub total: i64,
    /// Waiting to be claimed.
    pub waiting: i64,
    /// Running now.
    pub running: i64,
    /// Finished with a verdict.
    pub done: i64,
    /// Dead-lettered (see the worker logs and `GET /v1/jobs/dead`).
    pub dead: i64,
    /// When the phase's re-check began (RFC 3339).
    pub started_at: String,
    /// Seconds until it is done at the rate so far.
    pub eta_secs: Option<i64>,
}

/// Verdicts so far.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Verdicts {
    /// Would pass.
    pub pass: i64,
    /// Would fail (blocking findings).
    pub fail: i64,
    /// Could not decide (a rule failed to run).
    pub error: i64,
}

/// A rule and how many live listings fail it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleImpact {
    /// The rule.
    pub rule_id: String,
    /// Listings failing it.
    pub listings: i64,
}

/// A live listing the pack fails.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffectedListing {
    /// The listing.
    pub slug: String,
    /// Its live version.
    pub version: String,
    /// Its partner.
    pub partner: String,
    /// The rules it fails.
    pub rules: Vec<String>,
}

/// A published pack's rollout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackRollout {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over its manifest and components.
    pub digest: String,
    /// `shadow` (re-checking, nothing blocked), `grace` (enforced from `enforce_at`) or
    /// `enforced` (the active pack; failing live versions leave the marketplace).
    pub phase: String,
    /// When its verdicts apply (RFC 3339), once enforced.
    pub enforce_at: Option<String>,
    /// When they were applied.
    pub applied_at: Option<String>,
    /// Who published it.
    pub published_by: String,
    /// The current phase's re-check.
    pub progress: Progress,
    /// Its verdicts so far.
    pub verdicts: Verdicts,
    /// The blast radius: failing listings per rule, most first.
    pub rules: Vec<RuleImpact>,
    /// The failing listings (at most 500; `verdicts.fail` counts them all).
    pub affected: Vec<AffectedListing>,
}

impl From<&Rollout> for PackRollout {
    fn from(r: &Rollout) -> Self {
        PackRollout {
            name: r.pack.name.clone(),
            version: r.pack.version.clone(),
            digest: r.pack.digest.clone(),
            phase: r.phase.as_str().to_owned(),
            enforce_at: r.pack.enforce_at.map(timestamp),
            applied_at: r.pack.applied_at.map(timestamp),
            published_by: r.pack.published_by.clone(),
            progress: Progress {
                total: r.jobs.total(),
                waiting: r.jobs.waiting,
                running: r.jobs.running,
                done: r.jobs.done,
                dead: r.jobs.dead,
                started_at: timestamp(r.started_at),
                eta_secs: r.eta_secs,
            },
            verdicts: Verdicts { pass: r.verdicts.pass, fail: r.verdicts.fail, error: r.verdicts.error },
            rules: r
                .by_rule
                .iter()
                .map(|(rule_id, listings)| RuleImpact { rule_id: rule_id.clone(), listings: *listings })
                .collect(),
            affected: r
                .affected
                .iter()
                .map(|a| AffectedListing {
                    slug: a.slug.clone(),
                    version: a.version.clone(),
                    partner: a.partner.clone(),
                    rules: a.blocking.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
                })
                .collect(),
        }
    }
}

fn location(r: &Rollout) -> String {
    format!("/v1/rule-packs/{}/{}", r.pack.name, r.pack.version)
}

/// Publish a rule pack in shadow mode: every live listing is re-checked with it and nothing is
/// blocked. Follow the re-check and its blast radius at the returned URL.
#[utoipa::path(
    post, path = "/v1/rule-packs", tag = "rule-packs",
    request_body(content = PackForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Published; the shadow re-check is queued", body = PackRollout, headers(("Location" = String, description = "The rollout"))),
        (status = 400, description = "Malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This pack version was published before", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid pack.toml, or a component that does not load", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn publish_pack(
    State(state): State<AppState>,
    Caller(who): Caller,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let mut manifest = None;
    let mut components = Vec::new();
    let read_error =
        |e: axum::extract::multipart::MultipartError| ApiError::multipart(&e, state.config.max_upload_bytes);
    while let Some(field) = form.next_field().await.map_err(read_error)? {
        match field.name() {
            Some("manifest") => {
                let bytes = field.bytes().await.map_err(read_error)?;
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::bad_request("the `manifest` field is not UTF-8 text"))?;
                if manifest.replace(text).is_some() {
                    return Err(ApiError::bad_request("send one `manifest` field"));
                }
            }
            Some("component") => {
                let Some(name) = field.file_name().map(str::to_owned) else {
                    return Err(ApiError::bad_request("each `component` field needs the file name pack.toml gives it"));
                };
                let bytes = field.bytes().await.map_err(read_error)?;
                components.push((name, bytes.to_vec()));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected form field `{}`; send `manifest` (pack.toml) and one `component` per component",
                    other.unwrap_or_default()
                )));
            }
        }
    }
    let Some(manifest) = manifest else {
        return Err(ApiError::bad_request("the form needs a `manifest` field with the pack.toml"));
    };
    let rollout = state.service.publish_pack(&who, PackUpload { manifest, components }).await?;
    Ok(created(&location(&rollout), StatusCode::ACCEPTED, PackRollout::from(&rollout)))
}

/// Every published rule pack, newest first, with its rollout.
#[utoipa::path(
    get, path = "/v1/rule-packs", tag = "rule-packs",
    responses(
        (status = 200, description = "The packs", body = Vec<PackRollout>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_packs(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<Vec<PackRollout>>, ApiError> {
    Ok(Json(state.service.rollouts(&who).await?.iter().map(PackRollout::from).collect()))
}

/// A pack's rollout: the re-check's progress (counts and ETA), its verdicts and the blast
/// radius — who would fail, on which rules.
#[utoipa::path(
    get, path = "/v1/rule-packs/{name}/{version}", tag = "rule-packs",
    params(("name" = String, Path, description = "The pack"), ("version" = String, Path, description = "Its version")),
    responses(
        (status = 200, description = "The rollout", body = PackRollout),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pack", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_pack(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<PackRollout>, ApiError> {
    Ok(Json(PackRollout::from(&state.service.rollout(&who, &name, &version).await?)))
}

/// Enforce a shadow pack after a grace period: each partner whose live listing it fails gets a
/// change notice now; at the deadline it becomes the active pack and live versions that still
/// fail leave the marketplace.
#[utoipa::path(
    post, path = "/v1/rule-packs/{name}/{version}/enforce", tag = "rule-packs",
    params(("name" = String, Path, description = "The pack"), ("version" = String, Path, description = "Its version")),
    request_body = Enforce,
    responses(
        (status = 200, description = "Enforced from the deadline", body = PackRollout),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pack", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already enforced, or its shadow re-check is still running (`not_ready`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn enforce_pack(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Enforce>,
) -> Result<Json<PackRollout>, ApiError> {
    Ok(Json(PackRollout::from(&state.service.enforce_pack(&who, &name, &version, body.grace_days).await?)))
}

/// A dead-lettered job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadJob {
    /// The job.
    pub id: i64,
    /// `review` or `recheck`.
    pub kind: String,
    /// The version, `slug@version`.
    pub subject: String,
    /// What enqueued it: `submission`, `pack`, `enforce`, `checks` or `api-deprecation`.
    pub reason: String,
    /// Why it is dead.
    pub error: String,
    /// How many times it was claimed.
    pub attempts: i64,
}

/// The job queue: every job by state, and the dead letters.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    /// Waiting to be claimed (or waiting out a retry's backoff).
    pub waiting: i64,
    /// Running under a live lease.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Dead-lettered.
    pub dead: i64,
    /// The newest dead letters (at most 100), with their reasons.
    pub dead_letters: Vec<DeadJob>,
}

/// The job queue (reviewers and admins): counts by state and the dead letters with reasons.
#[utoipa::path(
    get, path = "/v1/jobs", tag = "rule-packs",
    responses(
        (status = 200, description = "The queue", body = Queue),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn queue(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Queue>, ApiError> {
    let (counts, dead) = state.service.queue(&who).await?;
    Ok(Json(Queue {
        waiting: counts.waiting,
        running: counts.running,
        done: counts.done,
        dead: counts.dead,
        dead_letters: dead
            .into_iter()
            .map(|d| DeadJob {
                id: d.job.0,
                kind: d.kind,
                subject: d.subject,
                reason: d.reason,
                error: d.error,
                attempts: d.attempts,
            })
            .collect(),
    }))
}

/// The multipart form of `PUT /v1/listings/{slug}/checks`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the fields as a stream
pub struct ChecksForm {
    /// The new partner check components (`.wasm`), one or more.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    check: Vec<String>,
}

/// The live version being re-checked with new partner checks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChecksUpdated {
    /// The listing.
    pub slug: String,
    /// Its live version, re-checked with the new checks.
    pub version: String,
    /// Poll this for the re-check's verdict: the entry with `job_id`.
    pub url: String,
    /// The re-check's job.
    pub job_id: i64,
}

/// A re-check verdict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Recheck {
    /// The job that produced it.
    pub job_id: i64,
    /// What triggered it: `pack` (a shadow rollout), `enforce`, `checks` (new partner checks)
    /// or `api-deprecation`.
    pub reason: String,
    /// The rule pack it ran, `name@version`.
    pub pack: String,
    /// `pass`, `fail` or `error`.
    pub verdict: String,
    /// The rules with blocking findings no live waiver covers.
    pub blocking: Vec<String>,
    /// Every finding (`rule_id`, `severity`, `message`, `pointer`, `remediation`).
    #[schema(value_type = Vec<Object>)]
    pub findings: serde_json::Value,
    /// When it was recorded (RFC 3339).
    pub at: String,
}

/// Ship a new version of your own checks for the listing's live version, without a new listing
/// version: they are validated like a submission's, and the live version is re-checked with
/// them (partners with the `checks` capability).
#[utoipa::path(
    put, path = "/v1/listings/{slug}/checks", tag = "rule-packs",
    params(("slug" = String, Path, description = "The listing")),
    request_body(content = ChecksForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Accepted; the re-check is queued", body = ChecksUpdated, headers(("Location" = String, description = "The version's re-checks"))),
        (status = 400, description = "Malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner's token, or no `checks` capability", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No component, no live version, or a component that does not load", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every compile slot is busy; try again after `Retry-After` seconds", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("token" = []))
)]
pub async fn update_checks(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(slug): Path<String>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let mut checks = Vec::new();
    let read_error =
        |e: axum::extract::multipart::MultipartError| ApiError::multipart(&e, state.config.max_upload_bytes);
    while let Some(field) = form.next_field().await.map_err(read_error)? {
        if field.name() != Some("check") {
            return Err(ApiError::bad_request(format!(
                "unexpected form field `{}`; send one `check` field per component",
                field.name().unwrap_or_default()
            )));
        }
        let name = field.file_name().unwrap_or("check.wasm").to_owned();
        let bytes = field.bytes().await.map_err(read_error)?;
        checks.push(assay_service::UploadedCheck { name, bytes: bytes.to_vec() });
    }
    let (version, job) = state.service.update_checks(&who, &slug, checks).await?;
    let url = format!("/v1/listings/{}/versions/{}/rechecks", version.slug, version.version);
    let body = ChecksUpdated { slug: version.slug, version: version.version, url: url.clone(), job_id: job.0 };
    Ok(created(&url, StatusCode::ACCEPTED, body))
}

/// A version's re-check verdicts, oldest first: rule-pack rollouts, new partner checks and
/// platform API deprecations.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/versions/{version}/rechecks", tag = "rule-packs",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    responses(
        (status = 200, description = "The re-checks", body = Vec<Recheck>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn rechecks(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((slug, version)): Path<(String, String)>,
) -> Result<Json<Vec<Recheck>>, ApiError> {
    let records = state.service.rechecks(&who, &slug, &version).await?;
    Ok(Json(
        records
            .into_iter()
            .map(|r| Recheck {
                job_id: r.job,
                reason: r.reason,
                pack: r.pack,
                verdict: r.verdict,
                blocking: r.blocking.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                findings: serde_json::from_str(&r.findings).unwrap_or_default(),
                at: timestamp(r.at),
            })
            .collect(),
    ))
}
