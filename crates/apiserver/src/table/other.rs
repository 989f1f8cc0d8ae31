//! Printers of the smaller groups: horizontal pod autoscalers (v2 and v1 objects), endpoint
//! slices, leases, ingresses, ingress classes, network policies, storage classes, role
//! bindings, priority classes and pod disruption budgets.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::core::load_balancer_ingress;
use super::docs;
use super::fields::{
    age, arr, boolean, format_label_selector, int, int_or_string, name, opt_int, present, s,
};
use super::quantity;
use super::{Column, Printer, Row, AGE, NAME};

// ---------------------------------------------------------------------------------------------
// Horizontal pod autoscalers

pub(super) static HPAS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Reference", "string", docs::HPA_SPEC_SCALE_TARGET_REF),
        Column::new("Targets", "string", docs::HPA_SPEC_METRICS),
        Column::new("MinPods", "string", docs::HPA_SPEC_MIN_REPLICAS),
        Column::new("MaxPods", "string", docs::HPA_SPEC_MAX_REPLICAS),
        Column::new("Replicas", "string", docs::HPA_STATUS_CURRENT_REPLICAS),
        AGE,
    ],
    row: hpa_row,
};

/// The metrics and current metrics of an HPA in the v2 shape. An autoscaling/v1 object's
/// `targetCPUUtilizationPercentage` / `currentCPUUtilizationPercentage` become a CPU
/// utilization metric, as upstream converts them; no metric at all reads as upstream's
/// default, CPU at 80% utilization.
fn hpa_metrics(hpa: &Value) -> (Vec<Value>, Vec<Value>) {
    let spec = &hpa["spec"];
    let status = &hpa["status"];
    let mut metrics = arr(&spec["metrics"]).to_vec();
    if metrics.is_empty() {
        let target = opt_int(&spec["targetCPUUtilizationPercentage"]).unwrap_or(80);
        metrics.push(json!({
            "type": "Resource",
            "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": target } },
        }));
    }
    let mut current = arr(&status["currentMetrics"]).to_vec();
    if current.is_empty() {
        if let Some(pct) = opt_int(&status["currentCPUUtilizationPercentage"]) {
            current.push(json!({
                "type": "Resource",
                "resource": { "name": "cpu", "current": { "averageUtilization": pct } },
            }));
        }
    }
    (metrics, current)
}

/// `current/target` of a metric whose target is a value or an average value
/// (External and Object metrics).
fn value_metric(source: &Value, status: Option<&Value>) -> String {
    let target = &source["target"];
    if present(&target["averageValue"]) {
        let current = status
            .map(|st| &st["current"]["averageValue"])
            .filter(|v| present(v))
            .map_or_else(|| "<unknown>".to_string(), quantity::of_pointer);
        format!(
            "{current}/{} (avg)",
            quantity::of_pointer(&target["averageValue"])
        )
    } else {
        let current = status.map_or_else(
            || "<unknown>".to_string(),
            |st| quantity::of_pointer(&st["current"]["value"]),
        );
        format!("{current}/{}", quantity::of_pointer(&target["value"]))
    }
}

/// `name: current/target` of a Resource or ContainerResource metric.
fn resource_metric(source: &Value, status: Option<&Value>) -> String {
    let target = &source["target"];
    let resource = s(&source["name"]);
    if present(&target["averageValue"]) {
        let current = status.map_or_else(
            || "<unknown>".to_string(),
            |st| quantity::of_pointer(&st["current"]["averageValue"]),
        );
        format!(
            "{resource}: {current}/{}",
            quantity::of_pointer(&target["averageValue"])
        )
    } else {
        let current = status
            .and_then(|st| opt_int(&st["current"]["averageUtilization"]))
            .map_or_else(|| "<unknown>".to_string(), |u| format!("{u}%"));
        let goal = opt_int(&target["averageUtilization"])
            .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
        format!("{resource}: {current}/{goal}")
    }
}

