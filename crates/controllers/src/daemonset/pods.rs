//! What a pod's status says, as upstream's `podutil` reads it: ready, available (ready for
//! `minReadySeconds`), terminal. Shared by the DaemonSet and StatefulSet controllers.

use k8s_openapi::api::core::v1::{Pod, PodCondition};

/// The pod's phase ("" when unset).
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// Upstream `IsPodReady`: the Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// Upstream `IsPodAvailable`: ready, and for at least `min_ready_seconds` by `now` (judged
/// by the Ready condition's last transition).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    let Some(c) = ready_condition(pod).filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    match c.last_transition_time.as_ref() {
        Some(t) => {
            let since = t.0 + jiff::SignedDuration::from_secs(i64::from(min_ready_seconds));
            since < now
        }
        None => false,
    }
}

/// Upstream `IsPodTerminal`: Failed or Succeeded.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Failed" | "Succeeded")
}

/// Whether the pod is being deleted.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

#[cfg(test)]
pub(crate) mod fixtures {
    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    /// A pod in `phase`, Ready since `ready_since` (None: not ready).
    pub fn with_state(mut pod: Pod, phase: &str, ready_since: Option<jiff::Timestamp>) -> Pod {
        let conditions = ready_since.map(|t| {
            vec![PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Time(t)),
                ..Default::default()
            }]
        });
        pod.status = Some(PodStatus {
            phase: Some(phase.into()),
            conditions,
            ..Default::default()
        });
        pod
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::with_state;
    use super::*;

    #[test]
    fn availability_needs_min_ready_seconds() {
        let t0 = jiff::Timestamp::from_second(1_000).unwrap();
        let p = with_state(Pod::default(), "Running", Some(t0));
        assert!(is_ready(&p));
        assert!(is_available(&p, 0, t0));
        assert!(!is_available(
            &p,
            10,
            t0 + jiff::SignedDuration::from_secs(5)
        ));
        assert!(is_available(
            &p,
            10,
            t0 + jiff::SignedDuration::from_secs(11)
        ));
        let not_ready = with_state(Pod::default(), "Running", None);
        assert!(!is_ready(&not_ready));
        assert!(!is_available(&not_ready, 0, t0));
        assert!(is_terminal(&with_state(Pod::default(), "Failed", None)));
        assert_eq!(phase(&Pod::default()), "");
    }
}
