//! `listing.keywords`: a short, distinct set of search keywords.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct Keywords;

const MAX_KEYWORDS: usize = 10;
const MIN_CHARS: usize = 2;
const MAX_CHARS: usize = 30;

impl Rule for Keywords {
    fn info() -> RuleInfo {
        RuleInfo::new("listing.keywords", "Search keywords", "1.0.0", Severity::Warning).description(
            "The listing has 1 to 10 keywords of 2 to 30 characters each, without duplicates \
             (ignoring case) and without repeating the app name, which search matches anyway. \
             Keyword stuffing crowds out other listings and makes search results worse.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        if l.keywords.is_empty() {
            findings.push(
                finding("/keywords", "the listing has no keywords")
                    .remediation("Add 1 to 10 keywords merchants would search for."),
            );
        } else if l.keywords.len() > MAX_KEYWORDS {
            findings.push(
                finding(
                    "/keywords",
                    format!("the listing has {} keywords; the limit is {MAX_KEYWORDS}", l.keywords.len()),
                )
                .remediation(format!("Keep the {MAX_KEYWORDS} keywords that describe the app best.")),
            );
        }
        let name = l.name.trim().to_lowercase();
        let mut seen: Vec<String> = Vec::new();
        for (i, keyword) in l.keywords.iter().enumerate() {
            let pointer = pointer(["keywords", &i.to_string()]);
            let normalized = keyword.trim().to_lowercase();
            let len = keyword.trim().chars().count();
            if !(MIN_CHARS..=MAX_CHARS).contains(&len) {
                findings.push(
                    finding(
                        pointer.clone(),
                        format!("keyword `{keyword}` has {len} characters; keywords have {MIN_CHARS} to {MAX_CHARS}"),
                    )
                    .remediation("Use a word or short phrase merchants would type into search."),
                );
            }
            if let Some(first) = seen.iter().position(|s| *s == normalized) {
                findings.push(
                    finding(
                        pointer.clone(),
                        format!(
                            "keyword `{keyword}` repeats the earlier keyword `{}` (keywords ignore case)",
                            l.keywords[first]
                        ),
                    )
                    .remediation("Remove the duplicate keyword."),
                );
            } else if normalized == name {
                findings.push(
                    finding(
                        pointer.clone(),
                        format!("keyword `{keyword}` is the app name, which search already matches"),
                    )
                    .remediation("Replace it with a keyword that describes what the app does."),
                );
            }
            seen.push(normalized);
        }
        Ok(findings)
    }
}

export_rule!(Keywords);
