//! The real kubectl drives Deployments, ReplicaSets and ReplicationControllers on a real
//! `skiff server --simulated-nodes 3` (hollow nodes report pods Running and Ready): create,
//! scale, set image, rollout status / history / undo / pause / resume / restart, Recreate,
//! the canary picture of a paused rollout, adoption of orphan pods, and pods that come back.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{k, k_in, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(60);

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

    /// `name=spec/ready` of every ReplicaSet with label `app`, sorted by revision.
    fn rs_picture(&self, app: &str) -> Vec<(String, String, String)> {
        let out = self.k(&[
            "get",
            "rs",
            "-l",
            &format!("app={app}"),
            "-o",
            "jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.metadata.name} {.spec.replicas} {.status.readyReplicas}{\"\\n\"}{end}",
        ]);
        let mut rows: Vec<(i64, String, String, String)> = out
            .lines()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let rev = f.next()?.parse().unwrap_or(0);
                let name = f.next()?.to_string();
                let spec = f.next()?.to_string();
                let ready = f
                    .next()
                    .filter(|r| !r.is_empty())
                    .unwrap_or("0")
                    .to_string();
                Some((rev, name, spec, ready))
            })
            .collect();
        rows.sort();
        rows.into_iter().map(|(_, n, s, r)| (n, s, r)).collect()
    }

    fn jsonpath(&self, kind: &str, name: &str, path: &str) -> String {
        self.k(&["get", kind, name, "-o", &format!("jsonpath={path}")])
    }

    fn wait_rollout(&self, deploy: &str) {
        let out = self.k(&[
            "rollout",
            "status",
            &format!("deploy/{deploy}"),
            "--timeout=60s",
        ]);
        assert!(
            out.contains(&format!("deployment \"{deploy}\" successfully rolled out")),
            "{out}"
        );
    }

    /// Waits until the pods with label `sel` are exactly `n`, all Running, none terminating.
    fn wait_pods(&self, sel: &str, n: usize) -> Vec<String> {
        wait_for(WAIT, &format!("{n} running pods {sel}"), || {
            let out = self.k(&[
                "get",
                "pods",
                "-l",
                sel,
                "-o",
                "jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{\"\\n\"}{end}",
            ]);
            let rows: Vec<&str> = out.lines().collect();
            let ok = rows.len() == n
                && rows.iter().all(|r| {
                    let f: Vec<&str> = r.split(' ').collect();
                    f.get(1) == Some(&"Running") && f.get(2).is_none_or(|d| d.is_empty())
                });
            ok.then(|| {
                rows.iter()
                    .map(|r| r.split(' ').next().unwrap_or("").to_string())
                    .collect()
            })
        })
    }
}

fn deployment_events(c: &Ctx, name: &str) -> Vec<String> {
    // Event names end in the nanosecond they were first recorded (hex): sorting by name
    // orders one object's events in time.
    let out = c.k(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.kind=Deployment,involvedObject.name={name}"),
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}\t{.reason}\t{.message}{\"\\n\"}{end}",
    ]);
    let mut rows: Vec<(&str, String)> = out
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            let n = f.next()?;
            let reason = f.next()?;
            let msg = f.next()?;
            Some((n, format!("{reason}: {msg}")))
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, m)| m).collect()
}

