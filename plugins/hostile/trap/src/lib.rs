//! Hostile fixture: executes `unreachable`.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct Trap;

impl Rule for Trap {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.trap", "Trap", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        #[cfg(target_arch = "wasm32")]
        core::arch::wasm32::unreachable();
        #[cfg(not(target_arch = "wasm32"))]
        unreachable!("this fixture only means something as wasm")
    }
}

export_rule!(Trap);
