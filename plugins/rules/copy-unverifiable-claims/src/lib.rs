//! `copy.unverifiable-claims`: no rankings, superlatives, guarantees or made-up statistics.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::{Word, phrase_at, words};

struct UnverifiableClaims;

/// How sure we are that a phrase is a claim reviewers refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    /// A superlative, guarantee or statistic about the app's effect.
    Superlative,
    /// A ranking in the marketplace or the market ("#1", "top-rated").
    Rank,
}

/// Nouns that make "best", "the only" and "the first" a claim about the app itself.
const APP_NOUNS: &[&str] = &[
    "app",
    "apps",
    "tool",
    "tools",
    "solution",
    "solutions",
    "software",
    "plugin",
    "plugins",
    "extension",
    "extensions",
    "integration",
    "integrations",
    "platform",
];
/// Words after "best" that make it an honest description ("best-selling products", "best practices").
const BEST_HONEST: &[&str] = &["seller", "sellers", "selling", "practice", "practices"];
/// Words right after "best" that make it about how the app works, not a ranking ("works best with
/// our app", "best for small stores").
const BEST_HOW: &[&str] = &["with", "for", "when", "if", "on", "at", "to", "of", "as", "rated"];
/// Rankings, as word sequences; they claim a rank for the app only when an app noun follows
/// ("top-rated app"), since merchants' products are ranked too ("your top-rated products").
const RANKS: &[&[&str]] = &[
    &["number", "one"],
    &["number", "1"],
    &["top", "rated"],
    &["top", "ranked"],
    &["highest", "rated"],
    &["best", "rated"],
    &["most", "popular"],
    &["most", "installed"],
    &["most", "downloaded"],
];
/// Superlatives that need no noun after them, as word sequences.
const SUPERLATIVES: &[&[&str]] = &[
    &["industry", "leading"],
    &["market", "leading"],
    &["award", "winning"],
    &["best", "in", "class"],
    &["best", "in", "the", "world"],
    &["best", "in", "the", "market"],
    &["best", "on", "the", "market"],
];
/// What comes after "world's" in a claim ("world's leading", "world's first").
const WORLDS: &[&str] =
    &["best", "leading", "first", "only", "largest", "biggest", "fastest", "smartest", "most", "number", "no", "1"];
/// Business results a guarantee or statistic can promise.
const OUTCOMES: &[&str] = &[
    "results",
    "sales",
    "revenue",
    "revenues",
    "growth",
    "roi",
    "conversion",
    "conversions",
    "traffic",
    "ranking",
    "rankings",
    "profit",
    "profits",
    "success",
    "compliance",
    "compliant",
    "approval",
    "aov",
    "signups",
];
/// Words after a percentage that make it a promised uplift ("30% more sales").
const UPLIFTS: &[&str] =
    &["more", "higher", "increase", "boost", "lift", "growth", "uplift", "bigger", "larger", "extra"];
/// Words before "compliant" that promise it ("fully compliant", "100% GDPR compliant").
const ABSOLUTES: &[&str] = &["fully", "completely", "totally", "always", "100", "guaranteed"];

/// Whether one of `nouns` comes within `reach` words after `words[i]`.
fn noun_within(words: &[Word], i: usize, reach: usize, nouns: &[&str]) -> bool {
    words[i + 1..(i + 1 + reach).min(words.len())].iter().any(|(w, _)| nouns.contains(&w.as_str()))
}

