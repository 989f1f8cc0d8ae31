//! The numbers and booleans of the served types that Go declares without a pointer and with
//! `omitempty`, a table of facts compiled from the Kubernetes 1.33 API types
//! (`k8s.io/api/**/types.go`, `k8s.io/apimachinery/pkg/apis/meta/v1/types.go`), less the
//! options types that only travel as query parameters.
//!
//! Why: Go's protobuf encoding writes every non-pointer field, set or not, and a pointer field
//! whenever it is set, so `0` / `false` on the wire means "unset" for these fields (their JSON
//! leaves them out) but "set to zero" for pointers (`terminationGracePeriodSeconds: 0`,
//! `automountServiceAccountToken: false`, `replicas: 0`, which JSON keeps). The `.proto`
//! files do not say which is which. Kubernetes' API conventions make every new optional
//! scalar a pointer, so this list of older fields does not grow. Strings are not listed: an
//! empty string is left out unless the schema requires the field (see `descriptors`).

/// `(OpenAPI definition, JSON field)`, sorted.
pub static ZERO_IS_UNSET: &[(&str, &str)] = &[
    ("io.k8s.api.apps.v1.DaemonSetSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "numberAvailable"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "numberUnavailable"),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "observedGeneration"),
    (
        "io.k8s.api.apps.v1.DaemonSetStatus",
        "updatedNumberScheduled",
    ),
    ("io.k8s.api.apps.v1.DeploymentSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "paused"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "availableReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "replicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "unavailableReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "updatedReplicas"),
    ("io.k8s.api.apps.v1.ReplicaSetSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "availableReplicas"),
    (
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "fullyLabeledReplicas",
    ),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "currentReplicas"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "updatedReplicas"),
    ("io.k8s.api.autoscaling.v1.ScaleSpec", "replicas"),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "currentReplicas",
    ),
    ("io.k8s.api.batch.v1.JobStatus", "active"),
    ("io.k8s.api.batch.v1.JobStatus", "failed"),
    ("io.k8s.api.batch.v1.JobStatus", "succeeded"),
    (
        "io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
        "partition",
    ),
    (
        "io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
        "readOnly",
    ),
    (
        "io.k8s.api.core.v1.AzureFilePersistentVolumeSource",
        "readOnly",
    ),
    ("io.k8s.api.core.v1.AzureFileVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.CSIPersistentVolumeSource", "readOnly"),
    (
        "io.k8s.api.core.v1.CephFSPersistentVolumeSource",
        "readOnly",
    ),
    ("io.k8s.api.core.v1.CephFSVolumeSource", "readOnly"),
    (
        "io.k8s.api.core.v1.CinderPersistentVolumeSource",
        "readOnly",
    ),
    ("io.k8s.api.core.v1.CinderVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.Container", "stdin"),
    ("io.k8s.api.core.v1.Container", "stdinOnce"),
    ("io.k8s.api.core.v1.Container", "tty"),
    ("io.k8s.api.core.v1.ContainerImage", "sizeBytes"),
    ("io.k8s.api.core.v1.ContainerPort", "hostPort"),
    ("io.k8s.api.core.v1.ContainerStateTerminated", "signal"),
    ("io.k8s.api.core.v1.EphemeralContainerCommon", "stdin"),
    ("io.k8s.api.core.v1.EphemeralContainerCommon", "stdinOnce"),
    ("io.k8s.api.core.v1.EphemeralContainerCommon", "tty"),
    ("io.k8s.api.core.v1.Event", "count"),
    ("io.k8s.api.core.v1.EventSeries", "count"),
    ("io.k8s.api.core.v1.FCVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.FlexPersistentVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.FlexVolumeSource", "readOnly"),
    (
        "io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
        "partition",
    ),
    (
        "io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
        "readOnly",
    ),
    (
        "io.k8s.api.core.v1.GlusterfsPersistentVolumeSource",
        "readOnly",
    ),
    ("io.k8s.api.core.v1.GlusterfsVolumeSource", "readOnly"),
    (
        "io.k8s.api.core.v1.ISCSIPersistentVolumeSource",
        "chapAuthDiscovery",
    ),
    (
        "io.k8s.api.core.v1.ISCSIPersistentVolumeSource",
        "chapAuthSession",
    ),
    ("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", "chapAuthDiscovery"),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", "chapAuthSession"),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.NFSVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.NodeSpec", "unschedulable"),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
        "readOnly",
    ),
    ("io.k8s.api.core.v1.PodCondition", "observedGeneration"),
    ("io.k8s.api.core.v1.PodSpec", "hostIPC"),
    ("io.k8s.api.core.v1.PodSpec", "hostNetwork"),
    ("io.k8s.api.core.v1.PodSpec", "hostPID"),
    ("io.k8s.api.core.v1.PodStatus", "observedGeneration"),
    ("io.k8s.api.core.v1.PortworxVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.Probe", "failureThreshold"),
    ("io.k8s.api.core.v1.Probe", "initialDelaySeconds"),
    ("io.k8s.api.core.v1.Probe", "periodSeconds"),
    ("io.k8s.api.core.v1.Probe", "successThreshold"),
    ("io.k8s.api.core.v1.Probe", "timeoutSeconds"),
    ("io.k8s.api.core.v1.QuobyteVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.RBDPersistentVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.RBDVolumeSource", "readOnly"),
    (
        "io.k8s.api.core.v1.ReplicationControllerSpec",
        "minReadySeconds",
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        "availableReplicas",
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        "fullyLabeledReplicas",
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        "observedGeneration",
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        "readyReplicas",
    ),
    (
        "io.k8s.api.core.v1.ScaleIOPersistentVolumeSource",
        "readOnly",
    ),
    (
        "io.k8s.api.core.v1.ScaleIOPersistentVolumeSource",
        "sslEnabled",
    ),
    ("io.k8s.api.core.v1.ScaleIOVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.ScaleIOVolumeSource", "sslEnabled"),
    ("io.k8s.api.core.v1.ServicePort", "nodePort"),
    ("io.k8s.api.core.v1.ServiceSpec", "healthCheckNodePort"),
    ("io.k8s.api.core.v1.ServiceSpec", "publishNotReadyAddresses"),
    (
        "io.k8s.api.core.v1.StorageOSPersistentVolumeSource",
        "readOnly",
    ),
    ("io.k8s.api.core.v1.StorageOSVolumeSource", "readOnly"),
    ("io.k8s.api.core.v1.VolumeMount", "readOnly"),
    ("io.k8s.api.core.v1.VolumeMountStatus", "readOnly"),
    ("io.k8s.api.events.v1.Event", "deprecatedCount"),
    ("io.k8s.api.networking.v1.ServiceBackendPort", "number"),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        "observedGeneration",
    ),
    ("io.k8s.api.scheduling.v1.PriorityClass", "globalDefault"),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
        "observedGeneration",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "generation",
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Status", "code"),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
        "retryAfterSeconds",
    ),
];

/// Whether `field` of `schema` (any case) is a non-pointer `omitempty` number or boolean.
pub fn zero_is_unset(schema: &str, field: &str) -> bool {
    ZERO_IS_UNSET
        .iter()
        .any(|(s, f)| *f == field && s.eq_ignore_ascii_case(schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        assert!(ZERO_IS_UNSET.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_entry_names_a_known_field() {
        for (schema, field) in ZERO_IS_UNSET {
            let Some(m) = super::super::descriptors::message(schema) else {
                panic!("{schema}");
            };
            assert!(
                m.fields.values().any(|f| f.json == *field),
                "{schema}.{field}"
            );
        }
    }

    #[test]
    fn lookups() {
        assert!(zero_is_unset("io.k8s.api.core.v1.PodSpec", "hostNetwork"));
        assert!(zero_is_unset(
            "io.k8s.api.core.v1.awsElasticBlockStoreVolumeSource",
            "readOnly"
        ));
        assert!(!zero_is_unset(
            "io.k8s.api.core.v1.PodSpec",
            "automountServiceAccountToken"
        ));
        assert!(!zero_is_unset(
            "io.k8s.api.apps.v1.DeploymentSpec",
            "replicas"
        ));
    }
}
