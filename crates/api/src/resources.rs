//! The resource registry: a static table of every resource the API server serves, as
//! upstream Kubernetes describes it in discovery (group, version, kind, plural, singular,
//! scope, short names, categories, verbs, subresources), plus the lookups the apiserver and
//! kubectl-style clients need and the storage key scheme.
//!
//! The table was checked against upstream's recorded discovery documents
//! (`api/discovery/api__v1.json`, `apis__<group>__<version>.json` and `apis.json` in
//! kubernetes/kubernetes). Order matters and follows upstream: the core group first, then the
//! groups in upstream's discovery order, a group's preferred version before the others, and
//! resources of one group-version sorted by plural. Name resolution takes the first match in
//! that order, as kubectl's priority REST mapper does (so `ev` is core `events`, `hpa` is
//! `autoscaling/v2`).

use std::fmt;

/// An API verb as discovery lists it (and as RBAC rules name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Create,
    Delete,
    DeleteCollection,
    Get,
    List,
    Patch,
    Update,
    Watch,
}

impl Verb {
    /// The verb's discovery / RBAC spelling (`deletecollection`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Patch => "patch",
            Verb::Update => "update",
            Verb::Watch => "watch",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subresource (`pods/status`, `deployments/scale`, ...). Its kind may live in another
/// group-version than its parent (`pods/eviction` is `policy/v1 Eviction`, every `scale` is
/// `autoscaling/v1 Scale`); discovery shows `group` / `version` only when they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subresource {
    /// The part after the slash: `status`, `scale`, `binding`, ...
    pub name: &'static str,
    /// Group of [`Subresource::kind`] ("" for core).
    pub group: &'static str,
    /// Version of [`Subresource::kind`].
    pub version: &'static str,
    /// The kind sent and returned (`Scale`, `Binding`, `PodExecOptions`, the parent's kind
    /// for `status`).
    pub kind: &'static str,
    /// Upstream's verbs for the subresource, sorted.
    pub verbs: &'static [Verb],
}

/// One resource of one group-version, as upstream discovery describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Resource {
    /// API group, "" for the core (legacy) group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The resource name used in URLs and storage keys (`deployments`).
    pub plural: &'static str,
    /// Lower-case singular (`deployment`).
    pub singular: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Categories (`all`: what `kubectl get all` lists).
    pub categories: &'static [&'static str],
    /// Upstream's verbs, sorted.
    pub verbs: &'static [Verb],
    /// Subresources, sorted by name.
    pub subresources: &'static [Subresource],
}

impl Resource {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether upstream serves `verb` on the resource itself.
    pub fn has_verb(&self, verb: Verb) -> bool {
        self.verbs.contains(&verb)
    }

    /// The subresource called `name` (`status`, `scale`, ...).
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether this is its group's preferred version (kubectl and `kubectl get all` use it).
    pub fn is_preferred_version(&self) -> bool {
        preferred_version(self.group) == Some(self.version)
    }

    /// The storage key of one object; see [`storage_key`].
    pub fn storage_key(&self, namespace: &str, name: &str) -> String {
        storage_key(self, namespace, name)
    }
}

/// One API group with its served versions, preferred first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiGroup {
    /// "" for the core group (served under `/api`, not `/apis`).
    pub name: &'static str,
    /// Served versions, preferred first (upstream's order in `APIGroup.versions`).
    pub versions: &'static [&'static str],
}

impl ApiGroup {
    /// The version clients should use (upstream's `preferredVersion`).
    pub fn preferred_version(&self) -> &'static str {
        self.versions.first().copied().unwrap_or("v1")
    }
}

use Verb::*;

/// create delete deletecollection get list patch update watch: every generic store.
const ALL_VERBS: &[Verb] = &[
    Create,
    Delete,
    DeleteCollection,
    Get,
    List,
    Patch,
    Update,
    Watch,
];
/// Namespaces: upstream's namespace storage has no DeleteCollection.
const NAMESPACE_VERBS: &[Verb] = &[Create, Delete, Get, List, Patch, Update, Watch];
/// `status`, `scale`, `ephemeralcontainers`-style subresources.
const GET_PATCH_UPDATE: &[Verb] = &[Get, Patch, Update];
/// `bindings`, `pods/binding`, `pods/eviction`.
const CREATE_ONLY: &[Verb] = &[Create];
/// Connect subresources reached with GET (websocket) or POST (SPDY): exec, attach, portforward.
const CONNECT_VERBS: &[Verb] = &[Create, Get];
/// `*/proxy`: every HTTP method is proxied.
const PROXY_VERBS: &[Verb] = &[Create, Delete, Get, Patch, Update];
/// `pods/log`.
const GET_ONLY: &[Verb] = &[Get];
/// `namespaces/finalize`.
const UPDATE_ONLY: &[Verb] = &[Update];

