//! What happens to pods on an unhealthy node (upstream's taint eviction controller and
//! `MarkPodsNotReady`): a pod that does not tolerate every NoExecute taint of its node is
//! deleted at once; one that tolerates them all for a limited time (`tolerationSeconds`)
//! is deleted when the shortest of those times has passed, counted from when the taint
//! was added (or the pod created, if later); a pod on a node whose Ready condition is not
//! True is marked not Ready. Pure: the time comes in as a parameter.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, PodCondition, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The event reason of the taint eviction controller.
pub const EVICTION_REASON: &str = "TaintManagerEviction";

/// Whether `toleration` tolerates `taint` (upstream's `ToleratesTaint`).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = toleration.effect.as_deref().filter(|e| !e.is_empty()) {
        if e != taint.effect {
            return false;
        }
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            !key.is_empty()
                && toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// What to do with a pod given its node's NoExecute taints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// Leave it (no taints, tolerated forever, or already being deleted).
    Keep,
    /// Delete it now.
    Now,
    /// Delete it after this long.
    After(Duration),
}

/// Whether and when `pod` is evicted from a node with `taints` (NoExecute only) at `now`.
pub fn eviction(pod: &Pod, taints: &[Taint], now: Timestamp) -> Eviction {
    if taints.is_empty() || pod.metadata.deletion_timestamp.is_some() {
        return Eviction::Keep;
    }
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    let mut deadline: Option<Timestamp> = None;
    for taint in taints {
        let matching: Vec<&Toleration> =
            tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if matching.is_empty() {
            return Eviction::Now;
        }
        // The shortest limited toleration counts; unlimited ones never expire.
        let Some(seconds) = matching.iter().filter_map(|t| t.toleration_seconds).min() else {
            continue;
        };
        let since = [
            taint.time_added.as_ref().map(|t| t.0),
            pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(now);
        let at = since
            .checked_add(jiff::SignedDuration::from_secs(seconds.max(0)))
            .unwrap_or(Timestamp::MAX);
        deadline = Some(deadline.map_or(at, |d| d.min(at)));
    }
    match deadline {
        None => Eviction::Keep,
        Some(at) if at <= now => Eviction::Now,
        Some(at) => {
            Eviction::After(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
        }
    }
}

/// The pod's conditions with DisruptionTarget set as the taint eviction controller sets it
/// before deleting; `None` when already so.
pub fn disruption_conditions(pod: &Pod, now: Timestamp) -> Option<Vec<PodCondition>> {
    set_condition(
        pod,
        PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some("DeletionByTaintManager".into()),
            message: Some("Taint manager: deleting due to NoExecute taint".into()),
            last_transition_time: Some(Time(now)),
            ..Default::default()
        },
    )
}

/// The pod's conditions with Ready turned False (its node is not Ready); `None` when the
/// pod has no Ready condition or it is False already.
pub fn not_ready_conditions(pod: &Pod, now: Timestamp) -> Option<Vec<PodCondition>> {
    let conds = pod.status.as_ref()?.conditions.as_deref()?;
    let ready = conds.iter().find(|c| c.type_ == "Ready")?;
    if ready.status == "False" {
        return None;
    }
    let mut c = ready.clone();
    c.status = "False".into();
    c.last_transition_time = Some(Time(now));
    set_condition(pod, c)
}

fn set_condition(pod: &Pod, cond: PodCondition) -> Option<Vec<PodCondition>> {
    let mut conds: Vec<PodCondition> = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    match conds.iter_mut().find(|c| c.type_ == cond.type_) {
        Some(c) => {
            if c.status == cond.status && c.reason == cond.reason && c.message == cond.message {
                return None;
            }
            let keep_transition = c.status == cond.status;
            let transition = c.last_transition_time.clone();
            *c = cond;
            if keep_transition {
                c.last_transition_time = transition;
            }
        }
        None => conds.push(cond),
    }
    Some(conds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn taint(key: &str, at: i64) -> Taint {
        Taint {
            key: key.into(),
            effect: "NoExecute".into(),
            time_added: Some(Time(t(at))),
            value: None,
        }
    }

    fn tol(key: Option<&str>, op: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: key.map(Into::into),
            operator: Some(op.into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: secs,
            value: None,
        }
    }

    fn pod(tolerations: Vec<Toleration>) -> Pod {
        let mut p = Pod {
            spec: Some(PodSpec {
                tolerations: Some(tolerations),
                ..Default::default()
            }),
            ..Default::default()
        };
        p.metadata.creation_timestamp = Some(Time(t(0)));
        p
    }

    const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

    #[test]
    fn toleration_matching() {
        let tt = taint(UNREACHABLE, 0);
        assert!(tolerates(&tol(Some(UNREACHABLE), "Exists", None), &tt));
        assert!(tolerates(&tol(None, "Exists", None), &tt));
        assert!(!tolerates(&tol(Some("other"), "Exists", None), &tt));
        let mut eq = tol(Some(UNREACHABLE), "Equal", None);
        assert!(tolerates(&eq, &tt));
        eq.value = Some("x".into());
        assert!(!tolerates(&eq, &tt));
        let mut wrong_effect = tol(Some(UNREACHABLE), "Exists", None);
        wrong_effect.effect = Some("NoSchedule".into());
        assert!(!tolerates(&wrong_effect, &tt));
        wrong_effect.effect = None;
        assert!(tolerates(&wrong_effect, &tt));
    }

    #[test]
    fn untolerated_taints_evict_at_once() {
        let p = pod(vec![]);
        assert_eq!(eviction(&p, &[taint(UNREACHABLE, 5)], t(6)), Eviction::Now);
        assert_eq!(eviction(&p, &[], t(6)), Eviction::Keep);
        let mut deleting = p.clone();
        deleting.metadata.deletion_timestamp = Some(Time(t(6)));
        assert_eq!(
            eviction(&deleting, &[taint(UNREACHABLE, 5)], t(6)),
            Eviction::Keep
        );
    }

    #[test]
    fn toleration_seconds_count_from_the_taint() {
        let p = pod(vec![tol(Some(UNREACHABLE), "Exists", Some(300))]);
        assert_eq!(
            eviction(&p, &[taint(UNREACHABLE, 100)], t(150)),
            Eviction::After(Duration::from_secs(250))
        );
        assert_eq!(
            eviction(&p, &[taint(UNREACHABLE, 100)], t(400)),
            Eviction::Now
        );
        // A pod created after the taint counts from its creation.
        let mut late = p.clone();
        late.metadata.creation_timestamp = Some(Time(t(200)));
        assert_eq!(
            eviction(&late, &[taint(UNREACHABLE, 100)], t(400)),
            Eviction::After(Duration::from_secs(100))
        );
        // Forever.
        let forever = pod(vec![tol(None, "Exists", None)]);
        assert_eq!(
            eviction(&forever, &[taint(UNREACHABLE, 0)], t(1000)),
            Eviction::Keep
        );
        // The shortest matching limit wins.
        let two = pod(vec![
            tol(None, "Exists", None),
            tol(Some(UNREACHABLE), "Exists", Some(1)),
        ]);
        assert_eq!(
            eviction(&two, &[taint(UNREACHABLE, 10)], t(10)),
            Eviction::After(Duration::from_secs(1))
        );
    }

    #[test]
    fn pods_are_marked_not_ready_once() {
        let mut p = pod(vec![]);
        p.status = Some(PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Time(t(0))),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let conds = not_ready_conditions(&p, t(5)).unwrap();
        assert_eq!(conds[0].status, "False");
        assert_eq!(conds[0].last_transition_time, Some(Time(t(5))));
        p.status.as_mut().unwrap().conditions = Some(conds);
        assert_eq!(not_ready_conditions(&p, t(6)), None);
        let d = disruption_conditions(&p, t(7)).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].reason.as_deref(), Some("DeletionByTaintManager"));
    }
}
