//! Zones and the pace of NoExecute tainting (upstream's zone states and rate-limited
//! tainting queues): nodes are grouped by `topology.kubernetes.io/region` + `zone`; a zone
//! is Normal, PartialDisruption (more than 2 and at least 55% of its nodes not Ready) or
//! FullDisruption (none Ready). Nodes of a zone are newly tainted NoExecute at most
//! `--node-eviction-rate` (0.1/s) per zone in Normal and FullDisruption, at
//! `--secondary-node-eviction-rate` (0.01/s) in PartialDisruption when the zone has more
//! than 50 nodes (else not at all). When every zone is fully disrupted nobody is tainted
//! (see `taints::reconcile`'s `evict`). Pure: the time comes in as a parameter.

use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;

use super::health::ready_status;

pub const EVICTION_QPS: f64 = 0.1;
pub const SECONDARY_EVICTION_QPS: f64 = 0.01;
pub const LARGE_CLUSTER_THRESHOLD: usize = 50;
pub const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    Normal,
    PartialDisruption,
    FullDisruption,
}

/// The zone a node is in (upstream's `GetZoneKey`: region and zone).
pub fn zone_key(node: &Node) -> String {
    let labels = node.metadata.labels.as_ref();
    let get = |k: &str| {
        labels
            .and_then(|l| l.get(k))
            .map(String::as_str)
            .unwrap_or("")
    };
    let region = get("topology.kubernetes.io/region");
    let zone = get("topology.kubernetes.io/zone");
    if region.is_empty() && zone.is_empty() {
        String::new()
    } else {
        format!("{region}:\u{0}:{zone}")
    }
}

/// A zone's state from how many of its nodes are Ready.
pub fn zone_state(ready: usize, not_ready: usize) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2
        && not_ready as f64 / (ready + not_ready) as f64 >= UNHEALTHY_ZONE_THRESHOLD
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// Every zone's state and size.
pub fn zones<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> HashMap<String, (ZoneState, usize)> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for n in nodes {
        let c = counts.entry(zone_key(n)).or_default();
        if ready_status(n) == Some("True") {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|(k, (r, nr))| (k, (zone_state(r, nr), r + nr)))
        .collect()
}

/// The tainting rate of a zone.
pub fn tainting_qps(state: ZoneState, size: usize) -> f64 {
    match state {
        ZoneState::Normal | ZoneState::FullDisruption => EVICTION_QPS,
        ZoneState::PartialDisruption if size > LARGE_CLUSTER_THRESHOLD => SECONDARY_EVICTION_QPS,
        ZoneState::PartialDisruption => 0.0,
    }
}

/// A token bucket with a burst of one (upstream's `EvictionRateLimiterBurst`).
#[derive(Debug, Clone)]
pub struct Bucket {
    tokens: f64,
    last: Timestamp,
}

impl Bucket {
    pub fn new(now: Timestamp) -> Self {
        Bucket {
            tokens: 1.0,
            last: now,
        }
    }

    /// Takes a token at `qps`; `Err(seconds until one is there)` when none is (`None`
    /// seconds: never, at rate 0).
    pub fn take(&mut self, qps: f64, now: Timestamp) -> Result<(), Option<f64>> {
        let elapsed = now.duration_since(self.last).as_secs_f64().max(0.0);
        self.last = now;
        self.tokens = (self.tokens + elapsed * qps).min(1.0);
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(())
        } else if qps > 0.0 {
            Err(Some((1.0 - self.tokens) / qps))
        } else {
            Err(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn zone_states_as_upstream() {
        assert_eq!(zone_state(3, 0), ZoneState::Normal);
        assert_eq!(zone_state(0, 1), ZoneState::FullDisruption);
        assert_eq!(zone_state(1, 2), ZoneState::Normal);
        assert_eq!(zone_state(2, 3), ZoneState::PartialDisruption);
        assert_eq!(zone_state(10, 3), ZoneState::Normal);
        assert_eq!(tainting_qps(ZoneState::PartialDisruption, 10), 0.0);
        assert_eq!(tainting_qps(ZoneState::PartialDisruption, 100), 0.01);
    }

    #[test]
    fn zones_group_by_region_and_zone() {
        let mut a = Node::default();
        a.metadata.labels =
            Some([("topology.kubernetes.io/zone".to_string(), "z1".to_string())].into());
        let b = Node::default();
        let z = zones([&a, &b, &b]);
        assert_eq!(z.len(), 2);
        assert_eq!(z[""], (ZoneState::FullDisruption, 2));
    }

    #[test]
    fn one_node_every_ten_seconds() {
        let mut b = Bucket::new(t(0));
        assert_eq!(b.take(0.1, t(0)), Ok(()));
        let wait = b.take(0.1, t(1000)).unwrap_err().unwrap();
        assert!((wait - 9.0).abs() < 1e-6, "{wait}");
        assert_eq!(b.take(0.1, t(10_000)), Ok(()));
        assert_eq!(b.take(0.0, t(20_000)), Err(None));
    }
}