const ALL: &[&str] = &["all"];

const fn status(group: &'static str, version: &'static str, kind: &'static str) -> Subresource {
    Subresource {
        name: "status",
        group,
        version,
        kind,
        verbs: GET_PATCH_UPDATE,
    }
}

/// `*/scale` is `autoscaling/v1 Scale` for every scalable resource.
const SCALE: Subresource = Subresource {
    name: "scale",
    group: "autoscaling",
    version: "v1",
    kind: "Scale",
    verbs: GET_PATCH_UPDATE,
};

const fn core(name: &'static str, kind: &'static str, verbs: &'static [Verb]) -> Subresource {
    Subresource {
        name,
        group: "",
        version: "v1",
        kind,
        verbs,
    }
}

/// Defaults for the table below: a namespaced core/v1 resource with every verb.
const BASE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "",
    plural: "",
    singular: "",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: ALL_VERBS,
    subresources: &[],
};

/// Every resource the API server serves, in resolution priority order (see the module doc).
pub static RESOURCES: &[Resource] = &[
    // ---- core/v1 (upstream /api/v1, sorted by plural)
    Resource {
        kind: "Binding",
        plural: "bindings",
        singular: "binding",
        verbs: CREATE_ONLY,
        ..BASE
    },
    Resource {
        kind: "ConfigMap",
        plural: "configmaps",
        singular: "configmap",
        short_names: &["cm"],
        ..BASE
    },
    Resource {
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        short_names: &["ep"],
        ..BASE
    },
    Resource {
        kind: "Event",
        plural: "events",
        singular: "event",
        short_names: &["ev"],
        ..BASE
    },
    Resource {
        kind: "LimitRange",
        plural: "limitranges",
        singular: "limitrange",
        short_names: &["limits"],
        ..BASE
    },
    Resource {
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        short_names: &["ns"],
        verbs: NAMESPACE_VERBS,
        subresources: &[
            core("finalize", "Namespace", UPDATE_ONLY),
            status("", "v1", "Namespace"),
        ],
        ..BASE
    },
    Resource {
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        short_names: &["no"],
        subresources: &[
            core("proxy", "NodeProxyOptions", PROXY_VERBS),
            status("", "v1", "Node"),
        ],
        ..BASE
    },
    Resource {
        kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        singular: "persistentvolumeclaim",
        short_names: &["pvc"],
        subresources: &[status("", "v1", "PersistentVolumeClaim")],
        ..BASE
    },
    Resource {
        kind: "PersistentVolume",
        plural: "persistentvolumes",
        singular: "persistentvolume",
        namespaced: false,
        short_names: &["pv"],
        subresources: &[status("", "v1", "PersistentVolume")],
        ..BASE
    },
    Resource {
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        short_names: &["po"],
        categories: ALL,
        subresources: &[
            core("attach", "PodAttachOptions", CONNECT_VERBS),
            core("binding", "Binding", CREATE_ONLY),
            Subresource {
                name: "eviction",
                group: "policy",
                version: "v1",
                kind: "Eviction",
                verbs: CREATE_ONLY,
            },
            core("exec", "PodExecOptions", CONNECT_VERBS),
            core("log", "Pod", GET_ONLY),
            core("portforward", "PodPortForwardOptions", CONNECT_VERBS),
            core("proxy", "PodProxyOptions", PROXY_VERBS),
            status("", "v1", "Pod"),
        ],
        ..BASE
    },
    Resource {
        kind: "ReplicationController",
        plural: "replicationcontrollers",
        singular: "replicationcontroller",
        short_names: &["rc"],
        categories: ALL,
        subresources: &[SCALE, status("", "v1", "ReplicationController")],
        ..BASE
    },
    Resource {
        kind: "ResourceQuota",
        plural: "resourcequotas",
        singular: "resourcequota",
        short_names: &["quota"],
        subresources: &[status("", "v1", "ResourceQuota")],
        ..BASE
    },
    Resource {
        kind: "Secret",
        plural: "secrets",
        singular: "secret",
        ..BASE
    },
    Resource {
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        short_names: &["sa"],
        ..BASE
    },
    Resource {
        kind: "Service",
        plural: "services",
        singular: "service",
        short_names: &["svc"],
        categories: ALL,
        subresources: &[
            core("proxy", "ServiceProxyOptions", PROXY_VERBS),
            status("", "v1", "Service"),
        ],
        ..BASE
    },
    // ---- apps/v1
    Resource {
        group: "apps",
        kind: "ControllerRevision",
        plural: "controllerrevisions",
        singular: "controllerrevision",
        ..BASE
    },
    Resource {
        group: "apps",
        kind: "DaemonSet",
        plural: "daemonsets",
        singular: "daemonset",
        short_names: &["ds"],
        categories: ALL,
        subresources: &[status("apps", "v1", "DaemonSet")],
        ..BASE
    },
    Resource {
        group: "apps",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        short_names: &["deploy"],
        categories: ALL,
        subresources: &[SCALE, status("apps", "v1", "Deployment")],
        ..BASE
    },
    Resource {
        group: "apps",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        short_names: &["rs"],
        categories: ALL,
        subresources: &[SCALE, status("apps", "v1", "ReplicaSet")],
        ..BASE
    },
    Resource {
        group: "apps",
        kind: "StatefulSet",
        plural: "statefulsets",
        singular: "statefulset",
        short_names: &["sts"],
        categories: ALL,
        subresources: &[SCALE, status("apps", "v1", "StatefulSet")],
        ..BASE
    },
    // ---- events.k8s.io/v1 (same objects as core events, another schema)
    Resource {
        group: "events.k8s.io",
        kind: "Event",
        plural: "events",
        singular: "event",
        short_names: &["ev"],
        ..BASE
    },
    // ---- autoscaling/v2 (preferred) and autoscaling/v1 (same objects)
    Resource {
        group: "autoscaling",
        version: "v2",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[status("autoscaling", "v2", "HorizontalPodAutoscaler")],
        ..BASE
    },
    Resource {
        group: "autoscaling",
        version: "v1",
        kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[status("autoscaling", "v1", "HorizontalPodAutoscaler")],
        ..BASE
    },
    // ---- batch/v1
    Resource {
        group: "batch",
        kind: "CronJob",
        plural: "cronjobs",
        singular: "cronjob",
        short_names: &["cj"],
        categories: ALL,
        subresources: &[status("batch", "v1", "CronJob")],
        ..BASE
    },
    Resource {
        group: "batch",
        kind: "Job",
        plural: "jobs",
        singular: "job",
        categories: ALL,
        subresources: &[status("batch", "v1", "Job")],
        ..BASE
    },
    // ---- networking.k8s.io/v1
    Resource {
        group: "networking.k8s.io",
        kind: "IngressClass",
        plural: "ingressclasses",
        singular: "ingressclass",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "networking.k8s.io",
        kind: "Ingress",
        plural: "ingresses",
        singular: "ingress",
        short_names: &["ing"],
        subresources: &[status("networking.k8s.io", "v1", "Ingress")],
        ..BASE
    },
    Resource {
        group: "networking.k8s.io",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        singular: "networkpolicy",
        short_names: &["netpol"],
        ..BASE
    },
    // ---- policy/v1
    Resource {
        group: "policy",
        kind: "PodDisruptionBudget",
        plural: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        short_names: &["pdb"],
        subresources: &[status("policy", "v1", "PodDisruptionBudget")],
        ..BASE
    },
    // ---- rbac.authorization.k8s.io/v1
    Resource {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        plural: "clusterroles",
        singular: "clusterrole",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "rbac.authorization.k8s.io",
        kind: "RoleBinding",
        plural: "rolebindings",
        singular: "rolebinding",
        ..BASE
    },
    Resource {
        group: "rbac.authorization.k8s.io",
        kind: "Role",
        plural: "roles",
        singular: "role",
        ..BASE
    },
    // ---- storage.k8s.io/v1
    Resource {
        group: "storage.k8s.io",
        kind: "StorageClass",
        plural: "storageclasses",
        singular: "storageclass",
        namespaced: false,
        short_names: &["sc"],
        ..BASE
    },
    // ---- scheduling.k8s.io/v1
    Resource {
        group: "scheduling.k8s.io",
        kind: "PriorityClass",
        plural: "priorityclasses",
        singular: "priorityclass",
        namespaced: false,
        short_names: &["pc"],
        ..BASE
    },
    // ---- coordination.k8s.io/v1
    Resource {
        group: "coordination.k8s.io",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        ..BASE
    },
    // ---- discovery.k8s.io/v1
    Resource {
        group: "discovery.k8s.io",
        kind: "EndpointSlice",
        plural: "endpointslices",
        singular: "endpointslice",
        ..BASE
    },
];

