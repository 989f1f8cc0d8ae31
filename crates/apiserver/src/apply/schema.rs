//! The schema facts server-side apply needs, behind the [`ListKeys`] trait: how each list
//! merges (atomic, set, or map keyed by some fields), which maps and structs are atomic, the
//! default of a missing key field, and which fields Go always serialises. The built-in
//! [`BuiltinListKeys`] answers from a table of path suffixes taken from the Kubernetes types'
//! `listType` / `listMapKey` / `mapType` / `structType` markers; a table driven by the OpenAPI
//! documents can replace it.
//!
//! Paths are the field names from the object root; list items add no element, so the fields
//! of a container are at `["spec", "containers", "image"]` and the question "is an item of
//! this list an atomic map" is asked with the list's own path.

use serde_json::{json, Value};

/// How a list merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole (`x-kubernetes-list-type: atomic`, and every list without a
    /// marker).
    Atomic,
    /// A set of scalars, each owned separately (`x-kubernetes-list-type: set`).
    Set,
    /// Items keyed by these fields (`x-kubernetes-list-type: map`).
    Map(Vec<String>),
}

/// Schema facts, asked for an object of OpenAPI type `schema_name` (e.g.
/// `io.k8s.api.apps.v1.Deployment`) at `path` (field names from the root).
pub trait ListKeys {
    /// How the list at `path` merges.
    fn list_type(&self, schema_name: &str, path: &[&str]) -> ListType;

    /// Whether the map or struct at `path` (for a list, its items) is atomic
    /// (`x-kubernetes-map-type: atomic`, `structType=atomic`).
    fn map_is_atomic(&self, schema_name: &str, path: &[&str]) -> bool {
        let _ = (schema_name, path);
        false
    }

    /// The default of key field `key` of the keyed list at `path`, used when an item omits
    /// it (`protocol` of ports is `"TCP"`).
    fn key_default(&self, schema_name: &str, path: &[&str], key: &str) -> Option<Value> {
        let _ = (schema_name, path, key);
        None
    }

    /// Whether Go always serialises the field at `path` when its parent exists (a struct
    /// embedded by value, such as `spec`, `metadata`, `template`, or a list without
    /// `omitempty`, such as `containers`). Such a field never counts as added when an update
    /// fills it in, which is why upstream records `f:spec` without a `.` entry.
    fn always_present(&self, schema_name: &str, path: &[&str]) -> bool {
        let _ = schema_name;
        always_present_default(path)
    }
}

/// The usual always-present fields of the built-in types.
pub fn always_present_default(path: &[&str]) -> bool {
    let Some(last) = path.last() else {
        return false;
    };
    match *last {
        "metadata" | "spec" | "status" => true,
        "template" => path.len() == 2 && path[0] == "spec",
        "jobTemplate" => path == ["spec", "jobTemplate"],
        "strategy" | "updateStrategy" => path.len() == 2 && path[0] == "spec",
        "containers" => path.ends_with(&["spec", "containers"]),
        "resources" => path.len() >= 2 && is_container_list(path[path.len() - 2]),
        _ => false,
    }
}

fn is_container_list(name: &str) -> bool {
    matches!(
        name,
        "containers" | "initContainers" | "ephemeralContainers"
    )
}

/// Merge rules for the common Kubernetes fields, matched by path suffix.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinListKeys;

fn keys(names: &[&str]) -> ListType {
    ListType::Map(names.iter().map(|s| s.to_string()).collect())
}

/// `path` ends with `suffix`, where `*` in the suffix matches any container list name.
fn ends_with(path: &[&str], suffix: &[&str]) -> bool {
    if path.len() < suffix.len() {
        return false;
    }
    let tail = &path[path.len() - suffix.len()..];
    tail.iter().zip(suffix.iter()).all(|(p, s)| {
        if *s == "*" {
            is_container_list(p)
        } else {
            p == s
        }
    })
}

