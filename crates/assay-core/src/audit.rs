//! Audit events: who did what to what, when, and why. The store chains them by hash.

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who, e.g. `token:7` or `system`.
    pub actor: String,
    /// What, e.g. `version.approve`.
    pub action: String,
    /// On what, e.g. `listing:acme@1.2.0`.
    pub subject: String,
    /// Details (a decision's note, the states involved).
    pub detail: String,
    /// The previous event's hash.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}
