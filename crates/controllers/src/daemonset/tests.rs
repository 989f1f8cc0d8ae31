//! Unit tests of the DaemonSet decisions: placement, the core loop, rolling updates,
//! status and revisions, over fixtures of k8s-openapi types.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet,
};
use k8s_openapi::api::core::v1::{
    Affinity, Container, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, NodeSpec, Pod, PodSpec, PodTemplateSpec, Taint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::manage::manage;
use super::placement::*;
use super::pods::fixtures::with_state;
use super::revisions::{self, snapshot, split, to_clean_up};
use super::rolling::{rolling_update, scaled_value};
use super::status::{counts, status_patch};
use crate::history::controller_ref;

fn t(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_700_000_000 + s).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn ds() -> DaemonSet {
    DaemonSet {
        metadata: ObjectMeta {
            name: Some("agent".into()),
            namespace: Some("default".into()),
            uid: Some("ds-uid".into()),
            generation: Some(1),
            annotations: labels(&[(TEMPLATE_GENERATION_ANNOTATION, "1")]),
            ..Default::default()
        },
        spec: Some(DaemonSetSpec {
            selector: LabelSelector {
                match_labels: labels(&[("app", "agent")]),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: labels(&[("app", "agent")]),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "c".into(),
                        image: Some("busybox".into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_unavailable: Some(IntOrString::Int(1)),
                    max_surge: Some(IntOrString::Int(0)),
                }),
            }),
            revision_history_limit: Some(10),
            ..Default::default()
        }),
        status: None,
    }
}

