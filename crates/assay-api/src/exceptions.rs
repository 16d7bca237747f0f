//! Exception requests and the exception register.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/listings/{slug}/versions/{version}/exceptions`: a partner asks for an exception to
/// one of the version's findings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestException {
    /// The rule whose finding it is about; it must have reported one on this version.
    #[schema(example = "urls.https", min_length = 1, pattern = r"\S")]
    pub rule_id: String,
    /// The versions it should cover, a semver range that includes this version (default:
    /// this version only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = ">=1.4.0, <1.5.0")]
    pub versions: Option<String>,
    /// Why the finding is acceptable for now.
    #[schema(example = "the CDN moves to https in March; the migration is booked", min_length = 1, pattern = r"\S")]
    pub justification: String,
    /// Until when (RFC 3339), within the platform's maximum (180 days by default).
    #[schema(example = "2027-03-31T00:00:00Z", format = DateTime)]
    pub expires_at: String,
}

/// What staff decide.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionAction {
    /// Grant it (a blocker's exception may need a second reviewer to confirm).
    Grant,
    /// Deny it.
    Deny,
}

/// `POST /v1/exceptions/{id}/decision`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideException {
    /// Grant or deny.
    pub action: ExceptionAction,
    /// Why; the partner reads it.
    #[schema(min_length = 1, pattern = r"\S")]
    pub rationale: String,
    /// A grant for fewer versions than asked (a semver range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    /// A grant shorter than asked (RFC 3339); never later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A first grant waiting for a second reviewer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FirstGrant {
    /// Who granted it first.
    pub by: String,
    /// Why.
    pub rationale: String,
}

/// An exception request and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Exception {
    /// Its id.
    pub id: i64,
    /// The listing.
    pub listing: String,
    /// The listing's partner.
    pub partner: String,
    /// The version whose finding it is.
    pub version: String,
    /// The rule.
    pub rule_id: String,
    /// The finding's severity when it was asked for.
    pub severity: String,
    /// The versions asked for.
    pub versions: String,
    /// Why the partner asks.
    pub justification: String,
    /// The expiry asked for (RFC 3339).
    pub expires_at: String,
    /// Who asked.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// `requested`, `confirming` (a blocker's first grant, waiting for a second reviewer),
    /// `denied`, `live` (granted and covering) or `lapsed` (granted, and expired).
    pub status: String,
    /// A first grant waiting for a second reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_grant: Option<FirstGrant>,
    /// The versions granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_versions: Option<String>,
    /// Until when it is granted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_until: Option<String>,
    /// Who decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The waiver a grant became (findings name it in `waived_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<i64>,
}
