//! Rule packs and their blast radius, the deprecation calendar, notices and fix-by dates,
//! webhook endpoints and their delivery logs.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use assay_service::rollout::{AFFECTED_SHOWN, Rollout};

use super::listings::{FixByRow, NoticeRow, fix_by_rows, notice_rows};
use super::{ConsoleError, Layout, OrPage, Viewer, render, waited, when};
use crate::AppState;

struct PackRow {
    name: String,
    version: String,
    phase: &'static str,
    progress: String,
    pass: i64,
    fail: i64,
    error: i64,
    published: String,
}

#[derive(Template)]
#[template(path = "packs.html")]
struct PacksPage {
    layout: Layout,
    current: Option<String>,
    rows: Vec<PackRow>,
}

fn progress(rollout: &Rollout) -> String {
    let jobs = &rollout.jobs;
    format!("{} of {}", jobs.done + jobs.dead, jobs.waiting + jobs.running + jobs.done + jobs.dead)
}

/// `GET /packs`: every published pack with its rollout phase and blast radius.
pub(crate) async fn packs(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    let rollouts = state.service.rollouts(&viewer.who).await.or_page(&viewer, "/")?;
    let current = state.service.active_pack().await.or_page(&viewer, "/")?;
    let rows = rollouts
        .iter()
        .map(|r| PackRow {
            name: r.pack.name.clone(),
            version: r.pack.version.clone(),
            phase: r.phase.as_str(),
            progress: progress(r),
            pass: r.verdicts.pass,
            fail: r.verdicts.fail,
            error: r.verdicts.error,
            published: when(r.pack.created_at),
        })
        .collect();
    Ok(render(&PacksPage {
        layout: viewer.layout("/packs"),
        current: Some(format!("{}@{}", current.name, current.version)),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "pack.html")]
struct PackPage {
    layout: Layout,
    name: String,
    version: String,
    phase: &'static str,
    published: String,
    published_by: String,
    digest: String,
    deadline: Option<String>,
    progress: String,
    eta: Option<String>,
    pass: i64,
    fail: i64,
    error: i64,
    dead: i64,
    complete: bool,
    by_rule: Vec<(String, i64)>,
    affected: Vec<assay_core::rollout::Affected>,
    affected_more: bool,
}

/// `GET /packs/{name}/{version}`: a rollout's progress and who would fail, on which rules.
pub(crate) async fn pack(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let r = state.service.rollout(&viewer.who, &name, &version).await.or_page(&viewer, "/packs")?;
    let page = PackPage {
        layout: viewer.layout("/packs"),
        phase: r.phase.as_str(),
        published: when(r.pack.created_at),
        published_by: r.pack.published_by.clone(),
        digest: r.pack.digest.clone(),
        deadline: r.pack.enforce_at.map(when),
        progress: progress(&r),
        eta: r.eta_secs.map(waited),
        pass: r.verdicts.pass,
        fail: r.verdicts.fail,
        error: r.verdicts.error,
        dead: r.jobs.dead,
        complete: r.complete(),
        by_rule: r.by_rule.clone(),
        affected_more: r.affected.len() as i64 >= AFFECTED_SHOWN,
        affected: r.affected,
        name,
        version,
    };
    Ok(render(&page))
}

struct CalendarRow {
    sunset: String,
    slug: Option<String>,
    target: String,
    deprecated_from: String,
    announced: String,
    stability: &'static str,
    phase: &'static str,
}

struct Month {
    title: String,
    rows: Vec<CalendarRow>,
}

#[derive(Template)]
#[template(path = "deprecations.html")]
struct CalendarPage {
    layout: Layout,
    partner: bool,
    today: String,
    months: Vec<Month>,
}

/// `GET /deprecations`: every schedule the viewer may see, by month of sunset.
pub(crate) async fn deprecations(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    let mut schedules = state.service.deprecations(&viewer.who, None).await.or_page(&viewer, "/")?;
    schedules.sort_by_key(|d| (d.schedule.sunset, d.id));
    let today = state.service.today();
    let mut months: Vec<Month> = Vec::new();
    for d in &schedules {
        let title = d.schedule.sunset.strftime("%B %Y").to_string();
        let (slug, target) = match &d.target {
            assay_core::deprecation::DeprecationTarget::Listing { slug, versions } => {
                (Some(slug.clone()), versions.to_string())
            }
            assay_core::deprecation::DeprecationTarget::ApiVersion(api) => (None, api.clone()),
        };
        let row = CalendarRow {
            sunset: d.schedule.sunset.to_string(),
            slug,
            target,
            deprecated_from: d.schedule.deprecated_from.to_string(),
            announced: d.schedule.announced.to_string(),
            stability: d.stability.as_str(),
            phase: match d.schedule.phase(today) {
                assay_core::deprecation::Phase::Announced => "announced",
                assay_core::deprecation::Phase::Deprecated => "deprecated",
                assay_core::deprecation::Phase::Sunset => "retired",
            },
        };
        match months.last_mut() {
            Some(month) if month.title == title => month.rows.push(row),
            _ => months.push(Month { title, rows: vec![row] }),
        }
    }
    Ok(render(&CalendarPage {
        layout: viewer.layout("/deprecations"),
        partner: !viewer.who.is_staff(),
        today: today.to_string(),
        months,
    }))
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    layout: Layout,
    partner: bool,
    fix_by: Vec<FixByRow>,
    notices: Vec<NoticeRow>,
}

/// `GET /notices`: change notices; for a partner, every fix-by date first.
pub(crate) async fn notices(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    let partner = !viewer.who.is_staff();
    let fix_by = if partner {
        fix_by_rows(&state.service.standing(&viewer.who).await.or_page(&viewer, "/")?.fix_by)
    } else {
        Vec::new()
    };
    let mut notices = state.service.notices(&viewer.who, None).await.or_page(&viewer, "/")?;
    notices.sort_by_key(|n| std::cmp::Reverse((n.effective, n.id)));
    Ok(render(&NoticesPage { layout: viewer.layout("/notices"), partner, fix_by, notices: notice_rows(&notices) }))
}

struct EndpointRow {
    id: i64,
    url: String,
    events: String,
    created: String,
    /// `healthy`, `failing` or `paused`.
    status: &'static str,
    last_success: String,
    failures_in_a_row: i64,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    csrf: String,
    partner: bool,
    secret: Option<(i64, String)>,
    rows: Vec<EndpointRow>,
    known: String,
}

async fn webhooks_page(
    state: &AppState,
    viewer: &Viewer,
    secret: Option<(i64, String)>,
) -> Result<WebhooksPage, ConsoleError> {
    let endpoints = state.service.endpoints(&viewer.who).await.or_page(viewer, "/")?;
    Ok(WebhooksPage {
        layout: viewer.layout("/webhooks"),
        csrf: viewer.csrf.clone(),
        partner: !viewer.who.is_staff(),
        secret,
        rows: endpoints
            .iter()
            .map(|e| EndpointRow {
                id: e.id,
                url: e.url.clone(),
                events: e.events.join(", "),
                created: when(e.created_at),
                status: e.health.status(),
                last_success: e.health.last_success_at.map_or_else(|| "never".to_owned(), when),
                failures_in_a_row: e.health.failures_in_a_row,
            })
            .collect(),
        known: assay_service::webhooks::EVENT_TYPES.join(", "),
    })
}

/// `GET /webhooks`: the partner's endpoints (staff: everyone's).
pub(crate) async fn webhooks(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    Ok(render(&webhooks_page(&state, &viewer, None).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct EndpointForm {
    #[serde(default)]
    csrf: String,
    url: String,
    #[serde(default)]
    events: String,
}

/// `POST /webhooks`: register an endpoint; the answer shows its secret, once (it is not put in
/// a URL or a redirect).
pub(crate) async fn register_webhook(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<EndpointForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let events: Vec<String> = form.events.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
    let created =
        state.service.register_endpoint(&viewer.who, form.url.trim(), &events).await.or_page(&viewer, "/webhooks")?;
    let secret = Some((created.endpoint.id, created.endpoint.secret.clone()));
    Ok((StatusCode::CREATED, render(&webhooks_page(&state, &viewer, secret).await?)).into_response())
}

struct DeliveryRow {
    at: String,
    event: String,
    msg: String,
    attempt: i64,
    result: String,
    took: String,
    state: String,
}

/// An endpoint's health as the page shows it.
struct HealthView {
    status: &'static str,
    last_success: String,
    last_failure: String,
    last_error: Option<String>,
    failures_in_a_row: i64,
    failing_since: Option<String>,
    paused: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    layout: Layout,
    csrf: String,
    id: i64,
    url: String,
    events: String,
    health: HealthView,
    /// The old secret still signs until then (a rotation's grace period).
    previous_until: Option<String>,
    counts: (i64, i64, i64),
    log: Vec<DeliveryRow>,
    /// Whether the viewer may pause, rotate, test, redeliver and delete (the owner's members).
    manage: bool,
    /// What the last action did, shown once: a new secret, or a test message's id.
    flash: Option<String>,
    secret: Option<String>,
    known: String,
}

async fn webhook_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    flash: Option<String>,
    secret: Option<String>,
) -> Result<WebhookPage, ConsoleError> {
    let (endpoint, log, counts) = state.service.delivery_log(&viewer.who, id).await.or_page(viewer, "/webhooks")?;
    let log = log
        .iter()
        .map(|d| DeliveryRow {
            at: when(d.at),
            event: d.event_type.clone(),
            msg: d.msg_id.clone(),
            attempt: d.attempt,
            result: match (d.status, &d.error) {
                (Some(status), _) => format!("HTTP {status}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "—".into(),
            },
            took: format!("{} ms", d.duration_ms),
            state: d.state.clone(),
        })
        .collect();
    let h = &endpoint.health;
    let health = HealthView {
        status: h.status(),
        last_success: h.last_success_at.map_or_else(|| "never".to_owned(), when),
        last_failure: h.last_failure_at.map_or_else(|| "never".to_owned(), when),
        last_error: h.last_error.clone(),
        failures_in_a_row: h.failures_in_a_row,
        failing_since: h.failing_since.map(when),
        paused: h.paused_at.map(|at| (when(at), h.paused_reason.clone().unwrap_or_default())),
    };
    let manage = viewer.who.partner == Some(endpoint.partner)
        && assay_service::access::require(&viewer.who, assay_service::access::Permission::ManageWebhooks).is_ok();
    Ok(WebhookPage {
        layout: viewer.layout("/webhooks"),
        csrf: viewer.csrf.clone(),
        id,
        url: endpoint.url.clone(),
        events: endpoint.events.join(", "),
        health,
        previous_until: endpoint.previous_secret_until.map(when),
        counts,
        log,
        manage,
        flash,
        secret,
        known: assay_service::webhooks::EVENT_TYPES.join(", "),
    })
}

/// `GET /webhooks/{id}`: an endpoint's health, its delivery log and (for its owner's members
/// who manage webhooks) what can be done to it.
pub(crate) async fn webhook(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    Ok(render(&webhook_page(&state, &viewer, id, None, None).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct EndpointAction {
    #[serde(default)]
    csrf: String,
    /// Why it is paused (`pause`).
    #[serde(default)]
    reason: String,
    /// The event types it receives, comma-separated (`events`).
    #[serde(default)]
    events: String,
}

/// `POST /webhooks/{id}/{action}`: `pause`, `resume`, `events`, `test`, `rotate-secret` or
/// `delete`. A new secret and a test message's id are shown on the page this answers with;
/// the others redirect to what changed.
pub(crate) async fn webhook_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<EndpointAction>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let back = format!("/webhooks/{id}");
    let service = &state.service;
    let (flash, secret) = match action.as_str() {
        "pause" => {
            service.pause_endpoint(&viewer.who, id, Some(&form.reason)).await.or_page(&viewer, &back)?;
            (format!("Endpoint {id} is paused: its messages wait until it is resumed."), None)
        }
        "resume" => {
            service.pause_endpoint(&viewer.who, id, None).await.or_page(&viewer, &back)?;
            (format!("Endpoint {id} is delivering again; what waited goes out now."), None)
        }
        "events" => {
            let events: Vec<String> =
                form.events.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
            service.update_endpoint(&viewer.who, id, &events).await.or_page(&viewer, &back)?;
            (format!("Endpoint {id} now receives the events listed."), None)
        }
        "test" => {
            let message = service.send_test_event(&viewer.who, id).await.or_page(&viewer, &back)?;
            (format!("Test message {message} queued; it appears in the delivery log once sent."), None)
        }
        "rotate-secret" => {
            let endpoint = service.rotate_endpoint_secret(&viewer.who, id).await.or_page(&viewer, &back)?;
            let until = endpoint.previous_secret_until.map(when).unwrap_or_default();
            (
                format!("Endpoint {id} has a new secret; the old one keeps signing beside it until {until}."),
                Some(endpoint.secret),
            )
        }
        "delete" => {
            service.delete_endpoint(&viewer.who, id).await.or_page(&viewer, &back)?;
            return Ok(axum::response::Redirect::to("/webhooks").into_response());
        }
        _ => {
            let unknown = assay_service::ServiceError::NotFound(format!("the action `{action}` of a webhook endpoint"));
            return Err::<Response, _>(unknown).or_page(&viewer, &back);
        }
    };
    Ok(render(&webhook_page(&state, &viewer, id, Some(flash), secret).await?))
}

/// `POST /webhooks/{id}/messages/{message}/redeliver`: send a message again now.
pub(crate) async fn redeliver_webhook(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, message)): Path<(i64, String)>,
    Form(form): Form<EndpointAction>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let back = format!("/webhooks/{id}");
    state.service.redeliver(&viewer.who, id, &message).await.or_page(&viewer, &back)?;
    let flash = format!("Message {message} is queued to be sent again.");
    Ok(render(&webhook_page(&state, &viewer, id, Some(flash), None).await?))
}