fn node(name: &str, taints: &[(&str, &str)]) -> Arc<Node> {
    Arc::new(Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: labels(&[("kubernetes.io/hostname", name)]),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            taints: Some(
                taints
                    .iter()
                    .map(|(k, e)| Taint {
                        key: k.to_string(),
                        effect: e.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        status: None,
    })
}

/// A daemon pod of `d` for `node` made from revision `hash`, created at `created`.
fn dpod(d: &DaemonSet, name: &str, node: &str, hash: &str, created: i64) -> Pod {
    let mut p = new_pod(&pod_template(d, hash), "agent", controller_ref(d), node);
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.creation_timestamp = Some(Time(t(created)));
    p
}

fn running(p: Pod) -> Arc<Pod> {
    Arc::new(with_state(p, "Running", Some(t(0))))
}

#[test]
fn tainted_nodes_are_skipped_unschedulable_ones_are_not() {
    let d = ds();
    let cp = node(
        "cp",
        &[("node-role.kubernetes.io/control-plane", "NoSchedule")],
    );
    let p = placement(&cp, &d);
    assert!(!p.should_run);
    // A NoSchedule taint does not evict a pod already there.
    assert!(p.should_continue_running);
    let cordoned = node("c", &[("node.kubernetes.io/unschedulable", "NoSchedule")]);
    assert!(placement(&cordoned, &d).should_run);
    let not_ready = node("n", &[("node.kubernetes.io/not-ready", "NoExecute")]);
    assert!(placement(&not_ready, &d).should_run);
    let evicting = node("e", &[("dedicated", "NoExecute")]);
    let p = placement(&evicting, &d);
    assert!(!p.should_run && !p.should_continue_running);
    let no_net = node(
        "x",
        &[("node.kubernetes.io/network-unavailable", "NoSchedule")],
    );
    assert!(!placement(&no_net, &d).should_run);
    let mut host = ds();
    host.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .host_network = Some(true);
    assert!(placement(&no_net, &host).should_run);
}

#[test]
fn node_selector_and_required_affinity_choose_nodes() {
    let mut d = ds();
    let spec = d.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    spec.node_selector = labels(&[("kubernetes.io/hostname", "a")]);
    assert!(placement(&node("a", &[]), &d).should_run);
    let p = placement(&node("b", &[]), &d);
    assert!(!p.should_run && !p.should_continue_running);

    let mut d = ds();
    let spec = d.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    spec.affinity = Some(Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(vec![NodeSelectorRequirement {
                        key: "kubernetes.io/hostname".into(),
                        operator: "NotIn".into(),
                        values: Some(vec!["b".into()]),
                    }]),
                    match_fields: None,
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(placement(&node("a", &[]), &d).should_run);
    assert!(!placement(&node("b", &[]), &d).should_run);
}

#[test]
fn new_pods_are_pinned_by_node_affinity_and_tolerate_the_defaults() {
    let d = ds();
    let p = new_pod(
        &pod_template(&d, "h1"),
        "agent",
        controller_ref(&d),
        "sim-1",
    );
    assert_eq!(p.metadata.generate_name.as_deref(), Some("agent-"));
    let l = p.metadata.labels.clone().unwrap();
    assert_eq!(l[REVISION_HASH_LABEL], "h1");
    assert_eq!(l[TEMPLATE_GENERATION_LABEL], "1");
    assert_eq!(l["app"], "agent");
    let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("DaemonSet", Some(true))
    );
    assert_eq!(target_node(&p).as_deref(), Some("sim-1"));
    let spec = p.spec.as_ref().unwrap();
    assert!(spec.node_name.is_none());
    let keys: Vec<_> = spec
        .tolerations
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| (t.key.clone().unwrap(), t.effect.clone().unwrap()))
        .collect();
    assert_eq!(keys.len(), 6);
    assert!(keys.contains(&(
        "node.kubernetes.io/unschedulable".into(),
        "NoSchedule".into()
    )));
    assert!(keys.contains(&("node.kubernetes.io/not-ready".into(), "NoExecute".into())));
    assert!(spec.tolerations.as_ref().unwrap()[0]
        .toleration_seconds
        .is_none());
}

#[test]
fn manage_creates_where_missing_and_deletes_misplaced_and_failed() {
    let d = ds();
    let nodes = vec![
        node("a", &[]),
        node("b", &[]),
        node(
            "cp",
            &[("node-role.kubernetes.io/control-plane", "NoSchedule")],
        ),
        node("gone", &[("dedicated", "NoExecute")]),
    ];
    let pods = vec![
        running(dpod(&d, "agent-a", "a", "h", 0)),
        running(dpod(&d, "agent-gone", "gone", "h", 0)),
        running(dpod(&d, "agent-lost", "deleted-node", "h", 0)),
    ];
    let plan = manage(&d, &nodes, &pods, "h", t(10));
    assert_eq!(plan.create_on, ["b"]);
    // NoExecute-tainted node: removed; unscheduled pod of a node that no longer exists:
    // removed.
    assert_eq!(plan.delete, ["agent-gone", "agent-lost"]);
    assert_eq!(plan.failed, 0);

    let failed = Arc::new(with_state(dpod(&d, "agent-b", "b", "h", 0), "Failed", None));
    let pods = vec![running(dpod(&d, "agent-a", "a", "h", 0)), failed];
    let plan = manage(&d, &nodes[..2], &pods, "h", t(10));
    assert_eq!(plan.delete, ["agent-b"]);
    assert_eq!(plan.failed, 1);
    assert_eq!(plan.notes[0].reason, "FailedDaemonPod");
    assert_eq!(
        plan.notes[0].message,
        "Found failed daemon pod default/agent-b on node b, will try to kill it"
    );
    // The failed pod is replaced on a later sync, once it is gone.
    assert!(plan.create_on.is_empty());

    // Two pods on a node: the newer goes.
    let pods = vec![
        running(dpod(&d, "agent-old", "a", "h", 0)),
        running(dpod(&d, "agent-new", "a", "h", 5)),
    ];
    let plan = manage(&d, &nodes[..1], &pods, "h", t(10));
    assert_eq!(plan.delete, ["agent-new"]);
}

#[test]
fn rolling_update_respects_max_unavailable() {
    let d = ds();
    let nodes = vec![node("a", &[]), node("b", &[]), node("c", &[])];
    let old: Vec<Arc<Pod>> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            let mut p = dpod(&d, &format!("agent-{n}"), n, "old", 0);
            p.metadata
                .labels
                .as_mut()
                .unwrap()
                .insert(TEMPLATE_GENERATION_LABEL.into(), "0".into());
            running(p)
        })
        .collect();
    let step = rolling_update(&d, &nodes, &old, "new", t(10)).unwrap();
    assert_eq!(step.delete.len(), 1);
    assert!(step.create_on.is_empty());

    // One node already replaced but not ready yet: wait.
    let mut pods = old[1..].to_vec();
    pods.push(Arc::new(with_state(
        dpod(&d, "agent-a2", "a", "new", 5),
        "Running",
        None,
    )));
    let step = rolling_update(&d, &nodes, &pods, "new", t(10)).unwrap();
    assert!(step.delete.is_empty());

    // With surge, new pods start beside the old ones.
    let mut surge = ds();
    surge
        .spec
        .as_mut()
        .unwrap()
        .update_strategy
        .as_mut()
        .unwrap()
        .rolling_update = Some(RollingUpdateDaemonSet {
        max_unavailable: Some(IntOrString::Int(0)),
        max_surge: Some(IntOrString::String("34%".into())),
    });
    let step = rolling_update(&surge, &nodes, &old, "new", t(10)).unwrap();
    assert!(step.delete.is_empty());
    assert_eq!(step.create_on, ["a", "b"]);
}

