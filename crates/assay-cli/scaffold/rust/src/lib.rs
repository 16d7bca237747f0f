//! `{{id}}`: the one-line summary fits in search results.
//!
//! A starting point: change what `check` looks at, keep the shape. `assay rules test` runs the
//! cases in tests/; `cargo test --target {{host}}` runs the unit tests below.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct {{type}};

/// The longest summary, in characters, unless the pack's `[rule.config]` sets `max`.
const DEFAULT_MAX: usize = 80;

impl Rule for {{type}} {
    fn info() -> RuleInfo {
        RuleInfo::new("{{id}}", "Summary fits in search results", "0.1.0", Severity::Error).description(
            "The one-line summary is at most 80 characters (the pack's `max` changes it), so search \
             results show it whole.",
        )
    }

    fn check(input: &CheckInput, config: &Config) -> Result<Vec<Finding>, String> {
        let max = match config.get("max") {
            Some(max) => max.parse().map_err(|_| format!("config `max` = `{max}` is not a number"))?,
            None => DEFAULT_MAX,
        };
        let len = input.listing.summary.chars().count();
        if len <= max {
            return Ok(Vec::new());
        }
        Ok(vec![
            finding("/summary", format!("the summary has {len} characters; the limit is {max}"))
                .remediation(format!("Shorten the summary to {max} characters or fewer.")),
        ])
    }
}

export_rule!({{type}});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_over_the_limit_is_flagged_and_the_limit_is_configurable() {
        let long = assay_sdk_testing::EXAMPLE.replace("and sales channel", "and every sales channel you will ever sell on");
        let input = assay_sdk_testing::input(&long);
        let findings = assay_sdk_testing::check::<{{type}}>(&input, &[]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].pointer, "/summary");
        assert!(assay_sdk_testing::check::<{{type}}>(&input, &[("max", "200")]).is_empty());
        assert!(assay_sdk_testing::check::<{{type}}>(&assay_sdk_testing::input(assay_sdk_testing::EXAMPLE), &[]).is_empty());
    }
}
