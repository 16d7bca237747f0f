//! The reviewers' pages: the queue, a version's page, decisions and waivers. Partners see the
//! same version page without the decision form.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use assay_core::{Severity, VersionState};
use assay_service::{Action, Role, VersionId, WaiverRequest};

use super::{ConsoleError, Layout, OrPage, Viewer, bytes, done_flash, render, waited, when};
use crate::AppState;

/// How many queue entries a page shows.
const QUEUE_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueQuery {
    /// The cursor: `waiting_since.id` of the last entry of the previous page.
    after: Option<String>,
    /// Filters (the whole filtered queue is one page): `waiting`, `held`, `past_target`,
    /// `unassigned`; `me`, `none` or an e-mail address; a partner; a rule; a verdict.
    #[serde(default)]
    state: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    partner: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    verdict: String,
}

struct QueueRow {
    href: String,
    slug: String,
    version: String,
    partner: String,
    verdict: &'static str,
    since: i64,
    since_text: String,
    waiting: String,
    assignee: Option<String>,
    hold: Option<String>,
    /// `3 days left`, `2 h past target`.
    due: String,
    past: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Layout,
    total: i64,
    rows: Vec<QueueRow>,
    first_page: bool,
    next: Option<String>,
    filtered: bool,
    state: String,
    assignee: String,
    partner: String,
    rule: String,
    verdict: String,
}

fn queue_row(entry: &assay_core::listing::QueueEntry, due_at: i64, now: i64) -> QueueRow {
    let left = due_at - now;
    QueueRow {
        href: format!("/listings/{}/versions/{}", entry.slug, entry.version),
        slug: entry.slug.clone(),
        version: entry.version.clone(),
        partner: entry.partner_name.clone(),
        verdict: entry.verdict.map_or("none", |v| v.as_str()),
        since: entry.waiting_since,
        since_text: when(entry.waiting_since),
        waiting: waited(now - entry.waiting_since),
        assignee: entry.assignee.clone(),
        hold: entry.hold.as_ref().map(|(reason, _)| reason.clone()),
        due: if left >= 0 { format!("{} left", waited(left)) } else { format!("{} past target", waited(-left)) },
        past: left < 0,
    }
}

