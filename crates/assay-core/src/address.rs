//! Which IP addresses outbound requests may reach.
//!
//! The server makes requests on partners' behalf (webhooks), so a partner must never be able to
//! point it at the server's own network. Every outbound connection checks the address it
//! *actually connects to* — after name resolution, for every address — against this one
//! classification: every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (RFC 6890 and its updates, as of 2025), multicast, and the deprecated IPv6 forms that embed
//! an IPv4 address. The registries mark a few blocks "globally reachable" (anycast services,
//! AS112, AMT, the NAT64 well-known prefix); no partner's endpoint lives there, and NAT64 and
//! the IPv4-mapped forms reach whatever IPv4 address they embed, so every listed block is
//! refused whole.
//!
//! Development setups receive webhooks on their own machine; [`Outbound::refusal`] with
//! `allow_local` accepts loopback and private-use addresses (and the IPv6 forms embedding
//! them) and still refuses the rest.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One special-purpose block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialBlock {
    /// The block in CIDR notation, as the registry writes it.
    pub block: &'static str,
    /// The registry's name for it.
    pub name: &'static str,
    /// The RFC that set it aside.
    pub rfc: &'static str,
    /// What development mode may reach: loopback and private-use space.
    pub local: bool,
    /// The block's IPv6 addresses carry an IPv4 address (mapped, compatible, NAT64).
    embeds_ipv4: bool,
}

const fn block(block: &'static str, name: &'static str, rfc: &'static str, local: bool) -> SpecialBlock {
    SpecialBlock { block, name, rfc, local, embeds_ipv4: false }
}

const fn embedding(block: &'static str, name: &'static str, rfc: &'static str) -> SpecialBlock {
    SpecialBlock { block, name, rfc, local: false, embeds_ipv4: true }
}

/// The IPv4 table: the IANA IPv4 Special-Purpose Address Registry, most specific first, then
/// multicast (RFC 5771), which the registry lists separately.
pub const IPV4: &[SpecialBlock] = &[
    block("0.0.0.0/32", "\"This host on this network\"", "RFC 1122", false),
    block("0.0.0.0/8", "\"This network\"", "RFC 791", false),
    block("10.0.0.0/8", "Private-Use", "RFC 1918", true),
    block("100.64.0.0/10", "Shared Address Space", "RFC 6598", false),
    block("127.0.0.0/8", "Loopback", "RFC 1122", true),
    block("169.254.0.0/16", "Link Local", "RFC 3927", false),
    block("172.16.0.0/12", "Private-Use", "RFC 1918", true),
    block("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", false),
    block("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", false),
    block("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", false),
    block("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", false),
    block("192.0.0.170/31", "NAT64/DNS64 Discovery", "RFC 8880", false),
    block("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", false),
    block("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", false),
    block("192.31.196.0/24", "AS112-v4", "RFC 7535", false),
    block("192.52.193.0/24", "AMT", "RFC 7450", false),
    block("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", false),
    block("192.168.0.0/16", "Private-Use", "RFC 1918", true),
    block("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", false),
    block("198.18.0.0/15", "Benchmarking", "RFC 2544", false),
    block("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", false),
    block("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", false),
    block("224.0.0.0/4", "Multicast", "RFC 5771", false),
    block("255.255.255.255/32", "Limited Broadcast", "RFC 8190", false),
    block("240.0.0.0/4", "Reserved", "RFC 1112", false),
];

