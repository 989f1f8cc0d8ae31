//! The scheduler's view of the cluster: per node, its allocatable resources, what the pods
//! placed on it request, and the host ports they hold; kept up to date from the informers
//! and from the scheduler's own placements ("assumed" pods, counted before their binding
//! comes back through the watch).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, PodAffinityTerm};

use crate::interpod;

use crate::plugins::host_ports;
use crate::resources::{allocatable, pod_requests, Resources};

/// One node and what is placed on it.
pub struct NodeInfo {
    pub node: Arc<Node>,
    pub allocatable: Resources,
    pub requested: Resources,
    pub ports: HashSet<(String, i32)>,
}

struct Placed {
    node: String,
    requests: Resources,
    ports: Vec<(String, i32)>,
    namespace: String,
    labels: BTreeMap<String, String>,
    anti: Vec<PodAffinityTerm>,
}

/// Every node's [`NodeInfo`] and where each pod (by uid) is placed.
#[derive(Default)]
pub struct Cache {
    nodes: HashMap<String, NodeInfo>,
    /// Node names in a stable order, for sampling from a rotating start.
    order: Vec<String>,
    placed: HashMap<String, Placed>,
    /// How many placed pods have required anti-affinity.
    with_anti: usize,
}

fn finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

impl Cache {
    pub fn nodes(&self) -> &[String] {
        &self.order
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    /// How many placed pods carry required anti-affinity.
    pub fn with_anti_affinity(&self) -> usize {
        self.with_anti
    }

    /// Every placed pod on a known node, for the inter-pod plugins.
    pub fn placed_pods(&self) -> impl Iterator<Item = interpod::Placed<'_>> + Clone {
        self.placed.values().filter_map(|p| {
            let node = self.nodes.get(&p.node)?;
            static EMPTY: BTreeMap<String, String> = BTreeMap::new();
            Some(interpod::Placed {
                namespace: &p.namespace,
                labels: &p.labels,
                node_labels: node.node.metadata.labels.as_ref().unwrap_or(&EMPTY),
                anti: &p.anti,
            })
        })
    }

    pub fn is_placed(&self, uid: &str) -> bool {
        self.placed.contains_key(uid)
    }

    pub fn set_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let alloc = allocatable(&node);
        match self.nodes.get_mut(&name) {
            Some(info) => {
                info.node = node;
                info.allocatable = alloc;
            }
            None => {
                let mut info = NodeInfo {
                    node,
                    allocatable: alloc,
                    requested: Resources::default(),
                    ports: HashSet::new(),
                };
                for p in self.placed.values().filter(|p| p.node == name) {
                    info.requested.add(&p.requests);
                    info.ports.extend(p.ports.iter().cloned());
                }
                self.nodes.insert(name.clone(), info);
                self.order.push(name);
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        if self.nodes.remove(name).is_some() {
            self.order.retain(|n| n != name);
        }
    }

    /// Counts `pod` on `node` (idempotent for the same uid and node).
    pub fn place(&mut self, pod: &Pod, node: &str) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if let Some(p) = self.placed.get(&uid) {
            if p.node == node {
                return;
            }
            self.unplace(&uid);
        }
        let placed = Placed {
            node: node.to_string(),
            requests: pod_requests(pod),
            ports: host_ports(pod).collect(),
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            anti: interpod::anti_terms(pod),
        };
        if !placed.anti.is_empty() {
            self.with_anti += 1;
        }
        if let Some(info) = self.nodes.get_mut(node) {
            info.requested.add(&placed.requests);
            info.ports.extend(placed.ports.iter().cloned());
        }
        self.placed.insert(uid, placed);
    }

    /// Stops counting the pod with `uid`.
    pub fn unplace(&mut self, uid: &str) {
        let Some(p) = self.placed.remove(uid) else {
            return;
        };
        if !p.anti.is_empty() {
            self.with_anti -= 1;
        }
        if let Some(info) = self.nodes.get_mut(&p.node) {
            info.requested.sub(&p.requests);
            for port in &p.ports {
                info.ports.remove(port);
            }
        }
    }

    /// Follows a pod as the API shows it: counted on its node while it is bound and not
    /// finished; an unbound pod keeps a placement the scheduler assumed for it.
    pub fn observe_pod(&mut self, pod: &Pod) {
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or("");
        if finished(pod) {
            self.unplace(uid);
        } else if !node.is_empty() {
            self.place(pod, node);
        }
    }
}
