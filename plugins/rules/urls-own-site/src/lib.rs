//! `urls.own-site`: the privacy policy, terms and support pages live on the developer's own site.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

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
/// Second-level public suffixes under which a registrable domain has three labels.
const SECOND_LEVEL: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au", "co.nz", "org.nz", "co.jp", "ne.jp",
    "or.jp", "com.br", "com.mx", "co.in", "co.za", "com.cn", "com.tw", "com.sg", "com.hk", "co.kr", "com.tr", "com.ar",
    "co.il", "com.my", "com.ph", "co.id",
];

/// The host of an absolute URL with an authority, lower-cased, without user-info, port or
/// trailing dot.
fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| format!("{h}]"))?
    } else {
        host_port.split(':').next().unwrap_or(host_port).to_owned()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// Top-level domains that are reserved or private (`urls.valid-host` reports hosts under them).
const RESERVED_TLDS: &[&str] = &["example", "test", "invalid", "local", "localhost", "internal"];

/// Whether `host` is an IP address, `localhost` or under a reserved top-level domain: it has no
/// site to compare, and `urls.valid-host` reports it.
fn is_address_or_reserved(host: &str) -> bool {
    let tld = host.rsplit('.').next().unwrap_or(host);
    host.starts_with('[')
        || tld.chars().all(|c| c.is_ascii_digit())
        || RESERVED_TLDS.contains(&tld)
        || ["example.com", "example.net", "example.org"].iter().any(|d| within(host, d))
}

/// Whether `host` is `domain` or a subdomain of it.
fn within(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|h| h.ends_with('.'))
}

/// The site a host belongs to: its registrable domain (`help.acme-apps.com` → `acme-apps.com`,
/// `shop.acme.co.uk` → `acme.co.uk`), approximated without the full public-suffix list.
fn site(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let keep = if n >= 3 && SECOND_LEVEL.contains(&labels[n - 2..].join(".").as_str()) { 3 } else { 2 };
    labels[n.saturating_sub(keep)..].join(".")
}

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
    fn hosts_and_sites() {
        assert_eq!(host("https://User:pw@Help.Acme-Apps.com.:8443/x?y#z").as_deref(), Some("help.acme-apps.com"));
        assert_eq!(host("https://[2001:db8::1]:8443/").as_deref(), Some("[2001:db8::1]"));
        assert_eq!(host("mailto:help@acme-apps.com"), None);
        assert_eq!(site("help.acme-apps.com"), "acme-apps.com");
        assert_eq!(site("shop.acme.co.uk"), "acme.co.uk");
        assert_eq!(site("acme.io"), "acme.io");
        assert!(is_address_or_reserved("93.184.215.14") && is_address_or_reserved("[::1]"));
        assert!(is_address_or_reserved("staging.acme.test") && is_address_or_reserved("www.example.com"));
        assert!(!is_address_or_reserved("acme-apps.com"));
    }

    #[test]
    fn subdomains_only_count_at_a_dot() {
        assert!(within("docs.google.com", "docs.google.com"));
        assert!(within("acme.zendesk.com", "zendesk.com"));
        assert!(!within("notzendesk.com", "zendesk.com"));
        assert!(!within("bit.ly.acme.com", "bit.ly"));
    }
}
