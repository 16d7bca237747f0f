//! Exception requests (partners) and decisions (staff), and the exception register.

use assay_api::exceptions::{DecideException, Exception, ExceptionAction, FirstGrant, RequestException};
use assay_api::problem::Problem;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use assay_service::ServiceError;
use assay_service::exceptions::{ExceptionQuery, ExceptionRequest, ExceptionVerdict};

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, ApiPath};

pub(crate) fn exception(e: &assay_service::exceptions::Exception, now: i64) -> Exception {
    Exception {
        id: e.id,
        listing: e.slug.clone(),
        partner: e.partner_name.clone(),
        version: e.version.clone(),
        rule_id: e.rule_id.clone(),
        severity: e.severity.clone(),
        versions: e.versions.clone(),
        justification: e.justification.clone(),
        expires_at: timestamp(e.expires_at),
        requested_by: e.requested_by.clone(),
        requested_at: timestamp(e.requested_at),
        status: e.status(now).to_owned(),
        first_grant: e.first_decision.clone().map(|(by, rationale)| FirstGrant { by, rationale }),
        granted_versions: e.granted_versions.clone(),
        granted_until: e.granted_expires_at.map(timestamp),
        decided_by: e.decided_by.clone(),
        rationale: e.rationale.clone(),
        decided_at: e.decided_at.map(timestamp),
        waiver: e.waiver,
    }
}

/// An RFC 3339 time in field `pointer`, as Unix seconds.
fn time(text: &str, pointer: &str) -> Result<i64, ApiError> {
    text.parse::<jiff::Timestamp>().map(|t| t.as_second()).map_err(|e| {
        ApiError::from(ServiceError::invalid(
            pointer,
            format!("`{text}` is not an RFC 3339 time such as 2027-03-31T00:00:00Z: {e}"),
        ))
    })
}

/// Ask for an exception to one of a version's findings (the listing's owner or developers).
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions/{version}/exceptions", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version whose finding it is")),
    request_body = RequestException,
    responses(
        (status = 201, description = "Asked; staff decide", body = Exception),
        (status = 403, description = "Not a member who submits for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule that reported no finding on the version, a range that does not cover it, an expiry in the past or beyond the maximum, no justification", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn request_exception(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RequestException>,
) -> Result<Response, ApiError> {
    let request = ExceptionRequest {
        rule_id: body.rule_id,
        versions: body.versions,
        justification: body.justification,
        expires_at: time(&body.expires_at, "/expires_at")?,
    };
    let record = state.service.request_exception(&who, &slug, &version, &request).await?;
    let location = format!("/v1/exceptions/{}", record.id);
    Ok(created(&location, StatusCode::CREATED, exception(&record, state.service.now())))
}

/// The register's filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// One partner's requests (staff; a partner always sees only its own).
    pub partner: Option<String>,
    /// Requests for one rule.
    pub rule: Option<String>,
    /// `requested`, `confirming`, `granted`, `denied`, `live` or `lapsed`.
    pub status: Option<String>,
}

/// The exception register: every request the caller may see, newest first — who asked, who
/// decided, why, and when it lapses.
#[utoipa::path(
    get, path = "/v1/exceptions", tag = "review",
    params(RegisterQuery),
    responses(
        (status = 200, description = "Requests, newest first", body = Vec<Exception>),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_exceptions(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(query): Query<RegisterQuery>,
) -> Result<Json<Vec<Exception>>, ApiError> {
    let query = ExceptionQuery { partner: query.partner, rule: query.rule, status: query.status, listing: None };
    let all = state.service.exceptions(&who, &query).await?;
    let now = state.service.now();
    Ok(Json(all.iter().map(|e| exception(e, now)).collect()))
}

/// One exception request.
#[utoipa::path(
    get, path = "/v1/exceptions/{id}", tag = "review",
    params(("id" = i64, Path, description = "The request")),
    responses(
        (status = 200, description = "The request", body = Exception),
        (status = 404, description = "No such request the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_exception(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Exception>, ApiError> {
    let record = state.service.exception(&who, id).await?;
    Ok(Json(exception(&record, state.service.now())))
}

/// Grant (possibly for fewer versions or a shorter time) or deny a request, with a rationale.
/// An exception to a blocker may need a second reviewer: the first grant leaves it
/// `confirming`.
#[utoipa::path(
    post, path = "/v1/exceptions/{id}/decision", tag = "review",
    params(("id" = i64, Path, description = "The request")),
    request_body = DecideException,
    responses(
        (status = 200, description = "Decided (or granted once, waiting for a second reviewer)", body = Exception),
        (status = 403, description = "Not a reviewer, or the reviewer who granted it first", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No rationale, a longer expiry than asked, a bad range", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn decide_exception(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecideException>,
) -> Result<Json<Exception>, ApiError> {
    let verdict = match body.action {
        ExceptionAction::Deny => ExceptionVerdict::Deny { rationale: body.rationale },
        ExceptionAction::Grant => ExceptionVerdict::Grant {
            versions: body.versions,
            expires_at: body.expires_at.as_deref().map(|t| time(t, "/expires_at")).transpose()?,
            rationale: body.rationale,
        },
    };
    let record = state.service.decide_exception(&who, id, &verdict).await?;
    Ok(Json(exception(&record, state.service.now())))
}
