//! The table tying every served kind (and the meta kinds the API exchanges) to its k8s-openapi
//! type: group, version, kind and the upstream schema name (`io.k8s.api.apps.v1.Deployment`).
//! The schemas themselves are generated from these types through `schemars`.

use k8s_openapi::api::{
    apps, autoscaling, batch, coordination, core, discovery, events, networking, policy, rbac,
    scheduling, storage,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use schemars::SchemaGenerator;

/// One kind with a schema: `group` "" is the core group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSchema {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Upstream's definition name (`io.k8s.api.core.v1.Pod`).
    pub schema: &'static str,
    /// The definition name of its list kind (`io.k8s.api.core.v1.PodList`); only used when the
    /// kind is a resource with the `list` verb.
    pub list_schema: &'static str,
}

macro_rules! kind_table {
    ($( ($group:literal, $version:literal, $kind:literal, $name:literal, $ty:ty) ),* $(,)?) => {
        /// Every kind of a served resource or subresource, in registry order.
        pub static KINDS: &[KindSchema] = &[
            $( KindSchema {
                group: $group,
                version: $version,
                kind: $kind,
                schema: $name,
                list_schema: concat!($name, "List"),
            } ),*
        ];

        /// Registers the schema of every kind of [`KINDS`] with the generator.
        fn register_kinds(generator: &mut SchemaGenerator) {
            $( generator.subschema_for::<$ty>(); )*
        }

        #[cfg(test)]
        pub(crate) fn kind_names_from_types() -> Vec<String> {
            use schemars::JsonSchema;
            vec![ $( <$ty as JsonSchema>::schema_name().into_owned() ),* ]
        }
    };
}

kind_table! {
    ("", "v1", "Binding", "io.k8s.api.core.v1.Binding", core::v1::Binding),
    ("", "v1", "ConfigMap", "io.k8s.api.core.v1.ConfigMap", core::v1::ConfigMap),
    ("", "v1", "Endpoints", "io.k8s.api.core.v1.Endpoints", core::v1::Endpoints),
    ("", "v1", "Event", "io.k8s.api.core.v1.Event", core::v1::Event),
    ("", "v1", "LimitRange", "io.k8s.api.core.v1.LimitRange", core::v1::LimitRange),
    ("", "v1", "Namespace", "io.k8s.api.core.v1.Namespace", core::v1::Namespace),
    ("", "v1", "Node", "io.k8s.api.core.v1.Node", core::v1::Node),
    ("", "v1", "PersistentVolumeClaim", "io.k8s.api.core.v1.PersistentVolumeClaim", core::v1::PersistentVolumeClaim),
    ("", "v1", "PersistentVolume", "io.k8s.api.core.v1.PersistentVolume", core::v1::PersistentVolume),
    ("", "v1", "Pod", "io.k8s.api.core.v1.Pod", core::v1::Pod),
    ("", "v1", "ReplicationController", "io.k8s.api.core.v1.ReplicationController", core::v1::ReplicationController),
    ("", "v1", "ResourceQuota", "io.k8s.api.core.v1.ResourceQuota", core::v1::ResourceQuota),
    ("", "v1", "Secret", "io.k8s.api.core.v1.Secret", core::v1::Secret),
    ("", "v1", "ServiceAccount", "io.k8s.api.core.v1.ServiceAccount", core::v1::ServiceAccount),
    ("", "v1", "Service", "io.k8s.api.core.v1.Service", core::v1::Service),
    ("apps", "v1", "ControllerRevision", "io.k8s.api.apps.v1.ControllerRevision", apps::v1::ControllerRevision),
    ("apps", "v1", "DaemonSet", "io.k8s.api.apps.v1.DaemonSet", apps::v1::DaemonSet),
    ("apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment", apps::v1::Deployment),
    ("apps", "v1", "ReplicaSet", "io.k8s.api.apps.v1.ReplicaSet", apps::v1::ReplicaSet),
    ("apps", "v1", "StatefulSet", "io.k8s.api.apps.v1.StatefulSet", apps::v1::StatefulSet),
    ("events.k8s.io", "v1", "Event", "io.k8s.api.events.v1.Event", events::v1::Event),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", autoscaling::v2::HorizontalPodAutoscaler),
    ("autoscaling", "v1", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler", autoscaling::v1::HorizontalPodAutoscaler),
    ("autoscaling", "v1", "Scale", "io.k8s.api.autoscaling.v1.Scale", autoscaling::v1::Scale),
    ("batch", "v1", "CronJob", "io.k8s.api.batch.v1.CronJob", batch::v1::CronJob),
    ("batch", "v1", "Job", "io.k8s.api.batch.v1.Job", batch::v1::Job),
    ("networking.k8s.io", "v1", "IngressClass", "io.k8s.api.networking.v1.IngressClass", networking::v1::IngressClass),
    ("networking.k8s.io", "v1", "Ingress", "io.k8s.api.networking.v1.Ingress", networking::v1::Ingress),
    ("networking.k8s.io", "v1", "NetworkPolicy", "io.k8s.api.networking.v1.NetworkPolicy", networking::v1::NetworkPolicy),
    ("policy", "v1", "PodDisruptionBudget", "io.k8s.api.policy.v1.PodDisruptionBudget", policy::v1::PodDisruptionBudget),
    ("policy", "v1", "Eviction", "io.k8s.api.policy.v1.Eviction", policy::v1::Eviction),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "io.k8s.api.rbac.v1.ClusterRoleBinding", rbac::v1::ClusterRoleBinding),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "io.k8s.api.rbac.v1.ClusterRole", rbac::v1::ClusterRole),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "io.k8s.api.rbac.v1.RoleBinding", rbac::v1::RoleBinding),
    ("rbac.authorization.k8s.io", "v1", "Role", "io.k8s.api.rbac.v1.Role", rbac::v1::Role),
    ("storage.k8s.io", "v1", "StorageClass", "io.k8s.api.storage.v1.StorageClass", storage::v1::StorageClass),
    ("scheduling.k8s.io", "v1", "PriorityClass", "io.k8s.api.scheduling.v1.PriorityClass", scheduling::v1::PriorityClass),
    ("coordination.k8s.io", "v1", "Lease", "io.k8s.api.coordination.v1.Lease", coordination::v1::Lease),
    ("discovery.k8s.io", "v1", "EndpointSlice", "io.k8s.api.discovery.v1.EndpointSlice", discovery::v1::EndpointSlice),
}

