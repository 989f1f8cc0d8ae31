//! The names the API server's serving certificate must carry: the fixed in-cluster names plus
//! whatever the caller adds (bind address, host addresses, first IP of the service CIDR).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};

/// DNS names every serving certificate carries, whatever the caller asks for.
pub const DEFAULT_SERVER_DNS_NAMES: [&str; 5] = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];

/// IP addresses every serving certificate carries: `127.0.0.1` and `::1`.
pub const DEFAULT_SERVER_IPS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

/// Extra subject alternative names for the serving certificate, on top of
/// [`DEFAULT_SERVER_DNS_NAMES`] and [`DEFAULT_SERVER_IPS`]. The caller computes them (bind
/// address, the host's addresses and name, the first IP of the service CIDR).
///
/// A DNS entry that parses as an IP address is treated as an IP address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerNames {
    /// Extra DNS names (a leading `*.` wildcard is allowed; a trailing dot is dropped).
    pub dns: Vec<String>,
    /// Extra IP addresses.
    pub ips: Vec<IpAddr>,
}

impl ServerNames {
    /// No extra names: only the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a DNS name.
    pub fn with_dns(mut self, name: impl Into<String>) -> Self {
        self.dns.push(name.into());
        self
    }

    /// Adds an IP address.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ips.push(ip);
        self
    }

    /// The complete, normalized set: defaults plus extras, DNS names lower-cased.
    pub(crate) fn required(&self) -> Result<Sans> {
        let mut sans = Sans::default();
        for name in DEFAULT_SERVER_DNS_NAMES {
            sans.dns.insert(name.to_string());
        }
        sans.ips.extend(DEFAULT_SERVER_IPS);
        sans.ips.extend(self.ips.iter().copied());
        for name in &self.dns {
            if let Ok(ip) = name.parse::<IpAddr>() {
                sans.ips.insert(ip);
            } else {
                sans.dns.insert(normalize_dns(name)?);
            }
        }
        Ok(sans)
    }
}

/// A set of subject alternative names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sans {
    pub dns: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
}

impl Sans {
    /// The names of `self` that `have` lacks, for a human (`DNS:x`, `IP:y`).
    pub(crate) fn missing_from(&self, have: &Sans) -> Vec<String> {
        let dns = self
            .dns
            .difference(&have.dns)
            .map(|name| format!("DNS:{name}"));
        let ips = self.ips.difference(&have.ips).map(|ip| format!("IP:{ip}"));
        dns.chain(ips).collect()
    }
}

/// Lower-cases, drops a trailing dot and checks the name is a plausible DNS name (letters,
/// digits, `-`, `_`, dots, an optional leading `*.`), as an IA5String in a certificate needs.
fn normalize_dns(name: &str) -> Result<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let body = name.strip_prefix("*.").unwrap_or(&name);
    let ok = !body.is_empty()
        && name.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(name)
    } else {
        Err(Error::InvalidInput(format!(
            "{name:?} is not a valid DNS name for a certificate"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_includes_defaults_and_extras() {
        let names = ServerNames::new()
            .with_dns("Node1.Example.")
            .with_dns("10.0.0.5")
            .with_ip("10.96.0.1".parse().unwrap());
        let sans = names.required().unwrap();
        assert!(sans.dns.contains("kubernetes.default.svc.cluster.local"));
        assert!(sans.dns.contains("node1.example"));
        assert!(sans.ips.contains(&"10.0.0.5".parse().unwrap()));
        assert!(sans.ips.contains(&"10.96.0.1".parse().unwrap()));
        assert!(sans.ips.contains(&"::1".parse().unwrap()));
    }

    #[test]
    fn bad_dns_names_are_refused() {
        for bad in ["", "a b", "bad..name", "ümlaut.example", "*."] {
            assert!(
                ServerNames::new().with_dns(bad).required().is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(ServerNames::new()
            .with_dns("*.apps.example")
            .required()
            .is_ok());
    }
}
