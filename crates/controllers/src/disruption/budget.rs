//! A PodDisruptionBudget's status as upstream's disruption controller computes it: the
//! pods it selects, how many are expected (minAvailable as a number: the pods there are;
//! a percentage or maxUnavailable: the sum of the scales of the pods' controllers), how
//! many must stay healthy, how many are (ready, not being deleted, not just evicted),
//! how many may be disrupted, the evicted pods still awaited (`disruptedPods`, dropped
//! after two minutes) and the `DisruptionAllowed` condition. Pure: the time is a
//! parameter, controller scales are looked up by the caller.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use skiff_api::labels::{LabelSelector, MetaLabelSelector, MetaLabelSelectorRequirement};

use crate::endpoints::pods::is_ready;

/// How long an evicted pod may take to be deleted before it counts again.
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(120);
/// The condition type.
pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";
pub const SUFFICIENT_PODS: &str = "SufficientPods";
pub const INSUFFICIENT_PODS: &str = "InsufficientPods";
pub const SYNC_FAILED: &str = "SyncFailed";

/// The pods the budget selects (policy/v1: an empty selector selects every pod of the
/// namespace, a missing one none). `Err` with the selector's error.
pub fn selector(pdb: &PodDisruptionBudget) -> Result<LabelSelector, String> {
    let Some(sel) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return Ok(LabelSelector::nothing());
    };
    let meta = MetaLabelSelector {
        match_labels: sel.match_labels.clone().unwrap_or_default(),
        match_expressions: sel
            .match_expressions
            .iter()
            .flatten()
            .map(|r| MetaLabelSelectorRequirement {
                key: r.key.clone(),
                operator: r.operator.clone(),
                values: r.values.clone().unwrap_or_default(),
            })
            .collect(),
    };
    LabelSelector::from_meta(&meta).map_err(|e| e.to_string())
}

/// A label selector as Go's generated `String()` prints it (upstream's event messages
/// quote the selector so).
pub fn selector_string(
    sel: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) -> String {
    let Some(sel) = sel else {
        return "nil".into();
    };
    let labels: String = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let exprs: String = sel
        .match_expressions
        .iter()
        .flatten()
        .map(|r| {
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                r.key,
                r.operator,
                r.values.clone().unwrap_or_default().join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )
}

/// Whether the budget's selector selects `pod`.
pub fn selects(sel: &LabelSelector, pod: &Pod) -> bool {
    let empty = BTreeMap::new();
    sel.matches(pod.metadata.labels.as_ref().unwrap_or(&empty))
}

/// Upstream's GetScaledValueFromIntOrPercent: a number as is, `N%` of `total` rounded up
/// or down.
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> Result<i32, String> {
    match v {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let Some(num) = s.strip_suffix('%') else {
                return Err(
                    "invalid value for IntOrString: invalid type: string is not a percentage"
                        .into(),
                );
            };
            let n: i64 = num.parse().map_err(|_| {
                format!(
                    "invalid value for IntOrString: invalid value {s:?}: strconv.Atoi: parsing {num:?}: invalid syntax"
                )
            })?;
            let scaled = n as f64 * total as f64 / 100.0;
            Ok(if round_up {
                scaled.ceil()
            } else {
                scaled.floor()
            } as i32)
        }
    }
}

/// The controller of a pod (its ownerReference with controller: true).
pub fn controller_of(pod: &Pod) -> Option<&OwnerReference> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// What a lookup of a pod's controller found: the scale of the controller (by its uid).
pub type ScaleLookup = HashMap<String, Result<Option<i32>, String>>;

/// Expected pods, healthy pods wanted, and the pods without a controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub expected: i32,
    pub desired_healthy: i32,
    pub unmanaged: Vec<String>,
}

/// Upstream's getExpectedScale: the sum of the scales of the pods' controllers, given
/// `scales` (controller uid -> its scale, `None` when no controller of that uid exists).
fn expected_scale(pods: &[&Pod], scales: &ScaleLookup) -> Result<(i32, Vec<String>), String> {
    let mut seen: BTreeMap<String, i32> = BTreeMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(r) = controller_of(pod) else {
            unmanaged.push(name);
            continue;
        };
        if seen.contains_key(&r.uid) {
            continue;
        }
        match scales.get(&r.uid) {
            Some(Ok(Some(scale))) => {
                seen.insert(r.uid.clone(), *scale);
            }
            Some(Err(e)) => return Err(e.clone()),
            _ => return Err(format!("found no controllers for pod {name:?}")),
        }
    }
    Ok((seen.values().sum(), unmanaged))
}

