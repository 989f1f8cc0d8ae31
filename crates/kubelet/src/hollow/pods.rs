//! What a hollow node does with a pod bound to it, and the status it reports, as upstream's
//! kubelet (`generateAPIPodStatus`, the status manager) would for containers that start at
//! once and never fail: Pending -> Running and Ready; a Job's pod -> Succeeded after the
//! configured run time; a pod being deleted -> the kubelet's final delete. Pure: the time
//! comes in as a parameter.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStatus,
    HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{json, Value};

/// What to do with a pod now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing (not ours, finished, or already reported).
    Nothing,
    /// The kubelet's final delete (grace 0, UID precondition).
    Delete { uid: String },
    /// Start it: report Running and Ready.
    Start,
    /// Its run is over: report Succeeded.
    Complete,
    /// Running, but its Ready / ContainersReady conditions are not what the node reports
    /// (the node lifecycle controller marked it not Ready, or a readiness gate changed):
    /// report them again.
    Refresh,
    /// Look again after this long.
    Later(Duration),
}

/// Whether `pod` is a Job's pod (it runs to completion on a hollow node).
pub fn is_job_pod(pod: &Pod) -> bool {
    let owned = pod
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|o| o.kind == "Job" && o.api_version.starts_with("batch/"));
    let restart = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    let labelled = pod
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key("batch.kubernetes.io/job-name"));
    owned || (labelled && (restart == "Never" || restart == "OnFailure"))
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// When the pod's containers started (its `startTime`).
fn started_at(pod: &Pod) -> Option<Timestamp> {
    pod.status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0)
}

/// The next step for `pod` (bound to one of our nodes, which is Ready or not) at `now`.
pub fn decide(pod: &Pod, job_duration: Duration, node_ready: bool, now: Timestamp) -> Action {
    if pod.metadata.deletion_timestamp.is_some() {
        return Action::Delete {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
        };
    }
    let refresh = || node_ready && refreshed_conditions(pod, now).is_some();
    match phase(pod) {
        "Pending" => Action::Start,
        "Running" if is_job_pod(pod) => {
            let Some(start) = started_at(pod) else {
                return Action::Complete;
            };
            let ran = Duration::try_from(now.duration_since(start)).unwrap_or(Duration::ZERO);
            match job_duration.checked_sub(ran) {
                Some(_) if refresh() => Action::Refresh,
                Some(left) if !left.is_zero() => Action::Later(left),
                _ => Action::Complete,
            }
        }
        "Running" if refresh() => Action::Refresh,
        _ => Action::Nothing,
    }
}

/// The Ready condition of a running pod whose containers are all ready: True unless a
/// readiness gate's condition is missing or not True (upstream's
/// `GeneratePodReadyCondition`).
fn ready_condition(pod: &Pod, previous: &[PodCondition], now: Timestamp) -> PodCondition {
    let gates = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    let unready: Vec<String> = gates
        .iter()
        .filter_map(|g| {
            let ty = &g.condition_type;
            match previous.iter().find(|c| &c.type_ == ty) {
                None => Some(format!(
                    "corresponding condition of pod readiness gate {ty:?} does not exist."
                )),
                Some(c) if c.status != "True" => Some(format!(
                    "the status of pod readiness gate {ty:?} is not \"True\", but {}",
                    c.status
                )),
                Some(_) => None,
            }
        })
        .collect();
    if unready.is_empty() {
        condition(previous, "Ready", "True", None, now)
    } else {
        let mut c = condition(
            previous,
            "Ready",
            "False",
            Some("ReadinessGatesNotReady"),
            now,
        );
        c.message = Some(unready.join(", "));
        c
    }
}

/// A running pod's conditions with Ready and ContainersReady as the node reports them;
/// `None` when they already are.
pub fn refreshed_conditions(pod: &Pod, now: Timestamp) -> Option<Vec<PodCondition>> {
    let mut conds = previous_conditions(pod);
    let want = [
        ready_condition(pod, &conds, now),
        condition(&conds, "ContainersReady", "True", None, now),
    ];
    let mut changed = false;
    for w in want {
        match conds.iter_mut().find(|c| c.type_ == w.type_) {
            Some(c) if c.status == w.status && c.reason == w.reason && c.message == w.message => {}
            Some(c) => {
                *c = w;
                changed = true;
            }
            None => {
                conds.push(w);
                changed = true;
            }
        }
    }
    changed.then_some(conds)
}

