//! The plugins that look at other pods, pure: InterPodAffinity (the pod's required
//! affinity and anti-affinity by topology key, and existing pods' required anti-affinity
//! against it) and PodTopologySpread (`DoNotSchedule` constraints: maxSkew over the
//! topology domains). [`InterPod::prepare`] counts once per scheduling cycle; [`InterPod::filter`]
//! then answers for each node in constant time per term.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Node, Pod, PodAffinityTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sSelector;
use skiff_api::labels::{LabelSelector, MetaLabelSelector};

pub const AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
pub const SPREAD: &str = "node(s) didn't match pod topology spread constraints";
pub const SPREAD_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// A pod already placed, as these plugins need it.
pub struct Placed<'a> {
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub node_labels: &'a BTreeMap<String, String>,
    /// Its required anti-affinity terms.
    pub anti: &'a [PodAffinityTerm],
}

fn selector(s: Option<&K8sSelector>) -> LabelSelector {
    let Some(s) = s else {
        return LabelSelector::nothing();
    };
    serde_json::to_value(s)
        .ok()
        .and_then(|v| serde_json::from_value::<MetaLabelSelector>(v).ok())
        .and_then(|m| LabelSelector::from_meta(&m).ok())
        .unwrap_or_else(LabelSelector::nothing)
}

/// Whether a term of a pod in `own_ns` selects a pod in `ns` with `labels`.
fn term_selects(
    t: &PodAffinityTerm,
    own_ns: &str,
    ns: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    let in_ns = match t.namespaces.as_deref() {
        Some(list) if !list.is_empty() => list.iter().any(|n| n == ns),
        _ => t.namespace_selector.is_some() || own_ns == ns,
    };
    in_ns && selector(t.label_selector.as_ref()).matches(labels)
}

struct Spread {
    key: String,
    max_skew: i32,
    counts: HashMap<String, i64>,
    min: i64,
}

/// What the cycle counted for one pod.
#[derive(Default)]
pub struct InterPod {
    /// Per required affinity term: its topology key, the values holding a matching pod,
    /// and whether the pod matches its own term (then an empty cluster is fine).
    affinity: Vec<(String, HashSet<String>, bool)>,
    /// Per required anti-affinity term: its key and the values holding a matching pod.
    anti: Vec<(String, HashSet<String>)>,
    /// (key, value) domains where an existing pod's anti-affinity forbids this pod.
    forbidden: Vec<(String, String)>,
    spread: Vec<Spread>,
}

fn required_terms(pod: &Pod, anti: bool) -> &[PodAffinityTerm] {
    let a = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
    let terms = if anti {
        a.and_then(|a| a.pod_anti_affinity.as_ref()).and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
    } else {
        a.and_then(|a| a.pod_affinity.as_ref()).and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
    };
    terms.unwrap_or(&[])
}

/// The pod's required anti-affinity terms (kept with its placement).
pub fn anti_terms(pod: &Pod) -> Vec<PodAffinityTerm> {
    required_terms(pod, true).to_vec()
}

impl InterPod {
    /// Whether anything here applies to `pod` (else the cycle skips these plugins).
    pub fn needed(pod: &Pod, existing_anti: usize) -> bool {
        existing_anti > 0
            || !required_terms(pod, false).is_empty()
            || !required_terms(pod, true).is_empty()
            || pod
                .spec
                .as_ref()
                .and_then(|s| s.topology_spread_constraints.as_ref())
                .is_some_and(|c| !c.is_empty())
    }

    pub fn prepare<'a>(
        pod: &Pod,
        placed: impl Iterator<Item = Placed<'a>> + Clone,
        nodes: &[&Node],
    ) -> InterPod {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let mut out = InterPod::default();
        for t in required_terms(pod, false) {
            let values = placed
                .clone()
                .filter(|p| term_selects(t, ns, p.namespace, p.labels))
                .filter_map(|p| p.node_labels.get(&t.topology_key).cloned())
                .collect();
            out.affinity.push((
                t.topology_key.clone(),
                values,
                term_selects(t, ns, ns, &labels),
            ));
        }
        for t in required_terms(pod, true) {
            let values = placed
                .clone()
                .filter(|p| term_selects(t, ns, p.namespace, p.labels))
                .filter_map(|p| p.node_labels.get(&t.topology_key).cloned())
                .collect();
            out.anti.push((t.topology_key.clone(), values));
        }
        for p in placed.clone() {
            for t in p.anti {
                if term_selects(t, p.namespace, ns, &labels) {
                    if let Some(v) = p.node_labels.get(&t.topology_key) {
                        out.forbidden.push((t.topology_key.clone(), v.clone()));
                    }
                }
            }
        }
        let constraints = pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or(&[]);
        for c in constraints
            .iter()
            .filter(|c| c.when_unsatisfiable == "DoNotSchedule")
        {
            let sel = selector(c.label_selector.as_ref());
            let mut counts: HashMap<String, i64> = nodes
                .iter()
                .filter_map(|n| n.metadata.labels.as_ref()?.get(&c.topology_key).cloned())
                .map(|v| (v, 0))
                .collect();
            for p in placed
                .clone()
                .filter(|p| p.namespace == ns && sel.matches(p.labels))
            {
                if let Some(v) = p.node_labels.get(&c.topology_key) {
                    *counts.entry(v.clone()).or_insert(0) += 1;
                }
            }
            let min = counts.values().copied().min().unwrap_or(0);
            out.spread.push(Spread {
                key: c.topology_key.clone(),
                max_skew: c.max_skew,
                counts,
                min,
            });
        }
        out
    }

    /// Why `node` cannot take the pod, if it cannot.
    pub fn filter(&self, node: &Node) -> Option<&'static str> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        let labels = node.metadata.labels.as_ref().unwrap_or(&EMPTY);
        for (key, values, self_match) in &self.affinity {
            let ok = match labels.get(key) {
                Some(v) => values.contains(v) || (values.is_empty() && *self_match),
                None => false,
            };
            if !ok {
                return Some(AFFINITY);
            }
        }
        for (key, values) in &self.anti {
            if labels.get(key).is_some_and(|v| values.contains(v)) {
                return Some(ANTI_AFFINITY);
            }
        }
        if self.forbidden.iter().any(|(k, v)| labels.get(k) == Some(v)) {
            return Some(EXISTING_ANTI_AFFINITY);
        }
        for s in &self.spread {
            let Some(v) = labels.get(&s.key) else {
                return Some(SPREAD_LABEL);
            };
            let skew = s.counts.get(v).copied().unwrap_or(0) + 1 - s.min;
            if skew > i64::from(s.max_skew) {
                return Some(SPREAD);
            }
        }
        None
    }
}
