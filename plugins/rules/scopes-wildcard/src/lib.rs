//! `scopes.wildcard`: no scope grants blanket or administrative access.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct ScopesWildcard;

/// Why a scope name asks for blanket access, if it does.
fn blanket(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split(['_', ':', '-', '.', '/']).collect();
    if lower.contains('*') {
        Some("is a wildcard")
    } else if lower.contains("full_access") || tokens.windows(2).any(|w| w == ["full", "access"]) {
        Some("asks for full access")
    } else if tokens.iter().any(|t| t.starts_with("admin")) {
        Some("asks for administrator access")
    } else if tokens.contains(&"superuser") {
        Some("asks for superuser access")
    } else if tokens.contains(&"all") {
        Some("asks for all resources at once")
    } else {
        None
    }
}

impl Rule for ScopesWildcard {
    fn info() -> RuleInfo {
        RuleInfo::new("scopes.wildcard", "No wildcard or admin scopes", "1.0.0", Severity::Blocker).description(
            "No scope is a wildcard (`*`, `...:*`, `..._*`) or asks for admin, all, full_access or \
             superuser rights. Apps get the narrowest access that does the job, so a compromised app \
             cannot take over a merchant's store.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (i, scope) in input.listing.scopes.iter().enumerate() {
            let name = &scope.name;
            if let Some(why) = blanket(name) {
                findings.push(
                    finding(pointer(["scopes", &i.to_string(), "name"]), format!("scope `{name}` {why}"))
                        .remediation("Request only the specific read_<resource> and write_<resource> scopes the app uses, e.g. `read_orders`."),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(ScopesWildcard);

#[cfg(test)]
mod tests {
    use super::blanket;

    #[test]
    fn flags_blanket_scopes_only() {
        for name in ["*", "orders:*", "write_*", "read_all", "admin", "store_admin", "full_access", "superuser"] {
            assert!(blanket(name).is_some(), "{name}");
        }
        for name in ["read_orders", "write_inventory", "read_installs", "write_gallery"] {
            assert_eq!(blanket(name), None, "{name}");
        }
    }
}
