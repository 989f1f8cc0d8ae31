//! Defaulting of core/v1 kinds as upstream's decoder applies it (`pkg/apis/core/v1/defaults.go`
//! and the generated `zz_generated.defaults.go`): pod specs (restart and DNS policies,
//! scheduler, grace period, security context, per-container pull policy, termination
//! message, port protocols, probe timings, volume modes), Pods, Services, Namespaces,
//! Secrets (including `stringData`), PersistentVolume(Claim)s, Endpoints, Nodes,
//! ReplicationControllers, LimitRanges. Resource quantities are rounded up to milli units
//! and written in canonical form.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::quantity::Quantity;
use super::value::{self as v, default_field, default_int, default_ptr, each_obj_mut, get_obj_mut};

/// The `imagePullPolicy` upstream picks: `Always` for the `latest` tag (also implied by no
/// tag and no digest), `IfNotPresent` otherwise.
pub(crate) fn pull_policy_for(image: &str) -> &'static str {
    if image.is_empty() || image.bytes().any(|c| c.is_ascii_whitespace()) {
        return "IfNotPresent";
    }
    let (name, has_digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let tag = name[last_slash..].rsplit_once(':').map(|(_, t)| t);
    let repo = match tag {
        Some(t) => &name[..name.len() - t.len() - 1],
        None => name,
    };
    // docker references need a lowercase repository path (the registry host may differ)
    let path_part = match repo.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => repo,
    };
    if path_part.bytes().any(|c| c.is_ascii_uppercase()) {
        return "IfNotPresent";
    }
    match tag {
        Some("latest") => "Always",
        Some(_) => "IfNotPresent",
        None if has_digest => "IfNotPresent",
        None => "Always",
    }
}

/// `SetDefaults_ResourceList`: every quantity rounded up to milli units, canonical form.
pub(crate) fn resource_list(list: Option<&mut Value>) {
    let Some(Value::Object(m)) = list else {
        return;
    };
    for val in m.values_mut() {
        if let Ok(mut q) = Quantity::from_json(val) {
            q.round_up_milli();
            *val = Value::String(q.canonical());
        }
    }
}

/// Canonical form of one quantity field, without rounding.
pub(crate) fn canonical_quantity(val: Option<&mut Value>) {
    if let Some(val) = val {
        if let Ok(q) = Quantity::from_json(val) {
            *val = Value::String(q.canonical());
        }
    }
}

fn resources(ctr: &mut Value) {
    if let Some(r) = get_obj_mut(ctr, "resources") {
        resource_list(r.get_mut("limits"));
        resource_list(r.get_mut("requests"));
    }
}

fn http_get(handler: &mut Value) {
    if let Some(h) = get_obj_mut(handler, "httpGet").and_then(Value::as_object_mut) {
        default_field(h, "path", json!("/"));
        default_field(h, "scheme", json!("HTTP"));
    }
}

fn probe(ctr: &mut Value, name: &str) {
    let Some(p) = get_obj_mut(ctr, name) else {
        return;
    };
    http_get(p);
    if let Some(g) = get_obj_mut(p, "grpc").and_then(Value::as_object_mut) {
        default_ptr(g, "service", json!(""));
    }
    if let Some(m) = p.as_object_mut() {
        default_int(m, "timeoutSeconds", 1);
        default_int(m, "periodSeconds", 10);
        default_int(m, "successThreshold", 1);
        default_int(m, "failureThreshold", 3);
    }
}

/// `SetDefaults_Container` plus the generated defaults of its nested types.
fn container(ctr: &mut Value) {
    let image = v::s(ctr, &["image"]).to_string();
    if let Some(m) = ctr.as_object_mut() {
        default_field(m, "imagePullPolicy", json!(pull_policy_for(&image)));
        default_field(m, "terminationMessagePath", json!("/dev/termination-log"));
        default_field(m, "terminationMessagePolicy", json!("File"));
        if !m.contains_key("resources") || m.get("resources") == Some(&Value::Null) {
            m.insert("resources".into(), json!({}));
        }
    }
    each_obj_mut(ctr, "ports", |p| {
        if let Some(m) = p.as_object_mut() {
            default_field(m, "protocol", json!("TCP"));
        }
    });
    each_obj_mut(ctr, "env", |e| {
        if let Some(fr) = e
            .get_mut("valueFrom")
            .and_then(|vf| get_obj_mut(vf, "fieldRef"))
            .and_then(Value::as_object_mut)
        {
            default_field(fr, "apiVersion", json!("v1"));
        }
        if let Some(rf) = e
            .get_mut("valueFrom")
            .and_then(|vf| get_obj_mut(vf, "resourceFieldRef"))
        {
            canonical_quantity(rf.get_mut("divisor"));
        }
    });
    resources(ctr);
    for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
        probe(ctr, p);
    }
    if let Some(lc) = get_obj_mut(ctr, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = get_obj_mut(lc, hook) {
                http_get(h);
            }
        }
    }
}

