//! Hostile fixture: returns megabytes of findings (well within its memory limit).
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct HugeOutput;

impl Rule for HugeOutput {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.huge-output", "Huge return value", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        let message = "x".repeat(1000);
        Ok((0..4000).map(|i| finding(format!("/keywords/{i}"), message.clone())).collect())
    }
}

export_rule!(HugeOutput);
