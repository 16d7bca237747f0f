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

/// A signed checkpoint of the audit chain's head: anyone holding the server's public key can
/// check that the chain still has this event with this hash, so cutting events off the end or
/// rewriting the tail is detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The head's seq when the checkpoint was taken.
    pub seq: i64,
    /// The head's hash.
    pub hash: String,
    /// When (Unix seconds).
    pub at: i64,
    /// Which key signed it: the first 16 hex digits of the SHA-256 of its public key.
    pub key_id: String,
    /// The Ed25519 signature of [`Checkpoint::message`], base64.
    pub signature: String,
}

impl Checkpoint {
    /// The bytes that are signed: a versioned, line-based statement of the head.
    pub fn message(seq: i64, hash: &str, at: i64) -> String {
        format!("assay audit checkpoint v1\nseq {seq}\nhash {hash}\nat {at}\n")
    }
}
