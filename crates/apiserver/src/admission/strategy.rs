//! What upstream's registry strategies (`PrepareForCreate` / `PrepareForUpdate`) and the
//! create-time mutating admission plugins do before validation: status reset or kept,
//! `metadata.generation` set and bumped per kind, Pod phase and QoS class, the Job's
//! generated selector and labels, the DaemonSet's template generation, Namespace
//! finalizers, Service cluster IPs kept across updates, and for pods the ServiceAccount,
//! Priority and DefaultTolerationSeconds admission plugins.

use serde_json::{json, Value};
use skiff_api::Resource;

use super::default_tolerations::TolerationDefaults;
use super::defaults_workloads::copy_template_labels;
use super::quantity::Quantity;
use super::validation::batch::{
    CONTROLLER_UID_LABEL, JOB_NAME_LABEL, LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL,
};
use super::value::{self as v, default_ptr};

/// Annotation in which apps/v1 keeps a DaemonSet's template generation.
pub(crate) const DS_TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// Kinds whose strategy maintains `metadata.generation`.
fn has_generation(r: &Resource) -> bool {
    matches!(
        (r.group, r.kind),
        ("", "Pod")
            | ("", "ReplicationController")
            | ("apps", "Deployment")
            | ("apps", "ReplicaSet")
            | ("apps", "StatefulSet")
            | ("apps", "DaemonSet")
            | ("batch", "Job")
            | ("batch", "CronJob")
            | ("autoscaling", "HorizontalPodAutoscaler")
            | ("policy", "PodDisruptionBudget")
            | ("networking.k8s.io", "Ingress")
            | ("networking.k8s.io", "IngressClass")
            | ("networking.k8s.io", "NetworkPolicy")
            | ("discovery.k8s.io", "EndpointSlice")
    )
}

/// The status a new object starts with (`Status = XStatus{}` as it serialises), for kinds
/// whose strategy resets it.
fn initial_status(r: &Resource) -> Option<Value> {
    Some(match (r.group, r.kind) {
        ("", "Service") => json!({"loadBalancer": {}}),
        ("", "ReplicationController") => json!({"replicas": 0}),
        ("", "PersistentVolumeClaim") | ("", "PersistentVolume") => json!({"phase": "Pending"}),
        ("", "ResourceQuota") => json!({}),
        ("apps", "Deployment") => json!({}),
        ("apps", "ReplicaSet") => json!({"replicas": 0}),
        ("apps", "StatefulSet") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps", "DaemonSet") => json!({
            "currentNumberScheduled": 0, "numberMisscheduled": 0,
            "desiredNumberScheduled": 0, "numberReady": 0
        }),
        ("batch", "Job") | ("batch", "CronJob") => json!({}),
        ("autoscaling", "HorizontalPodAutoscaler") if r.version == "v1" => {
            json!({"currentReplicas": 0, "desiredReplicas": 0})
        }
        ("autoscaling", "HorizontalPodAutoscaler") => json!({"desiredReplicas": 0}),
        ("policy", "PodDisruptionBudget") => json!({
            "disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0
        }),
        ("networking.k8s.io", "Ingress") => json!({"loadBalancer": {}}),
        _ => return None,
    })
}

fn set_generation(obj: &mut Value, generation: Option<i64>) {
    if let Some(meta) = v::ensure_path(obj, &["metadata"]).and_then(Value::as_object_mut) {
        match generation {
            Some(g) => meta.insert("generation".into(), json!(g)),
            None => meta.remove("generation"),
        };
    }
}

