//! Unit tests of the StatefulSet decisions: identity, claims, the next action for
//! OrderedReady and Parallel sets, scale down, partitioned rolling updates, retention
//! policy owners, revisions and status.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    ControllerRevision, RollingUpdateStatefulSetStrategy, StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec, StatefulSetStatus,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaim, PersistentVolumeClaimSpec, Pod, PodSpec, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::control::{plan, Action, Claims, Why};
use super::pods::*;
use super::revisions::{candidate, choose_update, to_truncate, UpdateRevision};
use super::status::{complete_rolling_update, inconsistent, status_patch};
use crate::daemonset::pods::fixtures::with_state;

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

fn sts(replicas: i32, image: &str) -> StatefulSet {
    StatefulSet {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some("set-uid".into()),
            generation: Some(1),
            ..Default::default()
        },
        spec: Some(StatefulSetSpec {
            replicas: Some(replicas),
            service_name: Some("nginx".into()),
            selector: LabelSelector {
                match_labels: labels(&[("app", "web")]),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: labels(&[("app", "web")]),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "nginx".into(),
                        image: Some(image.into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            volume_claim_templates: Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("www".into()),
                    ..Default::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    ..Default::default()
                }),
                status: None,
            }]),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateStatefulSetStrategy {
                    partition: Some(0),
                    max_unavailable: None,
                }),
            }),
            pod_management_policy: Some("OrderedReady".into()),
            revision_history_limit: Some(10),
            ..Default::default()
        }),
        status: None,
    }
}

fn rev(set: &StatefulSet, n: i64) -> ControllerRevision {
    let mut r = candidate(set, n, 0).unwrap();
    r.metadata.uid = Some(format!("rev-{n}"));
    r
}

fn rev_name(r: &ControllerRevision) -> String {
    r.metadata.name.clone().unwrap()
}

/// Member `i` made from revision `r`, in `phase`, ready or not.
fn member(set: &StatefulSet, r: &ControllerRevision, i: i64, phase: &str, ready: bool) -> Arc<Pod> {
    let mut p = new_pod(set, i);
    p.metadata.uid = Some(format!("pod-{i}"));
    p.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(REVISION_LABEL.into(), rev_name(r));
    Arc::new(with_state(p, phase, ready.then(|| t(0))))
}

fn claims_of(set: &StatefulSet, ordinals: &[i64]) -> Claims {
    ordinals
        .iter()
        .map(|i| {
            let mut c = claims_for(set, &new_pod(set, *i)).remove("www").unwrap();
            c.metadata.uid = Some(format!("pvc-{i}"));
            (c.metadata.name.clone().unwrap(), Arc::new(c))
        })
        .collect()
}

fn names(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::CreatePod { pod, .. } => {
                format!("create {}", pod.metadata.name.clone().unwrap())
            }
            Action::CreateMissingClaims { pod, .. } => format!("claims {pod}"),
            Action::UpdatePod { pod, .. } => {
                format!("update {}", pod.metadata.name.clone().unwrap())
            }
            Action::FixClaims { pod, .. } => format!("fix {pod}"),
            Action::DeletePod { pod, .. } => format!("delete {pod}"),
        })
        .collect()
}

#[test]
fn ordinals_parse_like_upstream() {
    assert_eq!(parent_and_ordinal("web-0"), (Some("web"), 0));
    assert_eq!(parent_and_ordinal("my-web-12"), (Some("my-web"), 12));
    assert_eq!(parent_and_ordinal("web"), (None, -1));
    assert_eq!(parent_and_ordinal("web-"), (None, -1));
    assert_eq!(parent_and_ordinal("web-99999999999"), (Some("web"), -1));
}

