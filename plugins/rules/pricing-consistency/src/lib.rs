//! `pricing.consistency`: the pricing model, plans, prices and trial agree with each other.

use assay_sdk::{CheckInput, Config, Finding, PricingModel, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct PricingConsistency;

/// The longest free trial the marketplace allows.
const MAX_TRIAL_DAYS: u32 = 90;

fn model_name(model: PricingModel) -> &'static str {
    match model {
        PricingModel::Free => "free",
        PricingModel::Freemium => "freemium",
        PricingModel::Paid => "paid",
        PricingModel::Subscription => "subscription",
    }
}

impl Rule for PricingConsistency {
    fn info() -> RuleInfo {
        RuleInfo::new("pricing.consistency", "Consistent pricing", "1.0.0", Severity::Error).description(
            "The pricing model matches the plans: a free app has no plans and no trial; paid, \
             subscription and freemium apps list at least one paid plan; subscription plans bill \
             monthly or yearly; prices are above zero (a freemium app may list one free plan); \
             currencies are ISO 4217 codes such as USD; a trial lasts at most 90 days. Merchants are \
             billed from these fields, so contradictions mean surprise charges.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let pricing = &input.listing.pricing;
        let model = model_name(pricing.model);
        let mut findings = Vec::new();

        if let Some(days) = pricing.trial_days {
            if pricing.model == PricingModel::Free && days > 0 {
                findings.push(
                    finding("/pricing/trial-days", format!("the app is free but declares a {days}-day trial"))
                        .remediation(
                            "Remove trial-days, or choose the pricing model the app is actually billed under.",
                        ),
                );
            } else if days > MAX_TRIAL_DAYS {
                findings.push(
                    finding(
                        "/pricing/trial-days",
                        format!("the free trial lasts {days} days; the limit is {MAX_TRIAL_DAYS}"),
                    )
                    .remediation(format!("Shorten the trial to at most {MAX_TRIAL_DAYS} days.")),
                );
            }
        }

        if pricing.model == PricingModel::Free {
            if !pricing.plans.is_empty() {
                findings.push(
                    finding(
                        "/pricing/plans",
                        format!("the app is free but lists {} paid plan(s)", pricing.plans.len()),
                    )
                    .remediation("Remove the plans, or set pricing.model to freemium, paid or subscription."),
                );
            }
            return Ok(findings);
        }

        if !pricing.plans.iter().any(|p| p.price_cents > 0) {
            let message = if pricing.plans.is_empty() {
                format!("the pricing model is {model} but no plans are listed")
            } else {
                format!("the pricing model is {model} but every plan costs nothing")
            };
            findings.push(
                finding("/pricing/plans", message)
                    .remediation("List the paid plans merchants can choose, or set pricing.model to free."),
            );
        }

        let mut free_plans = 0;
        for (i, plan) in pricing.plans.iter().enumerate() {
            let at = |field: &str| pointer(["pricing", "plans", &i.to_string(), field]);
            let name = &plan.name;
            let interval = plan.interval.as_str();
            if pricing.model == PricingModel::Subscription && !matches!(interval, "month" | "year") {
                findings.push(
                    finding(
                        at("interval"),
                        format!("plan `{name}` bills `{interval}`, but subscription plans bill per `month` or `year`"),
                    )
                    .remediation("Set the interval to `month` or `year`, or use the paid model for one-off charges."),
                );
            } else if !matches!(interval, "month" | "year" | "once") {
                findings.push(
                    finding(at("interval"), format!("plan `{name}` has the unknown billing interval `{interval}`"))
                        .remediation("Set the interval to `month`, `year` or `once`."),
                );
            }
            if plan.price_cents == 0 {
                free_plans += 1;
                if pricing.model != PricingModel::Freemium || free_plans > 1 {
                    let why = if pricing.model == PricingModel::Freemium {
                        "a freemium app may list only one free plan"
                    } else {
                        "plans of a paid or subscription app must cost more than zero"
                    };
                    findings.push(
                        finding(at("price-cents"), format!("plan `{name}` costs nothing; {why}")).remediation(
                            "Set the plan's price in minor units (e.g. 1900 for 19.00), or remove the plan.",
                        ),
                    );
                }
            }
            let currency = &plan.currency;
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                findings.push(
                    finding(at("currency"), format!("plan `{name}` has currency `{currency}`, which is not an upper-case three-letter ISO 4217 code"))
                        .remediation("Write the currency as an upper-case ISO 4217 code, e.g. USD or EUR."),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(PricingConsistency);
