//! What a rule says about itself.

use crate::Severity;

/// A rule's identity and defaults, as its component describes them (validated by the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable dotted id, e.g. `urls.https`. Never reused.
    pub id: String,
    /// Short human name.
    pub name: String,
    /// The rule's own semver.
    pub version: semver::Version,
    /// What it checks and why.
    pub description: String,
    /// Severity of its findings unless overridden.
    pub default_severity: Severity,
    /// Where to read more.
    pub help_url: String,
}
