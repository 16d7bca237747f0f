//! The `/v1` routes. Handlers are glue: extract, call the service, convert to DTOs.

use assay_api::listings::{CreateListing, Listing, SubmitForm, Submitted, Version};
use assay_api::problem::Problem;
use assay_api::reviews::{
    CreateWaiver, Decide, DecisionAction, ExpireWaiver, MoveAction, MoveVersion, QueueItem, Waiver,
};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use assay_service::{Action, PartnerMove, UploadedCheck, WaiverRequest};

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiJson, ApiMultipart, ApiPath};

pub(crate) fn created(location: &str, status: StatusCode, body: impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Create a listing owned by the calling partner.
#[utoipa::path(
    post, path = "/v1/listings", tag = "listings",
    request_body = CreateListing,
    responses(
        (status = 201, description = "Created", body = Listing, headers(("Location" = String, description = "The listing"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner token, or no `list` capability", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid slug or name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_listing(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateListing>,
) -> Result<Response, ApiError> {
    let listing = state.service.create_listing(&who, &body.slug, &body.name).await?;
    let dto = crate::dto::listing(&listing);
    Ok(created(&dto.url.clone(), StatusCode::CREATED, dto))
}

/// Change a listing's settings (its owners and developers): whether approved versions go live
/// at once.
#[utoipa::path(
    patch, path = "/v1/listings/{slug}", tag = "listings",
    params(("slug" = String, Path, description = "The listing")),
    request_body = assay_api::listings::UpdateListing,
    responses(
        (status = 200, description = "The listing", body = Listing),
        (status = 403, description = "Not a member who submits for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn update_listing(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<assay_api::listings::UpdateListing>,
) -> Result<Json<Listing>, ApiError> {
    Ok(Json(crate::dto::listing(&state.service.set_auto_release(&who, &slug, body.auto_release).await?)))
}

/// The caller's listings; a reviewer or admin sees every listing.
#[utoipa::path(
    get, path = "/v1/listings", tag = "listings",
    responses(
        (status = 200, description = "Listings by slug", body = [Listing]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_listings(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Vec<Listing>>, ApiError> {
    Ok(Json(state.service.listings(&who).await?.iter().map(crate::dto::listing).collect()))
}

/// One listing with its versions.
#[utoipa::path(
    get, path = "/v1/listings/{slug}", tag = "listings",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "The listing", body = Listing),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_listing(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Listing>, ApiError> {
    Ok(Json(crate::dto::listing(&state.service.listing(&who, &slug).await?)))
}

/// Submit a version: the manifest and any partner check components. The version is stored
/// with its review job; the review runs in the background. Poll the returned URL.
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions", tag = "versions",
    params(("slug" = String, Path, description = "The listing")),
    request_body(content = SubmitForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Accepted; the review is queued", body = Submitted, headers(("Location" = String, description = "The version"))),
        (status = 400, description = "Malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner's token, or no `checks` capability for components", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This version was submitted before", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid manifest (with the field's pointer, line and column) or check component", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every slot for compiling uploaded checks is busy; try again after `Retry-After` seconds", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("token" = []))
)]
pub async fn submit_version(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiMultipart(mut form): ApiMultipart,
) -> Result<Response, ApiError> {
    let mut manifest = None;
    let mut checks = Vec::new();
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
            Some("check") => {
                let name = field.file_name().unwrap_or("check.wasm").to_owned();
                let bytes = field.bytes().await.map_err(read_error)?;
                checks.push(UploadedCheck { name, bytes: bytes.to_vec() });
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected form field `{}`; send `manifest` and optional `check` fields",
                    other.unwrap_or_default()
                )));
            }
        }
    }
    let Some(manifest) = manifest else {
        return Err(ApiError::bad_request("the form needs a `manifest` field with the listing.toml"));
    };
    let record = state.service.submit(&who, &slug, &manifest, checks).await?;
    let dto = crate::dto::submitted(&record);
    Ok(created(&dto.url.clone(), StatusCode::ACCEPTED, dto))
}

/// How to read a version.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    /// A long poll: while the automated review is still running (`submitted`, `checking`),
    /// answer as soon as its verdict is recorded, or after this long with the version as it
    /// is then. `500ms`, `30s` or `30` (seconds); at most 60 s.
    #[param(pattern = r"^[0-9]{1,6}(ms|s)?$", example = "30s")]
    pub wait: Option<String>,
}

/// The query parameter `name`, given at most once (read by hand: a malformed query string is
/// a problem document like every other refusal, not the extractor's plain text).
pub(crate) fn query_once(query: Option<&str>, name: &str) -> Result<Option<String>, ApiError> {
    let mut values = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(n, _)| n == name)
        .map(|(_, value)| value.into_owned());
    let value = values.next();
    if values.next().is_some() {
        let message = format!("give `{name}` once");
        return Err(ApiError::from(assay_service::ServiceError::invalid(&format!("/{name}"), message)));
    }
    Ok(value)
}

/// The query's `wait` (a long poll), if any: see [`wait_duration`].
pub(crate) fn long_poll(query: Option<&str>) -> Result<Option<std::time::Duration>, ApiError> {
    query_once(query, "wait")?.as_deref().map(wait_duration).transpose()
}

/// `30s`, `500ms` or `30` (seconds), at most [`assay_service::LONG_POLL_MAX`].
fn wait_duration(text: &str) -> Result<std::time::Duration, ApiError> {
    let refuse = || {
        let message = format!("`{text}` is not a wait of at most 60 s (`500ms`, `30s` or `30`)");
        ApiError::from(assay_service::ServiceError::invalid("/wait", message))
    };
    let (digits, millis) = match text.strip_suffix("ms") {
        Some(digits) => (digits, true),
        None => (text.strip_suffix('s').unwrap_or(text), false),
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    let n: u64 = digits.parse().map_err(|_| refuse())?;
    let wait = if millis { std::time::Duration::from_millis(n) } else { std::time::Duration::from_secs(n) };
    if wait > assay_service::LONG_POLL_MAX {
        return Err(refuse());
    }
    Ok(wait)
}

/// A version with its state, verdict (live waivers applied), findings and resource usage.
/// With `wait`, a long poll for the automated review's verdict.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/versions/{version}", tag = "versions",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version"), VersionParams),
    responses(
        (status = 200, description = "The version", body = Version, headers(
            ("ETag" = String, description = "Changes with every state change"),
            ("Deprecation" = String, description = "When a deprecation schedule covers the version: when it is (or was) deprecated; when the partner withdrew it (or rolled back past it): when it was withdrawn. `@<unix seconds>` (RFC 9745)"),
            ("Sunset" = String, description = "When it is retired, an HTTP-date (RFC 8594)"),
            ("Link" = String, description = "The deprecation notice, `rel=\"deprecation\"` and `rel=\"sunset\"`; for a withdrawn version, the listing's live version, `rel=\"successor-version\"` (RFC 5829)"),
        )),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A `wait` that is not a duration of at most 60 s", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_version(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let view = match long_poll(query.as_deref())? {
        Some(wait) => state.service.version_when_reviewed(&who, &slug, &version, wait).await?,
        None => state.service.version(&who, &slug, &version).await?,
    };
    let mut headers = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"r{}\"", view.record.revision)) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(deprecation) = state.service.deprecation_of(&slug, &version).await? {
        crate::notices::deprecation_headers(&deprecation, &mut headers);
    }
    if let Some(withdrawal) = state.service.withdrawal_of(&view).await? {
        crate::notices::withdrawal_headers(&slug, &withdrawal, &mut headers);
    }
    Ok((headers, Json(crate::dto::version(&view))).into_response())
}

