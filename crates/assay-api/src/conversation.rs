//! Appeals, the conversation on a version, and holds.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/listings/{slug}/versions/{version}/appeals`: a partner appeals the reviewer
/// decision that rejected the version or requested changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAppeal {
    /// Why the decision should change; a reviewer other than the one who decided reads it.
    #[schema(
        example = "the privacy policy was at /privacy all along; see the attached link",
        min_length = 1,
        max_length = 10000,
        pattern = r"\S"
    )]
    pub statement: String,
}

/// How an appeal is decided.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AppealAction {
    /// The decision stands.
    Uphold,
    /// The decision is overturned: the version is approved.
    Overturn,
}

/// `POST /v1/appeals/{id}/decision`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideAppeal {
    /// Uphold or overturn.
    pub action: AppealAction,
    /// Why; the partner reads it.
    #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
    pub rationale: String,
}

/// An appeal and its outcome.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Appeal {
    /// Its id.
    pub id: i64,
    /// The listing.
    pub listing: String,
    /// The listing's partner.
    pub partner: String,
    /// The version.
    pub version: String,
    /// The decision appealed: `reject` or `request_changes`.
    pub decision: String,
    /// Who made it; they do not hear the appeal.
    pub decided_by: String,
    /// Their note.
    pub decision_note: String,
    /// The partner's statement.
    pub statement: String,
    /// Who appealed.
    pub appealed_by: String,
    /// When (RFC 3339).
    pub appealed_at: String,
    /// `open`, `upheld` or `overturned`.
    pub status: String,
    /// Who heard it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard_by: Option<String>,
    /// Why they decided as they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The version.
    pub version_url: String,
}

/// `POST /v1/listings/{slug}/versions/{version}/messages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// Plain text.
    #[schema(
        example = "The test account is reviewer@example.com; the password is in the vault entry.",
        min_length = 1,
        max_length = 10000,
        pattern = r"\S"
    )]
    pub body: String,
    /// Staff only: a note partners never see.
    #[serde(default)]
    pub internal: bool,
}

/// A message on a version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionMessage {
    /// Its id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// Whether the author is staff.
    pub staff: bool,
    /// A staff note partners never see.
    pub internal: bool,
    /// Plain text.
    pub body: String,
    /// When (RFC 3339).
    pub at: String,
}

/// `POST /v1/listings/{slug}/versions/{version}/hold`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceHold {
    /// Why the review waits, in words the partner reads.
    #[schema(example = "waiting for a test account", min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// A hold on a version: its review waits (and its clock stops) until it is released.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct HoldDto {
    /// Its id.
    pub id: i64,
    /// Why.
    pub reason: String,
    /// Who placed it.
    pub placed_by: String,
    /// When (RFC 3339).
    pub placed_at: String,
    /// Who released it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<String>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
}

/// A version's conversation: its messages and holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    /// Messages, oldest first (staff also read internal notes).
    pub messages: Vec<VersionMessage>,
    /// Holds, oldest first; the last holds if it has no `released_at`.
    pub holds: Vec<HoldDto>,
    /// Appeals of the version's decisions, newest first.
    pub appeals: Vec<Appeal>,
}
