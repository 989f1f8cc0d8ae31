//! The replica controller's decisions, pure: how many pods to create or which to delete
//! (upstream `manageReplicas`, capped at [`BURST_REPLICAS`]), the status the owner should
//! report (`calculateStatus`), and when pods that are ready become available.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use skiff_api::labels::LabelSelector;

use super::owner::{Condition, Status};
use crate::podcontrol::{self, BURST_REPLICAS};

/// The condition reporting failed creates or deletes.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// What one sync does to the pods.
#[derive(Debug, PartialEq)]
pub enum Manage<'a> {
    Nothing,
    /// Create this many pods.
    Create(usize),
    /// Delete these pods.
    Delete(Vec<&'a Pod>),
}

/// Creates or deletes toward `replicas`, given the owner's active `pods` and the active
/// pods of its siblings under the same controller (`related`, for spreading deletions).
pub fn manage<'a>(
    replicas: i32,
    pods: &[&'a Pod],
    related: &[&Pod],
    now: jiff::Timestamp,
) -> Manage<'a> {
    let want = replicas.max(0) as usize;
    match pods.len().cmp(&want) {
        std::cmp::Ordering::Equal => Manage::Nothing,
        std::cmp::Ordering::Less => Manage::Create((want - pods.len()).min(BURST_REPLICAS)),
        std::cmp::Ordering::Greater => {
            let n = (pods.len() - want).min(BURST_REPLICAS);
            Manage::Delete(podcontrol::pods_to_delete(pods, related, n, now))
        }
    }
}

