//! The DaemonSet's status (upstream `updateDaemonSetStatus`): per node that should run a
//! pod, whether it has one, whether the oldest is ready / available / updated; pods on
//! nodes that should not run one are misscheduled. Also the status patch, written only when
//! something changed.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{json, Value};

use super::manage::{node_to_pods, pod_order};
use super::placement::{is_pod_updated, placement, template_generation};
use super::pods::{is_available, is_ready};

/// The counts a DaemonSet reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub desired_number_scheduled: i32,
    pub current_number_scheduled: i32,
    pub number_misscheduled: i32,
    pub number_ready: i32,
    pub updated_number_scheduled: i32,
    pub number_available: i32,
    pub number_unavailable: i32,
}

/// Upstream's counting.
pub fn counts(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &[Arc<Pod>],
    hash: &str,
    now: jiff::Timestamp,
) -> Counts {
    let by_node = node_to_pods(pods, false);
    let min_ready = ds
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let generation = template_generation(ds);
    let mut c = Counts::default();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let on_node = by_node.get(name).filter(|p| !p.is_empty());
        if placement(node, ds).should_run {
            c.desired_number_scheduled += 1;
            let Some(on_node) = on_node else { continue };
            c.current_number_scheduled += 1;
            let Some(pod) = on_node.iter().min_by(|a, b| pod_order(a, b)) else {
                continue;
            };
            if is_ready(pod) {
                c.number_ready += 1;
                if is_available(pod, min_ready, now) {
                    c.number_available += 1;
                }
            }
            if is_pod_updated(pod, hash, generation) {
                c.updated_number_scheduled += 1;
            }
        } else if on_node.is_some() {
            c.number_misscheduled += 1;
        }
    }
    c.number_unavailable = c.desired_number_scheduled - c.number_available;
    c
}

/// The status merge patch that records `c` (and the generation when `observe`), or `None`
/// when the DaemonSet already says so (upstream `storeDaemonSetStatus`). Fields upstream
/// omits when zero are removed rather than written as 0.
pub fn status_patch(ds: &DaemonSet, c: &Counts, observe: bool) -> Option<Value> {
    let st = ds.status.clone().unwrap_or_default();
    let generation = ds.metadata.generation.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0);
    let same = st.desired_number_scheduled == c.desired_number_scheduled
        && st.current_number_scheduled == c.current_number_scheduled
        && st.number_misscheduled == c.number_misscheduled
        && st.number_ready == c.number_ready
        && st.updated_number_scheduled.unwrap_or(0) == c.updated_number_scheduled
        && st.number_available.unwrap_or(0) == c.number_available
        && st.number_unavailable.unwrap_or(0) == c.number_unavailable
        && observed >= generation;
    if same {
        return None;
    }
    let omit_zero = |v: i32| if v == 0 { Value::Null } else { json!(v) };
    let mut status = json!({
        "desiredNumberScheduled": c.desired_number_scheduled,
        "currentNumberScheduled": c.current_number_scheduled,
        "numberMisscheduled": c.number_misscheduled,
        "numberReady": c.number_ready,
        "updatedNumberScheduled": omit_zero(c.updated_number_scheduled),
        "numberAvailable": omit_zero(c.number_available),
        "numberUnavailable": omit_zero(c.number_unavailable),
    });
    if observe && generation != 0 {
        status["observedGeneration"] = json!(generation);
    }
    Some(json!({ "status": status }))
}
