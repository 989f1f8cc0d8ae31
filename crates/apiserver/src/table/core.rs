//! Printers of the core group (besides pods): nodes, namespaces, services, endpoints,
//! configmaps, secrets, service accounts, events (also `events.k8s.io`, which upstream prints
//! through the same internal type), persistent volumes and claims, replication controllers
//! and resource quotas.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::Value;

use super::docs;
use super::duration;
use super::fields::{
    age, arr, containers, deleting, format_labels, int, map_len, name, opt_int, present, s,
    string_map, timestamp,
};
use super::quantity;
use super::{Column, Printer, Row, AGE, CONTAINERS, IMAGES, NAME};

// ---------------------------------------------------------------------------------------------
// Nodes

pub(super) static NODES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "The status of the node"),
        Column::new("Roles", "string", "The roles of the node"),
        AGE,
        Column::new("Version", "string", docs::NODE_INFO_KUBELET_VERSION),
        Column::new("Internal-IP", "string", docs::NODE_STATUS_ADDRESSES).wide(),
        Column::new("External-IP", "string", docs::NODE_STATUS_ADDRESSES).wide(),
        Column::new("OS-Image", "string", docs::NODE_INFO_OS_IMAGE).wide(),
        Column::new("Kernel-Version", "string", docs::NODE_INFO_KERNEL_VERSION).wide(),
        Column::new(
            "Container-Runtime",
            "string",
            docs::NODE_INFO_CONTAINER_RUNTIME,
        )
        .wide(),
    ],
    row: node_row,
};

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` labels and the value of a
/// `kubernetes.io/role` label, sorted and deduplicated.
fn node_roles(node: &Value) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for (k, v) in string_map(&node["metadata"]["labels"]) {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.insert(v);
        }
    }
    roles.into_iter().collect()
}

fn node_address(node: &Value, ty: &str) -> String {
    arr(&node["status"]["addresses"])
        .iter()
        .find(|a| s(&a["type"]) == ty)
        .map_or_else(|| "<none>".into(), |a| s(&a["address"]).to_string())
}

fn or_unknown(v: &str) -> &str {
    if v.is_empty() {
        "<unknown>"
    } else {
        v
    }
}

fn node_row(node: &Value, now: Timestamp) -> Row {
    // The last Ready condition counts, as upstream indexes conditions by type.
    let ready = arr(&node["status"]["conditions"])
        .iter()
        .rev()
        .find(|c| s(&c["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if s(&c["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node["spec"]["unschedulable"].as_bool() == Some(true) {
        status.push("SchedulingDisabled");
    }
    let roles = match node_roles(node).join(",") {
        r if r.is_empty() => "<none>".to_string(),
        r => r,
    };
    let info = &node["status"]["nodeInfo"];
    Row::new(vec![
        name(node).into(),
        status.join(",").into(),
        roles.into(),
        age(node, now).into(),
        s(&info["kubeletVersion"]).into(),
        node_address(node, "InternalIP").into(),
        node_address(node, "ExternalIP").into(),
        or_unknown(s(&info["osImage"])).into(),
        or_unknown(s(&info["kernelVersion"])).into(),
        or_unknown(s(&info["containerRuntimeVersion"])).into(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Namespaces, configmaps, secrets, service accounts

pub(super) static NAMESPACES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "The status of the namespace"),
        AGE,
    ],
    row: |ns, now| {
        // Upstream sets the phase when the namespace is created.
        let phase = match s(&ns["status"]["phase"]) {
            "" => "Active",
            p => p,
        };
        Row::new(vec![name(ns).into(), phase.into(), age(ns, now).into()])
    },
};

pub(super) static CONFIGMAPS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Data", "string", docs::CONFIGMAP_DATA),
        AGE,
    ],
    row: |cm, now| {
        let data = map_len(&cm["data"]) + map_len(&cm["binaryData"]);
        Row::new(vec![name(cm).into(), data.into(), age(cm, now).into()])
    },
};

pub(super) static SECRETS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Type", "string", docs::SECRET_TYPE),
        Column::new("Data", "string", docs::SECRET_DATA),
        AGE,
    ],
    row: |secret, now| {
        let ty = match s(&secret["type"]) {
            "" => "Opaque",
            t => t,
        };
        Row::new(vec![
            name(secret).into(),
            ty.into(),
            map_len(&secret["data"]).into(),
            age(secret, now).into(),
        ])
    },
};

pub(super) static SERVICEACCOUNTS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Secrets", "string", docs::SA_SECRETS),
        AGE,
    ],
    row: |sa, now| {
        Row::new(vec![
            name(sa).into(),
            arr(&sa["secrets"]).len().into(),
            age(sa, now).into(),
        ])
    },
};

// ---------------------------------------------------------------------------------------------
// Services and endpoints

pub(super) static SERVICES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Type", "string", docs::SVC_SPEC_TYPE),
        Column::new("Cluster-IP", "string", docs::SVC_SPEC_CLUSTER_IP),
        Column::new("External-IP", "string", docs::SVC_SPEC_EXTERNAL_IPS),
        Column::new("Port(s)", "string", docs::SVC_SPEC_PORTS),
        AGE,
        Column::new("Selector", "string", docs::SVC_SPEC_SELECTOR).wide(),
    ],
    row: service_row,
};

/// Load-balancer ingress points: IPs, else hostnames, sorted and deduplicated. The API server
/// prints wide, so the list is never shortened.
pub(super) fn load_balancer_ingress(status: &Value) -> String {
    let set: BTreeSet<&str> = arr(&status["ingress"])
        .iter()
        .filter_map(|i| match (s(&i["ip"]), s(&i["hostname"])) {
            ("", "") => None,
            ("", host) => Some(host),
            (ip, _) => Some(ip),
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

fn service_external_ip(svc: &Value, ty: &str) -> String {
    let external: Vec<&str> = arr(&svc["spec"]["externalIPs"]).iter().map(s).collect();
    match ty {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".into()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_ingress(&svc["status"]["loadBalancer"]);
            if !external.is_empty() {
                let mut all: Vec<&str> = if lb.is_empty() {
                    Vec::new()
                } else {
                    lb.split(',').collect()
                };
                all.extend(external);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".into()
            }
        }
        "ExternalName" => s(&svc["spec"]["externalName"]).to_string(),
        _ => "<unknown>".into(),
    }
}

/// `makePortString`: `80/TCP`, `80:30080/TCP` with a node port, joined by commas.
fn service_ports(ports: &[Value]) -> String {
    ports
        .iter()
        .map(|p| {
            let protocol = match s(&p["protocol"]) {
                "" => "TCP",
                proto => proto,
            };
            let port = int(&p["port"]);
            let node_port = int(&p["nodePort"]);
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn service_row(svc: &Value, now: Timestamp) -> Row {
    let spec = &svc["spec"];
    let ty = match s(&spec["type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = arr(&spec["clusterIPs"])
        .first()
        .map(s)
        .or_else(|| Some(s(&spec["clusterIP"])).filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let ports = match service_ports(arr(&spec["ports"])) {
        p if p.is_empty() => "<none>".to_string(),
        p => p,
    };
    Row::new(vec![
        name(svc).into(),
        ty.into(),
        cluster_ip.into(),
        service_external_ip(svc, ty).into(),
        ports.into(),
        age(svc, now).into(),
        format_labels(&spec["selector"]).into(),
    ])
}

pub(super) static ENDPOINTS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Endpoints", "string", docs::ENDPOINTS_SUBSETS),
        AGE,
    ],
    row: |ep, now| {
        Row::new(vec![
            name(ep).into(),
            format_endpoints(ep).into(),
            age(ep, now).into(),
        ])
    },
};

/// Go's `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints`: up to three `ip:port` (or bare IPs for port-less subsets), then
/// ` + N more...`; `<none>` without subsets.
fn format_endpoints(ep: &Value) -> String {
    let subsets = arr(&ep["subsets"]);
    if subsets.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = arr(&ss["addresses"]);
        let ports = arr(&ss["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(s(&a["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(s(&a["ip"]), int(&port["port"])));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count.saturating_sub(MAX))
    } else {
        joined
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// Where an event's fields are: core/v1 and events.k8s.io/v1 name them differently.
struct EventFields {
    involved: &'static str,
    message: &'static str,
    source: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

const CORE_EVENT: EventFields = EventFields {
    involved: "involvedObject",
    message: "message",
    source: "source",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    reporting_controller: "reportingComponent",
};

const EVENTS_V1_EVENT: EventFields = EventFields {
    involved: "regarding",
    message: "note",
    source: "deprecatedSource",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reporting_controller: "reportingController",
};

const EVENT_COLUMNS: &[Column] = &[
    Column::new("Last Seen", "string", docs::EVENT_LAST_TIMESTAMP),
    Column::new("Type", "string", docs::EVENT_TYPE),
    Column::new("Reason", "string", docs::EVENT_REASON),
    Column::new("Object", "string", docs::EVENT_INVOLVED_OBJECT),
    Column::new("Subobject", "string", docs::OBJECT_REFERENCE_FIELD_PATH).wide(),
    Column::new("Source", "string", docs::EVENT_SOURCE).wide(),
    Column::new("Message", "string", docs::EVENT_MESSAGE),
    Column::new("First Seen", "string", docs::EVENT_FIRST_TIMESTAMP).wide(),
    Column::new("Count", "string", docs::EVENT_COUNT).wide(),
    NAME.wide(),
];

pub(super) static EVENTS: Printer = Printer {
    columns: EVENT_COLUMNS,
    row: |ev, now| event_row(ev, now, &CORE_EVENT),
};

pub(super) static EVENTS_V1: Printer = Printer {
    columns: EVENT_COLUMNS,
    row: |ev, now| event_row(ev, now, &EVENTS_V1_EVENT),
};

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

fn event_row(ev: &Value, now: Timestamp, f: &EventFields) -> Row {
    let first_ts = timestamp(&ev[f.first]);
    let first = match first_ts {
        Some(_) => duration::since(first_ts, now),
        None => duration::since(timestamp(&ev["eventTime"]), now),
    };
    let mut last = match timestamp(&ev[f.last]) {
        Some(t) => duration::since(Some(t), now),
        None => first.clone(),
    };
    let series = &ev["series"];
    let mut count = int(&ev[f.count]);
    if present(series) {
        last = duration::since(timestamp(&series["lastObservedTime"]), now);
        count = int(&series["count"]);
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }
    let involved = &ev[f.involved];
    let kind = s(&involved["kind"]).to_lowercase();
    let target = match s(&involved["name"]) {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let source = &ev[f.source];
    let component = first_non_empty(s(&source["component"]), s(&ev[f.reporting_controller]));
    let instance = first_non_empty(s(&source["host"]), s(&ev["reportingInstance"]));
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    Row::new(vec![
        last.into(),
        s(&ev["type"]).into(),
        s(&ev["reason"]).into(),
        target.into(),
        s(&involved["fieldPath"]).into(),
        source.into(),
        s(&ev[f.message]).trim().into(),
        first.into(),
        count.into(),
        name(ev).into(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Persistent volumes and claims

/// `GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once.
pub(super) fn access_modes(modes: &Value) -> String {
    let modes: Vec<&str> = arr(modes).iter().map(s).collect();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.contains(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// The beta storage-class annotation if set, else `spec.storageClassName`.
fn storage_class(obj: &Value) -> String {
    match obj["metadata"]["annotations"][BETA_STORAGE_CLASS].as_str() {
        Some(class) => class.to_string(),
        None => s(&obj["spec"]["storageClassName"]).to_string(),
    }
}

fn or_unset(v: &Value) -> String {
    v.as_str().unwrap_or("<unset>").to_string()
}

pub(super) static PERSISTENTVOLUMES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Capacity", "string", docs::PV_SPEC_CAPACITY),
        Column::new("Access Modes", "string", docs::PV_SPEC_ACCESS_MODES),
        Column::new("Reclaim Policy", "string", docs::PV_SPEC_RECLAIM_POLICY),
        Column::new("Status", "string", docs::PV_STATUS_PHASE),
        Column::new("Claim", "string", docs::PV_SPEC_CLAIM_REF),
        Column::new("StorageClass", "string", "StorageClass of the pv"),
        Column::new(
            "VolumeAttributesClass",
            "string",
            "VolumeAttributesClass of the pv",
        ),
        Column::new("Reason", "string", docs::PV_STATUS_REASON),
        AGE,
        Column::new("VolumeMode", "string", docs::PV_SPEC_VOLUME_MODE).wide(),
    ],
    row: pv_row,
};

