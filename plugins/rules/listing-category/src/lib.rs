//! `listing.category`: the listing sits in a category the marketplace has.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct Category;

/// The marketplace's categories unless the pack configures `categories`.
const DEFAULT_CATEGORIES: &[&str] = &[
    "analytics",
    "customer-support",
    "finance",
    "fulfillment",
    "inventory",
    "marketing",
    "productivity",
    "sales",
    "shipping",
    "store-design",
];

impl Rule for Category {
    fn info() -> RuleInfo {
        RuleInfo::new("listing.category", "Known marketplace category", "1.0.0", Severity::Error).description(
            "The category is one of the marketplace's categories (config `categories`, comma-separated). \
             A listing in an unknown category appears on no category page, so merchants browsing for it \
             never find it.",
        )
    }

    fn check(input: &CheckInput, config: &Config) -> Result<Vec<Finding>, String> {
        let categories = config.list("categories", DEFAULT_CATEGORIES);
        let category = input.listing.category.trim();
        if categories.contains(&category) {
            return Ok(Vec::new());
        }
        let remediation = match categories.iter().find(|c| c.eq_ignore_ascii_case(category)) {
            Some(c) => format!("Write the category exactly as `{c}`."),
            None => format!("Choose one of: {}.", categories.join(", ")),
        };
        Ok(vec![finding("/category", format!("`{category}` is not a marketplace category")).remediation(remediation)])
    }
}

export_rule!(Category);
