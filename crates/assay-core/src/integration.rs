//! Integration checks: the transcript of platform calls a partner's check made, and the
//! policies read from it — least privilege (refused calls, unused scopes) and resource
//! regressions against the last approved version.
//!
//! The host records what happened; this module decides what it means. The findings it makes
//! belong to platform-authored pseudo-rules ([`REFUSED_CALL`], [`UNUSED_SCOPE`],
//! [`RESOURCE_REGRESSION`]) so reviewers can waive them like any other rule.

use std::collections::BTreeMap;
use std::fmt;

use crate::manifest::Manifest;
use crate::outcome::UnknownName;
use crate::{CheckOutcome, CheckRun, Finding, ResourceUsage, RuleInfo, Severity};

/// Whether a scope reads or writes its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// `read_<resource>`.
    Read,
    /// `write_<resource>`; also grants reading.
    Write,
}

/// A scope as the platform understands it: `read_orders`, `write_products`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    /// Read or write.
    pub access: Access,
    /// The resource, e.g. `orders`.
    pub resource: String,
}

impl Scope {
    /// Parse `read_<resource>` or `write_<resource>`; anything else is not a platform scope.
    pub fn parse(name: &str) -> Option<Scope> {
        let (access, resource) = if let Some(r) = name.strip_prefix("read_") {
            (Access::Read, r)
        } else {
            (Access::Write, name.strip_prefix("write_")?)
        };
        (!resource.is_empty()).then(|| Scope { access, resource: resource.to_owned() })
    }

    /// Whether holding `self` allows a call that needs `needed` (write implies read).
    pub fn covers(&self, needed: &Scope) -> bool {
        self.resource == needed.resource && self.access >= needed.access
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        write!(f, "{access}_{}", self.resource)
    }
}

/// How one platform call ended, as the transcript records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallOutcome {
    /// The call was allowed and succeeded.
    Ok,
    /// The listing's scopes do not cover the call.
    Forbidden,
    /// Allowed, but no object has that id.
    NotFound,
    /// Allowed, but the request was malformed or too large.
    Invalid,
    /// The run's budget of calls or bytes was spent.
    BudgetExhausted,
}

impl CallOutcome {
    /// The snake_case name used in transcripts.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Forbidden => "forbidden",
            CallOutcome::NotFound => "not_found",
            CallOutcome::Invalid => "invalid",
            CallOutcome::BudgetExhausted => "budget_exhausted",
        }
    }

    /// Whether the scope check let the call through (whatever happened next).
    pub fn allowed(self) -> bool {
        matches!(self, CallOutcome::Ok | CallOutcome::NotFound | CallOutcome::Invalid)
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CallOutcome {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use CallOutcome::*;
        [Ok, Forbidden, NotFound, Invalid, BudgetExhausted]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownName::new("call outcome", s))
    }
}

/// One platform call in a run's transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCall {
    /// The WIT function, e.g. `list-orders`.
    pub operation: String,
    /// The scope the operation needs, e.g. `read_orders`.
    pub scope: String,
    /// How it ended.
    pub outcome: CallOutcome,
    /// Bytes the guest sent with the call (strings and lists in its arguments).
    pub bytes_out: u64,
}

/// The pseudo-rule for calls the listing's scopes did not cover.
pub const REFUSED_CALL: &str = "integration.refused-call";
/// The pseudo-rule for requested scopes no check exercised.
pub const UNUSED_SCOPE: &str = "integration.unused-scope";
/// The pseudo-rule for resource use that grew past the allowed factor.
pub const RESOURCE_REGRESSION: &str = "integration.resource-regression";

const HELP: &str = "https://docs.assay.dev/integration-checks";

/// What the pseudo-rule `id` says about itself (one of the three constants above).
pub fn rule_info(id: &str) -> RuleInfo {
    let (name, severity, description) = match id {
        REFUSED_CALL => (
            "Integration calls covered by the listing's scopes",
            Severity::Error,
            "Every platform call an integration check makes must be covered by a scope the listing \
             requests. A refused call in the sandbox is a call that would fail for merchants.",
        ),
        UNUSED_SCOPE => (
            "Requested scopes exercised by the integration",
            Severity::Warning,
            "Least privilege, measured from behaviour: every scope the listing requests should be \
             needed by some platform call its integration checks make.",
        ),
        _ => (
            "Integration resource use within bounds of the last approved version",
            Severity::Warning,
            "An integration check's fuel, peak memory or bytes sent to the platform should not grow \
             past a configured factor of the last approved version's run.",
        ),
    };
    RuleInfo {
        id: id.to_owned(),
        name: name.to_owned(),
        version: semver::Version::new(1, 0, 0),
        description: description.to_owned(),
        default_severity: severity,
        help_url: format!("{HELP}#{}", id.trim_start_matches("integration.")),
    }
}

fn finding(rule: &RuleInfo, pointer: String, message: String, remediation: String) -> Finding {
    Finding {
        rule_id: rule.id.clone(),
        severity: rule.default_severity,
        message,
        pointer,
        remediation: Some(remediation),
        help_url: rule.help_url.clone(),
    }
}