/// The IPv6 table: the IANA IPv6 Special-Purpose Address Registry, most specific first, then
/// the deprecated IPv4-compatible and site-local forms (RFC 4291, RFC 3879) and multicast.
pub const IPV6: &[SpecialBlock] = &[
    block("::1/128", "Loopback Address", "RFC 4291", true),
    block("::/128", "Unspecified Address", "RFC 4291", false),
    embedding("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
    embedding("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291"),
    embedding("64:ff9b::/96", "IPv4-IPv6 Translation (NAT64)", "RFC 6052"),
    block("64:ff9b:1::/48", "Local-Use IPv4/IPv6 Translation", "RFC 8215", false),
    block("100::/64", "Discard-Only Address Block", "RFC 6666", false),
    block("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", false),
    block("2001::/32", "TEREDO", "RFC 4380", false),
    block("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", false),
    block("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", false),
    block("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", false),
    block("2001:2::/48", "Benchmarking", "RFC 5180", false),
    block("2001:3::/32", "AMT", "RFC 7450", false),
    block("2001:4:112::/48", "AS112-v6", "RFC 7535", false),
    block("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", false),
    block("2001:20::/28", "ORCHIDv2", "RFC 7343", false),
    block("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", false),
    block("2001::/23", "IETF Protocol Assignments", "RFC 2928", false),
    block("2001:db8::/32", "Documentation", "RFC 3849", false),
    block("2002::/16", "6to4", "RFC 3056", false),
    block("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", false),
    block("3fff::/20", "Documentation", "RFC 9637", false),
    block("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", false),
    block("fc00::/7", "Unique-Local", "RFC 4193", true),
    block("fe80::/10", "Link-Local Unicast", "RFC 4291", false),
    block("fec0::/10", "Site-Local (deprecated)", "RFC 3879", false),
    block("ff00::/8", "Multicast", "RFC 4291", false),
];

/// The block of the tables an address falls in, the most specific one.
pub fn special(ip: IpAddr) -> Option<&'static SpecialBlock> {
    match ip {
        IpAddr::V4(v4) => IPV4.iter().find(|b| contains_v4(b.block, v4)),
        IpAddr::V6(v6) => IPV6.iter().find(|b| contains_v6(b.block, v6)),
    }
}

/// The IPv4 address an IPv6 address of a translation block carries (mapped, compatible or
/// NAT64), if it is one.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let block = special(IpAddr::V6(ip))?;
    block.embeds_ipv4.then(|| {
        let [.., a, b, c, d] = ip.octets();
        Ipv4Addr::new(a, b, c, d)
    })
}

/// Whether outbound requests may go to an address: what decides, and why not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outbound {
    /// Development mode: loopback and private-use addresses are allowed.
    pub allow_local: bool,
}

impl Outbound {
    /// Why a connection to `ip` is refused, or `None` when it may go ahead.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        let block = special(ip)?;
        if let IpAddr::V6(v6) = ip
            && let Some(v4) = embedded_ipv4(v6)
        {
            // A translation form is as reachable as the address it carries, and never public.
            let inner = special(IpAddr::V4(v4));
            if self.allow_local && inner.is_some_and(|b| b.local) {
                return None;
            }
            let carried = inner.map_or_else(String::new, |b| format!(", {} ({})", b.name, b.rfc));
            return Some(format!(
                "{ip} is an {} ({}) for {v4}{carried}; assay connects only to public addresses",
                block.name, block.rfc
            ));
        }
        if self.allow_local && block.local {
            return None;
        }
        Some(format!(
            "{ip} is in {}, {} ({}); assay connects only to public addresses",
            block.block, block.name, block.rfc
        ))
    }
}

fn split(cidr: &str) -> (&str, u32) {
    let (addr, len) = cidr.split_once('/').expect("a CIDR block");
    (addr, len.parse().expect("a prefix length"))
}

fn contains_v4(cidr: &str, ip: Ipv4Addr) -> bool {
    let (addr, len) = split(cidr);
    let base: Ipv4Addr = addr.parse().expect("an IPv4 block");
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(ip) & mask == u32::from(base) & mask
}