/// Every claim in `text`: its kind and the words as written.
fn claims(text: &str) -> Vec<(Claim, &str)> {
    let words = words(text);
    let raw = |from: usize, to: usize| &text[words[from].1.start..words[to].1.end];
    let after = |i: usize| text[words[i].1.end..].chars().next();
    let mut found: Vec<(Claim, &str)> = Vec::new();
    // "#1", "# 1": a hash before a lone 1.
    for (at, _) in text.match_indices('#') {
        let rest = text[at + 1..].trim_start_matches(' ');
        let mut chars = rest.chars();
        if chars.next() == Some('1') && !chars.next().is_some_and(|c| c.is_ascii_digit()) {
            found.push((Claim::Rank, &text[at..text.len() - rest.len() + 1]));
        }
    }
    for i in 0..words.len() {
        let w = words[i].0.as_str();
        let next = words.get(i + 1).map(|(n, _)| n.as_str());
        // "No. 1", "No.1": needs the dot, so "no 1-click install" is not a ranking.
        if w == "no" && next == Some("1") && text[words[i].1.end..words[i + 1].1.start].trim() == "." {
            found.push((Claim::Rank, raw(i, i + 1)));
        }
        // "top-rated app", "the most popular sync tool"; not "your top-rated products".
        if let Some(rank) = RANKS.iter().find(|r| phrase_at(&words, i, r))
            && noun_within(&words, i + rank.len() - 1, 3, APP_NOUNS)
        {
            found.push((Claim::Rank, raw(i, i + rank.len() - 1)));
        }
        if let Some(s) = SUPERLATIVES.iter().find(|s| phrase_at(&words, i, s)) {
            found.push((Claim::Superlative, raw(i, i + s.len() - 1)));
        } else if w == "best"
            && !next.is_some_and(|n| BEST_HOW.contains(&n))
            && noun_within(&words, i, 3, APP_NOUNS)
            && !words[i + 1..].iter().take(3).any(|(n, _)| BEST_HONEST.contains(&n.as_str()))
        {
            let end =
                (i + 1..(i + 4).min(words.len())).find(|&j| APP_NOUNS.contains(&words[j].0.as_str())).unwrap_or(i);
            found.push((Claim::Superlative, raw(i, end)));
        }
        // "the only app", "the first inventory tool".
        if w == "the"
            && matches!(next, Some("only" | "first"))
            && i + 2 < words.len()
            && noun_within(&words, i + 1, 3, APP_NOUNS)
        {
            let end =
                (i + 2..(i + 5).min(words.len())).find(|&j| APP_NOUNS.contains(&words[j].0.as_str())).unwrap_or(i + 1);
            found.push((Claim::Superlative, raw(i, end)));
        }
        // "world's leading", "worlds first".
        let worlds = if w == "world" && next == Some("s") {
            Some(i + 2)
        } else if w == "worlds" {
            Some(i + 1)
        } else {
            None
        };
        if let Some(j) = worlds.filter(|&j| j < words.len() && WORLDS.contains(&words[j].0.as_str())) {
            found.push((Claim::Superlative, raw(i, j)));
        }
        // "guaranteed results", "guarantees GDPR compliance"; not "guaranteed delivery dates".
        if matches!(w, "guarantee" | "guarantees" | "guaranteed") && noun_within(&words, i, 4, OUTCOMES) {
            let end = (i + 1..(i + 5).min(words.len())).find(|&j| OUTCOMES.contains(&words[j].0.as_str())).unwrap_or(i);
            found.push((Claim::Superlative, raw(i, end)));
        }
        // "fully compliant", "100% GDPR compliant": an absolute right before "compliant", or one
        // word (the law) between. Guarantees of compliance are reported above.
        if w == "compliant"
            && let Some(start) = (i.saturating_sub(2)..i).find(|&j| ABSOLUTES.contains(&words[j].0.as_str()))
            && !words[i.saturating_sub(4)..i].iter().any(|(p, _)| p.starts_with("guarantee"))
        {
            found.push((Claim::Superlative, raw(start, i)));
        }
        // Statistics: "increase sales by 30%", "30% more conversions", "10x your revenue".
        let percent = w.chars().all(|c| c.is_ascii_digit()) && after(i) == Some('%');
        if percent && i > 0 && words[i - 1].0 == "by" {
            if let Some(o) = (i.saturating_sub(5)..i - 1).find(|&j| OUTCOMES.contains(&words[j].0.as_str())) {
                let verb = o.saturating_sub(1);
                found.push((Claim::Superlative, &text[words[verb].1.start..words[i].1.end + 1]));
            }
        }
        if percent && next.is_some_and(|n| UPLIFTS.contains(&n)) && noun_within(&words, i + 1, 3, OUTCOMES) {
            let end =
                (i + 2..(i + 5).min(words.len())).find(|&j| OUTCOMES.contains(&words[j].0.as_str())).unwrap_or(i + 1);
            found.push((Claim::Superlative, raw(i, end)));
        }
        let times = w.len() >= 2 && w.ends_with('x') && w[..w.len() - 1].chars().all(|c| c.is_ascii_digit());
        let multiply = matches!(w, "double" | "triple") && next == Some("your");
        if (times || multiply) && noun_within(&words, i, 3, OUTCOMES) {
            let end = (i + 1..(i + 4).min(words.len())).find(|&j| OUTCOMES.contains(&words[j].0.as_str())).unwrap_or(i);
            found.push((Claim::Superlative, raw(i, end)));
        }
    }
    let mut unique: Vec<(Claim, &str)> = Vec::new();
    for claim in found {
        if !unique.iter().any(|(_, q)| q.eq_ignore_ascii_case(claim.1)) {
            unique.push(claim);
        }
    }
    unique
}

