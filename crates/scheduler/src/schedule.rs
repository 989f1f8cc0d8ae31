//! One scheduling cycle, pure: filter a sample of the nodes (upstream's adaptive
//! percentageOfNodesToScore), score the feasible ones, pick the best, or explain why none
//! fits in upstream's words ("0/3 nodes are available: 1 node(s) had untolerated taint
//! {...}, 2 Insufficient cpu.").

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorTerm, Pod};

use crate::interpod::InterPod;
use crate::nodeinfo::Cache;
use crate::plugins;

/// How many feasible nodes to look for among `total` (upstream's adaptive default: 50%
/// minus one point per 125 nodes, at least 5%, at least 100 nodes).
pub fn feasible_to_find(total: usize) -> usize {
    const MIN: usize = 100;
    if total < MIN {
        return total;
    }
    let pct = (50i64 - (total as i64) / 125).max(5) as usize;
    (total * pct / 100).max(MIN)
}

/// Upstream's VolumeBinding reason for a node the pod's volumes cannot be used on.
pub const VOLUME_CONFLICT: &str = "node(s) had volume node affinity conflict";

/// The outcome of a cycle.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Bind(String),
    Unschedulable(String),
}

/// Schedules `pod`, starting the node walk at `start` (rotated by the caller); `tiebreak`
/// picks among equally scored nodes.
pub fn schedule(cache: &Cache, pod: &Pod, start: usize, tiebreak: u64) -> Outcome {
    schedule_with_volumes(cache, pod, &[], start, tiebreak)
}

