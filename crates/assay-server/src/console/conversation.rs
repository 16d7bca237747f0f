//! The conversation on a version in the console: messages both ways (staff also write internal
//! notes), holds, and appeals — filed by the partner from the version page, heard there by a
//! reviewer other than the one who decided. The same service calls as `/v1/…/messages`,
//! `/v1/…/hold`, `/v1/…/appeals` and `/v1/appeals/{id}/decision`.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use assay_service::appeals::{Appeal, AppealOutcome};
use assay_service::conversation::{VersionHold, VersionMessage};

use super::{ConsoleError, OrPage, Viewer, when};
use crate::AppState;

/// A message as the version page shows it.
pub(crate) struct MessageRow {
    pub author: String,
    pub staff: bool,
    pub internal: bool,
    pub body: String,
    pub at: String,
}

pub(crate) fn message(m: &VersionMessage) -> MessageRow {
    MessageRow { author: m.author.clone(), staff: m.staff, internal: m.internal, body: m.body.clone(), at: when(m.at) }
}

/// The hold a version waits on: why, who, since when.
pub(crate) struct HoldRow {
    pub reason: String,
    pub by: String,
    pub since: String,
}

pub(crate) fn hold(h: &VersionHold) -> HoldRow {
    HoldRow { reason: h.reason.clone(), by: h.placed_by.clone(), since: when(h.placed_at) }
}

/// An appeal as the version page shows it.
pub(crate) struct AppealRow {
    pub id: i64,
    pub status: &'static str,
    pub decision: String,
    pub decided_by: String,
    pub statement: String,
    pub appealed_by: String,
    pub heard_by: Option<String>,
    pub rationale: Option<String>,
    pub open: bool,
}

pub(crate) fn appeal(a: &Appeal) -> AppealRow {
    AppealRow {
        id: a.id,
        status: a.state.as_str(),
        decision: a.decision.replace('_', " "),
        decided_by: a.decided_by.clone(),
        statement: a.statement.clone(),
        appealed_by: a.appealed_by.clone(),
        heard_by: a.heard_by.clone(),
        rationale: a.rationale.clone(),
        open: a.state == assay_service::appeals::State::Open,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    /// A checkbox: present (`on`) when ticked.
    #[serde(default)]
    internal: Option<String>,
}

/// `POST /listings/{slug}/versions/{version}/messages`.
pub(crate) async fn post_message(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<MessageForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    let internal = form.internal.is_some();
    state.service.post_message(&viewer.who, &slug, &version, &form.body, internal).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done=message_posted#conversation")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct HoldForm {
    #[serde(default)]
    csrf: String,
    /// `place` or `release`.
    action: String,
    #[serde(default)]
    reason: String,
}

/// `POST /listings/{slug}/versions/{version}/hold`: a reviewer places or releases the hold.
pub(crate) async fn hold_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<HoldForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    let done = if form.action == "release" {
        state.service.release_hold(&viewer.who, &slug, &version, "").await.or_page(&viewer, &page)?;
        "hold_released"
    } else {
        state.service.place_hold(&viewer.who, &slug, &version, &form.reason).await.or_page(&viewer, &page)?;
        "hold_placed"
    };
    Ok(Redirect::to(&format!("{page}?done={done}#conversation")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    statement: String,
}

/// `POST /listings/{slug}/versions/{version}/appeals`: the partner appeals.
pub(crate) async fn file_appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<AppealForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    state.service.appeal(&viewer.who, &slug, &version, &form.statement).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done=appeal_filed#appeals")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct HearingForm {
    #[serde(default)]
    csrf: String,
    /// `uphold` or `overturn`.
    action: String,
    #[serde(default)]
    rationale: String,
}

/// `POST /appeals/{id}/decision`: a reviewer other than the decider hears it.
pub(crate) async fn decide_appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<HearingForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let record = state.service.appeal_by_id(&viewer.who, id).await.or_page(&viewer, "/queue")?;
    let page = format!("/listings/{}/versions/{}", record.slug, record.version);
    let outcome = if form.action == "overturn" { AppealOutcome::Overturn } else { AppealOutcome::Uphold };
    state.service.decide_appeal(&viewer.who, id, outcome, &form.rationale).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done=appeal_decided#appeals")).into_response())
}
