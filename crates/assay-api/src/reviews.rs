//! The reviewers' side: the queue, decisions and waivers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// Its place in the whole queue, longest-waiting first (1 is next).
    pub position: i64,
    /// The reviewer who claimed it or was assigned it.
    pub assignee: Option<String>,
    /// Why it is on hold, if it is.
    pub hold: Option<String>,
    /// Seconds on hold since it started waiting (they do not count against the target).
    pub held_secs: i64,
    /// When its review is due: the review target in business days after it started waiting,
    /// plus its time on hold (RFC 3339).
    pub due_at: String,
    /// Seconds until then; negative once it is past the target.
    pub time_left_secs: i64,
    /// The version's resource.
    pub url: String,
}

/// `PUT /v1/listings/{slug}/versions/{version}/assignee`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignReview {
    /// `me` to claim it (refused if another reviewer has it), or a reviewer's e-mail address to
    /// give it to them.
    #[schema(example = "me", min_length = 1)]
    pub reviewer: String,
}

/// Who reviews a version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    /// The reviewer, as the audit log names them.
    pub assignee: String,
}

/// Where a version stands in the review queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct QueuePlace {
    /// 1 is next.
    pub position: i64,
    /// How many versions wait in all.
    pub waiting: i64,
    /// When its review is expected (RFC 3339): the review target, later by any time on hold.
    pub expected_by: String,
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
    /// Why: shown to the partner and kept in the audit log. Required; a decision without one is
    /// refused with `note_required`.
    #[serde(default)]
    #[schema(required = true, min_length = 1, pattern = r"\S")]
    pub note: String,
}

/// A partner's own move on its version.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MoveAction {
    /// Take the version out of review (or an approved one off the path to release).
    Withdraw,
    /// Put an approved version live (`approved → published`).
    Release,
    /// Make this earlier approved version live again: every newer approved or live version is
    /// withdrawn, and this one published if it was only approved.
    Rollback,
}

/// `POST /v1/listings/{slug}/versions/{version}/moves`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveVersion {
    /// What to do.
    pub action: MoveAction,
    /// Why (a withdrawal's reason; kept in the audit log).
    #[serde(default)]
    pub note: String,
}

/// `POST /v1/waivers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWaiver {
    /// The listing.
    #[schema(min_length = 3, max_length = 64, pattern = r"^[a-z][a-z0-9-]*[a-z0-9]$")]
    pub slug: String,
    /// The rule it exempts.
    #[schema(example = "urls.https", min_length = 1, pattern = r"\S")]
    pub rule_id: String,
    /// The versions it covers, a semver requirement.
    #[schema(example = ">=1.4.0, <2.0.0")]
    pub versions: String,
    /// Why the exception is acceptable.
    pub justification: String,
    /// When it stops covering (RFC 3339); must be in the future.
    #[schema(example = "2027-03-31T00:00:00Z", format = DateTime)]
    pub expires_at: String,
}

/// `POST /v1/listings/{slug}/waivers/{id}/expire`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpireWaiver {
    /// Why the waiver ends now.
    #[schema(example = "the CDN serves https now", min_length = 1, pattern = r"\S")]
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
