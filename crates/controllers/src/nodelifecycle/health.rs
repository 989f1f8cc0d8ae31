//! Node health as upstream's node lifecycle controller judges it (`tryUpdateNodeHealth`):
//! a node is alive while its kubelet renews its Lease or posts status. The controller
//! remembers when it last saw either change (the probe time, by its own clock); once the
//! grace period passes without one, the node's Ready / MemoryPressure / DiskPressure /
//! PIDPressure conditions become Unknown. Pure: the time comes in as a parameter.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// How long a node that never posted a Ready condition has before it is Unknown
/// (upstream's `--node-startup-grace-period`).
pub const NODE_STARTUP_GRACE_PERIOD: Duration = Duration::from_secs(60);

/// The conditions the controller turns Unknown, in upstream's order.
pub const MONITORED: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// What the controller remembers about a node between looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// When the controller last saw the node alive.
    pub probe: Timestamp,
    /// The Ready condition's heartbeat as last seen.
    pub heartbeat: Option<Timestamp>,
    /// The Lease's renew time as last seen.
    pub renewed: Option<Timestamp>,
}

pub fn condition<'a>(node: &'a Node, ty: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == ty)
}

/// The Ready condition's status (`None`: the node never posted one).
pub fn ready_status(node: &Node) -> Option<&str> {
    condition(node, "Ready").map(|c| c.status.as_str())
}

fn created(node: &Node) -> Option<Timestamp> {
    node.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// Updates what is known about `node` from its current state and Lease at `now`.
pub fn observe(
    previous: Option<&Health>,
    node: &Node,
    lease: Option<&Lease>,
    now: Timestamp,
) -> Health {
    let ready = condition(node, "Ready");
    let heartbeat = ready
        .and_then(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0);
    let renewed = lease
        .and_then(|l| l.spec.as_ref())
        .and_then(|s| s.renew_time.as_ref())
        .map(|t| t.0);
    let mut h = match previous {
        // First look: a node that never posted status counts from its creation; one
        // that did counts from now (the controller may just have started).
        None => Health {
            probe: if ready.is_none() {
                created(node).unwrap_or(now)
            } else {
                now
            },
            heartbeat,
            renewed,
        },
        Some(p) => {
            let mut h = p.clone();
            if heartbeat != p.heartbeat {
                h.heartbeat = heartbeat;
                h.probe = now;
            }
            h
        }
    };
    if let (Some(new), prev) = (renewed, previous.and_then(|p| p.renewed)) {
        if prev.is_none_or(|old| new > old) {
            h.renewed = Some(new);
            if previous.is_some() {
                h.probe = now;
            }
        }
    }
    h
}

/// Whether the node has gone silent for longer than its grace period at `now`.
pub fn silent(health: &Health, node: &Node, grace: Duration, now: Timestamp) -> bool {
    let grace = if condition(node, "Ready").is_none() {
        NODE_STARTUP_GRACE_PERIOD
    } else {
        grace
    };
    let deadline = health
        .probe
        .checked_add(jiff::SignedDuration::try_from(grace).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    now > deadline
}

/// The conditions of a silent node: every monitored one Unknown (`NodeStatusUnknown`,
/// or `NodeStatusNeverUpdated` when the kubelet never posted it); `None` when they already
/// are.
pub fn unknown_conditions(node: &Node, now: Timestamp) -> Option<Vec<NodeCondition>> {
    let mut conds: Vec<NodeCondition> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let mut changed = false;
    for ty in MONITORED {
        match conds.iter_mut().find(|c| c.type_ == ty) {
            None => {
                changed = true;
                conds.push(NodeCondition {
                    type_: ty.into(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_heartbeat_time: node.metadata.creation_timestamp.clone(),
                    last_transition_time: Some(Time(now)),
                });
            }
            Some(c) if c.status != "Unknown" => {
                changed = true;
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some("Kubelet stopped posting node status.".into());
                c.last_transition_time = Some(Time(now));
            }
            Some(_) => {}
        }
    }
    changed.then_some(conds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::api::core::v1::NodeStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn node(ready: Option<&str>) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some("n".into());
        n.metadata.creation_timestamp = Some(Time(t(0)));
        n.status = Some(NodeStatus {
            conditions: ready.map(|s| {
                vec![NodeCondition {
                    type_: "Ready".into(),
                    status: s.into(),
                    reason: Some("KubeletReady".into()),
                    last_heartbeat_time: Some(Time(t(0))),
                    last_transition_time: Some(Time(t(0))),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        });
        n
    }

    fn lease(renew: i64) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                renew_time: Some(MicroTime(t(renew))),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn lease_renewals_keep_a_node_alive() {
        let n = node(Some("True"));
        let grace = Duration::from_secs(40);
        let h = observe(None, &n, Some(&lease(0)), t(100));
        assert_eq!(h.probe, t(100));
        assert!(!silent(&h, &n, grace, t(130)));
        let h = observe(Some(&h), &n, Some(&lease(125)), t(130));
        assert_eq!(h.probe, t(130));
        assert!(!silent(&h, &n, grace, t(160)));
        // No renewal since: silent after the grace period.
        let h = observe(Some(&h), &n, Some(&lease(125)), t(171));
        assert!(silent(&h, &n, grace, t(171)));
    }

    #[test]
    fn a_node_without_a_lease_goes_silent() {
        let n = node(Some("True"));
        let h = observe(None, &n, None, t(10));
        let h = observe(Some(&h), &n, None, t(13));
        assert!(silent(&h, &n, Duration::from_secs(2), t(13)));
        let conds = unknown_conditions(&n, t(13)).unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(
            ready.message.as_deref(),
            Some("Kubelet stopped posting node status.")
        );
        assert_eq!(ready.last_heartbeat_time, Some(Time(t(0))));
        assert_eq!(ready.last_transition_time, Some(Time(t(13))));
        let mem = conds.iter().find(|c| c.type_ == "MemoryPressure").unwrap();
        assert_eq!(mem.reason.as_deref(), Some("NodeStatusNeverUpdated"));
        assert_eq!(conds.len(), 4);
        // Already Unknown: nothing to write.
        let mut unknown = n.clone();
        unknown.status.as_mut().unwrap().conditions = Some(conds);
        assert_eq!(unknown_conditions(&unknown, t(20)), None);
    }

    #[test]
    fn new_nodes_get_the_startup_grace_period() {
        let n = node(None);
        let h = observe(None, &n, None, t(5));
        assert_eq!(h.probe, t(0));
        assert!(!silent(&h, &n, Duration::from_secs(2), t(50)));
        assert!(silent(&h, &n, Duration::from_secs(2), t(61)));
    }

    #[test]
    fn status_heartbeats_count_too() {
        let n = node(Some("True"));
        let h = observe(None, &n, None, t(0));
        let mut beat = n.clone();
        beat.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_heartbeat_time =
            Some(Time(t(30)));
        let h = observe(Some(&h), &beat, None, t(31));
        assert_eq!(h.probe, t(31));
    }
}
