//! `scopes.known`: every scope exists in the platform's catalogue, once.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::scopes::{RESOURCES, scoped_resource};

struct ScopesKnown;

/// Whether `name` is `read_<resource>` or `write_<resource>` from the catalogue.
fn known(name: &str) -> bool {
    scoped_resource(name).is_some_and(|r| RESOURCES.contains(&r))
}

/// A catalogue scope `name` was probably meant to be (`read_order` → `read_orders`).
fn suggestion(name: &str) -> Option<String> {
    let lower = name.trim().to_ascii_lowercase();
    [lower.clone(), format!("{lower}s"), lower.trim_end_matches('s').to_owned()]
        .into_iter()
        .find(|candidate| candidate != name && known(candidate))
}

impl Rule for ScopesKnown {
    fn info() -> RuleInfo {
        RuleInfo::new("scopes.known", "Known scopes, requested once", "1.0.0", Severity::Error).description(
            "Every scope is read_<resource> or write_<resource> for a resource in the platform's \
             catalogue (shop, products, orders, customers, inventory, fulfillments, discounts, webhooks, \
             analytics, themes), and none is requested twice. Unknown scopes cannot be granted, so the \
             app would fail at install time.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let scopes = &input.listing.scopes;
        let mut findings = Vec::new();
        for (i, scope) in scopes.iter().enumerate() {
            let name = &scope.name;
            let pointer = pointer(["scopes", &i.to_string(), "name"]);
            if !known(name) {
                let remediation = match suggestion(name) {
                    Some(s) => format!("Did you mean `{s}`?"),
                    None => format!("Use read_<resource> or write_<resource> with one of: {}.", RESOURCES.join(", ")),
                };
                findings.push(
                    finding(pointer.clone(), format!("scope `{name}` is not in the platform's scope catalogue"))
                        .remediation(remediation),
                );
            }
            if let Some(first) = scopes[..i].iter().position(|s| s.name == *name) {
                findings.push(
                    finding(pointer, format!("scope `{name}` is requested twice (first at /scopes/{first})"))
                        .remediation("Remove the duplicate scope and merge its justification into the first one."),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(ScopesKnown);
