//! Nodes through the real kubectl against `skiff server --simulated-nodes 3`: the hollow
//! nodes register Ready with podCIDRs and Leases, run bound pods (an IP out of the node's
//! podCIDR), finish Job pods and deletions, come back when deleted; a Node nobody renews
//! goes Unknown with the unreachable taints and its pods are evicted after their
//! tolerationSeconds (the DefaultTolerationSeconds one from the server flag included);
//! cordon / uncordon.

mod support;

use std::time::Duration;

use support::{k, k_in, kubectl, kubectls, wait_for, Server};

const GHOST: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: ghost
status:
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: kubelet is posting ready status
    lastHeartbeatTime: "2024-01-01T00:00:00Z"
    lastTransitionTime: "2024-01-01T00:00:00Z"
---
apiVersion: v1
kind: Pod
metadata:
  name: short
spec:
  nodeName: ghost
  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
    tolerationSeconds: 1
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: defaulted
spec:
  nodeName: ghost
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: forever
spec:
  nodeName: ghost
  tolerations:
  - operator: Exists
  containers: [{name: c, image: busybox}]
"#;

const JOB_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: job-pod
  labels: {batch.kubernetes.io/job-name: j}
spec:
  nodeName: sim-0
  restartPolicy: Never
  initContainers: [{name: init, image: busybox}]
  containers: [{name: c, image: busybox}]
"#;

const T: Duration = Duration::from_secs(30);

fn jsonpath(bin: &std::path::Path, s: &Server, args: &[&str]) -> String {
    k(bin, s, args).trim().to_string()
}

