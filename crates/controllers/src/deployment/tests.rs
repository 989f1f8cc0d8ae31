//! Scenario tests of the Deployment planner: whole syncs over fixture Deployments and
//! ReplicaSets, checked against what upstream's controller writes.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, DeploymentStrategy, ReplicaSet, ReplicaSetSpec,
    ReplicaSetStatus, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::plan;
use super::sync::{Plan, Write};
use super::util as du;

fn ts(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_700_000_000 + s).unwrap()
}

fn labels() -> BTreeMap<String, String> {
    [("app".to_string(), "web".to_string())].into()
}

fn template(image: &str) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels()),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "web".into(),
                image: Some(image.into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
    }
}

fn deployment(replicas: i32, image: &str) -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some("d-uid".into()),
            generation: Some(1),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels()),
                ..Default::default()
            },
            template: template(image),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::String("25%".into())),
                }),
            }),
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(600),
            ..Default::default()
        }),
        status: None,
    }
}

/// A ReplicaSet of `d`'s for `image` at `revision`, with `replicas` all available.
fn rs(
    d: &Deployment,
    image: &str,
    revision: i64,
    replicas: i32,
    available: i32,
    created: i64,
) -> ReplicaSet {
    let t = template(image);
    let hash = du::compute_hash(&t, None);
    let mut rt = t.clone();
    rt.metadata
        .as_mut()
        .unwrap()
        .labels
        .as_mut()
        .unwrap()
        .insert(du::POD_TEMPLATE_HASH.into(), hash.clone());
    let want = du::replicas(d);
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("web-{hash}")),
            namespace: Some("default".into()),
            uid: Some(format!("rs-{image}")),
            resource_version: Some("7".into()),
            generation: Some(1),
            creation_timestamp: Some(Time(ts(created))),
            owner_references: Some(vec![crate::podcontrol::controller_ref(d)]),
            annotations: Some(
                [
                    (du::REVISION.to_string(), revision.to_string()),
                    (du::DESIRED_REPLICAS.to_string(), want.to_string()),
                    (
                        du::MAX_REPLICAS.to_string(),
                        (want + du::max_surge(d)).to_string(),
                    ),
                ]
                .into(),
            ),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: Some(0),
            template: Some(rt),
            ..Default::default()
        }),
        status: Some(ReplicaSetStatus {
            replicas,
            ready_replicas: Some(available),
            available_replicas: Some(available),
            observed_generation: Some(1),
            ..Default::default()
        }),
    }
}

fn updates(p: &Plan) -> Vec<(String, i32)> {
    p.writes
        .iter()
        .filter_map(|w| match w {
            Write::Update { rs, .. } => {
                Some((rs.metadata.name.clone().unwrap(), du::rs_replicas(rs)))
            }
            _ => None,
        })
        .collect()
}

fn created(p: &Plan) -> Option<&ReplicaSet> {
    p.writes.iter().find_map(|w| match w {
        Write::Create { rs, .. } => Some(rs),
        _ => None,
    })
}

fn progressing(p: &Plan) -> Option<(String, String)> {
    let st = p.deployment.as_ref()?.status.as_ref()?;
    let c = du::condition(st, du::PROGRESSING)?;
    Some((c.reason.clone()?, c.message.clone()?))
}

