//! Hostile fixture: sleeps for a day. With a real clock behind WASI this would block the host
//! thread past any epoch deadline; the sandbox refuses to wait.
use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule};

struct Sleep;

impl Rule for Sleep {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.sleep", "Sleep", "1.0.0", Severity::Error)
    }

    fn check(_: &CheckInput, _: &Config) -> Result<Vec<Finding>, String> {
        std::thread::sleep(std::time::Duration::from_secs(86_400));
        Ok(Vec::new())
    }
}

export_rule!(Sleep);
