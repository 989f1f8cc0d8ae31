//! The taints the node lifecycle controller keeps on nodes (upstream's NoExecute and
//! NoSchedule tainting passes): `not-ready` / `unreachable` (NoExecute and NoSchedule)
//! while the Ready condition is False / Unknown, the pressure and network taints
//! (NoSchedule) while those conditions are True, and `unschedulable` (NoSchedule) on
//! cordoned nodes. Other taints are left alone; taints that stay keep their `timeAdded`.
//! Pure: the time comes in as a parameter.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::health::condition;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const NO_EXECUTE: &str = "NoExecute";
pub const NO_SCHEDULE: &str = "NoSchedule";

/// Condition (type, status) -> the NoSchedule taint it brings.
const CONDITION_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
    (
        "MemoryPressure",
        "True",
        "node.kubernetes.io/memory-pressure",
    ),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
    (
        "NetworkUnavailable",
        "True",
        "node.kubernetes.io/network-unavailable",
    ),
];

/// Whether this controller owns taint `(key, effect)`.
fn managed(key: &str, effect: &str) -> bool {
    match effect {
        NO_EXECUTE => key == NOT_READY || key == UNREACHABLE,
        NO_SCHEDULE => key == UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key),
        _ => false,
    }
}

/// The managed taints `node` should carry as (key, effect). `evict` false leaves the
/// NoExecute ones out (every node is down: upstream stops evicting).
pub fn wanted(node: &Node, evict: bool) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if evict {
        match condition(node, "Ready").map(|c| c.status.as_str()) {
            Some("False") => out.push((NOT_READY, NO_EXECUTE)),
            Some("Unknown") => out.push((UNREACHABLE, NO_EXECUTE)),
            _ => {}
        }
    }
    for (ty, status, key) in CONDITION_TAINTS {
        if condition(node, ty).is_some_and(|c| c.status == status) {
            out.push((key, NO_SCHEDULE));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        out.push((UNSCHEDULABLE, NO_SCHEDULE));
    }
    out
}

/// The node's new taint list, or `None` when it already has exactly the wanted managed
/// taints. New taints get `timeAdded` = `now`.
pub fn reconcile(node: &Node, evict: bool, now: Timestamp) -> Option<Vec<Taint>> {
    let current: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let want = wanted(node, evict);
    let mut out: Vec<Taint> = current
        .iter()
        .filter(|t| {
            !managed(&t.key, &t.effect) || want.contains(&(t.key.as_str(), t.effect.as_str()))
        })
        .cloned()
        .collect();
    let removed = out.len() != current.len();
    let mut added = false;
    for (key, effect) in want {
        if !out.iter().any(|t| t.key == key && t.effect == effect) {
            added = true;
            out.push(Taint {
                key: key.into(),
                effect: effect.into(),
                time_added: Some(Time(now)),
                value: None,
            });
        }
    }
    (removed || added).then_some(out)
}

/// Whether `new` puts a NoExecute taint of ours on a node that has none (a new tainting,
/// which is paced; swapping not-ready for unreachable is not).
pub fn starts_no_execute(node: &Node, new: &[Taint]) -> bool {
    let ours = |t: &Taint| t.effect == NO_EXECUTE && managed(&t.key, &t.effect);
    let had = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .any(ours);
    !had && new.iter().any(ours)
}

/// The NoExecute taints of `node`.
pub fn no_execute(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|t| t.effect == NO_EXECUTE)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn node(ready: &str, taints: Vec<Taint>, unschedulable: bool) -> Node {
        Node {
            spec: Some(NodeSpec {
                taints: Some(taints),
                unschedulable: Some(unschedulable),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: ready.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn taint(key: &str, effect: &str, at: i64) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            time_added: Some(Time(t(at))),
            value: None,
        }
    }

    #[test]
    fn unknown_nodes_get_unreachable_taints() {
        let n = node("Unknown", vec![taint("custom", NO_EXECUTE, 0)], false);
        let out = reconcile(&n, true, t(5)).unwrap();
        let keys: Vec<_> = out
            .iter()
            .map(|t| (t.key.as_str(), t.effect.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("custom", NO_EXECUTE),
                (UNREACHABLE, NO_EXECUTE),
                (UNREACHABLE, NO_SCHEDULE)
            ]
        );
        assert_eq!(out[1].time_added, Some(Time(t(5))));
        // Applied: stable, timeAdded kept.
        let mut applied = n.clone();
        applied.spec.as_mut().unwrap().taints = Some(out);
        assert_eq!(reconcile(&applied, true, t(9)), None);
    }

    #[test]
    fn not_ready_swaps_for_unreachable_and_recovery_removes_them() {
        let n = node(
            "False",
            vec![
                taint(UNREACHABLE, NO_EXECUTE, 0),
                taint(UNREACHABLE, NO_SCHEDULE, 0),
            ],
            false,
        );
        let out = reconcile(&n, true, t(5)).unwrap();
        assert!(out.iter().all(|t| t.key == NOT_READY));
        assert_eq!(out.len(), 2);
        let ok = node("True", out, false);
        assert_eq!(reconcile(&ok, true, t(6)), Some(vec![]));
    }

    #[test]
    fn cordoned_nodes_get_the_unschedulable_taint() {
        let n = node("True", vec![], true);
        let out = reconcile(&n, true, t(5)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].key.as_str(), out[0].effect.as_str()),
            (UNSCHEDULABLE, NO_SCHEDULE)
        );
        let uncordoned = node("True", out, false);
        assert_eq!(reconcile(&uncordoned, true, t(6)), Some(vec![]));
    }

    #[test]
    fn only_new_no_execute_taints_are_paced() {
        let n = node("Unknown", vec![], false);
        let out = reconcile(&n, true, t(5)).unwrap();
        assert!(starts_no_execute(&n, &out));
        let swapped = node("False", out.clone(), false);
        let out2 = reconcile(&swapped, true, t(6)).unwrap();
        assert!(!starts_no_execute(&swapped, &out2));
        let cordoned = node("True", vec![], true);
        let out3 = reconcile(&cordoned, true, t(6)).unwrap();
        assert!(!starts_no_execute(&cordoned, &out3));
    }

    #[test]
    fn no_eviction_taints_when_every_node_is_down() {
        let n = node("Unknown", vec![taint(UNREACHABLE, NO_EXECUTE, 0)], false);
        let out = reconcile(&n, false, t(5)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].effect, NO_SCHEDULE);
    }
}
