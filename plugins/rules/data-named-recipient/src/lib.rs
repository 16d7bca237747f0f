//! `data.named-recipient`: data is shared with someone the listing names.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::{plain_words, quoted_or};

struct NamedRecipient;

/// Words that say nothing about who receives data. A recipient made only of these ("third
/// parties", "our trusted partners", "service providers and affiliates") names nobody; one more
/// word ("Forecastly Inc.", "shipping carriers", "Google Analytics") makes it a disclosure.
const GENERIC: &[&str] = &[
    "a",
    "affiliate",
    "affiliated",
    "affiliates",
    "an",
    "and",
    "any",
    "applicable",
    "approved",
    "associated",
    "business",
    "businesses",
    "carefully",
    "certain",
    "chosen",
    "companies",
    "company",
    "contractor",
    "contractors",
    "entities",
    "entity",
    "etc",
    "external",
    "group",
    "including",
    "many",
    "multiple",
    "n",
    "na",
    "none",
    "of",
    "or",
    "organisation",
    "organisations",
    "organization",
    "organizations",
    "other",
    "others",
    "our",
    "outside",
    "parent",
    "parties",
    "partner",
    "partners",
    "party",
    "processor",
    "processors",
    "provider",
    "providers",
    "related",
    "relevant",
    "reputable",
    "select",
    "selected",
    "service",
    "services",
    "several",
    "some",
    "subprocessor",
    "subprocessors",
    "subsidiaries",
    "subsidiary",
    "supplier",
    "suppliers",
    "tbd",
    "the",
    "their",
    "third",
    "3rd",
    "to",
    "trusted",
    "unknown",
    "us",
    "various",
    "vendor",
    "vendors",
    "we",
    "with",
];

/// Whether `recipient` (not blank) names nobody in particular.
fn generic(recipient: &str) -> bool {
    plain_words(recipient).iter().all(|w| GENERIC.contains(&w.as_str()))
}

impl Rule for NamedRecipient {
    fn info() -> RuleInfo {
        RuleInfo::new("data.named-recipient", "Data recipients are named", "1.0.0", Severity::Error).description(
            "Every data-shared entry names who receives the data (a company or service, e.g. \"Forecastly \
             Inc.\", or at least a kind of recipient such as \"shipping carriers\"), not boilerplate made only \
             of generic words (\"third parties\", \"our partners\", \"service providers and affiliates\"). \
             Merchants must be able to tell their customers where personal data goes; a recipient that \
             names nobody discloses nothing. Blank recipients are data.sharing-disclosed's to report.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (i, share) in input.listing.data_shared.iter().enumerate() {
            let recipient = share.recipient.trim();
            if recipient.is_empty() || !generic(recipient) {
                continue;
            }
            let what = quoted_or(share.data.trim(), "the data");
            findings.push(
                finding(
                    pointer(["data-shared", &i.to_string(), "recipient"]),
                    format!("the recipient of {what} is \"{recipient}\", which names nobody"),
                )
                .remediation(
                    "Name each company or service that receives the data (e.g. \"Forecastly Inc., our forecasting \
                     processor\"), with one data-shared entry per recipient.",
                ),
            );
        }
        Ok(findings)
    }
}

export_rule!(NamedRecipient);

#[cfg(test)]
mod tests {
    use super::generic;

    #[test]
    fn boilerplate_names_nobody() {
        for recipient in [
            "third parties",
            "Third-party partners",
            "our trusted partners",
            "Service providers and affiliates",
            "N/A",
            "3rd parties",
        ] {
            assert!(generic(recipient), "{recipient}");
        }
    }

    #[test]
    fn a_name_or_a_kind_of_recipient_is_a_disclosure() {
        for recipient in [
            "Forecastly Inc., our demand-forecasting processor",
            "Google Analytics",
            "shipping carriers (UPS, FedEx)",
            "Stripe",
            "payment processors",
        ] {
            assert!(!generic(recipient), "{recipient}");
        }
    }
}