fn deployment_story(c: &Ctx) {
    // 3 replicas of nginx, then scaled to 5 and back.
    c.k(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.25",
        "--replicas=3",
    ]);
    c.wait_rollout("web");
    let first = c.rs_picture("web");
    assert_eq!(first.len(), 1, "{first:?}");
    let (rs1, _, _) = first[0].clone();
    assert!(rs1.starts_with("web-"), "{rs1}");
    let hash = &rs1["web-".len()..];
    assert!(
        hash.chars()
            .all(|ch| "bcdfghjklmnpqrstvwxz2456789".contains(ch)),
        "{hash}"
    );
    assert_eq!(
        c.jsonpath("rs", &rs1, "{.metadata.labels.pod-template-hash}"),
        hash
    );
    let pods = c.wait_pods("app=web", 3);
    assert!(
        pods.iter().all(|p| p.starts_with(&format!("{rs1}-"))),
        "{pods:?}"
    );
    let out = c.k(&["get", "deploy", "web"]);
    assert!(out.contains("3/3     3            3"), "{out}");
    c.k(&["scale", "deploy/web", "--replicas=5"]);
    c.wait_rollout("web");
    c.wait_pods("app=web", 5);
    c.k(&["scale", "deploy/web", "--replicas=3"]);
    c.wait_rollout("web");
    c.wait_pods("app=web", 3);
    let events = deployment_events(c, "web");
    for want in [
        format!("ScalingReplicaSet: Scaled up replica set {rs1} from 0 to 3"),
        format!("ScalingReplicaSet: Scaled up replica set {rs1} from 3 to 5"),
        format!("ScalingReplicaSet: Scaled down replica set {rs1} from 5 to 3"),
    ] {
        assert!(events.contains(&want), "{want} not in {events:?}");
    }
    let rs_events = c.k(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={rs1}"),
    ]);
    assert!(
        rs_events.contains("SuccessfulCreate") && rs_events.contains("Created pod: web-"),
        "{rs_events}"
    );
    assert!(
        rs_events.contains("SuccessfulDelete") && rs_events.contains("Deleted pod: web-"),
        "{rs_events}"
    );

    // A new image: a new ReplicaSet, the old one scaled to zero, two revisions.
    // The change-cause goes with the new template, as the docs do it: annotate once the
    // new ReplicaSet exists (annotations are copied to the new ReplicaSet only).
    c.k(&["set", "image", "deploy/web", "nginx=nginx:1.26"]);
    wait_for(WAIT, "the new ReplicaSet", || {
        (c.rs_picture("web").len() == 2).then_some(())
    });
    c.k(&[
        "annotate",
        "deploy/web",
        "kubernetes.io/change-cause=image 1.26",
    ]);
    c.wait_rollout("web");
    let pic = c.rs_picture("web");
    assert_eq!(pic.len(), 2, "{pic:?}");
    assert_eq!(pic[0], (rs1.clone(), "0".into(), "0".into()));
    let rs2 = pic[1].0.clone();
    assert_eq!((pic[1].1.as_str(), pic[1].2.as_str()), ("3", "3"));
    assert_eq!(
        c.jsonpath(
            "rs",
            &rs2,
            "{.metadata.annotations.kubernetes\\.io/change-cause}"
        ),
        "image 1.26"
    );
    let hist = c.k(&["rollout", "history", "deploy/web"]);
    assert!(hist.contains("REVISION  CHANGE-CAUSE"), "{hist}");
    assert!(hist.contains("1         <none>"), "{hist}");
    assert!(hist.contains("2         image 1.26"), "{hist}");
    let rev2 = c.k(&["rollout", "history", "deploy/web", "--revision=2"]);
    assert!(rev2.contains("nginx:1.26"), "{rev2}");
    assert_eq!(
        c.jsonpath(
            "deploy",
            "web",
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ),
        "2"
    );

    // Undo to revision 1: the first ReplicaSet comes back as revision 3.
    let out = c.k(&["rollout", "undo", "deploy/web", "--to-revision=1"]);
    assert!(out.contains("rolled back"), "{out}");
    c.wait_rollout("web");
    let pic = c.rs_picture("web");
    assert_eq!(pic.len(), 2, "{pic:?}");
    assert_eq!(pic[0], (rs2.clone(), "0".into(), "0".into()));
    assert_eq!(pic[1], (rs1.clone(), "3".into(), "3".into()));
    assert_eq!(
        c.jsonpath(
            "rs",
            &rs1,
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ),
        "3"
    );
    assert_eq!(
        c.jsonpath(
            "rs",
            &rs1,
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}"
        ),
        "1"
    );
    let hist = c.k(&["rollout", "history", "deploy/web"]);
    assert!(!hist.contains("\n1 "), "revision 1 gone: {hist}");
    assert!(
        hist.contains("2         image 1.26") && hist.contains("\n3 "),
        "{hist}"
    );

    // The conditions kubectl shows.
    let conds = c.jsonpath(
        "deploy",
        "web",
        "{range .status.conditions[*]}{.type}={.status}/{.reason}: {.message}{\"\\n\"}{end}",
    );
    assert!(
        conds.contains(
            "Available=True/MinimumReplicasAvailable: Deployment has minimum availability."
        ),
        "{conds}"
    );
    assert!(
        conds.contains(&format!(
            "Progressing=True/NewReplicaSetAvailable: ReplicaSet \"{rs1}\" has successfully progressed."
        )),
        "{conds}"
    );
    let st = c.jsonpath(
        "deploy",
        "web",
        "{.status.replicas} {.status.updatedReplicas} {.status.readyReplicas} {.status.availableReplicas} {.status.observedGeneration} {.metadata.generation}",
    );
    let f: Vec<&str> = st.split(' ').collect();
    assert_eq!(&f[..4], ["3", "3", "3", "3"], "{st}");
    assert_eq!(f[4], f[5], "{st}");

    // restart: a new ReplicaSet with the restartedAt annotation.
    c.k(&["rollout", "restart", "deploy/web"]);
    c.wait_rollout("web");
    let pic = c.rs_picture("web");
    assert_eq!(pic.len(), 3, "{pic:?}");
    assert_eq!(
        (pic[2].1.as_str(), pic[2].2.as_str()),
        ("3", "3"),
        "{pic:?}"
    );

    // Recreate: the old ReplicaSet goes to zero before the new one grows. A Deployment of
    // its own, so its events are not folded into "(combined from similar events)" as
    // upstream's recorder folds the eleventh similar event of one object within 10 min.
    c.k(&[
        "create",
        "deployment",
        "rec",
        "--image=nginx",
        "--replicas=3",
    ]);
    c.wait_rollout("rec");
    c.k(&[
        "patch",
        "deploy/rec",
        "--type=merge",
        "-p",
        r#"{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}"#,
    ]);
    let before = c.rs_picture("rec");
    let active = before
        .iter()
        .find(|r| r.1 == "3")
        .map(|r| r.0.clone())
        .expect("active rs");
    c.k(&["set", "image", "deploy/rec", "nginx=nginx:1.27"]);
    c.wait_rollout("rec");
    let pic = c.rs_picture("rec");
    let newest = pic.last().expect("rs").0.clone();
    assert_ne!(newest, active);
    let events = deployment_events(c, "rec");
    let down = events
        .iter()
        .position(|e| {
            *e == format!("ScalingReplicaSet: Scaled down replica set {active} from 3 to 0")
        })
        .unwrap_or_else(|| panic!("no scale down in {events:?}"));
    let up = events
        .iter()
        .position(|e| {
            *e == format!("ScalingReplicaSet: Scaled up replica set {newest} from 0 to 3")
        })
        .unwrap_or_else(|| panic!("no scale up in {events:?}"));
    assert!(down < up, "{events:?}");
}

