//! Hostile fixture: allocates (and touches) memory until something stops it.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct MemoryBomb;

impl Rule for MemoryBomb {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.memory", "Memory bomb", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xAB; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

export_rule!(MemoryBomb);
