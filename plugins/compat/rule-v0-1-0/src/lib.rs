//! A listing rule built against the released `assay:plugin@0.1.0` (the frozen copy in
//! `tests/frozen/`), so the host's tests prove that a component built before 0.1.1 still runs.

wit_bindgen::generate!({
    path: "../../../tests/frozen/assay-plugin@0.1.0.wit",
    world: "listing-rule",
});

use assay::plugin::types::{CheckInput, Finding, RuleError, RuleInfo, Severity};

struct Legacy;

impl exports::assay::plugin::rule::Guest for Legacy {
    fn describe() -> RuleInfo {
        RuleInfo {
            id: "compat.v0-1-0".into(),
            name: "Built against assay:plugin@0.1.0".into(),
            version: "1.0.0".into(),
            description: "Reports the listing's slug, to show the input arrived.".into(),
            default_severity: Severity::Info,
            help_url: "https://docs.assay.dev/rules/compat".into(),
        }
    }

    fn check(input: CheckInput, _config: Vec<(String, String)>) -> Result<Vec<Finding>, RuleError> {
        assay::plugin::log::log(assay::plugin::log::Level::Info, "legacy rule ran");
        Ok(vec![Finding {
            message: format!("saw listing `{}`", input.listing.slug),
            pointer: "/slug".into(),
            remediation: None,
            severity: None,
        }])
    }
}

export!(Legacy);
