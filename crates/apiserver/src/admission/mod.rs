//! Admission: what upstream's apiserver does to an object between decoding a write and
//! storing it, kind by kind, on plain JSON values (as clients send them, so partial or
//! malformed objects never panic):
//!
//! 1. [`default`]: the defaults the decoder applies (`pkg/apis/*/v1/defaults.go` and the
//!    generated defaulters), quantities in canonical form.
//! 2. [`prepare_for_create`] / [`prepare_for_update`]: the registry strategies (status
//!    reset or kept, `metadata.generation`, Pod phase and QoS class, Job selector, ...) and,
//!    on create, the mutating admission plugins for pods (ServiceAccount, Priority,
//!    DefaultTolerationSeconds).
//! 3. [`validate_create`] / [`validate_update`]: upstream's validation with its causes
//!    (`FieldValueRequired`, `FieldValueInvalid`, ...), field paths and messages.
//!
//! [`check_decodable`] reports what upstream's decoder itself rejects with 400 BadRequest
//! (malformed quantities, bad base64 in Secret / ConfigMap binary data).
//!
//! The expected order on create is `default`, `prepare_for_create`, `validate_create`; on
//! update `default`, `prepare_for_update`, `validate_update`.

mod default_tolerations;
mod defaults_core;
mod defaults_other;
mod defaults_workloads;
mod field;
mod quantity;
mod strategy;
mod validation;
mod value;

use base64::Engine;
use serde_json::Value;
use skiff_api::Resource;

pub use default_tolerations::TolerationDefaults;

use crate::status::Cause;

/// Applies upstream's defaults for the kind of `resource` to `obj` (idempotent).
pub fn default(resource: &Resource, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    drop_empty_metadata(obj);
    match (resource.group, resource.kind) {
        ("", "Pod") => defaults_core::pod(obj),
        ("", "Service") => defaults_core::service(obj),
        ("", "Namespace") => defaults_core::namespace(obj),
        ("", "Secret") => defaults_core::secret(obj),
        ("", "PersistentVolumeClaim") => defaults_core::pvc(obj),
        ("", "PersistentVolume") => defaults_core::pv(obj),
        ("", "Endpoints") => defaults_core::endpoints(obj),
        ("", "Node") => defaults_core::node(obj),
        ("", "ReplicationController") => defaults_core::replication_controller(obj),
        ("", "LimitRange") => defaults_core::limit_range(obj),
        ("", "ResourceQuota") => defaults_core::resource_quota(obj),
        ("apps", "Deployment") => defaults_workloads::deployment(obj),
        ("apps", "ReplicaSet") => defaults_workloads::replica_set(obj),
        ("apps", "StatefulSet") => defaults_workloads::stateful_set(obj),
        ("apps", "DaemonSet") => defaults_workloads::daemon_set(obj),
        ("batch", "Job") => defaults_workloads::job(obj),
        ("batch", "CronJob") => defaults_workloads::cron_job(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => defaults_other::hpa(obj, resource.version),
        ("scheduling.k8s.io", "PriorityClass") => defaults_other::priority_class(obj),
        ("storage.k8s.io", "StorageClass") => defaults_other::storage_class(obj),
        ("networking.k8s.io", "IngressClass") => defaults_other::ingress_class(obj),
        ("networking.k8s.io", "NetworkPolicy") => defaults_other::network_policy(obj),
        ("discovery.k8s.io", "EndpointSlice") => defaults_other::endpoint_slice(obj),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            defaults_other::role_binding(obj)
        }
        _ => {}
    }
}

/// Empty `labels`, `annotations`, `ownerReferences` and `finalizers` are dropped, as Go's
/// `omitempty` drops them when upstream stores an object (so `-o jsonpath` of a cleared
/// list prints nothing, not `[]`). `managedFields: []` is kept: on a write it means
/// "clear the managed fields".
fn drop_empty_metadata(obj: &mut Value) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for field in ["labels", "annotations", "ownerReferences", "finalizers"] {
        let empty = match meta.get(field) {
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Null) => true,
            _ => false,
        };
        if empty {
            meta.remove(field);
        }
    }
}

/// Upstream's `PrepareForCreate` for the kind, plus the create-only pod admission plugins.
/// `metadata.name` and `metadata.uid` must already be set. Sets `metadata.generation` to 1
/// for kinds that track it and removes it for the others.
pub fn prepare_for_create(resource: &Resource, obj: &mut Value) {
    strategy::prepare_for_create(resource, obj, &TolerationDefaults::default());
}