impl ListKeys for BuiltinListKeys {
    fn list_type(&self, schema_name: &str, path: &[&str]) -> ListType {
        // Lists inside a pod spec, wherever it is embedded.
        if ends_with(path, &["spec", "*"]) {
            return keys(&["name"]);
        }
        if ends_with(path, &["*", "ports"]) {
            return keys(&["containerPort", "protocol"]);
        }
        if ends_with(path, &["*", "env"]) {
            return keys(&["name"]);
        }
        if ends_with(path, &["*", "volumeMounts"]) {
            return keys(&["mountPath"]);
        }
        if ends_with(path, &["*", "volumeDevices"]) {
            return keys(&["devicePath"]);
        }
        if ends_with(path, &["*", "resources", "claims"])
            || ends_with(path, &["resources", "claims"])
        {
            return keys(&["name"]);
        }
        if ends_with(path, &["status", "conditions"]) {
            // Job conditions are the one atomic list of conditions.
            if schema_name == "io.k8s.api.batch.v1.Job" {
                return ListType::Atomic;
            }
            return keys(&["type"]);
        }
        if path == ["metadata", "finalizers"] || ends_with(path, &["metadata", "finalizers"]) {
            return ListType::Set;
        }
        if ends_with(path, &["metadata", "ownerReferences"]) {
            return keys(&["uid"]);
        }
        match path {
            // Service
            ["spec", "ports"] => return keys(&["port", "protocol"]),
            // Node
            ["spec", "podCIDRs"] => return ListType::Set,
            ["status", "addresses"] => return keys(&["type"]),
            // Pod status
            ["status", "podIPs"] => return keys(&["ip"]),
            ["status", "resourceClaimStatuses"] => return keys(&["name"]),
            // ServiceAccount
            ["secrets"] => return keys(&["name"]),
            // Webhook configurations
            ["webhooks"] => return keys(&["name"]),
            ["webhooks", "matchConditions"] | ["spec", "matchConditions"] => {
                return keys(&["name"])
            }
            // Job
            ["status", "uncountedTerminatedPods", "failed" | "succeeded"] => return ListType::Set,
            // CSIDriver / CSINode
            ["spec", "volumeLifecycleModes"] => return ListType::Set,
            ["spec", "drivers"] => return keys(&["name"]),
            _ => {}
        }
        // Pod spec lists (a pod's `spec`, a template's `spec`).
        if path.len() >= 2 && path[path.len() - 2] == "spec" {
            match path[path.len() - 1] {
                "volumes" | "resourceClaims" | "schedulingGates" | "imagePullSecrets" => {
                    return keys(&["name"])
                }
                "hostAliases" => return keys(&["ip"]),
                "topologySpreadConstraints" => return keys(&["topologyKey", "whenUnsatisfiable"]),
                _ => {}
            }
        }
        ListType::Atomic
    }

    fn map_is_atomic(&self, schema_name: &str, path: &[&str]) -> bool {
        let Some(last) = path.last() else {
            return false;
        };
        match *last {
            // Label selectors (struct atomic), and the map selectors of services and
            // replication controllers, node selectors.
            "selector" | "labelSelector" | "namespaceSelector" | "podSelector"
            | "objectSelector" | "nodeSelector" | "nodeTopology" | "scopeSelector" => true,
            // Node affinity terms.
            "requiredDuringSchedulingIgnoredDuringExecution" => {
                path.len() >= 2 && path[path.len() - 2] == "nodeAffinity"
            }
            "preference" | "required" => true,
            // Key selectors of env and downward API.
            "configMapKeyRef" | "secretKeyRef" | "fieldRef" | "resourceFieldRef" | "fileKeyRef" => {
                true
            }
            // Object references.
            "secretRef"
            | "nodePublishSecretRef"
            | "nodeStageSecretRef"
            | "nodeExpandSecretRef"
            | "controllerPublishSecretRef"
            | "controllerExpandSecretRef"
            | "claimRef"
            | "dataSource"
            | "involvedObject"
            | "regarding"
            | "related"
            | "roleRef"
            | "scaleTargetRef"
            | "targetRef"
            | "paramKind"
            | "paramRef"
            | "matchConstraints"
            | "matchResources" => true,
            // Items of owner references and pod image pull secrets.
            "ownerReferences" => true,
            "imagePullSecrets" => path.len() >= 2 && path[path.len() - 2] == "spec",
            // Ingress backends.
            "resource" => path.len() >= 2 && path[path.len() - 2].ends_with("ackend"),
            "port" => path.len() >= 2 && path[path.len() - 2] == "service",
            "data" => schema_name == "io.k8s.api.apps.v1.ControllerRevision" && path.len() == 1,
            _ => false,
        }
    }

    fn key_default(&self, _schema_name: &str, path: &[&str], key: &str) -> Option<Value> {
        match key {
            "protocol" if path.last() == Some(&"ports") => Some(json!("TCP")),
            _ => None,
        }
    }
}

