//! The pod garbage collector, as upstream's podgc controller, every 20 s:
//! - pods bound to a node that no longer exists (and was not seen again for 40 s) are
//!   deleted at once, after a `DisruptionTarget` condition (reason `DeletionByPodGC`);
//! - pods being deleted that were never scheduled are deleted at once (no kubelet will);
//! - pods being deleted on a node tainted `node.kubernetes.io/out-of-service` that is not
//!   Ready are deleted at once;
//! - finished (Succeeded / Failed) pods beyond the threshold (12,500) go, oldest first.
//!
//! [`plan`] is the pure decision.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::json;

use crate::context::Context;

/// Upstream's `--terminated-pod-gc-threshold`.
pub const TERMINATED_THRESHOLD: usize = 12_500;
/// How long a node must stay missing before its pods are collected.
pub const QUARANTINE: Duration = Duration::from_secs(40);
const PERIOD: Duration = Duration::from_secs(20);

/// Why a pod is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its node is gone.
    Orphaned,
    /// Terminating and never scheduled.
    Unscheduled,
    /// Terminating on an out-of-service node.
    OutOfService,
    /// Finished, beyond the threshold.
    Terminated,
}

/// One pod to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collect {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub reason: Reason,
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn node_of(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn out_of_service(n: &Node) -> bool {
    let tainted = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| {
            ts.iter()
                .any(|t| t.key == "node.kubernetes.io/out-of-service")
        });
    let ready = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    tainted && !ready
}

/// What to collect, given every pod, every node, the nodes found missing since when
/// (`missing_since`, updated here), the threshold and the time.
pub fn plan(
    pods: &[Arc<Pod>],
    nodes: &HashMap<String, Arc<Node>>,
    missing_since: &mut HashMap<String, Timestamp>,
    threshold: usize,
    now: Timestamp,
) -> Vec<Collect> {
    let mut out = Vec::new();
    let collect = |p: &Pod, reason| Collect {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        reason,
    };
    let mut still_missing = HashSet::new();
    let mut done: HashSet<String> = HashSet::new();
    for p in pods {
        let node = node_of(p);
        let terminating = p.metadata.deletion_timestamp.is_some();
        if node.is_empty() {
            if terminating {
                out.push(collect(p, Reason::Unscheduled));
            }
            continue;
        }
        match nodes.get(node) {
            None => {
                still_missing.insert(node.to_string());
                let since = *missing_since.entry(node.to_string()).or_insert(now);
                if now.duration_since(since).as_secs_f64() >= QUARANTINE.as_secs_f64() {
                    out.push(collect(p, Reason::Orphaned));
                    done.insert(p.metadata.uid.clone().unwrap_or_default());
                }
            }
            Some(n) if terminating && out_of_service(n) => {
                out.push(collect(p, Reason::OutOfService));
                done.insert(p.metadata.uid.clone().unwrap_or_default());
            }
            Some(_) => {}
        }
    }
    missing_since.retain(|n, _| still_missing.contains(n));
    let mut finished: Vec<&Arc<Pod>> = pods
        .iter()
        .filter(|p| matches!(phase(p), "Succeeded" | "Failed"))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| !done.contains(p.metadata.uid.as_deref().unwrap_or("")))
        .collect();
    if finished.len() > threshold {
        finished.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let excess = finished.len() - threshold;
        out.extend(
            finished[..excess]
                .iter()
                .map(|p| collect(p, Reason::Terminated)),
        );
    }
    out
}

/// Runs the controller until the process ends.
pub async fn run(ctx: Arc<Context>) {
    let pods = ctx.informers.get::<Pod>();
    let nodes = ctx.informers.get::<Node>();
    pods.synced().await;
    nodes.synced().await;
    let mut missing_since = HashMap::new();
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        let node_map: HashMap<String, Arc<Node>> = nodes
            .list()
            .into_iter()
            .map(|n| (n.metadata.name.clone().unwrap_or_default(), n))
            .collect();
        let todo = plan(
            &pods.list(),
            &node_map,
            &mut missing_since,
            TERMINATED_THRESHOLD,
            Timestamp::now(),
        );
        for c in todo {
            collect(&ctx, c).await;
        }
    }
}

