//! The lifecycle routes: change notices (JSON and an Atom feed per listing) and deprecation
//! schedules. Handlers are glue over `assay_service::notices`.

use assay_api::lifecycle::{CreateDeprecation, CreateNotice, Deprecation, Notice};
use assay_api::problem::Problem;
use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use assay_core::deprecation::Stability;
use assay_core::deprecation::{DeprecationRecord, DeprecationTarget};
use assay_core::notice::{Audience, NoticeKind};
use assay_service::{DeprecationRequest, NoticeRequest, ServiceError};
use jiff::civil::Date;

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiJson, ApiPath};

/// A `YYYY-MM-DD` field, or what is wrong with it.
pub(crate) fn date(pointer: &str, text: &str) -> Result<Date, ServiceError> {
    text.parse().map_err(|_| ServiceError::invalid(pointer, format!("`{text}` is not a date; write YYYY-MM-DD")))
}

fn notice_request(body: &CreateNotice, default_audience: Audience) -> Result<NoticeRequest, ServiceError> {
    Ok(NoticeRequest {
        kind: body.kind.parse::<NoticeKind>().map_err(|e| ServiceError::invalid("/kind", e))?,
        summary: body.summary.clone(),
        effective: date("/effective", &body.effective)?,
        action_required: body.action_required.clone(),
        audience: match &body.audience {
            Some(a) => a.parse().map_err(|e| ServiceError::invalid("/audience", e))?,
            None => default_audience,
        },
    })
}

