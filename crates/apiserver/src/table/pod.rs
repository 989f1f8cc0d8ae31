//! The Pod printer: READY (ready / total containers, restartable init containers counted),
//! STATUS as upstream's `printPod` derives it (phase, pod reason, `SchedulingGated`,
//! `Init:N/M`, `Init:<reason>`, a container's waiting or terminated reason such as
//! `CrashLoopBackOff`, `ExitCode:N` / `Signal:N`, `Completed` turned back into
//! `Running` / `NotReady` while a container still runs, `Terminating`, `Unknown` for a pod on
//! a lost node), RESTARTS with the time of the last restart, and the wide columns.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::docs;
use super::duration;
use super::fields::{age, arr, boolean, deleting, int, name, present, s, timestamp};
use super::{Column, Printer, Row, AGE, NAME};

pub(super) static PODS: Printer = Printer {
    columns: &[
        NAME,
        Column::new(
            "Ready",
            "string",
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        Column::new(
            "Status",
            "string",
            "The aggregate status of the containers in this pod.",
        ),
        Column::new(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        AGE,
        Column::new("IP", "string", docs::POD_STATUS_POD_IP).wide(),
        Column::new("Node", "string", docs::POD_SPEC_NODE_NAME).wide(),
        Column::new("Nominated Node", "string", docs::POD_STATUS_NOMINATED_NODE_NAME).wide(),
        Column::new("Readiness Gates", "string", docs::POD_SPEC_READINESS_GATES).wide(),
    ],
    row: pod_row,
};

/// `apiv1.PodReasonSchedulingGated`.
const SCHEDULING_GATED: &str = "SchedulingGated";
/// `node.NodeUnreachablePodReason`.
const NODE_UNREACHABLE: &str = "NodeLost";

/// A sidecar: an init container with `restartPolicy: Always`.
fn restartable(container: Option<&Value>) -> bool {
    container.is_some_and(|c| s(&c["restartPolicy"]) == "Always")
}

/// The later of two optional times (`None` is Go's zero time, before everything).
fn later(current: Option<Timestamp>, candidate: Option<Timestamp>) -> Option<Timestamp> {
    match (current, candidate) {
        (Some(a), Some(b)) if b > a => Some(b),
        (None, b) => b,
        (a, _) => a,
    }
}

/// When a container last terminated, if it has (`lastState.terminated.finishedAt`).
fn last_termination(status: &Value) -> Option<Option<Timestamp>> {
    let terminated = &status["lastState"]["terminated"];
    present(terminated).then(|| timestamp(&terminated["finishedAt"]))
}

/// `Signal:N` / `ExitCode:N` of a terminated state without a reason.
fn exit_reason(terminated: &Value) -> String {
    let signal = int(&terminated["signal"]);
    if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int(&terminated["exitCode"]))
    }
}

/// Whether the first condition of `type` has status True (upstream reads only the first).
fn first_condition_true(conditions: &[Value], ty: &str) -> bool {
    conditions
        .iter()
        .find(|c| s(&c["type"]) == ty)
        .is_some_and(|c| s(&c["status"]) == "True")
}

