//! `webhooks.app-uninstalled`: an app that keeps merchants' data hears when it is uninstalled.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::plain_words;

struct AppUninstalled;

/// The topic the platform sends when a merchant uninstalls the app.
const UNINSTALLED: &str = "app/uninstalled";
/// Scopes that give access to customers' personal data, unless the pack sets `personal-scopes`.
const DEFAULT_PERSONAL: &[&str] = &["read_customers", "write_customers"];
/// Words that make a data-shared entry personal data ("customer e-mail addresses", "delivery
/// name and phone number"). Shares of anything else (package weights, sales totals) are not held
/// about people, and are not reported.
const PERSONAL_WORDS: &[&str] = &[
    "customer",
    "customers",
    "buyer",
    "buyers",
    "shopper",
    "shoppers",
    "recipient",
    "recipients",
    "name",
    "names",
    "email",
    "emails",
    "mail",
    "address",
    "addresses",
    "phone",
    "phones",
    "personal",
    "contact",
    "contacts",
    "birthday",
    "birthdays",
    "ip",
];
/// Words that negate a personal word right after them ("no customer data").
const NEGATIONS: &[&str] = &["no", "not", "without", "non", "excluding"];

/// Whether a data-shared `data` description names personal data (not negated: "no customer data").
fn personal(data: &str) -> bool {
    let words = plain_words(data);
    words.iter().enumerate().any(|(i, w)| {
        PERSONAL_WORDS.contains(&w.as_str())
            && !words[i.saturating_sub(2)..i].iter().any(|p| NEGATIONS.contains(&p.as_str()))
    })
}

impl Rule for AppUninstalled {
    fn info() -> RuleInfo {
        RuleInfo::new("webhooks.app-uninstalled", "Data-holding apps hear about uninstalls", "1.0.0", Severity::Error)
            .description(
                "An app that holds merchants' data outside the platform subscribes to app/uninstalled, so it \
                 can stop processing, stop sharing and delete the shop's data when a merchant removes it. \
                 It is an error when the app requests customers' personal data (config `personal-scopes`), \
                 and a warning when it shares personal data (names, e-mail or postal addresses, phone \
                 numbers, customer records) with third parties.",
            )
    }

    fn check(input: &CheckInput, config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        if l.webhooks.iter().any(|w| w.topic.trim() == UNINSTALLED) {
            return Ok(Vec::new());
        }
        let personal_scopes = config.list("personal-scopes", DEFAULT_PERSONAL);
        let customer_scope = l.scopes.iter().map(|s| s.name.trim()).find(|n| personal_scopes.contains(n));
        let shared = l.data_shared.iter().position(|d| personal(&d.data));
        let (why, severity) = match (customer_scope, shared) {
            (Some(scope), _) => (format!("requests customers' personal data (`{scope}`)"), Severity::Error),
            (None, Some(i)) => (
                format!(
                    "shares personal data with third parties (`{}`, /data-shared/{i})",
                    l.data_shared[i].data.trim()
                ),
                Severity::Warning,
            ),
            (None, None) => return Ok(Vec::new()),
        };
        Ok(vec![
            finding(
                pointer(["webhooks"]),
                format!(
                    "the app {why} but does not subscribe to `{UNINSTALLED}`, so it keeps the data after a merchant \
                     removes it"
                ),
            )
            .remediation(format!(
                "Add a [[webhooks]] subscription to `{UNINSTALLED}` on your own HTTPS endpoint; when it arrives, \
                 stop processing and sharing the shop's data and delete it as your privacy policy says."
            ))
            .severity(severity),
        ])
    }
}

export_rule!(AppUninstalled);

#[cfg(test)]
mod tests {
    use super::personal;

    #[test]
    fn personal_data_is_about_people() {
        for data in ["customer names and e-mail addresses", "delivery name, address and phone number", "IP addresses"] {
            assert!(personal(data), "{data}");
        }
        for data in [
            "product sales history (no customer data)",
            "package weights and destination country",
            "daily sales totals",
        ] {
            assert!(!personal(data), "{data}");
        }
    }
}
