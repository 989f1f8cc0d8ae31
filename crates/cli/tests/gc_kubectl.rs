//! Cascading deletion end to end with the real kubectl against `skiff server`: the API
//! server turns `--cascade=background|foreground|orphan` into finalizers, the garbage
//! collector does the rest (dependents deleted, waited for, or freed of their owner
//! references), for ConfigMaps owning ConfigMaps and for a Deployment owning a ReplicaSet.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{k, k_in, kubectl, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(30);

fn uid(bin: &Path, s: &Server, kind: &str, name: &str) -> String {
    k(
        bin,
        s,
        &["get", kind, name, "-o", "jsonpath={.metadata.uid}"],
    )
}

fn exists(bin: &Path, s: &Server, kind: &str, name: &str) -> bool {
    kubectl(bin, s, &["get", kind, name, "-o", "name"], None)
        .status
        .success()
}

fn jsonpath(bin: &Path, s: &Server, kind: &str, name: &str, path: &str) -> String {
    k(
        bin,
        s,
        &["get", kind, name, "-o", &format!("jsonpath={path}")],
    )
}

/// A ConfigMap owned by the named owners (`(name, uid, blockOwnerDeletion)`).
fn owned_configmap(name: &str, owners: &[(&str, &str, bool)], finalizers: &[&str]) -> String {
    let refs: Vec<String> = owners
        .iter()
        .map(|(n, u, block)| {
            format!(
                "  - {{apiVersion: v1, kind: ConfigMap, name: {n}, uid: {u}, blockOwnerDeletion: {block}}}"
            )
        })
        .collect();
    let fins = if finalizers.is_empty() {
        String::new()
    } else {
        format!("  finalizers: [{}]\n", finalizers.join(", "))
    };
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{fins}  ownerReferences:\n{}\ndata: {{a: b}}\n",
        refs.join("\n")
    )
}

fn gone(bin: &Path, s: &Server, kind: &str, name: &str) {
    wait_for(WAIT, &format!("{kind}/{name} to be deleted"), || {
        (!exists(bin, s, kind, name)).then_some(())
    });
}

