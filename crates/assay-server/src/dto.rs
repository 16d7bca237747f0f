//! The JSON shapes of the API: what goes over the wire, converted at this edge from the
//! service's types. Clients (the CLI) deserialize the same types.

use assay_core::listing::{ListingRecord, QueueEntry, VersionRecord};
use assay_core::waiver::WaiverRecord;
use assay_service::{FindingView, VersionView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Seconds since the Unix epoch as RFC 3339.
pub fn timestamp(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default()
}

/// `POST /v1/listings`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListing {
    /// The listing's stable id: 3–64 of `a-z`, `0-9`, `-`, starting with a letter.
    #[schema(example = "acme-stock-sync")]
    pub slug: String,
    /// Display name.
    #[schema(example = "Acme Stock Sync")]
    pub name: String,
}

/// A listing and its versions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Listing {
    /// Its slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The partner that owns it.
    pub partner: String,
    /// Its versions, oldest first.
    pub versions: Vec<VersionSummary>,
    /// This resource.
    pub url: String,
}

/// A version in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    /// The semver version.
    pub version: String,
    /// Its lifecycle state.
    pub state: String,
    /// The version's resource.
    pub url: String,
}

impl From<&ListingRecord> for Listing {
    fn from(l: &ListingRecord) -> Self {
        Listing {
            slug: l.slug.clone(),
            name: l.name.clone(),
            partner: l.partner_name.clone(),
            versions: l
                .versions
                .iter()
                .map(|(version, state)| VersionSummary {
                    version: version.clone(),
                    state: state.as_str().to_owned(),
                    url: version_url(&l.slug, version),
                })
                .collect(),
            url: format!("/v1/listings/{}", l.slug),
        }
    }
}

/// The path of a version's resource.
pub fn version_url(slug: &str, version: &str) -> String {
    format!("/v1/listings/{slug}/versions/{version}")
}

/// The answer to a submission: where to follow the review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    /// The listing.
    pub slug: String,
    /// The version, as the manifest declares it.
    pub version: String,
    /// `submitted`: the review runs in the background.
    pub state: String,
    /// SHA-256 of the manifest, hex.
    pub digest: String,
    /// Poll this for the review.
    pub url: String,
}

impl From<&VersionRecord> for Submitted {
    fn from(r: &VersionRecord) -> Self {
        Submitted {
            slug: r.slug.clone(),
            version: r.version.clone(),
            state: r.state.as_str().to_owned(),
            digest: r.digest.clone(),
            url: version_url(&r.slug, &r.version),
        }
    }
}

/// A listing version with its latest review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    /// The listing.
    pub slug: String,
    /// The semver version.
    pub version: String,
    /// Lifecycle state: `submitted`, `checking`, `changes_requested`, `awaiting_review`,
    /// `approved`, `published`, `deprecated`, `retired`, `rejected` or `withdrawn`.
    pub state: String,
    /// Whether a reviewer certified it.
    pub certified: bool,
    /// Bumped by every state change (also the `ETag`).
    pub revision: i64,
    /// SHA-256 of the manifest, hex.
    pub digest: String,
    /// `pass`, `fail` or `error` as of now (live waivers applied); `null` until reviewed.
    pub verdict: Option<String>,
    /// The latest review; `null` until one finished.
    pub review: Option<ReviewSummary>,
    /// Every check of the latest review with its outcome and resource usage.
    pub checks: Vec<CheckResult>,
    /// Every finding of the latest review, most severe first.
    pub findings: Vec<FindingDto>,
    /// Reviewer decisions, oldest first.
    pub decisions: Vec<DecisionDto>,
    /// This resource.
    pub url: String,
}

/// Which pack reviewed a version, when, and what it decided then.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewSummary {
    /// The rule pack's name.
    pub pack: String,
    /// The rule pack's version.
    pub pack_version: String,
    /// When the review finished (RFC 3339).
    pub finished_at: String,
    /// The verdict recorded when it finished (before any later waiver).
    pub recorded_verdict: String,
}

