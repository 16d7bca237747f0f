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

/// What the store writes into an audit event's `detail`, read back: the webhook dispatcher
/// builds typed events from them. The formats are the store's (`{from} -> {to}; {rest}` for a
/// state change; `#{id} …` for a notice or a deprecation), and events written before a format
/// existed read as `None`.
pub mod detail {
    use crate::lifecycle::VersionState;

    /// A state change: `{from} -> {to}`, then after `; ` the note or the reason.
    pub fn transition(detail: &str) -> Option<(VersionState, VersionState, &str)> {
        let (states, rest) = detail.split_once("; ").unwrap_or((detail, ""));
        let (from, to) = states.split_once(" -> ")?;
        Some((from.parse().ok()?, to.parse().ok()?, rest))
    }

    /// A review's summary, the rest of its state change:
    /// `verdict {verdict} from {pack}@{version} ({n} checks, {m} findings)`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Review<'a> {
        /// `pass`, `fail` or `error`.
        pub verdict: &'a str,
        /// The rule pack's name.
        pub pack: &'a str,
        /// Its version.
        pub pack_version: &'a str,
        /// Checks that ran.
        pub checks: u32,
        /// Findings reported.
        pub findings: u32,
    }

    /// Read a review's summary.
    pub fn review(rest: &str) -> Option<Review<'_>> {
        let rest = rest.strip_prefix("verdict ")?;
        let (verdict, rest) = rest.split_once(" from ")?;
        let (pack, rest) = rest.split_once(" (")?;
        let (pack, pack_version) = pack.rsplit_once('@')?;
        let (checks, rest) = rest.split_once(" checks, ")?;
        let findings = rest.strip_suffix(" findings)")?;
        Some(Review { verdict, pack, pack_version, checks: checks.parse().ok()?, findings: findings.parse().ok()? })
    }

    /// The id a notice's or a deprecation's event starts with (`#{id} `).
    pub fn numbered(detail: &str) -> Option<i64> {
        let rest = detail.strip_prefix('#')?;
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        rest[..end].parse().ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn details_read_back() {
            let (from, to, rest) =
                transition("checking -> changes_requested; verdict fail from builtin@0.1.0 (20 checks, 3 findings)")
                    .unwrap();
            assert_eq!((from, to), (VersionState::Checking, VersionState::ChangesRequested));
            assert_eq!(
                review(rest),
                Some(Review { verdict: "fail", pack: "builtin", pack_version: "0.1.0", checks: 20, findings: 3 })
            );
            let (_, _, note) = transition("awaiting_review -> approved; looks good; ship it").unwrap();
            assert_eq!(note, "looks good; ship it");
            assert_eq!(transition("submitted -> checking").map(|t| t.2), Some(""));
            assert_eq!(transition("digest=abc checks=0"), None);
            assert_eq!(numbered("#12 breaking effective 2027-01-01: x"), Some(12));
            assert_eq!(numbered("breaking effective 2027-01-01: x"), None);
        }
    }
}