/// [`schedule`], where the pod's bound volumes can only be used on nodes matching every
/// one of `volume_terms` (each a PersistentVolume's required node affinity: any of its
/// terms).
pub fn schedule_with_volumes(
    cache: &Cache,
    pod: &Pod,
    volume_terms: &[Vec<NodeSelectorTerm>],
    start: usize,
    tiebreak: u64,
) -> Outcome {
    let names = cache.nodes();
    let total = names.len();
    if total == 0 {
        return Outcome::Unschedulable("no nodes available to schedule pods".into());
    }
    let requests = plugins::requests_of(pod);
    let want = feasible_to_find(total);
    let interpod = InterPod::needed(pod, cache.with_anti_affinity()).then(|| {
        let nodes: Vec<&k8s_openapi::api::core::v1::Node> = names
            .iter()
            .filter_map(|n| cache.node(n).map(|i| i.node.as_ref()))
            .collect();
        InterPod::prepare(pod, cache.placed_pods(), &nodes)
    });
    let mut feasible = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..total {
        let name = &names[(start + i) % total];
        let Some(info) = cache.node(name) else {
            continue;
        };
        let volumes_ok = volume_terms
            .iter()
            .all(|terms| terms.iter().any(|t| plugins::term_matches(t, &info.node)));
        let verdict = if volumes_ok {
            plugins::filter(pod, &requests, info).or_else(|| {
                interpod
                    .as_ref()
                    .and_then(|i| i.filter(&info.node))
                    .map(str::to_string)
            })
        } else {
            Some(VOLUME_CONFLICT.to_string())
        };
        match verdict {
            None => {
                feasible.push((name, info));
                if feasible.len() >= want {
                    break;
                }
            }
            Some(r) => {
                for line in r.lines() {
                    *reasons.entry(line.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    if feasible.is_empty() {
        return Outcome::Unschedulable(fit_error(total, &reasons));
    }
    let scored: Vec<(i64, &String)> = feasible
        .iter()
        .map(|(n, info)| (plugins::score(pod, &requests, info), *n))
        .collect();
    let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
    let top: Vec<&String> = scored
        .iter()
        .filter(|(s, _)| *s == best)
        .map(|(_, n)| *n)
        .collect();
    Outcome::Bind(top[(tiebreak as usize) % top.len()].clone())
}

/// Upstream's FitError text: counts per reason, sorted.
pub fn fit_error(total: usize, reasons: &BTreeMap<String, usize>) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    format!("0/{total} nodes are available: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn node(
        name: &str,
        cpu: &str,
        extra: serde_json::Value,
    ) -> Arc<k8s_openapi::api::core::v1::Node> {
        let mut v = json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}
        });
        if let Some(spec) = extra.get("spec") {
            v["spec"] = spec.clone();
        }
        if let Some(labels) = extra.get("labels") {
            v["metadata"]["labels"] = labels.clone();
        }
        Arc::new(serde_json::from_value(v).unwrap())
    }

    fn pod(spec: serde_json::Value) -> Pod {
        let mut s = json!({"containers": [{"name": "c", "image": "x"}]});
        for (k, v) in spec.as_object().unwrap() {
            s[k] = v.clone();
        }
        serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u1"}, "spec": s}),
        )
        .unwrap()
    }

    #[test]
    fn sampling_follows_upstream() {
        assert_eq!(feasible_to_find(50), 50);
        assert_eq!(feasible_to_find(100), 100);
        assert_eq!(feasible_to_find(1000), 420);
        assert_eq!(feasible_to_find(5000), 500);
        assert_eq!(feasible_to_find(100_000), 5000);
    }

    #[test]
    fn explains_why_no_node_fits() {
        let mut c = Cache::default();
        c.set_node(node("cp", "4", json!({"spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}})));
        c.set_node(node("a", "1", json!({})));
        c.set_node(node("b", "1", json!({})));
        let p = pod(
            json!({"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "2"}}}]}),
        );
        assert_eq!(
            schedule(&c, &p, 0, 0),
            Outcome::Unschedulable("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.".into())
        );
    }

    #[test]
    fn selector_taints_cordon_and_spreading() {
        let mut c = Cache::default();
        c.set_node(node("a", "4", json!({"labels": {"disk": "ssd"}})));
        c.set_node(node("b", "4", json!({"spec": {"unschedulable": true}})));
        c.set_node(node(
            "t",
            "4",
            json!({"spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}}),
        ));
        let p = pod(json!({"nodeSelector": {"disk": "ssd"}}));
        assert_eq!(schedule(&c, &p, 0, 0), Outcome::Bind("a".into()));
        let tolerant = pod(
            json!({"tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}],
                                  "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["t"]}]}]}}}}),
        );
        assert_eq!(schedule(&c, &tolerant, 0, 0), Outcome::Bind("t".into()));
        // The emptier node wins.
        let busy = pod(
            json!({"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "3"}}}]}),
        );
        c.place(&busy, "a");
        let p2 = pod(json!({"tolerations": [{"key": "k", "operator": "Exists"}]}));
        assert_eq!(schedule(&c, &p2, 0, 0), Outcome::Bind("t".into()));
    }

    #[test]
    fn anti_affinity_and_topology_spread() {
        let mut c = Cache::default();
        for n in ["a", "b", "c"] {
            c.set_node(node(n, "4", json!({})));
        }
        let mut web = pod(
            json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}}),
        );
        web.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
        let mut placed = Vec::new();
        for i in 0..3 {
            let Outcome::Bind(got) = schedule(&c, &web, i, 0) else {
                panic!("replica {i} fits")
            };
            assert!(
                !placed.contains(&got),
                "one per node: {placed:?} then {got}"
            );
            let mut p = web.clone();
            p.metadata.uid = Some(format!("w{i}"));
            c.place(&p, &got);
            placed.push(got);
        }
        assert_eq!(
            schedule(&c, &web, 0, 0),
            Outcome::Unschedulable(
                "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.".into()
            )
        );

        let mut c = Cache::default();
        for n in ["a", "b"] {
            c.set_node(node(n, "4", json!({})));
        }
        let mut spread = pod(
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "s"}}}]}),
        );
        spread.metadata.labels = Some([("app".to_string(), "s".to_string())].into());
        let mut on_a = spread.clone();
        on_a.metadata.uid = Some("s0".into());
        c.place(&on_a, "a");
        assert_eq!(schedule(&c, &spread, 0, 0), Outcome::Bind("b".into()));
    }

    #[test]
    fn host_ports_conflict() {
        let mut c = Cache::default();
        c.set_node(node("a", "4", json!({})));
        let p = pod(
            json!({"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
        );
        c.place(&p, "a");
        let mut q = p.clone();
        q.metadata.uid = Some("u2".into());
        assert_eq!(
            schedule(&c, &q, 0, 0),
            Outcome::Unschedulable("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.".into())
        );
    }
}