/// Upstream's getExpectedPodCount.
pub fn expected_counts(
    pdb: &PodDisruptionBudget,
    pods: &[&Pod],
    scales: &ScaleLookup,
) -> Result<Expected, String> {
    let spec = pdb.spec.clone().unwrap_or_default();
    if let Some(max) = spec.max_unavailable.as_ref() {
        let (expected, unmanaged) = expected_scale(pods, scales)?;
        let max = scaled_value(max, expected, true)?;
        return Ok(Expected {
            expected,
            desired_healthy: (expected - max).max(0),
            unmanaged,
        });
    }
    match spec.min_available.as_ref() {
        Some(IntOrString::Int(n)) => Ok(Expected {
            expected: pods.len() as i32,
            desired_healthy: *n,
            unmanaged: Vec::new(),
        }),
        Some(v @ IntOrString::String(_)) => {
            let (expected, unmanaged) = expected_scale(pods, scales)?;
            Ok(Expected {
                expected,
                desired_healthy: scaled_value(v, expected, true)?,
                unmanaged,
            })
        }
        None => Ok(Expected {
            expected: 0,
            desired_healthy: 0,
            unmanaged: Vec::new(),
        }),
    }
}

/// Whether the controller of `pod` has to be looked up (a percentage or maxUnavailable).
pub fn needs_scales(pdb: &PodDisruptionBudget) -> bool {
    let spec = pdb.spec.as_ref();
    spec.and_then(|s| s.max_unavailable.as_ref()).is_some()
        || matches!(
            spec.and_then(|s| s.min_available.as_ref()),
            Some(IntOrString::String(_))
        )
}

fn plus_timeout(t: &Time) -> Timestamp {
    t.0.checked_add(DELETION_TIMEOUT).unwrap_or(t.0)
}

/// Upstream's buildDisruptedPodMap: the evicted pods still awaited (not being deleted
/// yet, evicted under two minutes ago), when to look again, and the pods that should
/// have been deleted by now but were not.
pub fn disrupted_pods(
    pdb: &PodDisruptionBudget,
    pods: &[&Pod],
    now: Timestamp,
) -> (BTreeMap<String, Time>, Option<Timestamp>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut recheck: Option<Timestamp> = None;
    let mut not_deleted = Vec::new();
    let Some(listed) = pdb.status.as_ref().and_then(|s| s.disrupted_pods.as_ref()) else {
        return (out, recheck, not_deleted);
    };
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(when) = listed.get(&name) else {
            continue;
        };
        let expected_deletion = plus_timeout(when);
        if expected_deletion < now {
            not_deleted.push(name);
            continue;
        }
        out.insert(name, when.clone());
        if recheck.is_none_or(|r| expected_deletion < r) {
            recheck = Some(expected_deletion);
        }
    }
    (out, recheck, not_deleted)
}

/// Upstream's countHealthyPods: ready pods not being deleted and not just evicted.
pub fn count_healthy(pods: &[&Pod], disrupted: &BTreeMap<String, Time>, now: Timestamp) -> i32 {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            let name = p.metadata.name.clone().unwrap_or_default();
            disrupted.get(&name).is_none_or(|t| plus_timeout(t) <= now)
        })
        .filter(|p| is_ready(p))
        .count() as i32
}

/// apimachinery's SetStatusCondition: a new condition, or the existing one of its type
/// updated (its transition time moving only when the status changes).
fn set_condition(conds: &mut Vec<Condition>, mut c: Condition, now: Timestamp) {
    match conds.iter_mut().find(|x| x.type_ == c.type_) {
        Some(existing) => {
            if existing.status != c.status {
                existing.status = c.status;
                existing.last_transition_time = Time(now);
            }
            existing.reason = c.reason;
            existing.message = c.message;
            existing.observed_generation = c.observed_generation;
        }
        None => {
            c.last_transition_time = Time(now);
            conds.push(c);
        }
    }
}

fn allowed_condition(status: &PodDisruptionBudgetStatus) -> Condition {
    let (s, reason) = if status.disruptions_allowed > 0 {
        ("True", SUFFICIENT_PODS)
    } else {
        ("False", INSUFFICIENT_PODS)
    };
    Condition {
        type_: DISRUPTION_ALLOWED.into(),
        status: s.into(),
        reason: reason.into(),
        message: String::new(),
        observed_generation: status.observed_generation,
        last_transition_time: Time(Timestamp::UNIX_EPOCH),
    }
}