async fn collect(ctx: &Context, c: Collect) {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &c.namespace);
    if matches!(c.reason, Reason::Orphaned | Reason::OutOfService) {
        let now = jiff::Timestamp::now().to_string();
        let patch = json!({"status": {"conditions": [{
            "type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
            "message": "PodGC: node no longer exists", "lastTransitionTime": now,
        }]}});
        let _ = api
            .patch_status(&c.name, &PatchParams::default(), &Patch::Strategic(&patch))
            .await;
    }
    let grace = if c.reason == Reason::Terminated {
        None
    } else {
        Some(0)
    };
    let params = DeleteParams {
        grace_period_seconds: grace,
        preconditions: Some(Preconditions {
            uid: Some(c.uid.clone()),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(&c.name, &params).await {
        Ok(_) => tracing::info!(pod = %c.name, reason = ?c.reason, "garbage-collected pod"),
        Err(e) => tracing::debug!(pod = %c.name, error = %e, "pod GC delete failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, node: &str, phase: &str, terminating: bool, created: i64) -> Arc<Pod> {
        let mut p: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("u-{name}"),
                         "creationTimestamp": Timestamp::from_second(created).unwrap().to_string()},
            "spec": {"containers": [], "nodeName": node},
            "status": {"phase": phase}
        }))
        .unwrap();
        if terminating {
            p.metadata.deletion_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    Timestamp::from_second(created).unwrap(),
                ));
        }
        Arc::new(p)
    }

    fn node(name: &str, out_of_service: bool) -> (String, Arc<Node>) {
        let taints = if out_of_service {
            json!([{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}])
        } else {
            json!([])
        };
        let n: Node = serde_json::from_value(json!({
            "metadata": {"name": name}, "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]}
        }))
        .unwrap();
        (name.to_string(), Arc::new(n))
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn pods_of_a_missing_node_go_after_the_quarantine() {
        let pods = vec![
            pod("a", "gone", "Running", false, 1),
            pod("b", "n1", "Running", false, 1),
        ];
        let nodes: HashMap<_, _> = [node("n1", false)].into_iter().collect();
        let mut missing = HashMap::new();
        assert!(plan(&pods, &nodes, &mut missing, 10, t(0)).is_empty());
        assert!(plan(&pods, &nodes, &mut missing, 10, t(39)).is_empty());
        let out = plan(&pods, &nodes, &mut missing, 10, t(40));
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].name.as_str(), out[0].reason),
            ("a", Reason::Orphaned)
        );
    }

    #[test]
    fn terminating_unscheduled_and_out_of_service_pods_go_now() {
        let pods = vec![
            pod("u", "", "Pending", true, 1),
            pod("p", "", "Pending", false, 1),
            pod("o", "oos", "Running", true, 1),
            pod("r", "oos", "Running", false, 1),
        ];
        let nodes: HashMap<_, _> = [node("oos", true)].into_iter().collect();
        let out = plan(&pods, &nodes, &mut HashMap::new(), 10, t(0));
        let got: Vec<_> = out.iter().map(|c| (c.name.as_str(), c.reason)).collect();
        assert_eq!(
            got,
            [("u", Reason::Unscheduled), ("o", Reason::OutOfService)]
        );
    }

    #[test]
    fn finished_pods_beyond_the_threshold_go_oldest_first() {
        let pods = vec![
            pod("new", "n1", "Succeeded", false, 30),
            pod("old", "n1", "Failed", false, 10),
            pod("mid", "n1", "Succeeded", false, 20),
            pod("run", "n1", "Running", false, 1),
        ];
        let nodes: HashMap<_, _> = [node("n1", false)].into_iter().collect();
        let out = plan(&pods, &nodes, &mut HashMap::new(), 1, t(0));
        let got: Vec<_> = out.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(got, ["old", "mid"]);
    }
}