#[test]
fn new_members_have_identity_and_storage() {
    let set = sts(3, "nginx:1");
    let p = new_pod(&set, 2);
    assert_eq!(p.metadata.name.as_deref(), Some("web-2"));
    let l = p.metadata.labels.as_ref().unwrap();
    assert_eq!(l[POD_NAME_LABEL], "web-2");
    assert_eq!(l[POD_INDEX_LABEL], "2");
    assert_eq!(l["app"], "web");
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-2"));
    assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
    let v = &spec.volumes.as_ref().unwrap()[0];
    assert_eq!(v.name, "www");
    assert_eq!(
        v.persistent_volume_claim.as_ref().unwrap().claim_name,
        "www-web-2"
    );
    assert!(identity_matches(&set, &p));
    assert!(storage_matches(&set, &p));
    let c = claims_for(&set, &p);
    assert_eq!(c["www"].metadata.name.as_deref(), Some("www-web-2"));
    assert_eq!(c["www"].metadata.labels.as_ref().unwrap()["app"], "web");
}

#[test]
fn ordered_ready_creates_one_at_a_time_with_claims_first() {
    let set = sts(3, "nginx:1");
    let r = rev(&set, 1);
    let p = plan(&set, &[], &Claims::new(), &r, &r, 0, t(10)).unwrap();
    assert_eq!(names(&p.actions), ["create web-0"]);
    let Action::CreatePod { pod, claims } = &p.actions[0] else {
        unreachable!()
    };
    assert_eq!(claims.create[0].metadata.name.as_deref(), Some("www-web-0"));
    assert_eq!(pod_revision(pod), rev_name(&r));
    assert_eq!(p.status.replicas, 0);
    assert_eq!(
        p.status.update_revision.as_deref(),
        Some(rev_name(&r).as_str())
    );

    // web-0 exists but is not ready: wait.
    let pods = vec![member(&set, &r, 0, "Pending", false)];
    let p = plan(&set, &pods, &claims_of(&set, &[0]), &r, &r, 0, t(10)).unwrap();
    assert!(p.actions.is_empty());
    assert_eq!(p.status.replicas, 1);

    // web-0 Running and Ready: web-1 next.
    let pods = vec![member(&set, &r, 0, "Running", true)];
    let p = plan(&set, &pods, &claims_of(&set, &[0]), &r, &r, 0, t(10)).unwrap();
    assert_eq!(names(&p.actions), ["create web-1"]);
    assert_eq!(p.status.ready_replicas, Some(1));
}

#[test]
fn parallel_creates_everything_at_once() {
    let mut set = sts(3, "nginx:1");
    set.spec.as_mut().unwrap().pod_management_policy = Some("Parallel".into());
    let r = rev(&set, 1);
    let p = plan(&set, &[], &Claims::new(), &r, &r, 0, t(10)).unwrap();
    assert_eq!(
        names(&p.actions),
        ["create web-0", "create web-1", "create web-2"]
    );
}

#[test]
fn scale_down_goes_in_reverse_one_at_a_time() {
    let set = sts(1, "nginx:1");
    let r = rev(&set, 1);
    let pods: Vec<_> = (0..3)
        .map(|i| member(&set, &r, i, "Running", true))
        .collect();
    let p = plan(&set, &pods, &claims_of(&set, &[0, 1, 2]), &r, &r, 0, t(10)).unwrap();
    assert_eq!(names(&p.actions), ["delete web-2"]);
    assert!(matches!(
        p.actions[0],
        Action::DeletePod {
            why: Why::ScaleDown,
            ..
        }
    ));
    // While web-2 terminates, web-1 waits.
    let mut terminating = (*pods[2]).clone();
    terminating.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t(5)));
    let pods2 = vec![pods[0].clone(), pods[1].clone(), Arc::new(terminating)];
    let p = plan(&set, &pods2, &claims_of(&set, &[0, 1, 2]), &r, &r, 0, t(10)).unwrap();
    assert!(p.actions.is_empty());
}

