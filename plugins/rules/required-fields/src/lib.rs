//! `listing.required-fields`: the copy a merchant reads first is present and fits its space.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct RequiredFields;

/// (pointer, label, value, min chars, max chars)
fn bounds(input: &CheckInput) -> [(&'static str, &'static str, &str, usize, usize); 4] {
    let l = &input.listing;
    [
        ("/name", "name", &l.name, 3, 50),
        ("/summary", "summary", &l.summary, 20, 100),
        ("/description", "description", &l.description, 100, 5000),
        ("/category", "category", &l.category, 1, 40),
    ]
}

impl Rule for RequiredFields {
    fn info() -> RuleInfo {
        RuleInfo::new("listing.required-fields", "Required fields and length bounds", "1.0.0", Severity::Error)
            .description(
                "Name, summary, description and category are present and within the lengths the storefront can show.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (pointer, label, value, min, max) in bounds(input) {
            let len = value.trim().chars().count();
            if len == 0 {
                findings.push(
                    finding(pointer, format!("the {label} is empty"))
                        .remediation(format!("Write a {label} of {min} to {max} characters.")),
                );
            } else if len < min {
                findings.push(
                    finding(pointer, format!("the {label} has {len} characters; at least {min} are required"))
                        .remediation(format!("Expand the {label} to at least {min} characters.")),
                );
            } else if len > max {
                findings.push(
                    finding(pointer, format!("the {label} has {len} characters; the limit is {max}"))
                        .remediation(format!("Shorten the {label} to at most {max} characters.")),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(RequiredFields);
