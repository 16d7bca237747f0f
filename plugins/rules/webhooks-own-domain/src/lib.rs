//! `webhooks.own-domain`: store events go to the app's own servers, not to a tunnel or a
//! request inspector.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::url::{host, is_address_or_reserved, site, within};

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
        .filter(|h| !h.is_empty() && !is_address_or_reserved(h))
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
            if is_address_or_reserved(&host) || own.is_empty() || own.contains(&site(&host)) {
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
}