/// A platform-authored run that carries host-made findings (never a plugin of its own).
pub fn synthetic_run(id: &str, findings: Vec<Finding>) -> CheckRun {
    let rule = rule_info(id);
    CheckRun {
        check_id: rule.id.clone(),
        digest: String::new(),
        outcome: if findings.is_empty() { CheckOutcome::Passed } else { CheckOutcome::Findings },
        rule: Some(rule),
        message: None,
        findings,
        usage: ResourceUsage::default(),
        logs: Vec::new(),
        platform: true,
        transcript: Vec::new(),
        integration: false,
    }
}

/// Least privilege, measured from what the integration checks of one review did.
///
/// Returns the runs for [`REFUSED_CALL`] and [`UNUSED_SCOPE`], or nothing when the review has no
/// integration check. Unused scopes are only judged when every integration check completed:
/// a check that stopped half-way proves nothing about the scopes it never reached.
pub fn least_privilege(listing: &Manifest, runs: &[CheckRun]) -> Vec<CheckRun> {
    let checks: Vec<&CheckRun> = runs.iter().filter(|r| r.integration).collect();
    if checks.is_empty() {
        return Vec::new();
    }
    let refused_rule = rule_info(REFUSED_CALL);
    let mut refused: BTreeMap<(&str, &str), (usize, Vec<&str>)> = BTreeMap::new();
    for run in &checks {
        for call in run.transcript.iter().filter(|c| c.outcome == CallOutcome::Forbidden) {
            let entry = refused.entry((call.scope.as_str(), call.operation.as_str())).or_default();
            entry.0 += 1;
            if !entry.1.contains(&run.check_id.as_str()) {
                entry.1.push(run.check_id.as_str());
            }
        }
    }
    let refused_findings = refused
        .into_iter()
        .map(|((scope, operation), (count, by))| {
            let times = if count == 1 { "once".to_owned() } else { format!("{count} times") };
            finding(
                &refused_rule,
                "/scopes".to_owned(),
                format!(
                    "`{operation}` needs scope `{scope}`, which the listing does not request; the platform \
                     refused it {times} (check {})",
                    by.join(", ")
                ),
                format!("Add `{scope}` to [[scopes]] with a justification, or stop calling `{operation}`."),
            )
        })
        .collect();
    let mut out = vec![synthetic_run(REFUSED_CALL, refused_findings)];

    if checks.iter().all(|r| r.outcome.completed()) {
        let unused_rule = rule_info(UNUSED_SCOPE);
        let needed: Vec<Scope> = checks
            .iter()
            .flat_map(|r| &r.transcript)
            .filter(|c| c.outcome.allowed())
            .filter_map(|c| Scope::parse(&c.scope))
            .collect();
        let mut findings = Vec::new();
        for (i, requested) in listing.scopes.iter().enumerate() {
            let Some(scope) = Scope::parse(&requested.name) else { continue };
            let exact = needed.contains(&scope);
            let read_only = scope.access == Access::Write && needed.iter().any(|n| scope.covers(n));
            let pointer = format!("/scopes/{i}/name");
            if exact {
                continue;
            }
            if read_only {
                let read = Scope { access: Access::Read, resource: scope.resource.clone() };
                findings.push(finding(
                    &unused_rule,
                    pointer,
                    format!("scope `{scope}` was only used to read: no integration check wrote {}", scope.resource),
                    format!(
                        "Request `{read}` instead, unless the app writes {} in a way no check exercises.",
                        scope.resource
                    ),
                ));
            } else {
                findings.push(finding(
                    &unused_rule,
                    pointer,
                    format!("scope `{scope}` is requested but no integration check made a call that needs it"),
                    format!("Remove `{scope}` from [[scopes]], or exercise it in the integration check."),
                ));
            }
        }
        out.push(synthetic_run(UNUSED_SCOPE, findings));
    }
    out
}