/// The OpenAPI definition name of a built-in kind (`apps/v1` `Deployment` ->
/// `io.k8s.api.apps.v1.Deployment`); for other groups the reversed group
/// (`example.com/v1` `Foo` -> `com.example.v1.Foo`), as CRD schemas are named.
pub fn schema_name_for(api_version: &str, kind: &str) -> String {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let package = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        "apiregistration.k8s.io" => "io.k8s.kube-aggregator.pkg.apis.apiregistration".into(),
        "rbac.authorization.k8s.io" => "io.k8s.api.rbac".into(),
        "flowcontrol.apiserver.k8s.io" => "io.k8s.api.flowcontrol".into(),
        "internal.apiserver.k8s.io" => "io.k8s.api.apiserverinternal".into(),
        g if g.ends_with(".k8s.io") => {
            let first = g.split('.').next().unwrap_or(g);
            format!("io.k8s.api.{first}")
        }
        "apps" | "batch" | "autoscaling" | "policy" => format!("io.k8s.api.{group}"),
        g => g.split('.').rev().collect::<Vec<_>>().join("."),
    };
    format!("{package}.{version}.{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "io.k8s.api.apps.v1.Deployment";

    #[test]
    fn pod_template_lists() {
        let k = BuiltinListKeys;
        let base = ["spec", "template", "spec"];
        let at = |rest: &[&'static str]| -> Vec<&'static str> {
            base.iter().chain(rest.iter()).copied().collect()
        };
        assert_eq!(k.list_type(D, &at(&["containers"])), keys(&["name"]));
        assert_eq!(k.list_type(D, &at(&["initContainers"])), keys(&["name"]));
        assert_eq!(
            k.list_type(D, &at(&["containers", "ports"])),
            keys(&["containerPort", "protocol"])
        );
        assert_eq!(k.list_type(D, &at(&["containers", "env"])), keys(&["name"]));
        assert_eq!(
            k.list_type(D, &at(&["containers", "volumeMounts"])),
            keys(&["mountPath"])
        );
        assert_eq!(
            k.list_type(D, &at(&["containers", "args"])),
            ListType::Atomic
        );
        assert_eq!(
            k.list_type(D, &at(&["containers", "command"])),
            ListType::Atomic
        );
        assert_eq!(k.list_type(D, &at(&["tolerations"])), ListType::Atomic);
        assert_eq!(k.list_type(D, &at(&["volumes"])), keys(&["name"]));
        assert_eq!(k.list_type(D, &at(&["imagePullSecrets"])), keys(&["name"]));
        assert!(k.map_is_atomic(D, &at(&["imagePullSecrets"])));
        assert_eq!(k.list_type(D, &["metadata", "finalizers"]), ListType::Set);
        assert_eq!(
            k.list_type(D, &["metadata", "ownerReferences"]),
            keys(&["uid"])
        );
        assert!(k.map_is_atomic(D, &["metadata", "ownerReferences"]));
        assert_eq!(k.list_type(D, &["status", "conditions"]), keys(&["type"]));
        assert_eq!(
            k.list_type("io.k8s.api.batch.v1.Job", &["status", "conditions"]),
            ListType::Atomic
        );
        assert!(k.map_is_atomic(D, &["spec", "selector"]));
        assert!(!k.map_is_atomic(D, &["spec", "strategy"]));
        assert_eq!(
            k.key_default(D, &at(&["containers", "ports"]), "protocol"),
            Some(json!("TCP"))
        );
    }

    #[test]
    fn service_and_others() {
        let k = BuiltinListKeys;
        let s = "io.k8s.api.core.v1.Service";
        assert_eq!(
            k.list_type(s, &["spec", "ports"]),
            keys(&["port", "protocol"])
        );
        assert!(k.map_is_atomic(s, &["spec", "selector"]));
        assert_eq!(k.list_type(s, &["spec", "clusterIPs"]), ListType::Atomic);
        let sa = "io.k8s.api.core.v1.ServiceAccount";
        assert_eq!(k.list_type(sa, &["imagePullSecrets"]), ListType::Atomic);
        assert_eq!(k.list_type(sa, &["secrets"]), keys(&["name"]));
        let es = "io.k8s.api.discovery.v1.EndpointSlice";
        assert_eq!(k.list_type(es, &["ports"]), ListType::Atomic);
        let cm = "io.k8s.api.core.v1.ConfigMap";
        assert!(!k.map_is_atomic(cm, &["data"]));
    }

    #[test]
    fn schema_names() {
        assert_eq!(schema_name_for("apps/v1", "Deployment"), D);
        assert_eq!(schema_name_for("v1", "Pod"), "io.k8s.api.core.v1.Pod");
        assert_eq!(
            schema_name_for("rbac.authorization.k8s.io/v1", "Role"),
            "io.k8s.api.rbac.v1.Role"
        );
        assert_eq!(
            schema_name_for("networking.k8s.io/v1", "Ingress"),
            "io.k8s.api.networking.v1.Ingress"
        );
        assert_eq!(
            schema_name_for("example.com/v1", "Foo"),
            "com.example.v1.Foo"
        );
    }

    #[test]
    fn always_present_fields() {
        assert!(always_present_default(&["spec"]));
        assert!(always_present_default(&["spec", "template", "metadata"]));
        assert!(always_present_default(&[
            "spec",
            "template",
            "spec",
            "containers"
        ]));
        assert!(always_present_default(&["spec", "strategy"]));
        assert!(!always_present_default(&[
            "spec",
            "strategy",
            "rollingUpdate"
        ]));
        assert!(!always_present_default(&["metadata", "labels"]));
    }
}
