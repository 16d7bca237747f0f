//! Hostile fixture: never returns from check().
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct Loop;

impl Rule for Loop {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.loop", "Infinite loop", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export_rule!(Loop);
