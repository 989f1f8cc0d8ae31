//! A StatefulSet member's identity and storage (upstream `stateful_set_utils.go`): pods are
//! `<set>-<ordinal>` with the pod-name and pod-index labels, hostname = pod name and
//! subdomain = `serviceName`; each volume claim template gives the pod a PVC
//! `<template>-<set>-<ordinal>` mounted as the template's volume. The claims' owner
//! references follow `persistentVolumeClaimRetentionPolicy` (a reference to the set when
//! deleted = Delete, to the pod of a scaled-down ordinal when scaled = Delete), so the
//! garbage collector removes them when their owner goes.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::daemonset::pods::{is_available, is_ready, phase};
use crate::history::controller_ref;

/// The label with a member pod's own name.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label with a member pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The label with the revision a member pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// Upstream `getParentNameAndOrdinal`: `(.*)-([0-9]+)$`; ordinal -1 when the name has none
/// (or it overflows 32 bits).
pub fn parent_and_ordinal(name: &str) -> (Option<&str>, i64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return (None, -1);
    }
    let split = name.len() - digits;
    if split == 0 || &name[split - 1..split] != "-" {
        return (None, -1);
    }
    let parent = &name[..split - 1];
    let ordinal = name[split..].parse::<i32>().map(i64::from).unwrap_or(-1);
    (Some(parent), ordinal)
}

/// The pod's ordinal, -1 if it has none.
pub fn ordinal(pod: &Pod) -> i64 {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or("")).1
}

fn spec_of(set: &StatefulSet) -> Option<&k8s_openapi::api::apps::v1::StatefulSetSpec> {
    set.spec.as_ref()
}

/// `spec.replicas` (default 1).
pub fn replicas(set: &StatefulSet) -> i64 {
    i64::from(spec_of(set).and_then(|s| s.replicas).unwrap_or(1).max(0))
}

/// The first ordinal (`spec.ordinals.start`, default 0).
pub fn start_ordinal(set: &StatefulSet) -> i64 {
    i64::from(
        spec_of(set)
            .and_then(|s| s.ordinals.as_ref())
            .and_then(|o| o.start)
            .unwrap_or(0),
    )
}

/// The last ordinal (inclusive).
pub fn end_ordinal(set: &StatefulSet) -> i64 {
    start_ordinal(set) + replicas(set) - 1
}

/// Whether the pod's ordinal is one the set keeps.
pub fn in_ordinal_range(pod: &Pod, set: &StatefulSet) -> bool {
    let o = ordinal(pod);
    o >= start_ordinal(set) && o <= end_ordinal(set)
}

fn set_name(set: &StatefulSet) -> &str {
    set.metadata.name.as_deref().unwrap_or("")
}

/// `<set>-<ordinal>`.
pub fn pod_name(set: &StatefulSet, ordinal: i64) -> String {
    format!("{}-{}", set_name(set), ordinal)
}

/// `<template>-<set>-<ordinal>`.
pub fn claim_name(set: &StatefulSet, template: &str, ordinal: i64) -> String {
    format!("{}-{}-{}", template, set_name(set), ordinal)
}

/// Whether the pod's name makes it a member of the set.
pub fn is_member_of(set: &StatefulSet, pod: &Pod) -> bool {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or("")).0 == Some(set_name(set))
}

/// The revision a pod was made from ("" if unlabelled).
pub fn pod_revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map(String::as_str)
        .unwrap_or("")
}

/// Upstream `identityMatches`.
pub fn identity_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let (parent, ord) = parent_and_ordinal(name);
    ord >= 0
        && parent == Some(set_name(set))
        && name == pod_name(set, ord)
        && pod.metadata.namespace == set.metadata.namespace
        && pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(POD_NAME_LABEL))
            .map(String::as_str)
            == Some(name)
}

fn templates(set: &StatefulSet) -> &[PersistentVolumeClaim] {
    spec_of(set)
        .and_then(|s| s.volume_claim_templates.as_deref())
        .unwrap_or(&[])
}

fn template_name(t: &PersistentVolumeClaim) -> &str {
    t.metadata.name.as_deref().unwrap_or("")
}

/// Upstream `storageMatches`: every claim template is mounted from this pod's claim.
pub fn storage_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let ord = ordinal(pod);
    if ord < 0 {
        return false;
    }
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or(&[]);
    templates(set).iter().all(|t| {
        volumes
            .iter()
            .find(|v| v.name == template_name(t))
            .and_then(|v| v.persistent_volume_claim.as_ref())
            .is_some_and(|c| c.claim_name == claim_name(set, template_name(t), ord))
    })
}

