//! `copy.placeholder`: no template or unfinished copy reaches the storefront.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::text::{Word, phrase_at, words};

struct Placeholder;

/// Word sequences that mark unfinished copy, matched case-insensitively on whole words
/// (so `FIXME:` matches but `Mastodon` does not).
const PHRASES: &[&[&str]] = &[&["lorem", "ipsum"], &["tbd"], &["fixme"], &["coming", "soon"], &["your", "app", "name"]];

/// Quotation marks: a phrase inside them is mentioned, not used (a "Coming soon" badge).
const OPENING_QUOTES: &[char] = &['"', '\'', '“', '‘', '«', '„'];
const CLOSING_QUOTES: &[char] = &['"', '\'', '”', '’', '»', '“'];

/// How many words may sit between `insert` and `here`, as in "insert app name here".
const INSERT_GAP: usize = 5;

/// How many words starting at `words[0]` form a placeholder in `text`, if they do.
fn placeholder_len(text: &str, words: &[Word]) -> Option<usize> {
    let first = words[0].0.as_str();
    if first.len() >= 3 && first.chars().all(|c| c == 'x') {
        return Some(1); // "xxx", "XXXX"
    }
    if first == "todo" {
        // A developer's marker is `TODO` or `todo:`; "Todo" is a to-do app, or Spanish for "all".
        let range = &words[0].1;
        let marker = &text[range.clone()] == "TODO" || text[range.end..].starts_with(':');
        return marker.then_some(1);
    }
    if first == "insert" {
        return words[1..].iter().take(INSERT_GAP + 1).position(|(w, _)| w == "here").map(|j| j + 2);
    }
    PHRASES.iter().find(|phrase| phrase_at(words, 0, phrase)).map(|phrase| phrase.len())
}

/// Every placeholder in `text`, quoted as written, without repeats.
fn placeholders(text: &str) -> Vec<&str> {
    let words = words(text);
    let mut found: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match placeholder_len(text, &words[i..]) {
            Some(len) => {
                let (start, end) = (words[i].1.start, words[i + len - 1].1.end);
                let quoted = &text[start..end];
                let mentioned = text[..start].ends_with(OPENING_QUOTES) && text[end..].starts_with(CLOSING_QUOTES);
                if !mentioned && !found.iter().any(|f| f.eq_ignore_ascii_case(quoted)) {
                    found.push(quoted);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    found
}

impl Rule for Placeholder {
    fn info() -> RuleInfo {
        RuleInfo::new("copy.placeholder", "No placeholder copy", "1.1.0", Severity::Error).description(
            "The name, summary, description and keywords contain no template or unfinished text \
             (lorem ipsum, TODO, TBD, FIXME, \"coming soon\", \"your app name\", \"insert ... here\", xxx). \
             Placeholder copy tells merchants the listing is unfinished and misdescribes the app.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut fields = vec![
            ("/name".to_owned(), "name".to_owned(), l.name.as_str()),
            ("/summary".to_owned(), "summary".to_owned(), l.summary.as_str()),
            ("/description".to_owned(), "description".to_owned(), l.description.as_str()),
        ];
        for (i, keyword) in l.keywords.iter().enumerate() {
            fields.push((pointer(["keywords", &i.to_string()]), format!("keyword `{keyword}`"), keyword.as_str()));
        }
        let mut findings = Vec::new();
        for (pointer, label, text) in fields {
            let found = placeholders(text);
            if found.is_empty() {
                continue;
            }
            let quoted: Vec<String> = found.iter().map(|p| format!("`{p}`")).collect();
            findings.push(
                finding(pointer, format!("the {label} contains placeholder text: {}", quoted.join(", "))).remediation(
                    format!("Replace the placeholder text in the {label} with the final copy merchants will read."),
                ),
            );
        }
        Ok(findings)
    }
}

export_rule!(Placeholder);

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn finds_whole_word_placeholders() {
        assert_eq!(placeholders("TODO: write this. Lorem  ipsum dolor"), ["TODO", "Lorem  ipsum"]);
        assert_eq!(placeholders("[Insert your app name here]"), ["Insert your app name here"]);
        assert_eq!(placeholders("Call XXXX, support coming soon"), ["XXXX", "coming soon"]);
        assert_eq!(placeholders("Price: tbd, TBD"), ["tbd"]);
    }

    #[test]
    fn ignores_words_that_merely_contain_a_placeholder() {
        assert!(placeholders("Mastodon todos for boxxx sellers; insert rows anywhere").is_empty());
        assert!(placeholders("Your app names products automatically").is_empty());
    }

    #[test]
    fn a_to_do_app_spanish_and_quoted_phrases_are_not_placeholders() {
        assert!(placeholders("Todo Board for Store Teams").is_empty());
        assert!(placeholders("Todo el diseño de tu tienda, en un solo lugar").is_empty());
        assert!(placeholders("Shows a “Coming soon” badge on pre-order products").is_empty());
        assert!(placeholders("Adds a \"coming soon\" ribbon").is_empty());
        assert_eq!(placeholders("todo: pricing. TODO"), ["todo"]);
        assert_eq!(placeholders("Support coming soon."), ["coming soon"]);
    }
}