#[test]
fn a_new_deployment_creates_its_first_replicaset() {
    let d = deployment(3, "nginx:1");
    let p = plan(&d, &[], &[], ts(0));
    let rs = created(&p).expect("create");
    let hash = du::compute_hash(&template("nginx:1"), None);
    assert_eq!(
        rs.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    assert_eq!(du::rs_replicas(rs), 3);
    let a = rs.metadata.annotations.as_ref().unwrap();
    assert_eq!(a[du::REVISION], "1");
    assert_eq!(a[du::DESIRED_REPLICAS], "3");
    assert_eq!(a[du::MAX_REPLICAS], "4");
    let spec = rs.spec.as_ref().unwrap();
    assert_eq!(
        spec.selector.match_labels.as_ref().unwrap()[du::POD_TEMPLATE_HASH],
        hash
    );
    assert_eq!(
        rs.metadata.labels.as_ref().unwrap()[du::POD_TEMPLATE_HASH],
        hash
    );
    assert_eq!(
        rs.metadata.owner_references.as_ref().unwrap()[0].kind,
        "Deployment"
    );
    match &p.writes[0] {
        Write::Create { event, .. } => assert_eq!(
            event.as_deref(),
            Some(format!("Scaled up replica set web-{hash} from 0 to 3").as_str())
        ),
        other => panic!("{other:?}"),
    }
    let out = p.deployment.as_ref().unwrap();
    assert_eq!(
        out.metadata.annotations.as_ref().unwrap()[du::REVISION],
        "1"
    );
    assert_eq!(
        progressing(&p).unwrap(),
        (
            du::NEW_RS_REASON.to_string(),
            format!("Created new replica set \"web-{hash}\"")
        )
    );
}

#[test]
fn canary_surges_one_then_waits_for_availability() {
    // 3 replicas, 25% / 25%: surge 1, unavailable 0.
    let d = deployment(3, "nginx:2");
    let old = rs(&d, "nginx:1", 1, 3, 3, 0);
    let p = plan(&d, std::slice::from_ref(&old), &[], ts(10));
    let new = created(&p).expect("new rs");
    assert_eq!(du::rs_replicas(new), 1);
    assert_eq!(
        new.metadata.annotations.as_ref().unwrap()[du::REVISION],
        "2"
    );
    assert!(updates(&p).is_empty(), "old untouched: {:?}", updates(&p));
    // The new pod is not available yet: nothing moves.
    let new_rs = rs(&d, "nginx:2", 2, 1, 0, 10);
    let p = plan(&d, &[old.clone(), new_rs.clone()], &[], ts(11));
    assert!(p.writes.is_empty(), "{:?}", p.writes);
    // Once it is, the old one gives up one replica.
    let new_rs = rs(&d, "nginx:2", 2, 1, 1, 10);
    let p = plan(&d, &[old.clone(), new_rs.clone()], &[], ts(12));
    assert_eq!(updates(&p), [(old.metadata.name.clone().unwrap(), 2)]);
}

#[test]
fn paused_deployments_do_not_roll_out_but_scale() {
    let mut d = deployment(3, "nginx:2");
    d.spec.as_mut().unwrap().paused = Some(true);
    let old = rs(&d, "nginx:1", 1, 3, 3, 0);
    let p = plan(&d, std::slice::from_ref(&old), &[], ts(10));
    assert!(created(&p).is_none());
    assert!(updates(&p).is_empty());
    assert_eq!(
        progressing(&p).map(|c| c.0),
        Some(du::PAUSED_REASON.to_string())
    );
    d.spec.as_mut().unwrap().replicas = Some(5);
    let p = plan(&d, std::slice::from_ref(&old), &[], ts(11));
    assert_eq!(updates(&p), [(old.metadata.name.clone().unwrap(), 5)]);
}

#[test]
fn scaling_during_a_rollout_is_proportional() {
    // Upstream's example: 10 replicas, surge 3, old 8 / new 5 (13 = 10 + 3), scaled to 20.
    let d10 = deployment(10, "nginx:2");
    let old = rs(&d10, "nginx:1", 1, 8, 8, 0);
    let new = rs(&d10, "nginx:2", 2, 5, 0, 10);
    let mut d = d10.clone();
    d.spec.as_mut().unwrap().replicas = Some(20);
    let p = plan(&d, &[old.clone(), new.clone()], &[], ts(20));
    let mut u = updates(&p);
    u.sort();
    let total: i32 = u.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 25, "{u:?}"); // 20 + surge 5
    assert_eq!(
        u.iter()
            .find(|(n, _)| Some(n) == old.metadata.name.as_ref())
            .unwrap()
            .1,
        15
    );
}

#[test]
fn rollback_reuses_the_old_replicaset_with_a_new_revision() {
    let d = deployment(3, "nginx:1");
    let r1 = rs(&d, "nginx:1", 1, 0, 0, 0);
    let r2 = rs(&d, "nginx:2", 2, 3, 3, 10);
    let mut r3 = rs(&d, "nginx:3", 3, 0, 0, 20);
    r3.metadata.uid = Some("rs-3".into());
    let p = plan(&d, &[r1.clone(), r2, r3], &[], ts(30));
    let w = p
        .writes
        .iter()
        .find_map(|w| match w {
            Write::Update { rs, .. } if rs.metadata.name == r1.metadata.name => Some(rs),
            _ => None,
        })
        .expect("r1 updated");
    let a = w.metadata.annotations.as_ref().unwrap();
    assert_eq!(a[du::REVISION], "4");
    assert_eq!(a[du::REVISION_HISTORY], "1");
    assert_eq!(du::rs_replicas(w), 1, "surged by one");
    assert!(created(&p).is_none());
}

