//! URLs, hosts and sites, approximated the same way by every rule that compares them (no
//! full URL parser and no full public-suffix list in a guest).

/// Domains reserved for documentation (RFC 2606); they never reach a real service.
pub const RESERVED_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

/// Top-level domains that are reserved or only resolve inside a private network
/// (`urls.valid-host` reports hosts under them).
pub const RESERVED_TLDS: &[&str] = &["example", "test", "invalid", "local", "localhost", "internal"];

/// Second-level public suffixes under which a registrable domain has three labels.
pub const SECOND_LEVEL: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au", "co.nz", "org.nz", "co.jp", "ne.jp",
    "or.jp", "com.br", "com.mx", "co.in", "co.za", "com.cn", "com.tw", "com.sg", "com.hk", "co.kr", "com.tr", "com.ar",
    "co.il", "com.my", "com.ph", "co.id",
];

/// The scheme of a URL, lower-cased (`http` for `HTTP://...`); the whole text, lower-cased,
/// when it has no `:`.
///
/// ```
/// assert_eq!(rule_common::url::scheme("HTTP://acme.com"), "http");
/// assert_eq!(rule_common::url::scheme("acme.com"), "acme.com");
/// ```
pub fn scheme(url: &str) -> String {
    url.split_once(':').map_or(url, |(scheme, _)| scheme).to_ascii_lowercase()
}

/// The host of an absolute URL with an authority (`scheme://...`), lower-cased, without
/// user-info, port or trailing dot; an IPv6 address keeps its brackets (`[2001:db8::1]`).
/// `None` for a URL without an authority (`mailto:...`) or with an empty host.
///
/// ```
/// use rule_common::url::host;
/// assert_eq!(host("https://User:pw@Help.Acme-Apps.com.:8443/x").as_deref(), Some("help.acme-apps.com"));
/// assert_eq!(host("mailto:help@acme-apps.com"), None);
/// ```
pub fn host(url: &str) -> Option<String> {
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

/// Whether `host` is `domain` or a subdomain of it: a suffix counts only at a dot
/// (`acme.zendesk.com` is within `zendesk.com`, `notzendesk.com` is not).
///
/// ```
/// assert!(rule_common::url::within("acme.zendesk.com", "zendesk.com"));
/// assert!(!rule_common::url::within("notzendesk.com", "zendesk.com"));
/// ```
pub fn within(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|h| h.ends_with('.'))
}

/// Whether `host` (as [`host`] returns it) is an IP address, or under a reserved top-level
/// domain (`localhost` included) or a documentation domain: it has no site to compare, and
/// `urls.valid-host` reports it.
///
/// ```
/// use rule_common::url::is_address_or_reserved;
/// assert!(is_address_or_reserved("203.0.113.9") && is_address_or_reserved("[::1]"));
/// assert!(is_address_or_reserved("hooks.example.com") && !is_address_or_reserved("acme.io"));
/// ```
pub fn is_address_or_reserved(host: &str) -> bool {
    let tld = host.rsplit('.').next().unwrap_or(host);
    host.starts_with('[')
        || tld.chars().all(|c| c.is_ascii_digit())
        || RESERVED_TLDS.contains(&tld)
        || RESERVED_DOMAINS.iter().any(|d| within(host, d))
}

/// The site a host name belongs to: its registrable domain (`help.acme-apps.com` →
/// `acme-apps.com`, `shop.acme.co.uk` → `acme.co.uk`), approximated with [`SECOND_LEVEL`]
/// instead of the full public-suffix list.
///
/// ```
/// assert_eq!(rule_common::url::site("shop.acme.co.uk"), "acme.co.uk");
/// ```
pub fn site(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let keep = if n >= 3 && SECOND_LEVEL.contains(&labels[n - 2..].join(".").as_str()) { 3 } else { 2 };
    labels[n.saturating_sub(keep)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_lower_cased() {
        assert_eq!(scheme("https://acme.com"), "https");
        assert_eq!(scheme("HTTP://acme.com"), "http");
        assert_eq!(scheme("ftp://acme.com/x"), "ftp");
        assert_eq!(scheme("mailto:help@acme.com"), "mailto");
        assert_eq!(scheme("Acme.com/path"), "acme.com/path");
    }

    #[test]
    fn hosts_lose_user_info_port_and_trailing_dot() {
        assert_eq!(host("https://User:pw@Help.Acme-Apps.com.:8443/x?y#z").as_deref(), Some("help.acme-apps.com"));
        assert_eq!(host("https://a@b@Acme.io/").as_deref(), Some("acme.io"), "the user-info ends at the last @");
        assert_eq!(host("https://acme.io?q=a/b").as_deref(), Some("acme.io"));
        assert_eq!(host("https://acme.io#x").as_deref(), Some("acme.io"));
        assert_eq!(host("https://[2001:db8::1]:8443/").as_deref(), Some("[2001:db8::1]"));
        assert_eq!(host("HTTPS://[2001:DB8::1]/").as_deref(), Some("[2001:db8::1]"));
    }

    #[test]
    fn urls_without_a_host_have_none() {
        assert_eq!(host("mailto:help@acme-apps.com"), None);
        assert_eq!(host("acme-apps.com/privacy"), None);
        assert_eq!(host("https://"), None);
        assert_eq!(host("https://./x"), None);
        assert_eq!(host("https://:443/"), None);
    }

    #[test]
    fn subdomains_only_count_at_a_dot() {
        assert!(within("docs.google.com", "docs.google.com"));
        assert!(within("acme.zendesk.com", "zendesk.com"));
        assert!(!within("notzendesk.com", "zendesk.com"));
        assert!(!within("bit.ly.acme.com", "bit.ly"));
        assert!(!within("zendesk.com", "acme.zendesk.com"));
    }

    #[test]
    fn addresses_and_reserved_hosts() {
        assert!(is_address_or_reserved("93.184.215.14") && is_address_or_reserved("203.0.113.9"));
        assert!(is_address_or_reserved("[::1]") && is_address_or_reserved("[2001:db8::1]"));
        assert!(is_address_or_reserved("staging.acme.test") && is_address_or_reserved("label-printer.local"));
        assert!(is_address_or_reserved("localhost") && is_address_or_reserved("www.example.com"));
        assert!(is_address_or_reserved("hooks.example.com"));
        assert!(is_address_or_reserved("example.org") && is_address_or_reserved("intranet.internal"));
        assert!(!is_address_or_reserved("acme-apps.com") && !is_address_or_reserved("acme.io"));
        assert!(!is_address_or_reserved("myexample.com"));
        assert!(!is_address_or_reserved("example.com.acme.io"));
    }

    #[test]
    fn sites_are_registrable_domains() {
        assert_eq!(site("help.acme-apps.com"), "acme-apps.com");
        assert_eq!(site("hooks.acme-apps.com"), "acme-apps.com");
        assert_eq!(site("shop.acme.co.uk"), "acme.co.uk");
        assert_eq!(site("api.acme.co.uk"), "acme.co.uk");
        assert_eq!(site("a.b.ledger.com.au"), "ledger.com.au");
        assert_eq!(site("acme.io"), "acme.io");
        assert_eq!(site("co.uk"), "co.uk");
        assert_eq!(site("localhost"), "localhost");
    }
}
