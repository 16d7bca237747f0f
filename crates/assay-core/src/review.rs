//! Reviews as recorded: a version's latest review and the verdicts of re-checks.

use crate::outcome::{CheckRun, Verdict};

/// A version's latest review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReview {
    /// The rule pack's name.
    pub pack_name: String,
    /// The rule pack's version.
    pub pack_version: String,
    /// The verdict recorded when the review finished (waivers granted later do not change it;
    /// callers decide the current verdict from `runs` and the live waivers).
    pub verdict: Verdict,
    /// When it finished, seconds since the Unix epoch.
    pub finished_at: i64,
    /// Every check run with its findings, in the order they ran. `rule` is `None`: the store
    /// keeps the rule's id (`check_id`) and version (`rule_versions`), not its description.
    pub runs: Vec<CheckRun>,
    /// The rule version each run reported, parallel to `runs`.
    pub rule_versions: Vec<Option<String>>,
    /// The sandbox seed (`None` for reviews recorded before seeds were).
    pub seed: Option<u64>,
    /// The limits, as recorded (`None` for reviews recorded before limits were).
    pub limits: Option<String>,
    /// The version the review compared against.
    pub previous_version: Option<String>,
}

/// A recorded re-check verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecheckRecord {
    /// The job that produced it.
    pub job: i64,
    /// What triggered it: `pack`, `enforce`, `checks` or `api-deprecation`.
    pub reason: String,
    /// The pack it ran, `name@version`.
    pub pack: String,
    /// `pass`, `fail` or `error`.
    pub verdict: String,
    /// The rules with un-waived blocking findings, comma-separated.
    pub blocking: String,
    /// Every finding, as JSON.
    pub findings: String,
    /// When (Unix seconds).
    pub at: i64,
}
