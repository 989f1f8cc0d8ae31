//! Validation per kind on create and update, dispatching on the registry's [`Resource`] to
//! the rules of upstream's `pkg/apis/<group>/validation` (and the strategies' update
//! checks). Kinds this module does not know get the object metadata checks only.

pub(crate) mod apps;
pub(crate) mod batch;
pub(crate) mod core_misc;
pub(crate) mod meta;
pub(crate) mod names;
pub(crate) mod other;
pub(crate) mod pod;
pub(crate) mod service;

use serde_json::Value;
use skiff_api::Resource;

use super::field::Errs;
use names::NameRule;

/// Validation of a new object.
pub(crate) fn create(resource: &Resource, obj: &Value) -> Errs {
    let mut errs = Errs::new();
    let e = &mut errs;
    match (resource.group, resource.kind) {
        ("", "Pod") => pod::pod_create(obj, e),
        ("", "Service") => service::service(obj, e),
        ("", "ConfigMap") => core_misc::config_map(obj, e),
        ("", "Secret") => core_misc::secret(obj, e),
        ("", "Namespace") => core_misc::namespace(obj, e),
        ("", "Node") => core_misc::node(obj, e),
        ("", "PersistentVolumeClaim") => core_misc::pvc(obj, e),
        ("", "PersistentVolume") => core_misc::pv(obj, e),
        ("", "ServiceAccount") => core_misc::service_account(obj, e),
        ("", "Endpoints") => core_misc::endpoints(obj, e),
        ("", "ReplicationController") => core_misc::replication_controller(obj, e),
        ("", "Event") => core_misc::event(obj, e),
        ("", "LimitRange") => core_misc::limit_range(obj, e),
        ("", "ResourceQuota") => core_misc::resource_quota(obj, e),
        ("apps", "Deployment") => apps::deployment(obj, e),
        ("apps", "ReplicaSet") => apps::replica_set(obj, e),
        ("apps", "StatefulSet") => apps::stateful_set(obj, e),
        ("apps", "DaemonSet") => apps::daemon_set(obj, e),
        ("apps", "ControllerRevision") => apps::controller_revision(obj, e),
        ("batch", "Job") => batch::job(obj, e),
        ("batch", "CronJob") => batch::cron_job(obj, e),
        ("networking.k8s.io", "Ingress") => other::ingress(obj, e),
        ("networking.k8s.io", "IngressClass") => other::ingress_class(obj, e),
        ("networking.k8s.io", "NetworkPolicy") => other::network_policy(obj, e),
        ("policy", "PodDisruptionBudget") => other::pdb(obj, e),
        ("rbac.authorization.k8s.io", "Role") => other::role(obj, true, e),
        ("rbac.authorization.k8s.io", "ClusterRole") => other::role(obj, false, e),
        ("rbac.authorization.k8s.io", "RoleBinding") => other::role_binding(obj, true, e),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => other::role_binding(obj, false, e),
        ("scheduling.k8s.io", "PriorityClass") => other::priority_class(obj, e),
        ("storage.k8s.io", "StorageClass") => other::storage_class(obj, e),
        ("coordination.k8s.io", "Lease") => other::lease(obj, e),
        ("discovery.k8s.io", "EndpointSlice") => other::endpoint_slice(obj, e),
        ("autoscaling", "HorizontalPodAutoscaler") => other::hpa(obj, e),
        ("events.k8s.io", "Event") => other::events_v1(obj, e),
        _ => meta::object_meta(obj, resource.namespaced, NameRule::Subdomain, e),
    }
    errs
}

/// Validation of an update of the main resource (`subresource` None) or of a
/// subresource such as `status`.
pub(crate) fn update(
    resource: &Resource,
    old: &Value,
    new: &Value,
    subresource: Option<&str>,
) -> Errs {
    let mut errs = Errs::new();
    let e = &mut errs;
    match subresource {
        Some("status") => {
            match (resource.group, resource.kind) {
                ("", "Pod") => pod::pod_status_update(new, old, e),
                ("", "Namespace") => core_misc::namespace_status_update(new, old, e),
                ("apps", _) => {
                    meta::object_meta_update(new, old, e);
                    apps::workload_status(new, e);
                }
                _ => meta::object_meta_update(new, old, e),
            }
            return errs;
        }
        Some(_) => {
            meta::object_meta_update(new, old, e);
            return errs;
        }
        None => {}
    }
    match (resource.group, resource.kind) {
        ("", "Pod") => pod::pod_update(new, old, e),
        ("", "Service") => service::service_update(new, old, e),
        ("", "ConfigMap") => core_misc::config_map_update(new, old, e),
        ("", "Secret") => core_misc::secret_update(new, old, e),
        ("", "Node") => core_misc::node_update(new, old, e),
        ("", "PersistentVolumeClaim") => core_misc::pvc_update(new, old, e),
        ("", "PersistentVolume") => core_misc::pv_update(new, old, e),
        ("apps", "Deployment") => apps::deployment_update(new, old, e),
        ("apps", "ReplicaSet") => apps::replica_set_update(new, old, e),
        ("apps", "StatefulSet") => apps::stateful_set_update(new, old, e),
        ("apps", "DaemonSet") => apps::daemon_set_update(new, old, e),
        ("apps", "ControllerRevision") => apps::controller_revision_update(new, old, e),
        ("batch", "Job") => batch::job_update(new, old, e),
        ("batch", "CronJob") => batch::cron_job_update(new, old, e),
        ("networking.k8s.io", "IngressClass") => other::ingress_class_update(new, old, e),
        ("rbac.authorization.k8s.io", "RoleBinding") => {
            other::role_binding_update(new, old, true, e)
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            other::role_binding_update(new, old, false, e)
        }
        ("scheduling.k8s.io", "PriorityClass") => other::priority_class_update(new, old, e),
        ("storage.k8s.io", "StorageClass") => other::storage_class_update(new, old, e),
        ("discovery.k8s.io", "EndpointSlice") => other::endpoint_slice_update(new, old, e),
        ("", "Namespace") | ("", "ServiceAccount") => {
            meta::object_meta_update(new, old, e);
            if resource.kind == "ServiceAccount" {
                core_misc::service_account(new, e);
            }
        }
        _ => {
            // upstream: ValidateObjectMetaUpdate plus the kind's create-time validation
            meta::object_meta_update(new, old, e);
            let mut full = create(resource, new);
            // name rules are not re-checked on update (the name cannot change)
            full.retain(|c| c.field != "metadata.name" && c.field != "metadata.generateName");
            e.extend(full);
        }
    }
    errs
}