/// Meta kinds every group-version exchanges (`Status`, `DeleteOptions`, `WatchEvent`) and
/// the discovery documents; upstream files them under the core group `v1`.
pub static META_KINDS: &[(&str, &str)] = &[
    ("Status", "io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
    (
        "DeleteOptions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    ),
    (
        "WatchEvent",
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    ),
    (
        "APIResourceList",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    ),
    ("APIGroup", "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup"),
    (
        "APIGroupList",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
    ),
    (
        "APIVersions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
    ),
];

/// Meta kinds that upstream registers in every group-version (their GVK list names each).
pub static PER_GROUP_META_KINDS: &[&str] = &["DeleteOptions", "WatchEvent"];

pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
pub const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
pub const API_RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
pub const API_GROUP: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup";
pub const API_GROUP_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList";
pub const API_VERSIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions";
pub const VERSION_INFO: &str = "io.k8s.apimachinery.pkg.version.Info";

/// Registers every schema the documents carry: the kinds of [`KINDS`], the meta types and the
/// version document.
pub(crate) fn register_all(generator: &mut SchemaGenerator) {
    register_kinds(generator);
    generator.subschema_for::<meta::Status>();
    generator.subschema_for::<meta::DeleteOptions>();
    generator.subschema_for::<meta::WatchEvent<()>>();
    generator.subschema_for::<meta::Patch>();
    generator.subschema_for::<meta::ListMeta>();
    generator.subschema_for::<meta::ObjectMeta>();
    generator.subschema_for::<meta::APIResourceList>();
    generator.subschema_for::<meta::APIGroup>();
    generator.subschema_for::<meta::APIGroupList>();
    generator.subschema_for::<meta::APIVersions>();
    generator.subschema_for::<k8s_openapi::apimachinery::pkg::version::Info>();
}

/// The kind entry for a group-version-kind (not list kinds).
pub fn find(group: &str, version: &str, kind: &str) -> Option<&'static KindSchema> {
    KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.kind == kind)
}

/// Whether the kind is served as a resource with the `list` verb (so it has a list kind).
pub fn is_listable(k: &KindSchema) -> bool {
    skiff_api::resources::by_group_version_kind(k.group, k.version, k.kind)
        .is_some_and(|r| r.has_verb(skiff_api::Verb::List))
}

/// The upstream schema name of a group-version-kind: served kinds, their list kinds
/// (`DeploymentList`), subresource kinds (`autoscaling/v1 Scale`, `policy/v1 Eviction`) and
/// the meta kinds (`Status`, `DeleteOptions`, ... in any served group-version).
pub fn schema_name_for(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    if let Some(k) = find(group, version, kind) {
        return Some(k.schema);
    }
    if let Some(item) = kind.strip_suffix("List") {
        if let Some(k) = find(group, version, item).filter(|k| is_listable(k)) {
            return Some(k.list_schema);
        }
    }
    let served_gv =
        skiff_api::resources::group(group).is_some_and(|g| g.versions.contains(&version));
    if !served_gv {
        return None;
    }
    META_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .filter(|(k, _)| (group.is_empty() && version == "v1") || PER_GROUP_META_KINDS.contains(k))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_names_match_the_types() {
        let from_types = kind_names_from_types();
        let literal: Vec<_> = KINDS.iter().map(|k| k.schema.to_string()).collect();
        assert_eq!(from_types, literal);
    }

    #[test]
    fn every_served_resource_has_a_schema() {
        for r in skiff_api::resources::all() {
            assert!(
                find(r.group, r.version, r.kind).is_some(),
                "{}/{} {}",
                r.group,
                r.version,
                r.kind
            );
            for s in r.subresources {
                if matches!(s.name, "status" | "scale" | "eviction" | "binding") {
                    assert!(find(s.group, s.version, s.kind).is_some(), "{}", s.kind);
                }
            }
        }
    }

    #[test]
    fn schema_names() {
        assert_eq!(
            schema_name_for("apps", "v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
        assert_eq!(
            schema_name_for("apps", "v1", "DeploymentList"),
            Some("io.k8s.api.apps.v1.DeploymentList")
        );
        assert_eq!(
            schema_name_for("autoscaling", "v1", "Scale"),
            Some("io.k8s.api.autoscaling.v1.Scale")
        );
        assert_eq!(schema_name_for("autoscaling", "v1", "ScaleList"), None);
        assert_eq!(schema_name_for("", "v1", "BindingList"), None);
        assert_eq!(schema_name_for("", "v1", "Status"), Some(STATUS));
        assert_eq!(
            schema_name_for("apps", "v1", "DeleteOptions"),
            Some(DELETE_OPTIONS)
        );
        assert_eq!(schema_name_for("apps", "v1", "Status"), None);
        assert_eq!(schema_name_for("apps", "v2", "Deployment"), None);
        assert_eq!(
            schema_name_for("events.k8s.io", "v1", "Event"),
            Some("io.k8s.api.events.v1.Event")
        );
    }
}
