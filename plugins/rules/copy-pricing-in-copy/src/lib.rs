//! `copy.pricing-in-copy`: what the app costs is said in the pricing section, not in the copy.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::{phrase_at, words};

struct PricingInCopy;

/// Currency signs that start an amount (`$9`, `€ 29`, `R$49`).
const SIGNS: &[char] = &['$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₫', '₱', '₪'];
/// Currency codes and words that follow or precede an amount (`9 USD`, `USD 9`, `9 dollars`).
const CURRENCY_WORDS: &[&str] = &[
    "usd", "eur", "gbp", "cad", "aud", "nzd", "jpy", "inr", "chf", "sek", "nok", "dkk", "sgd", "hkd", "brl", "mxn",
    "dollar", "dollars", "euro", "euros", "pound", "pounds", "bucks",
];
/// Words that make an amount the app's own price: billing periods and price talk. An amount
/// without one of them nearby ("a free shipping bar for orders over $50", "only orders above
/// $100 get a gift note") describes a feature.
const BILLING_CUES: &[&[&str]] = &[
    &["per", "month"],
    &["a", "month"],
    &["per", "year"],
    &["a", "year"],
    &["mo"],
    &["month"],
    &["monthly"],
    &["yr"],
    &["year"],
    &["yearly"],
    &["annually"],
    &["one", "time"],
    &["plan"],
    &["plans"],
    &["pricing"],
    &["priced"],
    &["subscription"],
    &["billed"],
    &["once"],
    &["lifetime"],
    &["one", "off"],
];
/// How many words either side of an amount a billing cue may be.
const CUE_WINDOW: usize = 3;
/// Offers that are pricing information whatever surrounds them; reported in the name and summary.
const OFFERS: &[&[&str]] = &[
    &["free", "trial"],
    &["free", "plan"],
    &["free", "tier"],
    &["free", "forever"],
    &["forever", "free"],
    &["free", "to", "install"],
    &["free", "version"],
    &["money", "back", "guarantee"],
    &["day", "trial"],
    &["days", "free"],
];
/// Periods a free offer lasts ("free for 14 days").
const PERIODS: &[&str] = &["day", "days", "week", "weeks", "month", "months"];
/// Words after an offer that make it the merchant's own offer to their customers ("a free trial
/// of your subscription boxes"), which is a feature, not the app's price.
const MERCHANT_SIDE: &[&str] = &["your", "customers", "shoppers", "buyers", "subscribers", "members"];
/// Words near an amount that make it what the merchant charges their customers ("charge
/// subscribers $10 a month", "a product priced at $19.99"), not what the app costs.
const CHARGED_BY_MERCHANT: &[&str] = &[
    "customers",
    "customer",
    "shoppers",
    "buyers",
    "subscribers",
    "members",
    "visitors",
    "sell",
    "sells",
    "selling",
    "product",
    "products",
    "item",
    "items",
    "variant",
    "variants",
];
/// Words near an amount that make it a result the app claims ("save $200 a month"), not its price.
const RESULTS: &[&str] =
    &["save", "saves", "saving", "savings", "recover", "recovers", "earn", "earns", "revenue", "sales"];

fn is_number(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit()) && word.chars().all(|c| c.is_ascii_digit())
}

/// Amounts of money in `text` that a billing cue marks as the app's price, quoted as written.
fn priced_amounts(text: &str) -> Vec<&str> {
    let words = words(text);
    let mut found = Vec::new();
    for (i, (word, range)) in words.iter().enumerate() {
        if !is_number(word) || (i > 0 && is_number(&words[i - 1].0) && words[i - 1].1.end + 1 == range.start) {
            continue; // not a number, or the cents of "9.99"
        }
        // The whole number as written: "9", "9.99", "1,900".
        let mut last = i;
        while last + 1 < words.len()
            && is_number(&words[last + 1].0)
            && words[last + 1].1.start == words[last].1.end + 1
            && matches!(&text[words[last].1.end..words[last + 1].1.start], "." | ",")
        {
            last += 1;
        }
        let before = text[..range.start].trim_end_matches(' ');
        let sign = before.chars().next_back().filter(|c| SIGNS.contains(c));
        let code_before =
            i > 0 && CURRENCY_WORDS.contains(&words[i - 1].0.as_str()) && words[i - 1].1.end + 1 >= range.start;
        let code_after = words.get(last + 1).is_some_and(|(w, r)| {
            CURRENCY_WORDS.contains(&w.as_str()) && text[words[last].1.end..r.start].trim().is_empty()
        });
        if sign.is_none() && !code_before && !code_after {
            continue;
        }
        let from = i.saturating_sub(CUE_WINDOW + 1);
        let to = (last + CUE_WINDOW + 2).min(words.len());
        let cued = (from..to).any(|j| BILLING_CUES.iter().any(|cue| phrase_at(&words, j, cue)));
        let not_the_price = words[from..to]
            .iter()
            .any(|(w, _)| CHARGED_BY_MERCHANT.contains(&w.as_str()) || RESULTS.contains(&w.as_str()));
        if !cued || not_the_price {
            continue;
        }
        let start = match sign {
            Some(s) => before.len() - s.len_utf8(),
            None if code_before => words[i - 1].1.start,
            None => range.start,
        };
        let end = if code_after { words[last + 1].1.end } else { words[last].1.end };
        // Include a sign written as a prefix of a code ("R$", "US$").
        let start = text[..start]
            .char_indices()
            .next_back()
            .filter(|(_, c)| c.is_ascii_uppercase() && sign.is_some())
            .map_or(start, |(j, _)| {
                text[..j].char_indices().next_back().filter(|(_, c)| c.is_ascii_uppercase()).map_or(j, |(k, _)| k)
            });
        found.push(&text[start..end]);
    }
    found
}

