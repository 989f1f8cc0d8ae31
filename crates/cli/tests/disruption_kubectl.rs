//! The disruption controller end to end with the real kubectl against `skiff server`:
//! PodDisruptionBudgets over a ReplicaSet's pods whose readiness is patched through the
//! status subresource (as a kubelet reports it), with minAvailable as a number,
//! minAvailable as a percentage and maxUnavailable (both scaled by the ReplicaSet).

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{k, k_in, kubectl, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(30);

const OBJECTS: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: db
spec:
  replicas: 3
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - {name: db, image: postgres}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: min-two
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: db}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: half
spec:
  minAvailable: 50%
  selector:
    matchLabels: {app: db}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: max-one
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: db}
"#;

fn set_ready(bin: &Path, s: &Server, name: &str, ip: &str, ready: bool) {
    let patch = format!(
        r#"{{"status":{{"phase":"Running","podIP":"{ip}","podIPs":[{{"ip":"{ip}"}}],"conditions":[{{"type":"Ready","status":"{}"}}]}}}}"#,
        if ready { "True" } else { "False" }
    );
    k(
        bin,
        s,
        &[
            "patch",
            "pod",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ],
    );
}

fn status(bin: &Path, s: &Server, pdb: &str) -> Value {
    let out = kubectl(bin, s, &["get", "pdb", pdb, "-o", "json"], None);
    serde_json::from_slice::<Value>(&out.stdout).unwrap_or_default()["status"].clone()
}

/// (currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed)
fn counts(st: &Value) -> (i64, i64, i64, i64) {
    let n = |f: &str| st[f].as_i64().unwrap_or(-1);
    (
        n("currentHealthy"),
        n("desiredHealthy"),
        n("expectedPods"),
        n("disruptionsAllowed"),
    )
}

fn wait_counts(bin: &Path, s: &Server, pdb: &str, want: (i64, i64, i64, i64)) -> Value {
    wait_for(WAIT, &format!("{pdb} status {want:?}"), || {
        let st = status(bin, s, pdb);
        (counts(&st) == want).then_some(st)
    })
}

#[test]
fn budgets_follow_pod_health() {
    let s = Server::start();
    let bin = &kubectls()[0];
    k_in(bin, &s, &["apply", "-f", "-"], Some(OBJECTS));
    // The ReplicaSet controller makes the pods; a kubelet would report them ready.
    let pods: Vec<String> = wait_for(WAIT, "three pods of db", || {
        let out = k(bin, &s, &["get", "pods", "-l", "app=db", "-o", "name"]);
        let names: Vec<String> = out
            .lines()
            .map(|l| l.trim_start_matches("pod/").to_string())
            .collect();
        (names.len() == 3).then_some(names)
    });
    // Not ready yet: nothing may be disrupted.
    let st = wait_counts(bin, &s, "min-two", (0, 2, 3, 0));
    assert_eq!(st["conditions"][0]["reason"], "InsufficientPods");
    for (i, p) in pods.iter().enumerate() {
        set_ready(bin, &s, p, &format!("10.42.0.{}", i + 10), true);
    }

    let st = wait_counts(bin, &s, "min-two", (3, 2, 3, 1));
    assert_eq!(st["observedGeneration"], 1);
    let cond = &st["conditions"][0];
    assert_eq!(cond["type"], "DisruptionAllowed");
    assert_eq!(cond["status"], "True");
    assert_eq!(cond["reason"], "SufficientPods");
    assert_eq!(cond["observedGeneration"], 1);
    // 50% of the ReplicaSet's 3, rounded up; 3 - 1.
    wait_counts(bin, &s, "half", (3, 2, 3, 1));
    wait_counts(bin, &s, "max-one", (3, 2, 3, 1));

    let out = k(bin, &s, &["get", "pdb", "min-two"]);
    let row: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..4], ["min-two", "2", "N/A", "1"], "{out}");

    // One pod not ready: no disruption allowed.
    set_ready(bin, &s, &pods[1], "10.42.0.11", false);
    let st = wait_counts(bin, &s, "min-two", (2, 2, 3, 0));
    let cond = &st["conditions"][0];
    assert_eq!(cond["status"], "False");
    assert_eq!(cond["reason"], "InsufficientPods");
    wait_counts(bin, &s, "half", (2, 2, 3, 0));
    wait_counts(bin, &s, "max-one", (2, 2, 3, 0));

    // Ready again, and a spec change is observed.
    set_ready(bin, &s, &pods[1], "10.42.0.11", true);
    k(
        bin,
        &s,
        &[
            "patch",
            "pdb",
            "min-two",
            "--type=merge",
            "-p",
            r#"{"spec":{"minAvailable":1}}"#,
        ],
    );
    let st = wait_counts(bin, &s, "min-two", (3, 1, 3, 2));
    assert_eq!(st["observedGeneration"], 2);
}
