//! Hostile fixture: unbounded recursion.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct Recursion;

#[inline(never)]
#[allow(unconditional_recursion)] // the point of this fixture
fn descend(depth: u64, pad: [u64; 8]) -> u64 {
    let pad = std::hint::black_box(pad);
    descend(depth + 1, pad) + pad[(depth % 8) as usize]
}

impl Rule for Recursion {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.recursion", "Unbounded recursion", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        Err(descend(0, [1; 8]).to_string())
    }
}

export_rule!(Recursion);