/// Publish a change notice about a listing (its owner, or staff). A breaking notice needs the
/// policy's lead time before it takes effect.
#[utoipa::path(
    post, path = "/v1/listings/{slug}/notices", tag = "lifecycle",
    params(("slug" = String, Path, description = "The listing")),
    request_body = CreateNotice,
    responses(
        (status = 201, description = "Published", body = Notice, headers(("Location" = String, description = "The notice"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or `policy_violation` naming the rule (e.g. `notice.breaking-lead-time`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_listing_notice(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<CreateNotice>,
) -> Result<Response, ApiError> {
    let request = notice_request(&body, Audience::Merchants)?;
    let record = state.service.publish_notice(&who, Some(&slug), &request).await?;
    Ok(created(&format!("/v1/notices/{}", record.id), StatusCode::CREATED, crate::dto::notice(&record)))
}

/// A listing's notices, newest first.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/notices", tag = "lifecycle",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "Notices, newest first", body = [Notice]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_listing_notices(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<Notice>>, ApiError> {
    Ok(Json(state.service.notices(&who, Some(&slug)).await?.iter().map(crate::dto::notice).collect()))
}

/// A listing's notices as an Atom feed (RFC 4287), newest first.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/notices.atom", tag = "lifecycle",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "An Atom feed", body = String, content_type = "application/atom+xml"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn listing_notices_feed(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let notices = state.service.notices(&who, Some(&slug)).await?;
    let rfc3339 = |secs: i64| FixedDateTime::parse_from_rfc3339(&crate::dto::timestamp(secs)).unwrap_or_default();
    let updated = notices.first().map_or_else(|| rfc3339(state.service.now()), |n| rfc3339(n.created_at));
    let entries = notices
        .iter()
        .map(|n| {
            let mut text = format!("{}\n\nTakes effect on {}.", n.summary, n.effective);
            if let Some(action) = &n.action_required {
                text.push_str(&format!("\nAction required: {action}"));
            }
            Entry {
                title: Text::plain(format!("[{}] {}", n.kind, first_line(&n.summary))),
                id: format!("urn:assay:notice:{}", n.id),
                updated: rfc3339(n.created_at),
                published: Some(rfc3339(n.created_at)),
                authors: vec![Person { name: n.author.clone(), ..Person::default() }],
                links: vec![Link { href: format!("/v1/notices/{}", n.id), rel: "alternate".into(), ..Link::default() }],
                content: Some(Content { value: Some(text), content_type: Some("text".into()), ..Content::default() }),
                ..Entry::default()
            }
        })
        .collect();
    let feed = Feed {
        title: Text::plain(format!("Change notices for {slug}")),
        id: format!("urn:assay:listing:{slug}:notices"),
        updated,
        links: vec![Link { href: format!("/v1/listings/{slug}/notices.atom"), rel: "self".into(), ..Link::default() }],
        entries,
        ..Feed::default()
    };
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], feed.to_string()).into_response())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Publish a platform notice (staff).
#[utoipa::path(
    post, path = "/v1/notices", tag = "lifecycle",
    request_body = CreateNotice,
    responses(
        (status = 201, description = "Published", body = Notice, headers(("Location" = String, description = "The notice"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or `policy_violation` naming the rule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_platform_notice(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateNotice>,
) -> Result<Response, ApiError> {
    let request = notice_request(&body, Audience::Partners)?;
    let record = state.service.publish_notice(&who, None, &request).await?;
    Ok(created(&format!("/v1/notices/{}", record.id), StatusCode::CREATED, crate::dto::notice(&record)))
}

/// The caller's notices, newest first: a partner's are those of its listings and the
/// platform's; staff see the platform's.
#[utoipa::path(
    get, path = "/v1/notices", tag = "lifecycle",
    responses(
        (status = 200, description = "Notices, newest first", body = [Notice]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_notices(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Vec<Notice>>, ApiError> {
    Ok(Json(state.service.notices(&who, None).await?.iter().map(crate::dto::notice).collect()))
}

/// One notice the caller may see.
#[utoipa::path(
    get, path = "/v1/notices/{id}", tag = "lifecycle",
    params(("id" = i64, Path, description = "The notice")),
    responses(
        (status = 200, description = "The notice", body = Notice),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_notice(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Notice>, ApiError> {
    Ok(Json(crate::dto::notice(&state.service.notice(&who, id).await?)))
}

/// Schedule a deprecation, with the notice that announces it. The dates must keep the minimum
/// notice for the stability level (by default 12 months for GA, 9 for beta).
#[utoipa::path(
    post, path = "/v1/deprecations", tag = "lifecycle",
    request_body = CreateDeprecation,
    responses(
        (status = 201, description = "Scheduled", body = Deprecation, headers(("Location" = String, description = "The listing's deprecations"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API version, and not a reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or `policy_violation` naming the rule (e.g. `deprecation.minimum-notice`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_deprecation(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateDeprecation>,
) -> Result<Response, ApiError> {
    let target = match (&body.listing, &body.versions, &body.api_version) {
        (Some(slug), Some(versions), None) => DeprecationTarget::Listing {
            slug: slug.clone(),
            versions: versions
                .parse()
                .map_err(|e| ServiceError::invalid("/versions", format!("`{versions}` is not a semver range: {e}")))?,
        },
        (None, None, Some(api)) => DeprecationTarget::ApiVersion(api.clone()),
        _ => {
            return Err(
                ServiceError::invalid("", "give either `listing` and `versions`, or `api_version`".into()).into()
            );
        }
    };
    let stability = match &body.stability {
        Some(s) => s.parse::<Stability>().map_err(|e| ServiceError::invalid("/stability", e))?,
        None => Stability::Ga,
    };
    let announced = match &body.announced {
        Some(d) => date("/announced", d)?,
        None => state.service.today(),
    };
    let request = DeprecationRequest {
        target,
        stability,
        schedule: assay_core::deprecation::Schedule {
            announced,
            deprecated_from: date("/deprecated_from", &body.deprecated_from)?,
            sunset: date("/sunset", &body.sunset)?,
        },
        summary: body.summary.clone(),
        action_required: body.action_required.clone(),
    };
    let record = state.service.schedule_deprecation(&who, &request).await?;
    let location = match &record.target {
        DeprecationTarget::Listing { slug, .. } => format!("/v1/listings/{slug}/deprecations"),
        DeprecationTarget::ApiVersion(_) => "/v1/deprecations".to_owned(),
    };
    Ok(created(&location, StatusCode::CREATED, crate::dto::deprecation(&record, state.service.today())))
}

/// Every deprecation schedule the caller may see, by sunset: the deprecation calendar.
#[utoipa::path(
    get, path = "/v1/deprecations", tag = "lifecycle",
    responses(
        (status = 200, description = "Schedules by sunset", body = [Deprecation]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_deprecations(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<Vec<Deprecation>>, ApiError> {
    let today = state.service.today();
    Ok(Json(state.service.deprecations(&who, None).await?.iter().map(|d| crate::dto::deprecation(d, today)).collect()))
}

/// A listing's deprecation schedules, by sunset.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/deprecations", tag = "lifecycle",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "Schedules by sunset", body = [Deprecation]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_listing_deprecations(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<Deprecation>>, ApiError> {
    let today = state.service.today();
    Ok(Json(
        state
            .service
            .deprecations(&who, Some(&slug))
            .await?
            .iter()
            .map(|d| crate::dto::deprecation(d, today))
            .collect(),
    ))
}

/// `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link` headers for a response about a
/// deprecated version.
pub fn deprecation_headers(deprecation: &DeprecationRecord, headers: &mut HeaderMap) {
    let at_midnight = |d: Date| d.to_zoned(jiff::tz::TimeZone::UTC).ok();
    if let Some(from) = at_midnight(deprecation.schedule.deprecated_from)
        && let Ok(value) = HeaderValue::from_str(&format!("@{}", from.timestamp().as_second()))
    {
        headers.insert("deprecation", value);
    }
    if let Some(sunset) = at_midnight(deprecation.schedule.sunset)
        && let Ok(value) = HeaderValue::from_str(&sunset.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        headers.insert("sunset", value);
    }
    let notice = format!("/v1/notices/{}", deprecation.notice_id);
    let link = format!(
        "<{notice}>; rel=\"deprecation\"; type=\"application/json\", <{notice}>; rel=\"sunset\"; type=\"application/json\""
    );
    if let Ok(value) = HeaderValue::from_str(&link) {
        headers.insert(header::LINK, value);
    }
}

/// A withdrawn version's headers: `Deprecation` from when it was withdrawn, and a `Link` to
/// the listing's live version, `rel="successor-version"` (RFC 5829), when it has one.
pub fn withdrawal_headers(slug: &str, withdrawal: &assay_service::Withdrawal, headers: &mut HeaderMap) {
    if let Ok(value) = HeaderValue::from_str(&format!("@{}", withdrawal.at)) {
        headers.insert("deprecation", value);
    }
    if let Some(successor) = &withdrawal.successor
        && let Ok(value) =
            HeaderValue::from_str(&format!("</v1/listings/{slug}/versions/{successor}>; rel=\"successor-version\""))
    {
        headers.append(header::LINK, value);
    }
}

/// The caller's standing: per listing, what is live, blocked (and by which rules), deprecated
/// and pending, and every fix-by date (waiver expiries, sunsets, breaking notices). Partners.
#[utoipa::path(
    get, path = "/v1/standing", tag = "lifecycle",
    responses(
        (status = 200, description = "The standing", body = assay_api::lifecycle::Standing),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn standing(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<assay_api::lifecycle::Standing>, ApiError> {
    Ok(Json(crate::dto::standing(&state.service.standing(&who).await?)))
}

/// A listing's timeline: versions, reviews, decisions, waivers, notices, deprecations and
/// retirements, oldest first.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/timeline", tag = "lifecycle",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "Events, oldest first", body = [assay_api::lifecycle::TimelineEvent]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn timeline(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<assay_api::lifecycle::TimelineEvent>>, ApiError> {
    Ok(Json(state.service.timeline(&who, &slug).await?.iter().map(crate::dto::timeline_event).collect()))
}