#[test]
fn cascading_deletion_of_configmaps() {
    let s = Server::start();
    let bin = &kubectls()[0];

    // Background (kubectl's default): the dependent goes after its owner.
    k(bin, &s, &["create", "configmap", "owner-bg"]);
    let owner = uid(bin, &s, "cm", "owner-bg");
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&owned_configmap(
            "dep-bg",
            &[("owner-bg", &owner, false)],
            &[],
        )),
    );
    k(bin, &s, &["delete", "cm", "owner-bg"]);
    gone(bin, &s, "cm", "dep-bg");

    // An owner that never existed: the dependent is collected too.
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&owned_configmap(
            "dep-dangling",
            &[("nobody", "00000000-0000-0000-0000-000000000001", false)],
            &[],
        )),
    );
    gone(bin, &s, "cm", "dep-dangling");

    // Two owners, one gone: only the reference to the dead one is removed.
    k(bin, &s, &["create", "configmap", "owner-a"]);
    k(bin, &s, &["create", "configmap", "owner-b"]);
    let (a, b) = (uid(bin, &s, "cm", "owner-a"), uid(bin, &s, "cm", "owner-b"));
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&owned_configmap(
            "dep-two",
            &[("owner-a", &a, false), ("owner-b", &b, false)],
            &[],
        )),
    );
    k(bin, &s, &["delete", "cm", "owner-a"]);
    wait_for(WAIT, "the dead owner reference to be removed", || {
        let names = jsonpath(
            bin,
            &s,
            "cm",
            "dep-two",
            "{.metadata.ownerReferences[*].name}",
        );
        (names == "owner-b").then_some(())
    });

    // Foreground: the owner stays, marked, until its blocking dependent is gone.
    k(bin, &s, &["create", "configmap", "owner-fg"]);
    let owner = uid(bin, &s, "cm", "owner-fg");
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&owned_configmap(
            "dep-fg",
            &[("owner-fg", &owner, true)],
            &["example.com/hold"],
        )),
    );
    k(
        bin,
        &s,
        &[
            "delete",
            "cm",
            "owner-fg",
            "--cascade=foreground",
            "--wait=false",
        ],
    );
    assert_eq!(
        jsonpath(bin, &s, "cm", "owner-fg", "{.metadata.finalizers}"),
        r#"["foregroundDeletion"]"#
    );
    assert!(!jsonpath(bin, &s, "cm", "owner-fg", "{.metadata.deletionTimestamp}").is_empty());
    wait_for(WAIT, "the dependent to be deleted by the collector", || {
        let ts = jsonpath(bin, &s, "cm", "dep-fg", "{.metadata.deletionTimestamp}");
        (!ts.is_empty()).then_some(())
    });
    assert!(
        exists(bin, &s, "cm", "owner-fg"),
        "the owner must wait for its blocking dependent"
    );
    k(
        bin,
        &s,
        &[
            "patch",
            "cm",
            "dep-fg",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
    );
    gone(bin, &s, "cm", "dep-fg");
    gone(bin, &s, "cm", "owner-fg");

    // Foreground with kubectl waiting for the owner to go.
    k(bin, &s, &["create", "configmap", "owner-fg2"]);
    let owner = uid(bin, &s, "cm", "owner-fg2");
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&owned_configmap(
            "dep-fg2",
            &[("owner-fg2", &owner, true)],
            &[],
        )),
    );
    k(
        bin,
        &s,
        &[
            "delete",
            "cm",
            "owner-fg2",
            "--cascade=foreground",
            "--timeout=30s",
        ],
    );
    assert!(!exists(bin, &s, "cm", "owner-fg2"));
    assert!(!exists(bin, &s, "cm", "dep-fg2"));

    // Orphan: the owner goes, the dependent stays without its owner reference.
    k(bin, &s, &["create", "configmap", "owner-or"]);
    let owner = uid(bin, &s, "cm", "owner-or");
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&owned_configmap(
            "dep-or",
            &[("owner-or", &owner, true)],
            &[],
        )),
    );
    k(
        bin,
        &s,
        &[
            "delete",
            "cm",
            "owner-or",
            "--cascade=orphan",
            "--timeout=30s",
        ],
    );
    assert!(!exists(bin, &s, "cm", "owner-or"));
    assert!(exists(bin, &s, "cm", "dep-or"));
    assert_eq!(
        jsonpath(bin, &s, "cm", "dep-or", "{.metadata.ownerReferences}"),
        ""
    );
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
"#;

fn replicaset(name: &str, deployment_uid: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  ownerReferences:
  - {{apiVersion: apps/v1, kind: Deployment, name: web, uid: {deployment_uid}, controller: true, blockOwnerDeletion: true}}
spec:
  replicas: 0
  selector:
    matchLabels: {{app: web, pod-template-hash: {name}}}
  template:
    metadata:
      labels: {{app: web, pod-template-hash: {name}}}
    spec:
      containers:
      - {{name: web, image: nginx}}
"#
    )
}

#[test]
fn deleting_a_deployment_cascades_to_its_replicaset() {
    let s = Server::start();
    let bin = &kubectls()[0];

    // --cascade=orphan: the ReplicaSet stays, its owner reference removed.
    k_in(bin, &s, &["apply", "-f", "-"], Some(DEPLOYMENT));
    let d = uid(bin, &s, "deployment", "web");
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&replicaset("web-1", &d)),
    );
    k(
        bin,
        &s,
        &[
            "delete",
            "deployment",
            "web",
            "--cascade=orphan",
            "--timeout=30s",
        ],
    );
    assert!(!exists(bin, &s, "deployment", "web"));
    assert!(exists(bin, &s, "rs", "web-1"));
    assert_eq!(
        jsonpath(bin, &s, "rs", "web-1", "{.metadata.ownerReferences}"),
        ""
    );

    // The default (background): the ReplicaSet is collected.
    k_in(bin, &s, &["apply", "-f", "-"], Some(DEPLOYMENT));
    let d = uid(bin, &s, "deployment", "web");
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(&replicaset("web-2", &d)),
    );
    k(bin, &s, &["delete", "deployment", "web"]);
    gone(bin, &s, "rs", "web-2");
    assert!(
        exists(bin, &s, "rs", "web-1"),
        "the orphan is nobody's dependent"
    );
}
