//! Upstream's strategic-merge-patch and list/map semantics per field, as a table of facts
//! compiled from the Kubernetes 1.33 API types (`k8s.io/api/**/types.go` and
//! `k8s.io/apimachinery/pkg/apis/meta/v1`): the `patchStrategy` / `patchMergeKey` struct tags
//! and the `+listType`, `+listMapKey`, `+mapType` and `+structType` markers. Used by the OpenAPI
//! documents (`x-kubernetes-patch-strategy`, ...), the strategic merge patch and server-side
//! apply. Data only, sorted by schema then field (binary-searched).

/// How one field takes part in patches and merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchMeta {
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys`, `merge,retainKeys`, `replace`.
    pub strategy: Option<&'static str>,
    /// `x-kubernetes-patch-merge-key` for lists of objects merged by key.
    pub merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type`: `atomic`, `set` or `map`.
    pub list_type: Option<&'static str>,
    /// `x-kubernetes-list-map-keys` of a `map` list.
    pub list_map_keys: &'static [&'static str],
    /// `x-kubernetes-map-type` of a map field: `atomic` or `granular`.
    pub map_type: Option<&'static str>,
}

/// The patch metadata of `field` in the definition `schema_name`
/// (`io.k8s.api.core.v1.PodSpec`, `containers`), if upstream declares any.
pub fn patch_meta(schema_name: &str, field: &str) -> Option<PatchMeta> {
    FIELDS
        .binary_search_by(|(s, f, _)| (*s, *f).cmp(&(schema_name, field)))
        .ok()
        .map(|i| FIELDS[i].2)
}

/// The `x-kubernetes-map-type` of a whole struct (`+structType=atomic`, e.g.
/// `io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector`).
pub fn type_map_type(schema_name: &str) -> Option<&'static str> {
    TYPES
        .binary_search_by(|(s, _)| (*s).cmp(schema_name))
        .ok()
        .map(|i| TYPES[i].1)
}

const fn m(
    strategy: Option<&'static str>,
    merge_key: Option<&'static str>,
    list_type: Option<&'static str>,
    list_map_keys: &'static [&'static str],
    map_type: Option<&'static str>,
) -> PatchMeta {
    PatchMeta {
        strategy,
        merge_key,
        list_type,
        list_map_keys,
        map_type,
    }
}