/// Upstream `getPersistentVolumeClaims`: the pod's claims by template name, labelled with
/// the set's `matchLabels`.
pub fn claims_for(set: &StatefulSet, pod: &Pod) -> BTreeMap<String, PersistentVolumeClaim> {
    let ord = ordinal(pod);
    let match_labels = spec_of(set)
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    templates(set)
        .iter()
        .map(|t| {
            let mut c = t.clone();
            c.metadata.name = Some(claim_name(set, template_name(t), ord));
            c.metadata.namespace = set.metadata.namespace.clone();
            let labels = c.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.extend(match_labels.clone());
            c.status = None;
            (template_name(t).to_string(), c)
        })
        .collect()
}

/// Upstream `updateStorage`: the claim volumes first, then the pod's other volumes.
pub fn update_storage(set: &StatefulSet, pod: &mut Pod) {
    let claims = claims_for(set, pod);
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(name, c)| Volume {
            name: name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: c.metadata.name.clone().unwrap_or_default(),
                read_only: Some(false),
            }),
            ..Default::default()
        })
        .collect();
    for v in spec.volumes.take().unwrap_or_default() {
        if !claims.contains_key(&v.name) {
            volumes.push(v);
        }
    }
    spec.volumes = Some(volumes);
}

/// Upstream `updateIdentity`: name, namespace, pod-name and pod-index labels.
pub fn update_identity(set: &StatefulSet, pod: &mut Pod) {
    let ord = ordinal(pod);
    pod.metadata.name = Some(pod_name(set, ord));
    pod.metadata.namespace = set.metadata.namespace.clone();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name);
    labels.insert(POD_INDEX_LABEL.into(), ord.to_string());
}

/// Upstream `newStatefulSetPod`: the template as a pod named `<set>-<ordinal>`, owned by
/// the set, with its identity (hostname, subdomain) and storage.
pub fn new_pod(set: &StatefulSet, ordinal: i64) -> Pod {
    let t = spec_of(set).map(|s| s.template.clone()).unwrap_or_default();
    let tm = t.metadata.unwrap_or_default();
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(pod_name(set, ordinal)),
            generate_name: Some(format!("{}-", set_name(set))),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![controller_ref(set)]),
            ..Default::default()
        },
        spec: t.spec,
        status: None,
    };
    update_identity(set, &mut pod);
    let service = spec_of(set).and_then(|s| s.service_name.clone());
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.hostname = pod.metadata.name.clone();
    spec.subdomain = service.filter(|s| !s.is_empty());
    update_storage(set, &mut pod);
    pod
}

/// Upstream `newVersionedStatefulSetPod` (with upstream's operator precedence: a partition
/// decides even when the strategy is not RollingUpdate).
pub fn new_versioned_pod(
    current_set: &StatefulSet,
    update_set: &StatefulSet,
    current_revision: &str,
    update_revision: &str,
    ordinal: i64,
) -> Pod {
    let strategy = spec_of(current_set).and_then(|s| s.update_strategy.as_ref());
    let rolling_type = strategy
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate";
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let current_replicas = i64::from(
        current_set
            .status
            .as_ref()
            .and_then(|s| s.current_replicas)
            .unwrap_or(0),
    );
    let start = start_ordinal(current_set);
    let use_current = (rolling_type && rolling.is_none() && ordinal < start + current_replicas)
        || rolling.is_some_and(|r| ordinal < start + i64::from(r.partition.unwrap_or(0)));
    let (set, rev) = if use_current {
        (current_set, current_revision)
    } else {
        (update_set, update_revision)
    };
    let mut pod = new_pod(set, ordinal);
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_LABEL.into(), rev.to_string());
    pod
}

/// Upstream `isCreated`: the API server gave it a phase.
pub fn is_created(pod: &Pod) -> bool {
    !phase(pod).is_empty()
}

/// Upstream `isRunningAndReady`.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

/// Upstream `isRunningAndAvailable`.
pub fn is_running_and_available(pod: &Pod, min_ready: i32, now: jiff::Timestamp) -> bool {
    is_available(pod, min_ready, now)
}

/// Upstream `isUnavailable`.
pub fn is_unavailable(pod: &Pod, min_ready: i32, now: jiff::Timestamp) -> bool {
    !is_running_and_available(pod, min_ready, now) || pod.metadata.deletion_timestamp.is_some()
}

// ---------------------------------------------------------------------------------------------
// persistentVolumeClaimRetentionPolicy

/// `(whenDeleted, whenScaled)`, each `Retain` (default) or `Delete`.
pub fn retention(set: &StatefulSet) -> (bool, bool) {
    let p = spec_of(set).and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let delete = |v: Option<&String>| v.map(String::as_str) == Some("Delete");
    (
        delete(p.and_then(|p| p.when_deleted.as_ref())),
        delete(p.and_then(|p| p.when_scaled.as_ref())),
    )
}

