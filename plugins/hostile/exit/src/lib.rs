//! Hostile fixture: calls `exit` instead of returning.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct Exit;

impl Rule for Exit {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.exit", "Exit", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        std::process::exit(0)
    }
}

export_rule!(Exit);
