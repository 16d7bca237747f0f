//! Webhook events: the body of every message an endpoint receives.
//!
//! Every message is an [`Envelope`]: `{"type", "timestamp", "data"}`, signed per Standard
//! Webhooks. Each event type has one data schema, listed in the OpenAPI document under
//! `components.schemas` (and as JSON Schema files in `docs/events/`). Payloads stay small: they
//! name the objects and carry `links` (paths under the API's base URL) to read them whole.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every event type, with the schema of its `data`.
pub const EVENTS: &[(&str, &str, &str)] = &[
    ("listing.version.submitted", "VersionSubmitted", "A partner submitted a version."),
    ("listing.version.reviewed", "VersionReviewed", "The automated review recorded a verdict."),
    ("listing.version.decided", "VersionDecided", "A reviewer approved, sent back or rejected a version."),
    ("listing.version.certified", "VersionDecided", "A reviewer certified an approved version."),
    ("listing.version.uncertified", "VersionUncertified", "A version lost its certification."),
    ("listing.version.deprecated", "VersionStateChanged", "A version was deprecated on its schedule."),
    ("listing.version.retired", "VersionStateChanged", "A version reached its sunset."),
    ("listing.version.enforced", "VersionStateChanged", "An enforced rule pack sent a live version back."),
    ("notice.published", "NoticePublished", "A change notice was published."),
    ("deprecation.scheduled", "DeprecationScheduled", "A deprecation was scheduled."),
    ("deprecation.reminder", "DeprecationReminder", "A deprecation's sunset is near (30, 7 and 1 days)."),
    ("listing.version.withdrawn", "VersionStateChanged", "The partner withdrew a version."),
    ("listing.version.published", "VersionStateChanged", "The partner released an approved version."),
    ("exception.requested", "ExceptionEvent", "A partner asked for an exception to a finding."),
    ("exception.expiring", "ExceptionEvent", "A granted exception lapses soon (7 days and 1 day before)."),
    (
        "exception.decided",
        "ExceptionEvent",
        "Staff granted (or granted once, pending a second reviewer) or denied an exception.",
    ),
    ("appeal.filed", "AppealEvent", "A partner appealed a rejection or a request for changes."),
    ("appeal.decided", "AppealEvent", "A second reviewer upheld or overturned an appealed decision."),
    ("listing.version.message", "MessageEvent", "Staff or the partner wrote on a version's conversation."),
    ("listing.version.held", "HoldEvent", "A reviewer put a version on hold, with the reason."),
    ("listing.version.hold_released", "HoldEvent", "A version's hold was released; its review goes on."),
    ("webhook.test", "TestEvent", "The endpoint's owner asked for a test message."),
];

/// The body of every webhook message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Envelope<T> {
    /// The event type, e.g. `listing.version.decided`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (RFC 3339).
    #[schema(format = "date-time")]
    pub timestamp: String,
    /// What happened; its schema depends on `type`.
    pub data: T,
}

/// Links to a version and its listing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionLinks {
    /// `GET` it: the version, its findings and verdict.
    pub version: String,
    /// `GET` it: the listing.
    pub listing: String,
}

impl VersionLinks {
    /// The links for `version` of `listing`.
    pub fn new(listing: &str, version: &str) -> VersionLinks {
        VersionLinks { version: crate::version_url(listing, version), listing: format!("/v1/listings/{listing}") }
    }
}

/// `listing.version.submitted`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionSubmitted {
    /// The listing's slug.
    pub listing: String,
    /// The version submitted.
    pub version: String,
    /// Who submitted it (`Name <email> (organisation)` or a service account).
    pub submitted_by: String,
    /// Where to read more.
    pub links: VersionLinks,
}

/// The rule pack a review ran.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// `listing.version.reviewed`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionReviewed {
    /// The listing's slug.
    pub listing: String,
    /// The version reviewed.
    pub version: String,
    /// `pass`, `fail` or `error`.
    #[schema(pattern = "^(pass|fail|error)$")]
    pub verdict: String,
    /// The state the version is in after the review (`awaiting_review` or `changes_requested`).
    pub state: String,
    /// Checks that ran.
    pub checks: u32,
    /// Findings they reported.
    pub findings: u32,
    /// The rule pack.
    pub pack: PackRef,
    /// Where to read the findings.
    pub links: VersionLinks,
}

/// `listing.version.decided` and `listing.version.certified`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionDecided {
    /// The listing's slug.
    pub listing: String,
    /// The version decided on.
    pub version: String,
    /// `approve`, `request_changes`, `reject` or `certify`.
    #[schema(pattern = "^(approve|request_changes|reject|certify)$")]
    pub action: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// The reviewer who decided (`Name <email> (organisation)`).
    pub decided_by: String,
    /// The reviewer's note to the partner.
    pub note: String,
    /// Where to read more.
    pub links: VersionLinks,
}

/// `listing.version.deprecated`, `listing.version.retired` and `listing.version.enforced`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionStateChanged {
    /// The listing's slug.
    pub listing: String,
    /// The version.
    pub version: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// Why (the schedule, or the enforced pack and the rules that fail).
    pub reason: String,
    /// Who or what moved it (`scheduler`, the enforcing worker).
    pub by: String,
    /// Where to read more.
    pub links: VersionLinks,
}

/// `listing.version.uncertified`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VersionUncertified {
    /// The listing's slug.
    pub listing: String,
    /// The version.
    pub version: String,
    /// Why (the staff decision's rationale).
    pub reason: String,
    /// Who decided.
    pub by: String,
    /// Where to read more.
    pub links: VersionLinks,
}

