//! A version as callers see it, with its verdict decided now.

use assay_core::listing::{Decision, ListingRecord, VersionRecord};
use assay_core::review::StoredReview;
use assay_core::waiver::WaiverRecord;
use assay_core::{CheckRun, Finding, Severity, Verdict, VersionState, Waiver, waiver};

/// Findings at or above this severity block a version (DESIGN §2: `error` or worse).
pub const FAIL_ON: Severity = Severity::Error;

/// One finding, with the check that reported it and the waiver that covers it now, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingView {
    /// The check run that reported it.
    pub check_id: String,
    /// Whether a platform rule (not the partner's own check) reported it.
    pub platform: bool,
    /// The finding.
    pub finding: Finding,
    /// The live waiver that exempts it, if any.
    pub waived_by: Option<i64>,
}

/// A listing version with its latest review.
#[derive(Debug, Clone)]
pub struct VersionView {
    /// The version.
    pub record: VersionRecord,
    /// Its listing.
    pub listing: ListingRecord,
    /// Its latest review, when one finished.
    pub review: Option<StoredReview>,
    /// The verdict now: the latest review's findings less those live waivers cover.
    pub verdict: Option<Verdict>,
    /// Every finding of the latest review, most severe first.
    pub findings: Vec<FindingView>,
    /// The listing's waivers, expired ones included.
    pub waivers: Vec<WaiverRecord>,
    /// Reviewer decisions on this version, oldest first.
    pub decisions: Vec<Decision>,
    /// The hold its review waits on, if any.
    pub hold: Option<assay_core::conversation::Hold>,
    /// Where it stands in the review queue, while it awaits a reviewer.
    pub queue: Option<crate::review_queue::QueuePlace>,
}

impl VersionView {
    /// The listing's versions newer than this one that are approved or live: what rolling
    /// back to this one withdraws.
    pub fn newer_live(&self) -> Vec<(String, VersionState)> {
        newer_live(&self.listing.versions, &self.record.version)
    }
}

/// Of `versions`, those newer than `version` that are approved or live.
pub(crate) fn newer_live(versions: &[(String, VersionState)], version: &str) -> Vec<(String, VersionState)> {
    let Ok(this) = semver::Version::parse(version) else { return Vec::new() };
    versions
        .iter()
        .filter(|(v, state)| {
            matches!(state, VersionState::Approved | VersionState::Published)
                && semver::Version::parse(v).is_ok_and(|v| v > this)
        })
        .cloned()
        .collect()
}

/// The verdict over `runs` on listing `version` at `now`, honouring the live `waivers`, and
/// every finding with the waiver covering it.
pub fn decide(runs: &[CheckRun], waivers: &[Waiver], version: &str, now: i64) -> (Verdict, Vec<FindingView>) {
    let version = semver::Version::parse(version).ok();
    let covering = |f: &Finding| version.as_ref().and_then(|v| waiver::find(waivers, &f.rule_id, v, now)).map(|w| w.id);
    let verdict = Verdict::decide_waived(runs, FAIL_ON, |f| covering(f).is_some());
    let mut findings: Vec<_> = runs
        .iter()
        .flat_map(|run| {
            run.findings.iter().map(|f| FindingView {
                check_id: run.check_id.clone(),
                platform: run.platform,
                finding: f.clone(),
                waived_by: covering(f),
            })
        })
        .collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
    (verdict, findings)
}