fn volume(vol: &mut Value) {
    const SOURCES: &[&str] = &[
        "hostPath",
        "emptyDir",
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "secret",
        "nfs",
        "iscsi",
        "glusterfs",
        "persistentVolumeClaim",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "downwardAPI",
        "fc",
        "azureFile",
        "configMap",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "projected",
        "portworxVolume",
        "scaleIO",
        "storageos",
        "csi",
        "ephemeral",
        "image",
    ];
    let Some(m) = vol.as_object_mut() else {
        return;
    };
    if !SOURCES
        .iter()
        .any(|s| m.get(*s).is_some_and(|x| !x.is_null()))
    {
        m.insert("emptyDir".into(), json!({}));
    }
    if let Some(Value::Object(hp)) = m.get_mut("hostPath") {
        default_ptr(hp, "type", json!(""));
    }
    for (src, mode) in [
        ("secret", 420),
        ("configMap", 420),
        ("downwardAPI", 420),
        ("projected", 420),
    ] {
        if let Some(Value::Object(s)) = m.get_mut(src) {
            default_ptr(s, "defaultMode", json!(mode));
        }
    }
    if let Some(Value::Object(d)) = m.get_mut("downwardAPI") {
        if let Some(Value::Array(items)) = d.get_mut("items") {
            for it in items.iter_mut() {
                if let Some(fr) = get_obj_mut(it, "fieldRef").and_then(Value::as_object_mut) {
                    default_field(fr, "apiVersion", json!("v1"));
                }
            }
        }
    }
    if let Some(Value::Object(p)) = m.get_mut("projected") {
        if let Some(Value::Array(sources)) = p.get_mut("sources") {
            for s in sources.iter_mut() {
                if let Some(t) =
                    get_obj_mut(s, "serviceAccountToken").and_then(Value::as_object_mut)
                {
                    default_ptr(t, "expirationSeconds", json!(3600));
                }
                if let Some(Value::Array(items)) =
                    get_obj_mut(s, "downwardAPI").and_then(|d| d.get_mut("items"))
                {
                    for it in items.iter_mut() {
                        if let Some(fr) = get_obj_mut(it, "fieldRef").and_then(Value::as_object_mut)
                        {
                            default_field(fr, "apiVersion", json!("v1"));
                        }
                    }
                }
            }
        }
    }
    if let Some(Value::Object(e)) = m.get_mut("emptyDir") {
        if let Some(sl) = e.get_mut("sizeLimit") {
            canonical_quantity(Some(sl));
        }
    }
    if let Some(Value::Object(i)) = m.get_mut("iscsi") {
        default_field(i, "iscsiInterface", json!("default"));
    }
    if let Some(Value::Object(r)) = m.get_mut("rbd") {
        default_field(r, "pool", json!("rbd"));
        default_field(r, "user", json!("admin"));
        default_field(r, "keyring", json!("/etc/ceph/keyring"));
    }
    if let Some(Value::Object(a)) = m.get_mut("azureDisk") {
        default_ptr(a, "cachingMode", json!("ReadWrite"));
        default_ptr(a, "fsType", json!("ext4"));
        default_ptr(a, "readOnly", json!(false));
        default_ptr(a, "kind", json!("Shared"));
    }
    if let Some(Value::Object(s)) = m.get_mut("scaleIO") {
        default_field(s, "storageMode", json!("ThinProvisioned"));
        default_field(s, "fsType", json!("xfs"));
    }
    if let Some(t) = m
        .get_mut("ephemeral")
        .and_then(|e| get_obj_mut(e, "volumeClaimTemplate"))
    {
        object_meta_template(t);
        if let Some(spec) = get_obj_mut(t, "spec") {
            pvc_spec(spec);
        }
    }
}

