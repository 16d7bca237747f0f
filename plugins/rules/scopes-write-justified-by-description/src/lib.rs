//! `scopes.write-justified-by-description`: what an app changes, its listing talks about.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::plain_words;

struct WriteDescribed;

/// The ways a resource can be written: as named, and with its last word singular
/// (`orders` → `order`, `price_rules` → `price rule`).
fn spellings(resource: &str) -> Vec<Vec<String>> {
    let plural = plain_words(resource);
    let mut singular = plural.clone();
    if let Some(last) = singular.last_mut()
        && let Some(stem) = last.strip_suffix('s')
        && !stem.is_empty()
    {
        *last = stem.to_owned();
    }
    if singular == plural { vec![plural] } else { vec![plural, singular] }
}

/// Whether `text` mentions `resource` as whole words.
fn mentions(text: &str, resource: &str) -> bool {
    let text = plain_words(text);
    spellings(resource)
        .iter()
        .any(|phrase| !phrase.is_empty() && text.windows(phrase.len()).any(|w| w == phrase.as_slice()))
}

impl Rule for WriteDescribed {
    fn info() -> RuleInfo {
        RuleInfo::new(
            "scopes.write-justified-by-description",
            "Write scopes match the description",
            "1.0.0",
            Severity::Warning,
        )
        .description(
            "For every write_<resource> scope, the resource (or its singular, e.g. `order` for \
             `orders`) is mentioned in the description or in that scope's justification. An app that \
             changes data its listing never talks about surprises merchants, and often asks for more \
             than it needs.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        for (i, scope) in l.scopes.iter().enumerate() {
            let Some(resource) = scope.name.strip_prefix("write_") else {
                continue;
            };
            if plain_words(resource).is_empty()
                || mentions(&l.description, resource)
                || mentions(&scope.justification, resource)
            {
                continue;
            }
            let name = &scope.name;
            findings.push(
                finding(
                    pointer(["scopes", &i.to_string(), "name"]),
                    format!("scope `{name}` lets the app change {resource}, but neither the description nor its justification mentions {resource}"),
                )
                .remediation(format!(
                    "Say in the description what the app changes in {resource} and why, or drop `{name}` if the app does not need it."
                )),
            );
        }
        Ok(findings)
    }
}

export_rule!(WriteDescribed);

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn matches_plural_or_singular_whole_words() {
        assert!(mentions("Tags each new order.", "orders"));
        assert!(mentions("Keeps Inventory in sync.", "inventory"));
        assert!(mentions("Creates price rules.", "price_rules"));
        assert!(!mentions("Recorders and reorders.", "orders"));
        assert!(!mentions("Productions.", "products"));
    }
}
