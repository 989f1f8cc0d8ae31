//! The real kubectl drives DaemonSets and StatefulSets on a real `skiff server
//! --simulated-nodes 3` (hollow nodes report bound pods Running and Ready): a DaemonSet
//! skips a node tainted `control-plane:NoSchedule`, lands on a node added later and leaves
//! it when the node taints NoExecute, rolls to a new image, and `kubectl rollout
//! history|undo` read its ControllerRevisions; a StatefulSet of 3 comes up in order with
//! its PVCs, scales down in reverse keeping the claims, and updates behind a partition.
//!
//! Until the scheduler binds pods, [`Ctx::bind_pending`] stands in for it through the
//! `pods/binding` subresource (a DaemonSet pod goes to the node its node affinity names);
//! once a scheduler binds them first, its binds simply fail with a conflict.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use support::{k, k_in, kubectl, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(45);

struct Ctx<'a> {
    bin: PathBuf,
    s: &'a Server,
    ns: &'a str,
}

impl Ctx<'_> {
    fn k(&self, args: &[&str]) -> String {
        let mut v = vec!["-n", self.ns];
        v.extend_from_slice(args);
        k(&self.bin, self.s, &v)
    }

    fn apply(&self, yaml: &str) -> String {
        k_in(
            &self.bin,
            self.s,
            &["-n", self.ns, "apply", "-f", "-"],
            Some(yaml),
        )
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut v = args.to_vec();
        v.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.k(&v)).expect("kubectl -o json")
    }

    fn pods(&self, selector: &str) -> Vec<Value> {
        self.json(&["get", "pods", "-l", selector])["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Binds every unbound pod of the namespace: a DaemonSet pod to the node its required
    /// node affinity names (unless that node is not a simulated one), others to sim-1.
    fn bind_pending(&self) {
        for p in self.pods("") {
            if p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
                || p["metadata"]["deletionTimestamp"].is_string()
            {
                continue;
            }
            let target = p["spec"]["affinity"]["nodeAffinity"]
                ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                ["matchFields"][0]["values"][0]
                .as_str()
                .unwrap_or("sim-1")
                .to_string();
            if !target.starts_with("sim-") {
                continue;
            }
            let name = p["metadata"]["name"].as_str().unwrap_or_default();
            let binding = serde_json::json!({
                "apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": target},
            });
            let path = format!("/api/v1/namespaces/{}/pods/{name}/binding", self.ns);
            let _ = kubectl(
                &self.bin,
                self.s,
                &["create", "--raw", &path, "-f", "-"],
                Some(&binding.to_string()),
            );
        }
    }

    /// Waits (binding pods meanwhile) until `f` holds.
    fn until<T>(&self, what: &str, mut f: impl FnMut(&Self) -> Option<T>) -> T {
        wait_for(WAIT, what, || {
            self.bind_pending();
            f(self)
        })
    }

    fn events(&self, kind: &str, name: &str) -> Vec<(String, String, String)> {
        let v = self.json(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.kind={kind},involvedObject.name={name}"),
        ]);
        // Event names end in the hex nanosecond they were first recorded at (as
        // client-go names them), which orders events within a second.
        let mut rows: Vec<((String, String), String, String, String)> = v["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
                (
                    (s(&e["firstTimestamp"]), s(&e["metadata"]["name"])),
                    s(&e["reason"]),
                    s(&e["message"]),
                    s(&e["type"]),
                )
            })
            .collect();
        rows.sort();
        rows.into_iter().map(|(_, r, m, t)| (t, r, m)).collect()
    }
}

fn kubectl_bin() -> PathBuf {
    kubectls().remove(0)
}

fn ready_nodes(c: &Ctx) -> usize {
    let v = c.json(&["get", "nodes"]);
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|n| {
                    n["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
                })
                .count()
        })
        .unwrap_or(0)
}

const DAEMONSET: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: busybox:1
"#;