/// The `creationTimestamp: null` that upstream (1.33) writes into every embedded ObjectMeta.
pub(crate) fn object_meta_template(tpl: &mut Value) {
    if let Some(meta) = v::ensure_obj(tpl, "metadata") {
        meta.entry("creationTimestamp").or_insert(Value::Null);
    }
}

/// `SetDefaults_PodSpec` and the generated defaults of everything inside a pod spec.
pub(crate) fn pod_spec(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    default_field(m, "dnsPolicy", json!("ClusterFirst"));
    default_field(m, "restartPolicy", json!("Always"));
    default_ptr(m, "securityContext", json!({}));
    default_ptr(m, "terminationGracePeriodSeconds", json!(30));
    default_field(m, "schedulerName", json!("default-scheduler"));
    // v1 -> internal conversion reads the deprecated field; internal -> v1 writes both
    let dep = v::s(spec, &["serviceAccount"]).to_string();
    if let Some(m) = spec.as_object_mut() {
        default_field(m, "serviceAccountName", json!(dep));
        if let Some(sa) = m
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            let sa = sa.to_string();
            m.insert("serviceAccount".into(), json!(sa));
        } else {
            m.remove("serviceAccountName");
            m.remove("serviceAccount");
        }
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        each_obj_mut(spec, list, container);
    }
    each_obj_mut(spec, "volumes", volume);
    if let Some(m) = spec.as_object_mut() {
        resource_list(m.get_mut("overhead"));
    }
    if let Some(r) = get_obj_mut(spec, "resources") {
        resource_list(r.get_mut("limits"));
        resource_list(r.get_mut("requests"));
    }
}

/// A pod template (`spec.template` of workloads): metadata placeholder and pod spec.
pub(crate) fn pod_template(tpl: &mut Value) {
    object_meta_template(tpl);
    if let Some(spec) = v::ensure_path(tpl, &["spec"]) {
        pod_spec(spec);
    }
}

/// `SetDefaults_Pod` (pods only, not templates): requests from limits, service links, host
/// network ports.
pub(crate) fn pod(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    for list in ["containers", "initContainers"] {
        each_obj_mut(spec, list, |c| {
            let limits = v::obj(c, &["resources", "limits"]).cloned();
            if let Some(limits) = limits {
                if let Some(req) =
                    v::ensure_path(c, &["resources", "requests"]).and_then(Value::as_object_mut)
                {
                    for (k, q) in limits {
                        req.entry(k).or_insert(q);
                    }
                }
            }
        });
    }
    let host_network = v::boolean(spec, &["hostNetwork"]) == Some(true);
    if let Some(m) = spec.as_object_mut() {
        default_ptr(m, "enableServiceLinks", json!(true));
    }
    if host_network {
        for list in ["containers", "initContainers"] {
            each_obj_mut(spec, list, |c| {
                each_obj_mut(c, "ports", |p| {
                    let cp = v::int(p, &["containerPort"]).unwrap_or(0);
                    if let Some(m) = p.as_object_mut() {
                        default_int(m, "hostPort", cp);
                    }
                })
            });
        }
    }
    pod_spec(spec);
}