fn filter(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `GET /queue`: versions waiting for a reviewer, longest-waiting first, a page at a time; or
/// filtered, all on one page.
pub(crate) async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<QueueQuery>,
) -> Result<Response, ConsoleError> {
    let now = state.service.now();
    let filters = assay_service::review_queue::ReviewQueueQuery {
        state: filter(&query.state),
        verdict: filter(&query.verdict),
        partner: filter(&query.partner),
        rule: filter(&query.rule),
        assignee: filter(&query.assignee),
    };
    let filtered = filters.state.is_some()
        || filters.verdict.is_some()
        || filters.partner.is_some()
        || filters.rule.is_some()
        || filters.assignee.is_some();
    let after = query.after.as_deref().and_then(|a| {
        let (since, id) = a.split_once('.')?;
        Some((since.parse().ok()?, VersionId(id.parse().ok()?)))
    });
    let (rows, total, next) = if filtered {
        let found = state.service.review_queue_filtered(&viewer.who, &filters).await.or_page(&viewer, "/queue")?;
        let rows: Vec<_> = found.iter().map(|q| queue_row(&q.entry, q.due_at, now)).collect();
        let total = rows.len() as i64;
        (rows, total, None)
    } else {
        let page = state.service.review_queue_page(&viewer.who, after, QUEUE_PAGE).await.or_page(&viewer, "/")?;
        let rows = page.entries.iter().map(|e| queue_row(e, state.service.review_clock(e, now).1, now)).collect();
        (rows, page.total, page.next.map(|(since, id)| format!("/queue?after={since}.{}", id.0)))
    };
    Ok(render(&QueuePage {
        layout: viewer.layout("/queue"),
        total,
        rows,
        first_page: after.is_none(),
        next,
        filtered,
        state: query.state,
        assignee: query.assignee,
        partner: query.partner,
        rule: query.rule,
        verdict: query.verdict,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    csrf: String,
    /// `claim` or `unclaim`.
    action: String,
}

/// `POST /listings/{slug}/versions/{version}/assignee`: a reviewer claims the version, or
/// gives it back.
pub(crate) async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<AssignForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    let done = if form.action == "unclaim" {
        state.service.unassign_review(&viewer.who, &slug, &version).await.or_page(&viewer, &page)?;
        "unassigned"
    } else {
        state.service.assign_review(&viewer.who, &slug, &version, None).await.or_page(&viewer, &page)?;
        "claimed"
    };
    Ok(Redirect::to(&format!("{page}?done={done}")).into_response())
}

struct FindingRow {
    rule: String,
    check: String,
    platform: bool,
    message: String,
    pointer: String,
    line: Option<usize>,
    remediation: Option<String>,
    help: String,
    waived: Option<i64>,
    /// When the waiver covering it lapses.
    waived_until: Option<String>,
    /// Whether an exception for its rule is asked for and not decided yet.
    asked: bool,
}

struct SeverityGroup {
    severity: &'static str,
    findings: Vec<FindingRow>,
}

struct RunRow {
    check: String,
    platform: bool,
    outcome: &'static str,
    message: Option<String>,
    wall: String,
    fuel: String,
    memory: String,
    output: String,
    calls: u64,
}

struct CallRow {
    operation: String,
    scope: String,
    outcome: String,
    bytes: u64,
}

struct Transcript {
    check: String,
    calls: Vec<CallRow>,
    logs: Vec<String>,
}

struct DiffLine {
    class: &'static str,
    sign: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "version.html")]
struct VersionPage {
    layout: Layout,
    csrf: String,
    slug: String,
    version: String,
    state: &'static str,
    certified: bool,
    verdict: Option<&'static str>,
    review_line: Option<String>,
    refreshing: bool,
    reviewer: bool,
    can_decide: bool,
    can_certify: bool,
    decisions: Vec<assay_core::listing::Decision>,
    groups: Vec<SeverityGroup>,
    diff_base: Option<String>,
    diff: Vec<DiffLine>,
    runs: Vec<RunRow>,
    transcripts: Vec<Transcript>,
    rechecks: Vec<(String, String, String)>,
    manifest: Vec<String>,
    /// Whether the viewer acts for the listing's partner (its owners and developers): asks for
    /// exceptions, releases and withdraws.
    can_request: bool,
    /// Whether the version can be released now (approved).
    can_release: bool,
    /// Whether it can be withdrawn now (in review, sent back or approved).
    can_withdraw: bool,
    /// Exceptions asked for on this version.
    exceptions: Vec<super::exceptions::ExceptionRow>,
    /// What an exception request's date field starts at: 30 days from today.
    default_until: String,
    /// The hold the review waits on.
    hold: Option<super::conversation::HoldRow>,
    /// The conversation, oldest first (staff also see internal notes).
    messages: Vec<super::conversation::MessageRow>,
    /// Whether the viewer may write on it.
    can_converse: bool,
    /// Whether the viewer is staff (internal notes).
    staff: bool,
    /// Appeals of this version's decisions, newest first.
    appeals: Vec<super::conversation::AppealRow>,
    /// Whether the partner may appeal now: a reviewer's rejection or request for changes that
    /// has no appeal yet.
    can_appeal: bool,
    /// Whether the partner can roll back to it: a newer version is approved or live.
    can_roll_back: bool,
    /// Where it stands in the review queue: position, of how many, expected by.
    queue: Option<(i64, i64, String)>,
    /// Who reviews it (staff see it).
    assignee: Option<String>,
    /// Whether the viewer has it.
    mine: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
    /// Seconds to wait for a running review's verdict before answering (the page's script
    /// long-polls with it); anything but a number of seconds is ignored.
    wait: Option<String>,
}

/// The longest a console page waits for a verdict: under the usual 30 s proxy timeouts.
const CONSOLE_WAIT_MAX_SECS: u64 = 25;

/// `GET /listings/{slug}/versions/{version}`: everything a reviewer decides on, and everything
/// a partner needs to fix.
pub(crate) async fn version(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ConsoleError> {
    let back = format!("/listings/{slug}");
    let wait = query.wait.as_deref().and_then(|w| w.parse::<u64>().ok()).map(|w| w.min(CONSOLE_WAIT_MAX_SECS));
    let view = match wait {
        Some(secs) => {
            let wait = std::time::Duration::from_secs(secs);
            state.service.version_when_reviewed(&viewer.who, &slug, &version, wait).await
        }
        None => state.service.version(&viewer.who, &slug, &version).await,
    }
    .or_page(&viewer, &back)?;
    let base = state.service.last_approved(&viewer.who, &view.record).await.or_page(&viewer, &back)?;
    let rechecks = state.service.rechecks(&viewer.who, &slug, &version).await.or_page(&viewer, &back)?;
    let manifest = &view.record.manifest;
    // Findings point into the manifest by JSON Pointer; the source map turns that into a line.
    let source_map = assay_core::Manifest::parse("listing.toml", manifest).ok().map(|parsed| parsed.source_map);
    let now = state.service.now();
    let this_listing = assay_service::exceptions::ExceptionQuery { listing: Some(slug.clone()), ..Default::default() };
    let asked = state.service.exceptions(&viewer.who, &this_listing).await.or_page(&viewer, &back)?;
    let exceptions: Vec<_> = asked
        .iter()
        .filter(|e| e.slug == slug && e.version == version)
        .map(|e| super::exceptions::row(e, now))
        .collect();
    let until_of = |waiver: i64| {
        view.waivers.iter().find(|w| w.waiver.id == waiver).map(|w| super::exceptions::day(w.waiver.expires_at))
    };
    let mut groups: Vec<SeverityGroup> = Vec::new();
    for severity in Severity::ALL.iter().rev() {
        let findings: Vec<FindingRow> = view
            .findings
            .iter()
            .filter(|f| f.finding.severity == *severity)
            .map(|f| FindingRow {
                rule: f.finding.rule_id.clone(),
                check: f.check_id.clone(),
                platform: f.platform,
                message: f.finding.message.clone(),
                pointer: f.finding.pointer.clone(),
                line: source_map
                    .as_ref()
                    .and_then(|map| map.span(&f.finding.pointer).map(|span| map.line_column(span.start).0)),
                remediation: f.finding.remediation.clone(),
                help: f.finding.help_url.clone(),
                waived: f.waived_by,
                waived_until: f.waived_by.and_then(until_of),
                asked: exceptions.iter().any(|e| e.open && e.rule == f.finding.rule_id),
            })
            .collect();
        if !findings.is_empty() {
            groups.push(SeverityGroup { severity: severity.as_str(), findings });
        }
    }
    let runs = view.review.as_ref().map(|r| r.runs.as_slice()).unwrap_or_default();
    let run_rows = runs
        .iter()
        .map(|run| RunRow {
            check: run.check_id.clone(),
            platform: run.platform,
            outcome: run.outcome.as_str(),
            message: run.message.clone(),
            wall: format!("{:.1} ms", run.usage.wall_time.as_secs_f64() * 1000.0),
            fuel: run.usage.fuel.map_or_else(|| "—".to_owned(), |f| f.to_string()),
            memory: bytes(run.usage.peak_memory),
            output: bytes(run.usage.output_bytes),
            calls: run.usage.platform_calls,
        })
        .collect();
    let transcripts = runs
        .iter()
        .filter(|run| run.integration)
        .map(|run| Transcript {
            check: run.check_id.clone(),
            calls: run
                .transcript
                .iter()
                .map(|call| CallRow {
                    operation: call.operation.clone(),
                    scope: call.scope.clone(),
                    outcome: call.outcome.to_string(),
                    bytes: call.bytes_out,
                })
                .collect(),
            logs: run.logs.clone(),
        })
        .collect();
    let diff = base.as_ref().map(|base| diff_lines(&base.manifest, manifest)).unwrap_or_default();
    let review_line = view.review.as_ref().map(|r| {
        let previous = r.previous_version.as_deref().map(|p| format!(", against {p}")).unwrap_or_default();
        format!("Reviewed {} by rule pack {}@{}{previous}.", when(r.finished_at), r.pack_name, r.pack_version)
    });
    let messages = state.service.messages(&viewer.who, &slug, &version).await.or_page(&viewer, &back)?;
    let this_version = assay_service::appeals::AppealQuery { listing: Some(slug.clone()), ..Default::default() };
    let appeals: Vec<_> = state
        .service
        .appeals(&viewer.who, &this_version)
        .await
        .or_page(&viewer, &back)?
        .into_iter()
        .filter(|a| a.version == version)
        .collect();
    let appealable_decisions =
        view.decisions.iter().filter(|d| matches!(d.action.as_str(), "reject" | "request_changes")).count();
    let can_request = viewer.who.partner == Some(view.listing.partner)
        && viewer.who.scopes.contains(assay_service::Scope::Submit)
        && matches!(viewer.who.role, Role::Owner | Role::Developer);
    let can_appeal = can_request
        && matches!(view.record.state, VersionState::Rejected | VersionState::ChangesRequested)
        && view.decisions.last().is_some_and(|d| matches!(d.action.as_str(), "reject" | "request_changes"))
        && appeals.len() < appealable_decisions;
    let refreshing = matches!(view.record.state, VersionState::Submitted | VersionState::Checking);
    let mut layout = viewer.layout(if !viewer.who.is_staff() { "/listings" } else { "/queue" });
    layout.flash = done_flash(query.done.as_deref());
    layout.refresh = refreshing;
    let page = VersionPage {
        csrf: viewer.csrf.clone(),
        slug: slug.clone(),
        version: version.clone(),
        state: view.record.state.as_str(),
        certified: view.record.certified,
        verdict: view.verdict.map(|v| v.as_str()),
        review_line,
        refreshing,
        reviewer: viewer.who.role == Role::Reviewer,
        can_decide: view.record.state == VersionState::AwaitingReview,
        can_certify: !view.record.certified
            && matches!(view.record.state, VersionState::Approved | VersionState::Published | VersionState::Deprecated),
        decisions: view.decisions.clone(),
        groups,
        diff_base: base.map(|b| b.version),
        diff,
        runs: run_rows,
        transcripts,
        rechecks: rechecks
            .iter()
            .map(|r| (format!("{} ({}, {})", r.reason, r.pack, when(r.at)), r.verdict.clone(), r.blocking.clone()))
            .collect(),
        manifest: manifest.lines().map(str::to_owned).collect(),
        can_request,
        can_release: view.record.state == VersionState::Approved,
        can_withdraw: matches!(
            view.record.state,
            VersionState::AwaitingReview | VersionState::ChangesRequested | VersionState::Approved
        ),
        exceptions,
        default_until: super::exceptions::day(now + 30 * 86_400),
        hold: view.hold.as_ref().map(super::conversation::hold),
        messages: messages.iter().map(super::conversation::message).collect(),
        can_converse: viewer.who.is_staff() || can_request,
        staff: viewer.who.is_staff(),
        appeals: appeals.iter().map(super::conversation::appeal).collect(),
        can_appeal,
        can_roll_back: can_request
            && matches!(view.record.state, VersionState::Approved | VersionState::Published | VersionState::Deprecated)
            && !view.newer_live().is_empty(),
        queue: view.queue.as_ref().map(|q| (q.position, q.waiting, super::exceptions::day(q.expected_by))),
        assignee: view.queue.as_ref().and_then(|q| q.assignee.clone()).filter(|_| viewer.who.is_staff()),
        mine: view.queue.as_ref().and_then(|q| q.assignee.as_deref()) == Some(viewer.who.actor.as_str()),
        layout,
    };
    Ok(render(&page))
}

/// The manifest's changes, line by line, with three lines of context around each change.
fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for (i, group) in diff.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            out.push(DiffLine { class: "muted", sign: " ", text: "…".into() });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let (class, sign) = match change.tag() {
                    similar::ChangeTag::Delete => ("del", "-"),
                    similar::ChangeTag::Insert => ("add", "+"),
                    similar::ChangeTag::Equal => ("", " "),
                };
                out.push(DiffLine { class, sign, text: change.value().trim_end_matches('\n').to_owned() });
            }
        }
    }
    out
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
}