#[test]
fn recreate_scales_old_to_zero_before_creating() {
    let mut d = deployment(3, "nginx:2");
    d.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy {
        type_: Some("Recreate".into()),
        rolling_update: None,
    });
    let old = rs(&d, "nginx:1", 1, 3, 3, 0);
    let p = plan(&d, std::slice::from_ref(&old), &[], ts(10));
    assert!(created(&p).is_none());
    assert_eq!(updates(&p), [(old.metadata.name.clone().unwrap(), 0)]);
    // Old ReplicaSet at zero with no pods left: the new one comes at full size.
    let old0 = rs(&d, "nginx:1", 1, 0, 0, 0);
    let p = plan(&d, &[old0], &[], ts(11));
    assert_eq!(du::rs_replicas(created(&p).expect("create")), 3);
}

#[test]
fn history_beyond_the_limit_is_deleted_oldest_first() {
    let mut d = deployment(3, "nginx:4");
    d.spec.as_mut().unwrap().revision_history_limit = Some(1);
    let cur = rs(&d, "nginx:4", 4, 3, 3, 40);
    let olds: Vec<ReplicaSet> = (1..=3)
        .map(|i| rs(&d, &format!("nginx:{i}"), i, 0, 0, i * 10))
        .collect();
    d.status = Some(DeploymentStatus {
        observed_generation: Some(1),
        replicas: Some(3),
        updated_replicas: Some(3),
        available_replicas: Some(3),
        ready_replicas: Some(3),
        ..Default::default()
    });
    let mut all = olds.clone();
    all.push(cur);
    let p = plan(&d, &all, &[], ts(50));
    let deleted: Vec<&str> = p
        .writes
        .iter()
        .filter_map(|w| match w {
            Write::Delete { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        [
            olds[0].metadata.name.as_deref().unwrap(),
            olds[1].metadata.name.as_deref().unwrap()
        ]
    );
}

#[test]
fn complete_and_timed_out_rollouts() {
    let mut d = deployment(3, "nginx:1");
    let r = rs(&d, "nginx:1", 1, 3, 3, 0);
    let p = plan(&d, std::slice::from_ref(&r), &[], ts(5));
    let name = r.metadata.name.clone().unwrap();
    assert_eq!(
        progressing(&p).unwrap(),
        (
            du::NEW_RS_AVAILABLE_REASON.to_string(),
            format!("ReplicaSet \"{name}\" has successfully progressed.")
        )
    );
    let st = p.deployment.as_ref().unwrap().status.as_ref().unwrap();
    let avail = du::condition(st, du::AVAILABLE).unwrap();
    assert_eq!(avail.reason.as_deref(), Some(du::MIN_AVAILABLE_REASON));
    assert_eq!(st.updated_replicas, Some(3));
    assert_eq!(st.unavailable_replicas, None);
    // A rollout stuck past its deadline.
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(60);
    let stuck = rs(&d, "nginx:1", 1, 3, 0, 0);
    let mut status = DeploymentStatus {
        observed_generation: Some(1),
        replicas: Some(3),
        updated_replicas: Some(3),
        unavailable_replicas: Some(3),
        ..Default::default()
    };
    du::set_condition(
        &mut status,
        du::new_condition(
            du::PROGRESSING,
            "True",
            du::RS_UPDATED_REASON,
            "x".into(),
            ts(0),
        ),
    );
    d.status = Some(status);
    let p = plan(&d, std::slice::from_ref(&stuck), &[], ts(30));
    assert!(p.deployment.as_ref().is_none_or(|d| {
        du::condition(d.status.as_ref().unwrap(), du::PROGRESSING)
            .unwrap()
            .reason
            .as_deref()
            == Some(du::RS_UPDATED_REASON)
    }));
    let p = plan(&d, std::slice::from_ref(&stuck), &[], ts(61));
    assert_eq!(
        progressing(&p).unwrap(),
        (
            du::TIMED_OUT_REASON.to_string(),
            format!("ReplicaSet \"{name}\" has timed out progressing.")
        )
    );
}

#[test]
fn extreme_values_never_panic() {
    for replicas in [i32::MAX, -5, 0] {
        let mut d = deployment(replicas, "nginx:2");
        d.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(i32::MAX)),
                max_unavailable: Some(IntOrString::String("bogus".into())),
            }),
        });
        d.status = Some(DeploymentStatus {
            collision_count: Some(i32::MAX),
            replicas: Some(i32::MIN),
            ..Default::default()
        });
        let mut old = rs(&d, "nginx:1", i64::MAX, i32::MAX, i32::MAX, 0);
        old.metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert(du::MAX_REPLICAS.into(), "-3".into());
        let mut other = rs(&d, "nginx:0", 1, i32::MAX, -7, 5);
        other.metadata.uid = Some("other".into());
        let _ = plan(&d, &[old.clone(), other.clone()], &[], ts(1));
        d.spec.as_mut().unwrap().paused = Some(true);
        let _ = plan(&d, &[old, other], &[], ts(2));
    }
}
