//! The DaemonSet's core loop decision (upstream `manage` / `podsShouldBeOnNode`): on each
//! node, create the missing pod where one should run, delete failed and succeeded pods,
//! surplus pods (all but the oldest, or with surge the best old/new pair) and pods on nodes
//! that may no longer keep them; delete unscheduled pods of nodes that are gone.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};

use super::placement::{placement, target_node, REVISION_HASH_LABEL};
use super::pods::{is_available, is_ready, is_terminal, phase};
use super::rolling::allows_surge;

/// The claimed daemon pods by the node they are for (upstream `getNodesToDaemonPods`).
/// Terminal pods being deleted are left out unless `include_deleted_terminal`.
pub fn node_to_pods(
    pods: &[Arc<Pod>],
    include_deleted_terminal: bool,
) -> BTreeMap<String, Vec<Arc<Pod>>> {
    let mut out: BTreeMap<String, Vec<Arc<Pod>>> = BTreeMap::new();
    for p in pods {
        if !include_deleted_terminal && is_terminal(p) && p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if let Some(node) = target_node(p) {
            out.entry(node).or_default().push(p.clone());
        }
    }
    out
}

fn has_node(p: &Pod) -> bool {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

/// Upstream `podByCreationTimestampAndPhase`: scheduled pods first, then oldest, then name.
pub fn pod_order(a: &Pod, b: &Pod) -> Ordering {
    match (has_node(a), has_node(b)) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let ts = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    ts(a)
        .cmp(&ts(b))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// An event the decision asks to record on the DaemonSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// What the core loop does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagePlan {
    /// Nodes that get a new pod.
    pub create_on: Vec<String>,
    /// Pods (names) to delete.
    pub delete: Vec<String>,
    /// Failed pods found (the sync then fails, to back off from a kill-recreate loop).
    pub failed: usize,
    pub notes: Vec<Note>,
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// Upstream `podsShouldBeOnNode` for one node.
fn on_node(
    node: &Node,
    by_node: &BTreeMap<String, Vec<Arc<Pod>>>,
    ds: &DaemonSet,
    hash: &str,
    now: jiff::Timestamp,
    plan: &mut ManagePlan,
) {
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let place = placement(node, ds);
    let pods = by_node.get(&node_name);
    let ns = ds.metadata.namespace.as_deref().unwrap_or("");
    let min_ready = ds
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    match pods {
        None if place.should_run => plan.create_on.push(node_name),
        Some(pods) if place.should_continue_running => {
            let mut running: Vec<&Arc<Pod>> = Vec::new();
            for p in pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
            {
                match phase(p) {
                    "Failed" => {
                        plan.failed += 1;
                        plan.notes.push(Note {
                            warning: true,
                            reason: "FailedDaemonPod",
                            message: format!(
                                "Found failed daemon pod {ns}/{} on node {node_name}, will try to kill it",
                                name(p)
                            ),
                        });
                        plan.delete.push(name(p));
                    }
                    "Succeeded" => {
                        plan.notes.push(Note {
                            warning: false,
                            reason: "SucceededDaemonPod",
                            message: format!(
                                "Found succeeded daemon pod {ns}/{} on node {node_name}, will try to delete it",
                                name(p)
                            ),
                        });
                        plan.delete.push(name(p));
                    }
                    _ => running.push(p),
                }
            }
            running.sort_by(|a, b| pod_order(a, b));
            if !allows_surge(ds) {
                plan.delete.extend(running.iter().skip(1).map(|p| name(p)));
                return;
            }
            if running.len() <= 1 {
                if running.is_empty() && place.should_run {
                    plan.create_on.push(node_name);
                }
                return;
            }
            // With surge, keep at most the oldest new and the oldest old pod.
            let mut oldest_new: Option<&Arc<Pod>> = None;
            let mut oldest_old: Option<&Arc<Pod>> = None;
            for p in running {
                let is_new = p
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(REVISION_HASH_LABEL))
                    .map(String::as_str)
                    == Some(hash);
                let slot = if is_new {
                    &mut oldest_new
                } else {
                    &mut oldest_old
                };
                if slot.is_none() {
                    *slot = Some(p);
                } else {
                    plan.delete.push(name(p));
                }
            }
            if let (Some(new), Some(old)) = (oldest_new, oldest_old) {
                if !is_ready(old) || is_available(new, min_ready, now) {
                    plan.delete.push(name(old));
                }
            }
        }
        Some(pods) if !place.should_continue_running => {
            plan.delete.extend(
                pods.iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .map(|p| name(p)),
            );
        }
        _ => {}
    }
}

/// Upstream `manage`: the plan over every node, plus the unscheduled pods of nodes that no
/// longer exist.
pub fn manage(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &[Arc<Pod>],
    hash: &str,
    now: jiff::Timestamp,
) -> ManagePlan {
    let by_node = node_to_pods(pods, false);
    let mut plan = ManagePlan::default();
    for node in nodes {
        on_node(node, &by_node, ds, hash, now, &mut plan);
    }
    let existing: HashSet<&str> = nodes
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    for (node, pods) in &by_node {
        if existing.contains(node.as_str()) {
            continue;
        }
        plan.delete
            .extend(pods.iter().filter(|p| !has_node(p)).map(|p| name(p)));
    }
    plan
}
