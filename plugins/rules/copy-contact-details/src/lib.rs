//! `copy.contact-details`: e-mail addresses, phone numbers and links stay out of the listing copy.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct ContactDetails;

/// What kind of contact detail was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Link,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Email => "e-mail address",
            Kind::Phone => "phone number",
            Kind::Link => "link",
        }
    }
}

/// Characters an e-mail address's local part may hold (the common subset of RFC 5322).
fn local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

/// Characters a domain may hold.
fn domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// E-mail addresses: `local@domain.tld`, with a non-empty local part and an alphabetic top-level
/// domain of at least two letters. A bare `@handle` is not an address.
fn emails(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        let start = text[..at].char_indices().rev().take_while(|(_, c)| local_char(*c)).last().map_or(at, |(i, _)| i);
        let end = text[at + 1..].char_indices().find(|(_, c)| !domain_char(*c)).map_or(text.len(), |(i, _)| at + 1 + i);
        let domain = text[at + 1..end].trim_end_matches(['.', '-']);
        let local = text[start..at].trim_start_matches('.');
        let tld = domain.rsplit('.').next().unwrap_or_default();
        if !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && tld.len() >= 2
            && tld.chars().all(|c| c.is_ascii_alphabetic())
        {
            found.push(&text[at - local.len()..at + 1 + domain.len()]);
        }
    }
    found
}

/// Links: anything starting with `http://` or `https://` (any case), or a host starting with
/// `www.`. Bare domains ("acme.com") are left alone: too many product names look like them.
fn links(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut found: Vec<&str> = Vec::new();
    let mut from = 0;
    while let Some(offset) = ["http://", "https://", "www."]
        .iter()
        .filter_map(|p| lower[from..].find(p).map(|i| (i, p.len())))
        .min_by_key(|(i, _)| *i)
    {
        let (i, prefix) = offset;
        let start = from + i;
        let at_word_start = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '.');
        let end = text[start..].find(char::is_whitespace).map_or(text.len(), |e| start + e);
        let link = text[start..end].trim_end_matches(['.', ',', ';', ':', ')', '!', '?', '"', '\'']);
        // `www.` must be followed by a host with a dot: "www.acme.com", not "www." on its own.
        let host_ok = link.len() > prefix && (prefix != 4 || link[prefix..].contains('.'));
        if at_word_start && host_ok {
            found.push(link);
        }
        from = end.max(start + prefix);
    }
    found
}

/// Phone numbers: a run of digits joined by spaces, `-`, `.`, `/` or parentheses that starts with
/// `+` and has at least 8 digits, or has at least 10 digits in groups and is neither a grouped
/// quantity ("1 000 000 000"), a date ("2026-07-01"), nor a barcode or id ("4006381333931").
fn phones(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        // Inside a word or an id: "A1234567890", "v1.4", "INV-2026-000123".
        let preceded_by_word = i > 0
            && (chars[i - 1].1.is_alphanumeric()
                || chars[i - 1].1 == '.'
                || (matches!(chars[i - 1].1, '-' | '_' | '/') && i > 1 && chars[i - 2].1.is_alphanumeric()));
        if !(c == '+' || c == '(' || c.is_ascii_digit()) || preceded_by_word {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() {
            let c = chars[j].1;
            let joins = matches!(c, ' ' | '-' | '.' | '/' | '(' | ')');
            // A joiner continues the number only if a digit (or an opening parenthesis) follows it.
            let next = chars.get(j + 1).map(|(_, n)| *n);
            if c.is_ascii_digit() || (joins && next.is_some_and(|n| n.is_ascii_digit() || n == '(')) {
                j += 1;
            } else if c == ')' {
                j += 1;
            } else {
                break;
            }
        }
        let end = chars.get(j).map_or(text.len(), |(e, _)| *e);
        let run = text[start..end].trim_end_matches([' ', '-', '.', '/', '(']);
        let followed_by_word = chars.get(j).is_some_and(|(_, c)| c.is_alphanumeric());
        let groups: Vec<&str> = run.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
        let digits: usize = groups.iter().map(|g| g.len()).sum();
        let grouped_quantity = groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3)
            && !run.starts_with('+');
        let date = groups.len() >= 3 && groups[0].len() == 4 && groups[1].len() == 2 && groups[2].len() == 2;
        // Without `+`, a phone number is written in groups (barcodes and ids are one long run), and
        // only its first group (a trunk or country prefix) has a single digit ("978-3-16-148410-0"
        // is an ISBN).
        let grouped_like_a_phone = groups.len() > 1 && groups[1..].iter().all(|g| g.len() > 1);
        let phone = if run.starts_with('+') {
            digits >= 8
        } else {
            digits >= 10 && grouped_like_a_phone && !grouped_quantity && !date
        };
        if phone && !followed_by_word && digits <= 15 {
            found.push(run);
        }
        i = j.max(i + 1);
    }
    found
}

