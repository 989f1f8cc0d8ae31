//! The `endpoints.kubernetes.io/last-change-trigger-time` annotation (upstream's
//! TriggerTimeTracker): the earliest time of the changes a sync reflects. Per Service the
//! tracker remembers the trigger times it saw (each pod's Ready condition transition, the
//! Service's creation); a sync's trigger time is the minimum of those that moved since the
//! last one, or the Service's creation the first time. Pure.

use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, Service};

/// The annotation's name.
pub const ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// What the tracker saw at the last sync of one Service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceState {
    pods: HashMap<String, Timestamp>,
    service: Option<Timestamp>,
}

/// The trigger times of every Service seen, by `namespace/name`.
#[derive(Debug, Default)]
pub struct Tracker {
    states: HashMap<String, ServiceState>,
}

fn pod_trigger_time(pod: &Pod) -> Option<Timestamp> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?
        .last_transition_time
        .as_ref()
        .map(|t| t.0)
}

fn min(a: Option<Timestamp>, b: Timestamp) -> Option<Timestamp> {
    Some(a.map_or(b, |a| a.min(b)))
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The trigger time of a sync of `svc` (key `key`) over `pods`; `None` when nothing it
    /// tracks changed. Updates the state.
    pub fn compute(&mut self, key: &str, svc: &Service, pods: &[&Pod]) -> Option<Timestamp> {
        let known = self.states.contains_key(key);
        let state = self.states.entry(key.to_string()).or_default();
        let mut changed: Option<Timestamp> = None;
        let mut seen = HashMap::new();
        for pod in pods {
            let Some(t) = pod_trigger_time(pod) else {
                continue;
            };
            let name = pod.metadata.name.clone().unwrap_or_default();
            if state.pods.get(&name).is_none_or(|last| t > *last) {
                changed = min(changed, t);
            }
            seen.insert(name, t);
        }
        let created = svc.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(c) = created {
            if state.service.is_none_or(|last| c > last) {
                changed = min(changed, c);
            }
        }
        state.pods = seen;
        state.service = created;
        if !known {
            return created;
        }
        changed
    }

    /// Forgets a Service that was deleted.
    pub fn delete(&mut self, key: &str) {
        self.states.remove(key);
    }
}

/// How the annotation's value is written (Go's RFC3339Nano, in UTC).
pub fn format(t: Timestamp) -> String {
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::super::pods::fixtures::*;
    use super::*;

    #[test]
    fn first_sync_is_the_service_creation_then_only_changes_count() {
        let svc = service("web", vec![]);
        let a = pod("a", "10.42.0.5", true);
        let mut t = Tracker::new();
        assert_eq!(
            t.compute("ns/web", &svc, &[&a]),
            Some(ts(500).0),
            "the Service's creation"
        );
        assert_eq!(t.compute("ns/web", &svc, &[&a]), None, "nothing moved");
        let mut b = pod("b", "10.42.0.6", true);
        b.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_transition_time =
            Some(ts(3_000));
        assert_eq!(t.compute("ns/web", &svc, &[&a, &b]), Some(ts(3_000).0));
        let mut a2 = a.clone();
        a2.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_transition_time =
            Some(ts(2_000));
        assert_eq!(t.compute("ns/web", &svc, &[&a2, &b]), Some(ts(2_000).0));
        t.delete("ns/web");
        assert_eq!(t.compute("ns/web", &svc, &[]), Some(ts(500).0));
    }

    #[test]
    fn formatting() {
        assert_eq!(format(ts(0).0), "1970-01-01T00:00:00Z");
    }
}
