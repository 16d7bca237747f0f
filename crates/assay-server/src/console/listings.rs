//! Listings: a page at a time with a partner's standing, one listing's page, creating a listing
//! and submitting a version from the browser.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use assay_service::{Capability, Role, ServiceError, UploadedCheck};

use super::{ConsoleError, Layout, OrPage, Viewer, done_flash, render, urlencode, when};
use crate::AppState;
use crate::problem::ApiError;

/// How many listings a page shows.
const LISTINGS_PAGE: i64 = 50;

#[derive(Debug, Deserialize)]
pub(crate) struct IndexQuery {
    #[serde(default)]
    q: String,
    after: Option<String>,
}

struct ListingRow {
    slug: String,
    name: String,
    partner: String,
    latest: Option<(String, &'static str)>,
    versions: usize,
}

pub(crate) struct FixByRow {
    pub date: String,
    pub kind: &'static str,
    pub listing: String,
    pub what: String,
}

struct StandingSummary {
    live: usize,
    blocked: usize,
    pending: usize,
    deprecated: usize,
    fix_by: Vec<FixByRow>,
}

#[derive(Template)]
#[template(path = "listings.html")]
struct ListingsPage {
    layout: Layout,
    csrf: String,
    partner: bool,
    standing: Option<StandingSummary>,
    query: String,
    total: i64,
    rows: Vec<ListingRow>,
    first_page: bool,
    next: Option<String>,
}

/// A partner's fix-by dates as rows.
pub(crate) fn fix_by_rows(fix_by: &[assay_service::FixBy]) -> Vec<FixByRow> {
    fix_by
        .iter()
        .map(|f| FixByRow {
            date: f.date.to_string(),
            kind: f.kind,
            listing: f.listing.clone().unwrap_or_default(),
            what: f.what.clone(),
        })
        .collect()
}

/// `GET /listings`: the listings the viewer may see, 50 at a time, by slug; for a partner, its
/// standing first.
pub(crate) async fn index(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<IndexQuery>,
) -> Result<Response, ConsoleError> {
    let prefix = query.q.trim().to_ascii_lowercase();
    let page = state
        .service
        .listings_page(&viewer.who, &prefix, query.after.as_deref(), LISTINGS_PAGE)
        .await
        .or_page(&viewer, "/")?;
    let partner = !viewer.who.is_staff();
    let standing = if partner {
        let standing = state.service.standing(&viewer.who).await.or_page(&viewer, "/")?;
        let count = |f: fn(&assay_service::ListingStanding) -> usize| standing.listings.iter().map(f).sum();
        let mut fix_by = fix_by_rows(&standing.fix_by);
        fix_by.truncate(5);
        Some(StandingSummary {
            live: count(|l| l.live.len()),
            blocked: count(|l| l.blocked.len()),
            pending: count(|l| l.pending.len()),
            deprecated: count(|l| l.deprecated.len()),
            fix_by,
        })
    } else {
        None
    };
    let rows = page
        .listings
        .iter()
        .map(|l| ListingRow {
            slug: l.slug.clone(),
            name: l.name.clone(),
            partner: l.partner_name.clone(),
            latest: l.versions.last().map(|(v, s)| (v.clone(), s.as_str())),
            versions: l.versions.len(),
        })
        .collect();
    let next = page.next.map(|after| format!("/listings?q={}&after={}", urlencode(&prefix), urlencode(&after)));
    Ok(render(&ListingsPage {
        layout: viewer.layout("/listings"),
        csrf: viewer.csrf.clone(),
        partner,
        standing,
        query: prefix,
        total: page.total,
        rows,
        first_page: query.after.is_none(),
        next,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf: String,
    slug: String,
    name: String,
}

/// `POST /listings`: a partner creates a listing.
pub(crate) async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CreateForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let listing = state
        .service
        .create_listing(&viewer.who, form.slug.trim(), form.name.trim())
        .await
        .or_page(&viewer, "/listings")?;
    Ok(Redirect::to(&format!("/listings/{}?done=created#submit", listing.slug)).into_response())
}

struct WaiverRow {
    id: i64,
    rule: String,
    versions: String,
    expires: String,
    live: bool,
    approver: String,
    justification: String,
}

pub(crate) struct NoticeRow {
    pub effective: String,
    pub listing: String,
    pub kind: &'static str,
    pub summary: String,
    pub action: String,
}

struct DeprecationRow {
    target: String,
    deprecated_from: String,
    sunset: String,
    stability: &'static str,
}

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    layout: Layout,
    csrf: String,
    slug: String,
    name: String,
    partner: String,
    live: Vec<String>,
    versions: Vec<(String, &'static str)>,
    owner: bool,
    can_upload_checks: bool,
    reviewer: bool,
    waivers: Vec<WaiverRow>,
    rules: Vec<String>,
    default_range: String,
    default_expiry: String,
    notices: Vec<NoticeRow>,
    deprecations: Vec<DeprecationRow>,
    audit: Vec<AuditRow>,
    /// The link to the next older page of the audit trail, when there is one.
    audit_older: Option<String>,
    /// Whether this is an older page (so the page links back to the newest events).
    audit_paged: bool,
    /// Whether approved versions go live at once.
    auto_release: bool,
}

/// Audit events a page, newest first.
const AUDIT_PAGE: i64 = 50;

/// Notices as rows.
pub(crate) fn notice_rows(notices: &[assay_core::notice::NoticeRecord]) -> Vec<NoticeRow> {
    notices
        .iter()
        .map(|n| NoticeRow {
            effective: n.effective.to_string(),
            listing: n.slug.clone().unwrap_or_default(),
            kind: n.kind.as_str(),
            summary: n.summary.clone(),
            action: n.action_required.clone().unwrap_or_default(),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub(crate) struct ShowQuery {
    done: Option<String>,
    /// Show the audit trail's events older than this one.
    before: Option<i64>,
}

/// `GET /listings/{slug}`: versions, waivers, notices and deprecations, and the audit trail a
/// page at a time (`?before=` an event's number).
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, ConsoleError> {
    let service = &state.service;
    let listing = service.listing(&viewer.who, &slug).await.or_page(&viewer, "/listings")?;
    let waivers = service.waivers(&viewer.who, &slug).await.or_page(&viewer, "/listings")?;
    let notices = service.notices(&viewer.who, Some(&slug)).await.or_page(&viewer, "/listings")?;
    let deprecations = service.deprecations(&viewer.who, Some(&slug)).await.or_page(&viewer, "/listings")?;
    let audit =
        service.timeline_page(&viewer.who, &slug, query.before, AUDIT_PAGE).await.or_page(&viewer, "/listings")?;
    let audit_older = audit.older.map(|seq| format!("/listings/{slug}?before={seq}#audit"));
    let reviewer = viewer.who.role == Role::Reviewer;
    let latest = listing.versions.last().map(|(v, _)| v.clone());
    // The rules a reviewer might waive: those the latest version's review reported.
    let mut rules = Vec::new();
    if reviewer && let Some(latest) = &latest {
        let view = service.version(&viewer.who, &slug, latest).await.or_page(&viewer, "/listings")?;
        rules = view.findings.iter().map(|f| f.finding.rule_id.clone()).collect();
        rules.sort();
        rules.dedup();
    }
    let now = service.now();
    let today = service.today();
    let live_states = [assay_core::VersionState::Approved, assay_core::VersionState::Published];
    let mut layout = viewer.layout("/listings");
    layout.flash = done_flash(query.done.as_deref());
    let page = ListingPage {
        csrf: viewer.csrf.clone(),
        name: listing.name.clone(),
        partner: listing.partner_name.clone(),
        live: listing.versions.iter().filter(|(_, s)| live_states.contains(s)).map(|(v, _)| v.clone()).collect(),
        versions: listing.versions.iter().rev().map(|(v, s)| (v.clone(), s.as_str())).collect(),
        owner: viewer.who.partner == Some(listing.partner),
        auto_release: listing.auto_release,
        can_upload_checks: viewer.who.capabilities.contains(&Capability::Checks),
        reviewer,
        waivers: waivers
            .iter()
            .map(|w| WaiverRow {
                id: w.waiver.id,
                rule: w.waiver.rule_id.clone(),
                versions: w.waiver.versions.to_string(),
                expires: when(w.waiver.expires_at),
                live: w.waiver.expires_at > now,
                approver: w.approver.clone(),
                justification: w.justification.clone(),
            })
            .collect(),
        rules,
        default_range: latest.map(|v| format!("={v}")).unwrap_or_default(),
        default_expiry: today.saturating_add(jiff::ToSpan::days(30)).to_string(),
        notices: notice_rows(&notices),
        deprecations: deprecations
            .iter()
            .map(|d| DeprecationRow {
                target: match &d.target {
                    assay_core::deprecation::DeprecationTarget::Listing { versions, .. } => versions.to_string(),
                    assay_core::deprecation::DeprecationTarget::ApiVersion(api) => format!("API {api}"),
                },
                deprecated_from: d.schedule.deprecated_from.to_string(),
                sunset: d.schedule.sunset.to_string(),
                stability: d.stability.as_str(),
            })
            .collect(),
        audit: audit
            .events
            .iter()
            .map(|e| AuditRow {
                seq: e.seq,
                at: when(e.at),
                actor: e.actor.clone(),
                action: e.action.clone(),
                subject: e.subject.clone(),
                detail: e.detail.clone(),
            })
            .collect(),
        audit_older,
        audit_paged: query.before.is_some(),
        slug,
        layout,
    };
    Ok(render(&page))
}

/// `POST /listings/{slug}/versions`: a partner submits a version — the manifest pasted or as a
/// file, and any check components.
pub(crate) async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    mut form: Multipart,
) -> Result<Response, ConsoleError> {
    let back = format!("/listings/{slug}");
    let max = state.config.max_upload_bytes;
    let read_error = |e: axum::extract::multipart::MultipartError| ApiError::multipart(&e, max);
    let (mut csrf, mut pasted, mut file, mut checks) = (String::new(), String::new(), None, Vec::new());
    while let Some(field) = form.next_field().await.map_err(read_error).or_page(&viewer, &back)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(read_error).or_page(&viewer, &back)?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "manifest" => pasted = String::from_utf8_lossy(&bytes).into_owned(),
            "manifest_file" if !bytes.is_empty() => file = Some(bytes),
            "check" if !bytes.is_empty() => checks
                .push(UploadedCheck { name: file_name.unwrap_or_else(|| "check.wasm".into()), bytes: bytes.to_vec() }),
            _ => {}
        }
    }
    viewer.check(&csrf)?;
    let manifest = if pasted.trim().is_empty() {
        let Some(file) = file else {
            return Err(ServiceError::invalid("/manifest", "paste the listing.toml or choose its file".into()))
                .or_page(&viewer, &back);
        };
        String::from_utf8(file.to_vec())
            .map_err(|_| ServiceError::invalid("/manifest", "the manifest file is not UTF-8 text".into()))
            .or_page(&viewer, &back)?
    } else {
        pasted
    };
    let record = state.service.submit(&viewer.who, &slug, &manifest, checks).await.or_page(&viewer, &back)?;
    Ok(Redirect::to(&format!("/listings/{slug}/versions/{}?done=submitted", record.version)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    csrf: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    auto_release: Option<String>,
}

/// `POST /listings/{slug}/settings`: whether approved versions go live at once.
pub(crate) async fn settings(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let page = format!("/listings/{slug}");
    let on = form.auto_release.is_some();
    state.service.set_auto_release(&viewer.who, &slug, on).await.or_page(&viewer, &page)?;
    Ok(Redirect::to(&format!("{page}?done={}", if on { "auto_release_on" } else { "auto_release_off" }))
        .into_response())
}
