//! `support.contact`: merchants can reach a person for support.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct SupportContact;

/// Local parts (lower-cased, punctuation dropped) that mark an unmonitored mailbox.
const NO_REPLY: &[&str] = &["noreply", "donotreply"];

/// Why `email` does not look like a deliverable address.
fn email_problem(email: &str) -> Option<&'static str> {
    if email.trim().is_empty() {
        return Some("is empty");
    }
    if email.chars().any(char::is_whitespace) {
        return Some("contains spaces");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Some("has no @");
    };
    if domain.contains('@') {
        return Some("has more than one @");
    }
    if local.is_empty() {
        return Some("has nothing before the @");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Some("has no valid domain after the @");
    }
    None
}

/// Whether the mailbox is a no-reply address (`noreply@`, `no-reply@`, `do_not_reply@`, ...).
fn is_no_reply(email: &str) -> bool {
    let local = email.split('@').next().unwrap_or_default();
    let letters: String = local.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    NO_REPLY.iter().any(|n| letters.contains(n))
}

impl Rule for SupportContact {
    fn info() -> RuleInfo {
        RuleInfo::new("support.contact", "Reachable support contact", "1.0.0", Severity::Error).description(
            "The listing gives at least one support contact (support.email, support.url or urls.support), \
             and a support e-mail is a well-formed address that is not a no-reply mailbox. Merchants who \
             install an app must be able to reach someone when it misbehaves.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        if l.support.email.is_none() && l.support.url.is_none() && l.urls.support.is_none() {
            findings.push(
                finding(
                    "/support/email",
                    "no support contact is given: set support.email, support.url or urls.support",
                )
                .remediation(
                    "Add a monitored support e-mail address (support.email) or a support page (urls.support).",
                ),
            );
        }
        if let Some(email) = &l.support.email {
            if let Some(problem) = email_problem(email) {
                findings.push(
                    finding(
                        "/support/email",
                        format!("the support e-mail `{email}` {problem}, so it is not a valid address"),
                    )
                    .remediation("Write a single address such as `support@your-domain.com`."),
                );
            } else if is_no_reply(email) {
                findings.push(
                    finding("/support/email", format!("the support e-mail `{email}` is a no-reply address; merchants' messages would go unanswered"))
                        .remediation("Use a mailbox someone reads, such as `support@` your domain."),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(SupportContact);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_addresses() {
        assert_eq!(email_problem("support@acme-apps.com"), None);
        assert!(email_problem("support acme@acme-apps.com").is_some());
        assert!(email_problem("a@b@acme-apps.com").is_some());
        assert!(email_problem("support@localhost").is_some());
        assert!(email_problem("@acme-apps.com").is_some());
    }

    #[test]
    fn spots_no_reply_mailboxes() {
        for email in ["noreply@a.com", "No-Reply@a.com", "do_not_reply@a.com", "billing.noreply@a.com"] {
            assert!(is_no_reply(email), "{email}");
        }
        assert!(!is_no_reply("reply@a.com"));
        assert!(!is_no_reply("support@noreply.com"));
    }
}
