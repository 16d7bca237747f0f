//! `urls.own-site`: the privacy policy, terms and support pages live on the developer's own site.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::url::{host, is_address_or_reserved, site, within};

struct OwnSite;

/// Document-sharing and paste services: a policy there can be edited, unshared or deleted by
/// whoever owns the file, and does not show who stands behind it.
const SHARING_HOSTS: &[&str] = &[
    "docs.google.com",
    "drive.google.com",
    "sites.google.com",
    "dropbox.com",
    "dropboxusercontent.com",
    "onedrive.live.com",
    "1drv.ms",
    "box.com",
    "notion.site",
    "notion.so",
    "pastebin.com",
    "gist.github.com",
    "gist.githubusercontent.com",
    "raw.githubusercontent.com",
    "hackmd.io",
    "telegra.ph",
    "justpaste.it",
    "rentry.co",
];
/// Link shorteners: they hide where a link goes, and the target can be changed at any time.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
    "t.ly",
    "rb.gy",
    "s.id",
];
/// Help-desk and legal-policy services that host pages for a developer under the developer's
/// name; a page there is expected to be on another site than the homepage.
const PROVIDERS: &[&str] = &[
    "zendesk.com",
    "freshdesk.com",
    "helpscoutdocs.com",
    "intercom.help",
    "gorgias.help",
    "zohodesk.com",
    "zohodesk.eu",
    "crisp.help",
    "tawk.help",
    "gitbook.io",
    "atlassian.net",
    "termly.io",
    "iubenda.com",
    "termsfeed.com",
    "privacypolicies.com",
    "getterms.io",
    "termageddon.com",
    "enzuzo.com",
];
impl Rule for OwnSite {
    fn info() -> RuleInfo {
        RuleInfo::new("urls.own-site", "Policies and support on the developer's own site", "1.0.0", Severity::Warning)
            .description(
                "The privacy policy and terms are not hosted on a document-sharing or paste service \
                 (Google Docs, Dropbox, Notion, Pastebin, gists), and no listing URL goes through a link \
                 shortener: such pages can change or vanish without the listing changing, and do not show \
                 who stands behind them. As a note (info), a privacy policy, terms or support page on a site \
                 that no other URL of the listing (nor the support e-mail) uses is pointed out, unless it is a \
                 known help-desk or policy service.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let home = l.urls.homepage.as_deref().and_then(host);
        let pages = [
            (pointer(["urls", "privacy-policy"]), "privacy policy", l.urls.privacy_policy.as_deref(), true),
            (pointer(["urls", "terms"]), "terms of service", l.urls.terms.as_deref(), true),
            (pointer(["urls", "support"]), "support page", l.urls.support.as_deref(), false),
            (pointer(["support", "url"]), "support contact page", l.support.url.as_deref(), false),
        ];
        let sites: Vec<(String, String)> =
            pages
                .iter()
                .filter_map(|(at, _, url, _)| url.and_then(host).map(|h| (at.clone(), h)))
                .chain(home.clone().map(|h| (pointer(["urls", "homepage"]), h)))
                .chain(
                    l.support.email.as_deref().and_then(|e| e.rsplit_once('@')).map(|(_, d)| {
                        (pointer(["support", "email"]), d.trim().trim_end_matches('.').to_ascii_lowercase())
                    }),
                )
                .filter(|(_, h)| !h.is_empty() && !is_address_or_reserved(h))
                .map(|(at, h)| (at, site(&h)))
                .collect();
        let mut findings = Vec::new();
        if let Some(home_host) = &home
            && let Some(shortener) = SHORTENERS.iter().find(|s| within(home_host, s))
        {
            findings.push(
                finding(
                    pointer(["urls", "homepage"]),
                    format!("the homepage goes through the link shortener `{shortener}`"),
                )
                .remediation("Link the homepage directly, without a shortener, so merchants see where it leads."),
            );
        }
        for (at, label, url, legal) in pages {
            let Some(page) = url.and_then(host) else { continue };
            if let Some(shortener) = SHORTENERS.iter().find(|s| within(&page, s)) {
                findings.push(
                    finding(at, format!("the {label} link goes through the link shortener `{shortener}`")).remediation(
                        format!("Link the {label} directly, without a shortener, so merchants see where it leads."),
                    ),
                );
                continue;
            }
            if legal && let Some(service) = SHARING_HOSTS.iter().find(|s| within(&page, s)) {
                findings.push(
                    finding(at, format!("the {label} is hosted on `{service}`, a document-sharing service"))
                        .remediation(format!(
                            "Publish the {label} as a page on your own website and link that page; a shared \
                             document can be edited, unshared or deleted without the listing changing."
                        )),
                );
                continue;
            }
            if is_address_or_reserved(&page) || PROVIDERS.iter().any(|p| within(&page, p)) {
                continue;
            }
            let page_site = site(&page);
            let others: Vec<&String> = sites.iter().filter(|(p, _)| *p != at).map(|(_, s)| s).collect();
            if others.is_empty() || others.contains(&&page_site) {
                continue;
            }
            let homepage = match &home {
                Some(home) if !is_address_or_reserved(home) => format!(" (the homepage is on `{}`)", site(home)),
                _ => String::new(),
            };
            findings.push(
                finding(at, format!("the {label} is on `{page}`, a site no other URL of the listing uses{homepage}"))
                    .remediation(format!(
                        "Make sure the {label} is yours and names your company; if it is, consider serving it from \
                         your main site so merchants recognise it."
                    ))
                    .severity(Severity::Info),
            );
        }
        Ok(findings)
    }
}

export_rule!(OwnSite);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_match_their_subdomains_only() {
        let on = |url: &str, list: &[&str]| host(url).is_some_and(|h| list.iter().any(|d| within(&h, d)));
        assert!(on("https://docs.google.com/document/d/1x", SHARING_HOSTS));
        assert!(on("https://acme.zendesk.com/hc/en-us", PROVIDERS));
        assert!(!on("https://notzendesk.com/", PROVIDERS));
        assert!(on("https://bit.ly/3xYz", SHORTENERS));
        assert!(!on("https://bit.ly.acme.com/", SHORTENERS));
    }
}
