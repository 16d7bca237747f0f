//! Words of listing copy: runs of letters and digits, lower-cased, so that rules match whole
//! words case-insensitively (`FIXME:` is the word `fixme`; `Mastodon` does not contain `todo`).

use std::ops::Range;

/// A lower-cased word and its byte range in the text it came from.
pub type Word = (String, Range<usize>);

/// The words (runs of letters and digits, [`char::is_alphanumeric`]) of `text`, lower-cased,
/// with their byte ranges in `text`, so a rule can quote what it found as written.
///
/// ```
/// let words = rule_common::text::words("Only $9.99/Month");
/// assert_eq!(words, [("only".into(), 0..4), ("9".into(), 6..7), ("99".into(), 8..10), ("month".into(), 11..16)]);
/// ```
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((text[s..i].to_lowercase(), s..i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The words of `text` as [`words`] splits them, without their ranges.
///
/// ```
/// assert_eq!(rule_common::text::plain_words("Third-party partners"), ["third", "party", "partners"]);
/// ```
pub fn plain_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Whether `phrase` (lower-cased words) starts at `words[i]`. False when the phrase would run
/// past the last word, or `i` is past it.
///
/// ```
/// use rule_common::text::{phrase_at, words};
/// let words = words("Start a free trial");
/// assert!(phrase_at(&words, 2, &["free", "trial"]));
/// assert!(!phrase_at(&words, 3, &["trial", "period"]));
/// ```
pub fn phrase_at(words: &[Word], i: usize, phrase: &[&str]) -> bool {
    words.len() >= i + phrase.len() && words[i..i + phrase.len()].iter().zip(phrase).all(|((w, _), p)| w == p)
}

/// `text` in backticks, as findings quote a value, or `fallback` when `text` is empty (a
/// data-shared entry without its `data` is "the data").
///
/// ```
/// assert_eq!(rule_common::text::quoted_or("order history", "the data"), "`order history`");
/// assert_eq!(rule_common::text::quoted_or("", "the data"), "the data");
/// ```
pub fn quoted_or(text: &str, fallback: &str) -> String {
    if text.is_empty() { fallback.to_owned() } else { format!("`{text}`") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_runs_of_letters_and_digits_with_their_ranges() {
        let text = "TODO: Lorem  ipsum, R$49/mo";
        let words = words(text);
        let found: Vec<(&str, &str)> = words.iter().map(|(w, r)| (w.as_str(), &text[r.clone()])).collect();
        assert_eq!(
            found,
            [("todo", "TODO"), ("lorem", "Lorem"), ("ipsum", "ipsum"), ("r", "R"), ("49", "49"), ("mo", "mo")]
        );
        assert!(super::words("").is_empty() && super::words(" -- ").is_empty());
    }

    #[test]
    fn words_keep_byte_ranges_of_non_ascii_text() {
        let text = "Ünïcödé — straße ΣΑΣ";
        let words = words(text);
        assert_eq!(words.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(), ["ünïcödé", "straße", "σας"]);
        assert_eq!(&text[words[1].1.clone()], "straße");
        assert_eq!(words[2].1.end, text.len());
    }

    #[test]
    fn plain_words_are_the_same_words() {
        for text in ["Third-party partners", "N/A", "We need the read_orders scope.", "Ünïcödé ΣΑΣ 3rd", "", "--"]
        {
            let ranged: Vec<String> = words(text).into_iter().map(|(w, _)| w).collect();
            assert_eq!(plain_words(text), ranged, "{text}");
        }
    }

    #[test]
    fn phrases_match_whole_words_in_order() {
        let words = words("Free to install; a free-trial of 14 days");
        assert!(phrase_at(&words, 0, &["free", "to", "install"]));
        assert!(phrase_at(&words, 4, &["free", "trial"]));
        assert!(!phrase_at(&words, 0, &["free", "trial"]));
        assert!(phrase_at(&words, 8, &["days"]) && !phrase_at(&words, 8, &["days", "free"]));
        assert!(!phrase_at(&words, 9, &["days"]) && phrase_at(&words, 9, &[]));
    }

    #[test]
    fn quotes_values_or_falls_back() {
        assert_eq!(quoted_or("customer e-mail addresses", "the data"), "`customer e-mail addresses`");
        assert_eq!(quoted_or("", "the data"), "the data");
    }
}
