//! The real kubectl (the PyPI build, v1.37, and the machine's own when present) drives a
//! real `skiff server --disable-agent` through the seed commands that need no node: create,
//! apply (client- and server-side), get in every output format, describe, label, annotate,
//! scale, set image, patch (three types), edit, expose, run, replace --force, explain,
//! api-resources, watch, delete (by file, name and label), and the errors users meet.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{k, k_err, k_in, kubectls, wait_for, Server};

const MANIFESTS: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels: {app: web}
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
"#;

fn ns_args<'a>(ns: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["-n", ns];
    v.extend_from_slice(args);
    v
}

fn seed_commands(bin: &Path, s: &Server, ns: &str) {
    let kn = |args: &[&str]| k(bin, s, &ns_args(ns, args));
    // Namespaces and discovery.
    k(bin, s, &["create", "namespace", ns]);
    let out = k(bin, s, &["get", "ns"]);
    assert!(out.starts_with("NAME"), "{out}");
    for n in [
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        ns,
    ] {
        assert!(out.contains(n), "{n} missing in {out}");
    }
    assert!(out.contains("Active"), "{out}");
    let res = k(bin, s, &["api-resources"]);
    for line in ["deployments", "deploy", "apps/v1", "Deployment"] {
        assert!(res.contains(line), "api-resources lacks {line}: {res}");
    }
    // apply -f of a multi-document file, then again (unchanged), then changed.
    let out = k_in(bin, s, &ns_args(ns, &["apply", "-f", "-"]), Some(MANIFESTS));
    assert!(out.contains("configmap/app-config created"), "{out}");
    assert!(out.contains("deployment.apps/web created"), "{out}");
    assert!(out.contains("service/web created"), "{out}");
    let out = k_in(bin, s, &ns_args(ns, &["apply", "-f", "-"]), Some(MANIFESTS));
    assert!(out.contains("deployment.apps/web unchanged"), "{out}");
    let changed = MANIFESTS.replace("replicas: 2", "replicas: 3");
    let out = k_in(bin, s, &ns_args(ns, &["apply", "-f", "-"]), Some(&changed));
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    assert_eq!(
        kn(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "3"
    );
    // get in every format.
    let out = kn(&["get", "deploy"]);
    assert!(
        out.starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE"),
        "{out}"
    );
    let out = kn(&["get", "deploy", "-o", "wide"]);
    assert!(
        out.contains("CONTAINERS") && out.contains("nginx:1.25") && out.contains("app=web"),
        "{out}"
    );
    let out = kn(&["get", "svc", "web"]);
    assert!(
        out.contains("ClusterIP") && out.contains("10.43.") && out.contains("80/TCP"),
        "{out}"
    );
    let out = kn(&["get", "deploy", "web", "-o", "yaml"]);
    assert!(
        out.contains("kind: Deployment") && out.contains("image: nginx:1.25"),
        "{out}"
    );
    assert!(
        out.contains("strategy:") && out.contains("maxSurge: 25%"),
        "defaults applied: {out}"
    );
    let out = kn(&["get", "cm", "app-config", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json output");
    assert_eq!(v["data"]["color"], "blue");
    let out = kn(&["get", "all"]);
    assert!(
        out.contains("deployment.apps/web") && out.contains("service/web"),
        "{out}"
    );
    let out = kn(&["get", "cm", "-l", "app=web", "--show-labels"]);
    assert!(
        out.contains("app-config") && out.contains("app=web"),
        "{out}"
    );
    let out = k(bin, s, &["get", "deploy", "-A"]);
    assert!(out.starts_with("NAMESPACE"), "{out}");
    assert!(out.contains(ns), "{out}");
    // label, annotate, overwrite, removal.
    kn(&["label", "deploy", "web", "tier=frontend"]);
    let err = k_err(
        bin,
        s,
        &ns_args(ns, &["label", "deploy", "web", "tier=backend"]),
        None,
    );
    assert!(err.contains("already has a value"), "{err}");
    kn(&["label", "deploy", "web", "tier=backend", "--overwrite"]);
    assert_eq!(
        kn(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.labels.tier}"
        ]),
        "backend"
    );
    kn(&["label", "deploy", "web", "tier-"]);
    assert_eq!(
        kn(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.labels.tier}"
        ]),
        ""
    );
    kn(&["annotate", "deploy", "web", "owner=team-a"]);
    assert_eq!(
        kn(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.annotations.owner}"
        ]),
        "team-a"
    );
    // scale, set image, patch x3.
    kn(&["scale", "deploy", "web", "--replicas=4"]);
    assert_eq!(
        kn(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "4"
    );
    kn(&["set", "image", "deploy/web", "web=nginx:1.26"]);
    assert_eq!(
        kn(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        ]),
        "nginx:1.26"
    );
    kn(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}"#,
    ]);
    assert_eq!(
        kn(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}"
        ]),
        "sidecar web"
    );
    kn(&[
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"minReadySeconds":5}}"#,
    ]);
    kn(&[
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":1}]"#,
    ]);
    assert_eq!(
        kn(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.spec.minReadySeconds}"
        ]),
        "1 5"
    );
    // edit through an editor script.
    let editor = s.data_dir().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/color: blue/color: green/' \"$1\"\n",
    )
    .unwrap();
    #[allow(clippy::permissions_set_readonly_false)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = Command::new(bin)
        .arg("--kubeconfig")
        .arg(s.kubeconfig())
        .args(["-n", ns, "edit", "cm", "app-config"])
        .env("EDITOR", &editor)
        .env("KUBE_EDITOR", &editor)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "edit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        kn(&["get", "cm", "app-config", "-o", "jsonpath={.data.color}"]),
        "green"
    );
    // create helpers, expose, run.
    kn(&[
        "create",
        "configmap",
        "lit",
        "--from-literal=a=1",
        "--from-literal=b=2",
    ]);
    kn(&[
        "create",
        "secret",
        "generic",
        "sec",
        "--from-literal=password=s3cret",
    ]);
    assert_eq!(
        kn(&["get", "secret", "sec", "-o", "jsonpath={.data.password}"]),
        "czNjcmV0"
    );
    kn(&[
        "create",
        "deployment",
        "redis",
        "--image=redis:7",
        "--replicas=1",
    ]);
    kn(&["expose", "deployment", "redis", "--port=6379"]);
    let ip = kn(&["get", "svc", "redis", "-o", "jsonpath={.spec.clusterIP}"]);
    assert!(ip.starts_with("10.43."), "{ip}");
    kn(&["run", "pod1", "--image=nginx:1.25", "--labels=run=pod1"]);
    let out = kn(&["get", "pods"]);
    assert!(
        out.starts_with("NAME") && out.contains("pod1") && out.contains("Pending"),
        "{out}"
    );
    // describe with events.
    let out = kn(&["describe", "deploy", "web"]);
    assert!(
        out.contains("Name:") && out.contains("web") && out.contains("Replicas:"),
        "{out}"
    );
    let out = kn(&["describe", "pod", "pod1"]);
    assert!(out.contains("pod1") && out.contains("Events:"), "{out}");
    // replace --force, explain.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lit\ndata:\n  a: \"9\"\n";
    k_in(
        bin,
        s,
        &ns_args(ns, &["replace", "--force", "-f", "-"]),
        Some(cm),
    );
    assert_eq!(kn(&["get", "cm", "lit", "-o", "jsonpath={.data.a}"]), "9");
    let out = k(bin, s, &["explain", "deployment.spec.strategy"]);
    assert!(
        out.contains("rollingUpdate") && out.contains("type"),
        "{out}"
    );
    // server-side apply.
    let ssa = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  x: \"1\"\n";
    let out = k_in(
        bin,
        s,
        &ns_args(ns, &["apply", "--server-side", "-f", "-"]),
        Some(ssa),
    );
    assert!(out.contains("serverside-applied"), "{out}");
    // errors users meet.
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n";
    let err = k_err(bin, s, &ns_args(ns, &["create", "-f", "-"]), Some(bad));
    assert!(
        err.contains("is invalid") && err.contains("metadata.name"),
        "{err}"
    );
    let unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\ndatta:\n  a: b\n";
    let err = k_err(bin, s, &ns_args(ns, &["apply", "-f", "-"]), Some(unknown));
    assert!(
        err.contains("unknown field") && err.contains("datta"),
        "{err}"
    );
    let err = k_err(bin, s, &ns_args(ns, &["get", "deploy", "nope"]), None);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );
    // delete by file, name and label.
    let out = k_in(
        bin,
        s,
        &ns_args(ns, &["delete", "-f", "-"]),
        Some(MANIFESTS),
    );
    assert!(out.contains("deployment.apps \"web\" deleted"), "{out}");
    kn(&["delete", "cm", "lit"]);
    kn(&["delete", "pods", "-l", "run=pod1"]);
    let out = kn(&["get", "pods"]);
    assert!(!out.contains("pod1"), "{out}");
    k(
        bin,
        s,
        &["delete", "namespace", ns, "--wait=true", "--timeout=60s"],
    );
}

#[test]
fn seed_commands_with_every_kubectl() {
    let s = Server::start();
    for (i, bin) in kubectls().iter().enumerate() {
        seed_commands(bin, &s, &format!("seed{i}"));
    }
}

#[test]
fn get_watch_streams_changes() {
    let s = Server::start();
    for bin in kubectls() {
        let mut child = Command::new(&bin)
            .arg("--kubeconfig")
            .arg(s.kubeconfig())
            .args(["get", "cm", "-w", "-n", "default"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let l2 = lines.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                l2.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let name = format!("watched-{}", bin.to_string_lossy().len());
        // The watch may start after the create; it lists first, so either way it shows.
        k(&bin, &s, &["create", "cm", &name, "-n", "default"]);
        wait_for(Duration::from_secs(20), "kubectl get -w output", || {
            lines.lock().unwrap().contains(&name).then_some(())
        });
        k(&bin, &s, &["label", "cm", &name, "x=y", "-n", "default"]);
        let _ = child.kill();
        let _ = child.wait();
    }
}