/// The status for the owner's active `pods` (upstream `calculateStatus`): counts, the
/// generation observed, and a ReplicaFailure condition while creating or deleting fails.
#[allow(clippy::too_many_arguments)]
pub fn calculate_status(
    old: &Status,
    generation: i64,
    replicas: i32,
    template_labels: Option<&BTreeMap<String, String>>,
    min_ready_seconds: i32,
    pods: &[&Pod],
    manage_err: Option<&str>,
    now: jiff::Timestamp,
) -> Status {
    let template = LabelSelector::from_set(template_labels.unwrap_or(&BTreeMap::new()));
    let mut st = old.clone();
    st.fully_labeled_replicas = 0;
    st.ready_replicas = 0;
    st.available_replicas = 0;
    for p in pods {
        if podcontrol::matches(&template, p.metadata.labels.as_ref()) {
            st.fully_labeled_replicas += 1;
        }
        if podcontrol::is_ready(p) {
            st.ready_replicas += 1;
            if podcontrol::is_available(p, min_ready_seconds, now) {
                st.available_replicas += 1;
            }
        }
    }
    let has_failure = st.conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match manage_err {
        Some(msg) if !has_failure => {
            let diff = pods.len() as i64 - i64::from(replicas);
            let reason = match diff {
                d if d < 0 => "FailedCreate",
                d if d > 0 => "FailedDelete",
                _ => "",
            };
            st.conditions.push(Condition {
                type_: REPLICA_FAILURE.into(),
                status: "True".into(),
                reason: Some(reason.into()),
                message: Some(msg.into()),
                last_transition_time: Some(Time(now)),
            });
        }
        None if has_failure => st.conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    st.replicas = pods.len() as i32;
    st.observed_generation = generation;
    st
}

/// The shortest time between two status writes that only move counts toward the target.
pub const STATUS_COALESCE: Duration = Duration::from_millis(100);

/// Whether writing `new` over `old` may wait (and how long): only while counts are moving
/// during a burst. A new generation, changed conditions, or counts that reached `replicas`
/// are written at once, so the final state is never late.
pub fn status_write_delay(
    old: &Status,
    new: &Status,
    replicas: i32,
    last_write: Option<std::time::Instant>,
    now: std::time::Instant,
) -> Option<Duration> {
    let settled = new.replicas == replicas
        && new.ready_replicas == replicas
        && new.available_replicas == replicas
        && new.fully_labeled_replicas == replicas;
    if settled
        || new.observed_generation != old.observed_generation
        || new.conditions != old.conditions
    {
        return None;
    }
    let since = now.saturating_duration_since(last_write?);
    (since < STATUS_COALESCE).then(|| STATUS_COALESCE - since)
}

/// How long until the next ready pod becomes available (None: none is waiting).
pub fn next_available_in(
    pods: &[&Pod],
    min_ready_seconds: i32,
    now: jiff::Timestamp,
) -> Option<Duration> {
    if min_ready_seconds <= 0 {
        return None;
    }
    pods.iter()
        .filter(|p| !podcontrol::is_available(p, min_ready_seconds, now))
        .filter_map(|p| podcontrol::ready_since(p).flatten())
        .map(|t| {
            let at = t.as_millisecond() + i64::from(min_ready_seconds) * 1000 + 1;
            Duration::from_millis((at - now.as_millisecond()).max(0) as u64)
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn ts(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(s).unwrap()
    }

    fn pod(name: &str, app: &str, ready_at: Option<i64>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([("app".to_string(), app.to_string())].into()),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: ready_at.map(|t| {
                    vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(ts(t))),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn creates_the_missing_and_deletes_the_surplus_within_the_burst() {
        let now = ts(1000);
        let a = pod("a", "web", None);
        let b = pod("b", "web", Some(10));
        assert_eq!(manage(2, &[&a, &b], &[], now), Manage::Nothing);
        assert_eq!(manage(5, &[&a], &[], now), Manage::Create(4));
        assert_eq!(manage(5000, &[], &[], now), Manage::Create(BURST_REPLICAS));
        match manage(1, &[&b, &a], &[], now) {
            Manage::Delete(v) => assert_eq!(v[0].metadata.name.as_deref(), Some("a")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn count_only_status_writes_are_coalesced() {
        let t = std::time::Instant::now();
        let old = Status {
            replicas: 10,
            observed_generation: 2,
            ..Default::default()
        };
        let moving = Status {
            replicas: 20,
            ..old.clone()
        };
        assert_eq!(status_write_delay(&old, &moving, 50, None, t), None);
        let later = t + Duration::from_millis(30);
        assert_eq!(
            status_write_delay(&old, &moving, 50, Some(t), later),
            Some(Duration::from_millis(70))
        );
        assert_eq!(
            status_write_delay(&old, &moving, 50, Some(t), t + STATUS_COALESCE),
            None
        );
        let done = Status {
            replicas: 50,
            fully_labeled_replicas: 50,
            ready_replicas: 50,
            available_replicas: 50,
            ..old.clone()
        };
        assert_eq!(status_write_delay(&old, &done, 50, Some(t), later), None);
        let new_gen = Status {
            observed_generation: 3,
            ..moving
        };
        assert_eq!(status_write_delay(&old, &new_gen, 50, Some(t), later), None);
    }

    #[test]
    fn status_counts_and_failure_condition() {
        let now = ts(1000);
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let a = pod("a", "web", Some(995));
        let b = pod("b", "other", Some(100));
        let c = pod("c", "web", None);
        let st = calculate_status(
            &Status::default(),
            3,
            4,
            Some(&labels),
            10,
            &[&a, &b, &c],
            Some("quota"),
            now,
        );
        assert_eq!(st.replicas, 3);
        assert_eq!(st.fully_labeled_replicas, 2);
        assert_eq!(st.ready_replicas, 2);
        assert_eq!(st.available_replicas, 1);
        assert_eq!(st.observed_generation, 3);
        assert_eq!(st.conditions[0].reason.as_deref(), Some("FailedCreate"));
        let st = calculate_status(&st, 3, 3, Some(&labels), 10, &[&a, &b, &c], None, now);
        assert!(st.conditions.is_empty());
        assert_eq!(
            next_available_in(&[&a, &b, &c], 10, now),
            Some(Duration::from_millis(5001))
        );
    }
}