/// One check run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// The rule id (or the partner check's id).
    pub check_id: String,
    /// The component's SHA-256, hex.
    pub digest: String,
    /// The rule's version, when it could describe itself.
    pub rule_version: Option<String>,
    /// A platform rule (`true`) or the partner's own check.
    pub platform: bool,
    /// An integration check (world `integration-check`).
    #[serde(default)]
    pub integration: bool,
    /// `passed`, `findings`, `trapped`, `timed_out`, `out_of_memory`, `output_too_large`,
    /// `invalid_plugin`, `rule_error` or `budget_exceeded`.
    pub outcome: String,
    /// What to do about an outcome other than `passed` or `findings`.
    pub message: Option<String>,
    /// What it used.
    pub usage: Usage,
    /// An integration check's platform calls, in order (empty for rules).
    #[serde(default)]
    pub transcript: Vec<PlatformCallDto>,
}

/// One platform call of an integration check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlatformCallDto {
    /// The platform operation (a WIT function of `assay:plugin/platform`), e.g. `list-orders`.
    pub operation: String,
    /// The scope it needs, e.g. `read_orders`.
    pub scope: String,
    /// `ok`, `forbidden`, `not_found`, `invalid` or `budget_exhausted`.
    pub outcome: String,
    /// Bytes sent in its arguments.
    pub bytes_out: u64,
}

impl From<&assay_core::integration::PlatformCall> for PlatformCallDto {
    fn from(c: &assay_core::integration::PlatformCall) -> Self {
        PlatformCallDto {
            operation: c.operation.clone(),
            scope: c.scope.clone(),
            outcome: c.outcome.as_str().to_owned(),
            bytes_out: c.bytes_out,
        }
    }
}

/// Resources one check used.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// Wall time, microseconds.
    pub wall_time_us: u64,
    /// Fuel consumed (deterministic: the same inputs use the same fuel).
    pub fuel: Option<u64>,
    /// Peak linear memory over all memories, bytes.
    pub peak_memory_bytes: u64,
    /// Bytes of findings returned.
    pub output_bytes: u64,
    /// Log bytes written.
    pub log_bytes: u64,
    /// Platform calls made (integration checks).
    #[serde(default)]
    pub platform_calls: u64,
    /// Bytes sent to the platform (integration checks).
    #[serde(default)]
    pub bytes_out: u64,
}

/// One finding.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FindingDto {
    /// The rule that reported it.
    pub rule_id: String,
    /// The check run that reported it.
    pub check_id: String,
    /// `info`, `warning`, `error` or `blocker`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// A JSON Pointer into the manifest.
    pub pointer: String,
    /// How to fix it.
    pub remediation: Option<String>,
    /// Where to read more.
    pub help_url: String,
    /// `platform` or `partner`.
    pub author: String,
    /// The id of the live waiver exempting it, if any.
    pub waived_by: Option<i64>,
}

impl From<&FindingView> for FindingDto {
    fn from(f: &FindingView) -> Self {
        FindingDto {
            rule_id: f.finding.rule_id.clone(),
            check_id: f.check_id.clone(),
            severity: f.finding.severity.as_str().to_owned(),
            message: f.finding.message.clone(),
            pointer: f.finding.pointer.clone(),
            remediation: f.finding.remediation.clone(),
            help_url: f.finding.help_url.clone(),
            author: if f.platform { "platform" } else { "partner" }.to_owned(),
            waived_by: f.waived_by,
        }
    }
}

/// A reviewer's decision as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionDto {
    /// Who decided (the audit log's name for their token).
    pub actor: String,
    /// `approve`, `request_changes`, `reject` or `certify`.
    pub action: String,
    /// Why.
    pub note: String,
}

