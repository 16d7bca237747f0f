//! Hostile fixture: an integration check that reads the shop, then spins forever.
use assay_sdk::{CheckInput, Finding, Integration, RuleInfo, Severity, export_integration, platform};

struct Spin;

impl Integration for Spin {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.platform-spin", "Spins after one call", "1.0.0", Severity::Error)
    }

    fn run(_: &CheckInput) -> Result<Vec<Finding>, String> {
        let _ = platform::get_shop();
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export_integration!(Spin);
