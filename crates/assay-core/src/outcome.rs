//! How a check run ended, what it used, and the verdict over a whole review.

use std::fmt;
use std::time::Duration;

use crate::{Finding, RuleInfo, Severity};

/// How one check (one plugin against one listing version) ended.
///
/// Every failure of a plugin is one of these; none of them stops the other checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The check ran and found nothing.
    Passed,
    /// The check ran and reported findings.
    Findings,
    /// The plugin trapped (a panic, `unreachable`, a stack overflow, a bad host call).
    Trapped,
    /// The plugin ran past its wall-time or fuel budget.
    TimedOut,
    /// The plugin tried to grow its memory (summed over all memories) or tables past the limit.
    OutOfMemory,
    /// The plugin returned, or logged, more bytes than allowed.
    OutputTooLarge,
    /// The file is not a component for a supported world: random bytes, a core module, the
    /// wrong world, an unsupported contract version, too large, or it failed to compile.
    InvalidPlugin,
    /// The plugin ran and reported that it could not check this listing.
    RuleError,
    /// An integration check kept calling the platform after its budget of calls or bytes was
    /// spent, and was stopped.
    BudgetExceeded,
}

impl CheckOutcome {
    /// The snake_case name used in reports and the store.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Findings => "findings",
            CheckOutcome::Trapped => "trapped",
            CheckOutcome::TimedOut => "timed_out",
            CheckOutcome::OutOfMemory => "out_of_memory",
            CheckOutcome::OutputTooLarge => "output_too_large",
            CheckOutcome::InvalidPlugin => "invalid_plugin",
            CheckOutcome::RuleError => "rule_error",
            CheckOutcome::BudgetExceeded => "budget_exceeded",
        }
    }

    /// Whether the check produced a trustworthy answer (findings or none).
    pub fn completed(&self) -> bool {
        matches!(self, CheckOutcome::Passed | CheckOutcome::Findings)
    }
}

/// A string that names no outcome or verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    kind: &'static str,
    name: String,
}

impl UnknownName {
    pub(crate) fn new(kind: &'static str, name: &str) -> Self {
        UnknownName { kind, name: name.to_owned() }
    }
}

impl std::str::FromStr for CheckOutcome {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use CheckOutcome::*;
        [Passed, Findings, Trapped, TimedOut, OutOfMemory, OutputTooLarge, InvalidPlugin, RuleError, BudgetExceeded]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownName::new("check outcome", s))
    }
}

impl std::str::FromStr for Verdict {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Verdict::Pass, Verdict::Fail, Verdict::Error]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownName::new("verdict", s))
    }
}

impl fmt::Display for CheckOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a check consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceUsage {
    /// Wall time from instantiation to the end of the call.
    pub wall_time: Duration,
    /// Fuel consumed: a deterministic measure of work, the same on every run of the same inputs.
    pub fuel: Option<u64>,
    /// Highest total linear memory, summed over all memories, in bytes.
    pub peak_memory: u64,
    /// Bytes of findings returned across the boundary.
    pub output_bytes: u64,
    /// Log bytes the plugin tried to write (kept or not).
    pub log_bytes: u64,
    /// Platform calls an integration check made (refused ones included).
    pub platform_calls: u64,
    /// Bytes an integration check sent to the platform in its calls' arguments.
    pub bytes_out: u64,
}

/// One check run: which plugin, how it ended, what it found and used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// The rule id the plugin declared, or a name derived from its file when it could not say.
    pub check_id: String,
    /// The plugin's SHA-256 digest, hex.
    pub digest: String,
    /// What the rule says about itself; `None` when it could not be loaded.
    pub rule: Option<RuleInfo>,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// A message a partner can act on, for every outcome other than passed and findings.
    pub message: Option<String>,
    /// What it found.
    pub findings: Vec<Finding>,
    /// What it used.
    pub usage: ResourceUsage,
    /// Log lines the plugin wrote, within the log budget.
    pub logs: Vec<String>,
    /// Whether this is a platform rule (its failure makes the verdict `error`) or a partner's
    /// own check (its failure is reported as a blocking finding of the partner's).
    pub platform: bool,
    /// Whether the plugin is an integration check (world `integration-check`).
    pub integration: bool,
    /// The platform calls an integration check made, in order; empty for rules.
    pub transcript: Vec<crate::integration::PlatformCall>,
}

