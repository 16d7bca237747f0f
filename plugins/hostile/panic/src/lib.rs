//! Hostile fixture: a Rust panic, as a buggy rule would produce.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct Panic;

impl Rule for Panic {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.panic", "Panic", "1.0.0", Severity::Error)
    }

    fn check(input: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        let scopes: Vec<&str> = input.listing.scopes.iter().map(|s| s.name.as_str()).collect();
        panic!("deliberate panic while reading {} scopes", std::hint::black_box(scopes).len() + 1000)
    }
}

export_rule!(Panic);