/// Every served group with its versions, preferred first, in upstream's discovery order (the
/// core group first; it is served at `/api`, the others at `/apis`).
pub static GROUPS: &[ApiGroup] = &[
    ApiGroup {
        name: "",
        versions: &["v1"],
    },
    ApiGroup {
        name: "apps",
        versions: &["v1"],
    },
    ApiGroup {
        name: "events.k8s.io",
        versions: &["v1"],
    },
    ApiGroup {
        name: "autoscaling",
        versions: &["v2", "v1"],
    },
    ApiGroup {
        name: "batch",
        versions: &["v1"],
    },
    ApiGroup {
        name: "networking.k8s.io",
        versions: &["v1"],
    },
    ApiGroup {
        name: "policy",
        versions: &["v1"],
    },
    ApiGroup {
        name: "rbac.authorization.k8s.io",
        versions: &["v1"],
    },
    ApiGroup {
        name: "storage.k8s.io",
        versions: &["v1"],
    },
    ApiGroup {
        name: "scheduling.k8s.io",
        versions: &["v1"],
    },
    ApiGroup {
        name: "coordination.k8s.io",
        versions: &["v1"],
    },
    ApiGroup {
        name: "discovery.k8s.io",
        versions: &["v1"],
    },
];

/// Every served group, core first, with its versions (preferred first).
pub fn groups() -> &'static [ApiGroup] {
    GROUPS
}