/// `formatHPAMetrics`: up to two metrics as `current/target`, then ` + N more...`.
fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 2;
    let mut list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            // The status of the same index, if it has this metric's source.
            let status = |key: &str| statuses.get(i).map(|st| &st[key]).filter(|v| present(v));
            match s(&spec["type"]) {
                "External" => value_metric(&spec["external"], status("external")),
                "Object" => value_metric(&spec["object"], status("object")),
                "Pods" => {
                    let current = status("pods").map_or_else(
                        || "<unknown>".to_string(),
                        |st| quantity::of_pointer(&st["current"]["averageValue"]),
                    );
                    format!(
                        "{current}/{}",
                        quantity::of_pointer(&spec["pods"]["target"]["averageValue"])
                    )
                }
                "Resource" => resource_metric(&spec["resource"], status("resource")),
                "ContainerResource" => {
                    resource_metric(&spec["containerResource"], status("containerResource"))
                }
                _ => "<unknown type>".into(),
            }
        })
        .collect();
    let count = list.len();
    if count > MAX {
        list.truncate(MAX);
        return format!("{} + {} more...", list.join(", "), count - MAX);
    }
    list.join(", ")
}

fn hpa_row(hpa: &Value, now: Timestamp) -> Row {
    let spec = &hpa["spec"];
    let target = &spec["scaleTargetRef"];
    let (metrics, current) = hpa_metrics(hpa);
    // minReplicas defaults to 1 upstream.
    let min_pods = opt_int(&spec["minReplicas"]).unwrap_or(1);
    Row::new(vec![
        name(hpa).into(),
        format!("{}/{}", s(&target["kind"]), s(&target["name"])).into(),
        format_hpa_metrics(&metrics, &current).into(),
        min_pods.to_string().into(),
        int(&spec["maxReplicas"]).into(),
        int(&hpa["status"]["currentReplicas"]).into(),
        age(hpa, now).into(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Endpoint slices and leases

pub(super) static ENDPOINTSLICES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("AddressType", "string", docs::ES_ADDRESS_TYPE),
        Column::new("Ports", "string", docs::ES_PORTS),
        Column::new("Endpoints", "string", docs::ES_ENDPOINTS),
        AGE,
    ],
    row: |slice, now| {
        Row::new(vec![
            name(slice).into(),
            s(&slice["addressType"]).into(),
            slice_ports(arr(&slice["ports"])).into(),
            slice_endpoints(arr(&slice["endpoints"])).into(),
            age(slice, now).into(),
        ])
    },
};

/// `listWithMoreString`: the first three, ` + N more...`, `<unset>` when empty.
fn list_with_more(items: Vec<String>) -> String {
    const MAX: usize = 3;
    let count = items.len();
    let shown = items.into_iter().take(MAX).collect::<Vec<_>>().join(",");
    if count > MAX {
        format!("{shown} + {} more...", count - MAX)
    } else if shown.is_empty() {
        "<unset>".into()
    } else {
        shown
    }
}

/// A port's number, else its name, else `*`.
fn slice_ports(ports: &[Value]) -> String {
    list_with_more(
        ports
            .iter()
            .map(|p| match (opt_int(&p["port"]), p["name"].as_str()) {
                (Some(port), _) => port.to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => "*".to_string(),
            })
            .collect(),
    )
}

fn slice_endpoints(endpoints: &[Value]) -> String {
    list_with_more(
        endpoints
            .iter()
            .flat_map(|e| arr(&e["addresses"]).iter().map(|a| s(a).to_string()))
            .collect(),
    )
}

pub(super) static LEASES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Holder", "string", docs::LEASE_SPEC_HOLDER),
        AGE,
    ],
    row: |lease, now| {
        Row::new(vec![
            name(lease).into(),
            s(&lease["spec"]["holderIdentity"]).into(),
            age(lease, now).into(),
        ])
    },
};

// ---------------------------------------------------------------------------------------------
// Networking

