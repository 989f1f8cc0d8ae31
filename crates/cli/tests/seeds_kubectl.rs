//! The seeds' cluster stories that need every part of the control plane at once (API server,
//! scheduler, controllers, hollow nodes), driven by the real kubectl:
//! - a node goes silent: it turns Unknown, gets the unreachable taint, its pods are evicted
//!   and the Deployment's pods come back on the other nodes; when it returns it is Ready;
//! - `kubectl drain` moves pods off a node while a PodDisruptionBudget holds, then
//!   `uncordon`;
//! - a namespace is deleted with everything in it.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{k, k_in, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(90);

fn jsonpath(bin: &Path, s: &Server, args: &[&str], path: &str) -> String {
    let mut v = args.to_vec();
    let expr = format!("jsonpath={path}");
    v.extend_from_slice(&["-o", &expr]);
    let out = support::kubectl(bin, s, &v, None);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// (name, node) of the pods labelled `app=<app>` that are not being deleted.
fn live_pods(bin: &Path, s: &Server, app: &str) -> Vec<(String, String)> {
    let out = jsonpath(
        bin,
        s,
        &["get", "pods", "-l", &format!("app={app}")],
        "{range .items[*]}{.metadata.name} {.spec.nodeName} {.metadata.deletionTimestamp}{\"\\n\"}{end}",
    );
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() >= 2 && f.get(2).is_none_or(|d| d.is_empty()))
                .then(|| (f[0].to_string(), f[1].to_string()))
        })
        .collect()
}

fn available(bin: &Path, s: &Server, deploy: &str) -> i64 {
    jsonpath(
        bin,
        s,
        &["get", "deployment", deploy],
        "{.status.availableReplicas}",
    )
    .parse()
    .unwrap_or(0)
}

fn ready_status(bin: &Path, s: &Server, node: &str) -> String {
    jsonpath(
        bin,
        s,
        &["get", "node", node],
        "{.status.conditions[?(@.type==\"Ready\")].status}",
    )
}

#[test]
fn a_silent_node_loses_its_pods_to_the_others() {
    let s = Server::start_with(&[
        "--simulated-nodes",
        "3",
        "--node-monitor-grace-period",
        "4s",
        "--default-unreachable-toleration-seconds",
        "2",
        "--default-not-ready-toleration-seconds",
        "2",
    ]);
    let bin = &kubectls()[0];
    wait_for(WAIT, "3 Ready nodes", || {
        let ready = ["sim-0", "sim-1", "sim-2"]
            .iter()
            .all(|n| ready_status(bin, &s, n) == "True");
        ready.then_some(())
    });
    k(
        bin,
        &s,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=6",
        ],
    );
    wait_for(WAIT, "6 available replicas", || {
        (available(bin, &s, "web") == 6).then_some(())
    });
    let pods = live_pods(bin, &s, "web");
    let victim = pods[0].1.clone();
    assert!(
        victim.starts_with("sim-"),
        "pods run on simulated nodes: {pods:?}"
    );

    k(
        bin,
        &s,
        &["annotate", "node", &victim, "skiff.io/hollow-stopped=true"],
    );
    wait_for(WAIT, "the silent node to turn Unknown", || {
        (ready_status(bin, &s, &victim) == "Unknown").then_some(())
    });
    let taints = jsonpath(bin, &s, &["get", "node", &victim], "{.spec.taints[*].key}");
    assert!(
        taints.contains("node.kubernetes.io/unreachable"),
        "taints of {victim}: {taints}"
    );
    wait_for(WAIT, "6 live replicas, none on the silent node", || {
        let pods = live_pods(bin, &s, "web");
        (pods.len() == 6
            && pods.iter().all(|(_, n)| *n != victim)
            && available(bin, &s, "web") == 6)
            .then_some(())
    });

    k(
        bin,
        &s,
        &["annotate", "node", &victim, "skiff.io/hollow-stopped-"],
    );
    wait_for(WAIT, "the node to be Ready again", || {
        (ready_status(bin, &s, &victim) == "True").then_some(())
    });
    wait_for(WAIT, "the unreachable taint to go", || {
        let taints = jsonpath(bin, &s, &["get", "node", &victim], "{.spec.taints[*].key}");
        (!taints.contains("unreachable")).then_some(())
    });
}

#[test]
fn drain_respects_the_budget_and_uncordon_brings_the_node_back() {
    let s = Server::start_with(&["--simulated-nodes", "3"]);
    let bin = &kubectls()[0];
    k(
        bin,
        &s,
        &[
            "create",
            "deployment",
            "db",
            "--image=redis",
            "--replicas=3",
        ],
    );
    k(
        bin,
        &s,
        &[
            "create",
            "poddisruptionbudget",
            "db",
            "--selector=app=db",
            "--min-available=2",
        ],
    );
    wait_for(WAIT, "3 available replicas and a budget allowing 1", || {
        let allowed = jsonpath(
            bin,
            &s,
            &["get", "pdb", "db"],
            "{.status.disruptionsAllowed}",
        );
        (available(bin, &s, "db") == 3 && allowed == "1").then_some(())
    });
    let node = live_pods(bin, &s, "db")[0].1.clone();
    let out = k(
        bin,
        &s,
        &[
            "drain",
            &node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=90s",
        ],
    );
    assert!(out.contains("drained"), "drain output: {out}");
    let unschedulable = jsonpath(bin, &s, &["get", "node", &node], "{.spec.unschedulable}");
    assert_eq!(unschedulable, "true");
    wait_for(WAIT, "3 available replicas off the drained node", || {
        let pods = live_pods(bin, &s, "db");
        (pods.len() == 3 && pods.iter().all(|(_, n)| *n != node) && available(bin, &s, "db") == 3)
            .then_some(())
    });
    let nodes = k(bin, &s, &["get", "nodes"]);
    assert!(
        nodes.contains("SchedulingDisabled"),
        "kubectl get nodes:\n{nodes}"
    );
    k(bin, &s, &["uncordon", &node]);
    let unschedulable = jsonpath(bin, &s, &["get", "node", &node], "{.spec.unschedulable}");
    assert_eq!(unschedulable, "");
}

#[test]
fn deleting_a_namespace_deletes_what_it_holds() {
    let s = Server::start_with(&["--simulated-nodes", "2"]);
    let bin = &kubectls()[0];
    k(bin, &s, &["create", "namespace", "shop"]);
    k_in(
        bin,
        &s,
        &["apply", "-n", "shop", "-f", "-"],
        Some(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart}
spec:
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart}
spec: {selector: {app: cart}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {k: v}
"#,
        ),
    );
    wait_for(WAIT, "the Deployment to be available", || {
        let a = jsonpath(
            bin,
            &s,
            &["get", "deployment", "cart", "-n", "shop"],
            "{.status.availableReplicas}",
        );
        (a == "2").then_some(())
    });
    k(bin, &s, &["delete", "namespace", "shop", "--timeout=90s"]);
    let out = support::kubectl(bin, &s, &["get", "namespace", "shop"], None);
    assert!(!out.status.success(), "the namespace is gone");
    let left = k(
        bin,
        &s,
        &["get", "pods,rs,deploy,svc,cm", "-A", "-o", "name"],
    );
    assert!(
        !left
            .lines()
            .any(|l| l.contains("cart") || l.contains("settings")),
        "objects of the deleted namespace remain:\n{left}"
    );
}
