//! What a rule reports about a listing.

use crate::Severity;

/// One finding of one rule about one listing version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable id of the rule that reported it, e.g. `urls.https`.
    pub rule_id: String,
    /// The effective severity (after the finding's own override and the pack's configuration).
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where, as a JSON Pointer into the manifest; empty for the whole listing.
    pub pointer: String,
    /// How to fix it.
    pub remediation: Option<String>,
    /// Where to read more about the rule.
    pub help_url: String,
}
