//! `support.phone-format`: a support phone number can be dialled from anywhere.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct PhoneFormat;

/// The fewest digits of a phone number that reaches anyone (subscriber numbers have 7 or more,
/// short codes are not support lines).
const MIN_DIGITS: usize = 7;
/// The most digits an international number has, country code included (ITU-T E.164).
const MAX_DIGITS: usize = 15;

/// What is wrong with a phone number as written.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    /// Not a phone number at all: merchants cannot call it.
    Invalid(String),
    /// Letters stand for digits ("1-800-FLOWERS"): only dialable on some keypads and in one country.
    Letters,
    /// No country code: merchants in other countries cannot tell how to dial it.
    NoCountryCode,
}

/// The number without an extension ("ext. 12", "x12", "#12" at the end).
fn without_extension(phone: &str) -> &str {
    let lower = phone.to_ascii_lowercase();
    for marker in ["extension", "ext.", "ext", " x", "#"] {
        if let Some(at) = lower.rfind(marker) {
            let rest = lower[at + marker.len()..].trim_start_matches([' ', '.', ':']);
            if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) {
                return phone[..at].trim_end_matches([' ', ',', ';']);
            }
        }
    }
    phone
}

/// The number without annotations in parentheses that hold no digits ("(US)", "(toll free)").
fn without_annotations(phone: &str) -> String {
    let mut out = String::new();
    let mut rest = phone;
    while let Some(open) = rest.find('(') {
        let close = rest[open..].find(')').map(|c| open + c);
        match close {
            Some(close) if !rest[open..close].chars().any(|c| c.is_ascii_digit()) => {
                out.push_str(&rest[..open]);
                rest = &rest[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out.trim().to_owned()
}

fn problem(phone: &str) -> Option<Problem> {
    let annotated = without_annotations(phone);
    let number = without_extension(&annotated);
    if number.is_empty() {
        return Some(Problem::Invalid("is empty".into()));
    }
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let letters = number.chars().filter(|c| c.is_ascii_alphabetic()).count();
    let other = number.chars().find(|c| {
        !(c.is_ascii_digit() || c.is_ascii_alphabetic() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')' | '/'))
    });
    if let Some(c) = other {
        return Some(Problem::Invalid(format!("contains `{c}`, which is not part of a phone number")));
    }
    if number.matches('+').count() > 1 || number.find('+').is_some_and(|i| i > 0) {
        return Some(Problem::Invalid("has a `+` that is not at the start".into()));
    }
    if number.chars().any(|c| c.is_ascii_lowercase()) {
        return Some(Problem::Invalid("contains words; support.phone holds only the number and an extension".into()));
    }
    let dialled = digits + letters;
    if letters > 0 && (digits < 3 || letters > digits + 4) {
        return Some(Problem::Invalid("is words, not a number".into()));
    }
    if dialled < MIN_DIGITS {
        return Some(Problem::Invalid(format!("has {dialled} digits; a phone number has at least {MIN_DIGITS}")));
    }
    if dialled > MAX_DIGITS {
        return Some(Problem::Invalid(format!(
            "has {dialled} digits; an international number has at most {MAX_DIGITS}"
        )));
    }
    if letters > 0 {
        return Some(Problem::Letters);
    }
    if !number.starts_with('+') && !number.starts_with("00") {
        return Some(Problem::NoCountryCode);
    }
    None
}

impl Rule for PhoneFormat {
    fn info() -> RuleInfo {
        RuleInfo::new("support.phone-format", "Dialable support phone number", "1.0.0", Severity::Error).description(
            "When the listing gives a support phone number, it is a phone number: 7 to 15 digits \
             (ITU-T E.164), written with digits, spaces, `-`, `.`, `/`, parentheses and a leading `+`, \
             optionally followed by an extension; notes in parentheses without digits are ignored. \
             Letters for digits (\"1-800-FLOWERS\") are a warning; a number without a country code \
             (`+` or `00`) is a note, since merchants abroad cannot tell how to dial it.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let Some(phone) = &input.listing.support.phone else { return Ok(Vec::new()) };
        let at = pointer(["support", "phone"]);
        let finding = match problem(phone) {
            None => return Ok(Vec::new()),
            Some(Problem::Invalid(why)) => finding(at, format!("the support phone `{phone}` {why}")).remediation(
                "Write the full number in international form, e.g. `+1 415 555 0142`, or remove support.phone.",
            ),
            Some(Problem::Letters) => finding(at, format!("the support phone `{phone}` spells digits with letters"))
                .remediation("Write the digits the letters stand for, in international form, e.g. `+1 800 356 9377`.")
                .severity(Severity::Warning),
            Some(Problem::NoCountryCode) => finding(
                at,
                format!("the support phone `{phone}` has no country code, so merchants abroad cannot dial it"),
            )
            .remediation("Start the number with `+` and the country code, e.g. `+1 415 555 0142`.")
            .severity(Severity::Info),
        };
        Ok(vec![finding])
    }
}

export_rule!(PhoneFormat);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_numbers_pass() {
        for phone in [
            "+1 415 555 0142",
            "+44 (0)20 7946 0958",
            "+49 30/123456-7 ext. 12",
            "0044 20 7946 0958",
            "+1.415.555.0142 x204",
            "+1 415 555 0142 (US)",
            "+1 800 555 0199 (toll free)",
        ] {
            assert_eq!(problem(phone), None, "{phone}");
        }
    }

    #[test]
    fn local_and_vanity_numbers_are_noted() {
        assert_eq!(problem("(415) 555-0142"), Some(Problem::NoCountryCode));
        assert_eq!(problem("1-800-FLOWERS"), Some(Problem::Letters));
    }

    #[test]
    fn non_numbers_fail() {
        for phone in [
            "",
            "  ",
            "call us",
            "N/A",
            "555-01",
            "+1 415 555 0142 0000 0000",
            "+1 415 555 0142, mon-fri",
            "+1 415 555 0142 Mon to Fri",
            "TBD",
            "415+555",
        ] {
            assert!(matches!(problem(phone), Some(Problem::Invalid(_))), "{phone}: {:?}", problem(phone));
        }
    }
}