#[test]
fn percentages_scale_like_intstr() {
    assert_eq!(
        scaled_value(&IntOrString::String("10%".into()), 5, true),
        Ok(1)
    );
    assert_eq!(
        scaled_value(&IntOrString::String("10%".into()), 5, false),
        Ok(0)
    );
    assert_eq!(scaled_value(&IntOrString::Int(3), 5, true), Ok(3));
    assert!(scaled_value(&IntOrString::String("x".into()), 5, true).is_err());
}

#[test]
fn status_counts_and_patch() {
    let d = ds();
    let nodes = vec![
        node("a", &[]),
        node("b", &[]),
        node("c", &[]),
        node(
            "cp",
            &[("node-role.kubernetes.io/control-plane", "NoSchedule")],
        ),
    ];
    let pods = vec![
        running(dpod(&d, "agent-a", "a", "h", 0)),
        Arc::new(with_state(
            dpod(&d, "agent-b", "b", "old", 0),
            "Pending",
            None,
        )),
        running(dpod(&d, "agent-cp", "cp", "h", 0)),
    ];
    let c = counts(&d, &nodes, &pods, "h", t(10));
    assert_eq!(c.desired_number_scheduled, 3);
    assert_eq!(c.current_number_scheduled, 2);
    assert_eq!(c.number_misscheduled, 1);
    assert_eq!(c.number_ready, 1);
    assert_eq!(c.number_available, 1);
    assert_eq!(c.number_unavailable, 2);
    // agent-b carries the template generation label, so it counts as updated too.
    assert_eq!(c.updated_number_scheduled, 2);
    let patch = status_patch(&d, &c, true).unwrap();
    assert_eq!(patch["status"]["observedGeneration"], 1);
    assert_eq!(patch["status"]["desiredNumberScheduled"], 3);
    let mut done = d.clone();
    done.status = Some(k8s_openapi::api::apps::v1::DaemonSetStatus {
        desired_number_scheduled: 3,
        current_number_scheduled: 2,
        number_misscheduled: 1,
        number_ready: 1,
        number_available: Some(1),
        number_unavailable: Some(2),
        updated_number_scheduled: Some(2),
        observed_generation: Some(1),
        ..Default::default()
    });
    assert!(status_patch(&done, &c, true).is_none());
}

#[test]
fn revisions_are_named_by_template_hash_and_numbered() {
    let d = ds();
    let r1 = snapshot(&d, 1).unwrap();
    let hash = r1.metadata.labels.as_ref().unwrap()[REVISION_HASH_LABEL].clone();
    assert_eq!(
        r1.metadata.name.as_deref(),
        Some(format!("agent-{hash}").as_str())
    );
    assert_eq!(r1.metadata.labels.as_ref().unwrap()["app"], "agent");
    assert!(revisions::matches(&d, &r1));
    // A bumped collision count names it differently.
    let mut bumped = ds();
    bumped.status = Some(Default::default());
    bumped.status.as_mut().unwrap().collision_count = Some(1);
    assert_ne!(
        snapshot(&bumped, 1).unwrap().metadata.name,
        r1.metadata.name
    );

    let mut d2 = ds();
    d2.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .image = Some("busybox:2".into());
    let r2 = snapshot(&d2, 2).unwrap();
    assert!(!revisions::matches(&d2, &r1));
    let revs = vec![Arc::new(r1.clone()), Arc::new(r2.clone())];
    let h = split(&d, &revs);
    assert_eq!(h.current.len(), 1);
    assert_eq!(h.old.len(), 1);
    // Rolling back to the first template: it becomes revision 3.
    assert_eq!(h.current_number, 3);

    // History cleanup keeps the limit and revisions pods still use.
    let mut limited = ds();
    limited.spec.as_mut().unwrap().revision_history_limit = Some(0);
    let old: Vec<Arc<ControllerRevision>> = vec![Arc::new(r1), Arc::new(r2.clone())];
    let h2 = revisions::hash_of(&r2);
    let pods = vec![running(dpod(&d, "agent-a", "a", &h2, 0))];
    let gone = to_clean_up(&limited, &old, &pods);
    assert_eq!(gone.len(), 1);
    assert_eq!(
        gone[0].metadata.name.as_deref(),
        Some(format!("agent-{hash}").as_str())
    );
}