impl From<&VersionView> for Version {
    fn from(v: &VersionView) -> Self {
        let r = &v.record;
        let checks = v
            .review
            .iter()
            .flat_map(|review| review.runs.iter().zip(&review.rule_versions))
            .map(|(run, rule_version)| CheckResult {
                check_id: run.check_id.clone(),
                digest: run.digest.clone(),
                rule_version: rule_version.clone(),
                platform: run.platform,
                integration: run.integration,
                outcome: run.outcome.as_str().to_owned(),
                message: run.message.clone(),
                usage: Usage {
                    wall_time_us: u64::try_from(run.usage.wall_time.as_micros()).unwrap_or(u64::MAX),
                    fuel: run.usage.fuel,
                    peak_memory_bytes: run.usage.peak_memory,
                    output_bytes: run.usage.output_bytes,
                    log_bytes: run.usage.log_bytes,
                    platform_calls: run.usage.platform_calls,
                    bytes_out: run.usage.bytes_out,
                },
                transcript: run.transcript.iter().map(PlatformCallDto::from).collect(),
            })
            .collect();
        Version {
            slug: r.slug.clone(),
            version: r.version.clone(),
            state: r.state.as_str().to_owned(),
            certified: r.certified,
            revision: r.revision,
            digest: r.digest.clone(),
            verdict: v.verdict.map(|v| v.as_str().to_owned()),
            review: v.review.as_ref().map(|review| ReviewSummary {
                pack: review.pack_name.clone(),
                pack_version: review.pack_version.clone(),
                finished_at: timestamp(review.finished_at),
                recorded_verdict: review.verdict.as_str().to_owned(),
            }),
            checks,
            findings: v.findings.iter().map(FindingDto::from).collect(),
            decisions: v
                .decisions
                .iter()
                .map(|d| DecisionDto { actor: d.actor.clone(), action: d.action.clone(), note: d.note.clone() })
                .collect(),
            url: version_url(&r.slug, &r.version),
        }
    }
}

/// A version waiting for a reviewer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueueItem {
    /// The listing.
    pub slug: String,
    /// The version.
    pub version: String,
    /// The owning partner.
    pub partner: String,
    /// Waiting since (RFC 3339).
    pub waiting_since: String,
    /// Waiting for this many seconds.
    pub waiting_secs: i64,
    /// The latest review's verdict.
    pub verdict: Option<String>,
    /// The version's resource.
    pub url: String,
}

impl QueueItem {
    /// The entry as of `now`.
    pub fn new(e: &QueueEntry, now: i64) -> Self {
        QueueItem {
            slug: e.slug.clone(),
            version: e.version.clone(),
            partner: e.partner_name.clone(),
            waiting_since: timestamp(e.waiting_since),
            waiting_secs: (now - e.waiting_since).max(0),
            verdict: e.verdict.map(|v| v.as_str().to_owned()),
            url: version_url(&e.slug, &e.version),
        }
    }
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    /// Approve the version.
    Approve,
    /// Send it back to the partner.
    RequestChanges,
    /// Refuse it.
    Reject,
    /// Certify an approved version (the partner must hold `certify`).
    Certify,
}

/// `POST /v1/listings/{slug}/versions/{version}/decisions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decide {
    /// What to do.
    pub action: DecisionAction,
    /// Why (required, shown to the partner and kept in the audit log).
    pub note: String,
}

/// `POST /v1/waivers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWaiver {
    /// The listing.
    pub slug: String,
    /// The rule it exempts.
    #[schema(example = "urls.https")]
    pub rule_id: String,
    /// The versions it covers, a semver requirement.
    #[schema(example = ">=1.4.0, <2.0.0")]
    pub versions: String,
    /// Why the exception is acceptable.
    pub justification: String,
    /// When it stops covering (RFC 3339); must be in the future.
    #[schema(example = "2027-03-31T00:00:00Z")]
    pub expires_at: String,
}

/// `POST /v1/listings/{slug}/waivers/{id}/expire`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpireWaiver {
    /// Why the waiver ends now.
    #[schema(example = "the CDN serves https now")]
    pub note: String,
}

/// A waiver.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Waiver {
    /// Its id (findings name it in `waived_by`).
    pub id: i64,
    /// The listing.
    pub slug: String,
    /// The rule it exempts.
    pub rule_id: String,
    /// The versions it covers.
    pub versions: String,
    /// Why.
    pub justification: String,
    /// Who granted it.
    pub approver: String,
    /// When it was granted (RFC 3339).
    pub created_at: String,
    /// When it stops covering (RFC 3339).
    pub expires_at: String,
    /// Whether it covers findings now.
    pub live: bool,
}

impl Waiver {
    /// The waiver as of `now`.
    pub fn new(w: &WaiverRecord, now: i64) -> Self {
        Waiver {
            id: w.waiver.id,
            slug: w.slug.clone(),
            rule_id: w.waiver.rule_id.clone(),
            versions: w.waiver.versions.to_string(),
            justification: w.justification.clone(),
            approver: w.approver.clone(),
            created_at: timestamp(w.created_at),
            expires_at: timestamp(w.waiver.expires_at),
            live: now < w.waiver.expires_at,
        }
    }
}