fn pod_row(pod: &Value, now: Timestamp) -> Row {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let conditions = arr(&status["conditions"]);
    let init_specs = arr(&spec["initContainers"]);

    let mut total = arr(&spec["containers"]).len();
    let mut ready = 0usize;
    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;

    // Upstream sets the phase (Pending) when the pod is created.
    let phase = match s(&status["phase"]) {
        "" => "Pending",
        p => p,
    };
    let mut reason = match s(&status["reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if conditions
        .iter()
        .any(|c| s(&c["type"]) == "PodScheduled" && s(&c["reason"]) == SCHEDULING_GATED)
    {
        reason = SCHEDULING_GATED.to_string();
    }

    let row_conditions = match phase {
        "Succeeded" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }])),
        "Failed" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed.",
        }])),
        _ => None,
    };

    let init_spec = |name: &str| init_specs.iter().find(|c| s(&c["name"]) == name);
    total += init_specs.iter().filter(|c| restartable(Some(c))).count();

    let mut initializing = false;
    for (i, container) in arr(&status["initContainerStatuses"]).iter().enumerate() {
        let count = int(&container["restartCount"]);
        restarts += count;
        let finished = last_termination(container);
        if let Some(at) = finished {
            last_restart = later(last_restart, at);
        }
        let sidecar = restartable(init_spec(s(&container["name"])));
        if sidecar {
            sidecar_restarts += count;
            if let Some(at) = finished {
                last_sidecar_restart = later(last_sidecar_restart, at);
            }
        }
        let state = &container["state"];
        let terminated = &state["terminated"];
        let waiting = &state["waiting"];
        if present(terminated) && int(&terminated["exitCode"]) == 0 {
            continue;
        }
        if sidecar && boolean(&container["started"]) {
            if boolean(&container["ready"]) {
                ready += 1;
            }
            continue;
        }
        if present(terminated) {
            // Initialisation failed.
            reason = match s(&terminated["reason"]) {
                "" => format!("Init:{}", exit_reason(terminated)),
                r => format!("Init:{r}"),
            };
        } else if present(waiting)
            && !s(&waiting["reason"]).is_empty()
            && s(&waiting["reason"]) != "PodInitializing"
        {
            reason = format!("Init:{}", s(&waiting["reason"]));
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || first_condition_true(conditions, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for container in arr(&status["containerStatuses"]).iter().rev() {
            restarts += int(&container["restartCount"]);
            if let Some(at) = last_termination(container) {
                last_restart = later(last_restart, at);
            }
            let state = &container["state"];
            let terminated = &state["terminated"];
            let waiting = &state["waiting"];
            if present(waiting) && !s(&waiting["reason"]).is_empty() {
                reason = s(&waiting["reason"]).to_string();
            } else if present(terminated) && !s(&terminated["reason"]).is_empty() {
                reason = s(&terminated["reason"]).to_string();
            } else if present(terminated) {
                reason = exit_reason(terminated);
            } else if boolean(&container["ready"]) && present(&state["running"]) {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose last container reports Completed while another still runs is running.
        if reason == "Completed" && has_running {
            reason = if has_ready_condition(conditions) {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if deleting(pod) && s(&status["reason"]) == NODE_UNREACHABLE {
        reason = "Unknown".into();
    } else if deleting(pod) && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".into();
    }

    let restarts_text = match last_restart {
        Some(at) if restarts != 0 => {
            format!("{restarts} ({} ago)", duration::since(Some(at), now))
        }
        _ => restarts.to_string(),
    };

    let ip = arr(&status["podIPs"])
        .first()
        .map(|p| s(&p["ip"]))
        .filter(|ip| !ip.is_empty())
        .or_else(|| Some(s(&status["podIP"])).filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let node = match s(&spec["nodeName"]) {
        "" => "<none>",
        n => n,
    };
    let nominated = match s(&status["nominatedNodeName"]) {
        "" => "<none>",
        n => n,
    };
    let gates = arr(&spec["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_conditions = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| s(&c["type"]) == s(&g["conditionType"]))
                    .is_some_and(|c| s(&c["status"]) == "True")
            })
            .count();
        format!("{true_conditions}/{}", gates.len())
    };

    Row {
        cells: vec![
            name(pod).into(),
            format!("{ready}/{total}").into(),
            reason.into(),
            restarts_text.into(),
            age(pod, now).into(),
            ip.into(),
            node.into(),
            nominated.into(),
            readiness_gates.into(),
        ],
        conditions: row_conditions,
    }
}

/// `hasPodReadyCondition`: any Ready condition with status True.
fn has_ready_condition(conditions: &[Value]) -> bool {
    conditions
        .iter()
        .any(|c| s(&c["type"]) == "Ready" && s(&c["status"]) == "True")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use serde_json::{json, Value};

    fn pod(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "web-0", "namespace": "default", "creationTimestamp": ago(3 * 86400 + 7200) },
            "spec": spec,
            "status": status,
        })
    }

    fn status_and_restarts(p: Value) -> (String, String, String) {
        let c = cells("", "pods", p);
        (
            c[1].as_str().unwrap().to_string(),
            c[2].as_str().unwrap().to_string(),
            c[3].as_str().unwrap().to_string(),
        )
    }

    fn one_container() -> Value {
        json!({ "containers": [{ "name": "app", "image": "nginx" }], "nodeName": "node-1" })
    }

    #[test]
    fn columns() {
        let t = table("", "pods", &[]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Ready", 0),
                ("Status", 0),
                ("Restarts", 0),
                ("Age", 0),
                ("IP", 1),
                ("Node", 1),
                ("Nominated Node", 1),
                ("Readiness Gates", 1),
            ],
        );
        assert_eq!(t["columnDefinitions"][3]["type"], "string");
    }

    #[test]
    fn running() {
        let p = pod(
            json!({
                "containers": [{ "name": "app", "image": "nginx" }, { "name": "log", "image": "busybox" }],
                "nodeName": "node-1",
                "readinessGates": [{ "conditionType": "example.com/ready" }, { "conditionType": "example.com/lb" }],
            }),
            json!({
                "phase": "Running",
                "podIP": "10.42.0.7",
                "podIPs": [{ "ip": "10.42.0.7" }, { "ip": "fd00::7" }],
                "conditions": [
                    { "type": "Ready", "status": "True" },
                    { "type": "example.com/ready", "status": "True" },
                    { "type": "example.com/lb", "status": "False" },
                ],
                "containerStatuses": [
                    { "name": "app", "ready": true, "restartCount": 0, "state": { "running": { "startedAt": ago(100) } } },
                    { "name": "log", "ready": true, "restartCount": 0, "state": { "running": { "startedAt": ago(100) } } },
                ],
            }),
        );
        let t = table("", "pods", std::slice::from_ref(&p));
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web-0",
                "2/2",
                "Running",
                "0",
                "3d2h",
                "10.42.0.7",
                "node-1",
                "<none>",
                "1/2"
            ])
        );
        assert!(t["rows"][0].get("conditions").is_none());
    }

    #[test]
    fn pending_unscheduled() {
        let p = pod(
            json!({ "containers": [{ "name": "app" }] }),
            json!({ "phase": "Pending", "conditions": [{ "type": "PodScheduled", "status": "False", "reason": "Unschedulable" }] }),
        );
        let c = cells("", "pods", p);
        assert_eq!(
            c,
            [
                json!("web-0"),
                json!("0/1"),
                json!("Pending"),
                json!("0"),
                json!("3d2h"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let gated = pod(
            json!({ "containers": [{ "name": "app" }], "schedulingGates": [{ "name": "g" }] }),
            json!({ "phase": "Pending", "conditions": [{ "type": "PodScheduled", "status": "False", "reason": "SchedulingGated" }] }),
        );
        assert_eq!(status_and_restarts(gated).1, "SchedulingGated");
        // Nothing at all: a phase-less pod.
        assert_eq!(
            status_and_restarts(json!({ "metadata": { "name": "x" } })),
            ("0/0".into(), "Pending".into(), "0".into())
        );
    }

    #[test]
    fn crash_loop_with_restarts() {
        let p = pod(
            one_container(),
            json!({
                "phase": "Running",
                "conditions": [{ "type": "Ready", "status": "False" }],
                "containerStatuses": [{
                    "name": "app", "ready": false, "restartCount": 5,
                    "state": { "waiting": { "reason": "CrashLoopBackOff", "message": "back-off 2m40s" } },
                    "lastState": { "terminated": { "exitCode": 1, "reason": "Error", "finishedAt": ago(75) } },
                }],
            }),
        );
        assert_eq!(
            status_and_restarts(p),
            (
                "0/1".into(),
                "CrashLoopBackOff".into(),
                "5 (75s ago)".into()
            )
        );
        let image = pod(
            one_container(),
            json!({ "phase": "Pending", "containerStatuses": [{ "name": "app", "state": { "waiting": { "reason": "ImagePullBackOff" } } }] }),
        );
        assert_eq!(status_and_restarts(image).1, "ImagePullBackOff");
        // Restarts without a recorded termination time: just the count.
        let p = pod(
            one_container(),
            json!({ "phase": "Running", "containerStatuses": [{ "name": "app", "ready": true, "restartCount": 2, "state": { "running": {} } }] }),
        );
        assert_eq!(
            status_and_restarts(p),
            ("1/1".into(), "Running".into(), "2".into())
        );
    }

    #[test]
    fn terminated_containers() {
        let oom = pod(
            one_container(),
            json!({ "phase": "Running", "containerStatuses": [{ "name": "app", "restartCount": 1,
                "state": { "terminated": { "exitCode": 137, "reason": "OOMKilled" } } }] }),
        );
        assert_eq!(status_and_restarts(oom).1, "OOMKilled");
        let code = pod(
            one_container(),
            json!({ "phase": "Running", "containerStatuses": [{ "name": "app",
                "state": { "terminated": { "exitCode": 3 } } }] }),
        );
        assert_eq!(status_and_restarts(code).1, "ExitCode:3");
        let signal = pod(
            one_container(),
            json!({ "phase": "Running", "containerStatuses": [{ "name": "app",
                "state": { "terminated": { "exitCode": 0, "signal": 9 } } }] }),
        );
        assert_eq!(status_and_restarts(signal).1, "Signal:9");
    }

    #[test]
    fn completed() {
        let p = pod(
            one_container(),
            json!({
                "phase": "Succeeded",
                "containerStatuses": [{ "name": "app", "ready": false, "restartCount": 0,
                    "state": { "terminated": { "exitCode": 0, "reason": "Completed", "finishedAt": ago(60) } } }],
            }),
        );
        let t = table("", "pods", std::slice::from_ref(&p));
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
        assert_eq!(t["rows"][0]["cells"][2], "Completed");
        assert_eq!(
            t["rows"][0]["conditions"],
            json!([{ "type": "Completed", "status": "True", "reason": "Succeeded",
                     "message": "The pod has completed successfully." }])
        );
        let failed = pod(
            one_container(),
            json!({ "phase": "Failed", "containerStatuses": [{ "name": "app",
                "state": { "terminated": { "exitCode": 2, "reason": "Error" } } }] }),
        );
        let t = table("", "pods", &[failed]);
        assert_eq!(t["rows"][0]["cells"][2], "Error");
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Failed");
        assert_eq!(t["rows"][0]["conditions"][0]["message"], "The pod failed.");
        // A pod the kubelet evicted keeps its reason.
        let evicted = pod(
            one_container(),
            json!({ "phase": "Failed", "reason": "Evicted", "message": "low on memory" }),
        );
        assert_eq!(status_and_restarts(evicted).1, "Evicted");
    }

    #[test]
    fn completed_but_still_running() {
        let spec = json!({ "containers": [{ "name": "a" }, { "name": "b" }] });
        let status = |ready: &str| {
            json!({
                "phase": "Running",
                "conditions": [{ "type": "Ready", "status": ready }],
                "containerStatuses": [
                    { "name": "a", "state": { "terminated": { "exitCode": 0, "reason": "Completed" } } },
                    { "name": "b", "ready": true, "state": { "running": {} } },
                ],
            })
        };
        // Statuses are read last to first, so "a" decides the reason: Completed, then back
        // to Running because "b" runs.
        assert_eq!(
            status_and_restarts(pod(spec.clone(), status("True"))).1,
            "Running"
        );
        assert_eq!(
            status_and_restarts(pod(spec, status("False"))).1,
            "NotReady"
        );
    }

    #[test]
    fn init_containers() {
        let spec = json!({
            "initContainers": [{ "name": "migrate" }, { "name": "seed" }],
            "containers": [{ "name": "app" }],
        });
        let running_first = pod(
            spec.clone(),
            json!({
                "phase": "Pending",
                "initContainerStatuses": [
                    { "name": "migrate", "state": { "running": {} } },
                    { "name": "seed", "state": { "waiting": { "reason": "PodInitializing" } } },
                ],
                "containerStatuses": [{ "name": "app", "state": { "waiting": { "reason": "PodInitializing" } } }],
            }),
        );
        assert_eq!(
            status_and_restarts(running_first),
            ("0/1".into(), "Init:0/2".into(), "0".into())
        );
        let second = pod(
            spec.clone(),
            json!({
                "phase": "Pending",
                "initContainerStatuses": [
                    { "name": "migrate", "state": { "terminated": { "exitCode": 0, "reason": "Completed" } } },
                    { "name": "seed", "state": { "running": {} } },
                ],
            }),
        );
        assert_eq!(status_and_restarts(second).1, "Init:1/2");
        let crashing = pod(
            spec.clone(),
            json!({
                "phase": "Pending",
                "initContainerStatuses": [{
                    "name": "migrate", "restartCount": 3,
                    "state": { "waiting": { "reason": "CrashLoopBackOff" } },
                    "lastState": { "terminated": { "exitCode": 1, "finishedAt": ago(30) } },
                }],
                "containerStatuses": [{ "name": "app", "restartCount": 0, "state": { "waiting": { "reason": "PodInitializing" } } }],
            }),
        );
        assert_eq!(
            status_and_restarts(crashing),
            (
                "0/1".into(),
                "Init:CrashLoopBackOff".into(),
                "3 (30s ago)".into()
            )
        );
        let failed = pod(
            spec.clone(),
            json!({ "phase": "Failed", "initContainerStatuses": [
                { "name": "migrate", "state": { "terminated": { "exitCode": 1, "reason": "Error" } } },
            ] }),
        );
        assert_eq!(status_and_restarts(failed).1, "Init:Error");
        let exit = pod(
            spec.clone(),
            json!({ "phase": "Pending", "initContainerStatuses": [
                { "name": "migrate", "state": { "terminated": { "exitCode": 2 } } },
            ] }),
        );
        assert_eq!(status_and_restarts(exit).1, "Init:ExitCode:2");
        let signal = pod(
            spec,
            json!({ "phase": "Pending", "initContainerStatuses": [
                { "name": "migrate", "state": { "terminated": { "exitCode": 2, "signal": 15 } } },
            ] }),
        );
        assert_eq!(status_and_restarts(signal).1, "Init:Signal:15");
    }

    /// Restarts while initialising count every init container; once initialised, only the
    /// app containers (and sidecars) count, with the latest termination among them.
    #[test]
    fn restarts_during_and_after_init() {
        let spec = json!({ "initContainers": [{ "name": "a" }, { "name": "b" }], "containers": [{ "name": "app" }] });
        let initialising = pod(
            spec,
            json!({
                "phase": "Pending",
                "initContainerStatuses": [
                    { "name": "a", "restartCount": 2, "state": { "terminated": {} },
                      "lastState": { "terminated": { "finishedAt": ago(120) } } },
                    { "name": "b", "restartCount": 3, "state": { "running": {} },
                      "lastState": { "terminated": { "finishedAt": ago(10) } } },
                ],
                "containerStatuses": [{ "name": "app", "state": { "waiting": {} } }],
            }),
        );
        assert_eq!(
            status_and_restarts(initialising),
            ("0/1".into(), "Init:1/2".into(), "5 (10s ago)".into())
        );
        let initialised = pod(
            json!({ "initContainers": [{ "name": "a" }], "containers": [{ "name": "app" }] }),
            json!({
                "phase": "Running",
                "initContainerStatuses": [
                    { "name": "a", "restartCount": 2, "state": { "terminated": {} },
                      "lastState": { "terminated": { "finishedAt": ago(120) } } },
                ],
                "containerStatuses": [{ "name": "app", "restartCount": 4, "state": { "running": {} },
                    "lastState": { "terminated": { "finishedAt": ago(20) } } }],
            }),
        );
        assert_eq!(
            status_and_restarts(initialised),
            ("0/1".into(), "Running".into(), "4 (20s ago)".into())
        );
        let two_restarted = pod(
            json!({ "containers": [{ "name": "a" }, { "name": "b" }] }),
            json!({
                "phase": "Running",
                "containerStatuses": [
                    { "name": "a", "ready": true, "restartCount": 6, "state": { "running": {} },
                      "lastState": { "terminated": { "finishedAt": ago(5 * 86400) } } },
                    { "name": "b", "ready": true, "restartCount": 3, "state": { "running": {} },
                      "lastState": { "terminated": { "finishedAt": ago(20 * 86400) } } },
                ],
            }),
        );
        assert_eq!(
            status_and_restarts(two_restarted),
            ("2/2".into(), "Running".into(), "9 (5d ago)".into())
        );
    }

    #[test]
    fn sidecars() {
        let spec = json!({
            "initContainers": [{ "name": "proxy", "restartPolicy": "Always" }],
            "containers": [{ "name": "app" }],
        });
        let p = pod(
            spec,
            json!({
                "phase": "Running",
                "conditions": [{ "type": "Initialized", "status": "True" }, { "type": "Ready", "status": "True" }],
                "initContainerStatuses": [{
                    "name": "proxy", "started": true, "ready": true, "restartCount": 1,
                    "state": { "running": {} },
                    "lastState": { "terminated": { "exitCode": 1, "finishedAt": ago(600) } },
                }],
                "containerStatuses": [{ "name": "app", "ready": true, "restartCount": 0, "state": { "running": {} } }],
            }),
        );
        assert_eq!(
            status_and_restarts(p),
            ("2/2".into(), "Running".into(), "1 (10m ago)".into())
        );
    }

    #[test]
    fn terminating_and_unknown() {
        let mut p = pod(
            one_container(),
            json!({ "phase": "Running", "containerStatuses": [{ "name": "app", "ready": true, "state": { "running": {} } }] }),
        );
        p["metadata"]["deletionTimestamp"] = json!(ago(-30));
        assert_eq!(status_and_restarts(p.clone()).1, "Terminating");
        p["status"]["reason"] = json!("NodeLost");
        assert_eq!(status_and_restarts(p.clone()).1, "Unknown");
        // A finished pod being deleted keeps its status.
        let mut done = pod(
            one_container(),
            json!({ "phase": "Succeeded", "containerStatuses": [{ "name": "app",
                "state": { "terminated": { "exitCode": 0, "reason": "Completed" } } }] }),
        );
        done["metadata"]["deletionTimestamp"] = json!(ago(0));
        assert_eq!(status_and_restarts(done).1, "Completed");
    }

    #[test]
    fn pod_ip_fallback() {
        let p = pod(
            one_container(),
            json!({ "phase": "Running", "podIP": "10.0.0.9" }),
        );
        assert_eq!(cells("", "pods", p)[5], "10.0.0.9");
    }
}
