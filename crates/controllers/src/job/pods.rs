//! What the Job controller reads off a Pod: active / terminating / failed / ready, the
//! tracking finalizer, the completion index, when it finished, and the order in which
//! active pods are given up (upstream's `controller.ActivePods`). Pure.

use std::cmp::Ordering;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

/// The finalizer that keeps a Job's pod until the controller counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// The annotation (and label) carrying an Indexed Job pod's completion index.
pub const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// The environment variable the index reaches containers by.
pub const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

pub fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

pub fn is_terminal(p: &Pod) -> bool {
    matches!(phase(p), "Succeeded" | "Failed")
}

pub fn is_deleting(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

/// Upstream's `FilterActivePods`: not terminal and not being deleted.
pub fn is_active(p: &Pod) -> bool {
    !is_terminal(p) && !is_deleting(p)
}

/// Being deleted but not terminal yet (`CountTerminatingPods`).
pub fn is_terminating(p: &Pod) -> bool {
    is_deleting(p) && !is_terminal(p)
}

pub fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn ready_since(p: &Pod) -> Option<Timestamp> {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready" && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

pub fn has_tracking_finalizer(p: &Pod) -> bool {
    p.metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == TRACKING_FINALIZER)
}

pub fn uid(p: &Pod) -> &str {
    p.metadata.uid.as_deref().unwrap_or("")
}

pub fn name(p: &Pod) -> &str {
    p.metadata.name.as_deref().unwrap_or("")
}

/// Whether the pod counts as failed for `job` (upstream's `isPodFailed`): Failed, or
/// deleted before succeeding unless only failed pods are replaced.
pub fn is_failed(p: &Pod, job: &Job) -> bool {
    if phase(p) == "Failed" {
        return true;
    }
    if only_replace_failed_pods(job) {
        return false;
    }
    is_deleting(p) && phase(p) != "Succeeded"
}

/// Replacement pods wait for the old ones to be Failed (not just terminating).
pub fn only_replace_failed_pods(job: &Job) -> bool {
    let spec = job.spec.as_ref();
    spec.and_then(|s| s.pod_replacement_policy.as_deref()) == Some("Failed")
        || spec.is_some_and(|s| s.pod_failure_policy.is_some())
}

/// The completion index annotation as Go's `strconv.Atoi` reads it; `None` when absent,
/// unparsable or negative.
pub fn completion_index(p: &Pod) -> Option<i64> {
    let v = p
        .metadata
        .annotations
        .as_ref()?
        .get(COMPLETION_INDEX_ANNOTATION)?;
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = v.parse().ok()?;
    (n >= 0).then_some(n)
}

/// When the pod finished (upstream's `getFinishedTime`): the last container exit, else
/// the Ready=False transition, else deletion time minus grace, else creation.
pub fn finished_time(p: &Pod) -> Timestamp {
    let status = p.status.as_ref();
    let mut latest: Option<Timestamp> = None;
    let mut all_done = true;
    for cs in status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
    {
        match cs
            .state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.finished_at.as_ref())
        {
            Some(t) => latest = Some(latest.map_or(t.0, |l| l.max(t.0))),
            None => all_done = false,
        }
    }
    if all_done {
        if let Some(t) = latest {
            return t;
        }
    }
    let ready_false = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .filter(|c| c.status == "False")
        .and_then(|c| c.last_transition_time.as_ref());
    if let Some(t) = ready_false {
        return t.0;
    }
    if let Some(d) = p.metadata.deletion_timestamp.as_ref() {
        let grace = p.metadata.deletion_grace_period_seconds.unwrap_or(0);
        return d
            .0
            .checked_sub(jiff::SignedDuration::from_secs(grace))
            .unwrap_or(d.0);
    }
    p.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn max_restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

/// Sum of container and init-container restarts.
pub fn restart_sum(p: &Pod) -> i64 {
    let s = p.status.as_ref();
    let list = |l: Option<&Vec<k8s_openapi::api::core::v1::ContainerStatus>>| {
        l.into_iter()
            .flatten()
            .map(|c| i64::from(c.restart_count))
            .sum::<i64>()
    };
    list(s.and_then(|s| s.init_container_statuses.as_ref()))
        + list(s.and_then(|s| s.container_statuses.as_ref()))
}

fn node_name(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn phase_rank(p: &Pod) -> u8 {
    match phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

/// "a is newer than b, or has no time": upstream's `afterOrZero`.
fn after_or_zero(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (None, _) | (_, None) => a.is_none(),
        (Some(a), Some(b)) => a > b,
    }
}

/// Upstream's `ActivePods` order: the pod to give up first sorts first (unscheduled,
/// then pending, not ready, ready for less time, more restarts, newer).
pub fn active_pods_order(a: &Pod, b: &Pod) -> Ordering {
    let less = |x: &Pod, y: &Pod| -> bool {
        let (nx, ny) = (node_name(x), node_name(y));
        if nx != ny && (nx.is_empty() || ny.is_empty()) {
            return nx.is_empty();
        }
        if phase_rank(x) != phase_rank(y) {
            return phase_rank(x) < phase_rank(y);
        }
        if is_ready(x) != is_ready(y) {
            return !is_ready(x);
        }
        if is_ready(x) && is_ready(y) {
            let (rx, ry) = (ready_since(x), ready_since(y));
            if rx != ry {
                return after_or_zero(rx, ry);
            }
        }
        if max_restarts(x) != max_restarts(y) {
            return max_restarts(x) > max_restarts(y);
        }
        let (cx, cy) = (
            x.metadata.creation_timestamp.as_ref().map(|t| t.0),
            y.metadata.creation_timestamp.as_ref().map(|t| t.0),
        );
        if cx != cy {
            return after_or_zero(cx, cy);
        }
        false
    };
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    use super::*;

    /// A pod of job uid `job-uid` with the tracking finalizer.
    pub fn pod(name: &str, phase: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                finalizers: Some(vec![TRACKING_FINALIZER.into()]),
                creation_timestamp: Some(Time(Timestamp::UNIX_EPOCH)),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("sim-0".into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
        }
    }

    pub fn ready(mut p: Pod) -> Pod {
        let s = p.status.get_or_insert_with(Default::default);
        s.conditions
            .get_or_insert_with(Vec::new)
            .push(PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                ..Default::default()
            });
        p
    }

    pub fn indexed(mut p: Pod, ix: i64) -> Pod {
        p.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(COMPLETION_INDEX_ANNOTATION.into(), ix.to_string());
        p
    }

    pub fn counted(mut p: Pod) -> Pod {
        p.metadata.finalizers = None;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn classifies_pods() {
        let running = pod("a", "Running");
        assert!(is_active(&running));
        assert!(!is_terminating(&running));
        let mut deleting = pod("b", "Running");
        deleting.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::UNIX_EPOCH),
        );
        assert!(!is_active(&deleting));
        assert!(is_terminating(&deleting));
        assert!(has_tracking_finalizer(&running));
        assert!(!has_tracking_finalizer(&counted(running.clone())));
        assert!(is_ready(&ready(running)));
    }

    #[test]
    fn completion_index_as_atoi() {
        assert_eq!(completion_index(&indexed(pod("a", "Running"), 3)), Some(3));
        let mut p = pod("a", "Running");
        for (v, want) in [("+2", Some(2)), ("-1", None), ("x", None), ("", None)] {
            p.metadata.annotations = Some([(COMPLETION_INDEX_ANNOTATION.into(), v.into())].into());
            assert_eq!(completion_index(&p), want, "{v}");
        }
    }

    #[test]
    fn active_order_gives_up_pending_and_unready_first() {
        let mut pending = pod("p", "Pending");
        pending.spec.as_mut().unwrap().node_name = None;
        let running = pod("r", "Running");
        let ready_running = ready(pod("rr", "Running"));
        let mut v = [ready_running, running, pending];
        v.sort_by(active_pods_order);
        let names: Vec<_> = v.iter().map(name).collect();
        assert_eq!(names, ["p", "r", "rr"]);
    }
}
