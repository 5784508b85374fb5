//! Requests to addresses a customer typed (their export bucket) must not reach Moth's own network:
//! no loopback, private, shared (CGNAT), link-local (the cloud metadata service at 169.254.169.254),
//! unique-local, multicast or unspecified address, and no IPv4 address dressed as IPv6.
//!
//! Checked twice: when the endpoint is saved (a clear error for the owner), and on every connection,
//! by the resolver the S3 client uses ([`GuardedResolver`]): a name that resolved to a public address
//! yesterday and to 127.0.0.1 today (DNS rebinding) is refused at connection time. An endpoint given
//! as an IP literal never reaches a resolver, so [`check_endpoint`] checks it before every client is
//! made. S3 clients do not follow redirects. `allow_private_endpoints` lifts the rule, for
//! tests and on-premises stores.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || ip.to_ipv4_mapped().is_some() // ::ffff:a.b.c.d
        || ip.segments()[..6] == [0; 6] // IPv4-compatible ::a.b.c.d
        || first == 0x64 && ip.segments()[1] == 0xff9b // NAT64 64:ff9b::/96
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || first == 0x2002) // 6to4, which embeds an IPv4 address
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("the endpoint must be http:// or https:// followed by a host, with no path, user or query")]
    Malformed,
    /// The address is kept for the server's log; the message, which a team's owner reads, does not
    /// say what an internal name resolves to.
    #[error("the endpoint's host does not resolve to a public address")]
    Private(IpAddr),
    #[error("the endpoint's host {0} does not resolve")]
    Unresolved(String),
}

/// The host and port of an endpoint `scheme://host[:port]`.
pub fn host_and_port(endpoint: &str) -> Result<(String, u16), Refused> {
    let uri: http::Uri = endpoint.parse().map_err(|_| Refused::Malformed)?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Err(Refused::Malformed),
    };
    let authority = uri.authority().ok_or(Refused::Malformed)?;
    if authority.as_str().contains('@') || uri.query().is_some() || !matches!(uri.path(), "" | "/") {
        return Err(Refused::Malformed);
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
    if host.is_empty() {
        return Err(Refused::Malformed);
    }
    Ok((host, authority.port_u16().unwrap_or(default_port)))
}

/// Checks an endpoint now: its literal address, or every address its name resolves to.
pub async fn check_endpoint(endpoint: &str, allow_private: bool) -> Result<(), Refused> {
    let (host, port) = host_and_port(endpoint)?;
    check_host(host, port, allow_private).await
}

/// Checks a URL with a path (a webhook's) as [`check_endpoint`] checks an endpoint.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), Refused> {
    let uri: http::Uri = url.parse().map_err(|_| Refused::Malformed)?;
    let origin = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().ok_or(Refused::Malformed)?);
    check_endpoint(&origin, allow_private).await
}

async fn check_host(host: String, port: u16, allow_private: bool) -> Result<(), Refused> {
    if allow_private {
        return Ok(());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return if is_public(ip) { Ok(()) } else { Err(Refused::Private(ip)) };
    }
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| Refused::Unresolved(host.clone()))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(Refused::Unresolved(host));
    }
    match addresses.into_iter().find(|ip| !is_public(*ip)) {
        Some(ip) => Err(Refused::Private(ip)),
        None => Ok(()),
    }
}

/// The S3 client's resolver: the system's answer, refused whole if any address is not public.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl ResolveDns for GuardedResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            let addresses: Vec<IpAddr> =
                tokio::net::lookup_host((name, 0)).await.map_err(ResolveDnsError::new)?.map(|a| a.ip()).collect();
            if !self.allow_private {
                if let Some(ip) = addresses.iter().find(|ip| !is_public(**ip)) {
                    tracing::warn!(host = name, address = %ip, "refused a connection to a non-public address");
                    return Err(ResolveDnsError::new(Refused::Private(*ip)));
                }
            }
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_pass() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(refused.parse().expect("ip")), "{refused} passed");
        }
        for allowed in ["52.95.110.1", "8.8.8.8", "2a05:d018::1", "2606:4700::1111"] {
            assert!(is_public(allowed.parse().expect("ip")), "{allowed} refused");
        }
    }

    #[test]
    fn endpoints_are_an_origin_and_nothing_more() {
        assert_eq!(host_and_port("https://s3.example.com"), Ok(("s3.example.com".into(), 443)));
        assert_eq!(host_and_port("http://[::1]:9000"), Ok(("::1".into(), 9000)));
        for bad in ["ftp://x", "https://user:pw@x", "https://x/path", "https://x?a=1", "x", "https://"] {
            assert_eq!(host_and_port(bad), Err(Refused::Malformed), "{bad}");
        }
    }

    #[tokio::test]
    async fn literal_and_resolved_private_addresses_are_refused_unless_allowed() {
        assert_eq!(
            check_endpoint("http://169.254.169.254", false).await,
            Err(Refused::Private("169.254.169.254".parse().expect("ip")))
        );
        assert!(matches!(check_endpoint("http://localhost:9000", false).await, Err(Refused::Private(_))));
        assert_eq!(check_endpoint("http://localhost:9000", true).await, Ok(()));
        let resolved = GuardedResolver { allow_private: false }.resolve_dns("localhost").await;
        assert!(resolved.is_err(), "the connection-time resolver let localhost through");
        let allowed = GuardedResolver { allow_private: true }.resolve_dns("localhost").await;
        assert!(allowed.is_ok_and(|a| !a.is_empty()));
    }
}