/// [`prepare_for_create`] with the server's DefaultTolerationSeconds settings.
pub fn prepare_for_create_with(
    resource: &Resource,
    obj: &mut Value,
    tolerations: &TolerationDefaults,
) {
    strategy::prepare_for_create(resource, obj, tolerations);
}

/// Upstream's `PrepareForUpdate` of the main resource (`subresource` None) or of a
/// subresource (`status`, `finalize`): keeps what the request may not change (status on a
/// main update, spec on a status update, ...) and sets `metadata.generation` (bumped when the
/// spec changed, for kinds that track it; kept otherwise).
pub fn prepare_for_update(
    resource: &Resource,
    old: &Value,
    new: &mut Value,
    subresource: Option<&str>,
) {
    strategy::prepare_for_update(resource, old, new, subresource);
}

/// Validation of a new object; empty when it is valid.
pub fn validate_create(resource: &Resource, obj: &Value) -> Vec<Cause> {
    validation::create(resource, obj)
}

/// Validation of an update of the main resource; empty when it is valid.
pub fn validate_update(resource: &Resource, old: &Value, new: &Value) -> Vec<Cause> {
    validation::update(resource, old, new, None)
}

/// Validation of an update through a subresource (`status`, `finalize`, ...).
pub fn validate_update_subresource(
    resource: &Resource,
    old: &Value,
    new: &Value,
    subresource: Option<&str>,
) -> Vec<Cause> {
    validation::update(resource, old, new, subresource)
}

fn quantity_problem(v: &Value) -> Option<&'static str> {
    match v {
        Value::Null => None,
        other => quantity::Quantity::from_json(other).err(),
    }
}

fn resource_lists<'a>(obj: &'a Value, out: &mut Vec<&'a Value>) {
    match obj {
        Value::Object(m) => {
            for (k, x) in m {
                let is_list = matches!(
                    k.as_str(),
                    "limits"
                        | "requests"
                        | "capacity"
                        | "allocatable"
                        | "hard"
                        | "used"
                        | "overhead"
                        | "max"
                        | "min"
                        | "default"
                        | "defaultRequest"
                        | "maxLimitRequestRatio"
                );
                match x {
                    Value::Object(items) if is_list => out.extend(items.values()),
                    _ => {}
                }
                if matches!(k.as_str(), "sizeLimit" | "divisor") {
                    out.push(x);
                }
                resource_lists(x, out);
            }
        }
        Value::Array(items) => {
            for x in items {
                resource_lists(x, out);
            }
        }
        _ => {}
    }
}

/// What upstream's decoder rejects before any validation runs, as the message of its
/// 400 BadRequest (`Pod in version "v1" cannot be handled as a Pod: quantities must match
/// the regular expression ...`). None when the object decodes.
pub fn check_decodable(resource: &Resource, obj: &Value) -> Option<String> {
    let prefix = format!(
        "{} in version {:?} cannot be handled as a {}: ",
        resource.kind, resource.version, resource.kind
    );
    let mut lists = Vec::new();
    resource_lists(obj, &mut lists);
    if let Some(err) = lists.into_iter().find_map(quantity_problem) {
        return Some(format!("{prefix}{err}"));
    }
    let base64_fields: &[&str] = match (resource.group, resource.kind) {
        ("", "Secret") => &["data"],
        ("", "ConfigMap") => &["binaryData"],
        _ => &[],
    };
    for f in base64_fields {
        if let Some(m) = obj.get(*f).and_then(Value::as_object) {
            for x in m.values() {
                let s = x.as_str().unwrap_or("");
                if let Err(e) = base64::engine::general_purpose::STANDARD.decode(s) {
                    let detail = match e {
                        base64::DecodeError::InvalidByte(at, _)
                        | base64::DecodeError::InvalidLastSymbol(at, _) => {
                            format!("illegal base64 data at input byte {at}")
                        }
                        base64::DecodeError::InvalidLength(at) => {
                            format!("illegal base64 data at input byte {at}")
                        }
                        base64::DecodeError::InvalidPadding => {
                            format!(
                                "illegal base64 data at input byte {}",
                                s.len().saturating_sub(1)
                            )
                        }
                    };
                    return Some(format!("{prefix}{detail}"));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_metadata_collections_are_dropped_as_go_omits_them() {
        let cm = skiff_api::resources::by_group_version_kind("", "v1", "ConfigMap").unwrap();
        let mut obj = serde_json::json!({"metadata": {
            "name": "a", "labels": {}, "annotations": null, "ownerReferences": [],
            "finalizers": [], "managedFields": []
        }});
        default(cm, &mut obj);
        assert_eq!(
            obj,
            serde_json::json!({"metadata": {"name": "a", "managedFields": []}})
        );
    }
}
