//! Exceptions in the console: a partner asks for one from a finding on the version page; staff
//! grant or deny it there; `/exceptions` is the register. The same service calls as
//! `/v1/…/exceptions` and `/v1/exceptions`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use assay_service::ServiceError;
use assay_service::exceptions::{Exception, ExceptionQuery, ExceptionRequest, ExceptionVerdict};

use super::{ConsoleError, OrPage, Viewer, render};
use crate::AppState;

/// One request as the console shows it.
pub(crate) struct ExceptionRow {
    pub id: i64,
    pub slug: String,
    pub version: String,
    pub partner: String,
    pub rule: String,
    pub severity: String,
    pub status: &'static str,
    pub versions: String,
    pub until: String,
    pub requested_by: String,
    pub justification: String,
    /// The first grant awaiting a second reviewer: who, why.
    pub first: Option<(String, String)>,
    pub decided_by: Option<String>,
    pub rationale: Option<String>,
    /// Whether it waits for a decision.
    pub open: bool,
}

pub(crate) fn row(e: &Exception, now: i64) -> ExceptionRow {
    ExceptionRow {
        id: e.id,
        slug: e.slug.clone(),
        version: e.version.clone(),
        partner: e.partner_name.clone(),
        rule: e.rule_id.clone(),
        severity: e.severity.clone(),
        status: e.status(now),
        versions: e.granted_versions.clone().unwrap_or_else(|| e.versions.clone()),
        until: day(e.granted_expires_at.unwrap_or(e.expires_at)),
        requested_by: e.requested_by.clone(),
        justification: e.justification.clone(),
        first: e.first_decision.clone(),
        decided_by: e.decided_by.clone(),
        rationale: e.rationale.clone(),
        open: e.state.open(),
    }
}

/// `2027-03-31`.
pub(crate) fn day(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| at.to_string(), |t| t.strftime("%Y-%m-%d").to_string())
}

/// A date field (`YYYY-MM-DD`) as the start of that day, UTC (Unix seconds).
pub(crate) fn date_field(pointer: &str, text: &str) -> Result<i64, ServiceError> {
    let date = crate::notices::date(pointer, text.trim())?;
    Ok(date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| ServiceError::invalid(pointer, e.to_string()))?
        .timestamp()
        .as_second())
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    rule_id: String,
    #[serde(default)]
    versions: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    justification: String,
}

/// `POST /listings/{slug}/versions/{version}/exceptions`: a partner asks.
pub(crate) async fn request(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<RequestForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    let expires_at = date_field("/expires_at", &form.until).or_page(&viewer, &page)?;
    let versions = Some(form.versions.trim().to_owned()).filter(|v| !v.is_empty());
    let request = ExceptionRequest { rule_id: form.rule_id, versions, justification: form.justification, expires_at };
    state.service.request_exception(&viewer.who, &slug, &version, &request).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done=exception_requested#exceptions")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    rationale: String,
    #[serde(default)]
    until: String,
}

/// `POST /exceptions/{id}/decision`: staff grant (until an earlier date, if given) or deny.
pub(crate) async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let record = state.service.exception(&viewer.who, id).await.or_page(&viewer, "/exceptions")?;
    let page = format!("/listings/{}/versions/{}", record.slug, record.version);
    let verdict = match form.action.as_str() {
        "grant" => {
            let until = form.until.trim();
            let expires_at =
                if until.is_empty() { None } else { Some(date_field("/expires_at", until).or_page(&viewer, &page)?) };
            ExceptionVerdict::Grant { versions: None, expires_at, rationale: form.rationale }
        }
        _ => ExceptionVerdict::Deny { rationale: form.rationale },
    };
    let decided = state.service.decide_exception(&viewer.who, id, &verdict).await.or_page(&viewer, &page)?;
    let done = if decided.state.open() { "exception_confirming" } else { "exception_decided" };
    Ok(Redirect::to(&format!("{page}?done={done}#exceptions")).into_response())
}

#[derive(Template)]
#[template(path = "exceptions.html")]
struct RegisterPage {
    layout: super::Layout,
    rows: Vec<ExceptionRow>,
    status: String,
    partner: String,
    rule: String,
    staff: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegisterQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    rule: String,
}

/// `GET /exceptions?status=&partner=&rule=`: the register.
pub(crate) async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<RegisterQuery>,
) -> Result<Response, ConsoleError> {
    let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = ExceptionQuery {
        status: given(&query.status),
        partner: given(&query.partner),
        rule: given(&query.rule),
        ..Default::default()
    };
    let all = state.service.exceptions(&viewer.who, &filter).await.or_page(&viewer, "/exceptions")?;
    let now = state.service.now();
    let page = RegisterPage {
        layout: viewer.layout("/exceptions"),
        rows: all.iter().map(|e| row(e, now)).collect(),
        status: query.status,
        partner: query.partner,
        rule: query.rule,
        staff: viewer.who.is_staff(),
    };
    Ok(render(&page))
}
