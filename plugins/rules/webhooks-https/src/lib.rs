//! `webhooks.https`: events about merchants' stores are delivered over HTTPS only.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::url::scheme;

struct WebhooksHttps;

impl Rule for WebhooksHttps {
    fn info() -> RuleInfo {
        RuleInfo::new("webhooks.https", "Webhooks use HTTPS", "1.0.0", Severity::Error).description(
            "Every webhook URL uses https. Webhook payloads carry orders, customers and other store \
             data; over plain http they can be read or forged in transit.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (i, webhook) in input.listing.webhooks.iter().enumerate() {
            let url = &webhook.url;
            let scheme = scheme(url);
            if scheme == "https" {
                continue;
            }
            let remediation = match url.split_once("://") {
                Some((_, rest)) if scheme == "http" => {
                    format!("Serve the endpoint over HTTPS and change the URL to `https://{rest}`.")
                }
                _ => "Use an https:// endpoint for the webhook.".to_owned(),
            };
            findings.push(
                finding(
                    pointer(["webhooks", &i.to_string(), "url"]),
                    format!("the `{}` webhook is delivered to `{url}` over `{scheme}`, not https", webhook.topic),
                )
                .remediation(remediation),
            );
        }
        Ok(findings)
    }
}

export_rule!(WebhooksHttps);
