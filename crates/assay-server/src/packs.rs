//! Rule-pack rollout: publish a pack in shadow mode, follow its re-check and blast radius,
//! enforce it with a grace deadline. Reviewers and admins only.

use assay_api::packs::{
    AffectedListing, ChecksForm, ChecksUpdated, DeadJob, Enforce, PackForm, PackRollout, Progress, Queue, Recheck,
    RuleImpact, Verdicts,
};
use assay_api::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use assay_service::{PackUpload, Rollout};

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, ApiMultipart, ApiPath};

pub(crate) fn pack_rollout(r: &Rollout) -> PackRollout {
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
    ApiMultipart(mut form): ApiMultipart,
) -> Result<Response, ApiError> {
    let mut manifest = None;
    let mut files = Vec::new();
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
            Some(kind @ ("component" | "docs")) => {
                let Some(name) = field.file_name().map(str::to_owned) else {
                    return Err(ApiError::bad_request(format!(
                        "each `{kind}` field needs the file name pack.toml gives it"
                    )));
                };
                let bytes = field.bytes().await.map_err(read_error)?;
                files.push((name, bytes.to_vec()));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected form field `{}`; send `manifest` (pack.toml), one `component` per component and one `docs` per documentation file",
                    other.unwrap_or_default()
                )));
            }
        }
    }
    let Some(manifest) = manifest else {
        return Err(ApiError::bad_request("the form needs a `manifest` field with the pack.toml"));
    };
    let rollout = state.service.publish_pack(&who, PackUpload { manifest, files }).await?;
    Ok(created(&location(&rollout), StatusCode::ACCEPTED, crate::packs::pack_rollout(&rollout)))
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
    Ok(Json(state.service.rollouts(&who).await?.iter().map(crate::packs::pack_rollout).collect()))
}

/// A pack's rollout: the re-check's progress (counts and ETA), its verdicts and the blast
/// radius — who would fail, on which rules.
#[utoipa::path(
    get, path = "/v1/rule-packs/{name}/{version}", tag = "rule-packs",
    params(("name" = String, Path, description = "The pack"), ("version" = String, Path, description = "Its version"), RolloutParams),
    responses(
        (status = 200, description = "The rollout", body = PackRollout),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such pack", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A `wait` that is not a duration of at most 60 s", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_pack(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((name, version)): ApiPath<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<PackRollout>, ApiError> {
    let rollout = match crate::api::long_poll(query.as_deref())? {
        Some(wait) => state.service.rollout_when_done(&who, &name, &version, wait).await?,
        None => state.service.rollout(&who, &name, &version).await?,
    };
    Ok(Json(crate::packs::pack_rollout(&rollout)))
}

/// The rollout's query.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RolloutParams {
    /// A long poll: while the re-check has jobs waiting or running, answer as soon as it has
    /// none, or after this long with the progress then (`assay rules publish --wait` asks with
    /// `2s`, so its progress bar moves). `500ms`, `30s` or `30` (seconds); at most 60 s.
    #[param(pattern = r"^[0-9]{1,6}(ms|s)?$", example = "2s")]
    pub wait: Option<String>,
}

/// A version's re-checks' query.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecheckParams {
    /// With `wait`: the re-check job to wait for (`job_id` of `PUT …/checks`).
    #[param(minimum = 1, example = 42)]
    pub job: Option<i64>,
    /// A long poll, with `job`: answer as soon as that job's verdict is recorded, or after this
    /// long with the re-checks then; at once when the job is not a re-check of this version
    /// still to run. `500ms`, `30s` or `30` (seconds); at most 60 s.
    #[param(pattern = r"^[0-9]{1,6}(ms|s)?$", example = "30s")]
    pub wait: Option<String>,
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
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Enforce>,
) -> Result<Json<PackRollout>, ApiError> {
    Ok(Json(crate::packs::pack_rollout(&state.service.enforce_pack(&who, &name, &version, body.grace_days).await?)))
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
    ApiPath(slug): ApiPath<String>,
    ApiMultipart(mut form): ApiMultipart,
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
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version"), RecheckParams),
    responses(
        (status = 200, description = "The re-checks", body = Vec<Recheck>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A `wait` that is not a duration of at most 60 s, a `job` that is not a number, or a `wait` without a `job`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn rechecks(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<Recheck>>, ApiError> {
    let invalid =
        |pointer: &str, message: String| ApiError::from(assay_service::ServiceError::invalid(pointer, message));
    let job = crate::api::query_once(query.as_deref(), "job")?
        .map(|job| {
            job.parse::<i64>()
                .ok()
                .filter(|j| *j > 0)
                .ok_or_else(|| invalid("/job", format!("`{job}` is not a job id")))
        })
        .transpose()?;
    let records = match (crate::api::long_poll(query.as_deref())?, job) {
        (Some(wait), Some(job)) => state.service.rechecks_when_recorded(&who, &slug, &version, job, wait).await?,
        (Some(_), None) => return Err(invalid("/job", "a `wait` needs the `job` to wait for".into())),
        (None, _) => state.service.rechecks(&who, &slug, &version).await?,
    };
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
