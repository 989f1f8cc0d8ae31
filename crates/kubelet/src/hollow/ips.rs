//! Pod IPs of hollow nodes: each node hands out addresses of its `spec.podCIDR` (IPv4),
//! skipping the network address, the gateway (`.1`) and the broadcast address, as the
//! bridge CNI plugin's host-local IPAM does. One address per pod UID; addresses come back
//! when the pod ends. Pure bookkeeping, no IO.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// An IPv4 range `base/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr4 {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr4 {
    /// Parses `a.b.c.d/n`; `None` for anything else (IPv6 included).
    pub fn parse(s: &str) -> Option<Cidr4> {
        let (ip, len) = s.split_once('/')?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        let prefix: u8 = len.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let mask = mask(prefix);
        Some(Cidr4 {
            base: u32::from(ip) & mask,
            prefix,
        })
    }

    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == self.base
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// The addresses of one node's podCIDR.
#[derive(Debug)]
pub struct NodeIps {
    cidr: Cidr4,
    by_uid: HashMap<String, u32>,
    used: HashMap<u32, String>,
    next: u64,
}

impl NodeIps {
    pub fn new(cidr: Cidr4) -> Self {
        NodeIps {
            cidr,
            by_uid: HashMap::new(),
            used: HashMap::new(),
            next: 2,
        }
    }

    pub fn cidr(&self) -> Cidr4 {
        self.cidr
    }

    /// The first and one-past-last usable offsets.
    fn usable(&self) -> (u64, u64) {
        let size = self.cidr.size();
        if size <= 4 {
            (0, size)
        } else {
            (2, size - 1)
        }
    }

    /// The address of pod `uid`, allocating one if it has none; `None` when the range is
    /// full.
    pub fn allocate(&mut self, uid: &str) -> Option<Ipv4Addr> {
        if let Some(ip) = self.by_uid.get(uid) {
            return Some(Ipv4Addr::from(*ip));
        }
        let (lo, hi) = self.usable();
        let span = hi.saturating_sub(lo);
        for step in 0..span {
            let off = lo + (self.next.saturating_sub(lo) + step) % span;
            let ip = self.cidr.base.wrapping_add(off as u32);
            if let std::collections::hash_map::Entry::Vacant(e) = self.used.entry(ip) {
                e.insert(uid.to_string());
                self.by_uid.insert(uid.to_string(), ip);
                self.next = off + 1;
                return Some(Ipv4Addr::from(ip));
            }
        }
        None
    }

    /// Records that pod `uid` holds `ip` (found in its status at start); false when the
    /// address is outside the range or taken by another pod.
    pub fn claim(&mut self, uid: &str, ip: Ipv4Addr) -> bool {
        if !self.cidr.contains(ip) {
            return false;
        }
        let ip = u32::from(ip);
        match self.used.get(&ip) {
            Some(owner) if owner != uid => false,
            _ => {
                self.used.insert(ip, uid.to_string());
                self.by_uid.insert(uid.to_string(), ip);
                true
            }
        }
    }

    /// Gives pod `uid`'s address back.
    pub fn release(&mut self, uid: &str) {
        if let Some(ip) = self.by_uid.remove(uid) {
            self.used.remove(&ip);
        }
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_ranges_only() {
        let c = Cidr4::parse("10.42.3.7/24").unwrap();
        assert_eq!(Ipv4Addr::from(c.base), Ipv4Addr::new(10, 42, 3, 0));
        assert_eq!(c.size(), 256);
        assert!(Cidr4::parse("fd00::/64").is_none());
        assert!(Cidr4::parse("10.0.0.0/33").is_none());
        assert!(Cidr4::parse("10.0.0.0").is_none());
    }

    #[test]
    fn allocates_from_dot_two_and_reuses_released_addresses() {
        let mut ips = NodeIps::new(Cidr4::parse("10.42.1.0/24").unwrap());
        assert_eq!(ips.allocate("a"), Some(Ipv4Addr::new(10, 42, 1, 2)));
        assert_eq!(ips.allocate("a"), Some(Ipv4Addr::new(10, 42, 1, 2)));
        assert_eq!(ips.allocate("b"), Some(Ipv4Addr::new(10, 42, 1, 3)));
        ips.release("a");
        assert_eq!(ips.in_use(), 1);
        for i in 0..252 {
            assert!(ips.allocate(&format!("p{i}")).is_some(), "{i}");
        }
        // 253 usable addresses (.2 - .254); all taken now.
        assert_eq!(ips.allocate("full"), None);
        ips.release("p7");
        assert!(ips.allocate("full").is_some());
    }

    #[test]
    fn claims_addresses_found_at_start() {
        let mut ips = NodeIps::new(Cidr4::parse("10.42.1.0/24").unwrap());
        assert!(ips.claim("a", Ipv4Addr::new(10, 42, 1, 2)));
        assert!(!ips.claim("b", Ipv4Addr::new(10, 42, 1, 2)));
        assert!(!ips.claim("c", Ipv4Addr::new(10, 42, 2, 2)));
        assert_eq!(ips.allocate("d"), Some(Ipv4Addr::new(10, 42, 1, 3)));
    }
}