/// The multipart form of `POST /v1/listings/{slug}/versions`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the fields as a stream
pub struct SubmitForm {
    /// The `listing.toml`.
    #[schema(format = Binary, content_media_type = "application/toml")]
    manifest: String,
    /// Partner check components (`.wasm`), zero or more.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    check: Vec<String>,
}

/// `GET /readyz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The rule pack reviews run, `name@version`.
    pub rule_pack: String,
    /// Review jobs waiting or running.
    pub pending_reviews: i64,
}

/// A change notice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Notice {
    /// Its id.
    pub id: i64,
    /// The listing it is about; absent for a platform notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// `breaking`, `feature`, `fix`, `security` or `deprecation`.
    pub kind: String,
    /// What changes.
    pub summary: String,
    /// The day it takes effect (`YYYY-MM-DD`, UTC).
    pub effective: String,
    /// What the audience has to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_required: Option<String>,
    /// `merchants`, `partners` or `everyone`.
    pub audience: String,
    /// Who published it.
    pub author: String,
    /// When (RFC 3339).
    pub published_at: String,
}

impl From<&assay_core::notice::NoticeRecord> for Notice {
    fn from(n: &assay_core::notice::NoticeRecord) -> Self {
        Notice {
            id: n.id,
            listing: n.slug.clone(),
            kind: n.kind.to_string(),
            summary: n.summary.clone(),
            effective: n.effective.to_string(),
            action_required: n.action_required.clone(),
            audience: n.audience.to_string(),
            author: n.author.clone(),
            published_at: timestamp(n.created_at),
        }
    }
}

/// `POST /v1/listings/{slug}/notices` and `POST /v1/notices`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNotice {
    /// `breaking` (needs the policy's lead time, 30 days by default), `feature`, `fix`,
    /// `security` or `deprecation`.
    pub kind: String,
    /// What changes, 1 to 500 characters.
    pub summary: String,
    /// The day it takes effect, `YYYY-MM-DD` (UTC).
    pub effective: String,
    /// What the audience has to do; required for `breaking` and `deprecation`.
    #[serde(default)]
    pub action_required: Option<String>,
    /// `merchants` (the default for a listing's notice), `partners` (the default for a
    /// platform notice) or `everyone`.
    #[serde(default)]
    pub audience: Option<String>,
}

/// A deprecation schedule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Deprecation {
    /// Its id.
    pub id: i64,
    /// The listing whose versions it deprecates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// The versions, a semver range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    /// Or the platform API version it deprecates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `ga`, `beta` or `alpha`.
    pub stability: String,
    /// When it was announced (`YYYY-MM-DD`).
    pub announced: String,
    /// From when it is deprecated.
    pub deprecated_from: String,
    /// When it is retired.
    pub sunset: String,
    /// `announced`, `deprecated` or `sunset`, today.
    pub phase: String,
    /// Days from today to the sunset (negative after it).
    pub days_to_sunset: i64,
    /// The notice that announced it: `/v1/notices/{id}`.
    pub notice: String,
}

impl Deprecation {
    /// The schedule as of `today`.
    pub fn new(d: &assay_core::deprecation::DeprecationRecord, today: jiff::civil::Date) -> Self {
        use assay_core::deprecation::DeprecationTarget;
        use assay_core::deprecation::Phase;
        let (listing, versions, api_version) = match &d.target {
            DeprecationTarget::Listing { slug, versions } => (Some(slug.clone()), Some(versions.to_string()), None),
            DeprecationTarget::ApiVersion(api) => (None, None, Some(api.clone())),
        };
        Deprecation {
            id: d.id,
            listing,
            versions,
            api_version,
            stability: d.stability.to_string(),
            announced: d.schedule.announced.to_string(),
            deprecated_from: d.schedule.deprecated_from.to_string(),
            sunset: d.schedule.sunset.to_string(),
            phase: match d.schedule.phase(today) {
                Phase::Announced => "announced",
                Phase::Deprecated => "deprecated",
                Phase::Sunset => "sunset",
            }
            .to_owned(),
            days_to_sunset: d.schedule.days_to_sunset(today),
            notice: format!("/v1/notices/{}", d.notice_id),
        }
    }
}