#[test]
fn partitioned_rolling_update_goes_from_the_highest_ordinal() {
    let old_set = sts(3, "nginx:1");
    let r1 = rev(&old_set, 1);
    let mut set = sts(3, "nginx:2");
    set.spec
        .as_mut()
        .unwrap()
        .update_strategy
        .as_mut()
        .unwrap()
        .rolling_update
        .as_mut()
        .unwrap()
        .partition = Some(1);
    let r2 = rev(&set, 2);
    assert_ne!(rev_name(&r1), rev_name(&r2));
    let claims = claims_of(&set, &[0, 1, 2]);
    let pods: Vec<_> = (0..3)
        .map(|i| member(&old_set, &r1, i, "Running", true))
        .collect();
    let p = plan(&set, &pods, &claims, &r1, &r2, 0, t(10)).unwrap();
    assert_eq!(names(&p.actions), ["delete web-2"]);
    assert_eq!(p.status.current_replicas, Some(2));

    // web-2 was recreated at r2 but is not ready yet: wait.
    let pods = vec![
        pods[0].clone(),
        pods[1].clone(),
        member(&set, &r2, 2, "Pending", false),
    ];
    let p = plan(&set, &pods, &claims, &r1, &r2, 0, t(10)).unwrap();
    assert!(p.actions.is_empty());
    assert_eq!(p.status.updated_replicas, Some(1));

    // Ready: web-1 next; web-0 stays below the partition.
    let pods = vec![
        pods[0].clone(),
        pods[1].clone(),
        member(&set, &r2, 2, "Running", true),
    ];
    let p = plan(&set, &pods, &claims, &r1, &r2, 0, t(10)).unwrap();
    assert_eq!(names(&p.actions), ["delete web-1"]);
    let pods = vec![
        pods[0].clone(),
        member(&set, &r2, 1, "Running", true),
        pods[2].clone(),
    ];
    let p = plan(&set, &pods, &claims, &r1, &r2, 0, t(10)).unwrap();
    assert!(p.actions.is_empty());

    // A deleted web-0 comes back at the current revision (below the partition).
    let pods = vec![pods[1].clone(), pods[2].clone()];
    let p = plan(&set, &pods, &claims, &r1, &r2, 0, t(10)).unwrap();
    let Action::CreatePod { pod, .. } = &p.actions[0] else {
        panic!("{:?}", names(&p.actions))
    };
    assert_eq!(pod_revision(pod), rev_name(&r1));
    assert_eq!(
        pod.spec.as_ref().unwrap().containers[0].image.as_deref(),
        Some("nginx:1")
    );
}

#[test]
fn on_delete_never_deletes_for_updates_and_failed_pods_are_replaced() {
    let old_set = sts(2, "nginx:1");
    let r1 = rev(&old_set, 1);
    let mut set = sts(2, "nginx:2");
    set.spec.as_mut().unwrap().update_strategy = Some(StatefulSetUpdateStrategy {
        type_: Some("OnDelete".into()),
        rolling_update: None,
    });
    let r2 = rev(&set, 2);
    let pods: Vec<_> = (0..2)
        .map(|i| member(&old_set, &r1, i, "Running", true))
        .collect();
    let p = plan(&set, &pods, &claims_of(&set, &[0, 1]), &r1, &r2, 0, t(10)).unwrap();
    assert!(p.actions.is_empty());

    let pods = vec![pods[0].clone(), member(&old_set, &r1, 1, "Failed", false)];
    let p = plan(&set, &pods, &claims_of(&set, &[0, 1]), &r1, &r2, 0, t(10)).unwrap();
    assert_eq!(names(&p.actions), ["delete web-1"]);
}