/// `SetDefaults_Service` plus the IP family fields the allocator fills for a single-stack
/// IPv4 cluster.
pub(crate) fn service(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    default_field(m, "sessionAffinity", json!("None"));
    match m.get("sessionAffinity").and_then(Value::as_str) {
        Some("None") => {
            m.remove("sessionAffinityConfig");
        }
        Some("ClientIP")
            if v::int(
                &Value::Object(m.clone()),
                &["sessionAffinityConfig", "clientIP", "timeoutSeconds"],
            )
            .is_none() =>
        {
            m.insert(
                "sessionAffinityConfig".into(),
                json!({"clientIP": {"timeoutSeconds": 10800}}),
            );
        }
        _ => {}
    }
    default_field(m, "type", json!("ClusterIP"));
    if let Some(Value::Array(ports)) = m.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            default_field(p, "protocol", json!("TCP"));
            let zero = match p.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                _ => false,
            };
            if zero {
                let port = p.get("port").cloned().unwrap_or(json!(0));
                p.insert("targetPort".into(), port);
            }
        }
    }
    let typ = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let external_ips = m
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let accessible =
        typ == "LoadBalancer" || typ == "NodePort" || (typ == "ClusterIP" && external_ips);
    if accessible {
        default_field(m, "externalTrafficPolicy", json!("Cluster"));
    }
    if matches!(typ.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        default_ptr(m, "internalTrafficPolicy", json!("Cluster"));
    }
    if typ == "LoadBalancer" {
        default_ptr(m, "allocateLoadBalancerNodePorts", json!(true));
    }
    if typ != "ExternalName" {
        let first_ip = m
            .get("clusterIPs")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .or_else(|| m.get("clusterIP").and_then(Value::as_str))
            .unwrap_or("")
            .to_string();
        let family = if first_ip.contains(':') {
            "IPv6"
        } else {
            "IPv4"
        };
        let two = m
            .get("clusterIPs")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() == 2);
        default_ptr(
            m,
            "ipFamilyPolicy",
            json!(if two {
                "RequireDualStack"
            } else {
                "SingleStack"
            }),
        );
        let empty = m
            .get("ipFamilies")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty());
        if empty {
            m.insert("ipFamilies".into(), json!([family]));
        }
    }
    if typ == "LoadBalancer" {
        if let Some(Value::Array(ing)) = v::ensure_path(obj, &["status"])
            .and_then(|s| s.get_mut("loadBalancer"))
            .and_then(|l| l.get_mut("ingress"))
        {
            for i in ing.iter_mut().filter_map(Value::as_object_mut) {
                if i.get("ip")
                    .and_then(Value::as_str)
                    .is_some_and(|ip| !ip.is_empty())
                {
                    default_ptr(i, "ipMode", json!("VIP"));
                }
            }
        }
    }
}

