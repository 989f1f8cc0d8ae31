//! The node IPAM controller (upstream's range allocator): every Node without
//! `spec.podCIDR` gets the next free `/node_cidr_mask_size` range of the cluster CIDR
//! (`spec.podCIDR` and `spec.podCIDRs`); ranges of deleted nodes are freed. What is taken is
//! rebuilt from the nodes at start. When the cluster CIDR is exhausted the node gets a
//! `CIDRNotAvailable` event and stays without a range until one is freed. IPv4 only.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use parking_lot::Mutex;
use serde_json::json;
use skiff_runtime::events::EventType;
use skiff_runtime::{Change, ObjectKey, WorkQueue};

use crate::context::Context;

/// Upstream's limit on how many ranges one cluster CIDR is cut into (2^16).
const MAX_SUBNET_BITS: u8 = 16;

/// The ranges of a cluster CIDR (upstream's `CidrSet`): allocation goes round-robin from
/// after the last one handed out.
#[derive(Debug, Clone)]
pub struct CidrSet {
    base: u32,
    cluster_prefix: u8,
    node_prefix: u8,
    used: Vec<bool>,
    in_use: usize,
    next: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("invalid CIDR {0:?}")]
    Invalid(String),
    #[error("CIDRSet: subnet mask size is too large for cluster CIDR")]
    MaskTooLarge,
    #[error("cidr set: {0} is not in {1}")]
    NotInRange(String, String),
    #[error("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")]
    Full,
}