/// The verdict of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No un-waived finding of severity `error` or worse remains.
    Pass,
    /// At least one blocking finding remains.
    Fail,
    /// A platform rule could not run, so the review is not trustworthy.
    Error,
}

impl Verdict {
    /// Decide from the check runs, counting findings at or above `fail_on` as blocking.
    pub fn decide(runs: &[CheckRun], fail_on: Severity) -> Verdict {
        Verdict::decide_waived(runs, fail_on, |_| false)
    }

    /// Decide as [`Verdict::decide`], not counting the findings `waived` says are covered by a
    /// live waiver. A waiver exempts findings only: a check that could not run is never waived.
    pub fn decide_waived(runs: &[CheckRun], fail_on: Severity, waived: impl Fn(&Finding) -> bool) -> Verdict {
        if runs.iter().any(|run| run.platform && !run.outcome.completed()) {
            return Verdict::Error;
        }
        // A partner's own check that cannot run is the partner's problem: it blocks.
        let partner_failed = runs.iter().any(|run| !run.platform && !run.outcome.completed());
        let blocking = runs.iter().flat_map(|run| &run.findings).any(|f| f.severity >= fail_on && !waived(f));
        if blocking || partner_failed { Verdict::Fail } else { Verdict::Pass }
    }

    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(outcome: CheckOutcome, severities: &[Severity]) -> CheckRun {
        CheckRun {
            check_id: "t".into(),
            digest: String::new(),
            rule: None,
            outcome,
            message: None,
            findings: severities
                .iter()
                .map(|&severity| Finding {
                    rule_id: "t".into(),
                    severity,
                    message: String::new(),
                    pointer: String::new(),
                    remediation: None,
                    help_url: String::new(),
                })
                .collect(),
            usage: ResourceUsage::default(),
            logs: Vec::new(),
            platform: true,
            integration: false,
            transcript: Vec::new(),
        }
    }

    #[test]
    fn verdict_follows_the_worst_finding_and_any_failed_check() {
        use CheckOutcome::*;
        use Severity::*;
        assert_eq!(Verdict::decide(&[run(Passed, &[])], Error), Verdict::Pass);
        assert_eq!(Verdict::decide(&[run(Findings, &[Warning])], Error), Verdict::Pass);
        assert_eq!(Verdict::decide(&[run(Findings, &[Warning])], Warning), Verdict::Fail);
        assert_eq!(Verdict::decide(&[run(Findings, &[Info, Error])], Error), Verdict::Fail);
        assert_eq!(Verdict::decide(&[run(Passed, &[]), run(Trapped, &[])], Error), Verdict::Error);
        let mut partner = run(TimedOut, &[]);
        partner.platform = false;
        assert_eq!(Verdict::decide(&[run(Passed, &[]), partner.clone()], Error), Verdict::Fail);
    }

    #[test]
    fn names_round_trip() {
        use CheckOutcome::*;
        for o in [Passed, Findings, Trapped, TimedOut, OutOfMemory, OutputTooLarge, InvalidPlugin, RuleError] {
            assert_eq!(o.as_str().parse::<CheckOutcome>(), Ok(o));
        }
        for v in [Verdict::Pass, Verdict::Fail, Verdict::Error] {
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(v));
        }
        assert!("crashed".parse::<CheckOutcome>().is_err());
    }

    #[test]
    fn waived_findings_do_not_block_but_failed_checks_still_do() {
        use CheckOutcome::*;
        use Severity::*;
        let all = |_: &Finding| true;
        assert_eq!(Verdict::decide_waived(&[run(Findings, &[Blocker])], Error, all), Verdict::Pass);
        assert_eq!(Verdict::decide_waived(&[run(Findings, &[Blocker])], Error, |_| false), Verdict::Fail);
        let mut partner = run(Trapped, &[]);
        partner.platform = false;
        assert_eq!(Verdict::decide_waived(&[partner], Error, all), Verdict::Fail);
        assert_eq!(Verdict::decide_waived(&[run(TimedOut, &[])], Error, all), Verdict::Error);
    }
}
