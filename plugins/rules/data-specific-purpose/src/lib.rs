//! `data.specific-purpose`: why data is shared is said concretely.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::{plain_words, quoted_or};

struct SpecificPurpose;

/// Purposes shorter than this are data.sharing-disclosed's to report.
const MIN_PURPOSE_CHARS: usize = 10;

/// Words that do not say what is done with data. A purpose made only of these ("business
/// purposes", "to improve our services", "analytics and marketing") could justify anything; one
/// concrete word ("computes the daily restock forecast", "prints shipping labels") makes it a purpose.
const VAGUE: &[&str] = &[
    "a",
    "all",
    "an",
    "analyse",
    "analysis",
    "analytics",
    "analyze",
    "and",
    "any",
    "app",
    "application",
    "are",
    "as",
    "be",
    "better",
    "business",
    "by",
    "can",
    "data",
    "development",
    "enhance",
    "enhancing",
    "etc",
    "experience",
    "feature",
    "features",
    "for",
    "functionality",
    "general",
    "help",
    "helps",
    "improve",
    "improvement",
    "improvements",
    "improving",
    "in",
    "including",
    "information",
    "interest",
    "interests",
    "internal",
    "is",
    "it",
    "its",
    "legitimate",
    "marketing",
    "may",
    "misc",
    "miscellaneous",
    "necessary",
    "needed",
    "of",
    "on",
    "operate",
    "operating",
    "operation",
    "operational",
    "operations",
    "optimisation",
    "optimise",
    "optimization",
    "optimize",
    "or",
    "other",
    "others",
    "our",
    "performance",
    "platform",
    "process",
    "processing",
    "product",
    "products",
    "provide",
    "providing",
    "purpose",
    "purposes",
    "quality",
    "reason",
    "reasons",
    "related",
    "required",
    "research",
    "service",
    "services",
    "such",
    "the",
    "their",
    "this",
    "to",
    "us",
    "use",
    "used",
    "users",
    "various",
    "we",
    "with",
    "your",
];

/// Whether `purpose` says nothing concrete about what is done with the data.
fn vague(purpose: &str) -> bool {
    let words = plain_words(purpose);
    !words.is_empty() && words.iter().all(|w| VAGUE.contains(&w.as_str()))
}

impl Rule for SpecificPurpose {
    fn info() -> RuleInfo {
        RuleInfo::new("data.specific-purpose", "Data sharing has a specific purpose", "1.0.0", Severity::Warning)
            .description(
                "Every data-shared purpose says what the recipient does with the data, not boilerplate made \
                 only of vague words (\"business purposes\", \"to improve our services\", \"analytics and \
                 marketing\"). Data may only be used for the purposes it was shared for, so a purpose that \
                 could cover anything tells the merchant nothing. Purposes under 10 characters are \
                 data.sharing-disclosed's to report.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (i, share) in input.listing.data_shared.iter().enumerate() {
            let purpose = share.purpose.trim();
            if purpose.chars().count() < MIN_PURPOSE_CHARS || !vague(purpose) {
                continue;
            }
            let what = quoted_or(share.data.trim(), "the data");
            findings.push(
                finding(
                    pointer(["data-shared", &i.to_string(), "purpose"]),
                    format!("the purpose of sharing {what} (\"{purpose}\") does not say what is done with it"),
                )
                .remediation(
                    "Say what the recipient does with the data and what the merchant gets from it, e.g. \"Computes \
                     the daily restock forecasts shown in the app.\"",
                ),
            );
        }
        Ok(findings)
    }
}

export_rule!(SpecificPurpose);

#[cfg(test)]
mod tests {
    use super::vague;

    #[test]
    fn boilerplate_is_vague() {
        for purpose in [
            "Business purposes",
            "To improve our services",
            "Analytics and marketing purposes",
            "For the operation of the app and related services",
            "Product analytics",
        ] {
            assert!(vague(purpose), "{purpose}");
        }
    }

    #[test]
    fn a_concrete_use_is_specific() {
        for purpose in [
            "Computes the daily restock forecasts shown in the app.",
            "Prints shipping labels for new orders",
            "Sends order confirmation e-mails to your customers",
            "Fraud screening of new orders",
            "Analytics dashboards of sales by location",
        ] {
            assert!(!vague(purpose), "{purpose}");
        }
    }
}
