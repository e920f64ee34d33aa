//! Deny-by-default egress decisions, kept pure so they are unit-tested in one place.
//!
//! A request may leave the sandbox only if its host matches a pattern the plugin's
//! manifest declares AND a pattern the merchant granted. The address it finally connects
//! to must not be loopback / private / link-local / unspecified (or otherwise internal)
//! unless the request named that IP literally and the IP itself was declared and granted,
//! or the operator pinned the host with a resolver override.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use wharf_domain::manifest::host_matches;

use crate::context::EgressPolicy;

/// Why a request was refused. `Display` completes "egress to `host` refused: …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Neither the manifest declares the host nor the merchant granted it.
    NotDeclaredNorGranted,
    /// The merchant granted the host, but the plugin's manifest does not declare it.
    NotDeclared,
    /// The manifest declares the host, but the merchant has not granted it.
    NotGranted,
    /// The host resolved to an internal address that was not literally granted.
    InternalAddress(IpAddr),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDeclaredNorGranted => f.write_str(
                "not granted (the plugin manifest does not declare it and the installation \
                 has not granted it)",
            ),
            Self::NotDeclared => {
                f.write_str("not granted (granted, but the plugin manifest does not declare it)")
            }
            Self::NotGranted => f.write_str(
                "not granted (declared by the plugin manifest, but the installation has not \
                 granted it)",
            ),
            Self::InternalAddress(ip) => write!(
                f,
                "not granted (it resolves to the internal address {ip}; internal addresses \
                 are reachable only when granted literally as an IP)"
            ),
        }
    }
}

/// The host as patterns are matched against it: lower case, no IPv6 brackets, no
/// trailing root dot.
pub fn normalize_host(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(h);
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// Is the host name allowed by both the manifest and the grant?
pub fn check_host(policy: &EgressPolicy, host: &str) -> Result<(), Refusal> {
    let host = normalize_host(host);
    let declared = !host.is_empty() && policy.manifest_hosts.iter().any(|p| host_matches(p, &host));
    let granted = !host.is_empty() && policy.granted_hosts.iter().any(|p| host_matches(p, &host));
    match (declared, granted) {
        (true, true) => Ok(()),
        (false, false) => Err(Refusal::NotDeclaredNorGranted),
        (false, true) => Err(Refusal::NotDeclared),
        (true, false) => Err(Refusal::NotGranted),
    }
}

/// May a request for `host` (already past [`check_host`]) connect to `ip`? Public
/// addresses always; internal ones only when `host` is that very IP literal (which then
/// was declared and granted as such).
pub fn check_address(host: &str, ip: IpAddr) -> Result<(), Refusal> {
    if !is_internal(ip) {
        return Ok(());
    }
    match normalize_host(host).parse::<IpAddr>() {
        Ok(literal) if canonical(literal) == canonical(ip) => Ok(()),
        _ => Err(Refusal::InternalAddress(ip)),
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Loopback, private, link-local, unspecified, shared (CGNAT), broadcast, multicast,
/// documentation and other non-global addresses.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64 can reach internal v4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(manifest: &[&str], granted: &[&str]) -> EgressPolicy {
        EgressPolicy {
            manifest_hosts: manifest.iter().map(|s| s.to_string()).collect(),
            granted_hosts: granted.iter().map(|s| s.to_string()).collect(),
            resolve: Default::default(),
        }
    }

    // A host must be both declared by the manifest and granted by the merchant.
    #[test]
    fn host_needs_manifest_and_grant() {
        let p = policy(
            &["*.myshopify.com", "api.other.com"],
            &["demo.myshopify.com"],
        );
        assert_eq!(check_host(&p, "demo.myshopify.com"), Ok(()));
        assert_eq!(check_host(&p, "DEMO.myshopify.com."), Ok(()));
        assert_eq!(
            check_host(&p, "shop2.myshopify.com"),
            Err(Refusal::NotGranted)
        );
        assert_eq!(check_host(&p, "api.other.com"), Err(Refusal::NotGranted));
        assert_eq!(
            check_host(&p, "evil.example"),
            Err(Refusal::NotDeclaredNorGranted)
        );
        let p = policy(&["api.other.com"], &["*.myshopify.com"]);
        assert_eq!(
            check_host(&p, "demo.myshopify.com"),
            Err(Refusal::NotDeclared)
        );
        assert_eq!(check_host(&p, ""), Err(Refusal::NotDeclaredNorGranted));
    }

    // Wildcards never match the bare suffix or a look-alike domain.
    #[test]
    fn wildcards_do_not_overreach() {
        let p = policy(&["*.myshopify.com"], &["*.myshopify.com"]);
        assert!(check_host(&p, "myshopify.com").is_err());
        assert!(check_host(&p, "evilmyshopify.com").is_err());
        assert!(check_host(&p, "demo.myshopify.com.evil.io").is_err());
    }

    // Internal address ranges are recognised, for IPv4, IPv6 and IPv4-mapped IPv6.
    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip} should be internal");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip} should be public");
        }
    }

    // A name resolving to an internal address is refused; a literally requested IP is not.
    #[test]
    fn internal_addresses_need_a_literal_ip() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            check_address("api.example.com", lo),
            Err(Refusal::InternalAddress(lo))
        );
        assert_eq!(check_address("127.0.0.1", lo), Ok(()));
        assert_eq!(check_address("[::1]", "::1".parse().unwrap()), Ok(()));
        assert_eq!(
            check_address("127.0.0.2", lo),
            Err(Refusal::InternalAddress(lo))
        );
        assert_eq!(
            check_address("api.example.com", "8.8.8.8".parse().unwrap()),
            Ok(())
        );
    }

    // Refusals read as the sentence the log line needs.
    #[test]
    fn refusal_messages_say_not_granted() {
        for r in [
            Refusal::NotDeclaredNorGranted,
            Refusal::NotDeclared,
            Refusal::NotGranted,
            Refusal::InternalAddress("10.0.0.1".parse().unwrap()),
        ] {
            assert!(r.to_string().starts_with("not granted"), "{r}");
        }
    }
}
