//! The filter and score plugins, pure functions of a pod and one node's [`NodeInfo`]:
//! NodeName, NodeUnschedulable, NodeAffinity (nodeSelector, required and preferred
//! affinity), TaintToleration, NodeResourcesFit (+ LeastAllocated), BalancedAllocation and
//! NodePorts. A filter returns `None` when the node fits, else upstream's reason.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};

use crate::nodeinfo::NodeInfo;
use crate::resources::{pod_requests, Resources};

/// A filter's verdict: why the node does not fit.
pub type Reason = String;

pub const NODE_NAME: &str = "node(s) didn't match the requested node name";
pub const UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub const PORTS: &str = "node(s) didn't have free ports for the requested pod ports";

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

fn labels(node: &Node) -> &BTreeMap<String, String> {
    node.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
}

fn node_name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or("")
}

pub fn node_name_filter(pod: &Pod, node: &Node) -> Option<Reason> {
    let want = pod.spec.as_ref().and_then(|s| s.node_name.as_deref())?;
    (!want.is_empty() && want != node_name(node)).then(|| NODE_NAME.into())
}

pub fn tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_ok =
            t.key.as_deref().is_none_or(|k| k.is_empty()) || t.key.as_deref() == Some(&taint.key);
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        };
        // An empty key with Exists tolerates everything.
        effect_ok && key_ok && value_ok
    })
}

fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or(&[])
}

pub fn unschedulable_filter(pod: &Pod, node: &Node) -> Option<Reason> {
    let cordoned = node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    if !cordoned {
        return None;
    }
    let taint = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    (!tolerates(tolerations(pod), &taint)).then(|| UNSCHEDULABLE.into())
}

pub fn taint_filter(pod: &Pod, node: &Node) -> Option<Reason> {
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    let t = taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerates(tolerations(pod), t))?;
    Some(format!(
        "node(s) had untolerated taint {{{}: {}}}",
        t.key,
        t.value.as_deref().unwrap_or("")
    ))
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// Whether one node selector term matches (all its expressions and fields; an empty term
/// matches nothing, as upstream).
pub fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = labels(node);
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| {
            let v = (r.key == "metadata.name").then(|| node_name(node));
            requirement_matches(r, v)
        })
}

pub fn affinity_filter(pod: &Pod, node: &Node) -> Option<Reason> {
    let spec = pod.spec.as_ref()?;
    let labels = labels(node);
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affinity_ok =
        required.is_none_or(|r| r.node_selector_terms.iter().any(|t| term_matches(t, node)));
    (!(selector_ok && affinity_ok)).then(|| AFFINITY.into())
}

/// NodeResourcesFit: every requested resource fits in what is left.
pub fn fit_filter(requests: &Resources, info: &NodeInfo) -> Option<Reason> {
    let mut missing = Vec::new();
    for (name, want) in requests.iter() {
        if want == 0 {
            continue;
        }
        let free = info.allocatable.get(name) - info.requested.get(name);
        if want > free {
            missing.push(if name == "pods" {
                "Too many pods".to_string()
            } else {
                format!("Insufficient {name}")
            });
        }
    }
    // One reason per failed resource, as upstream; callers count each.
    (!missing.is_empty()).then(|| missing.join("\n"))
}

pub fn ports_filter(pod: &Pod, info: &NodeInfo) -> Option<Reason> {
    let clash = host_ports(pod).any(|p| info.ports.contains(&p));
    clash.then(|| PORTS.into())
}

/// The (protocol, hostPort) pairs a pod takes on its node.
pub fn host_ports(pod: &Pod) -> impl Iterator<Item = (String, i32)> + '_ {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let hp = p.host_port.filter(|h| *h > 0)?;
            Some((p.protocol.clone().unwrap_or_else(|| "TCP".into()), hp))
        })
}

/// Every filter, in upstream's order; the first failure wins.
pub fn filter(pod: &Pod, requests: &Resources, info: &NodeInfo) -> Option<Reason> {
    let node = &info.node;
    node_name_filter(pod, node)
        .or_else(|| unschedulable_filter(pod, node))
        .or_else(|| affinity_filter(pod, node))
        .or_else(|| ports_filter(pod, info))
        .or_else(|| taint_filter(pod, node))
        .or_else(|| fit_filter(requests, info))
}

const MAX_SCORE: i64 = 100;

/// LeastAllocated over cpu and memory (requests of pods without any count as upstream's
/// non-zero defaults: 100m and 200Mi).
pub fn least_allocated(requests: &Resources, info: &NodeInfo) -> i64 {
    let mut sum = 0;
    let (a, r) = (&info.allocatable, &info.requested);
    for (alloc, requested, want, default) in [
        (a.cpu, r.cpu, requests.cpu, 100),
        (a.memory, r.memory, requests.memory, 200 << 20),
    ] {
        if alloc <= 0 {
            continue;
        }
        let want = if want == 0 { default } else { want };
        let used = requested + want;
        sum += ((alloc - used).max(0)) * MAX_SCORE / alloc;
    }
    sum / 2
}

/// BalancedAllocation: nodes whose cpu and memory fractions stay close score higher.
pub fn balanced(requests: &Resources, info: &NodeInfo) -> i64 {
    let frac = |alloc: i64, requested: i64, want: i64| {
        if alloc <= 0 {
            return 1.0;
        }
        ((requested + want) as f64 / alloc as f64).min(1.0)
    };
    let (a, r) = (&info.allocatable, &info.requested);
    let c = frac(a.cpu, r.cpu, requests.cpu);
    let m = frac(a.memory, r.memory, requests.memory);
    let std = ((c - m) / 2.0).abs();
    ((1.0 - std) * MAX_SCORE as f64) as i64
}

/// Preferred node affinity: the summed weights of the matching terms.
pub fn preferred_affinity(pod: &Pod, node: &Node) -> i64 {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|terms| {
            terms
                .iter()
                .filter(|t| term_matches(&t.preference, node))
                .map(|t| i64::from(t.weight))
                .sum()
        })
        .unwrap_or(0)
}

/// PreferNoSchedule taints the pod does not tolerate count against the node.
pub fn prefer_no_schedule(pod: &Pod, node: &Node) -> i64 {
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tolerates(tolerations(pod), t))
        .count() as i64
}

/// The node's total score.
pub fn score(pod: &Pod, requests: &Resources, info: &NodeInfo) -> i64 {
    least_allocated(requests, info) + balanced(requests, info) + preferred_affinity(pod, &info.node)
        - 10 * prefer_no_schedule(pod, &info.node)
}

/// The requests of `pod` (computed once per cycle).
pub fn requests_of(pod: &Pod) -> Resources {
    pod_requests(pod)
}