/// Upstream's `qos.GetPodQOS` on a pod.
pub(crate) fn pod_qos(pod: &Value) -> &'static str {
    let mut requests: Vec<(String, Quantity)> = Vec::new();
    let mut limits: Vec<(String, Quantity)> = Vec::new();
    let mut guaranteed = true;
    let add = |list: &mut Vec<(String, Quantity)>, name: &str, q: Quantity| match list
        .iter_mut()
        .find(|(n, _)| n == name)
    {
        Some((_, sum)) => *sum = sum.add(&q),
        None => list.push((name.to_string(), q)),
    };
    let containers = v::arr(pod, &["spec", "containers"])
        .iter()
        .chain(v::arr(pod, &["spec", "initContainers"]));
    for c in containers {
        if let Some(req) = v::obj(c, &["resources", "requests"]) {
            for (name, q) in req {
                if name != "cpu" && name != "memory" {
                    continue;
                }
                if let Ok(q) = Quantity::from_json(q) {
                    if q.is_positive() {
                        add(&mut requests, name, q);
                    }
                }
            }
        }
        let mut found = (false, false);
        if let Some(lim) = v::obj(c, &["resources", "limits"]) {
            for (name, q) in lim {
                if name != "cpu" && name != "memory" {
                    continue;
                }
                if let Ok(q) = Quantity::from_json(q) {
                    if q.is_positive() {
                        if name == "cpu" {
                            found.0 = true;
                        } else {
                            found.1 = true;
                        }
                        add(&mut limits, name, q);
                    }
                }
            }
        }
        if !(found.0 && found.1) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        for (name, req) in &requests {
            match limits.iter().find(|(n, _)| n == name) {
                Some((_, lim)) if lim == req => {}
                _ => {
                    guaranteed = false;
                    break;
                }
            }
        }
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// The ServiceAccount, Priority and DefaultTolerationSeconds admission plugins on a new pod.
fn pod_admission(pod: &mut Value, tolerations: &TolerationDefaults) {
    let mirror = v::present(
        pod,
        &["metadata", "annotations", "kubernetes.io/config.mirror"],
    );
    let Some(spec) = v::ensure_path(pod, &["spec"]).and_then(Value::as_object_mut) else {
        return;
    };
    if !mirror {
        let sa = spec
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if sa.is_empty() {
            spec.insert("serviceAccountName".into(), json!("default"));
            spec.insert("serviceAccount".into(), json!("default"));
        }
    }
    let class = spec
        .get("priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let priority = match class.as_str() {
        "" => Some(0),
        "system-node-critical" => Some(2_000_001_000),
        "system-cluster-critical" => Some(2_000_000_000),
        // other classes are looked up in the store by the caller
        _ => None,
    };
    if let Some(p) = priority {
        default_ptr(spec, "priority", json!(p));
        default_ptr(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
    super::default_tolerations::apply(spec, tolerations);
}

fn job_selector(job: &mut Value) {
    if v::boolean(job, &["spec", "manualSelector"]) == Some(true) {
        return;
    }
    let name = v::s(job, &["metadata", "name"]).to_string();
    let uid = v::s(job, &["metadata", "uid"]).to_string();
    if let Some(labels) = v::ensure_path(job, &["spec", "template", "metadata", "labels"])
        .and_then(Value::as_object_mut)
    {
        for k in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
            labels.entry(k).or_insert(json!(name));
        }
        for k in [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL] {
            labels.entry(k).or_insert(json!(uid));
        }
    }
    if let Some(ml) =
        v::ensure_path(job, &["spec", "selector", "matchLabels"]).and_then(Value::as_object_mut)
    {
        ml.entry(CONTROLLER_UID_LABEL).or_insert(json!(uid));
    }
    let labels = v::at(job, &["spec", "template", "metadata", "labels"]).cloned();
    copy_template_labels(job, labels);
}

/// `PrepareForCreate`, plus the create-only admission plugins. Expects `metadata.name` and
/// `metadata.uid` to be set already (the Job selector and Namespace label are made from
/// them).
pub(crate) fn prepare_for_create(r: &Resource, obj: &mut Value, tolerations: &TolerationDefaults) {
    if !obj.is_object() {
        return;
    }
    if let Some(status) = initial_status(r) {
        if let Some(m) = obj.as_object_mut() {
            m.insert("status".into(), status);
        }
    }
    set_generation(obj, has_generation(r).then_some(1));
    match (r.group, r.kind) {
        ("", "Pod") => {
            pod_admission(obj, tolerations);
            let qos = pod_qos(obj);
            let gated = !v::arr(obj, &["spec", "schedulingGates"]).is_empty();
            let mut status = json!({"phase": "Pending", "qosClass": qos});
            if gated {
                status["conditions"] = json!([{
                    "type": "PodScheduled", "status": "False", "lastProbeTime": null,
                    "lastTransitionTime": null, "reason": "SchedulingGated",
                    "message": "Scheduling is blocked due to non-empty scheduling gates"
                }]);
            }
            if let Some(m) = obj.as_object_mut() {
                m.insert("status".into(), status);
            }
        }
        ("", "Namespace") => {
            if let Some(m) = obj.as_object_mut() {
                m.insert("status".into(), json!({"phase": "Active"}));
            }
            // Canonicalize: the name label, also for names made from generateName
            let name = v::s(obj, &["metadata", "name"]).to_string();
            if !name.is_empty() {
                if let Some(l) =
                    v::ensure_path(obj, &["metadata", "labels"]).and_then(Value::as_object_mut)
                {
                    l.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
            }
            if let Some(spec) = v::ensure_path(obj, &["spec"]).and_then(Value::as_object_mut) {
                let list = spec.entry("finalizers").or_insert_with(|| json!([]));
                if !list.is_array() {
                    *list = json!([]);
                }
                if let Some(a) = list.as_array_mut() {
                    if !a.iter().any(|f| f == "kubernetes") {
                        a.push(json!("kubernetes"));
                    }
                }
            }
        }
        ("", "Service") => normalize_cluster_ips(obj, None),
        ("", "Node") => {
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("configSource");
            }
            if let Some(st) = obj.get_mut("status").and_then(Value::as_object_mut) {
                st.remove("config");
            }
        }
        ("apps", "DaemonSet") => {
            if let Some(a) =
                v::ensure_path(obj, &["metadata", "annotations"]).and_then(Value::as_object_mut)
            {
                a.insert(DS_TEMPLATE_GENERATION.into(), json!("1"));
            }
        }
        ("batch", "Job") => job_selector(obj),
        _ => {}
    }
}

/// Keeps `spec.clusterIP` and `spec.clusterIPs` in step (`NormalizeClusterIPs`): on create
/// the plural is initialised from the singular; on update the plural follows what the
/// client evidently meant.
fn normalize_cluster_ips(svc: &mut Value, old: Option<&Value>) {
    let ip = v::s(svc, &["spec", "clusterIP"]).to_string();
    let ips = v::strings(svc, &["spec", "clusterIPs"]);
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(old) = old else {
        if !ip.is_empty() && ips.is_empty() {
            spec.insert("clusterIPs".into(), json!([ip]));
        }
        return;
    };
    let old_ip = v::s(old, &["spec", "clusterIP"]);
    let old_ips = v::strings(old, &["spec", "clusterIPs"]);
    let mut ips = ips;
    if !old_ips.is_empty() && ips.is_empty() && old_ip == ip {
        ips = old_ips.clone();
        spec.insert("clusterIPs".into(), json!(ips));
    }
    if old_ip != ip {
        let same = old_ips == ips;
        if !old_ip.is_empty() && ip.is_empty() && same {
            spec.remove("clusterIPs");
        }
        if !ip.is_empty() && same {
            spec.insert("clusterIPs".into(), json!([ip]));
        }
    }
}

fn needs_cluster_ip(svc: &Value) -> bool {
    v::s(svc, &["spec", "type"]) != "ExternalName"
}

fn needs_node_port(svc: &Value) -> bool {
    match v::s(svc, &["spec", "type"]) {
        "NodePort" => true,
        "LoadBalancer" => {
            v::boolean(svc, &["spec", "allocateLoadBalancerNodePorts"]) != Some(false)
        }
        _ => false,
    }
}

/// Service `patchAllocatedValues` + `NormalizeClusterIPs` + the IP family fields kept from
/// the stored object.
fn service_update(old: &Value, new: &mut Value) {
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        let old_ip = v::at(old, &["spec", "clusterIP"]).cloned();
        let old_ips = v::at(old, &["spec", "clusterIPs"]).cloned();
        if let Some(spec) = v::ensure_path(new, &["spec"]).and_then(Value::as_object_mut) {
            if spec
                .get("clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                if let Some(ip) = old_ip {
                    spec.insert("clusterIP".into(), ip);
                }
            }
            if spec
                .get("clusterIPs")
                .and_then(Value::as_array)
                .is_none_or(|a| a.is_empty())
            {
                if let Some(ips) = old_ips.filter(|i| i.as_array().is_some_and(|a| !a.is_empty())) {
                    spec.insert("clusterIPs".into(), ips);
                }
            }
            for f in ["ipFamilies", "ipFamilyPolicy"] {
                if let Some(x) = v::at(old, &["spec", f]) {
                    let missing = spec
                        .get(f)
                        .is_none_or(|y| y.is_null() || y.as_array().is_some_and(|a| a.is_empty()));
                    if missing {
                        spec.insert(f.into(), x.clone());
                    }
                }
            }
        }
    }
    if needs_node_port(old) && needs_node_port(new) {
        let old_ports: Vec<(String, i64)> = v::arr(old, &["spec", "ports"])
            .iter()
            .map(|p| {
                (
                    v::s(p, &["name"]).to_string(),
                    v::int(p, &["nodePort"]).unwrap_or(0),
                )
            })
            .collect();
        let new_used: Vec<i64> = v::arr(new, &["spec", "ports"])
            .iter()
            .filter_map(|p| v::int(p, &["nodePort"]))
            .filter(|n| *n != 0)
            .collect();
        if let Some(Value::Array(ports)) = new.get_mut("spec").and_then(|s| s.get_mut("ports")) {
            for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                if p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                    continue;
                }
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if let Some((_, np)) = old_ports.iter().find(|(n, _)| *n == name) {
                    if *np != 0 && !new_used.contains(np) {
                        p.insert("nodePort".into(), json!(np));
                    }
                }
            }
        }
    }
    let hc = |s: &Value| {
        v::s(s, &["spec", "type"]) == "LoadBalancer"
            && v::s(s, &["spec", "externalTrafficPolicy"]) == "Local"
    };
    if hc(old) && hc(new) && v::int(new, &["spec", "healthCheckNodePort"]).unwrap_or(0) == 0 {
        if let (Some(x), Some(spec)) = (
            v::at(old, &["spec", "healthCheckNodePort"]).cloned(),
            new.get_mut("spec").and_then(Value::as_object_mut),
        ) {
            spec.insert("healthCheckNodePort".into(), x);
        }
    }
    normalize_cluster_ips(new, Some(old));
}

