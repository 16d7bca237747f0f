//! `webhooks.known-topics`: every webhook subscribes to a topic the platform sends, once.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct KnownTopics;

/// The event topics the platform delivers.
const TOPICS: &[&str] = &[
    "products/create",
    "products/update",
    "products/delete",
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "customers/create",
    "customers/update",
    "customers/delete",
    "app/uninstalled",
    "inventory/update",
    "fulfillments/create",
];

impl Rule for KnownTopics {
    fn info() -> RuleInfo {
        RuleInfo::new("webhooks.known-topics", "Known webhook topics, subscribed once", "1.0.0", Severity::Error)
            .description(
                "Every webhook topic is one the platform delivers, and no topic is subscribed twice. \
                 A subscription to an unknown topic never fires, so the app silently misses the events \
                 it depends on; a duplicate delivers every event twice.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let webhooks = &input.listing.webhooks;
        let mut findings = Vec::new();
        for (i, webhook) in webhooks.iter().enumerate() {
            let topic = &webhook.topic;
            let pointer = pointer(["webhooks", &i.to_string(), "topic"]);
            if !TOPICS.contains(&topic.as_str()) {
                let remediation = match TOPICS.iter().find(|t| t.eq_ignore_ascii_case(topic.trim())) {
                    Some(t) => format!("Write the topic exactly as `{t}`."),
                    None => format!("Use one of: {}.", TOPICS.join(", ")),
                };
                findings.push(
                    finding(pointer.clone(), format!("webhook topic `{topic}` is not a topic the platform delivers"))
                        .remediation(remediation),
                );
            }
            if let Some(first) = webhooks[..i].iter().position(|w| w.topic == *topic) {
                findings.push(
                    finding(
                        pointer,
                        format!("webhook topic `{topic}` is subscribed twice (first at /webhooks/{first})"),
                    )
                    .remediation("Keep one subscription per topic."),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(KnownTopics);