fn contains_v6(cidr: &str, ip: Ipv6Addr) -> bool {
    let (addr, len) = split(cidr);
    let base: Ipv6Addr = addr.parse().expect("an IPv6 block");
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    u128::from(ip) & mask == u128::from(base) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_last(cidr: &str) -> (IpAddr, IpAddr) {
        let (addr, len) = split(cidr);
        match addr.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => {
                let host = u32::MAX.checked_shr(len).unwrap_or(0);
                let base = u32::from(v4) & !host;
                (IpAddr::V4(base.into()), IpAddr::V4((base | host).into()))
            }
            IpAddr::V6(v6) => {
                let host = u128::MAX.checked_shr(len).unwrap_or(0);
                let base = u128::from(v6) & !host;
                (IpAddr::V6(base.into()), IpAddr::V6((base | host).into()))
            }
        }
    }

    /// Every block of both tables: its first and last address are refused, and named by the
    /// block itself or a more specific one inside it.
    #[test]
    fn every_special_purpose_block_is_refused_at_both_ends() {
        let strict = Outbound::default();
        for table in [IPV4, IPV6] {
            for b in table {
                for ip in <[IpAddr; 2]>::from(first_last(b.block)) {
                    let found = special(ip).unwrap_or_else(|| panic!("{ip} ({}) is not classified", b.block));
                    let (_, found_len) = split(found.block);
                    assert!(found_len >= split(b.block).1, "{ip}: {} is less specific than {}", found.block, b.block);
                    assert!(strict.refusal(ip).is_some(), "{ip} ({}) is not refused", b.block);
                }
            }
        }
    }

    /// The addresses a partner tried, and their neighbours just outside each block.
    #[test]
    fn the_table_of_addresses() {
        let strict = Outbound::default();
        let local = Outbound { allow_local: true };
        // (address, refused in production, refused in development)
        let cases: &[(&str, bool, bool)] = &[
            ("127.0.0.1", true, false),
            ("127.255.255.254", true, false),
            ("::1", true, false),
            ("::ffff:127.0.0.1", true, false),
            ("::ffff:7f00:1", true, false),
            ("::127.0.0.1", true, false),
            ("64:ff9b::7f00:1", true, false),
            ("64:ff9b::a9fe:a9fe", true, true), // NAT64 of the metadata address
            ("64:ff9b::808:808", true, true),   // NAT64 of a public address: still translation
            ("64:ff9b:1::1", true, true),
            ("::ffff:8.8.8.8", true, true),
            ("10.1.2.3", true, false),
            ("172.31.255.255", true, false),
            ("172.32.0.0", false, false),
            ("192.168.1.1", true, false),
            ("fd12:3456::1", true, false),
            ("100.64.0.1", true, true),
            ("100.127.255.255", true, true),
            ("100.128.0.0", false, false),
            ("100.63.255.255", false, false),
            ("198.18.0.1", true, true),
            ("198.19.255.255", true, true),
            ("198.20.0.0", false, false),
            ("169.254.169.254", true, true),
            ("0.0.0.0", true, true),
            ("::", true, true),
            ("224.0.0.1", true, true),
            ("239.255.255.255", true, true),
            ("255.255.255.255", true, true),
            ("240.0.0.1", true, true),
            ("192.0.0.9", true, true),
            ("192.0.2.10", true, true),
            ("fe80::1", true, true),
            ("fec0::1", true, true),
            ("ff02::1", true, true),
            ("2001:db8::1", true, true),
            ("2002:7f00:1::1", true, true),
            ("2001::1", true, true),
            ("3fff::1", true, true),
            ("5f00::1", true, true),
            ("8.8.8.8", false, false),
            ("1.1.1.1", false, false),
            ("93.184.216.34", false, false),
            ("2606:4700:4700::1111", false, false),
            ("2a00:1450:4001::1", false, false),
        ];
        for (ip, production, development) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(strict.refusal(ip).is_some(), *production, "{ip} in production: {:?}", strict.refusal(ip));
            assert_eq!(local.refusal(ip).is_some(), *development, "{ip} in development: {:?}", local.refusal(ip));
        }
    }

    #[test]
    fn refusals_name_the_block_and_the_embedded_address() {
        let why = Outbound::default().refusal("::ffff:127.0.0.1".parse().unwrap()).unwrap();
        assert!(why.contains("IPv4-mapped") && why.contains("127.0.0.1") && why.contains("Loopback"), "{why}");
        let why = Outbound::default().refusal("100.64.1.1".parse().unwrap()).unwrap();
        assert!(why.contains("100.64.0.0/10") && why.contains("Shared Address Space"), "{why}");
    }
}