fn parse_v4(s: &str) -> Result<(u32, u8), CidrError> {
    let bad = || CidrError::Invalid(s.to_string());
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    Ok((u32::from(ip) & mask(len), len))
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl CidrSet {
    pub fn new(cluster_cidr: &str, node_prefix: u8) -> Result<CidrSet, CidrError> {
        let (base, cluster_prefix) = parse_v4(cluster_cidr)?;
        if node_prefix > 32 || node_prefix < cluster_prefix {
            return Err(CidrError::MaskTooLarge);
        }
        if node_prefix - cluster_prefix > MAX_SUBNET_BITS {
            return Err(CidrError::MaskTooLarge);
        }
        let n = 1usize << (node_prefix - cluster_prefix);
        Ok(CidrSet {
            base,
            cluster_prefix,
            node_prefix,
            used: vec![false; n],
            in_use: 0,
            next: 0,
        })
    }

    fn render(&self, i: usize) -> String {
        let step = if self.node_prefix == 32 {
            1u64
        } else {
            1u64 << (32 - u32::from(self.node_prefix))
        };
        let ip = (u64::from(self.base) + i as u64 * step) as u32;
        format!("{}/{}", Ipv4Addr::from(ip), self.node_prefix)
    }

    /// The index of `cidr` in this set.
    fn index_of(&self, cidr: &str) -> Result<usize, CidrError> {
        let (ip, len) = parse_v4(cidr)?;
        let outside = || CidrError::NotInRange(cidr.to_string(), self.render_cluster());
        if len != self.node_prefix || ip & mask(self.cluster_prefix) != self.base {
            return Err(outside());
        }
        let shift = 32 - u32::from(self.node_prefix);
        let i = if shift == 32 {
            0
        } else {
            ((ip - self.base) >> shift) as usize
        };
        if i < self.used.len() {
            Ok(i)
        } else {
            Err(outside())
        }
    }

    fn render_cluster(&self) -> String {
        format!("{}/{}", Ipv4Addr::from(self.base), self.cluster_prefix)
    }

    /// The next free range.
    pub fn allocate_next(&mut self) -> Result<String, CidrError> {
        let n = self.used.len();
        for step in 0..n {
            let i = (self.next + step) % n;
            if !self.used[i] {
                self.used[i] = true;
                self.in_use += 1;
                self.next = (i + 1) % n;
                return Ok(self.render(i));
            }
        }
        Err(CidrError::Full)
    }

    /// Marks `cidr` taken (a node has it already).
    pub fn occupy(&mut self, cidr: &str) -> Result<(), CidrError> {
        let i = self.index_of(cidr)?;
        if !self.used[i] {
            self.used[i] = true;
            self.in_use += 1;
        }
        Ok(())
    }

    /// Frees `cidr`.
    pub fn release(&mut self, cidr: &str) -> Result<(), CidrError> {
        let i = self.index_of(cidr)?;
        if self.used[i] {
            self.used[i] = false;
            self.in_use -= 1;
        }
        Ok(())
    }

    pub fn in_use(&self) -> usize {
        self.in_use
    }
}

/// The podCIDRs a node has.
pub fn node_cidrs(node: &Node) -> Vec<String> {
    let Some(spec) = node.spec.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<String> = spec.pod_cidrs.clone().unwrap_or_default();
    if let Some(c) = spec.pod_cidr.as_ref().filter(|c| !c.is_empty()) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// The patch giving a node its range.
pub fn cidr_patch(cidr: &str) -> serde_json::Value {
    json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
}

/// When a node whose range could not be allocated is looked at again.
const RETRY_FULL: Duration = Duration::from_secs(30);

pub async fn run(ctx: Arc<Context>) {
    let set = match CidrSet::new(&ctx.config.cluster_cidr, ctx.config.node_cidr_mask_size) {
        Ok(s) => Arc::new(Mutex::new(s)),
        Err(e) => {
            tracing::warn!(cluster_cidr = %ctx.config.cluster_cidr, error = %e, "node IPAM disabled");
            return;
        }
    };
    let nodes = ctx.informers.get::<Node>();
    let queue: WorkQueue<String> = WorkQueue::new();
    let mut changes = nodes.subscribe();
    nodes.synced().await;
    {
        let mut s = set.lock();
        for n in nodes.list() {
            for c in node_cidrs(&n) {
                if let Err(e) = s.occupy(&c) {
                    tracing::debug!(node = ?n.metadata.name, error = %e, "podCIDR outside the cluster CIDR");
                }
            }
        }
    }
    for k in nodes.keys() {
        queue.add(k.name);
    }
    let q = queue.clone();
    let s2 = set.clone();
    let inf = nodes.clone();
    tokio::spawn(async move {
        while let Some(c) = changes.recv().await {
            match c {
                Change::Resync => inf.keys().into_iter().for_each(|k| q.add(k.name)),
                Change::Deleted(n) => {
                    let mut s = s2.lock();
                    for c in node_cidrs(&n) {
                        let _ = s.release(&c);
                    }
                }
                Change::Added(n) | Change::Updated { new: n, .. } => {
                    q.add(n.metadata.name.clone().unwrap_or_default());
                }
            }
        }
    });
    let recorder = ctx.recorder("cidrAllocator");
    let client = ctx.client.clone();
    queue
        .run(ctx.config.workers, move |name: String| {
            let nodes = nodes.clone();
            let set = set.clone();
            let client = client.clone();
            let recorder = recorder.clone();
            async move {
                let Some(node) = nodes.get(&ObjectKey::cluster(&name)) else {
                    return Ok::<_, kube::Error>(None);
                };
                let have = node_cidrs(&node);
                if !have.is_empty() {
                    let mut s = set.lock();
                    for c in have {
                        let _ = s.occupy(&c);
                    }
                    return Ok(None);
                }
                if node.metadata.deletion_timestamp.is_some() {
                    return Ok(None);
                }
                let cidr = match set.lock().allocate_next() {
                    Ok(c) => c,
                    Err(_) => {
                        recorder.record(
                            &*node,
                            EventType::Normal,
                            "CIDRNotAvailable",
                            format!("Node {name} status is now: CIDRNotAvailable"),
                        );
                        return Ok(Some(RETRY_FULL));
                    }
                };
                let api: Api<Node> = Api::all(client);
                match api
                    .patch(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(&cidr_patch(&cidr)),
                    )
                    .await
                {
                    Ok(updated) => {
                        nodes.assume(updated);
                        Ok(None)
                    }
                    Err(e) => {
                        let _ = set.lock().release(&cidr);
                        match e {
                            kube::Error::Api(ae) if ae.code == 404 => Ok(None),
                            // The node has a range already and the cache is behind: read it.
                            kube::Error::Api(ae) if ae.code == 422 => {
                                let fresh = api.get(&name).await?;
                                let have = node_cidrs(&fresh);
                                nodes.assume(fresh);
                                if have.is_empty() {
                                    Err(kube::Error::Api(ae))
                                } else {
                                    let mut s = set.lock();
                                    for c in have {
                                        let _ = s.occupy(&c);
                                    }
                                    Ok(None)
                                }
                            }
                            e => {
                                recorder.record(
                                    &*node,
                                    EventType::Normal,
                                    "CIDRAssignmentFailed",
                                    format!("Node {name} status is now: CIDRAssignmentFailed"),
                                );
                                Err(e)
                            }
                        }
                    }
                }
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_cluster_cidr_into_node_ranges() {
        let mut s = CidrSet::new("10.42.0.0/16", 24).unwrap();
        assert_eq!(s.allocate_next().unwrap(), "10.42.0.0/24");
        assert_eq!(s.allocate_next().unwrap(), "10.42.1.0/24");
        s.occupy("10.42.2.0/24").unwrap();
        assert_eq!(s.allocate_next().unwrap(), "10.42.3.0/24");
        assert_eq!(s.in_use(), 4);
        s.release("10.42.1.0/24").unwrap();
        assert_eq!(s.in_use(), 3);
        assert!(s.occupy("10.43.0.0/24").is_err());
        assert!(s.occupy("10.42.0.0/25").is_err());
    }

    #[test]
    fn exhaustion_is_reported_and_freed_ranges_come_back() {
        let mut s = CidrSet::new("10.42.0.0/23", 24).unwrap();
        assert!(s.allocate_next().is_ok());
        assert!(s.allocate_next().is_ok());
        assert_eq!(s.allocate_next(), Err(CidrError::Full));
        s.release("10.42.1.0/24").unwrap();
        assert_eq!(s.allocate_next().unwrap(), "10.42.1.0/24");
    }

    #[test]
    fn large_clusters_and_bad_settings() {
        let mut s = CidrSet::new("10.0.0.0/8", 24).unwrap();
        for _ in 0..5000 {
            s.allocate_next().unwrap();
        }
        assert_eq!(s.allocate_next().unwrap(), "10.19.136.0/24");
        assert_eq!(
            CidrSet::new("10.0.0.0/8", 25).unwrap_err(),
            CidrError::MaskTooLarge
        );
        assert!(CidrSet::new("10.0.0.0/24", 16).is_err());
        assert!(CidrSet::new("fd00::/48", 64).is_err());
        assert!(CidrSet::new("garbage", 24).is_err());
    }

    #[test]
    fn reads_both_cidr_fields() {
        let mut n = Node::default();
        assert!(node_cidrs(&n).is_empty());
        n.spec = Some(k8s_openapi::api::core::v1::NodeSpec {
            pod_cidr: Some("10.42.0.0/24".into()),
            ..Default::default()
        });
        assert_eq!(node_cidrs(&n), ["10.42.0.0/24"]);
        assert_eq!(
            cidr_patch("10.42.0.0/24")["spec"]["podCIDRs"][0],
            "10.42.0.0/24"
        );
    }
}