/// `POST /v1/deprecations`: a range of a listing's versions (`listing` + `versions`) or a
/// platform API version (`api_version`; staff only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeprecation {
    /// The listing whose versions are deprecated.
    #[serde(default)]
    pub listing: Option<String>,
    /// The versions, a semver range (`<2.0.0`).
    #[serde(default)]
    pub versions: Option<String>,
    /// Or a platform API version (`2026-04`).
    #[serde(default)]
    pub api_version: Option<String>,
    /// `ga` (default; 12 months' notice by default), `beta` (9) or `alpha` (none).
    #[serde(default)]
    pub stability: Option<String>,
    /// When it is announced, `YYYY-MM-DD`; default today, never in the past.
    #[serde(default)]
    pub announced: Option<String>,
    /// From when it is deprecated, `YYYY-MM-DD`.
    pub deprecated_from: String,
    /// When it is retired, `YYYY-MM-DD`.
    pub sunset: String,
    /// The announcing notice's summary.
    pub summary: String,
    /// What the audience has to do before the sunset.
    pub action_required: String,
}

/// `GET /v1/standing`: where the caller's listings stand, and every fix-by date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Standing {
    /// Per listing.
    pub listings: Vec<ListingStanding>,
    /// Every date by which something must be fixed or done, soonest first.
    pub fix_by: Vec<FixBy>,
}

/// One listing's standing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingStanding {
    /// The listing.
    pub listing: String,
    /// Versions in front of merchants.
    pub live: Vec<String>,
    /// Versions sent back, with the rules that block them.
    pub blocked: Vec<BlockedVersion>,
    /// Deprecated versions and their sunsets.
    pub deprecated: Vec<DeprecatedVersion>,
    /// Versions on their way (submitted, checking, awaiting review).
    pub pending: Vec<String>,
}

/// A version sent back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockedVersion {
    /// The version.
    pub version: String,
    /// The rules whose findings block it.
    pub rules: Vec<String>,
}

/// A deprecated version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeprecatedVersion {
    /// The version.
    pub version: String,
    /// Its sunset (`YYYY-MM-DD`), when a schedule gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
}

/// Something to fix or do by a date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FixBy {
    /// The date (`YYYY-MM-DD`).
    pub date: String,
    /// The listing; absent for the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// `waiver`, `sunset` or `notice`.
    pub kind: String,
    /// What to do.
    pub what: String,
}

impl From<&assay_service::Standing> for Standing {
    fn from(s: &assay_service::Standing) -> Self {
        Standing {
            listings: s
                .listings
                .iter()
                .map(|l| ListingStanding {
                    listing: l.slug.clone(),
                    live: l.live.clone(),
                    blocked: l
                        .blocked
                        .iter()
                        .map(|(version, rules)| BlockedVersion { version: version.clone(), rules: rules.clone() })
                        .collect(),
                    deprecated: l
                        .deprecated
                        .iter()
                        .map(|(version, sunset)| DeprecatedVersion {
                            version: version.clone(),
                            sunset: sunset.map(|d| d.to_string()),
                        })
                        .collect(),
                    pending: l.pending.clone(),
                })
                .collect(),
            fix_by: s
                .fix_by
                .iter()
                .map(|f| FixBy {
                    date: f.date.to_string(),
                    listing: f.listing.clone(),
                    kind: f.kind.to_owned(),
                    what: f.what.clone(),
                })
                .collect(),
        }
    }
}

/// One event of a listing's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineEvent {
    /// When (RFC 3339).
    pub at: String,
    /// Who (`token:N`, `worker`, `scheduler`).
    pub actor: String,
    /// What, e.g. `version.submit`, `version.review`, `version.approve`, `waiver.grant`,
    /// `notice.publish`, `deprecation.schedule`, `version.retire`.
    pub action: String,
    /// The version, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Details: a decision's note, a verdict, a schedule's dates.
    pub detail: String,
}

impl From<&assay_core::audit::AuditEvent> for TimelineEvent {
    fn from(e: &assay_core::audit::AuditEvent) -> Self {
        TimelineEvent {
            at: timestamp(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            version: e.subject.split_once('@').map(|(_, v)| v.to_owned()),
            detail: e.detail.clone(),
        }
    }
}