const CANARY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: canary
spec:
  replicas: 3
  minReadySeconds: 300
  selector:
    matchLabels: {app: canary}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
  template:
    metadata:
      labels: {app: canary}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
"#;

/// Seed 002: `set image` then `rollout pause` leaves the new ReplicaSet at 1 and the old at
/// 3; `rollout resume` finishes the rollout. minReadySeconds keeps the new pod unavailable,
/// so the rollout stays at its first step however fast pods become ready.
fn canary(c: &Ctx) {
    c.apply(CANARY);
    wait_for(WAIT, "3 ready canary pods", || {
        (c.jsonpath("deploy", "canary", "{.status.readyReplicas}") == "3").then_some(())
    });
    c.k(&["set", "image", "deploy/canary", "nginx=nginx:1.26"]);
    // The controller acts within milliseconds; waiting for the new ReplicaSet makes the
    // pause land after the first step, as it did in the seed, on every run.
    wait_for(WAIT, "the new ReplicaSet", || {
        (c.rs_picture("canary").len() == 2).then_some(())
    });
    c.k(&["rollout", "pause", "deploy/canary"]);
    let pic = wait_for(WAIT, "new ReplicaSet ready", || {
        let p = c.rs_picture("canary");
        (p.len() == 2 && p[1].2 == "1").then_some(p)
    });
    assert_eq!(pic[0].1, "3", "old keeps 3: {pic:?}");
    assert_eq!(pic[1].1, "1", "new has 1: {pic:?}");
    let out = c.k(&["get", "rs", "-l", "app=canary"]);
    assert!(out.starts_with("NAME"), "{out}");
    let conds = c.jsonpath(
        "deploy",
        "canary",
        "{.status.conditions[?(@.type==\"Progressing\")].reason}",
    );
    assert_eq!(conds, "DeploymentPaused");
    // Paused: a scale is proportional, nothing rolls.
    c.k(&["scale", "deploy/canary", "--replicas=6"]);
    let pic = wait_for(WAIT, "proportional scale", || {
        let p = c.rs_picture("canary");
        let total: i32 = p.iter().map(|r| r.1.parse::<i32>().unwrap_or(0)).sum();
        (total > 4).then_some(p)
    });
    // 4 (3 + 1 surge) to 6 + 2 surge = 8: old 3 -> 6, new 1 -> 2.
    assert_eq!(
        (pic[0].1.as_str(), pic[1].1.as_str()),
        ("6", "2"),
        "{pic:?}"
    );
    c.k(&["scale", "deploy/canary", "--replicas=3"]);
    wait_for(WAIT, "scaled back", || {
        let p = c.rs_picture("canary");
        (p[0].1 == "3" && p[1].1 == "1").then_some(())
    });
    c.k(&[
        "patch",
        "deploy/canary",
        "-p",
        r#"{"spec":{"minReadySeconds":0}}"#,
    ]);
    c.k(&["rollout", "resume", "deploy/canary"]);
    c.wait_rollout("canary");
    let pic = c.rs_picture("canary");
    assert_eq!(
        (pic[0].1.as_str(), pic[1].1.as_str(), pic[1].2.as_str()),
        ("0", "3", "3"),
        "{pic:?}"
    );
}

