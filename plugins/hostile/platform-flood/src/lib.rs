//! Hostile fixture: an integration check that ignores `budget-exhausted` and keeps calling.
use assay_sdk::{CheckInput, Finding, Integration, RuleInfo, Severity, export_integration, platform};

struct Flood;

impl Integration for Flood {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.platform-flood", "Platform call flood", "1.0.0", Severity::Error)
    }

    fn run(_: &CheckInput) -> Result<Vec<Finding>, String> {
        loop {
            let _ = std::hint::black_box(platform::list_products(None, 100));
        }
    }
}

export_integration!(Flood);