/// Upstream's ConditionsAreUpToDate.
fn conditions_up_to_date(pdb: &PodDisruptionBudget) -> bool {
    let Some(status) = pdb.status.as_ref() else {
        return false;
    };
    let Some(c) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == DISRUPTION_ALLOWED)
    else {
        return false;
    };
    if status.observed_generation != pdb.metadata.generation {
        return false;
    }
    if status.disruptions_allowed > 0 {
        c.status == "True" && c.reason == SUFFICIENT_PODS
    } else {
        c.status == "False" && c.reason == INSUFFICIENT_PODS
    }
}

/// Upstream's updatePdbStatus: the new status, or `None` when the current one is right.
pub fn new_status(
    pdb: &PodDisruptionBudget,
    current_healthy: i32,
    expected: &Expected,
    disrupted: BTreeMap<String, Time>,
    now: Timestamp,
) -> Option<PodDisruptionBudgetStatus> {
    let desired = expected.desired_healthy;
    let mut allowed = current_healthy - desired;
    if expected.expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    let cur = pdb.status.clone().unwrap_or_default();
    let cur_disrupted = cur.disrupted_pods.clone().unwrap_or_default();
    if cur.current_healthy == current_healthy
        && cur.desired_healthy == desired
        && cur.expected_pods == expected.expected
        && cur.disruptions_allowed == allowed
        && cur_disrupted == disrupted
        && cur.observed_generation == pdb.metadata.generation
        && conditions_up_to_date(pdb)
    {
        return None;
    }
    let mut status = PodDisruptionBudgetStatus {
        current_healthy,
        desired_healthy: desired,
        expected_pods: expected.expected,
        disruptions_allowed: allowed,
        disrupted_pods: (!disrupted.is_empty()).then_some(disrupted),
        observed_generation: pdb.metadata.generation,
        conditions: None,
    };
    let mut conds = cur.conditions.unwrap_or_default();
    set_condition(&mut conds, allowed_condition(&status), now);
    status.conditions = Some(conds);
    Some(status)
}

