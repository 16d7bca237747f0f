//! `copy.app-name`: the app name is short, and neither it nor the summary borrows the
//! marketplace's own brand.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};
use rule_common::text::plain_words;

struct AppName;

/// The longest name app cards and search results show in full, unless the pack sets `max-chars`.
const DEFAULT_MAX_CHARS: usize = 30;
/// Names longer than this are `listing.required-fields`' to report (as errors); this rule stays quiet.
const REQUIRED_FIELDS_MAX: usize = 50;
/// The marketplace's own brand names, unless the pack sets `brands` (comma-separated).
const DEFAULT_BRANDS: &[&str] = &["Assay"];

/// The first brand of `brands` that `text` contains as whole words (`Assay` matches
/// "Assay Sync" and "sync-for-assay", not "Assayer").
fn brand_in<'a>(text: &str, brands: &[&'a str]) -> Option<&'a str> {
    let text = plain_words(text);
    brands.iter().copied().find(|brand| {
        let brand = plain_words(brand);
        !brand.is_empty() && text.windows(brand.len()).any(|w| w == brand.as_slice())
    })
}

impl Rule for AppName {
    fn info() -> RuleInfo {
        RuleInfo::new("copy.app-name", "Short app name without the marketplace brand", "1.0.0", Severity::Error)
            .description(
                "The app name does not contain the marketplace's own brand (config `brands`), which \
                 would suggest the marketplace made or endorses the app, and is at most 30 characters \
                 (config `max-chars`) so app cards and search results show it whole; a brand in the \
                 summary is a warning, a long name a warning.",
            )
    }

    fn check(input: &CheckInput, config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let brands = config.list("brands", DEFAULT_BRANDS);
        let max = match config.get("max-chars") {
            Some(v) => v.trim().parse::<usize>().map_err(|_| format!("config `max-chars` = `{v}` is not a number"))?,
            None => DEFAULT_MAX_CHARS,
        };
        let mut findings = Vec::new();
        let name = l.name.trim();
        if let Some(brand) = brand_in(name, &brands) {
            findings.push(
                finding("/name", format!("the app name `{name}` contains the marketplace brand `{brand}`"))
                    .remediation(format!(
                        "Remove `{brand}` from the name: merchants would read it as an app made or endorsed by the \
                         marketplace. Name the app after what it does or after your own brand."
                    )),
            );
        }
        let len = name.chars().count();
        if len > max && len <= REQUIRED_FIELDS_MAX {
            findings.push(
                finding("/name", format!("the app name has {len} characters; app cards show at most {max}"))
                    .remediation(format!(
                        "Shorten the name to {max} characters or fewer; move descriptive words to the summary."
                    ))
                    .severity(Severity::Warning),
            );
        }
        if let Some(brand) = brand_in(&l.summary, &brands) {
            findings.push(
                finding("/summary", format!("the summary contains the marketplace brand `{brand}`"))
                    .remediation(format!(
                        "Describe what the app does for the merchant without naming `{brand}`: every app on \
                         the marketplace works with it."
                    ))
                    .severity(Severity::Warning),
            );
        }
        Ok(findings)
    }
}

export_rule!(AppName);

#[cfg(test)]
mod tests {
    use super::brand_in;

    #[test]
    fn brands_match_whole_words_only() {
        let brands = ["Assay", "Assay Marketplace"];
        assert_eq!(brand_in("Assay Stock Sync", &brands), Some("Assay"));
        assert_eq!(brand_in("stock-sync-for-ASSAY", &brands), Some("Assay"));
        assert_eq!(brand_in("Assayer Gold Tools", &brands), None);
        assert_eq!(brand_in("Essay Writer", &brands), None);
        assert_eq!(brand_in("Sync for the marketplace", &["Assay Marketplace"]), None);
        assert_eq!(brand_in("Best of Assay Marketplace", &["Assay Marketplace"]), Some("Assay Marketplace"));
    }
}