pub(super) static INGRESSES: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Class",
            "string",
            "The name of the IngressClass resource that should be used for additional configuration",
        ),
        Column::new(
            "Hosts",
            "string",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column::new(
            "Address",
            "string",
            "Address is a list containing ingress points for the load-balancer",
        ),
        Column::new("Ports", "string", "Ports of TLS configurations that open"),
        AGE,
    ],
    row: ingress_row,
};

/// `formatHosts`: up to three rule hosts, `*` when no rule names one.
fn ingress_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = s(&rule["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".into();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", rules.len().saturating_sub(MAX))
    } else {
        joined
    }
}

fn ingress_row(ing: &Value, now: Timestamp) -> Row {
    let spec = &ing["spec"];
    let class = spec["ingressClassName"].as_str().unwrap_or("<none>");
    let ports = if arr(&spec["tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    Row::new(vec![
        name(ing).into(),
        class.into(),
        ingress_hosts(arr(&spec["rules"])).into(),
        load_balancer_ingress(&ing["status"]["loadBalancer"]).into(),
        ports.into(),
        age(ing, now).into(),
    ])
}

pub(super) static INGRESSCLASSES: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Controller",
            "string",
            "Controller that is responsible for handling this class",
        ),
        Column::new(
            "Parameters",
            "string",
            "A reference to a resource with additional parameters",
        ),
        AGE,
    ],
    row: |class, now| {
        let params = &class["spec"]["parameters"];
        let parameters = if present(params) {
            let kind = match params["apiGroup"].as_str() {
                Some(group) => format!("{}.{group}", s(&params["kind"])),
                None => s(&params["kind"]).to_string(),
            };
            format!("{kind}/{}", s(&params["name"]))
        } else {
            "<none>".into()
        };
        Row::new(vec![
            name(class).into(),
            s(&class["spec"]["controller"]).into(),
            parameters.into(),
            age(class, now).into(),
        ])
    },
};

pub(super) static NETWORKPOLICIES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Pod-Selector", "string", docs::NETPOL_SPEC_POD_SELECTOR),
        AGE,
    ],
    row: |np, now| {
        Row::new(vec![
            name(np).into(),
            format_label_selector(&np["spec"]["podSelector"]).into(),
            age(np, now).into(),
        ])
    },
};

// ---------------------------------------------------------------------------------------------
// Storage classes

pub(super) static STORAGECLASSES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Provisioner", "string", docs::SC_PROVISIONER),
        Column::new("ReclaimPolicy", "string", docs::SC_RECLAIM_POLICY),
        Column::new("VolumeBindingMode", "string", docs::SC_VOLUME_BINDING_MODE),
        Column::new(
            "AllowVolumeExpansion",
            "string",
            docs::SC_ALLOW_VOLUME_EXPANSION,
        ),
        AGE,
    ],
    row: |sc, now| {
        let annotations = &sc["metadata"]["annotations"];
        let default = s(&annotations["storageclass.kubernetes.io/is-default-class"]) == "true"
            || s(&annotations["storageclass.beta.kubernetes.io/is-default-class"]) == "true";
        let mut shown = name(sc).to_string();
        if default {
            shown.push_str(" (default)");
        }
        Row::new(vec![
            shown.into(),
            s(&sc["provisioner"]).into(),
            sc["reclaimPolicy"].as_str().unwrap_or("Delete").into(),
            sc["volumeBindingMode"]
                .as_str()
                .unwrap_or("Immediate")
                .into(),
            boolean(&sc["allowVolumeExpansion"]).into(),
            age(sc, now).into(),
        ])
    },
};

// ---------------------------------------------------------------------------------------------
// RBAC bindings

pub(super) static ROLEBINDINGS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Role", "string", docs::ROLE_BINDING_ROLE_REF),
        AGE,
        Column::new("Users", "string", "Users in the roleBinding").wide(),
        Column::new("Groups", "string", "Groups in the roleBinding").wide(),
        Column::new(
            "ServiceAccounts",
            "string",
            "ServiceAccounts in the roleBinding",
        )
        .wide(),
    ],
    row: binding_row,
};