/// `SetDefaults_Namespace` / `SetDefaults_NamespaceStatus`.
pub(crate) fn namespace(obj: &mut Value) {
    let name = v::s(obj, &["metadata", "name"]).to_string();
    if !name.is_empty() {
        if let Some(labels) =
            v::ensure_path(obj, &["metadata", "labels"]).and_then(Value::as_object_mut)
        {
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
    if let Some(st) = v::ensure_path(obj, &["status"]).and_then(Value::as_object_mut) {
        default_field(st, "phase", json!("Active"));
    }
}

/// `SetDefaults_Secret`, and the v1 conversion that folds `stringData` into `data`.
pub(crate) fn secret(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    default_field(m, "type", json!("Opaque"));
    if let Some(Value::Object(sd)) = m.remove("stringData") {
        let data = m.entry("data").or_insert_with(|| Value::Object(Map::new()));
        if !data.is_object() {
            *data = Value::Object(Map::new());
        }
        if let Some(d) = data.as_object_mut() {
            for (k, val) in sd {
                let s = val.as_str().unwrap_or("").to_string();
                d.insert(
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(s)),
                );
            }
        }
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec` (also used in templates).
pub(crate) fn pvc_spec(spec: &mut Value) {
    if let Some(m) = spec.as_object_mut() {
        default_ptr(m, "volumeMode", json!("Filesystem"));
    }
    if let Some(r) = get_obj_mut(spec, "resources") {
        resource_list(r.get_mut("limits"));
        resource_list(r.get_mut("requests"));
    }
}

/// `SetDefaults_PersistentVolumeClaim`.
pub(crate) fn pvc(obj: &mut Value) {
    if let Some(spec) = v::ensure_path(obj, &["spec"]) {
        pvc_spec(spec);
    }
    if let Some(st) = v::ensure_path(obj, &["status"]).and_then(Value::as_object_mut) {
        default_field(st, "phase", json!("Pending"));
        if let Some(c) = st.get_mut("capacity") {
            resource_list(Some(c));
        }
    }
}

/// `SetDefaults_PersistentVolume`.
pub(crate) fn pv(obj: &mut Value) {
    if let Some(spec) = v::ensure_path(obj, &["spec"]) {
        if let Some(m) = spec.as_object_mut() {
            default_field(m, "persistentVolumeReclaimPolicy", json!("Retain"));
            default_ptr(m, "volumeMode", json!("Filesystem"));
            resource_list(m.get_mut("capacity"));
        }
        if let Some(hp) = get_obj_mut(spec, "hostPath").and_then(Value::as_object_mut) {
            default_ptr(hp, "type", json!(""));
        }
    }
    if let Some(st) = v::ensure_path(obj, &["status"]).and_then(Value::as_object_mut) {
        default_field(st, "phase", json!("Pending"));
    }
}

/// `SetDefaults_Endpoints`.
pub(crate) fn endpoints(obj: &mut Value) {
    each_obj_mut(obj, "subsets", |ss| {
        each_obj_mut(ss, "ports", |p| {
            if let Some(m) = p.as_object_mut() {
                default_field(m, "protocol", json!("TCP"));
            }
        })
    });
}

/// `SetDefaults_NodeStatus`.
pub(crate) fn node(obj: &mut Value) {
    if let Some(st) = obj.get_mut("status").and_then(Value::as_object_mut) {
        resource_list(st.get_mut("capacity"));
        resource_list(st.get_mut("allocatable"));
        if st.get("allocatable").is_none_or(Value::is_null) {
            if let Some(c) = st.get("capacity").filter(|c| c.is_object()).cloned() {
                st.insert("allocatable".into(), c);
            }
        }
    }
}

/// `SetDefaults_ReplicationController` plus its template.
pub(crate) fn replication_controller(obj: &mut Value) {
    let labels = v::at(obj, &["spec", "template", "metadata", "labels"]).cloned();
    if let Some(labels) = labels.filter(|l| l.is_object()) {
        if let Some(spec) = v::ensure_path(obj, &["spec"]).and_then(Value::as_object_mut) {
            if spec
                .get("selector")
                .and_then(Value::as_object)
                .is_none_or(|s| s.is_empty())
            {
                spec.insert("selector".into(), labels.clone());
            }
        }
        if let Some(meta) = v::ensure_path(obj, &["metadata"]).and_then(Value::as_object_mut) {
            if meta
                .get("labels")
                .and_then(Value::as_object)
                .is_none_or(|l| l.is_empty())
            {
                meta.insert("labels".into(), labels);
            }
        }
    }
    if let Some(spec) = v::ensure_path(obj, &["spec"]) {
        if let Some(m) = spec.as_object_mut() {
            default_ptr(m, "replicas", json!(1));
        }
        if let Some(t) = get_obj_mut(spec, "template") {
            pod_template(t);
        }
    }
}

/// `SetDefaults_LimitRangeItem` and resource lists of LimitRanges.
pub(crate) fn limit_range(obj: &mut Value) {
    let Some(spec) = get_obj_mut(obj, "spec") else {
        return;
    };
    each_obj_mut(spec, "limits", |item| {
        if let Some(m) = item.as_object_mut() {
            for f in [
                "max",
                "min",
                "default",
                "defaultRequest",
                "maxLimitRequestRatio",
            ] {
                resource_list(m.get_mut(f));
            }
        }
        if v::s(item, &["type"]) != "Container" {
            return;
        }
        let Some(m) = item.as_object_mut() else {
            return;
        };
        let max = m
            .get("max")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let min = m
            .get("min")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let default = m.entry("default").or_insert_with(|| json!({}));
        if let Some(d) = default.as_object_mut() {
            for (k, q) in &max {
                d.entry(k.clone()).or_insert(q.clone());
            }
        }
        let defaults = default.as_object().cloned().unwrap_or_default();
        let req = m.entry("defaultRequest").or_insert_with(|| json!({}));
        if let Some(r) = req.as_object_mut() {
            for (k, q) in defaults.iter().chain(min.iter()) {
                r.entry(k.clone()).or_insert(q.clone());
            }
        }
        // empty resource lists are omitted when serialised
        for f in ["default", "defaultRequest"] {
            if m.get(f)
                .and_then(Value::as_object)
                .is_some_and(|x| x.is_empty())
            {
                m.remove(f);
            }
        }
    });
}

/// Resource lists of ResourceQuotas.
pub(crate) fn resource_quota(obj: &mut Value) {
    if let Some(spec) = get_obj_mut(obj, "spec") {
        resource_list(spec.get_mut("hard"));
    }
    if let Some(st) = get_obj_mut(obj, "status") {
        resource_list(st.get_mut("hard"));
        resource_list(st.get_mut("used"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_from_tag() {
        assert_eq!(pull_policy_for("nginx"), "Always");
        assert_eq!(pull_policy_for("nginx:latest"), "Always");
        assert_eq!(pull_policy_for("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy_for("localhost:5000/app"), "Always");
        assert_eq!(pull_policy_for("localhost:5000/app:v1"), "IfNotPresent");
        assert_eq!(pull_policy_for("nginx@sha256:abcd"), "IfNotPresent");
        assert_eq!(pull_policy_for("Nginx"), "IfNotPresent");
    }
}