/// One resource a regression is measured on.
fn measures(usage: &ResourceUsage) -> [(&'static str, Option<u64>); 3] {
    [
        ("fuel", usage.fuel),
        ("peak memory", Some(usage.peak_memory)),
        ("bytes sent to the platform", Some(usage.bytes_out)),
    ]
}

/// Resource regressions of this review's integration checks against the same checks (by id)
/// in the last approved version's review. A measure regresses when it grew past `factor` times
/// the baseline (a zero baseline is compared as 1). Findings have `severity` (the pack's
/// setting; the rule's default when `None`). `None` when no check has a baseline.
pub fn resource_regressions(
    current: &[CheckRun],
    baseline: &[CheckRun],
    factor: f64,
    severity: Option<Severity>,
) -> Option<CheckRun> {
    let mut rule = rule_info(RESOURCE_REGRESSION);
    if let Some(severity) = severity {
        rule.default_severity = severity;
    }
    let mut compared = false;
    let mut findings = Vec::new();
    for run in current.iter().filter(|r| r.integration && r.outcome.completed()) {
        let Some(before) =
            baseline.iter().find(|b| b.integration && b.check_id == run.check_id && b.outcome.completed())
        else {
            continue;
        };
        compared = true;
        for ((what, now), (_, then)) in measures(&run.usage).into_iter().zip(measures(&before.usage)) {
            let (Some(now), Some(then)) = (now, then) else { continue };
            if now as f64 > factor * then.max(1) as f64 {
                findings.push(finding(
                    &rule,
                    String::new(),
                    format!(
                        "check `{}` used {now} {what} against {then} in the last approved version ({:.1}×; the limit is {factor}×)",
                        run.check_id,
                        now as f64 / then.max(1) as f64
                    ),
                    "Find what made the integration do more work, or explain it to the reviewer.".to_owned(),
                ));
            }
        }
    }
    compared.then(|| synthetic_run(RESOURCE_REGRESSION, findings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(operation: &str, scope: &str, outcome: CallOutcome) -> PlatformCall {
        PlatformCall { operation: operation.into(), scope: scope.into(), outcome, bytes_out: 0 }
    }

    fn integration_run(transcript: Vec<PlatformCall>) -> CheckRun {
        CheckRun {
            check_id: "partner.sync".into(),
            integration: true,
            platform: false,
            transcript,
            ..synthetic_run(REFUSED_CALL, vec![])
        }
    }

    fn listing(scopes: &[&str]) -> Manifest {
        let scopes: String = scopes
            .iter()
            .map(|s| format!("[[scopes]]\nname = \"{s}\"\njustification = \"Needed to sync the catalogue.\"\n"))
            .collect();
        let text = format!(
            "slug = \"sync\"\nname = \"Sync\"\nversion = \"1.0.0\"\nsummary = \"Syncs.\"\ndescription = \"Keeps things in sync.\"\n\
             category = \"inventory\"\napi-version = \"2026-07\"\n[pricing]\nmodel = \"free\"\n{scopes}"
        );
        Manifest::parse("listing.toml", &text).unwrap().manifest
    }

    #[test]
    fn write_covers_read_but_not_the_reverse() {
        let write = Scope::parse("write_orders").unwrap();
        let read = Scope::parse("read_orders").unwrap();
        assert!(write.covers(&read));
        assert!(!read.covers(&write));
        assert!(!write.covers(&Scope::parse("read_products").unwrap()));
        assert_eq!(Scope::parse("orders"), None);
        assert_eq!(Scope::parse("read_"), None);
    }

    #[test]
    fn refused_and_unused_scopes_are_named() {
        let m = listing(&["read_products", "write_orders", "read_customers"]);
        let runs = [integration_run(vec![
            call("list-products", "read_products", CallOutcome::Ok),
            call("get-order", "read_orders", CallOutcome::Ok),
            call("register-webhook", "write_webhooks", CallOutcome::Forbidden),
            call("register-webhook", "write_webhooks", CallOutcome::Forbidden),
        ])];
        let out = least_privilege(&m, &runs);
        assert_eq!(out.len(), 2);
        let refused = &out[0].findings;
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(refused[0].message.contains("`register-webhook` needs scope `write_webhooks`"));
        assert!(refused[0].message.contains("2 times"));
        assert_eq!(refused[0].severity, Severity::Error);
        let unused = &out[1].findings;
        let pointers: Vec<&str> = unused.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(pointers, ["/scopes/1/name", "/scopes/2/name"]);
        assert!(unused[0].message.contains("only used to read"), "{}", unused[0].message);
        assert!(unused[1].message.contains("`read_customers` is requested but no integration check"));
    }

    #[test]
    fn no_integration_check_no_judgement_and_incomplete_runs_skip_unused() {
        let m = listing(&["read_products"]);
        assert!(least_privilege(&m, &[]).is_empty());
        let mut trapped = integration_run(vec![]);
        trapped.outcome = CheckOutcome::Trapped;
        let out = least_privilege(&m, &[trapped]);
        assert_eq!(out.len(), 1, "only refused calls are judged when a check stopped early");
    }

    #[test]
    fn regressions_past_the_factor_are_findings() {
        let mut before = integration_run(vec![]);
        before.outcome = CheckOutcome::Passed;
        before.usage = ResourceUsage { fuel: Some(1000), peak_memory: 1 << 20, bytes_out: 100, ..Default::default() };
        let mut now = before.clone();
        now.usage.fuel = Some(2500);
        now.usage.bytes_out = 150;
        let run = resource_regressions(&[now.clone()], &[before.clone()], 2.0, None).unwrap();
        assert_eq!(run.findings.len(), 1, "{:?}", run.findings);
        assert!(run.findings[0].message.contains("2500 fuel against 1000"));
        assert!(resource_regressions(&[now.clone()], &[before.clone()], 3.0, None).unwrap().findings.is_empty());
        assert!(resource_regressions(&[now.clone()], &[], 2.0, None).is_none());
        // A pack that makes regressions a gate.
        let gate = resource_regressions(&[now], &[before], 2.0, Some(Severity::Error)).unwrap();
        assert!(gate.findings.iter().all(|f| f.severity == Severity::Error), "{gate:?}");
    }
}
