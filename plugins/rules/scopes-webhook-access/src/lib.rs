//! `scopes.webhook-access`: the app may read what its webhooks tell it about.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::scopes::{RESOURCES, scoped_resource};

struct WebhookAccess;

/// Whether scope `name` covers `resource`: `read_<resource>` or `write_<resource>`. A misspelling
/// of one (`read_order`, `Read_Orders`) counts too: `scopes.known` reports the misspelling, and
/// the missing access is the same mistake.
fn covers(name: &str, resource: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    let Some(scoped) = scoped_resource(&name) else { return false };
    scoped.trim_end_matches('s') == resource.trim_end_matches('s')
}

impl Rule for WebhookAccess {
    fn info() -> RuleInfo {
        RuleInfo::new("scopes.webhook-access", "Webhooks need a scope for their resource", "1.0.0", Severity::Error)
            .description(
                "Every webhook topic about a resource (`orders/create`, `customers/update`, \
                 `inventory/update`, ...) is covered by a scope for that resource: read_<resource>, or \
                 write_<resource>, which grants read. Events carry the resource's data, so they go only to \
                 apps allowed to read it: without the scope the subscription is refused or never fires, \
                 and the permission screen would not tell merchants what the app receives. Topics \
                 about the app itself (`app/uninstalled`) need no scope; unknown topics are \
                 webhooks.known-topics' to report.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let granted = |resource: &str| l.scopes.iter().any(|s| covers(&s.name, resource));
        let mut findings = Vec::new();
        for (i, webhook) in l.webhooks.iter().enumerate() {
            let topic = webhook.topic.trim();
            let Some((resource, _event)) = topic.split_once('/') else { continue };
            // A topic about anything but a catalogue resource is not a platform topic at all, which
            // is `webhooks.known-topics`' to report.
            if !RESOURCES.contains(&resource) || granted(resource) {
                continue;
            }
            findings.push(
                finding(
                    pointer(["webhooks", &i.to_string(), "topic"]),
                    format!(
                        "the app subscribes to `{topic}`, whose events carry {resource} data, but requests no scope \
                         for {resource} (`read_{resource}` or `write_{resource}`)"
                    ),
                )
                .remediation(format!(
                    "Request `read_{resource}` with a justification that says what the app does with these events, \
                     or remove the `{topic}` subscription if the app does not use it."
                )),
            );
        }
        Ok(findings)
    }
}

export_rule!(WebhookAccess);

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn read_or_write_covers_a_resource() {
        assert!(covers("read_orders", "orders") && covers("write_orders", "orders"));
        assert!(covers("read_order", "orders") && covers(" Read_Orders ", "orders"), "misspellings are scopes.known's");
        assert!(covers("write_inventory", "inventory"));
        assert!(
            !covers("read_products", "orders")
                && !covers("orders", "orders")
                && !covers("read_customers", "customer_x")
        );
    }
}
