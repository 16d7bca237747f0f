//! Nondeterminism probe: reports what the sandbox's clocks and randomness return, so a test
//! can assert that they are fixed.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

struct Clock;

impl Rule for Clock {
    fn info() -> RuleInfo {
        RuleInfo::new("probe.clock", "Clock and randomness probe", "1.0.0", Severity::Info)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
        let start = Instant::now();
        let elapsed = start.elapsed().as_nanos();
        // RandomState seeds from the host's randomness.
        let hash = RandomState::new().hash_one("assay");
        Ok(vec![finding("", format!("wall={wall} elapsed={elapsed} hash={hash:016x}"))])
    }
}

export_rule!(Clock);
