//! `scopes.justified`: every scope says, in the merchant's words, why the app needs it.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::plain_words;

struct ScopesJustified;

/// The shortest justification that can explain anything.
const MIN_CHARS: usize = 20;

/// Words that add nothing to a restated scope name ("We need the read orders scope").
const FILLER: &[&str] = &[
    "a",
    "access",
    "an",
    "app",
    "for",
    "is",
    "it",
    "need",
    "needed",
    "needs",
    "our",
    "permission",
    "require",
    "required",
    "requires",
    "scope",
    "the",
    "this",
    "to",
    "we",
];

/// Whether `justification` says nothing beyond the scope's own name.
fn restates(name: &str, justification: &str) -> bool {
    let name_words = plain_words(name);
    let words = plain_words(justification);
    !words.is_empty() && words.iter().all(|w| name_words.contains(w) || FILLER.contains(&w.as_str()))
}

impl Rule for ScopesJustified {
    fn info() -> RuleInfo {
        RuleInfo::new("scopes.justified", "Every scope is justified", "1.0.0", Severity::Error).description(
            "Every requested scope has a justification of at least 20 characters that explains why \
             the app needs it, rather than repeating the scope name. Merchants see these reasons on \
             the permission screen and cannot give informed consent without them.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (i, scope) in input.listing.scopes.iter().enumerate() {
            let pointer = pointer(["scopes", &i.to_string(), "justification"]);
            let name = &scope.name;
            let text = scope.justification.trim();
            let len = text.chars().count();
            let message = if text.is_empty() {
                format!("scope `{name}` has no justification")
            } else if restates(name, text) {
                format!("the justification of scope `{name}` only restates the scope name (\"{text}\")")
            } else if len < MIN_CHARS {
                format!(
                    "the justification of scope `{name}` has {len} characters; at least {MIN_CHARS} are required (\"{text}\")"
                )
            } else {
                continue;
            };
            findings.push(finding(pointer, message).remediation(format!(
                "Explain in a sentence what the app does with `{name}` and what the merchant gets from it."
            )));
        }
        Ok(findings)
    }
}

export_rule!(ScopesJustified);

#[cfg(test)]
mod tests {
    use super::restates;

    #[test]
    fn restating_the_name_is_not_a_reason() {
        assert!(restates("read_orders", "read orders"));
        assert!(restates("read_orders", "We need the read_orders scope to read orders."));
        assert!(!restates("read_orders", "Reads new orders to reserve their stock."));
    }
}
