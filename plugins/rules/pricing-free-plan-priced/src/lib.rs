//! `pricing.free-plan-priced`: a plan called free costs nothing.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::plain_words;

struct FreePlanPriced;

/// Words that may follow "free" in a plan name that says the plan is free ("Free plan", "Free
/// forever"). Any other word ("Free Shipping Pro") makes "free" part of a feature name.
const AFTER_FREE: &[&str] =
    &["plan", "tier", "forever", "version", "edition", "starter", "account", "package", "trial"];
/// Words that may come before "free" in such a name ("Forever free", "Always free").
const BEFORE_FREE: &[&str] = &["forever", "always", "totally", "completely", "100"];
/// Other words for free.
const FREE_WORDS: &[&str] = &["free", "gratis"];

/// Whether a plan called `name` claims to be free.
fn says_free(name: &str) -> bool {
    match plain_words(name).iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [w] => FREE_WORDS.contains(w),
        [a, b] => {
            (FREE_WORDS.contains(a) && AFTER_FREE.contains(b)) || (BEFORE_FREE.contains(a) && FREE_WORDS.contains(b))
        }
        _ => false,
    }
}

impl Rule for FreePlanPriced {
    fn info() -> RuleInfo {
        RuleInfo::new("pricing.free-plan-priced", "A plan called free costs nothing", "1.0.0", Severity::Error)
            .description(
                "No plan whose name says it is free (\"Free\", \"Free plan\", \"Free tier\", \"Forever free\", \
                 \"Free trial\") has a price above zero. Merchants who pick a plan called free and are then \
                 charged have been misled. Names where \"free\" names a feature (\"Free Shipping Pro\") are not \
                 reported.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (i, plan) in input.listing.pricing.plans.iter().enumerate() {
            if plan.price_cents == 0 || !says_free(&plan.name) {
                continue;
            }
            let name = plan.name.trim();
            findings.push(
                finding(
                    pointer(["pricing", "plans", &i.to_string(), "price-cents"]),
                    format!(
                        "plan `{name}` says it is free but costs {} in minor units of {} per {}",
                        plan.price_cents,
                        plan.currency,
                        plan.interval.trim()
                    ),
                )
                .remediation(format!(
                    "Set the price of `{name}` to 0 (a freemium listing may have one free plan), or rename the plan \
                     after what it offers; describe a trial with pricing.trial-days, not with a plan."
                )),
            );
        }
        Ok(findings)
    }
}

export_rule!(FreePlanPriced);

#[cfg(test)]
mod tests {
    use super::says_free;

    #[test]
    fn only_names_that_claim_free() {
        for name in ["Free", "free plan", "Free Tier", "Forever free", "FREE TRIAL", "Gratis", "Free-forever"] {
            assert!(says_free(name), "{name}");
        }
        for name in
            ["Free Shipping Pro", "Freemium", "Pro", "Free shipping", "Starter (free trial included)", "Carefree"]
        {
            assert!(!says_free(name), "{name}");
        }
    }
}