fn pv_row(pv: &Value, now: Timestamp) -> Row {
    let spec = &pv["spec"];
    let claim_ref = &spec["claimRef"];
    let claim = if present(claim_ref) {
        format!("{}/{}", s(&claim_ref["namespace"]), s(&claim_ref["name"]))
    } else {
        String::new()
    };
    // Upstream defaults: reclaim policy Retain, phase Pending, volume mode Filesystem.
    let reclaim = match s(&spec["persistentVolumeReclaimPolicy"]) {
        "" => "Retain",
        p => p,
    };
    let phase = if deleting(pv) {
        "Terminating"
    } else {
        match s(&pv["status"]["phase"]) {
            "" => "Pending",
            p => p,
        }
    };
    let volume_mode = match &spec["volumeMode"] {
        Value::Null => "Filesystem".to_string(),
        v => or_unset(v),
    };
    Row::new(vec![
        name(pv).into(),
        quantity::of_value(&spec["capacity"]["storage"]).into(),
        access_modes(&spec["accessModes"]).into(),
        reclaim.into(),
        phase.into(),
        claim.into(),
        storage_class(pv).into(),
        or_unset(&spec["volumeAttributesClassName"]).into(),
        s(&pv["status"]["reason"]).into(),
        age(pv, now).into(),
        volume_mode.into(),
    ])
}