fn target(p: &Value) -> String {
    p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn ds_status(c: &Ctx) -> Value {
    c.json(&["get", "ds", "agent"])["status"].clone()
}

#[test]
fn daemonset_places_rolls_and_keeps_history() {
    let s = Server::start_with(&["--simulated-nodes", "3"]);
    let c = Ctx {
        bin: kubectl_bin(),
        s: &s,
        ns: "dsts-ds",
    };
    k(&c.bin, &s, &["create", "namespace", c.ns]);
    wait_for(WAIT, "3 ready nodes", || {
        (ready_nodes(&c) == 3).then_some(())
    });
    k(
        &c.bin,
        &s,
        &[
            "taint",
            "nodes",
            "sim-0",
            "node-role.kubernetes.io/control-plane=:NoSchedule",
        ],
    );
    // The controller's node cache follows the API asynchronously: a probe DaemonSet tells
    // when it has seen the taint, so the real one is placed knowing it.
    c.apply(&DAEMONSET.replace("agent", "probe"));
    c.until("the taint to reach the DaemonSet controller", |c| {
        (c.json(&["get", "ds", "probe"])["status"]["desiredNumberScheduled"] == 2).then_some(())
    });
    c.k(&["delete", "ds", "probe"]);
    c.apply(DAEMONSET);

    // One pod on each node but the tainted one.
    c.until("the DaemonSet to be available on 2 nodes", |c| {
        let st = ds_status(c);
        (st["desiredNumberScheduled"] == 2
            && st["numberAvailable"] == 2
            && st["updatedNumberScheduled"] == 2
            && st["observedGeneration"] == 1)
            .then_some(())
    });
    let pods = c.pods("app=agent");
    let mut nodes: Vec<String> = pods.iter().map(target).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        ["sim-1", "sim-2"],
        "pods (name, node affinity, nodeName): {:?}\nevents: {}",
        pods.iter()
            .map(|p| (&p["metadata"]["name"], target(p), &p["spec"]["nodeName"]))
            .collect::<Vec<_>>(),
        c.k(&["get", "events", "--sort-by=.firstTimestamp"]),
    );
    for p in &pods {
        assert!(p["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("agent-"));
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
        assert!(p["metadata"]["labels"]["controller-revision-hash"].is_string());
        assert_eq!(p["metadata"]["labels"]["pod-template-generation"], "1");
        let tolerations = p["spec"]["tolerations"].to_string();
        assert!(tolerations.contains("node.kubernetes.io/unschedulable"));
        assert!(tolerations.contains("node.kubernetes.io/not-ready"));
    }
    let out = c.k(&["rollout", "status", "ds/agent", "--timeout=30s"]);
    assert!(
        out.contains("daemon set \"agent\" successfully rolled out"),
        "{out}"
    );
    let st = ds_status(&c);
    assert_eq!(st["currentNumberScheduled"], 2);
    assert_eq!(st["numberMisscheduled"], 0);
    assert_eq!(st["numberReady"], 2);
    let events = c.events("DaemonSet", "agent");
    assert!(
        events.iter().any(|(t, r, m)| t == "Normal"
            && r == "SuccessfulCreate"
            && m.starts_with("Created pod: agent-")),
        "{events:?}"
    );

    // A node added later gets its pod; tainted NoExecute, it loses it.
    k_in(
        &c.bin,
        &s,
        &["create", "-f", "-"],
        Some("apiVersion: v1\nkind: Node\nmetadata:\n  name: extra\n  labels: {kubernetes.io/hostname: extra}\n"),
    );
    c.until("a pod for the new node", |c| {
        c.pods("app=agent")
            .iter()
            .any(|p| target(p) == "extra")
            .then_some(())
    });
    c.until("3 desired", |c| {
        (ds_status(c)["desiredNumberScheduled"] == 3).then_some(())
    });
    k(
        &c.bin,
        &s,
        &["taint", "nodes", "extra", "dedicated=x:NoExecute"],
    );
    c.until("the pod of the tainted node to go", |c| {
        c.pods("app=agent")
            .iter()
            .all(|p| target(p) != "extra" || p["metadata"]["deletionTimestamp"].is_string())
            .then_some(())
    });
    c.until("2 desired", |c| {
        (ds_status(c)["desiredNumberScheduled"] == 2).then_some(())
    });
    k(&c.bin, &s, &["delete", "node", "extra"]);

    // A new image rolls over; history and undo read the revisions.
    c.k(&["set", "image", "ds/agent", "agent=busybox:2"]);
    c.until("the new image everywhere", |c| {
        let st = ds_status(c);
        let pods = c.pods("app=agent");
        let live: Vec<&Value> = pods
            .iter()
            .filter(|p| !p["metadata"]["deletionTimestamp"].is_string())
            .collect();
        (st["observedGeneration"] == 2
            && st["updatedNumberScheduled"] == 2
            && st["numberAvailable"] == 2
            && live.len() == 2
            && live
                .iter()
                .all(|p| p["spec"]["containers"][0]["image"] == "busybox:2"))
        .then_some(())
    });
    let history = c.k(&["rollout", "history", "ds/agent"]);
    let revs: Vec<&str> = history
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["1", "2"], "{history}");
    let rev1 = c.k(&["rollout", "history", "ds/agent", "--revision=1"]);
    assert!(rev1.contains("busybox:1"), "{rev1}");
    let crs = c.json(&["get", "controllerrevisions", "-l", "app=agent"]);
    let crs = crs["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(crs.len(), 2);
    for cr in &crs {
        let hash = cr["metadata"]["labels"]["controller-revision-hash"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(cr["metadata"]["name"], format!("agent-{hash}"));
        assert_eq!(cr["metadata"]["ownerReferences"][0]["name"], "agent");
        assert_eq!(cr["data"]["spec"]["template"]["$patch"], "replace");
    }

    let out = c.k(&["rollout", "undo", "ds/agent"]);
    assert!(out.contains("rolled back"), "{out}");
    c.until("the old image back everywhere", |c| {
        let st = ds_status(c);
        let pods = c.pods("app=agent");
        let live: Vec<&Value> = pods
            .iter()
            .filter(|p| !p["metadata"]["deletionTimestamp"].is_string())
            .collect();
        (st["updatedNumberScheduled"] == 2
            && st["numberAvailable"] == 2
            && live.len() == 2
            && live
                .iter()
                .all(|p| p["spec"]["containers"][0]["image"] == "busybox:1"))
        .then_some(())
    });
    let history = c.k(&["rollout", "history", "ds/agent"]);
    let revs: Vec<&str> = history
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["2", "3"], "{history}");
}

const STATEFULSET: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1
        volumeMounts:
        - {name: www, mountPath: /usr/share/nginx/html}
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
"#;

fn sts_status(c: &Ctx) -> Value {
    c.json(&["get", "sts", "web"])["status"].clone()
}

fn pod_names(c: &Ctx) -> Vec<String> {
    let mut v: Vec<String> = c
        .pods("app=web")
        .iter()
        .filter(|p| !p["metadata"]["deletionTimestamp"].is_string())
        .filter_map(|p| p["metadata"]["name"].as_str().map(String::from))
        .collect();
    v.sort();
    v
}

fn ready_since(p: &Value) -> String {
    p["status"]["conditions"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["type"] == "Ready" && c["status"] == "True")
        })
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn statefulset_orders_pods_keeps_claims_and_updates_behind_a_partition() {
    let s = Server::start_with(&["--simulated-nodes", "3"]);
    let c = Ctx {
        bin: kubectl_bin(),
        s: &s,
        ns: "dsts-sts",
    };
    k(&c.bin, &s, &["create", "namespace", c.ns]);
    wait_for(WAIT, "3 ready nodes", || {
        (ready_nodes(&c) == 3).then_some(())
    });
    c.apply(STATEFULSET);

    c.until("3 ready replicas", |c| {
        let st = sts_status(c);
        (st["readyReplicas"] == 3 && st["currentReplicas"] == 3).then_some(())
    });
    let out = c.k(&["rollout", "status", "sts/web", "--timeout=30s"]);
    assert!(
        out.contains("partitioned roll out complete") || out.contains("roll out complete"),
        "{out}"
    );
    let pods = c.pods("app=web");
    let by_name = |n: &str| {
        pods.iter()
            .find(|p| p["metadata"]["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no pod {n}"))
    };
    // Created in order: each after its predecessor was Ready.
    for (prev, next) in [("web-0", "web-1"), ("web-1", "web-2")] {
        let ready = ready_since(&by_name(prev));
        let created = by_name(next)["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            !ready.is_empty() && created >= ready,
            "{next} created {created}, {prev} ready {ready}"
        );
    }
    for i in 0..3 {
        let p = by_name(&format!("web-{i}"));
        assert_eq!(p["spec"]["hostname"], format!("web-{i}"));
        assert_eq!(p["spec"]["subdomain"], "nginx");
        assert_eq!(
            p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
            format!("web-{i}")
        );
        assert_eq!(
            p["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
            format!("{i}")
        );
        assert!(p["metadata"]["labels"]["controller-revision-hash"]
            .as_str()
            .is_some_and(|h| h.starts_with("web-")));
        let vol = p["spec"]["volumes"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["name"] == "www").cloned())
            .unwrap_or_default();
        assert_eq!(
            vol["persistentVolumeClaim"]["claimName"],
            format!("www-web-{i}")
        );
    }
    let pvcs = c.k(&["get", "pvc", "-o", "name"]);
    for i in 0..3 {
        assert!(
            pvcs.contains(&format!("persistentvolumeclaim/www-web-{i}")),
            "{pvcs}"
        );
    }
    let events = c.events("StatefulSet", "web");
    for i in 0..3 {
        let m = format!("create Pod web-{i} in StatefulSet web successful");
        assert!(
            events
                .iter()
                .any(|(_, r, msg)| r == "SuccessfulCreate" && *msg == m),
            "{events:?}"
        );
        let m = format!("create Claim www-web-{i} Pod web-{i} in StatefulSet web success");
        assert!(
            events
                .iter()
                .any(|(_, r, msg)| r == "SuccessfulCreate" && *msg == m),
            "{events:?}"
        );
    }

    // Scale down: highest ordinal first; the claims stay.
    c.k(&["scale", "sts", "web", "--replicas=1"]);
    c.until("one pod left", |c| {
        (pod_names(c) == ["web-0"]).then_some(())
    });
    let events = c.events("StatefulSet", "web");
    let at = |m: &str| {
        events
            .iter()
            .position(|(_, _, msg)| msg == m)
            .unwrap_or_else(|| panic!("no event {m:?}: {events:?}"))
    };
    assert!(
        at("delete Pod web-2 in StatefulSet web successful")
            <= at("delete Pod web-1 in StatefulSet web successful")
    );
    let pvcs = c.k(&["get", "pvc", "-o", "name"]);
    assert!(
        pvcs.contains("www-web-2") && pvcs.contains("www-web-1"),
        "{pvcs}"
    );
    c.until("status of 1 replica", |c| {
        let st = sts_status(c);
        (st["replicas"] == 1 && st["readyReplicas"] == 1).then_some(())
    });

    // Back to 3, then an update behind partition 2: only web-2 changes.
    c.k(&["scale", "sts", "web", "--replicas=3"]);
    c.until("3 ready replicas again", |c| {
        (sts_status(c)["readyReplicas"] == 3).then_some(())
    });
    c.k(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#,
    ]);
    c.k(&["set", "image", "sts/web", "nginx=nginx:2"]);
    let image = |c: &Ctx, n: &str| -> String {
        c.pods("app=web")
            .iter()
            .find(|p| p["metadata"]["name"] == n && !p["metadata"]["deletionTimestamp"].is_string())
            .and_then(|p| {
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .map(String::from)
            })
            .unwrap_or_default()
    };
    c.until("web-2 updated and ready", |c| {
        let st = sts_status(c);
        (st["updatedReplicas"] == 1 && st["readyReplicas"] == 3 && image(c, "web-2") == "nginx:2")
            .then_some(())
    });
    let st = sts_status(&c);
    assert_ne!(st["currentRevision"], st["updateRevision"]);
    assert_eq!(st["currentReplicas"], 2);
    assert_eq!(image(&c, "web-0"), "nginx:1");
    assert_eq!(image(&c, "web-1"), "nginx:1");
    let out = c.k(&["rollout", "status", "sts/web", "--timeout=30s"]);
    assert!(
        out.contains("partitioned roll out complete: 1 new pods have been updated"),
        "{out}"
    );

    // Partition 0: the rest follows, and the update revision becomes current.
    c.k(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ]);
    c.until("every pod updated", |c| {
        let st = sts_status(c);
        (st["updatedReplicas"] == 3
            && st["readyReplicas"] == 3
            && st["currentRevision"] == st["updateRevision"])
            .then_some(())
    });
    for i in 0..3 {
        assert_eq!(image(&c, &format!("web-{i}")), "nginx:2");
    }
    let history = c.k(&["rollout", "history", "sts/web"]);
    let revs: Vec<&str> = history
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["1", "2"], "{history}");
}