#[test]
fn retention_policy_sets_claim_owners() {
    let mut set = sts(1, "nginx:1");
    set.spec
        .as_mut()
        .unwrap()
        .persistent_volume_claim_retention_policy =
        Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_deleted: Some("Delete".into()),
            when_scaled: Some("Delete".into()),
        });
    let r = rev(&set, 1);
    let pods: Vec<_> = (0..2)
        .map(|i| member(&set, &r, i, "Running", true))
        .collect();
    let claims = claims_of(&set, &[0, 1]);
    let p = plan(&set, &pods, &claims, &r, &r, 0, t(10)).unwrap();
    // web-0's claim gets the set as owner, web-1 (scaled down) gets its pod; then web-1 goes.
    assert_eq!(
        names(&p.actions),
        ["update web-0", "fix web-1", "delete web-1"]
    );
    let Action::UpdatePod {
        claims: w, changed, ..
    } = &p.actions[0]
    else {
        unreachable!()
    };
    assert!(*changed);
    let owner = &w.owners[0].metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("StatefulSet", "set-uid")
    );
    let Action::FixClaims { claims: w, .. } = &p.actions[1] else {
        unreachable!()
    };
    let owner = &w.owners[0].metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Pod", "pod-1"));

    // A claim still owned by a previous incarnation of web-1 blocks its re-creation.
    let mut set2 = sts(2, "nginx:1");
    set2.spec
        .as_mut()
        .unwrap()
        .persistent_volume_claim_retention_policy = set
        .spec
        .as_ref()
        .unwrap()
        .persistent_volume_claim_retention_policy
        .clone();
    let mut stale = (*claims["www-web-1"]).clone();
    stale.metadata.owner_references = w.owners[0].metadata.owner_references.clone();
    let mut claims2 = claims.clone();
    claims2.insert("www-web-1".into(), Arc::new(stale));
    let p = plan(&set2, &pods[..1], &claims2, &r, &r, 0, t(10)).unwrap();
    assert!(p
        .actions
        .iter()
        .all(|a| !matches!(a, Action::CreatePod { .. })));
}

#[test]
fn update_revision_is_reused_created_or_rolled_back() {
    let s1 = sts(1, "nginx:1");
    let s2 = sts(1, "nginx:2");
    let r1 = Arc::new(rev(&s1, 1));
    let r2 = Arc::new(rev(&s2, 2));
    let revs = vec![r1.clone(), r2.clone()];
    assert!(
        matches!(choose_update(&s2, &revs, 0), Some(UpdateRevision::Newest(r)) if r.revision == 2)
    );
    match choose_update(&s1, &revs, 0) {
        Some(UpdateRevision::Renumber(r, n)) => {
            assert_eq!(r.revision, 1);
            assert_eq!(n, 3);
        }
        other => panic!("{other:?}"),
    }
    let s3 = sts(1, "nginx:3");
    match choose_update(&s3, &revs, 0) {
        Some(UpdateRevision::Create(c)) => assert_eq!(c.revision, 3),
        other => panic!("{other:?}"),
    }
    // Truncation keeps live revisions and the limit.
    let mut limited = sts(1, "nginx:3");
    limited.spec.as_mut().unwrap().revision_history_limit = Some(0);
    let r3 = Arc::new(rev(&s3, 3));
    let all = vec![r1.clone(), r2.clone(), r3.clone()];
    let pods = vec![member(&s2, &r2, 0, "Running", true)];
    let gone = to_truncate(
        &limited,
        &all,
        &pods,
        Some(&rev_name(&r3)),
        Some(&rev_name(&r3)),
    );
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].revision, 1);
}

#[test]
fn status_completes_rolling_updates_and_writes_when_changed() {
    let set = sts(2, "nginx:1");
    let mut st = StatefulSetStatus {
        replicas: 2,
        ready_replicas: Some(2),
        updated_replicas: Some(2),
        current_replicas: Some(0),
        current_revision: Some("web-a".into()),
        update_revision: Some("web-b".into()),
        observed_generation: Some(1),
        collision_count: Some(0),
        available_replicas: Some(2),
        ..Default::default()
    };
    complete_rolling_update(&set, &mut st);
    assert_eq!(st.current_revision.as_deref(), Some("web-b"));
    assert_eq!(st.current_replicas, Some(2));
    assert!(inconsistent(&set, &st));
    let mut written = set.clone();
    written.status = Some(st.clone());
    assert!(!inconsistent(&written, &st));
    let patch = status_patch(&st);
    assert_eq!(patch["status"]["collisionCount"], 0);
    assert_eq!(patch["status"]["currentRevision"], "web-b");
    let empty = status_patch(&StatefulSetStatus::default());
    assert!(empty["status"]["readyReplicas"].is_null());
    assert_eq!(empty["status"]["availableReplicas"], 0);
}
