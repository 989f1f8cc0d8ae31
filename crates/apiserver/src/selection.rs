//! Which objects a list or watch selects: an object's labels, and the flat field set each
//! kind exposes to field selectors (upstream's per-kind `GetAttrs` / field label conversion:
//! `metadata.name` and `metadata.namespace` everywhere, `spec.nodeName` and `status.phase`
//! on pods, `involvedObject.*` on events, ...). Pure.

use std::collections::BTreeMap;

use serde_json::Value;
use skiff_api::fields::FieldSelector;
use skiff_api::labels::LabelSelector;
use skiff_api::Resource;

use crate::status::ApiError;

/// The fields a kind supports in field selectors, beyond metadata.name / metadata.namespace,
/// as (selector field, JSON path) pairs.
fn kind_fields(resource: &Resource) -> &'static [(&'static str, &'static [&'static str])] {
    match (resource.group, resource.plural) {
        ("", "pods") => &[
            ("spec.nodeName", &["spec", "nodeName"]),
            ("spec.restartPolicy", &["spec", "restartPolicy"]),
            ("spec.schedulerName", &["spec", "schedulerName"]),
            ("spec.serviceAccountName", &["spec", "serviceAccountName"]),
            ("spec.hostNetwork", &["spec", "hostNetwork"]),
            ("status.phase", &["status", "phase"]),
            ("status.podIP", &["status", "podIP"]),
            ("status.nominatedNodeName", &["status", "nominatedNodeName"]),
        ],
        ("", "nodes") => &[("spec.unschedulable", &["spec", "unschedulable"])],
        ("", "namespaces") => &[("status.phase", &["status", "phase"])],
        ("", "secrets") => &[("type", &["type"])],
        ("", "services") => &[
            ("spec.clusterIP", &["spec", "clusterIP"]),
            ("spec.type", &["spec", "type"]),
        ],
        ("", "replicationcontrollers") | ("apps", "replicasets") => {
            &[("status.replicas", &["status", "replicas"])]
        }
        ("batch", "jobs") => &[("status.successful", &["status", "succeeded"])],
        ("", "persistentvolumes") => &[("name", &["metadata", "name"])],
        ("", "persistentvolumeclaims") => &[("name", &["metadata", "name"])],
        ("", "events") | ("events.k8s.io", "events") => &[
            ("involvedObject.kind", &["involvedObject", "kind"]),
            ("involvedObject.namespace", &["involvedObject", "namespace"]),
            ("involvedObject.name", &["involvedObject", "name"]),
            ("involvedObject.uid", &["involvedObject", "uid"]),
            (
                "involvedObject.apiVersion",
                &["involvedObject", "apiVersion"],
            ),
            (
                "involvedObject.resourceVersion",
                &["involvedObject", "resourceVersion"],
            ),
            ("involvedObject.fieldPath", &["involvedObject", "fieldPath"]),
            ("reason", &["reason"]),
            ("reportingComponent", &["reportingComponent"]),
            ("source", &["source", "component"]),
            ("type", &["type"]),
        ],
        _ => &[],
    }
}

/// Checks a field selector against what the kind supports (400 with upstream's message).
pub fn check_field_selector(resource: &Resource, selector: &FieldSelector) -> Result<(), ApiError> {
    if selector.is_everything() {
        return Ok(());
    }
    let extra = kind_fields(resource);
    for r in selector.requirements() {
        let f = r.field.as_str();
        if f == "metadata.name" || f == "metadata.namespace" || extra.iter().any(|(n, _)| *n == f) {
            continue;
        }
        return Err(ApiError::BadRequest(format!(
            "field label not supported: {f}"
        )));
    }
    Ok(())
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The field set of an object for its kind.
pub fn fields_of(resource: &Resource, obj: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let meta = &obj["metadata"];
    out.insert("metadata.name".into(), scalar_text(&meta["name"]));
    if resource.namespaced {
        out.insert("metadata.namespace".into(), scalar_text(&meta["namespace"]));
    }
    for (field, path) in kind_fields(resource) {
        let mut v = obj;
        for p in *path {
            v = &v[*p];
        }
        let text = match (v, *field) {
            // Unset booleans read as "false" (Go zero values).
            (Value::Null, "spec.hostNetwork" | "spec.unschedulable") => "false".into(),
            (Value::Null, "status.replicas" | "status.successful") => "0".into(),
            _ => scalar_text(v),
        };
        out.insert((*field).into(), text);
    }
    out
}

/// An object's labels.
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// A label and field selector pair.
#[derive(Debug, Clone)]
pub struct Selection {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selection {
    pub fn everything() -> Self {
        Selection {
            labels: LabelSelector::everything(),
            fields: FieldSelector::everything(),
        }
    }

    pub fn is_everything(&self) -> bool {
        self.labels.is_everything() && self.fields.is_everything()
    }

    pub fn matches(&self, resource: &Resource, obj: &Value) -> bool {
        (self.labels.is_everything() || self.labels.matches(&labels_of(obj)))
            && (self.fields.is_everything() || self.fields.matches(&fields_of(resource, obj)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use skiff_api::resources::by_group_version_resource;

    #[test]
    fn pods_by_node_and_phase() {
        let pods = by_group_version_resource("", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "web"}},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let sel = Selection {
            labels: LabelSelector::parse("app in (web,db)").unwrap(),
            fields: FieldSelector::parse("spec.nodeName=n1,status.phase!=Pending").unwrap(),
        };
        check_field_selector(pods, &sel.fields).unwrap();
        assert!(sel.matches(pods, &pod));
        let unscheduled = FieldSelector::parse("spec.nodeName=").unwrap();
        assert!(!Selection {
            labels: LabelSelector::everything(),
            fields: unscheduled
        }
        .matches(pods, &pod));
        let bad = FieldSelector::parse("spec.foo=1").unwrap();
        assert_eq!(
            check_field_selector(pods, &bad).unwrap_err().to_string(),
            "field label not supported: spec.foo"
        );
    }
}