/// `exception.requested` and `exception.decided`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExceptionEvent {
    /// The request's id.
    pub exception: i64,
    /// The listing's slug.
    pub listing: String,
    /// The version whose finding it is.
    pub version: String,
    /// The rule.
    pub rule_id: String,
    /// `requested`, `confirming` (granted once; a second reviewer confirms), `live`, `denied`
    /// or `expiring` (a reminder that it lapses at `until`).
    pub status: String,
    /// The versions asked for, or granted.
    pub versions: String,
    /// Until when it is asked for, or granted (RFC 3339).
    #[schema(format = "date-time")]
    pub until: String,
    /// Who asked, or decided.
    pub by: String,
    /// The justification, or the decision's rationale.
    pub why: String,
    /// Where to read more.
    pub links: ExceptionLinks,
}

/// `appeal.filed` and `appeal.decided`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AppealEvent {
    /// The appeal's id.
    pub appeal: i64,
    /// The listing's slug.
    pub listing: String,
    /// The version.
    pub version: String,
    /// The decision appealed: `reject` or `request_changes`.
    pub decision: String,
    /// `open`, `upheld` or `overturned`.
    pub status: String,
    /// The version's state now (`approved` once an appeal is overturned).
    pub state: String,
    /// Who appealed, or heard it.
    pub by: String,
    /// The statement, or the hearing's rationale.
    pub why: String,
    /// Where to read more.
    pub links: AppealLinks,
}

/// Links to an appeal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AppealLinks {
    /// `GET` it: the appeal and its outcome.
    pub appeal: String,
    /// `GET` it: the version.
    pub version: String,
}

/// `listing.version.message`: never a staff's internal note.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MessageEvent {
    /// The message's id.
    pub message: i64,
    /// The listing's slug.
    pub listing: String,
    /// The version.
    pub version: String,
    /// Who wrote it.
    pub author: String,
    /// Whether the author is staff.
    pub staff: bool,
    /// Plain text.
    pub body: String,
    /// Where to read the conversation.
    pub links: ConversationLinks,
}

/// Links to a version's conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConversationLinks {
    /// `GET` it: messages, holds and appeals.
    pub conversation: String,
    /// `GET` it: the version.
    pub version: String,
}

impl ConversationLinks {
    /// The links for `version` of `listing`.
    pub fn new(listing: &str, version: &str) -> ConversationLinks {
        let version = crate::version_url(listing, version);
        ConversationLinks { conversation: format!("{version}/conversation"), version }
    }
}

/// `listing.version.held` and `listing.version.hold_released`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HoldEvent {
    /// The hold's id.
    pub hold: i64,
    /// The listing's slug.
    pub listing: String,
    /// The version.
    pub version: String,
    /// Why the review waits.
    pub reason: String,
    /// Who placed, or released, it.
    pub by: String,
    /// Why it was released (`null` when placed).
    pub note: Option<String>,
    /// Where to read the conversation.
    pub links: ConversationLinks,
}

/// Links to an exception request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExceptionLinks {
    /// `GET` it: the request and what became of it.
    pub exception: String,
    /// `GET` it: the version, its findings and verdict.
    pub version: String,
}

/// Link to a notice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NoticeLinks {
    /// `GET` it.
    pub notice: String,
}

/// `notice.published`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NoticePublished {
    /// The notice's id.
    pub notice: i64,
    /// `breaking`, `deprecation`, `removal`, `additive` or `fix`.
    pub kind: String,
    /// What changes.
    pub summary: String,
    /// The date it takes effect.
    #[schema(format = "date")]
    pub effective: String,
    /// What partners must do.
    pub action_required: String,
    /// The listing it is about; absent for a platform notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// Who published it.
    pub published_by: String,
    /// Where to read it.
    pub links: NoticeLinks,
}

/// What a deprecation retires: versions of a listing, or a platform API version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeprecationTargetRef {
    /// The listing, for a listing's versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// The semver range of its versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    /// The platform API version, for an API deprecation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

/// `deprecation.scheduled`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeprecationScheduled {
    /// The schedule's id.
    pub deprecation: i64,
    /// What it retires.
    pub target: DeprecationTargetRef,
    /// `alpha`, `beta` or `stable`: how much notice it needs.
    pub stability: String,
    /// When it was announced.
    #[schema(format = "date")]
    pub announced: String,
    /// From when the versions are deprecated.
    #[schema(format = "date")]
    pub deprecated_from: String,
    /// When they are retired.
    #[schema(format = "date")]
    pub sunset: String,
    /// Who scheduled it.
    pub scheduled_by: String,
    /// The notice announcing it.
    pub links: NoticeLinks,
}

/// `deprecation.reminder`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeprecationReminder {
    /// The schedule's id.
    pub deprecation: i64,
    /// What it retires.
    pub target: DeprecationTargetRef,
    /// When.
    #[schema(format = "date")]
    pub sunset: String,
    /// Days left.
    pub days_to_sunset: i64,
    /// Which reminder this is (`30 days`, `7 days`, `1 days`).
    pub reminder: String,
    /// The notice announcing it.
    pub links: NoticeLinks,
}

/// Link to an endpoint's delivery log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TestLinks {
    /// `GET` it: the endpoint's delivery log.
    pub deliveries: String,
}

/// `webhook.test`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TestEvent {
    /// The endpoint it was sent to.
    pub endpoint: i64,
    /// Who asked for it.
    pub requested_by: String,
    /// Where its delivery shows.
    pub links: TestLinks,
}
