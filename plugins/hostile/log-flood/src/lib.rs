//! Hostile fixture: logs without end.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct LogFlood;

impl Rule for LogFlood {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.log-flood", "Log flood", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        let line = "flood ".repeat(100);
        loop {
            assay_sdk::log::info(&line);
        }
    }
}

export_rule!(LogFlood);