/// Upstream's failSafe: no disruption allowed, the condition saying why.
pub fn fail_safe_status(
    pdb: &PodDisruptionBudget,
    message: &str,
    now: Timestamp,
) -> PodDisruptionBudgetStatus {
    let mut status = pdb.status.clone().unwrap_or_default();
    status.disruptions_allowed = 0;
    let mut conds = status.conditions.take().unwrap_or_default();
    set_condition(
        &mut conds,
        Condition {
            type_: DISRUPTION_ALLOWED.into(),
            status: "False".into(),
            reason: SYNC_FAILED.into(),
            message: message.into(),
            observed_generation: status.observed_generation,
            last_transition_time: Time(now),
        },
        now,
    );
    status.conditions = Some(conds);
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::pods::fixtures::{pod, ts};
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sSelector;

    fn pdb(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("budget".into()),
                namespace: Some("ns".into()),
                generation: Some(1),
                ..Default::default()
            },
            spec: Some(PodDisruptionBudgetSpec {
                min_available: min,
                max_unavailable: max,
                selector: Some(K8sSelector {
                    match_labels: Some([("app".to_string(), "web".to_string())].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn owned(mut p: Pod, uid: &str) -> Pod {
        p.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "rs".into(),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        p
    }

    #[test]
    fn selectors_print_as_go_does() {
        let b = pdb(None, None);
        assert_eq!(
            selector_string(b.spec.as_ref().unwrap().selector.as_ref()),
            "&LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{},}"
        );
    }

    #[test]
    fn scaled_values() {
        assert_eq!(scaled_value(&IntOrString::Int(3), 10, true), Ok(3));
        assert_eq!(
            scaled_value(&IntOrString::String("50%".into()), 3, true),
            Ok(2)
        );
        assert_eq!(
            scaled_value(&IntOrString::String("50%".into()), 3, false),
            Ok(1)
        );
        assert!(scaled_value(&IntOrString::String("50".into()), 3, true).is_err());
        assert!(scaled_value(&IntOrString::String("x%".into()), 3, true).is_err());
    }

    #[test]
    fn selectors() {
        let p = pod("a", "10.42.0.5", true);
        let b = pdb(Some(IntOrString::Int(1)), None);
        assert!(selects(&selector(&b).unwrap(), &p));
        let mut none = b.clone();
        none.spec.as_mut().unwrap().selector = None;
        assert!(!selects(&selector(&none).unwrap(), &p));
        let mut all = b.clone();
        all.spec.as_mut().unwrap().selector = Some(K8sSelector::default());
        assert!(selects(&selector(&all).unwrap(), &p));
    }

    #[test]
    fn min_available_number_counts_the_pods_there_are() {
        let b = pdb(Some(IntOrString::Int(2)), None);
        let (a, c, n) = (
            pod("a", "10.42.0.5", true),
            pod("c", "10.42.0.6", true),
            pod("n", "10.42.0.7", false),
        );
        let pods = [&a, &c, &n];
        let e = expected_counts(&b, &pods, &ScaleLookup::new()).unwrap();
        assert_eq!((e.expected, e.desired_healthy), (3, 2));
        let healthy = count_healthy(&pods, &BTreeMap::new(), ts(0).0);
        assert_eq!(healthy, 2);
        let s = new_status(&b, healthy, &e, BTreeMap::new(), ts(100).0).unwrap();
        assert_eq!(
            (
                s.current_healthy,
                s.desired_healthy,
                s.expected_pods,
                s.disruptions_allowed
            ),
            (2, 2, 3, 0)
        );
        assert_eq!(s.observed_generation, Some(1));
        let c = &s.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
            ("DisruptionAllowed", "False", "InsufficientPods")
        );
        assert_eq!(c.last_transition_time, ts(100));
        // Written back, nothing more to do.
        let mut written = b.clone();
        written.status = Some(s);
        assert_eq!(
            new_status(&written, healthy, &e, BTreeMap::new(), ts(200).0),
            None
        );
        // One more healthy: allowed, the condition flips.
        let s = new_status(&written, 3, &e, BTreeMap::new(), ts(300).0).unwrap();
        assert_eq!(s.disruptions_allowed, 1);
        let c = &s.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "SufficientPods")
        );
        assert_eq!(c.last_transition_time, ts(300));
    }

    #[test]
    fn percentages_and_max_unavailable_use_the_controllers_scale() {
        let (a, c) = (
            owned(pod("a", "10.42.0.5", true), "rs-1"),
            owned(pod("c", "10.42.0.6", true), "rs-1"),
        );
        let pods = [&a, &c];
        let scales: ScaleLookup = [("rs-1".to_string(), Ok(Some(4)))].into();
        let e = expected_counts(
            &pdb(Some(IntOrString::String("50%".into())), None),
            &pods,
            &scales,
        )
        .unwrap();
        assert_eq!((e.expected, e.desired_healthy), (4, 2));
        let e = expected_counts(
            &pdb(None, Some(IntOrString::String("25%".into()))),
            &pods,
            &scales,
        )
        .unwrap();
        assert_eq!((e.expected, e.desired_healthy), (4, 3));
        let e = expected_counts(&pdb(None, Some(IntOrString::Int(9))), &pods, &scales).unwrap();
        assert_eq!(e.desired_healthy, 0);
        // A pod without a controller: reported, not counted.
        let loose = pod("l", "10.42.0.9", true);
        let e = expected_counts(
            &pdb(None, Some(IntOrString::Int(1))),
            &[&a, &loose],
            &scales,
        )
        .unwrap();
        assert_eq!(e.unmanaged, vec!["l".to_string()]);
        // A controller that cannot be found fails the sync.
        let err = expected_counts(
            &pdb(None, Some(IntOrString::Int(1))),
            &pods,
            &ScaleLookup::new(),
        )
        .unwrap_err();
        assert_eq!(err, "found no controllers for pod \"a\"");
        let s = fail_safe_status(&pdb(None, None), &err, ts(5).0);
        let c = &s.conditions.unwrap()[0];
        assert_eq!(
            (c.reason.as_str(), c.message.as_str()),
            ("SyncFailed", err.as_str())
        );
    }

    #[test]
    fn evicted_pods_do_not_count_for_two_minutes() {
        let mut b = pdb(Some(IntOrString::Int(1)), None);
        b.status = Some(PodDisruptionBudgetStatus {
            disrupted_pods: Some([("a".to_string(), ts(1_000)), ("c".to_string(), ts(800))].into()),
            ..Default::default()
        });
        let (a, c) = (pod("a", "10.42.0.5", true), pod("c", "10.42.0.6", true));
        let pods = [&a, &c];
        let now = ts(1_050).0;
        let (map, recheck, late) = disrupted_pods(&b, &pods, now);
        assert_eq!(map.keys().collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(recheck, Some(ts(1_120).0));
        assert_eq!(late, vec!["c".to_string()]);
        assert_eq!(count_healthy(&pods, &map, now), 1);
    }
}
