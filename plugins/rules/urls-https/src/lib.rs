//! `urls.https`: every public listing URL is served over HTTPS.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};
use rule_common::url::scheme;

struct UrlsHttps;

/// (pointer, label, value) of every public URL a listing can give.
fn listing_urls(input: &CheckInput) -> [(&'static str, &'static str, Option<&str>); 5] {
    let l = &input.listing;
    [
        ("/urls/homepage", "homepage URL", l.urls.homepage.as_deref()),
        ("/urls/privacy-policy", "privacy policy URL", l.urls.privacy_policy.as_deref()),
        ("/urls/terms", "terms of service URL", l.urls.terms.as_deref()),
        ("/urls/support", "support URL", l.urls.support.as_deref()),
        ("/support/url", "support contact URL", l.support.url.as_deref()),
    ]
}

impl Rule for UrlsHttps {
    fn info() -> RuleInfo {
        RuleInfo::new("urls.https", "Listing URLs use HTTPS", "1.0.0", Severity::Error).description(
            "The homepage, privacy policy, terms and support URLs use https. Pages reached over plain \
             http can be altered in transit, so merchants could read a tampered policy or be sent to a \
             fake support form.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (pointer, label, url) in listing_urls(input) {
            let Some(url) = url else { continue };
            let scheme = scheme(url);
            if scheme == "https" {
                continue;
            }
            let remediation = match url.split_once("://") {
                Some((_, rest)) if scheme == "http" => {
                    format!("Serve the page over HTTPS and change the {label} to `https://{rest}`.")
                }
                _ => format!("Use an https:// address for the {label}."),
            };
            findings.push(
                finding(pointer, format!("the {label} `{url}` uses `{scheme}`, not https")).remediation(remediation),
            );
        }
        Ok(findings)
    }
}

export_rule!(UrlsHttps);
