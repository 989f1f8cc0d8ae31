//! Defaulting of the remaining groups: autoscaling (HorizontalPodAutoscaler v2 and v1),
//! scheduling.k8s.io (PriorityClass), storage.k8s.io (StorageClass), networking.k8s.io
//! (IngressClass, NetworkPolicy), discovery.k8s.io (EndpointSlice) and
//! rbac.authorization.k8s.io (bindings' API groups).

use serde_json::{json, Value};

use super::value::{self as v, default_field, default_ptr, get_obj_mut};

fn scale_rules(rules: &mut Value, up: bool) {
    let Some(m) = rules.as_object_mut() else {
        return;
    };
    if up {
        default_ptr(m, "stabilizationWindowSeconds", json!(0));
    } else {
        default_ptr(m, "stabilizationWindowSeconds", json!(300));
    }
    default_ptr(m, "selectPolicy", json!("Max"));
    let empty = m
        .get("policies")
        .and_then(Value::as_array)
        .is_none_or(|p| p.is_empty());
    if empty {
        let policies = if up {
            json!([
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}
            ])
        } else {
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}])
        };
        m.insert("policies".into(), policies);
    }
}

/// `SetDefaults_HorizontalPodAutoscaler` of autoscaling/v2 (and of v1 for `version` "v1").
pub(crate) fn hpa(obj: &mut Value, version: &str) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    if let Some(m) = spec.as_object_mut() {
        default_ptr(m, "minReplicas", json!(1));
        if version == "v1" {
            return;
        }
        let no_metrics = m
            .get("metrics")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty());
        if no_metrics {
            m.insert(
                "metrics".into(),
                json!([{
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
                }]),
            );
        }
    }
    if let Some(b) = get_obj_mut(spec, "behavior") {
        for (dir, up) in [("scaleUp", true), ("scaleDown", false)] {
            if let Some(r) = v::ensure_path(b, &[dir]) {
                scale_rules(r, up);
            }
        }
    }
}

/// `SetDefaults_PriorityClass`.
pub(crate) fn priority_class(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        default_ptr(m, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
}

/// `SetDefaults_StorageClass`.
pub(crate) fn storage_class(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        default_ptr(m, "reclaimPolicy", json!("Delete"));
        default_ptr(m, "volumeBindingMode", json!("Immediate"));
    }
}

/// `SetDefaults_IngressClass`.
pub(crate) fn ingress_class(obj: &mut Value) {
    if let Some(p) = v::at(obj, &["spec", "parameters"]).filter(|p| p.is_object()) {
        let _ = p;
        if let Some(p) = v::ensure_path(obj, &["spec", "parameters"]).and_then(Value::as_object_mut)
        {
            default_ptr(p, "scope", json!("Cluster"));
        }
    }
}

/// `SetDefaults_NetworkPolicy` and the port protocols.
pub(crate) fn network_policy(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    for dir in ["ingress", "egress"] {
        v::each_obj_mut(spec, dir, |rule| {
            v::each_obj_mut(rule, "ports", |p| {
                if let Some(m) = p.as_object_mut() {
                    default_ptr(m, "protocol", json!("TCP"));
                }
            })
        });
    }
    let has_egress = !v::arr(spec, &["egress"]).is_empty();
    if let Some(m) = spec.as_object_mut() {
        let empty = m
            .get("policyTypes")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty());
        if empty {
            let types = if has_egress {
                json!(["Ingress", "Egress"])
            } else {
                json!(["Ingress"])
            };
            m.insert("policyTypes".into(), types);
        }
    }
}

/// `SetDefaults_EndpointPort`.
pub(crate) fn endpoint_slice(obj: &mut Value) {
    v::each_obj_mut(obj, "ports", |p| {
        if let Some(m) = p.as_object_mut() {
            default_ptr(m, "name", json!(""));
            default_ptr(m, "protocol", json!("TCP"));
        }
    });
}

/// `SetDefaults_RoleBinding` / `SetDefaults_ClusterRoleBinding` / `SetDefaults_Subject`.
pub(crate) fn role_binding(obj: &mut Value) {
    if let Some(rr) = get_obj_mut(obj, "roleRef").and_then(Value::as_object_mut) {
        default_field(rr, "apiGroup", json!("rbac.authorization.k8s.io"));
    }
    v::each_obj_mut(obj, "subjects", |s| {
        let kind = v::s(s, &["kind"]).to_string();
        if let Some(m) = s.as_object_mut() {
            if kind == "User" || kind == "Group" {
                default_field(m, "apiGroup", json!("rbac.authorization.k8s.io"));
            }
        }
    });
}
