//! Appeals (partners file, a second reviewer hears), the conversation on a version, and holds.

use assay_api::conversation::{
    Appeal, AppealAction, Conversation, DecideAppeal, FileAppeal, HoldDto, PlaceHold, PostMessage, VersionMessage,
};
use assay_api::problem::Problem;
use assay_api::version_url;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use assay_service::appeals::{AppealOutcome, AppealQuery};

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::{hold, timestamp};
use crate::problem::{ApiError, ApiJson, ApiPath};

pub(crate) fn appeal(a: &assay_service::appeals::Appeal) -> Appeal {
    Appeal {
        id: a.id,
        listing: a.slug.clone(),
        partner: a.partner_name.clone(),
        version: a.version.clone(),
        decision: a.decision.clone(),
        decided_by: a.decided_by.clone(),
        decision_note: a.decision_note.clone(),
        statement: a.statement.clone(),
        appealed_by: a.appealed_by.clone(),
        appealed_at: timestamp(a.appealed_at),
        status: a.state.to_string(),
        heard_by: a.heard_by.clone(),
        rationale: a.rationale.clone(),
        decided_at: a.decided_at.map(timestamp),
        version_url: version_url(&a.slug, &a.version),
    }
}

pub(crate) fn message(m: &assay_service::conversation::VersionMessage) -> VersionMessage {
    VersionMessage {
        id: m.id,
        author: m.author.clone(),
        staff: m.staff,
        internal: m.internal,
        body: m.body.clone(),
        at: timestamp(m.at),
    }
}

/// Appeal the reviewer decision that rejected a version or requested changes (the listing's
/// owner or developers). A reviewer other than the one who decided hears it.
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions/{version}/appeals", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    request_body = FileAppeal,
    responses(
        (status = 201, description = "Filed; a second reviewer hears it", body = Appeal),
        (status = 403, description = "Not a member who submits for this partner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version is not rejected or sent back by a reviewer (`transition-not-allowed`), or the decision was appealed already (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No statement", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn file_appeal(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<FileAppeal>,
) -> Result<Response, ApiError> {
    let record = state.service.appeal(&who, &slug, &version, &body.statement).await?;
    Ok(created(&format!("/v1/appeals/{}", record.id), StatusCode::CREATED, appeal(&record)))
}

/// Which appeals to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppealsQuery {
    /// One partner's appeals (staff; a partner always sees only its own).
    pub partner: Option<String>,
    /// `open`, `upheld` or `overturned`.
    pub status: Option<String>,
}

/// Appeals the caller may see, newest first.
#[utoipa::path(
    get, path = "/v1/appeals", tag = "review",
    params(AppealsQuery),
    responses(
        (status = 200, description = "Appeals, newest first", body = Vec<Appeal>),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_appeals(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(query): Query<AppealsQuery>,
) -> Result<Json<Vec<Appeal>>, ApiError> {
    let query = AppealQuery { partner: query.partner, status: query.status, listing: None };
    Ok(Json(state.service.appeals(&who, &query).await?.iter().map(appeal).collect()))
}

/// One appeal.
#[utoipa::path(
    get, path = "/v1/appeals/{id}", tag = "review",
    params(("id" = i64, Path, description = "The appeal")),
    responses(
        (status = 200, description = "The appeal", body = Appeal),
        (status = 404, description = "No such appeal the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_appeal(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Appeal>, ApiError> {
    Ok(Json(appeal(&state.service.appeal_by_id(&who, id).await?)))
}

/// Hear an appeal: uphold the decision, or overturn it (the version is approved), with a
/// rationale the partner reads. The reviewer who made the decision may not hear it.
#[utoipa::path(
    post, path = "/v1/appeals/{id}/decision", tag = "review",
    params(("id" = i64, Path, description = "The appeal")),
    request_body = DecideAppeal,
    responses(
        (status = 200, description = "Decided", body = Appeal),
        (status = 403, description = "Not a reviewer, or the reviewer whose decision it appeals", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already (`conflict`), or the version moved since (`transition-not-allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No rationale", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn decide_appeal(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecideAppeal>,
) -> Result<Json<Appeal>, ApiError> {
    let outcome = match body.action {
        AppealAction::Uphold => AppealOutcome::Uphold,
        AppealAction::Overturn => AppealOutcome::Overturn,
    };
    Ok(Json(appeal(&state.service.decide_appeal(&who, id, outcome, &body.rationale).await?)))
}

/// A version's conversation: its messages (staff also read internal notes), holds and appeals.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/versions/{version}/conversation", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    responses(
        (status = 200, description = "The conversation", body = Conversation),
        (status = 404, description = "No such listing or version the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn conversation(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
) -> Result<Json<Conversation>, ApiError> {
    let messages = state.service.messages(&who, &slug, &version).await?;
    let holds = state.service.holds(&who, &slug, &version).await?;
    let query = AppealQuery { listing: Some(slug.clone()), ..AppealQuery::default() };
    let appeals = state.service.appeals(&who, &query).await?;
    Ok(Json(Conversation {
        messages: messages.iter().map(message).collect(),
        holds: holds.iter().map(hold).collect(),
        appeals: appeals.iter().filter(|a| a.version == version).map(appeal).collect(),
    }))
}

/// Write on a version's conversation: the listing's owners and developers, and staff (who can
/// also write internal notes partners never see).
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions/{version}/messages", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    request_body = PostMessage,
    responses(
        (status = 201, description = "Posted", body = VersionMessage),
        (status = 403, description = "A viewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or too long message, or an internal note from a partner", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn post_message(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<PostMessage>,
) -> Result<Response, ApiError> {
    let posted = state.service.post_message(&who, &slug, &version, &body.body, body.internal).await?;
    let location = format!("/v1/listings/{slug}/versions/{version}/conversation");
    Ok(created(&location, StatusCode::CREATED, message(&posted)))
}

/// Put a version awaiting review on hold, with a reason the partner reads; its review clock
/// stops until the hold is released (or the version is decided).
#[utoipa::path(
    post, path = "/v1/listings/{slug}/versions/{version}/hold", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    request_body = PlaceHold,
    responses(
        (status = 201, description = "On hold", body = HoldDto),
        (status = 403, description = "Not a reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not awaiting review (`transition-not-allowed`), or on hold already (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a reason over 500 characters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn place_hold(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<PlaceHold>,
) -> Result<Response, ApiError> {
    let placed = state.service.place_hold(&who, &slug, &version, &body.reason).await?;
    Ok(created(&version_url(&slug, &version), StatusCode::CREATED, hold(&placed)))
}

/// Release a version's hold; its review clock runs again.
#[utoipa::path(
    delete, path = "/v1/listings/{slug}/versions/{version}/hold", tag = "review",
    params(("slug" = String, Path, description = "The listing"), ("version" = String, Path, description = "The version")),
    responses(
        (status = 200, description = "Released", body = HoldDto),
        (status = 403, description = "Not a reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not on hold (`transition-not-allowed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn release_hold(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((slug, version)): ApiPath<(String, String)>,
) -> Result<Json<HoldDto>, ApiError> {
    Ok(Json(hold(&state.service.release_hold(&who, &slug, &version, "").await?)))
}
