//! A StatefulSet's status (upstream `computeReplicaStatus`, `completeRollingUpdate`,
//! `inconsistentStatus`): replicas, ready, available, current and updated counts, the
//! revisions and the collision count; written only when it differs from what the set says.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use super::pods::{
    is_created, is_running_and_available, is_running_and_ready, pod_revision, replicas,
};

/// Upstream `updateStatus`: counts over `pods` into `status`.
pub fn count<'a>(
    status: &mut StatefulSetStatus,
    pods: impl IntoIterator<Item = &'a Pod>,
    min_ready: i32,
    current: &str,
    update: &str,
    now: jiff::Timestamp,
) {
    let (mut reps, mut ready, mut avail, mut cur, mut upd) = (0, 0, 0, 0, 0);
    for p in pods {
        let created = is_created(p);
        if created {
            reps += 1;
        }
        if is_running_and_ready(p) {
            ready += 1;
            if is_running_and_available(p, min_ready, now) {
                avail += 1;
            }
        }
        if created && p.metadata.deletion_timestamp.is_none() {
            let rev = pod_revision(p);
            if rev == current {
                cur += 1;
            }
            if rev == update {
                upd += 1;
            }
        }
    }
    status.replicas = reps;
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(avail);
    status.current_replicas = Some(cur);
    status.updated_replicas = Some(upd);
}

/// Upstream `completeRollingUpdate`: once every replica is updated and ready under
/// RollingUpdate, the update revision becomes the current one.
pub fn complete_rolling_update(set: &StatefulSet, status: &mut StatefulSetStatus) {
    let rolling = set
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate";
    let want = replicas(set) as i32;
    if rolling
        && status.updated_replicas.unwrap_or(0) == want
        && status.ready_replicas.unwrap_or(0) == want
        && status.replicas == want
    {
        status.current_replicas = status.updated_replicas;
        status.current_revision = status.update_revision.clone();
    }
}

/// Upstream `inconsistentStatus`: whether `status` must be written.
pub fn inconsistent(set: &StatefulSet, status: &StatefulSetStatus) -> bool {
    let have = set.status.clone().unwrap_or_default();
    let n = |v: Option<i32>| v.unwrap_or(0);
    status.observed_generation.unwrap_or(0) > have.observed_generation.unwrap_or(0)
        || status.replicas != have.replicas
        || n(status.current_replicas) != n(have.current_replicas)
        || n(status.ready_replicas) != n(have.ready_replicas)
        || n(status.updated_replicas) != n(have.updated_replicas)
        || status.current_revision.as_deref().unwrap_or("")
            != have.current_revision.as_deref().unwrap_or("")
        || n(status.available_replicas) != n(have.available_replicas)
        || status.update_revision.as_deref().unwrap_or("")
            != have.update_revision.as_deref().unwrap_or("")
}

/// The status merge patch; fields upstream omits when zero or empty are removed.
pub fn status_patch(status: &StatefulSetStatus) -> Value {
    let int = |v: Option<i32>| match v {
        Some(0) | None => Value::Null,
        Some(v) => json!(v),
    };
    let text = |v: &Option<String>| match v.as_deref() {
        None | Some("") => Value::Null,
        Some(s) => json!(s),
    };
    json!({"status": {
        "observedGeneration": match status.observed_generation { Some(0) | None => Value::Null, Some(g) => json!(g) },
        "replicas": status.replicas,
        "readyReplicas": int(status.ready_replicas),
        "currentReplicas": int(status.current_replicas),
        "updatedReplicas": int(status.updated_replicas),
        "availableReplicas": status.available_replicas.unwrap_or(0),
        "currentRevision": text(&status.current_revision),
        "updateRevision": text(&status.update_revision),
        "collisionCount": status.collision_count.unwrap_or(0),
    }})
}