/// The served group called `name` ("" for core).
pub fn group(name: &str) -> Option<&'static ApiGroup> {
    GROUPS.iter().find(|g| g.name == name)
}

/// The preferred version of a served group (`autoscaling` -> `v2`).
pub fn preferred_version(group_name: &str) -> Option<&'static str> {
    group(group_name).map(ApiGroup::preferred_version)
}

/// Every resource, in resolution priority order.
pub fn all() -> &'static [Resource] {
    RESOURCES
}

/// The resources of one group-version (what `/api/v1` or `/apis/<group>/<version>` lists).
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static Resource> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// The resource served at `/apis/<group>/<version>/<plural>` (the URL form of a request).
pub fn by_group_version_resource(
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource of a fully qualified kind (`apiVersion` + `kind` of an object).
pub fn by_group_version_kind(group: &str, version: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The resource of `kind` in `group` at the group's preferred version (or the first served
/// version that has it).
pub fn by_group_kind(group: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.kind == kind)
}

/// Every resource with this kind, in priority order (`Event` is core and `events.k8s.io`,
/// `HorizontalPodAutoscaler` is `autoscaling/v2` and `v1`).
pub fn by_kind(kind: &str) -> impl Iterator<Item = &'static Resource> + '_ {
    RESOURCES.iter().filter(move |r| r.kind == kind)
}

/// The resources of a category at their group's preferred version (`all` gives what
/// `kubectl get all` lists).
pub fn in_category(category: &str) -> impl Iterator<Item = &'static Resource> + '_ {
    RESOURCES
        .iter()
        .filter(move |r| r.categories.contains(&category) && r.is_preferred_version())
}

/// Resolve a resource name the way kubectl does for `kubectl get <name>`: case-insensitive,
/// by plural, singular or short name (so also by lower-cased kind), optionally qualified as
/// `<name>.<group>` or `<name>.<version>.<group>` (`deployments.apps`, `hpa.v1.autoscaling`,
/// `events.events.k8s.io`). Unqualified names take the first match in priority order.
/// Categories (`all`) are not resources: see [`in_category`].
pub fn resolve(name: &str) -> Option<&'static Resource> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    // Like schema.ParseResourceArg: try `resource.version.group` first, then `resource.group`.
    if let Some((resource, rest)) = name.split_once('.') {
        if let Some((version, group)) = rest.split_once('.') {
            let found = RESOURCES
                .iter()
                .find(|r| r.group == group && r.version == version && names(r, resource));
            if found.is_some() {
                return found;
            }
        }
        return RESOURCES
            .iter()
            .find(|r| r.group == rest && names(r, resource));
    }
    RESOURCES.iter().find(|r| names(r, &name))
}

