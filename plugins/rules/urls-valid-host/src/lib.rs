//! `urls.valid-host`: URLs point at real, public hosts and carry no credentials.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};
use rule_common::url::{RESERVED_DOMAINS, RESERVED_TLDS, within};

struct ValidHost;

/// The user-info and host of an absolute URL with an authority (`scheme://...`), the host
/// lower-cased, without port, brackets or trailing dot. `None` for URLs without an authority.
fn authority(url: &str) -> Option<(Option<&str>, String, bool)> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (host, bracketed) = match host_port.strip_prefix('[') {
        Some(v6) => (v6.split(']').next().unwrap_or(v6), true),
        None => (host_port.split(':').next().unwrap_or(host_port), false),
    };
    Some((userinfo, host.trim_end_matches('.').to_ascii_lowercase(), bracketed))
}

/// A dotted-quad IPv4 address.
fn ipv4(host: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = host.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

/// An IPv6 address (RFC 4291 text form, with `::` and an optional trailing IPv4 part).
fn ipv6(host: &str) -> Option<[u16; 8]> {
    fn groups(part: &str) -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        let pieces: Vec<&str> = part.split(':').collect();
        for (i, piece) in pieces.iter().enumerate() {
            if i == pieces.len() - 1 && piece.contains('.') {
                let [a, b, c, d] = ipv4(piece)?;
                out.push(u16::from_be_bytes([a, b]));
                out.push(u16::from_be_bytes([c, d]));
            } else if (1..=4).contains(&piece.len()) {
                out.push(u16::from_str_radix(piece, 16).ok()?);
            } else {
                return None;
            }
        }
        Some(out)
    }
    let (head, tail, compressed) = match host.split_once("::") {
        Some((head, tail)) => (groups(head)?, groups(tail)?, true),
        None => (groups(host)?, Vec::new(), false),
    };
    let given = head.len() + tail.len();
    if given > 8 || (!compressed && given != 8) || (compressed && given == 8) {
        return None;
    }
    let mut address = [0u16; 8];
    address[..head.len()].copy_from_slice(&head);
    address[8 - tail.len()..].copy_from_slice(&tail);
    Some(address)
}

/// Why an IPv4 address is not a public one.
fn ipv4_problem([a, b, ..]: [u8; 4]) -> Option<&'static str> {
    match (a, b) {
        (127, _) => Some("a loopback address"),
        (0, _) => Some("an unspecified address"),
        (10, _) | (192, 168) => Some("a private network address"),
        (172, 16..=31) => Some("a private network address"),
        (100, 64..=127) => Some("a shared (carrier-grade NAT) address"),
        (169, 254) => Some("a link-local address"),
        _ => None,
    }
}

/// Why an IPv6 address is not a public one.
fn ipv6_problem(g: [u16; 8]) -> Option<&'static str> {
    match g {
        [0, 0, 0, 0, 0, 0, 0, 1] => Some("a loopback address"),
        [0, 0, 0, 0, 0, 0, 0, 0] => Some("an unspecified address"),
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => {
            let [a, b] = hi.to_be_bytes();
            let [c, d] = lo.to_be_bytes();
            ipv4_problem([a, b, c, d])
        }
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("a private network (unique local) address"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("a link-local address"),
        _ => None,
    }
}

/// Why `host` is not a public host merchants and the platform can reach.
fn host_problem(host: &str, bracketed: bool) -> Option<String> {
    if bracketed {
        return ipv6(host).and_then(ipv6_problem).map(|p| format!("points at {p} (`{host}`)"));
    }
    if let Some(address) = ipv4(host) {
        return ipv4_problem(address).map(|p| format!("points at {p} (`{host}`)"));
    }
    if host.is_empty() {
        return Some("has no host".to_owned());
    }
    if host == "localhost" {
        return Some("points at localhost".to_owned());
    }
    if host.ends_with(".localhost") {
        return Some(format!("points at localhost (`{host}`)"));
    }
    if let Some(domain) = RESERVED_DOMAINS.iter().find(|d| within(host, d)) {
        return Some(format!("uses `{domain}`, a domain reserved for documentation"));
    }
    let tld = host.rsplit('.').next().unwrap_or(host);
    RESERVED_TLDS.contains(&tld).then(|| {
        format!("uses the reserved top-level domain `.{tld}` (`{host}`), which is not reachable on the public internet")
    })
}