fn copy_field(old: &Value, new: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let old_val = v::at(old, path).cloned();
    if let Some(parent) = v::ensure_path(new, parents).and_then(Value::as_object_mut) {
        match old_val {
            Some(x) => parent.insert((*last).to_string(), x),
            None => parent.remove(*last),
        };
    }
}

/// `PrepareForUpdate` of the main resource or a subresource (after the generic
/// `rest.BeforeUpdate` identity rules).
pub(crate) fn prepare_for_update(
    r: &Resource,
    old: &Value,
    new: &mut Value,
    subresource: Option<&str>,
) {
    if !new.is_object() {
        return;
    }
    let old_gen = v::int(old, &["metadata", "generation"]);
    // rest.BeforeUpdate: the UID defaults to the stored one, the creation and deletion
    // timestamps cannot change
    if v::s(new, &["metadata", "uid"]).is_empty() {
        copy_field(old, new, &["metadata", "uid"]);
    }
    if v::present(old, &["metadata", "creationTimestamp"]) {
        copy_field(old, new, &["metadata", "creationTimestamp"]);
    }
    copy_field(old, new, &["metadata", "deletionTimestamp"]);
    match subresource {
        Some("status") => {
            copy_field(old, new, &["spec"]);
            copy_field(old, new, &["metadata", "deletionTimestamp"]);
            set_generation(new, old_gen);
            match (r.group, r.kind) {
                ("apps", "Deployment") => copy_field(old, new, &["metadata", "labels"]),
                ("", "Pod") => {
                    copy_field(old, new, &["metadata", "ownerReferences"]);
                    if v::s(new, &["status", "qosClass"]).is_empty() {
                        copy_field(old, new, &["status", "qosClass"]);
                    }
                }
                _ => {}
            }
            return;
        }
        Some("finalize") => {
            copy_field(old, new, &["status"]);
            set_generation(new, old_gen);
            return;
        }
        Some(_) => return,
        None => {}
    }
    if r.subresource("status").is_some() {
        copy_field(old, new, &["status"]);
    }
    let spec_changed = !v::semantic_eq(new.get("spec"), old.get("spec"));
    let gen = old_gen.unwrap_or(1);
    match (r.group, r.kind) {
        ("", "Namespace") => {
            copy_field(old, new, &["spec", "finalizers"]);
            copy_field(old, new, &["status"]);
        }
        ("", "Service") => service_update(old, new),
        ("apps", "Deployment") => {
            let annotations_changed = !v::semantic_eq(
                v::at(new, &["metadata", "annotations"]),
                v::at(old, &["metadata", "annotations"]),
            );
            let bump = spec_changed || annotations_changed;
            set_generation(new, Some(gen + i64::from(bump)));
        }
        ("apps", "DaemonSet") => {
            let template_changed = !v::semantic_eq(
                v::at(new, &["spec", "template"]),
                v::at(old, &["spec", "template"]),
            );
            let old_tg: i64 = v::s(old, &["metadata", "annotations", DS_TEMPLATE_GENERATION])
                .parse()
                .unwrap_or(1);
            let tg = old_tg + i64::from(template_changed);
            if let Some(a) =
                v::ensure_path(new, &["metadata", "annotations"]).and_then(Value::as_object_mut)
            {
                a.insert(DS_TEMPLATE_GENERATION.into(), json!(tg.to_string()));
            }
            set_generation(new, Some(gen + i64::from(spec_changed)));
        }
        _ if has_generation(r) => set_generation(new, Some(gen + i64::from(spec_changed))),
        _ => set_generation(new, old_gen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        let best = json!({"spec": {"containers": [{"name": "a", "resources": {}}]}});
        assert_eq!(pod_qos(&best), "BestEffort");
        let g = json!({"spec": {"containers": [{"resources": {
            "limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}}}]}});
        assert_eq!(pod_qos(&g), "Guaranteed");
        let b = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "100m"}}}]}});
        assert_eq!(pod_qos(&b), "Burstable");
    }
}