/// Whether `name` (lower case) is the resource's plural, singular or one of its short names.
fn names(r: &Resource, name: &str) -> bool {
    r.plural == name || r.singular == name || r.short_names.contains(&name)
}

/// The key one object is stored under: `/registry/<plural>/<namespace>/<name>`, or
/// `/registry/<plural>/<name>` for cluster-scoped resources (`namespace` is then ignored).
///
/// This is upstream's default scheme, applied to every resource. Upstream itself stores a few
/// resources under other prefixes for historical reasons (services under
/// `/registry/services/specs/`, endpoints under `/registry/services/endpoints/`, nodes under
/// `/registry/minions/`, replicationcontrollers under `/registry/controllers/`, ingresses
/// under `/registry/ingress/`); skiff does not, so an etcd written by kube-apiserver cannot
/// be read by skiff as is. Versions of one group share keys, as upstream's do
/// (`autoscaling/v1` and `v2` HPAs are the same objects), and so do core and
/// `events.k8s.io` events.
///
/// The caller validates `namespace` and `name` first (non-empty, no `/`, as upstream's name
/// validation requires), so keys of distinct objects never collide.
pub fn storage_key(resource: &Resource, namespace: &str, name: &str) -> String {
    if resource.namespaced {
        format!("/registry/{}/{}/{}", resource.plural, namespace, name)
    } else {
        format!("/registry/{}/{}", resource.plural, name)
    }
}

