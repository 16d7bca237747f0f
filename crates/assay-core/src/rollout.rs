//! Rule packs as published, and what a rollout reports: how many re-checks ran, their
//! verdicts, and the listings a pack fails.

/// How a published pack applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackMode {
    /// Its verdicts are recorded, never applied.
    Shadow,
    /// Its verdicts apply from its deadline.
    Enforce,
}

impl PackMode {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            PackMode::Shadow => "shadow",
            PackMode::Enforce => "enforce",
        }
    }
}

/// A published pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackRecord {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over its manifest and components, hex.
    pub digest: String,
    /// Shadow or enforce.
    pub mode: PackMode,
    /// When its verdicts apply (Unix seconds), once enforced.
    pub enforce_at: Option<i64>,
    /// When they were applied and it became the active pack.
    pub applied_at: Option<i64>,
    /// Who published it.
    pub published_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// A listing a pack fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    /// The listing.
    pub slug: String,
    /// The live version checked.
    pub version: String,
    /// The partner that owns it.
    pub partner: String,
    /// The rules it fails, comma-separated.
    pub blocking: String,
}

/// Re-check verdicts by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    /// Passed.
    pub pass: i64,
    /// Failed: blocking findings.
    pub fail: i64,
    /// Could not decide (a rule failed to run).
    pub error: i64,
}
