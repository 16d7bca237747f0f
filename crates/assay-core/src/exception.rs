//! Exception requests: a partner asks for an exception to a finding; staff grant or deny it.

use crate::identity::PartnerId;

/// Where an exception request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionState {
    /// Waiting for staff.
    Requested,
    /// Granted once; a second reviewer must confirm (two-person rule for blockers).
    Confirming,
    /// Granted: a waiver covers the finding until it lapses.
    Granted,
    /// Denied.
    Denied,
}

impl ExceptionState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Requested => "requested",
            ExceptionState::Confirming => "confirming",
            ExceptionState::Granted => "granted",
            ExceptionState::Denied => "denied",
        }
    }

    /// Whether a decision is still to be made.
    pub fn open(self) -> bool {
        matches!(self, ExceptionState::Requested | ExceptionState::Confirming)
    }
}

impl std::fmt::Display for ExceptionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ExceptionState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [ExceptionState::Requested, ExceptionState::Confirming, ExceptionState::Granted, ExceptionState::Denied]
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not an exception state: requested, confirming, granted or denied"))
    }
}

/// An exception request and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    /// Its id.
    pub id: i64,
    /// The listing.
    pub slug: String,
    /// The listing's partner.
    pub partner: PartnerId,
    /// That partner's name.
    pub partner_name: String,
    /// The version whose finding it is.
    pub version: String,
    /// The rule.
    pub rule_id: String,
    /// The finding's severity when it was asked for.
    pub severity: String,
    /// The versions asked for (a semver range).
    pub versions: String,
    /// Why the partner asks.
    pub justification: String,
    /// The expiry asked for (Unix seconds).
    pub expires_at: i64,
    /// Who asked (the audit log's name).
    pub requested_by: String,
    /// When.
    pub requested_at: i64,
    /// Where it is.
    pub state: ExceptionState,
    /// The first grant awaiting confirmation: who and why.
    pub first_decision: Option<(String, String)>,
    /// The versions granted (or to be granted once confirmed).
    pub granted_versions: Option<String>,
    /// The expiry granted (or to be granted).
    pub granted_expires_at: Option<i64>,
    /// Who made the final decision, why and when.
    pub decided_by: Option<String>,
    /// Why.
    pub rationale: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
    /// The waiver a grant became.
    pub waiver: Option<i64>,
}

impl ExceptionRecord {
    /// `requested`, `confirming`, `denied`, or for a grant `live` until it expires, then
    /// `lapsed`.
    pub fn status(&self, now: i64) -> &'static str {
        match (self.state, self.granted_expires_at) {
            (ExceptionState::Granted, Some(until)) if until <= now => "lapsed",
            (ExceptionState::Granted, _) => "live",
            (state, _) => state.as_str(),
        }
    }
}
