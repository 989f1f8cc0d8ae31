//! Which nodes a DaemonSet's pod belongs on, and the pod it gets there (upstream
//! `NodeShouldRunDaemonPod`, `daemon/util`): the template's `nodeName`, `nodeSelector` and
//! required node affinity must match the node; its taints (NoSchedule, NoExecute) must be
//! tolerated, counting the tolerations every daemon pod gets (not-ready and unreachable
//! NoExecute, disk/memory/pid pressure and unschedulable NoSchedule, network-unavailable for
//! host-network pods). A pod is tied to its node by required node affinity
//! `matchFields metadata.name In [node]`, which the scheduler honours when binding it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, PodTemplateSpec, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// The label daemon pods carry with the revision hash they were made from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// The label daemon pods carry with the DaemonSet's template generation.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// The annotation in which the API server keeps a DaemonSet's template generation.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
/// The field a node-affinity `matchFields` term may select on.
pub const NODE_NAME_FIELD: &str = "metadata.name";

/// The DaemonSet's template generation (from its annotation), if it parses.
pub fn template_generation(ds: &DaemonSet) -> Option<i64> {
    ds.metadata
        .annotations
        .as_ref()?
        .get(TEMPLATE_GENERATION_ANNOTATION)?
        .parse()
        .ok()
}

fn toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    }
}

/// Adds `t` unless an identical toleration is there (upstream
/// `AddOrUpdateTolerationInPodSpec`: an equal key, operator, value and effect is replaced).
fn add_or_update_toleration(spec: &mut PodSpec, t: Toleration) {
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    let same = |a: &Toleration| {
        a.key == t.key
            && a.operator.as_deref().unwrap_or("Equal") == t.operator.as_deref().unwrap_or("Equal")
            && a.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or("")
            && a.effect.as_deref().unwrap_or("") == t.effect.as_deref().unwrap_or("")
    };
    match list.iter_mut().find(|a| same(a)) {
        Some(existing) => *existing = t,
        None => list.push(t),
    }
}

/// Upstream `AddOrUpdateDaemonPodTolerations`.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    for (key, effect) in [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ] {
        add_or_update_toleration(spec, toleration(key, effect));
    }
    if spec.host_network == Some(true) {
        add_or_update_toleration(
            spec,
            toleration("node.kubernetes.io/network-unavailable", "NoSchedule"),
        );
    }
}

/// Upstream `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if e != taint.effect {
            return false;
        }
    }
    if let Some(k) = t.key.as_deref().filter(|k| !k.is_empty()) {
        if k != taint.key {
            return false;
        }
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// Whether some taint that `filter` selects is tolerated by none of `tolerations`.
pub fn has_untolerated_taint(
    taints: &[Taint],
    tolerations: &[Toleration],
    filter: impl Fn(&Taint) -> bool,
) -> bool {
    taints
        .iter()
        .filter(|t| filter(t))
        .any(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

fn label_requirement_matches(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> bool {
    let values = r.values.as_deref().unwrap_or(&[]);
    let value = labels.get(&r.key);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let ([bound], Some(v)) = (values, value) else {
                return false;
            };
            match (bound.parse::<i64>(), v.parse::<i64>()) {
                (Ok(b), Ok(v)) if r.operator == "Gt" => v > b,
                (Ok(b), Ok(v)) => v < b,
                _ => false,
            }
        }
        _ => false,
    }
}

fn field_requirement_matches(r: &NodeSelectorRequirement, node_name: &str) -> bool {
    let values = r.values.as_deref().unwrap_or(&[]);
    if r.key != NODE_NAME_FIELD {
        return false;
    }
    match (r.operator.as_str(), values) {
        ("In", [v]) => v == node_name,
        ("NotIn", [v]) => v != node_name,
        _ => false,
    }
}

/// Upstream `nodeaffinity`: a node matches a term when every expression matches its labels
/// and every field requirement its name; a term with neither matches nothing; a selector
/// matches when any term does.
pub fn node_selector_matches(sel: &NodeSelector, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let name = node.metadata.name.as_deref().unwrap_or("");
    sel.node_selector_terms.iter().any(|term| {
        let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
        let fields = term.match_fields.as_deref().unwrap_or(&[]);
        (!exprs.is_empty() || !fields.is_empty())
            && exprs.iter().all(|r| label_requirement_matches(r, labels))
            && fields.iter().all(|r| field_requirement_matches(r, name))
    })
}

/// Upstream `GetRequiredNodeAffinity(pod).Match(node)`: `nodeSelector` and the required
/// node affinity.
pub fn required_affinity_matches(spec: &PodSpec, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    if let Some(sel) = spec.node_selector.as_ref() {
        if !sel.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return false;
        }
    }
    match spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        }) {
        Some(sel) => node_selector_matches(sel, node),
        None => true,
    }
}