/// A replayable run bundle of the version's latest review (`assay replay FILE` runs it again
/// and says whether it matched bit for bit): the manifests, every component with its SHA-256,
/// the limits, the sandbox seed and the recorded result. Format `assay-run-bundle/1`.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/versions/{version}/bundle", tag = "versions",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    responses(
        (status = 200, description = "The bundle (format `assay-run-bundle/1`)", body = serde_json::Value),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version the caller may see, not reviewed yet, or reviewed by another pack", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_bundle(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let bundle = state.service.bundle(&who, &slug, &version).await?;
    let file = format!("attachment; filename=\"{slug}-{version}.bundle.json\"");
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&file) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, Json(bundle)).into_response())
}

/// The review queue's filters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQueueParams {
    /// `waiting` (not on hold), `held`, `past_target` or `unassigned`.
    pub state: Option<String>,
    /// `pass`, `fail` or `error`: the latest review's verdict.
    pub verdict: Option<String>,
    /// One partner's versions.
    pub partner: Option<String>,
    /// Versions whose latest review reported a finding of this rule.
    pub rule: Option<String>,
    /// `me`, `none`, or a reviewer's e-mail address.
    pub assignee: Option<String>,
}

/// Versions waiting for a reviewer, longest-waiting first: who has each, how long it has
/// waited, its hold, and its time left against the review target.
#[utoipa::path(
    get, path = "/v1/review-queue", tag = "review",
    params(ReviewQueueParams),
    responses(
        (status = 200, description = "The queue", body = [QueueItem]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown state or verdict, or an address that is not a reviewer's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn review_queue(
    State(state): State<AppState>,
    Caller(who): Caller,
    axum::extract::Query(params): axum::extract::Query<ReviewQueueParams>,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    let query = assay_service::review_queue::ReviewQueueQuery {
        state: params.state,
        verdict: params.verdict,
        partner: params.partner,
        rule: params.rule,
        assignee: params.assignee,
    };
    let now = state.service.now();
    let queue = state.service.review_queue_filtered(&who, &query).await?;
    Ok(Json(queue.iter().map(|q| crate::dto::queue_item(q, now)).collect()))
}

/// Claim a waiting version (`"me"`; refused if another reviewer has it) or give it to another
/// reviewer by e-mail address.
#[utoipa::path(
    put, path = "/v1/listings/{slug}/versions/{version}/assignee", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    request_body = assay_api::reviews::AssignReview,
    responses(
        (status = 200, description = "Assigned", body = assay_api::reviews::Assignment),
        (status = 403, description = "Not a reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another reviewer has it (`conflict`), or it is not awaiting review (`transition-not-allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An address that is not a reviewer's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn assign_review(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<assay_api::reviews::AssignReview>,
) -> Result<Json<assay_api::reviews::Assignment>, ApiError> {
    let reviewer = Some(body.reviewer.trim()).filter(|r| *r != "me");
    let assignee = state.service.assign_review(&who, &slug, &version, reviewer).await?;
    Ok(Json(assay_api::reviews::Assignment { assignee }))
}

/// Take a version's review away from whoever has it.
#[utoipa::path(
    delete, path = "/v1/listings/{slug}/versions/{version}/assignee", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    responses(
        (status = 204, description = "No one has it now"),
        (status = 403, description = "Not a reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No one has it (`transition-not-allowed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn unassign_review(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.service.unassign_review(&who, &slug, &version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reviewer's decision. Of several concurrent decisions on one version exactly one wins;
/// the others get 409 with `current_state`.
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions/{version}/decisions", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    request_body = Decide,
    responses(
        (status = 200, description = "Decided; the version as it is now", body = Version),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer token, or the partner lacks `certify`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another decision won, or the action is not possible in the current state", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No note", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn decide(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Decide>,
) -> Result<Json<Version>, ApiError> {
    let action = match body.action {
        DecisionAction::Approve => Action::Approve,
        DecisionAction::RequestChanges => Action::RequestChanges,
        DecisionAction::Reject => Action::Reject,
        DecisionAction::Certify => Action::Certify,
    };
    state.service.decide(&who, &slug, &version, action, &body.note).await?;
    Ok(Json(crate::dto::version(&state.service.version(&who, &slug, &version).await?)))
}

/// The partner's own move: withdraw a version in review or approved (not while its checks run),
/// or release an approved one (`approved → published`).
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions/{version}/moves", tag = "listings",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    request_body = MoveVersion,
    responses(
        (status = 200, description = "Moved; the version as it is now", body = Version),
        (status = 403, description = "Not a member who submits for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the version's state (`transition_not_allowed`, with `current_state`), or it changed meanwhile", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn move_version(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MoveVersion>,
) -> Result<Json<Version>, ApiError> {
    let action = match body.action {
        MoveAction::Withdraw => PartnerMove::Withdraw,
        MoveAction::Release => PartnerMove::Release,
        MoveAction::Rollback => PartnerMove::RollBack,
    };
    state.service.move_version(&who, &slug, &version, action, &body.note).await?;
    Ok(Json(crate::dto::version(&state.service.version(&who, &slug, &version).await?)))
}

/// End a waiver now, with a note saying why; the findings it covered count again. Expiring an
/// expired waiver changes nothing.
#[utoipa::path(
    post, path = "/v1/listings/{slug}/waivers/{id}/expire", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("id" = i64, Path, description = "The waiver")),
    request_body = ExpireWaiver,
    responses(
        (status = 200, description = "The waiver, expired", body = Waiver),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or waiver", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No note", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn expire_waiver(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<ExpireWaiver>,
) -> Result<Json<Waiver>, ApiError> {
    let record = state.service.expire_waiver(&who, &slug, id, &body.note).await?;
    Ok(Json(crate::dto::waiver(&record, state.service.now())))
}

/// Grant a waiver: a rule, for a listing's version range, until it expires.
#[utoipa::path(
    post, path = "/v1/waivers", tag = "review",
    request_body = CreateWaiver,
    responses(
        (status = 201, description = "Granted", body = Waiver),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid range, expiry or missing justification", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_waiver(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateWaiver>,
) -> Result<Response, ApiError> {
    let expires_at = body.expires_at.parse::<jiff::Timestamp>().map_err(|e| {
        ApiError::from(assay_service::ServiceError::Invalid {
            pointer: "/expires_at".into(),
            message: format!("`{}` is not an RFC 3339 time such as 2027-03-31T00:00:00Z: {e}", body.expires_at),
        })
    })?;
    let request = WaiverRequest {
        slug: body.slug,
        rule_id: body.rule_id,
        versions: body.versions,
        justification: body.justification,
        expires_at: expires_at.as_second(),
    };
    let record = state.service.grant_waiver(&who, &request).await?;
    let location = format!("/v1/listings/{}/waivers", record.slug);
    Ok(created(&location, StatusCode::CREATED, crate::dto::waiver(&record, state.service.now())))
}

/// A listing's waivers, expired ones included.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/waivers", tag = "review",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "Waivers, oldest first", body = [Waiver]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_waivers(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<Waiver>>, ApiError> {
    let now = state.service.now();
    Ok(Json(state.service.waivers(&who, &slug).await?.iter().map(|w| crate::dto::waiver(w, now)).collect()))
}
