//! `pricing.plan-names`: every plan has a name, and no two plans billed alike share one.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct PlanNames;

/// A plan name as merchants compare it: trimmed, lower-cased, with runs of white space as one space.
fn normalized(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Rule for PlanNames {
    fn info() -> RuleInfo {
        RuleInfo::new("pricing.plan-names", "Named, distinct plans", "1.0.0", Severity::Error).description(
            "Every plan has a name, and no two plans with the same billing interval share a name (ignoring \
             case and spacing). Merchants choose and are billed by plan name: two \"Pro\" plans billed \
             monthly at different prices cannot be told apart on the plan page or the invoice. The same \
             name with another interval (\"Pro\" monthly and yearly) is fine.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let plans = &input.listing.pricing.plans;
        let mut findings = Vec::new();
        for (i, plan) in plans.iter().enumerate() {
            let at = pointer(["pricing", "plans", &i.to_string(), "name"]);
            let name = normalized(&plan.name);
            if name.is_empty() {
                findings.push(
                    finding(at, format!("plan {i} has no name"))
                        .remediation("Give the plan the name merchants will see on the plan page and their invoice."),
                );
                continue;
            }
            let interval = plan.interval.trim().to_lowercase();
            let twin = plans[..i]
                .iter()
                .position(|p| normalized(&p.name) == name && p.interval.trim().to_lowercase() == interval);
            if let Some(j) = twin {
                findings.push(
                    finding(
                        at,
                        format!(
                            "plan `{}` has the same name and interval (`{interval}`) as plan `{}` at /pricing/plans/{j}",
                            plan.name.trim(),
                            plans[j].name.trim()
                        ),
                    )
                    .remediation(
                        "Give each plan its own name (e.g. `Starter` and `Growth`), or remove the duplicate plan.",
                    ),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(PlanNames);

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn names_compare_without_case_or_spacing() {
        assert_eq!(normalized("  Growth   Plus "), "growth plus");
        assert_eq!(normalized("GROWTH plus"), normalized("Growth Plus"));
        assert_ne!(normalized("Growth"), normalized("Growth (annual)"));
    }
}