/// Where a DaemonSet's pod stands on a node (upstream `NodeShouldRunDaemonPod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// A pod should be created (or kept) here.
    pub should_run: bool,
    /// A pod already here may stay (it tolerates every NoExecute taint).
    pub should_continue_running: bool,
}

/// Upstream `NodeShouldRunDaemonPod`.
pub fn placement(node: &Node, ds: &DaemonSet) -> Placement {
    let no = Placement {
        should_run: false,
        should_continue_running: false,
    };
    let Some(tmpl) = ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
        return no;
    };
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    if let Some(n) = tmpl.node_name.as_deref().filter(|n| !n.is_empty()) {
        if n != node_name {
            return no;
        }
    }
    let mut spec = tmpl.clone();
    add_daemon_tolerations(&mut spec);
    if !required_affinity_matches(&spec, node) {
        return no;
    }
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    let fits_taints = !has_untolerated_taint(taints, tolerations, |t| {
        t.effect == "NoExecute" || t.effect == "NoSchedule"
    });
    if !fits_taints {
        return Placement {
            should_run: false,
            should_continue_running: !has_untolerated_taint(taints, tolerations, |t| {
                t.effect == "NoExecute"
            }),
        };
    }
    Placement {
        should_run: true,
        should_continue_running: true,
    }
}

/// The node a daemon pod is for (upstream `GetTargetNodeName`): its `nodeName`, else the
/// single node its required affinity's `matchFields metadata.name In` names.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n.to_string());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().find_map(|term| {
        term.match_fields
            .as_deref()?
            .iter()
            .find(|r| r.key == NODE_NAME_FIELD && r.operator == "In")
            .and_then(|r| match r.values.as_deref() {
                Some([v]) => Some(v.clone()),
                _ => None,
            })
    })
}

/// Upstream `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required node affinity becomes
/// the one term `metadata.name In [node]` (the DaemonSet controller already checked the
/// node matches the template's own terms); preferred terms stay.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let selector = NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_fields: Some(vec![NodeSelectorRequirement {
                key: NODE_NAME_FIELD.into(),
                operator: "In".into(),
                values: Some(vec![node.to_string()]),
            }]),
            match_expressions: None,
        }],
    };
    let mut affinity = affinity.unwrap_or_default();
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(selector);
    affinity
}

/// The pod template every new daemon pod starts from (upstream `CreatePodTemplate`): the
/// DaemonSet's template with the daemon tolerations and the generation / revision labels.
pub fn pod_template(ds: &DaemonSet, hash: &str) -> PodTemplateSpec {
    let mut t = ds
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let spec = t.spec.get_or_insert_with(PodSpec::default);
    add_daemon_tolerations(spec);
    let meta = t.metadata.get_or_insert_with(ObjectMeta::default);
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    if let Some(g) = template_generation(ds) {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.to_string());
    }
    if !hash.is_empty() {
        labels.insert(REVISION_HASH_LABEL.into(), hash.to_string());
    }
    t
}

/// A new daemon pod for `node` (upstream `GetPodFromTemplate` + node affinity): named by
/// the API server from `generateName` `<ds>-`, owned by the DaemonSet.
pub fn new_pod(
    template: &PodTemplateSpec,
    ds_name: &str,
    owner: OwnerReference,
    node: &str,
) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    let mut spec = template.spec.clone().unwrap_or_default();
    spec.affinity = Some(pin_to_node(spec.affinity.take(), node));
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{ds_name}-")),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// Upstream `IsPodUpdated`: the pod carries the current revision hash, or the current
/// template generation.
pub fn is_pod_updated(pod: &Pod, hash: &str, generation: Option<i64>) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let template_matches =
        generation.is_some_and(|g| get(TEMPLATE_GENERATION_LABEL) == Some(g.to_string().as_str()));
    let hash_matches = !hash.is_empty() && get(REVISION_HASH_LABEL) == Some(hash);
    hash_matches || template_matches
}