const FRONTEND: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
spec:
  replicas: 3
  selector:
    matchLabels: {tier: frontend}
  template:
    metadata:
      labels: {tier: frontend}
    spec:
      containers:
      - name: php
        image: php:8
"#;

/// A ReplicaSet adopts orphans its selector matches and deletes the surplus; a pod deleted
/// by hand comes back; a pod relabelled away is released.
fn replicaset_adoption(c: &Ctx) {
    for i in 1..=4 {
        c.k(&[
            "run",
            &format!("orphan-{i}"),
            "--image=php:8",
            "--labels=tier=frontend",
        ]);
    }
    c.wait_pods("tier=frontend", 4);
    c.apply(FRONTEND);
    let pods = c.wait_pods("tier=frontend", 3);
    assert!(
        pods.iter().all(|p| p.starts_with("orphan-")),
        "adopted, none created: {pods:?}"
    );
    for p in &pods {
        let owner = c.jsonpath("pod", p, "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}");
        assert_eq!(owner, "ReplicaSet/frontend/true");
    }
    let ev = c.k(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=frontend",
    ]);
    assert!(
        ev.contains("SuccessfulDelete") && ev.contains("Deleted pod: orphan-"),
        "{ev}"
    );
    // A pod deleted by hand comes back.
    c.k(&["delete", "pod", &pods[0]]);
    let after = c.wait_pods("tier=frontend", 3);
    assert!(!after.contains(&pods[0]), "{after:?}");
    assert!(
        after.iter().any(|p| p.starts_with("frontend-")),
        "{after:?}"
    );
    // Relabelled away: released and replaced.
    c.k(&["label", "pod", &pods[1], "tier=debug", "--overwrite"]);
    c.wait_pods("tier=frontend", 3);
    wait_for(WAIT, "release", || {
        c.jsonpath("pod", &pods[1], "{.metadata.ownerReferences[*].name}")
            .is_empty()
            .then_some(())
    });
    wait_for(WAIT, "frontend status", || {
        (c.jsonpath(
            "rs",
            "frontend",
            "{.status.replicas} {.status.fullyLabeledReplicas} {.status.readyReplicas} {.status.availableReplicas}",
        ) == "3 3 3 3")
            .then_some(())
    });
    let out = c.k(&["get", "rs", "frontend"]);
    assert!(out.contains("frontend   3         3         3"), "{out}");
}

const RC: &str = r#"
apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
    spec:
      containers:
      - name: c
        image: nginx
"#;

fn replication_controller(c: &Ctx) {
    c.apply(RC);
    let pods = c.wait_pods("app=legacy", 2);
    assert!(
        pods.iter()
            .all(|p| p.starts_with("legacy-") && p.len() == "legacy-".len() + 5),
        "{pods:?}"
    );
    c.k(&["scale", "rc/legacy", "--replicas=1"]);
    c.wait_pods("app=legacy", 1);
    wait_for(WAIT, "rc status", || {
        (c.jsonpath(
            "rc",
            "legacy",
            "{.status.replicas}/{.status.readyReplicas}/{.status.observedGeneration}",
        ) == "1/1/2")
            .then_some(())
    });
    let ev = c.k(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=ReplicationController",
    ]);
    assert!(
        ev.contains("Created pod: legacy-") && ev.contains("Deleted pod: legacy-"),
        "{ev}"
    );
}

fn bin() -> PathBuf {
    kubectls().into_iter().next().expect("a kubectl")
}

fn with_ns(s: &Server, ns: &str, f: impl FnOnce(&Ctx)) {
    let bin = bin();
    k(Path::new(&bin), s, &["create", "namespace", ns]);
    f(&Ctx { bin, s, ns });
}

#[test]
fn workloads_with_kubectl() {
    let s = Server::start_with(&["--simulated-nodes", "3"]);
    with_ns(&s, "story", deployment_story);
    with_ns(&s, "canary", canary);
    with_ns(&s, "adopt", replicaset_adoption);
    with_ns(&s, "legacy", replication_controller);
}
