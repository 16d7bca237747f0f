//! `urls.required`: the privacy policy, terms and a support page are linked.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct UrlsRequired;

/// Whether an optional URL is given and not blank.
fn present(url: &Option<String>) -> bool {
    url.as_deref().is_some_and(|u| !u.trim().is_empty())
}

impl Rule for UrlsRequired {
    fn info() -> RuleInfo {
        RuleInfo::new("urls.required", "Privacy, terms and support URLs", "1.0.0", Severity::Error).description(
            "Every listing links a privacy policy, terms of service and a support page (urls.support or \
             support.url). Merchants must be able to read what they agree to and where to get help \
             before they install an app.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        if !present(&l.urls.privacy_policy) {
            findings.push(
                finding("/urls/privacy-policy", "no privacy policy URL is given")
                    .remediation("Publish a privacy policy that covers the data the app receives and set urls.privacy-policy to its URL."),
            );
        }
        if !present(&l.urls.terms) {
            findings.push(
                finding("/urls/terms", "no terms of service URL is given")
                    .remediation("Publish terms of service for the app and set urls.terms to their URL."),
            );
        }
        if !present(&l.urls.support) && !present(&l.support.url) {
            findings.push(
                finding("/urls/support", "no support page URL is given (neither urls.support nor support.url)")
                    .remediation("Set urls.support to a page or form where merchants can get help."),
            );
        }
        Ok(findings)
    }
}

export_rule!(UrlsRequired);