/// `POST …/decision`: approve, request changes, reject or certify, with a note.
pub(crate) async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    let action = match form.action.as_str() {
        "approve" => Action::Approve,
        "request_changes" => Action::RequestChanges,
        "reject" => Action::Reject,
        "certify" => Action::Certify,
        other => {
            let error = assay_service::ServiceError::invalid(
                "/action",
                format!("`{other}` is not a decision; choose approve, request changes, reject or certify"),
            );
            return Err(error).or_page(&viewer, &page);
        }
    };
    state.service.decide(&viewer.who, &slug, &version, action, &form.note).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done={}", form.action)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct MoveForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
}

/// `POST …/moves`: the partner releases or withdraws its version.
pub(crate) async fn move_version(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, version)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}/versions/{version}");
    let (action, done) = match form.action.as_str() {
        "release" => (assay_service::PartnerMove::Release, "released"),
        "rollback" => (assay_service::PartnerMove::RollBack, "rolled_back"),
        _ => (assay_service::PartnerMove::Withdraw, "withdrawn"),
    };
    state.service.move_version(&viewer.who, &slug, &version, action, &form.note).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done={done}")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct WaiverForm {
    #[serde(default)]
    csrf: String,
    rule_id: String,
    versions: String,
    /// `YYYY-MM-DD`; the waiver ends at the start of that day (UTC).
    expires: String,
    #[serde(default)]
    justification: String,
}