/// Every contact detail in `text`, in order of kind, without repeats.
fn contact_details(text: &str) -> Vec<(Kind, &str)> {
    let mut found: Vec<(Kind, &str)> = Vec::new();
    let emails = emails(text);
    let links: Vec<&str> = links(text).into_iter().filter(|l| !emails.iter().any(|e| l.contains(e))).collect();
    let phones = phones(text);
    for (kind, items) in [(Kind::Email, emails), (Kind::Phone, phones), (Kind::Link, links)] {
        for item in items {
            if !found.iter().any(|(_, f)| *f == item) {
                found.push((kind, item));
            }
        }
    }
    found
}

impl Rule for ContactDetails {
    fn info() -> RuleInfo {
        RuleInfo::new("copy.contact-details", "No contact details or links in the copy", "1.0.0", Severity::Error)
            .description(
                "The name, summary, description and keywords contain no e-mail address, phone number or \
                 link (http://, https:// or www.). Contact details belong in the support fields and URLs in \
                 the urls table, where the marketplace checks and shows them; in the copy they bypass those \
                 checks, go stale, and pull merchants off the marketplace.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut fields = vec![
            (pointer(["name"]), "name".to_owned(), l.name.as_str()),
            (pointer(["summary"]), "summary".to_owned(), l.summary.as_str()),
            (pointer(["description"]), "description".to_owned(), l.description.as_str()),
        ];
        for (i, keyword) in l.keywords.iter().enumerate() {
            fields.push((pointer(["keywords", &i.to_string()]), format!("keyword `{keyword}`"), keyword.as_str()));
        }
        let mut findings = Vec::new();
        for (at, label, text) in fields {
            let found = contact_details(text);
            if found.is_empty() {
                continue;
            }
            let listed: Vec<String> = found.iter().map(|(kind, item)| format!("{} `{item}`", kind.label())).collect();
            let mut fix = Vec::new();
            if found.iter().any(|(k, _)| *k != Kind::Link) {
                fix.push(
                    "put the e-mail address or phone number in the [support] table (support.email, support.phone)",
                );
            }
            if found.iter().any(|(k, _)| *k == Kind::Link) {
                fix.push("link pages through the [urls] table (homepage, support, privacy-policy, terms)");
            }
            findings.push(
                finding(at, format!("the {label} contains {}", listed.join(", ")))
                    .remediation(format!("Remove them from the {label}: {}.", fix.join(", and "))),
            );
        }
        Ok(findings)
    }
}

export_rule!(ContactDetails);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_email_addresses() {
        assert_eq!(emails("Write to support@acme-apps.com."), ["support@acme-apps.com"]);
        assert_eq!(emails("(help.desk+apps@mail.acme.co.uk)"), ["help.desk+apps@mail.acme.co.uk"]);
        assert!(emails("Follow @acme on social media; e-mail alerts at 9@ night").is_empty());
        assert!(emails("user@localhost or a@b.c1").is_empty());
    }

    #[test]
    fn finds_links_but_not_bare_product_names() {
        assert_eq!(
            links("See https://acme-apps.com/docs, or WWW.acme.io."),
            ["https://acme-apps.com/docs", "WWW.acme.io"]
        );
        assert_eq!(links("(http://x.example/a?b=c)"), ["http://x.example/a?b=c"]);
        assert!(links("Built with Node.js and ASP.NET for the acme.com store; www. alone; awww.").is_empty());
    }

    #[test]
    fn finds_phone_numbers() {
        assert_eq!(phones("Call +1 415 555 0142 today"), ["+1 415 555 0142"]);
        assert_eq!(phones("Call (415) 555-0142."), ["(415) 555-0142"]);
        assert_eq!(phones("or 0800-123-4567"), ["0800-123-4567"]);
        assert_eq!(phones("+44 20 7946 0958"), ["+44 20 7946 0958"]);
    }

    #[test]
    fn leaves_quantities_dates_and_versions_alone() {
        for text in [
            "Sync 1,000,000 products and 1 000 000 000 variants",
            "Released 2026-07-01 10:30 for API 2026-07",
            "Version 1.4.0, 12 warehouses, 250 orders a minute",
            "SKU A1234567890 and order #10023456789X",
            "Up to 1.000.000.000 rows",
            "+5 new reports",
            "Scan EAN-13 barcodes such as 4006381333931 or ISBN 978-3-16-148410-0",
            "Invoice INV-2026-000123 and order SO/2026/0001234 are linked",
        ] {
            assert!(phones(text).is_empty(), "{text}: {:?}", phones(text));
        }
    }

    #[test]
    fn reports_each_detail_once_and_not_an_address_twice() {
        let found = contact_details("Mail support@acme-apps.com or support@acme-apps.com, see www.acme-apps.com");
        assert_eq!(found, [(Kind::Email, "support@acme-apps.com"), (Kind::Link, "www.acme-apps.com")]);
    }
}
