//! `copy.shouting`: the name and summary do not shout at merchants.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct Shouting;

/// Text with fewer letters than this is too short to judge (acronyms, short brand names).
const MIN_LETTERS: usize = 6;
/// The largest share of upper-case letters, in percent, that is not shouting.
const MAX_UPPER_PERCENT: usize = 60;
/// The most exclamation marks a name or summary may have.
const MAX_BANGS: usize = 1;

impl Rule for Shouting {
    fn info() -> RuleInfo {
        RuleInfo::new("copy.shouting", "No shouting in name or summary", "1.0.0", Severity::Warning).description(
            "The name and summary are not mostly upper case (more than 60% of at least 6 letters) and use \
             at most one exclamation mark. Shouting copy reads as spam in search results and pushes \
             other listings aside.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        for (pointer, label, text) in [("/name", "name", &l.name), ("/summary", "summary", &l.summary)] {
            let letters = text.chars().filter(|c| c.is_alphabetic()).count();
            let upper = text.chars().filter(|c| c.is_uppercase()).count();
            if letters >= MIN_LETTERS && upper * 100 > letters * MAX_UPPER_PERCENT {
                findings.push(
                    finding(
                        pointer,
                        format!(
                            "the {label} is mostly upper case ({upper} of {letters} letters); \
                             at most {MAX_UPPER_PERCENT}% may be capitals"
                        ),
                    )
                    .remediation(format!(
                        "Write the {label} in sentence or title case; keep capitals for brand names and acronyms."
                    )),
                );
            }
            let bangs = text.matches('!').count();
            if bangs > MAX_BANGS {
                findings.push(
                    finding(
                        pointer,
                        format!("the {label} has {bangs} exclamation marks; at most {MAX_BANGS} is allowed"),
                    )
                    .remediation(format!("Remove the extra exclamation marks from the {label}.")),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(Shouting);