fn refs(c: &PersistentVolumeClaim) -> &[OwnerReference] {
    c.metadata.owner_references.as_deref().unwrap_or(&[])
}

fn is_set_ref(r: &OwnerReference, set: &StatefulSet) -> bool {
    r.api_version == "apps/v1" && r.kind == "StatefulSet" && r.name == set_name(set)
}

fn is_pod_ref(r: &OwnerReference, pod: &Pod) -> bool {
    r.api_version == "v1"
        && r.kind == "Pod"
        && Some(r.name.as_str()) == pod.metadata.name.as_deref()
}

fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or("")
}

fn has_owner(c: &PersistentVolumeClaim, owner_uid: &str) -> bool {
    refs(c).iter().any(|r| r.uid == owner_uid)
}

/// Upstream `hasStaleOwnerRef` for the pod: a reference to a pod of this name but another
/// UID (a pod not created yet has none).
pub fn has_stale_pod_ref(c: &PersistentVolumeClaim, pod: &Pod) -> bool {
    refs(c)
        .iter()
        .find(|r| is_pod_ref(r, pod))
        .is_some_and(|r| r.uid != uid(&pod.metadata))
}

fn has_stale_set_ref(c: &PersistentVolumeClaim, set: &StatefulSet) -> bool {
    refs(c)
        .iter()
        .find(|r| is_set_ref(r, set))
        .is_some_and(|r| r.uid != uid(&set.metadata))
}

/// Upstream `hasUnexpectedController`.
pub fn has_unexpected_controller(c: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    let (when_deleted, when_scaled) = retention(set);
    if !when_deleted && !when_scaled {
        return false;
    }
    for r in refs(c) {
        if is_set_ref(r, set) {
            if r.uid != uid(&set.metadata) {
                return true;
            }
            continue;
        }
        if is_pod_ref(r, pod) {
            if r.uid != uid(&pod.metadata) {
                return true;
            }
            continue;
        }
        if r.controller == Some(true) {
            return true;
        }
    }
    false
}

fn has_non_controller_owner(c: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    refs(c).iter().any(|r| {
        (r.uid == uid(&set.metadata) || r.uid == uid(&pod.metadata)) && r.controller != Some(true)
    })
}

/// Upstream `isClaimOwnerUpToDate`.
pub fn claim_owner_up_to_date(c: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    if has_stale_set_ref(c, set) || has_stale_pod_ref(c, pod) {
        return true;
    }
    let set_uid = uid(&set.metadata);
    let pod_uid = uid(&pod.metadata);
    if has_unexpected_controller(c, set, pod) {
        return !(has_owner(c, set_uid) || has_owner(c, pod_uid));
    }
    if has_non_controller_owner(c, set, pod) {
        return false;
    }
    let scaled_down = !in_ordinal_range(pod, set);
    match retention(set) {
        (false, false) => !has_owner(c, set_uid) && !has_owner(c, pod_uid),
        (true, false) => has_owner(c, set_uid) && !has_owner(c, pod_uid),
        (false, true) => !has_owner(c, set_uid) && scaled_down == has_owner(c, pod_uid),
        (true, true) => {
            scaled_down != has_owner(c, set_uid) && scaled_down == has_owner(c, pod_uid)
        }
    }
}

/// Upstream `updateClaimOwnerRefForSetAndPod`: the claim with its references to the set
/// and the pod rewritten for the policy.
pub fn with_policy_owners(
    c: &PersistentVolumeClaim,
    set: &StatefulSet,
    pod: &Pod,
) -> PersistentVolumeClaim {
    let mut out = c.clone();
    let unexpected = has_unexpected_controller(c, set, pod);
    let mut list: Vec<OwnerReference> = refs(c)
        .iter()
        .filter(|r| !is_set_ref(r, set) && !is_pod_ref(r, pod))
        .cloned()
        .collect();
    if !unexpected {
        let add = |list: &mut Vec<OwnerReference>, r: OwnerReference| {
            if !list.iter().any(|x| x.uid == r.uid) {
                list.push(r);
            }
        };
        let scaled_down = !in_ordinal_range(pod, set);
        let (when_deleted, when_scaled) = retention(set);
        if when_scaled && scaled_down {
            add(&mut list, controller_ref(pod));
        }
        if when_deleted && (!when_scaled || !scaled_down) {
            add(&mut list, controller_ref(set));
        }
    }
    out.metadata.owner_references = if list.is_empty() { None } else { Some(list) };
    out
}