/// Pricing offers in `text` ("free trial", "14-day trial"), quoted as written, unless the words
/// after them make them the merchant's offer to their own customers.
fn offers(text: &str) -> Vec<&str> {
    let words = words(text);
    let mut found = Vec::new();
    for i in 0..words.len() {
        // "free for 14 days", "free for 3 months".
        if words[i].0 == "free"
            && phrase_at(&words, i + 1, &["for"])
            && words.get(i + 2).is_some_and(|(w, _)| is_number(w))
            && words.get(i + 3).is_some_and(|(w, _)| PERIODS.contains(&w.as_str()))
        {
            found.push(&text[words[i].1.start..words[i + 3].1.end]);
            continue;
        }
        let Some(offer) = OFFERS.iter().find(|o| phrase_at(&words, i, o)) else { continue };
        let end = i + offer.len();
        if words[end..(end + 3).min(words.len())].iter().any(|(w, _)| MERCHANT_SIDE.contains(&w.as_str())) {
            continue;
        }
        // "14-day trial", "30 days free": include the number of days.
        let start = if matches!(offer[0], "day" | "days") && i > 0 && is_number(&words[i - 1].0) { i - 1 } else { i };
        found.push(&text[words[start].1.start..words[end - 1].1.end]);
    }
    found
}

impl Rule for PricingInCopy {
    fn info() -> RuleInfo {
        RuleInfo::new("copy.pricing-in-copy", "No prices or offers in the copy", "1.0.0", Severity::Warning)
            .description(
                "The name, summary and description do not state the app's price (an amount with a billing \
                 word nearby, such as \"$9/month\" or \"19 USD per year\"), and the name and summary do not \
                 advertise offers (\"free trial\", \"14-day trial\", \"free plan\"). Pricing belongs in the \
                 pricing section, which the marketplace shows next to the copy and bills from; prices in \
                 the copy go stale and contradict it. Amounts that describe features (\"orders over $50\") \
                 are not reported.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        for (field, text, check_offers) in
            [("name", &l.name, true), ("summary", &l.summary, true), ("description", &l.description, false)]
        {
            let mut found = priced_amounts(text);
            if check_offers {
                found.extend(offers(text));
            }
            found.dedup();
            if found.is_empty() {
                continue;
            }
            let quoted: Vec<String> = found.iter().map(|f| format!("`{f}`")).collect();
            findings.push(
                finding(pointer([field]), format!("the {field} states pricing: {}", quoted.join(", "))).remediation(
                    format!(
                        "Remove the pricing from the {field} and describe what the app does; list plans, prices \
                         and the trial in the [pricing] table, which the marketplace shows with the listing."
                    ),
                ),
            );
        }
        Ok(findings)
    }
}

export_rule!(PricingInCopy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_apps_own_price() {
        assert_eq!(priced_amounts("Only $9.99/month for unlimited orders"), ["$9.99"]);
        assert_eq!(priced_amounts("Plans start at 19 USD per month."), ["19 USD"]);
        assert_eq!(priced_amounts("Pro plan: € 1,900 a year"), ["€ 1,900"]);
        assert_eq!(priced_amounts("just R$49 monthly"), ["R$49"]);
        assert_eq!(priced_amounts("A lifetime licence for US$49, paid once"), ["US$49"]);
        assert_eq!(priced_amounts("USD 29 per month"), ["USD 29"]);
    }

    #[test]
    fn ignores_amounts_that_describe_features() {
        for text in [
            "Show a free shipping bar on orders over $50",
            "Flags refunds above €200 for review",
            "Sync 10,000 products every month",
            "Rounds prices to .99 endings",
            "Costs you nothing to sync 12 warehouses",
            "Charge subscribers $10 a month for a curated box",
            "Sell subscription boxes from $30 a month",
            "Save $200 a month on shipping labels",
            "Only orders above $100 get a gift note; discounts starting at $10 off",
            "Shows a product priced at $19.99 as EUR 18.40 for visitors in Germany",
        ] {
            assert!(priced_amounts(text).is_empty(), "{text}: {:?}", priced_amounts(text));
        }
    }

    #[test]
    fn finds_offers_but_not_the_merchants_own() {
        assert_eq!(offers("Start your 14-day trial. Free plan available!"), ["14-day trial", "Free plan"]);
        assert_eq!(offers("Free to install; 30 days free"), ["Free to install", "30 days free"]);
        assert_eq!(offers("Try it free for 14 days"), ["free for 14 days"]);
        assert!(offers("Offer a free trial of your subscription boxes").is_empty());
        assert!(offers("Free shipping labels and a free plan for your customers").is_empty());
        assert!(offers("Free shipping labels for every order").is_empty());
    }
}