/// `POST /listings/{slug}/waivers`: grant a waiver.
pub(crate) async fn grant_waiver(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<WaiverForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let back = format!("/listings/{slug}");
    let expires_at = super::exceptions::date_field("/expires_at", &form.expires).or_page(&viewer, &back)?;
    let request = WaiverRequest {
        slug: slug.clone(),
        rule_id: form.rule_id.trim().to_owned(),
        versions: form.versions.trim().to_owned(),
        justification: form.justification,
        expires_at,
    };
    state.service.grant_waiver(&viewer.who, &request).await.or_page(&viewer, &back)?;
    Ok(Redirect::to(&format!("{back}?done=waived#waivers")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExpireForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// `POST /listings/{slug}/waivers/{id}/expire`: end a waiver now.
pub(crate) async fn expire_waiver(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, i64)>,
    Form(form): Form<ExpireForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let back = format!("/listings/{slug}");
    state.service.expire_waiver(&viewer.who, &slug, id, &form.note).await.or_page(&viewer, &back)?;
    Ok(Redirect::to(&format!("{back}?done=expired#waivers")).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_diff_shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n";
        let lines = super::diff_lines(old, new);
        let signs: String = lines.iter().map(|l| l.sign).collect();
        assert_eq!(signs, "   -+   ");
        assert_eq!(lines[3].text, "e");
        assert_eq!(lines[4].text, "E");
        assert!(super::diff_lines(old, old).is_empty());
    }
}