impl Rule for UnverifiableClaims {
    fn info() -> RuleInfo {
        RuleInfo::new("copy.unverifiable-claims", "No unverifiable claims", "1.0.0", Severity::Warning).description(
            "The name, summary and description make no claims the marketplace cannot verify: rankings \
             (\"#1\", \"No. 1\", \"top-rated app\", \"most popular tool\"), superlatives about the app (\"the best \
             app\", \"the only tool\", \"industry-leading\", \"world's first\", \"award-winning\"), guaranteed \
             outcomes (\"guaranteed sales\", \"100% GDPR compliant\") and uplift statistics (\"increase \
             sales by 30%\", \"10x your revenue\"). A ranking in the name or summary is an error; the rest \
             are warnings. Honest uses such as \"best-selling products\", \"your top-rated products\" or \
             \"guaranteed delivery dates\" are not reported.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        for (field, text) in [("name", &l.name), ("summary", &l.summary), ("description", &l.description)] {
            let found = claims(text);
            let Some(strongest) = found.iter().map(|(c, _)| *c).max() else { continue };
            let quoted: Vec<String> = found.iter().map(|(_, q)| format!("`{q}`")).collect();
            let severity =
                if strongest == Claim::Rank && field != "description" { Severity::Error } else { Severity::Warning };
            findings.push(
                finding(
                    pointer([field]),
                    format!("the {field} makes claims the marketplace cannot verify: {}", quoted.join(", ")),
                )
                .remediation(format!(
                    "Remove the claims from the {field} and say concretely what the app does, e.g. \"adjusts \
                     stock at every location within seconds of a sale\"; rankings come from the marketplace, \
                     not from the listing."
                ))
                .severity(severity),
            );
        }
        Ok(findings)
    }
}

export_rule!(UnverifiableClaims);

#[cfg(test)]
mod tests {
    use super::*;

    fn quotes(text: &str) -> Vec<&str> {
        claims(text).into_iter().map(|(_, q)| q).collect()
    }

    #[test]
    fn finds_rankings() {
        assert_eq!(claims("The #1 stock app"), [(Claim::Rank, "#1")]);
        assert_eq!(
            quotes("No. 1 for inventory, a top-rated app and the number one tool"),
            ["No. 1", "top-rated", "number one"]
        );
        assert_eq!(quotes("Most popular sync app"), ["Most popular"]);
    }

    #[test]
    fn finds_superlatives_guarantees_and_statistics() {
        assert_eq!(quotes("The best inventory app for Shopkeepers"), ["best inventory app"]);
        assert_eq!(
            quotes("The only tool you need, industry-leading and award winning"),
            ["The only tool", "industry-leading", "award winning"]
        );
        assert_eq!(quotes("The world's first sync, with guaranteed results"), ["world's first", "guaranteed results"]);
        assert_eq!(
            quotes("Guarantees GDPR compliance and keeps you 100% compliant"),
            ["Guarantees GDPR compliance", "100% compliant"]
        );
        assert_eq!(
            quotes("Increase sales by 30%, or get 25% more conversions: 10x your revenue"),
            ["Increase sales by 30%", "25% more conversions", "10x your revenue"]
        );
    }

    #[test]
    fn leaves_honest_copy_alone() {
        for text in [
            "Low-stock alerts reach you before a best-seller runs out",
            "Highlights best-selling products and follows best practices",
            "Finds the best time to reorder and the best price from your suppliers",
            "Shows guaranteed delivery dates from each carrier",
            "Tags the first order of each customer; no 1-click installs",
            "Create 20% off discounts; orders #10045 and #1000 are tagged",
            "Helps you stay compliant with EU VAT rules",
            "Works best with multi-location stores",
            "Reduce prices by 20% for clearance items",
            "Order number 1042 ships today",
            "Show top-rated products and your most popular collections first",
            "Works best with our app for iPad; helps you make the best choice of carrier",
            "Automatically files compliance reports; double-check sales totals",
            "Print 4x6 labels; zoom 2x into product images",
        ] {
            assert!(claims(text).is_empty(), "{text}: {:?}", claims(text));
        }
    }
}
