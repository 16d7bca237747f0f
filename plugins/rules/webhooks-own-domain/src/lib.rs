//! `webhooks.own-domain`: store events go to the app's own servers, not to a tunnel or a
//! request inspector.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct OwnDomain;

/// Development tunnels and request-inspection services. A tunnel's address changes when the
/// developer's laptop goes offline; an inspector shows every payload to whoever holds the link.
const TUNNELS: &[(&str, &str)] = &[
    ("ngrok.io", "a development tunnel"),
    ("ngrok.app", "a development tunnel"),
    ("ngrok.dev", "a development tunnel"),
    ("ngrok-free.app", "a development tunnel"),
    ("ngrok-free.dev", "a development tunnel"),
    ("loca.lt", "a development tunnel"),
    ("localtunnel.me", "a development tunnel"),
    ("trycloudflare.com", "a development tunnel"),
    ("serveo.net", "a development tunnel"),
    ("localhost.run", "a development tunnel"),
    ("lhr.life", "a development tunnel"),
    ("devtunnels.ms", "a development tunnel"),
    ("loclx.io", "a development tunnel"),
    ("pagekite.me", "a development tunnel"),
    ("telebit.io", "a development tunnel"),
    ("webhook.site", "a request-inspection service"),
    ("requestbin.com", "a request-inspection service"),
    ("requestbin.net", "a request-inspection service"),
    ("pipedream.net", "a request-inspection service"),
    ("requestcatcher.com", "a request-inspection service"),
    ("beeceptor.com", "a request-inspection service"),
    ("hookbin.com", "a request-inspection service"),
    ("postb.in", "a request-inspection service"),
    ("smee.io", "a request-inspection service"),
    ("mockbin.org", "a request-inspection service"),
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

/// Whether `host` is `domain` or a subdomain of it.
fn within(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|h| h.ends_with('.'))
}

/// Top-level domains that are reserved or private (`urls.valid-host` reports hosts under them).
const RESERVED_TLDS: &[&str] = &["example", "test", "invalid", "local", "localhost", "internal"];

/// Whether `host` is an IP address, `localhost` or under a reserved top-level domain: it has no
/// site to compare, and `urls.valid-host` reports it.
fn is_address(host: &str) -> bool {
    let tld = host.rsplit('.').next().unwrap_or(host);
    host.starts_with('[')
        || tld.chars().all(|c| c.is_ascii_digit())
        || RESERVED_TLDS.contains(&tld)
        || ["example.com", "example.net", "example.org"].iter().any(|d| within(host, d))
}

/// The registrable domain of a host name (`hooks.acme-apps.com` → `acme-apps.com`), approximated
/// without the full public-suffix list.
fn site(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let keep = if n >= 3 && SECOND_LEVEL.contains(&labels[n - 2..].join(".").as_str()) { 3 } else { 2 };
    labels[n.saturating_sub(keep)..].join(".")
}

impl Rule for OwnDomain {
    fn info() -> RuleInfo {
        RuleInfo::new("webhooks.own-domain", "Webhooks go to the app's own servers", "1.0.0", Severity::Error)
            .description(
                "No webhook is delivered to a development tunnel (ngrok, localtunnel, Cloudflare quick \
                 tunnels, ...) or a request-inspection service (webhook.site, RequestBin, Pipedream, ...): \
                 a tunnel stops delivering when the developer's machine goes offline, and an inspector \
                 exposes merchants' store data to anyone with the link. As a note (info), a webhook on a \
                 site that none of the listing's URLs or its support e-mail use is pointed out: store data \
                 sent there leaves the app's own domain.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut own: Vec<String> = [
            l.urls.homepage.as_deref(),
            l.urls.privacy_policy.as_deref(),
            l.urls.terms.as_deref(),
            l.urls.support.as_deref(),
            l.support.url.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(host)
        .chain(l.support.email.as_deref().and_then(|e| e.rsplit_once('@')).map(|(_, d)| d.trim().to_ascii_lowercase()))
        .filter(|h| !h.is_empty() && !is_address(h))
        .map(|h| site(&h))
        .collect();
        own.sort();
        own.dedup();
        let mut findings = Vec::new();
        for (i, webhook) in l.webhooks.iter().enumerate() {
            let Some(host) = host(&webhook.url) else { continue };
            let at = pointer(["webhooks", &i.to_string(), "url"]);
            let topic = &webhook.topic;
            if let Some((domain, what)) = TUNNELS.iter().find(|(d, _)| within(&host, d)) {
                findings.push(
                    finding(at, format!("the `{topic}` webhook is delivered to `{host}`, {what} (`{domain}`)"))
                        .remediation(
                            "Deliver webhooks to a stable HTTPS endpoint on your own production servers; keep \
                             tunnels and inspectors for development apps that are never listed.",
                        ),
                );
                continue;
            }
            if is_address(&host) || own.is_empty() || own.contains(&site(&host)) {
                continue;
            }
            findings.push(
                finding(
                    at,
                    format!(
                        "the `{topic}` webhook is delivered to `{host}`, a site that none of the listing's URLs use ({})",
                        own.join(", ")
                    ),
                )
                .remediation(
                    "If the endpoint is yours, nothing needs to change; if a third party receives the events, \
                     declare it under [[data-shared]] with the data it gets and why.",
                )
                .severity(Severity::Info),
            );
        }
        Ok(findings)
    }
}

export_rule!(OwnDomain);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnels_match_their_subdomains_only() {
        let tunnel = |url: &str| host(url).is_some_and(|h| TUNNELS.iter().any(|(d, _)| within(&h, d)));
        assert!(tunnel("https://3f2a-81-2-69-160.ngrok-free.app/hooks"));
        assert!(tunnel("https://webhook.site/3c1f0c1e-5a1b"));
        assert!(tunnel("https://eo2x1.m.pipedream.net"));
        assert!(!tunnel("https://hooks.acme-apps.com/orders"));
        assert!(!tunnel("https://myngrok.io.acme-apps.com/"));
    }

    #[test]
    fn sites_compare_registrable_domains() {
        assert_eq!(site("hooks.acme-apps.com"), "acme-apps.com");
        assert_eq!(site("api.acme.co.uk"), "acme.co.uk");
        assert!(is_address("203.0.113.9") && is_address("[2001:db8::1]") && !is_address("acme.io"));
        assert!(is_address("label-printer.local") && is_address("hooks.example.com"));
    }
}