/// The key prefix of a list: every object of the resource (`namespace` `None`, or any
/// cluster-scoped resource), or every object in one namespace. Ends with `/`, so that a range
/// over `/registry/pods/default/` never includes namespace `default2`.
pub fn storage_prefix(resource: &Resource, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if resource.namespaced => format!("/registry/{}/{}/", resource.plural, ns),
        _ => format!("/registry/{}/", resource.plural),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn gvr(group: &str, version: &str, plural: &str) -> &'static Resource {
        by_group_version_resource(group, version, plural)
            .unwrap_or_else(|| panic!("{group}/{version}/{plural} missing"))
    }

    #[test]
    fn every_kind_resolves_both_ways() {
        for r in RESOURCES {
            assert_eq!(
                by_group_version_resource(r.group, r.version, r.plural),
                Some(r),
                "{r:?}"
            );
            assert_eq!(
                by_group_version_kind(r.group, r.version, r.kind),
                Some(r),
                "{r:?}"
            );
            let preferred = by_group_kind(r.group, r.kind).unwrap();
            assert!(preferred.is_preferred_version(), "{r:?}");
            assert!(by_kind(r.kind).any(|x| x == r));
            let qualified = format!("{}.{}.{}", r.plural, r.version, r.group);
            if !r.group.is_empty() {
                assert_eq!(resolve(&qualified), Some(r), "{qualified}");
            }
        }
    }

    #[test]
    fn table_is_well_formed() {
        let mut seen = BTreeSet::new();
        for r in RESOURCES {
            assert!(
                seen.insert((r.group, r.version, r.plural)),
                "duplicate {r:?}"
            );
            assert!(
                group(r.group).is_some_and(|g| g.versions.contains(&r.version)),
                "{r:?} not in GROUPS"
            );
            assert_eq!(r.singular, r.kind.to_ascii_lowercase(), "{r:?}");
            assert!(r.plural.bytes().all(|b| b.is_ascii_lowercase()), "{r:?}");
            assert!(
                r.verbs.windows(2).all(|w| w[0] < w[1]),
                "verbs sorted: {r:?}"
            );
            assert!(
                r.subresources.windows(2).all(|w| w[0].name < w[1].name),
                "subresources sorted: {r:?}"
            );
            for s in r.subresources {
                assert!(!s.verbs.is_empty() && s.verbs.windows(2).all(|w| w[0] < w[1]));
                if s.name == "status" {
                    assert_eq!((s.group, s.version, s.kind), (r.group, r.version, r.kind));
                }
            }
        }
        // Each group-version of GROUPS serves something.
        for g in GROUPS {
            for v in g.versions {
                assert!(
                    in_group_version(g.name, v).next().is_some(),
                    "{}/{v}",
                    g.name
                );
            }
        }
        // Resources of one group-version are sorted by plural, as upstream lists them.
        for g in GROUPS {
            for v in g.versions {
                let plurals: Vec<_> = in_group_version(g.name, v).map(|r| r.plural).collect();
                let mut sorted = plurals.clone();
                sorted.sort_unstable();
                assert_eq!(plurals, sorted);
            }
        }
    }

    #[test]
    fn short_names_are_unique() {
        // A short name never names two different resources; `ev` (core and events.k8s.io
        // events) and `hpa` (autoscaling v1 and v2) name one resource served twice.
        let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
        for r in RESOURCES {
            for s in r.short_names {
                let prev = owner.insert(s, r.plural);
                assert!(prev.is_none() || prev == Some(r.plural), "{s} is ambiguous");
                assert!(
                    RESOURCES.iter().all(|o| o.plural != *s && o.singular != *s),
                    "{s} is also a resource name"
                );
            }
        }
    }

    #[test]
    fn kubectl_names_resolve() {
        let cases = [
            ("deploy", "apps", "deployments"),
            ("po", "", "pods"),
            ("svc", "", "services"),
            ("ns", "", "namespaces"),
            ("no", "", "nodes"),
            ("cm", "", "configmaps"),
            ("sts", "apps", "statefulsets"),
            ("cj", "batch", "cronjobs"),
            ("hpa", "autoscaling", "horizontalpodautoscalers"),
            ("ep", "", "endpoints"),
            ("pv", "", "persistentvolumes"),
            ("pvc", "", "persistentvolumeclaims"),
            ("sa", "", "serviceaccounts"),
            ("rs", "apps", "replicasets"),
            ("ds", "apps", "daemonsets"),
            ("ing", "networking.k8s.io", "ingresses"),
            ("netpol", "networking.k8s.io", "networkpolicies"),
            ("pdb", "policy", "poddisruptionbudgets"),
            ("pc", "scheduling.k8s.io", "priorityclasses"),
            ("sc", "storage.k8s.io", "storageclasses"),
            ("ev", "", "events"),
            ("quota", "", "resourcequotas"),
            ("limits", "", "limitranges"),
            ("rc", "", "replicationcontrollers"),
            // plurals, singulars, kinds in any case, qualified names
            ("pods", "", "pods"),
            ("pod", "", "pods"),
            ("Pod", "", "pods"),
            ("DEPLOYMENTS", "apps", "deployments"),
            ("endpoints", "", "endpoints"),
            ("endpointslices", "discovery.k8s.io", "endpointslices"),
            ("leases", "coordination.k8s.io", "leases"),
            (
                "clusterrolebinding",
                "rbac.authorization.k8s.io",
                "clusterrolebindings",
            ),
            ("ingressclasses", "networking.k8s.io", "ingressclasses"),
            ("controllerrevisions", "apps", "controllerrevisions"),
            ("deploy.apps", "apps", "deployments"),
            ("deployments.v1.apps", "apps", "deployments"),
            ("events.events.k8s.io", "events.k8s.io", "events"),
            ("ev.events.k8s.io", "events.k8s.io", "events"),
            ("bindings", "", "bindings"),
        ];
        for (name, group, plural) in cases {
            let r = resolve(name).unwrap_or_else(|| panic!("{name} does not resolve"));
            assert_eq!((r.group, r.plural), (group, plural), "{name}");
            assert!(r.is_preferred_version(), "{name}");
        }
        assert_eq!(resolve("hpa").unwrap().version, "v2");
        assert_eq!(resolve("hpa.v1.autoscaling").unwrap().version, "v1");
        for absent in [
            "csr",
            "certificatesigningrequests",
            "crd",
            "cs",
            "componentstatuses",
            "podtemplates",
            "all",
            "",
            ".",
            "..",
            "pods.apps",
            "deploy.v2.apps",
            "deploy.nope",
        ] {
            assert_eq!(resolve(absent), None, "{absent}");
        }
    }

    #[test]
    fn upstream_details() {
        let pods = gvr("", "v1", "pods");
        let subs: Vec<_> = pods.subresources.iter().map(|s| s.name).collect();
        assert_eq!(
            subs,
            [
                "attach",
                "binding",
                "eviction",
                "exec",
                "log",
                "portforward",
                "proxy",
                "status"
            ]
        );
        let eviction = pods.subresource("eviction").unwrap();
        assert_eq!(
            (eviction.group, eviction.version, eviction.kind),
            ("policy", "v1", "Eviction")
        );
        assert_eq!(pods.subresource("log").unwrap().verbs, [Get]);
        assert_eq!(pods.subresource("exec").unwrap().verbs, [Create, Get]);
        assert_eq!(pods.subresource("binding").unwrap().kind, "Binding");
        assert!(pods.subresource("scale").is_none());

        let deploy = gvr("apps", "v1", "deployments");
        let scale = deploy.subresource("scale").unwrap();
        assert_eq!(
            (scale.group, scale.version, scale.kind),
            ("autoscaling", "v1", "Scale")
        );
        assert_eq!(deploy.api_version(), "apps/v1");
        assert_eq!(pods.api_version(), "v1");

        let bindings = gvr("", "v1", "bindings");
        assert_eq!(bindings.verbs, [Create]);
        assert!(!bindings.has_verb(Watch) && !bindings.has_verb(List));
        let ns = gvr("", "v1", "namespaces");
        assert!(!ns.namespaced && !ns.has_verb(DeleteCollection) && ns.has_verb(Watch));
        assert!(gvr("", "v1", "events").has_verb(Watch));
        for cluster in [
            "namespaces",
            "nodes",
            "persistentvolumes",
            "clusterroles",
            "clusterrolebindings",
            "storageclasses",
            "priorityclasses",
            "ingressclasses",
        ] {
            assert!(!resolve(cluster).unwrap().namespaced, "{cluster}");
        }
        let all: BTreeSet<_> = in_category("all").map(|r| r.plural).collect();
        let want: BTreeSet<_> = [
            "pods",
            "services",
            "deployments",
            "replicasets",
            "statefulsets",
            "daemonsets",
            "jobs",
            "cronjobs",
            "replicationcontrollers",
            "horizontalpodautoscalers",
        ]
        .into_iter()
        .collect();
        assert_eq!(all, want);
        assert_eq!(in_category("all").count(), want.len(), "hpa listed once");
        assert_eq!(in_category("api-extensions").count(), 0);
        assert_eq!(preferred_version("autoscaling"), Some("v2"));
        assert_eq!(preferred_version(""), Some("v1"));
        assert_eq!(preferred_version("extensions"), None);
        assert_eq!(groups()[0].name, "");
    }

    #[test]
    fn storage_keys() {
        let pods = gvr("", "v1", "pods");
        assert_eq!(
            storage_key(pods, "default", "web-0"),
            "/registry/pods/default/web-0"
        );
        assert_eq!(
            pods.storage_key("kube-system", "x"),
            "/registry/pods/kube-system/x"
        );
        let nodes = gvr("", "v1", "nodes");
        assert_eq!(storage_key(nodes, "ignored", "n1"), "/registry/nodes/n1");
        assert_eq!(
            storage_prefix(pods, Some("default")),
            "/registry/pods/default/"
        );
        assert_eq!(storage_prefix(pods, None), "/registry/pods/");
        assert_eq!(storage_prefix(nodes, Some("default")), "/registry/nodes/");
        let v1 = gvr("autoscaling", "v1", "horizontalpodautoscalers");
        let v2 = gvr("autoscaling", "v2", "horizontalpodautoscalers");
        assert_eq!(v1.storage_key("a", "b"), v2.storage_key("a", "b"));
        assert_eq!(
            gvr("apps", "v1", "deployments").storage_key("ns", "d"),
            "/registry/deployments/ns/d"
        );
    }

    #[test]
    fn verbs_spell_like_upstream() {
        let spelled: Vec<_> = ALL_VERBS.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            spelled,
            [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ]
        );
    }
}
