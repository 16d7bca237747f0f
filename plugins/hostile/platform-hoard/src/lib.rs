//! Hostile fixture: an integration check that keeps every product page it reads, forever.
use assay_sdk::{CheckInput, Finding, Integration, RuleInfo, Severity, export_integration, platform};

struct Hoard;

impl Integration for Hoard {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.platform-hoard", "Hoards memory", "1.0.0", Severity::Error)
    }

    fn run(_: &CheckInput) -> Result<Vec<Finding>, String> {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        if let Ok(products) = platform::list_products(None, 10) {
            for p in products.iter().cycle() {
                kept.push(vec![p.id as u8; 1 << 20]);
            }
        }
        Ok(vec![])
    }
}

export_integration!(Hoard);