#[test]
fn hollow_nodes_and_node_lifecycle() {
    let s = Server::start_with(&[
        "--simulated-nodes",
        "3",
        "--node-monitor-grace-period",
        "2s",
        "--default-unreachable-toleration-seconds",
        "3",
    ]);
    let kubectls = kubectls();
    let kb = &kubectls[0];

    // Three Ready nodes with distinct podCIDRs and a Lease each.
    let rows = wait_for(T, "3 Ready nodes with podCIDRs", || {
        let out = k(
            kb,
            &s,
            &[
                "get",
                "nodes",
                "--no-headers",
                "-o",
                "custom-columns=N:.metadata.name,C:.spec.podCIDR",
            ],
        );
        let rows: Vec<(String, String)> = out
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                Some((it.next()?.to_string(), it.next()?.to_string()))
            })
            .filter(|(_, c)| c != "<none>")
            .collect();
        (rows.len() == 3).then_some(rows)
    });
    let cidrs: std::collections::HashSet<_> = rows.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(cidrs.len(), 3, "{rows:?}");
    for bin in &kubectls {
        let out = k(bin, &s, &["get", "nodes", "--no-headers"]);
        let ready = out
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("Ready"))
            .count();
        assert_eq!(ready, 3, "{out}");
        assert!(out.contains("v1.33.0+skiff"), "{out}");
    }
    let leases = k(
        kb,
        &s,
        &["get", "lease", "-n", "kube-node-lease", "--no-headers"],
    );
    assert_eq!(leases.lines().count(), 3, "{leases}");
    let wide = k(
        kb,
        &s,
        &["get", "node", "sim-1", "-o", "wide", "--no-headers"],
    );
    assert!(wide.contains("skiff-hollow://0.1"), "{wide}");
    assert_eq!(
        jsonpath(
            kb,
            &s,
            &[
                "get",
                "node",
                "sim-1",
                "-o",
                "jsonpath={.status.allocatable.pods}/{.status.capacity.pods}"
            ]
        ),
        "110/110"
    );

    // A pod bound to sim-1 runs with an address out of sim-1's podCIDR.
    let sim1_cidr = jsonpath(
        kb,
        &s,
        &["get", "node", "sim-1", "-o", "jsonpath={.spec.podCIDR}"],
    );
    let prefix = sim1_cidr
        .rsplit_once(".0/24")
        .map(|(p, _)| format!("{p}."))
        .unwrap_or_else(|| panic!("unexpected podCIDR {sim1_cidr}"));
    k(
        kb,
        &s,
        &[
            "run",
            "web",
            "--image=nginx",
            "--overrides={\"spec\":{\"nodeName\":\"sim-1\"}}",
        ],
    );
    let row = wait_for(T, "web Running", || {
        let out = k(kb, &s, &["get", "pod", "web", "-o", "wide", "--no-headers"]);
        out.contains("Running").then_some(out)
    });
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], "1/1", "{row}");
    assert!(cols[5].starts_with(&prefix), "{row} not in {sim1_cidr}");
    assert_eq!(cols[6], "sim-1", "{row}");
    let ready = jsonpath(
        kb,
        &s,
        &[
            "get",
            "pod",
            "web",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.hostIP} {.status.qosClass}",
        ],
    );
    assert_eq!(ready, "True 10.255.0.2 BestEffort");

    // Deletion finishes (the node's final delete).
    k(kb, &s, &["delete", "pod", "web", "--timeout=30s"]);
    let out = kubectl(kb, &s, &["get", "pod", "web"], None);
    assert!(!out.status.success());

    // A Job's pod completes.
    k_in(kb, &s, &["apply", "-f", "-"], Some(JOB_POD));
    wait_for(T, "job-pod Completed", || {
        let out = k(kb, &s, &["get", "pod", "job-pod", "--no-headers"]);
        out.contains("Completed").then_some(())
    });
    assert_eq!(
        jsonpath(
            kb,
            &s,
            &["get", "pod", "job-pod", "-o", "jsonpath={.status.phase}"]
        ),
        "Succeeded"
    );

    // A node whose Lease nobody renews goes Unknown and gets the unreachable taints.
    k_in(kb, &s, &["apply", "-f", "-"], Some(GHOST));
    assert_eq!(
        jsonpath(
            kb,
            &s,
            &[
                "get",
                "pod",
                "defaulted",
                "-o",
                "jsonpath={.spec.tolerations[*].tolerationSeconds}"
            ]
        ),
        "300 3"
    );
    wait_for(T, "ghost NotReady", || {
        let out = k(kb, &s, &["get", "node", "ghost", "--no-headers"]);
        (out.split_whitespace().nth(1) == Some("NotReady")).then_some(())
    });
    let ready = jsonpath(
        kb,
        &s,
        &[
            "get",
            "node",
            "ghost",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}/{.status.conditions[?(@.type==\"Ready\")].reason}",
        ],
    );
    assert_eq!(ready, "Unknown/NodeStatusUnknown");
    let taints = wait_for(T, "unreachable taints", || {
        let t = jsonpath(
            kb,
            &s,
            &[
                "get",
                "node",
                "ghost",
                "-o",
                "jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}",
            ],
        );
        t.contains("NoExecute").then_some(t)
    });
    assert_eq!(
        taints,
        "node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule"
    );
    // Its pods: evicted after their tolerationSeconds (1 s, and the flag's 3 s); the one
    // tolerating everything forever stays (marked not Ready).
    for pod in ["short", "defaulted"] {
        wait_for(T, &format!("{pod} evicted"), || {
            let out = k(
                kb,
                &s,
                &[
                    "get",
                    "pod",
                    pod,
                    "-o",
                    "jsonpath={.metadata.deletionTimestamp}",
                ],
            );
            (!out.trim().is_empty()).then_some(())
        });
    }
    let disruption = jsonpath(
        kb,
        &s,
        &[
            "get",
            "pod",
            "short",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}",
        ],
    );
    assert_eq!(disruption, "DeletionByTaintManager");
    let forever = jsonpath(
        kb,
        &s,
        &[
            "get",
            "pod",
            "forever",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ],
    );
    assert_eq!(forever, "");
    let events = k(
        kb,
        &s,
        &[
            "get",
            "events",
            "--field-selector",
            "reason=TaintManagerEviction",
        ],
    );
    assert!(
        events.contains("Marking for deletion Pod default/short"),
        "{events}"
    );
    // The hollow nodes stay Ready meanwhile (their Leases are renewed).
    let out = k(kb, &s, &["get", "nodes", "--no-headers"]);
    for l in out.lines().filter(|l| l.starts_with("sim-")) {
        assert_eq!(l.split_whitespace().nth(1), Some("Ready"), "{out}");
    }

    // cordon / uncordon.
    k(kb, &s, &["cordon", "sim-0"]);
    wait_for(T, "sim-0 cordoned", || {
        let out = k(kb, &s, &["get", "node", "sim-0", "--no-headers"]);
        let taint = jsonpath(
            kb,
            &s,
            &[
                "get",
                "node",
                "sim-0",
                "-o",
                "jsonpath={.spec.taints[*].key}",
            ],
        );
        (out.contains("Ready,SchedulingDisabled") && taint == "node.kubernetes.io/unschedulable")
            .then_some(())
    });
    k(kb, &s, &["uncordon", "sim-0"]);
    wait_for(T, "sim-0 uncordoned", || {
        let out = k(kb, &s, &["get", "node", "sim-0", "--no-headers"]);
        let taint = jsonpath(
            kb,
            &s,
            &["get", "node", "sim-0", "-o", "jsonpath={.spec.taints}"],
        );
        (out.split_whitespace().nth(1) == Some("Ready") && taint.is_empty()).then_some(())
    });

    // A deleted hollow node registers again.
    let uid = jsonpath(
        kb,
        &s,
        &["get", "node", "sim-2", "-o", "jsonpath={.metadata.uid}"],
    );
    k(kb, &s, &["delete", "node", "sim-2"]);
    wait_for(T, "sim-2 re-registered", || {
        let out = kubectl(
            kb,
            &s,
            &[
                "get",
                "node",
                "sim-2",
                "-o",
                "jsonpath={.metadata.uid} {.spec.podCIDR}",
            ],
            None,
        );
        let out = String::from_utf8_lossy(&out.stdout).to_string();
        let mut it = out.split_whitespace();
        let (new_uid, cidr) = (it.next()?, it.next()?);
        (new_uid != uid && cidr.ends_with("/24")).then_some(())
    });
}