pub(super) static PERSISTENTVOLUMECLAIMS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", docs::PVC_STATUS_PHASE),
        Column::new("Volume", "string", docs::PVC_SPEC_VOLUME_NAME),
        Column::new("Capacity", "string", docs::PVC_STATUS_CAPACITY),
        Column::new("Access Modes", "string", docs::PVC_STATUS_ACCESS_MODES),
        Column::new("StorageClass", "string", "StorageClass of the pvc"),
        Column::new(
            "VolumeAttributesClass",
            "string",
            "VolumeAttributesClass of the pvc",
        ),
        AGE,
        Column::new("VolumeMode", "string", docs::PVC_SPEC_VOLUME_MODE).wide(),
    ],
    row: pvc_row,
};

fn pvc_row(pvc: &Value, now: Timestamp) -> Row {
    let spec = &pvc["spec"];
    let phase = if deleting(pvc) {
        "Terminating"
    } else {
        match s(&pvc["status"]["phase"]) {
            "" => "Pending",
            p => p,
        }
    };
    let volume = s(&spec["volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity::of_value(&pvc["status"]["capacity"]["storage"]),
            access_modes(&pvc["status"]["accessModes"]),
        )
    };
    // The storage class: the beta annotation, else spec.storageClassName ("" when unset).
    let class = match pvc["metadata"]["annotations"][BETA_STORAGE_CLASS].as_str() {
        Some(class) => class.to_string(),
        None => s(&spec["storageClassName"]).to_string(),
    };
    let volume_mode = match &spec["volumeMode"] {
        Value::Null => "Filesystem".to_string(),
        v => or_unset(v),
    };
    Row::new(vec![
        name(pvc).into(),
        phase.into(),
        volume.into(),
        capacity.into(),
        modes.into(),
        class.into(),
        or_unset(&spec["volumeAttributesClassName"]).into(),
        age(pvc, now).into(),
        volume_mode.into(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Replication controllers and resource quotas

pub(super) static REPLICATIONCONTROLLERS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Desired", "integer", docs::RC_SPEC_REPLICAS),
        Column::new("Current", "integer", docs::RC_STATUS_REPLICAS),
        Column::new("Ready", "integer", docs::RC_STATUS_READY_REPLICAS),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", docs::RC_SPEC_SELECTOR).wide(),
    ],
    row: |rc, now| {
        let (names, images) = containers(&rc["spec"]["template"]["spec"]);
        Row::new(vec![
            name(rc).into(),
            opt_int(&rc["spec"]["replicas"]).unwrap_or(1).into(),
            int(&rc["status"]["replicas"]).into(),
            int(&rc["status"]["readyReplicas"]).into(),
            age(rc, now).into(),
            names.into(),
            images.into(),
            format_labels(&rc["spec"]["selector"]).into(),
        ])
    },
};

pub(super) static RESOURCEQUOTAS: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column::new(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        AGE,
    ],
    row: quota_row,
};

/// `resource: used/hard` for every resource of `status.hard`, sorted; `limits.*` resources
/// in the Limit column, the others in Request.
fn quota_row(quota: &Value, now: Timestamp) -> Row {
    let status = &quota["status"];
    let mut resources: Vec<&String> = status["hard"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    resources.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for resource in resources {
        let entry = format!(
            "{resource}: {}/{}",
            quantity::of_value(&status["used"][resource.as_str()]),
            quantity::of_value(&status["hard"][resource.as_str()])
        );
        let mut pieces = resource.split('.');
        if pieces.next() == Some("limits") && pieces.next().is_some() {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    Row::new(vec![
        name(quota).into(),
        requests.join(", ").into(),
        limits.join(", ").into(),
        age(quota, now).into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use serde_json::{json, Value};

    fn meta(name: &str, age_secs: i64) -> Value {
        json!({ "name": name, "namespace": "default", "creationTimestamp": ago(age_secs) })
    }

    #[test]
    fn nodes() {
        let node = json!({
            "metadata": {
                "name": "node-1", "creationTimestamp": ago(10 * 86400),
                "labels": {
                    "node-role.kubernetes.io/control-plane": "",
                    "node-role.kubernetes.io/etcd": "true",
                    "node-role.kubernetes.io/": "",
                    "kubernetes.io/role": "master",
                    "kubernetes.io/hostname": "node-1",
                },
            },
            "spec": { "unschedulable": true },
            "status": {
                "conditions": [
                    { "type": "MemoryPressure", "status": "False" },
                    { "type": "Ready", "status": "True" },
                ],
                "addresses": [
                    { "type": "Hostname", "address": "node-1" },
                    { "type": "InternalIP", "address": "192.168.1.10" },
                ],
                "nodeInfo": {
                    "kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.7.13",
                },
            },
        });
        let t = table("", "nodes", std::slice::from_ref(&node));
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Status", 0),
                ("Roles", 0),
                ("Age", 0),
                ("Version", 0),
                ("Internal-IP", 1),
                ("External-IP", 1),
                ("OS-Image", 1),
                ("Kernel-Version", 1),
                ("Container-Runtime", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "node-1",
                "Ready,SchedulingDisabled",
                "control-plane,etcd,master",
                "10d",
                "v1.33.1",
                "192.168.1.10",
                "<none>",
                "Debian GNU/Linux 12 (bookworm)",
                "6.1.0-18-amd64",
                "containerd://1.7.13"
            ])
        );
        let bare = json!({ "metadata": { "name": "n" }, "status": { "conditions": [{ "type": "Ready", "status": "Unknown" }] } });
        assert_eq!(
            cells("", "nodes", bare),
            [
                json!("n"),
                json!("NotReady"),
                json!("<none>"),
                json!("<unknown>"),
                json!(""),
                json!("<none>"),
                json!("<none>"),
                json!("<unknown>"),
                json!("<unknown>"),
                json!("<unknown>")
            ]
        );
        let no_conditions = json!({ "metadata": { "name": "n" } });
        assert_eq!(cells("", "nodes", no_conditions)[1], "Unknown");
    }

    #[test]
    fn namespaces() {
        let t = table(
            "",
            "namespaces",
            &[
                json!({ "metadata": meta("default", 86400 * 30), "status": { "phase": "Active" } }),
                json!({ "metadata": meta("old", 60), "status": { "phase": "Terminating" } }),
            ],
        );
        check_shape(&t, &[("Name", 0), ("Status", 0), ("Age", 0)]);
        assert_eq!(t["rows"][0]["cells"], json!(["default", "Active", "30d"]));
        assert_eq!(t["rows"][1]["cells"], json!(["old", "Terminating", "60s"]));
    }

    #[test]
    fn services() {
        let svc = |spec: Value, status: Value| json!({ "metadata": meta("web", 3600), "spec": spec, "status": status });
        let t = table(
            "",
            "services",
            &[svc(
                json!({ "type": "ClusterIP", "clusterIP": "10.43.0.10", "clusterIPs": ["10.43.0.10"],
                        "ports": [{ "name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080 },
                                  { "name": "dns", "port": 53, "protocol": "UDP" }],
                        "selector": { "app": "web", "tier": "front" } }),
                json!({}),
            )],
        );
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Type", 0),
                ("Cluster-IP", 0),
                ("External-IP", 0),
                ("Port(s)", 0),
                ("Age", 0),
                ("Selector", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "ClusterIP",
                "10.43.0.10",
                "<none>",
                "80/TCP,53/UDP",
                "60m",
                "app=web,tier=front"
            ])
        );
        let node_port = svc(
            json!({ "type": "NodePort", "clusterIPs": ["10.43.1.1"], "externalIPs": ["1.2.3.4"],
                    "ports": [{ "port": 80, "nodePort": 30080, "protocol": "TCP" }] }),
            json!({}),
        );
        let c = cells("", "services", node_port);
        assert_eq!(
            c[1..5],
            [
                json!("NodePort"),
                json!("10.43.1.1"),
                json!("1.2.3.4"),
                json!("80:30080/TCP")
            ]
        );
        assert_eq!(c[6], "<none>");
        let lb = svc(
            json!({ "type": "LoadBalancer", "clusterIPs": ["10.43.1.2"], "ports": [{ "port": 443, "nodePort": 31443 }] }),
            json!({ "loadBalancer": { "ingress": [{ "ip": "203.0.113.9" }, { "hostname": "lb.example.com" }, { "ip": "203.0.113.1" }] } }),
        );
        let c = cells("", "services", lb);
        assert_eq!(c[3], "203.0.113.1,203.0.113.9,lb.example.com");
        assert_eq!(c[4], "443:31443/TCP");
        let pending = svc(
            json!({ "type": "LoadBalancer", "clusterIPs": ["10.43.1.3"], "externalIPs": ["5.6.7.8"] }),
            json!({}),
        );
        let c = cells("", "services", pending);
        assert_eq!(c[3], "5.6.7.8");
        assert_eq!(c[4], "<none>");
        let pending = svc(json!({ "type": "LoadBalancer" }), json!({}));
        assert_eq!(cells("", "services", pending)[3], "<pending>");
        let lb_and_external = svc(
            json!({ "type": "LoadBalancer", "externalIPs": ["5.6.7.8"] }),
            json!({ "loadBalancer": { "ingress": [{ "ip": "1.1.1.1" }] } }),
        );
        assert_eq!(cells("", "services", lb_and_external)[3], "1.1.1.1,5.6.7.8");
        let external_name = svc(
            json!({ "type": "ExternalName", "externalName": "db.example.com" }),
            json!({}),
        );
        let c = cells("", "services", external_name);
        assert_eq!(c[2], "<none>");
        assert_eq!(c[3], "db.example.com");
        let headless = svc(
            json!({ "clusterIP": "None", "clusterIPs": ["None"], "ports": [{ "port": 5432 }] }),
            json!({}),
        );
        let c = cells("", "services", headless);
        assert_eq!(
            c[1..5],
            [
                json!("ClusterIP"),
                json!("None"),
                json!("<none>"),
                json!("5432/TCP")
            ]
        );
        let odd = svc(json!({ "type": "Weird" }), json!({}));
        assert_eq!(cells("", "services", odd)[3], "<unknown>");
    }

    #[test]
    fn endpoints() {
        let ep = json!({
            "metadata": meta("web", 120),
            "subsets": [{
                "addresses": [{ "ip": "10.42.0.5" }, { "ip": "10.42.0.6" }],
                "ports": [{ "name": "http", "port": 8080 }, { "name": "metrics", "port": 9090 }],
            }],
        });
        let t = table("", "endpoints", &[ep]);
        check_shape(&t, &[("Name", 0), ("Endpoints", 0), ("Age", 0)]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "10.42.0.5:8080,10.42.0.6:8080,10.42.0.5:9090 + 1 more...",
                "2m"
            ])
        );
        let few = json!({ "metadata": meta("db", 5), "subsets": [{ "addresses": [{ "ip": "fd00::1" }], "ports": [{ "port": 5432 }] }] });
        assert_eq!(cells("", "endpoints", few)[1], "[fd00::1]:5432");
        let headless = json!({ "metadata": meta("h", 5), "subsets": [{ "addresses": [{ "ip": "10.0.0.1" }] }] });
        assert_eq!(cells("", "endpoints", headless)[1], "10.0.0.1");
        let none = json!({ "metadata": meta("e", 5) });
        assert_eq!(cells("", "endpoints", none)[1], "<none>");
        let not_ready = json!({ "metadata": meta("e", 5), "subsets": [{ "notReadyAddresses": [{ "ip": "10.0.0.1" }], "ports": [{ "port": 80 }] }] });
        assert_eq!(cells("", "endpoints", not_ready)[1], "");
    }

    #[test]
    fn configmaps_secrets_serviceaccounts() {
        let t = table(
            "",
            "configmaps",
            &[
                json!({ "metadata": meta("cfg", 10), "data": { "a": "1", "b": "2" }, "binaryData": { "c": "AA==" } }),
            ],
        );
        check_shape(&t, &[("Name", 0), ("Data", 0), ("Age", 0)]);
        assert_eq!(t["rows"][0]["cells"], json!(["cfg", 3, "10s"]));

        let t = table(
            "",
            "secrets",
            &[
                json!({ "metadata": meta("tls", 10), "type": "kubernetes.io/tls", "data": { "tls.crt": "", "tls.key": "" } }),
                json!({ "metadata": meta("plain", 10) }),
            ],
        );
        check_shape(&t, &[("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["tls", "kubernetes.io/tls", 2, "10s"])
        );
        assert_eq!(t["rows"][1]["cells"], json!(["plain", "Opaque", 0, "10s"]));

        let t = table(
            "",
            "serviceaccounts",
            &[
                json!({ "metadata": meta("default", 400), "secrets": [{ "name": "default-token" }] }),
            ],
        );
        check_shape(&t, &[("Name", 0), ("Secrets", 0), ("Age", 0)]);
        assert_eq!(t["rows"][0]["cells"], json!(["default", 1, "6m40s"]));
    }

    #[test]
    fn core_events() {
        let ev = json!({
            "metadata": meta("web-0.17a", 300),
            "involvedObject": { "kind": "Pod", "name": "web-0", "namespace": "default", "fieldPath": "spec.containers{app}" },
            "reason": "BackOff", "message": "Back-off restarting failed container\n", "type": "Warning",
            "source": { "component": "kubelet", "host": "node-1" },
            "firstTimestamp": ago(300), "lastTimestamp": ago(20), "count": 7,
        });
        let t = table("", "events", &[ev]);
        check_shape(
            &t,
            &[
                ("Last Seen", 0),
                ("Type", 0),
                ("Reason", 0),
                ("Object", 0),
                ("Subobject", 1),
                ("Source", 1),
                ("Message", 0),
                ("First Seen", 1),
                ("Count", 1),
                ("Name", 1),
            ],
        );
        assert_eq!(t["columnDefinitions"][9]["format"], "name");
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "20s",
                "Warning",
                "BackOff",
                "pod/web-0",
                "spec.containers{app}",
                "kubelet, node-1",
                "Back-off restarting failed container",
                "5m",
                7,
                "web-0.17a"
            ])
        );
        // New-style event written through core/v1: eventTime, series, reporting fields.
        let ev = json!({
            "metadata": meta("x", 100),
            "involvedObject": { "kind": "Node", "name": "" },
            "reason": "Starting", "type": "Normal",
            "eventTime": "2024-05-01T11:58:20.123456Z",
            "series": { "count": 4, "lastObservedTime": "2024-05-01T11:59:50.000000Z" },
            "reportingComponent": "kube-proxy", "reportingInstance": "node-2",
        });
        let c = cells("", "events", ev);
        assert_eq!(c[0], "10s");
        assert_eq!(c[3], "node");
        assert_eq!(c[5], "kube-proxy, node-2");
        assert_eq!(c[7], "99s");
        assert_eq!(c[8], 4);
        // Nothing known: unknown times, count 1.
        let c = cells("", "events", json!({ "metadata": meta("y", 1) }));
        assert_eq!(c[0], "<unknown>");
        assert_eq!(c[7], "<unknown>");
        assert_eq!(c[8], 1);
        assert_eq!(c[5], "");
    }

    #[test]
    fn events_k8s_io_events() {
        let ev = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": meta("web.1", 60),
            "regarding": { "kind": "Deployment", "name": "web", "namespace": "default" },
            "note": "Scaled up replica set web-5d8 to 3", "reason": "ScalingReplicaSet", "type": "Normal",
            "reportingController": "deployment-controller", "reportingInstance": "",
            "eventTime": ago(60), "action": "Scale",
            "deprecatedCount": 2, "deprecatedFirstTimestamp": ago(60), "deprecatedLastTimestamp": ago(30),
            "deprecatedSource": { "component": "" },
        });
        let c = cells("events.k8s.io", "events", ev);
        assert_eq!(
            c,
            [
                json!("30s"),
                json!("Normal"),
                json!("ScalingReplicaSet"),
                json!("deployment/web"),
                json!(""),
                json!("deployment-controller"),
                json!("Scaled up replica set web-5d8 to 3"),
                json!("60s"),
                json!(2),
                json!("web.1")
            ]
        );
    }

    #[test]
    fn persistent_volumes() {
        let pv = json!({
            "metadata": { "name": "pv-1", "creationTimestamp": ago(7200),
                          "annotations": { "volume.beta.kubernetes.io/storage-class": "old-class" } },
            "spec": { "capacity": { "storage": "10240Mi" }, "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
                      "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "local-path",
                      "claimRef": { "namespace": "default", "name": "data" }, "volumeMode": "Block",
                      "hostPath": { "path": "/data" } },
            "status": { "phase": "Bound" },
        });
        let t = table("", "persistentvolumes", &[pv]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Capacity", 0),
                ("Access Modes", 0),
                ("Reclaim Policy", 0),
                ("Status", 0),
                ("Claim", 0),
                ("StorageClass", 0),
                ("VolumeAttributesClass", 0),
                ("Reason", 0),
                ("Age", 0),
                ("VolumeMode", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "pv-1",
                "10Gi",
                "RWO,RWX",
                "Delete",
                "Bound",
                "default/data",
                "old-class",
                "<unset>",
                "",
                "120m",
                "Block"
            ])
        );
        let mut bare = json!({ "metadata": { "name": "pv-2", "deletionTimestamp": ago(0) }, "spec": { "storageClassName": "fast" } });
        let c = cells("", "persistentvolumes", bare.clone());
        assert_eq!(
            c,
            [
                json!("pv-2"),
                json!("0"),
                json!(""),
                json!("Retain"),
                json!("Terminating"),
                json!(""),
                json!("fast"),
                json!("<unset>"),
                json!(""),
                json!("<unknown>"),
                json!("Filesystem")
            ]
        );
        bare["metadata"]["deletionTimestamp"] = Value::Null;
        assert_eq!(cells("", "persistentvolumes", bare)[4], "Pending");
    }

    #[test]
    fn persistent_volume_claims() {
        let bound = json!({
            "metadata": meta("data", 3600),
            "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "1Gi" } },
                      "storageClassName": "local-path", "volumeName": "pvc-123", "volumeMode": "Filesystem",
                      "volumeAttributesClassName": "gold" },
            "status": { "phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": { "storage": "1Gi" } },
        });
        let pending = json!({
            "metadata": meta("new", 5),
            "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "5Gi" } } },
            "status": { "phase": "Pending" },
        });
        let t = table("", "persistentvolumeclaims", &[bound, pending]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Status", 0),
                ("Volume", 0),
                ("Capacity", 0),
                ("Access Modes", 0),
                ("StorageClass", 0),
                ("VolumeAttributesClass", 0),
                ("Age", 0),
                ("VolumeMode", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "data",
                "Bound",
                "pvc-123",
                "1Gi",
                "RWO",
                "local-path",
                "gold",
                "60m",
                "Filesystem"
            ])
        );
        assert_eq!(
            t["rows"][1]["cells"],
            json!([
                "new",
                "Pending",
                "",
                "",
                "",
                "",
                "<unset>",
                "5s",
                "Filesystem"
            ])
        );
    }

    #[test]
    fn replication_controllers() {
        let rc = json!({
            "metadata": meta("legacy", 86400),
            "spec": { "replicas": 3, "selector": { "app": "legacy" },
                      "template": { "metadata": { "labels": { "app": "legacy" } },
                                    "spec": { "containers": [{ "name": "app", "image": "nginx:1.27" }] } } },
            "status": { "replicas": 3, "readyReplicas": 2 },
        });
        let t = table("", "replicationcontrollers", &[rc]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Desired", 0),
                ("Current", 0),
                ("Ready", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["legacy", 3, 3, 2, "24h", "app", "nginx:1.27", "app=legacy"])
        );
        let bare = cells(
            "",
            "replicationcontrollers",
            json!({ "metadata": meta("b", 1) }),
        );
        assert_eq!(bare[1..4], [json!(1), json!(0), json!(0)]);
        assert_eq!(bare[5..], [json!(""), json!(""), json!("<none>")]);
    }

    #[test]
    fn resource_quotas() {
        let q = json!({
            "metadata": meta("compute", 600),
            "spec": { "hard": { "requests.cpu": "2", "limits.memory": "4Gi", "pods": "10", "limits.cpu": "4" } },
            "status": {
                "hard": { "requests.cpu": "2", "limits.memory": "4Gi", "pods": "10", "limits.cpu": "4", "limits": "1" },
                "used": { "requests.cpu": "500m", "limits.memory": "1024Mi", "pods": "3" },
            },
        });
        let t = table("", "resourcequotas", &[q]);
        check_shape(&t, &[("Name", 0), ("Request", 0), ("Limit", 0), ("Age", 0)]);
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "compute",
                "limits: 0/1, pods: 3/10, requests.cpu: 500m/2",
                "limits.cpu: 0/4, limits.memory: 1Gi/4Gi",
                "10m"
            ])
        );
        let empty = cells("", "resourcequotas", json!({ "metadata": meta("e", 1) }));
        assert_eq!(empty[1..3], [json!(""), json!("")]);
    }
}