impl Rule for ValidHost {
    fn info() -> RuleInfo {
        RuleInfo::new("urls.valid-host", "URLs point at real public hosts", "1.0.0", Severity::Error).description(
            "Listing, support and webhook URLs must not point at localhost, loopback or private IP \
             addresses, or reserved domains such as example.com, .test, .invalid or .local, and must \
             not embed credentials (user:pass@). Such URLs are development leftovers: merchants and the \
             platform cannot reach them, and credentials in a URL are published to everyone.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut urls = vec![
            ("/urls/homepage".to_owned(), "homepage URL".to_owned(), l.urls.homepage.as_deref()),
            ("/urls/privacy-policy".to_owned(), "privacy policy URL".to_owned(), l.urls.privacy_policy.as_deref()),
            ("/urls/terms".to_owned(), "terms of service URL".to_owned(), l.urls.terms.as_deref()),
            ("/urls/support".to_owned(), "support URL".to_owned(), l.urls.support.as_deref()),
            ("/support/url".to_owned(), "support contact URL".to_owned(), l.support.url.as_deref()),
        ];
        for (i, webhook) in l.webhooks.iter().enumerate() {
            urls.push((
                pointer(["webhooks", &i.to_string(), "url"]),
                format!("`{}` webhook URL", webhook.topic),
                Some(&webhook.url),
            ));
        }
        let mut findings = Vec::new();
        for (pointer, label, url) in urls {
            let Some((userinfo, host, bracketed)) = url.and_then(authority) else {
                continue;
            };
            if let Some(userinfo) = userinfo.filter(|u| !u.is_empty()) {
                let redacted = url.unwrap_or_default().replacen(&format!("://{userinfo}@"), "://***@", 1);
                findings.push(
                    finding(pointer.clone(), format!("the {label} `{redacted}` embeds credentials before the host"))
                        .remediation("Remove the user name and password from the URL, and rotate them: they have been published."),
                );
            }
            if let Some(problem) = host_problem(&host, bracketed) {
                findings.push(
                    finding(pointer, format!("the {label} {problem}"))
                        .remediation(format!("Use the production {label} on a public domain you control.")),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(ValidHost);

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(url: &str) -> Option<String> {
        let (_, host, bracketed) = authority(url)?;
        host_problem(&host, bracketed)
    }

    #[test]
    fn public_hosts_pass() {
        for url in
            ["https://acme-apps.com/privacy", "https://8.8.8.8/", "https://[2001:db8::1]:8443/x", "https://172.32.0.1/"]
        {
            assert_eq!(problem(url), None, "{url}");
        }
    }

    #[test]
    fn local_private_and_reserved_hosts_fail() {
        for url in [
            "http://localhost:3000/",
            "https://api.LOCALHOST./x",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.20.0.1/",
            "https://192.168.1.10:8080/hook",
            "https://[::1]/",
            "https://[fd12:3456::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://example.com/",
            "https://www.example.org/privacy",
            "https://shop.test/",
            "https://printer.local/",
            "https://acme.example/",
        ] {
            assert!(problem(url).is_some(), "{url}");
        }
    }

    #[test]
    fn finds_credentials_after_the_scheme_only() {
        assert_eq!(authority("https://user:pw@acme-apps.com/a@b").map(|a| a.0), Some(Some("user:pw")));
        assert_eq!(authority("https://acme-apps.com/a@b").map(|a| a.0), Some(None));
        assert_eq!(authority("mailto:help@acme-apps.com"), None);
    }
}