pub(super) static CLUSTERROLEBINDINGS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Role", "string", docs::CLUSTER_ROLE_BINDING_ROLE_REF),
        AGE,
        Column::new("Users", "string", "Users in the clusterRoleBinding").wide(),
        Column::new("Groups", "string", "Groups in the clusterRoleBinding").wide(),
        Column::new(
            "ServiceAccounts",
            "string",
            "ServiceAccounts in the clusterRoleBinding",
        )
        .wide(),
    ],
    row: binding_row,
};

/// `Kind/name` of the role, and the subjects by kind (`SubjectsStrings`).
fn binding_row(binding: &Value, now: Timestamp) -> Row {
    let role = &binding["roleRef"];
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in arr(&binding["subjects"]) {
        match s(&subject["kind"]) {
            "ServiceAccount" => service_accounts.push(format!(
                "{}/{}",
                s(&subject["namespace"]),
                s(&subject["name"])
            )),
            "User" => users.push(s(&subject["name"]).to_string()),
            "Group" => groups.push(s(&subject["name"]).to_string()),
            _ => {}
        }
    }
    Row::new(vec![
        name(binding).into(),
        format!("{}/{}", s(&role["kind"]), s(&role["name"])).into(),
        age(binding, now).into(),
        users.join(", ").into(),
        groups.join(", ").into(),
        service_accounts.join(", ").into(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Priority classes and disruption budgets

pub(super) static PRIORITYCLASSES: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Value", "integer", docs::PC_VALUE),
        Column::new("Global-Default", "boolean", docs::PC_GLOBAL_DEFAULT),
        AGE,
        Column::new("PreemptionPolicy", "string", docs::PC_PREEMPTION_POLICY),
    ],
    row: |pc, now| {
        Row::new(vec![
            name(pc).into(),
            int(&pc["value"]).into(),
            boolean(&pc["globalDefault"]).into(),
            age(pc, now).into(),
            pc["preemptionPolicy"]
                .as_str()
                .unwrap_or("PreemptLowerPriority")
                .into(),
        ])
    },
};

pub(super) static PODDISRUPTIONBUDGETS: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Min Available",
            "string",
            "The minimum number of pods that must be available.",
        ),
        Column::new(
            "Max Unavailable",
            "string",
            "The maximum number of pods that may be unavailable.",
        ),
        Column::new(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ],
    row: |pdb, now| {
        let spec = &pdb["spec"];
        let bound = |v: &Value| {
            if present(v) {
                int_or_string(v)
            } else {
                "N/A".into()
            }
        };
        Row::new(vec![
            name(pdb).into(),
            bound(&spec["minAvailable"]).into(),
            bound(&spec["maxUnavailable"]).into(),
            int(&pdb["status"]["disruptionsAllowed"]).into(),
            age(pdb, now).into(),
        ])
    },
};

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use serde_json::json;

    #[test]
    fn horizontal_pod_autoscalers() {
        let hpa = json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": { "name": "web", "creationTimestamp": ago(3600) },
            "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "web" },
                "minReplicas": 2, "maxReplicas": 10,
                "metrics": [
                    { "type": "Resource", "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 60 } } },
                    { "type": "Resource", "resource": { "name": "memory", "target": { "type": "AverageValue", "averageValue": "1024Mi" } } },
                    { "type": "Pods", "pods": { "metric": { "name": "rps" }, "target": { "type": "AverageValue", "averageValue": "100" } } },
                ],
            },
            "status": {
                "currentReplicas": 3, "desiredReplicas": 3,
                "currentMetrics": [
                    { "type": "Resource", "resource": { "name": "cpu", "current": { "averageUtilization": 45, "averageValue": "90m" } } },
                    { "type": "Resource", "resource": { "name": "memory", "current": { "averageValue": "512Mi" } } },
                ],
            },
        });
        let t = table("autoscaling", "horizontalpodautoscalers", &[hpa]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Reference", 0),
                ("Targets", 0),
                ("MinPods", 0),
                ("MaxPods", 0),
                ("Replicas", 0),
                ("Age", 0),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "Deployment/web",
                "cpu: 45%/60%, memory: 512Mi/1Gi + 1 more...",
                "2",
                10,
                3,
                "60m"
            ])
        );
        let fresh = json!({
            "metadata": { "name": "fresh" },
            "spec": { "scaleTargetRef": { "kind": "Deployment", "name": "api" }, "maxReplicas": 5,
                      "metrics": [
                          { "type": "Resource", "resource": { "name": "cpu", "target": { "type": "Utilization" } } },
                          { "type": "External", "external": { "metric": { "name": "queue" }, "target": { "type": "Value", "value": "30" } } },
                      ] },
        });
        let c = cells("autoscaling", "horizontalpodautoscalers", fresh);
        assert_eq!(c[2], "cpu: <unknown>/<auto>, <unknown>/30");
        assert_eq!(c[3], "1");
        let objects = json!({
            "metadata": { "name": "o" },
            "spec": { "maxReplicas": 5, "metrics": [
                { "type": "Object", "object": { "target": { "type": "AverageValue", "averageValue": "2k" } } },
                { "type": "External", "external": { "target": { "type": "Value", "value": "3" } } },
            ] },
            "status": { "currentMetrics": [
                { "type": "Object", "object": { "current": { "averageValue": "1500" } } },
                { "type": "External", "external": { "current": {} } },
            ] },
        });
        assert_eq!(
            cells("autoscaling", "horizontalpodautoscalers", objects)[2],
            "1500/2k (avg), <nil>/3"
        );
        let weird =
            json!({ "metadata": { "name": "w" }, "spec": { "metrics": [{ "type": "Magic" }] } });
        assert_eq!(
            cells("autoscaling", "horizontalpodautoscalers", weird)[2],
            "<unknown type>"
        );
    }

    #[test]
    fn autoscaling_v1_objects() {
        let r = skiff_api::resources::by_group_version_resource(
            "autoscaling",
            "v1",
            "horizontalpodautoscalers",
        )
        .unwrap();
        let hpa = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": { "name": "php", "creationTimestamp": ago(30) },
            "spec": { "scaleTargetRef": { "kind": "Deployment", "name": "php" }, "minReplicas": 1,
                      "maxReplicas": 10, "targetCPUUtilizationPercentage": 50 },
            "status": { "currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 0 },
        });
        let t = super::super::to_table(r, &[hpa], &opts());
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["php", "Deployment/php", "cpu: 0%/50%", "1", 10, 1, "30s"])
        );
        let defaulted = json!({ "metadata": { "name": "d" }, "spec": { "maxReplicas": 3 } });
        let t = super::super::to_table(r, &[defaulted], &opts());
        assert_eq!(t["rows"][0]["cells"][2], "cpu: <unknown>/80%");
    }

    #[test]
    fn endpoint_slices() {
        let slice = json!({
            "metadata": { "name": "web-abc12", "creationTimestamp": ago(45) },
            "addressType": "IPv4",
            "ports": [{ "name": "http", "port": 8080, "protocol": "TCP" }, { "name": "named" }, {}, { "port": 9090 }],
            "endpoints": [
                { "addresses": ["10.42.0.5"], "conditions": { "ready": true } },
                { "addresses": ["10.42.0.6", "10.42.0.7"] },
            ],
        });
        let t = table("discovery.k8s.io", "endpointslices", &[slice]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("AddressType", 0),
                ("Ports", 0),
                ("Endpoints", 0),
                ("Age", 0),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web-abc12",
                "IPv4",
                "8080,named,* + 1 more...",
                "10.42.0.5,10.42.0.6,10.42.0.7",
                "45s"
            ])
        );
        let empty = json!({ "metadata": { "name": "e" }, "addressType": "IPv6" });
        let c = cells("discovery.k8s.io", "endpointslices", empty);
        assert_eq!(c[2..4], [json!("<unset>"), json!("<unset>")]);
    }

    #[test]
    fn leases() {
        let lease = json!({
            "metadata": { "name": "node-1", "namespace": "kube-node-lease", "creationTimestamp": ago(7 * 86400) },
            "spec": { "holderIdentity": "node-1", "leaseDurationSeconds": 40 },
        });
        let t = table("coordination.k8s.io", "leases", &[lease]);
        check_shape(&t, &[("Name", 0), ("Holder", 0), ("Age", 0)]);
        assert_eq!(t["rows"][0]["cells"], json!(["node-1", "node-1", "7d"]));
        assert_eq!(
            cells(
                "coordination.k8s.io",
                "leases",
                json!({ "metadata": { "name": "x" } })
            )[1],
            ""
        );
    }

    #[test]
    fn ingresses() {
        let ing = json!({
            "metadata": { "name": "web", "creationTimestamp": ago(5) },
            "spec": {
                "ingressClassName": "traefik",
                "tls": [{ "hosts": ["a.example.com"], "secretName": "tls" }],
                "rules": [
                    { "host": "a.example.com" }, { "host": "" }, { "host": "b.example.com" },
                    { "host": "c.example.com" }, { "host": "d.example.com" },
                ],
            },
            "status": { "loadBalancer": { "ingress": [{ "ip": "192.168.1.10" }, { "ip": "192.168.1.11" }] } },
        });
        let t = table("networking.k8s.io", "ingresses", &[ing]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Class", 0),
                ("Hosts", 0),
                ("Address", 0),
                ("Ports", 0),
                ("Age", 0),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "traefik",
                "a.example.com,b.example.com,c.example.com + 2 more...",
                "192.168.1.10,192.168.1.11",
                "80, 443",
                "5s"
            ])
        );
        let plain = json!({ "metadata": { "name": "p" }, "spec": { "defaultBackend": {} } });
        let c = cells("networking.k8s.io", "ingresses", plain);
        assert_eq!(
            c[1..5],
            [json!("<none>"), json!("*"), json!(""), json!("80")]
        );
    }

    #[test]
    fn ingress_classes_and_network_policies() {
        let class = json!({
            "metadata": { "name": "traefik", "creationTimestamp": ago(10) },
            "spec": { "controller": "traefik.io/ingress-controller",
                      "parameters": { "apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb" } },
        });
        let t = table("networking.k8s.io", "ingressclasses", &[class]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Controller", 0),
                ("Parameters", 0),
                ("Age", 0),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "traefik",
                "traefik.io/ingress-controller",
                "IngressParameters.k8s.example.com/external-lb",
                "10s"
            ])
        );
        let core_params = json!({ "metadata": { "name": "c" }, "spec": { "parameters": { "kind": "ConfigMap", "name": "cfg" } } });
        assert_eq!(
            cells("networking.k8s.io", "ingressclasses", core_params)[2],
            "ConfigMap/cfg"
        );
        let none = json!({ "metadata": { "name": "n" }, "spec": { "controller": "x" } });
        assert_eq!(
            cells("networking.k8s.io", "ingressclasses", none)[2],
            "<none>"
        );

        let np = json!({
            "metadata": { "name": "deny", "creationTimestamp": ago(10) },
            "spec": { "podSelector": { "matchLabels": { "role": "db" } }, "policyTypes": ["Ingress"] },
        });
        let t = table("networking.k8s.io", "networkpolicies", &[np]);
        check_shape(&t, &[("Name", 0), ("Pod-Selector", 0), ("Age", 0)]);
        assert_eq!(t["rows"][0]["cells"], json!(["deny", "role=db", "10s"]));
        let all = json!({ "metadata": { "name": "all" }, "spec": { "podSelector": {} } });
        assert_eq!(
            cells("networking.k8s.io", "networkpolicies", all)[1],
            "<none>"
        );
    }

    #[test]
    fn storage_classes() {
        let sc = json!({
            "metadata": { "name": "local-path", "creationTimestamp": ago(86400),
                          "annotations": { "storageclass.kubernetes.io/is-default-class": "true" } },
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
        });
        let t = table("storage.k8s.io", "storageclasses", &[sc]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Provisioner", 0),
                ("ReclaimPolicy", 0),
                ("VolumeBindingMode", 0),
                ("AllowVolumeExpansion", 0),
                ("Age", 0),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "local-path (default)",
                "rancher.io/local-path",
                "Delete",
                "WaitForFirstConsumer",
                true,
                "24h"
            ])
        );
        let bare = json!({ "metadata": { "name": "slow",
            "annotations": { "storageclass.beta.kubernetes.io/is-default-class": "false" } }, "provisioner": "x" });
        let c = cells("storage.k8s.io", "storageclasses", bare);
        assert_eq!(
            c[..5],
            [
                json!("slow"),
                json!("x"),
                json!("Delete"),
                json!("Immediate"),
                json!(false)
            ]
        );
    }

    #[test]
    fn role_bindings() {
        let rb = json!({
            "metadata": { "name": "admins", "namespace": "default", "creationTimestamp": ago(300) },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin" },
            "subjects": [
                { "kind": "User", "name": "alice" },
                { "kind": "Group", "name": "ops" },
                { "kind": "ServiceAccount", "name": "ci", "namespace": "tools" },
                { "kind": "User", "name": "bob" },
                { "kind": "Robot", "name": "r2" },
            ],
        });
        let t = table(
            "rbac.authorization.k8s.io",
            "rolebindings",
            std::slice::from_ref(&rb),
        );
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Role", 0),
                ("Age", 0),
                ("Users", 1),
                ("Groups", 1),
                ("ServiceAccounts", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "admins",
                "ClusterRole/admin",
                "5m",
                "alice, bob",
                "ops",
                "tools/ci"
            ])
        );
        let t = table("rbac.authorization.k8s.io", "clusterrolebindings", &[rb]);
        assert_eq!(
            t["columnDefinitions"][3]["description"],
            "Users in the clusterRoleBinding"
        );
        assert_eq!(t["rows"][0]["cells"][1], "ClusterRole/admin");
    }

    #[test]
    fn priority_classes_and_pdbs() {
        let pc = json!({
            "metadata": { "name": "system-cluster-critical", "creationTimestamp": ago(86400 * 400) },
            "value": 2000000000, "globalDefault": false, "description": "critical",
        });
        let t = table("scheduling.k8s.io", "priorityclasses", &[pc]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Value", 0),
                ("Global-Default", 0),
                ("Age", 0),
                ("PreemptionPolicy", 0),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "system-cluster-critical",
                2000000000,
                false,
                "400d",
                "PreemptLowerPriority"
            ])
        );

        let pdb = json!({
            "metadata": { "name": "web", "creationTimestamp": ago(30) },
            "spec": { "minAvailable": 2, "selector": { "matchLabels": { "app": "web" } } },
            "status": { "disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2 },
        });
        let t = table("policy", "poddisruptionbudgets", &[pdb]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Min Available", 0),
                ("Max Unavailable", 0),
                ("Allowed Disruptions", 0),
                ("Age", 0),
            ],
        );
        assert_eq!(t["rows"][0]["cells"], json!(["web", "2", "N/A", 1, "30s"]));
        let pct = json!({ "metadata": { "name": "p" }, "spec": { "maxUnavailable": "25%" } });
        let c = cells("policy", "poddisruptionbudgets", pct);
        assert_eq!(c[1..4], [json!("N/A"), json!("25%"), json!(0)]);
    }
}