/// `(schema, field, meta)`, sorted.
static FIELDS: &[(&str, &str, PatchMeta)] = &[
    (
        "io.k8s.api.apps.v1.DaemonSetStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        "strategy",
        m(Some("retainKeys"), None, None, &[], None),
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetSpec",
        "volumeClaimTemplates",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.autoscaling.v2.HPAScalingRules",
        "policies",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
        "metrics",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "currentMetrics",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.CronJobStatus",
        "active",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.JobStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.PodFailurePolicy",
        "rules",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
        "values",
        m(None, None, Some("set"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.PodFailurePolicyRule",
        "onPodConditions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.SuccessPolicy",
        "rules",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.UncountedTerminatedPods",
        "failed",
        m(None, None, Some("set"), &[], None),
    ),
    (
        "io.k8s.api.batch.v1.UncountedTerminatedPods",
        "succeeded",
        m(None, None, Some("set"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.AvoidPods",
        "preferAvoidPods",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Capabilities",
        "add",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Capabilities",
        "drop",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.CephFSPersistentVolumeSource",
        "monitors",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.CephFSVolumeSource",
        "monitors",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ComponentStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.ConfigMapProjection",
        "items",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ConfigMapVolumeSource",
        "items",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "args",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "command",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "env",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "envFrom",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        m(
            Some("merge"),
            Some("containerPort"),
            Some("map"),
            &["containerPort", "protocol"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "resizePolicy",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        m(
            Some("merge"),
            Some("devicePath"),
            Some("map"),
            &["devicePath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        m(
            Some("merge"),
            Some("mountPath"),
            Some("map"),
            &["mountPath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.ContainerImage",
        "names",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        "allocatedResourcesStatus",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        "volumeMounts",
        m(
            Some("merge"),
            Some("mountPath"),
            Some("map"),
            &["mountPath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.DownwardAPIProjection",
        "items",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.DownwardAPIVolumeSource",
        "items",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EndpointSubset",
        "addresses",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EndpointSubset",
        "notReadyAddresses",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EndpointSubset",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.Endpoints",
        "subsets",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "args",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "command",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "envFrom",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        m(
            Some("merge"),
            Some("containerPort"),
            Some("map"),
            &["containerPort", "protocol"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "resizePolicy",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeDevices",
        m(
            Some("merge"),
            Some("devicePath"),
            Some("map"),
            &["devicePath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        m(
            Some("merge"),
            Some("mountPath"),
            Some("map"),
            &["mountPath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "args",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "command",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "env",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "envFrom",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "ports",
        m(
            Some("merge"),
            Some("containerPort"),
            Some("map"),
            &["containerPort", "protocol"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "resizePolicy",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "volumeDevices",
        m(
            Some("merge"),
            Some("devicePath"),
            Some("map"),
            &["devicePath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainerCommon",
        "volumeMounts",
        m(
            Some("merge"),
            Some("mountPath"),
            Some("map"),
            &["mountPath"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.ExecAction",
        "command",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.FCVolumeSource",
        "targetWWNs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.FCVolumeSource",
        "wwids",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.HTTPGetAction",
        "httpHeaders",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.HostAlias",
        "hostnames",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ISCSIPersistentVolumeSource",
        "portals",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ISCSIVolumeSource",
        "portals",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.LimitRangeSpec",
        "limits",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.LinuxContainerUser",
        "supplementalGroups",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.LoadBalancerIngress",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.LoadBalancerStatus",
        "ingress",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NamespaceSpec",
        "finalizers",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NamespaceStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.NodeAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeSelector",
        "nodeSelectorTerms",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorRequirement",
        "values",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorTerm",
        "matchExpressions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeSelectorTerm",
        "matchFields",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeSpec",
        "podCIDRs",
        m(Some("merge"), None, Some("set"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeSpec",
        "taints",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "addresses",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "images",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "runtimeHandlers",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "volumesAttached",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "volumesInUse",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "accessModes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        "accessModes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        "allocatedResourceStatuses",
        m(None, None, None, &[], Some("granular")),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "accessModes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "mountOptions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAffinityTerm",
        "matchLabelKeys",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAffinityTerm",
        "mismatchLabelKeys",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAffinityTerm",
        "namespaces",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAntiAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodAntiAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodDNSConfig",
        "nameservers",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodDNSConfig",
        "options",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodDNSConfig",
        "searches",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodExecOptions",
        "command",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodPortForwardOptions",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodSecurityContext",
        "supplementalGroups",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodSecurityContext",
        "sysctls",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "hostAliases",
        m(Some("merge"), Some("ip"), Some("map"), &["ip"], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "nodeSelector",
        m(None, None, None, &[], Some("atomic")),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "readinessGates",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "resourceClaims",
        m(
            Some("merge,retainKeys"),
            Some("name"),
            Some("map"),
            &["name"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "schedulingGates",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "tolerations",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        m(
            Some("merge"),
            Some("topologyKey"),
            Some("map"),
            &["topologyKey", "whenUnsatisfiable"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "volumes",
        m(
            Some("merge,retainKeys"),
            Some("name"),
            Some("map"),
            &["name"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "containerStatuses",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "ephemeralContainerStatuses",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "hostIPs",
        m(Some("merge"), Some("ip"), Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "initContainerStatuses",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "podIPs",
        m(Some("merge"), Some("ip"), Some("map"), &["ip"], None),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "resourceClaimStatuses",
        m(
            Some("merge,retainKeys"),
            Some("name"),
            Some("map"),
            &["name"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.ProjectedVolumeSource",
        "sources",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.RBDPersistentVolumeSource",
        "monitors",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.RBDVolumeSource",
        "monitors",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerSpec",
        "selector",
        m(None, None, None, &[], Some("atomic")),
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.ResourceQuotaSpec",
        "scopes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ResourceRequirements",
        "claims",
        m(None, None, Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.ResourceStatus",
        "resources",
        m(None, None, Some("map"), &["resourceID"], None),
    ),
    (
        "io.k8s.api.core.v1.ScopeSelector",
        "matchExpressions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
        "values",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.SecretProjection",
        "items",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.SecretVolumeSource",
        "items",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        "imagePullSecrets",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        "secrets",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "clusterIPs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "externalIPs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ipFamilies",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "loadBalancerSourceRanges",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        m(
            Some("merge"),
            Some("port"),
            Some("map"),
            &["port", "protocol"],
            None,
        ),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "selector",
        m(None, None, None, &[], Some("atomic")),
    ),
    (
        "io.k8s.api.core.v1.ServiceStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.core.v1.TopologySelectorLabelRequirement",
        "values",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.TopologySelectorTerm",
        "matchLabelExpressions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.core.v1.TopologySpreadConstraint",
        "matchLabelKeys",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.discovery.v1.Endpoint",
        "addresses",
        m(None, None, Some("set"), &[], None),
    ),
    (
        "io.k8s.api.discovery.v1.EndpointHints",
        "forNodes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.discovery.v1.EndpointHints",
        "forZones",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.discovery.v1.EndpointSlice",
        "endpoints",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.discovery.v1.EndpointSlice",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.HTTPIngressRuleValue",
        "paths",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.IPBlock",
        "except",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.IngressLoadBalancerIngress",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.IngressLoadBalancerStatus",
        "ingress",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.IngressSpec",
        "rules",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.IngressSpec",
        "tls",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.IngressTLS",
        "hosts",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
        "to",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicyIngressRule",
        "from",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicyIngressRule",
        "ports",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        "egress",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        "ingress",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        "policyTypes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.ServiceCIDRSpec",
        "cidrs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.networking.v1.ServiceCIDRStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
        "selector",
        m(Some("replace"), None, None, &[], None),
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        "conditions",
        m(Some("merge"), Some("type"), Some("map"), &["type"], None),
    ),
    (
        "io.k8s.api.rbac.v1.AggregationRule",
        "clusterRoleSelectors",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.ClusterRole",
        "rules",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.ClusterRoleBinding",
        "subjects",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        "apiGroups",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        "nonResourceURLs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        "resourceNames",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        "resources",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        "verbs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.Role",
        "rules",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.rbac.v1.RoleBinding",
        "subjects",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.storage.v1.CSIDriverSpec",
        "tokenRequests",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.storage.v1.CSIDriverSpec",
        "volumeLifecycleModes",
        m(None, None, Some("set"), &[], None),
    ),
    (
        "io.k8s.api.storage.v1.CSINodeDriver",
        "topologyKeys",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.storage.v1.CSINodeSpec",
        "drivers",
        m(Some("merge"), Some("name"), Some("map"), &["name"], None),
    ),
    (
        "io.k8s.api.storage.v1.StorageClass",
        "allowedTopologies",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.api.storage.v1.StorageClass",
        "mountOptions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
        "serverAddressByClientCIDRs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
        "versions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
        "groups",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource",
        "categories",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource",
        "shortNames",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
        "resources",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
        "serverAddressByClientCIDRs",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
        "versions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ApplyOptions",
        "dryRun",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.CreateOptions",
        "dryRun",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "dryRun",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
        "values",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "matchExpressions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        "values",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
        m(Some("merge"), None, Some("set"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "managedFields",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        m(Some("merge"), Some("uid"), Some("map"), &["uid"], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.PatchOptions",
        "dryRun",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.RootPaths",
        "paths",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "details",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
        "causes",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Table",
        "columnDefinitions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Table",
        "rows",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.TableRow",
        "cells",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.TableRow",
        "conditions",
        m(None, None, Some("atomic"), &[], None),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.UpdateOptions",
        "dryRun",
        m(None, None, Some("atomic"), &[], None),
    ),
];

/// `(schema, x-kubernetes-map-type)` of whole structs, sorted.
static TYPES: &[(&str, &str)] = &[
    (
        "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
        "atomic",
    ),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "atomic"),
    ("io.k8s.api.core.v1.EndpointAddress", "atomic"),
    ("io.k8s.api.core.v1.EndpointPort", "atomic"),
    ("io.k8s.api.core.v1.LocalObjectReference", "atomic"),
    ("io.k8s.api.core.v1.NodeSelector", "atomic"),
    ("io.k8s.api.core.v1.NodeSelectorTerm", "atomic"),
    ("io.k8s.api.core.v1.ObjectFieldSelector", "atomic"),
    ("io.k8s.api.core.v1.ObjectReference", "atomic"),
    ("io.k8s.api.core.v1.ResourceFieldSelector", "atomic"),
    ("io.k8s.api.core.v1.ScopeSelector", "atomic"),
    ("io.k8s.api.core.v1.SecretKeySelector", "atomic"),
    ("io.k8s.api.core.v1.SecretReference", "atomic"),
    ("io.k8s.api.core.v1.TopologySelectorTerm", "atomic"),
    ("io.k8s.api.core.v1.TypedLocalObjectReference", "atomic"),
    ("io.k8s.api.discovery.v1.EndpointPort", "atomic"),
    ("io.k8s.api.networking.v1.ServiceBackendPort", "atomic"),
    ("io.k8s.api.rbac.v1.RoleRef", "atomic"),
    ("io.k8s.api.rbac.v1.Subject", "atomic"),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "atomic",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "atomic",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(FIELDS
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn well_known_fields() {
        let c = patch_meta("io.k8s.api.core.v1.PodSpec", "containers").unwrap();
        assert_eq!((c.strategy, c.merge_key), (Some("merge"), Some("name")));
        assert_eq!((c.list_type, c.list_map_keys), (Some("map"), &["name"][..]));
        let p = patch_meta("io.k8s.api.core.v1.Container", "ports").unwrap();
        assert_eq!(p.merge_key, Some("containerPort"));
        assert_eq!(p.list_map_keys, ["containerPort", "protocol"]);
        let v = patch_meta("io.k8s.api.core.v1.PodSpec", "volumes").unwrap();
        assert_eq!(v.strategy, Some("merge,retainKeys"));
        let t = patch_meta("io.k8s.api.core.v1.PodSpec", "tolerations").unwrap();
        assert_eq!((t.strategy, t.list_type), (None, Some("atomic")));
        let f = patch_meta(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
        )
        .unwrap();
        assert_eq!(
            (f.strategy, f.merge_key, f.list_type),
            (Some("merge"), None, Some("set"))
        );
        let o = patch_meta(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "ownerReferences",
        )
        .unwrap();
        assert_eq!(o.merge_key, Some("uid"));
        let s = patch_meta("io.k8s.api.core.v1.ServiceSpec", "ports").unwrap();
        assert_eq!((s.strategy, s.merge_key), (Some("merge"), Some("port")));
        for (field, key) in [("env", "name"), ("volumeMounts", "mountPath")] {
            assert_eq!(
                patch_meta("io.k8s.api.core.v1.Container", field)
                    .unwrap()
                    .merge_key,
                Some(key)
            );
        }
        let d = patch_meta("io.k8s.api.apps.v1.DeploymentSpec", "strategy").unwrap();
        assert_eq!(d.strategy, Some("retainKeys"));
        assert_eq!(
            patch_meta("io.k8s.api.core.v1.PodSpec", "nodeSelector")
                .unwrap()
                .map_type,
            Some("atomic")
        );
        assert_eq!(patch_meta("io.k8s.api.core.v1.PodSpec", "hostname"), None);
        assert_eq!(
            type_map_type("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
            Some("atomic")
        );
        assert_eq!(type_map_type("io.k8s.api.core.v1.PodSpec"), None);
    }
}