fn hash_hex(parts: &[&str], words: usize) -> String {
    let mut out = String::new();
    for w in 0..words {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        w.hash(&mut h);
        parts.hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// The fake container ID of container `name` of pod `uid`.
pub fn container_id(uid: &str, name: &str) -> String {
    format!("hollow://{}", hash_hex(&[uid, name], 4))
}

/// The fake image ID of `image` (`repo@sha256:...`, as a runtime reports it).
pub fn image_id(image: &str) -> String {
    let repo = match image.rsplit_once('@') {
        Some((r, _)) => r,
        None => match image.rsplit_once(':') {
            Some((r, tag)) if !tag.contains('/') => r,
            _ => image,
        },
    };
    format!("{repo}@sha256:{}", hash_hex(&[image], 4))
}

fn condition(
    previous: &[PodCondition],
    ty: &str,
    status: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> PodCondition {
    let transition = previous
        .iter()
        .find(|c| c.type_ == ty && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or(Time(now));
    PodCondition {
        type_: ty.into(),
        status: status.into(),
        reason: reason.map(Into::into),
        last_transition_time: Some(transition),
        ..Default::default()
    }
}

fn running_container(uid: &str, c: &Container, now: Timestamp) -> ContainerStatus {
    let image = c.image.clone().unwrap_or_default();
    ContainerStatus {
        name: c.name.clone(),
        container_id: Some(container_id(uid, &c.name)),
        image_id: image_id(&image),
        image,
        ready: true,
        started: Some(true),
        restart_count: 0,
        state: Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(Time(now)),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn completed_container(
    uid: &str,
    c: &Container,
    started: Timestamp,
    now: Timestamp,
) -> ContainerStatus {
    let image = c.image.clone().unwrap_or_default();
    let id = container_id(uid, &c.name);
    ContainerStatus {
        name: c.name.clone(),
        container_id: Some(id.clone()),
        image_id: image_id(&image),
        image,
        ready: false,
        started: Some(false),
        restart_count: 0,
        state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                container_id: Some(id),
                exit_code: 0,
                reason: Some("Completed".into()),
                started_at: Some(Time(started)),
                finished_at: Some(Time(now)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An init container that exited 0 counts as ready (the kubelet's prober manager).
fn init_done(mut status: ContainerStatus) -> ContainerStatus {
    status.ready = true;
    status
}

fn previous_conditions(pod: &Pod) -> Vec<PodCondition> {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
}

fn scheduled(previous: &[PodCondition], now: Timestamp) -> PodCondition {
    previous
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "True")
        .cloned()
        .unwrap_or_else(|| condition(previous, "PodScheduled", "True", None, now))
}

/// The status of `pod` once started at `now` on a node at `host_ip`, with `pod_ip` (the
/// host's for hostNetwork pods).
pub fn running_status(pod: &Pod, host_ip: &str, pod_ip: &str, now: Timestamp) -> PodStatus {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let prev = previous_conditions(pod);
    let spec = pod.spec.as_ref();
    let mut containers: Vec<ContainerStatus> = spec
        .map(|s| s.containers.iter())
        .into_iter()
        .flatten()
        .map(|c| running_container(uid, c, now))
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    let init: Vec<ContainerStatus> = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            if c.restart_policy.as_deref() == Some("Always") {
                // A sidecar keeps running.
                running_container(uid, c, now)
            } else {
                init_done(completed_container(uid, c, now, now))
            }
        })
        .collect();
    PodStatus {
        phase: Some("Running".into()),
        conditions: Some(vec![
            condition(&prev, "PodReadyToStartContainers", "True", None, now),
            condition(&prev, "Initialized", "True", None, now),
            ready_condition(pod, &prev, now),
            condition(&prev, "ContainersReady", "True", None, now),
            scheduled(&prev, now),
        ]),
        host_ip: Some(host_ip.into()),
        host_ips: Some(vec![HostIP { ip: host_ip.into() }]),
        pod_ip: Some(pod_ip.into()),
        pod_ips: Some(vec![PodIP { ip: pod_ip.into() }]),
        start_time: Some(Time(now)),
        container_statuses: Some(containers),
        init_container_statuses: (!init.is_empty()).then_some(init),
        ..Default::default()
    }
}

/// The status of a Job's `pod` whose containers all exited 0 at `now`.
pub fn succeeded_status(pod: &Pod, now: Timestamp) -> PodStatus {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let prev = previous_conditions(pod);
    let started = started_at(pod).unwrap_or(now);
    let spec = pod.spec.as_ref();
    let mut containers: Vec<ContainerStatus> = spec
        .map(|s| s.containers.iter())
        .into_iter()
        .flatten()
        .map(|c| completed_container(uid, c, started, now))
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    let init: Vec<ContainerStatus> = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let finished = if c.restart_policy.as_deref() == Some("Always") {
                now
            } else {
                started
            };
            init_done(completed_container(uid, c, started, finished))
        })
        .collect();
    let done = Some("PodCompleted");
    PodStatus {
        phase: Some("Succeeded".into()),
        conditions: Some(vec![
            condition(&prev, "PodReadyToStartContainers", "False", None, now),
            condition(&prev, "Initialized", "True", done, now),
            condition(&prev, "Ready", "False", done, now),
            condition(&prev, "ContainersReady", "False", done, now),
            scheduled(&prev, now),
        ]),
        container_statuses: Some(containers),
        init_container_statuses: (!init.is_empty()).then_some(init),
        ..Default::default()
    }
}

/// The merge patch of `pods/status` writing `status`, guarded by the pod's UID as the
/// kubelet's status manager guards its patches.
pub fn status_patch(pod: &Pod, status: &PodStatus) -> Value {
    let status = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    json!({
        "metadata": {"uid": pod.metadata.uid},
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("sim-1".into()),
                containers: vec![
                    Container {
                        name: "b".into(),
                        image: Some("nginx:1.25".into()),
                        ..Default::default()
                    },
                    Container {
                        name: "a".into(),
                        image: Some("busybox".into()),
                        ..Default::default()
                    },
                ],
                init_containers: Some(vec![Container {
                    name: "init".into(),
                    image: Some("busybox".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Pending".into()),
                qos_class: Some("BestEffort".into()),
                ..Default::default()
            }),
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn pending_pods_start_and_deleted_ones_are_deleted() {
        let p = pod();
        assert_eq!(
            decide(&p, Duration::from_secs(1), true, t(0)),
            Action::Start
        );
        let mut d = p.clone();
        d.metadata.deletion_timestamp = Some(Time(t(0)));
        assert_eq!(
            decide(&d, Duration::from_secs(1), true, t(0)),
            Action::Delete { uid: "u1".into() }
        );
    }

    #[test]
    fn running_status_reports_ready_containers_sorted_by_name() {
        let p = pod();
        let st = running_status(&p, "10.255.0.2", "10.42.1.2", t(0));
        assert_eq!(st.phase.as_deref(), Some("Running"));
        let names: Vec<_> = st
            .container_statuses
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let c = &st.container_statuses.as_ref().unwrap()[1];
        assert!(c.ready);
        assert_eq!(c.started, Some(true));
        assert!(c.container_id.as_deref().unwrap().starts_with("hollow://"));
        assert!(c.image_id.starts_with("nginx@sha256:"));
        let init = &st.init_container_statuses.as_ref().unwrap()[0];
        assert!(init.ready);
        let term = init.state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(
            (term.exit_code, term.reason.as_deref()),
            (0, Some("Completed"))
        );
        let types: Vec<_> = st
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("PodReadyToStartContainers", "True"),
                ("Initialized", "True"),
                ("Ready", "True"),
                ("ContainersReady", "True"),
                ("PodScheduled", "True")
            ]
        );
        assert_eq!(st.pod_ips.as_ref().unwrap()[0].ip, "10.42.1.2");
        assert_eq!(st.host_ips.as_ref().unwrap()[0].ip, "10.255.0.2");
        // The patch keeps the API server's qosClass (a merge patch without it).
        let patch = status_patch(&p, &st);
        assert!(patch["status"].get("qosClass").is_none());
        assert_eq!(patch["metadata"]["uid"], "u1");
    }

    #[test]
    fn job_pods_succeed_after_their_run_time() {
        let mut p = pod();
        p.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            name: "j".into(),
            uid: "j1".into(),
            ..Default::default()
        }]);
        assert!(is_job_pod(&p));
        p.status = Some(running_status(&p, "10.255.0.2", "10.42.1.2", t(0)));
        let d = Duration::from_secs(5);
        assert_eq!(
            decide(&p, d, true, t(2)),
            Action::Later(Duration::from_secs(3))
        );
        assert_eq!(decide(&p, d, true, t(5)), Action::Complete);
        let st = succeeded_status(&p, t(5));
        assert_eq!(st.phase.as_deref(), Some("Succeeded"));
        let ready = st
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_deref()),
            ("False", Some("PodCompleted"))
        );
        let c = &st.container_statuses.as_ref().unwrap()[0];
        let term = c.state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(term.started_at, Some(Time(t(0))));
        assert_eq!(term.finished_at, Some(Time(t(5))));
        // Finished pods stay as they are.
        p.status = Some(st);
        assert_eq!(decide(&p, d, true, t(9)), Action::Nothing);
    }

    #[test]
    fn readiness_comes_back_when_the_node_is_ready() {
        let mut p = pod();
        p.status = Some(running_status(&p, "10.255.0.2", "10.42.1.2", t(0)));
        let d = Duration::from_secs(1);
        assert_eq!(decide(&p, d, true, t(1)), Action::Nothing);
        // The node lifecycle controller marked it not Ready.
        for c in p.status.as_mut().unwrap().conditions.as_mut().unwrap() {
            if c.type_ == "Ready" {
                c.status = "False".into();
            }
        }
        assert_eq!(decide(&p, d, false, t(2)), Action::Nothing);
        assert_eq!(decide(&p, d, true, t(2)), Action::Refresh);
        let conds = refreshed_conditions(&p, t(2)).unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.last_transition_time.clone()),
            ("True", Some(Time(t(2))))
        );
    }

    #[test]
    fn readiness_gates_hold_ready_back() {
        let mut p = pod();
        p.spec.as_mut().unwrap().readiness_gates =
            Some(vec![k8s_openapi::api::core::v1::PodReadinessGate {
                condition_type: "example.com/lb".into(),
            }]);
        let st = running_status(&p, "10.255.0.2", "10.42.1.2", t(0));
        let ready = st
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap()
            .clone();
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason.as_deref(), Some("ReadinessGatesNotReady"));
        assert_eq!(
            ready.message.as_deref(),
            Some(
                "corresponding condition of pod readiness gate \"example.com/lb\" does not exist."
            )
        );
        p.status = Some(st);
        assert_eq!(
            decide(&p, Duration::from_secs(1), true, t(1)),
            Action::Nothing
        );
        // The gate's condition turns True: Ready follows.
        p.status
            .as_mut()
            .unwrap()
            .conditions
            .as_mut()
            .unwrap()
            .push(PodCondition {
                type_: "example.com/lb".into(),
                status: "True".into(),
                ..Default::default()
            });
        assert_eq!(
            decide(&p, Duration::from_secs(1), true, t(2)),
            Action::Refresh
        );
    }

    #[test]
    fn job_label_counts_only_for_run_to_completion_pods() {
        let mut p = pod();
        p.metadata.labels = Some([("batch.kubernetes.io/job-name".into(), "j".into())].into());
        assert!(!is_job_pod(&p));
        p.spec.as_mut().unwrap().restart_policy = Some("Never".into());
        assert!(is_job_pod(&p));
    }

    #[test]
    fn image_ids_name_the_repository() {
        assert!(image_id("nginx:1.25").starts_with("nginx@sha256:"));
        assert!(image_id("localhost:5000/app").starts_with("localhost:5000/app@sha256:"));
        assert!(image_id("r/app@sha256:abc").starts_with("r/app@sha256:"));
    }
}
