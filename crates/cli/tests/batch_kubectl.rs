//! The batch controllers driven by the real kubectl against `skiff server` with simulated
//! nodes (whose Job pods succeed after `--simulated-job-duration`): a Job runs to
//! completion (`kubectl wait --for=condition=complete`, the `get jobs` columns, pod names,
//! labels, finalizers and events as upstream), an Indexed Job, a Job from a CronJob
//! (`kubectl create job --from`), `ttlSecondsAfterFinished`, `activeDeadlineSeconds`, and a
//! CronJob firing on its own schedule.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{k, k_in, kubectl, kubectls, wait_for, Server};

fn start() -> Server {
    Server::start_with(&["--simulated-nodes", "2", "--simulated-job-duration", "1s"])
}

/// Waits for the simulated nodes, so pods bound to `sim-0` run.
fn wait_nodes(bin: &Path, s: &Server) {
    wait_for(Duration::from_secs(30), "simulated nodes", || {
        let out = kubectl(bin, s, &["get", "node", "sim-0", "-o", "name"], None);
        out.status.success().then_some(())
    });
}

fn jsonpath(bin: &Path, s: &Server, ns: &str, what: &str, path: &str) -> String {
    k(
        bin,
        s,
        &["-n", ns, "get", what, "-o", &format!("jsonpath={path}")],
    )
}

const JOB: &str = r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      nodeName: sim-0
      restartPolicy: Never
      containers:
      - name: pi
        image: busybox
        command: ["true"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: idx
spec:
  completions: 2
  parallelism: 2
  completionMode: Indexed
  template:
    spec:
      nodeName: sim-1
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
---
apiVersion: batch/v1
kind: Job
metadata:
  name: short-lived
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      nodeName: sim-0
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Berlin
  jobTemplate:
    spec:
      template:
        spec:
          nodeName: sim-1
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
"#;

#[test]
fn jobs_run_to_completion() {
    let s = start();
    let bins = kubectls();
    let bin = &bins[0];
    wait_nodes(bin, &s);
    let ns = "batch";
    k(bin, &s, &["create", "namespace", ns]);
    k_in(bin, &s, &["-n", ns, "apply", "-f", "-"], Some(JOB));
    k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "create",
            "job",
            "by-hand",
            "--from=cronjob/nightly",
        ],
    );

    for job in ["pi", "idx", "by-hand"] {
        let out = k(
            bin,
            &s,
            &[
                "-n",
                ns,
                "wait",
                "--for=condition=complete",
                &format!("job/{job}"),
                "--timeout=60s",
            ],
        );
        assert!(out.contains("condition met"), "{out}");
    }

    // kubectl get jobs: STATUS, COMPLETIONS, DURATION as upstream prints them.
    for b in &bins {
        let out = k(b, &s, &["-n", ns, "get", "jobs", "pi"]);
        let mut lines = out.lines();
        let header: Vec<_> = lines.next().unwrap_or("").split_whitespace().collect();
        assert_eq!(
            header,
            ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
            "{out}"
        );
        let row: Vec<_> = lines.next().unwrap_or("").split_whitespace().collect();
        assert_eq!(&row[..3], ["pi", "Complete", "3/3"], "{out}");
    }

    // Status as upstream writes it.
    assert_eq!(jsonpath(bin, &s, ns, "job/pi", "{.status.succeeded}"), "3");
    let types = jsonpath(bin, &s, ns, "job/pi", "{.status.conditions[*].type}");
    assert_eq!(types, "SuccessCriteriaMet Complete");
    let reason = jsonpath(bin, &s, ns, "job/pi", "{.status.conditions[1].reason}");
    assert_eq!(reason, "CompletionsReached");
    assert!(!jsonpath(bin, &s, ns, "job/pi", "{.status.completionTime}").is_empty());
    assert!(!jsonpath(bin, &s, ns, "job/pi", "{.status.startTime}").is_empty());
    assert_eq!(
        jsonpath(bin, &s, ns, "job/pi", "{.status.uncountedTerminatedPods}"),
        "{}"
    );

    // Three pods `pi-xxxxx`, labelled, owned, counted (finalizer gone).
    let pods = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "get",
            "pods",
            "-l",
            "batch.kubernetes.io/job-name=pi",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.labels.job-name} {.metadata.ownerReferences[0].kind} {.metadata.finalizers}{\"\\n\"}{end}",
        ],
    );
    let lines: Vec<_> = pods.lines().collect();
    assert_eq!(lines.len(), 3, "{pods}");
    for l in lines {
        let f: Vec<_> = l.split_whitespace().collect();
        assert!(f[0].starts_with("pi-") && f[0].len() == 8, "{l}");
        assert_eq!(&f[1..4], ["Succeeded", "pi", "Job"], "{l}");
        assert!(f.len() == 4 || f[4] == "[]", "finalizer left: {l}");
    }

    // Events from job-controller.
    let ev = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=pi",
            "-o",
            "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
        ],
    );
    assert!(ev.contains("SuccessfulCreate: Created pod: pi-"), "{ev}");
    assert!(ev.contains("Completed: Job completed"), "{ev}");

    // The Indexed Job: one pod per index, with annotation, label and hostname.
    assert_eq!(
        jsonpath(bin, &s, ns, "job/idx", "{.status.completedIndexes}"),
        "0,1"
    );
    let pods = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "get",
            "pods",
            "-l",
            "job-name=idx",
            "--sort-by=.spec.hostname",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.spec.hostname} {.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {.metadata.labels.batch\\.kubernetes\\.io/job-completion-index}{\"\\n\"}{end}",
        ],
    );
    let lines: Vec<_> = pods.lines().collect();
    assert_eq!(lines.len(), 2, "{pods}");
    for (i, l) in lines.iter().enumerate() {
        let f: Vec<_> = l.split_whitespace().collect();
        assert!(f[0].starts_with(&format!("idx-{i}-")), "{l}");
        assert_eq!(
            &f[1..],
            [format!("idx-{i}"), i.to_string(), i.to_string()],
            "{l}"
        );
    }

    // ttlSecondsAfterFinished: 0 -> the finished Job is deleted.
    wait_for(
        Duration::from_secs(30),
        "the TTL controller to delete short-lived",
        || {
            let out = kubectl(bin, &s, &["-n", ns, "get", "job", "short-lived"], None);
            (!out.status.success()).then_some(())
        },
    );

    // The Job made from the CronJob by hand is owned by it and not scheduled by it.
    let owner = jsonpath(
        bin,
        &s,
        ns,
        "job/by-hand",
        "{.metadata.ownerReferences[0].kind}",
    );
    assert_eq!(owner, "CronJob");
    assert_eq!(
        jsonpath(bin, &s, ns, "cronjob/nightly", "{.status.lastScheduleTime}"),
        ""
    );
}

#[test]
fn deadlines_and_schedules() {
    let s = start();
    let bins = kubectls();
    let bin = &bins[0];
    wait_nodes(bin, &s);
    let ns = "sched";
    k(bin, &s, &["create", "namespace", ns]);
    // A pod bound to a node that does not exist (it never runs), a Job that may be active
    // for 1 s.
    let late = r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: late
spec:
  activeDeadlineSeconds: 1
  template:
    spec:
      nodeName: nowhere
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: often
spec:
  schedule: "@every 2s"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          nodeName: sim-0
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
"#;
    k_in(bin, &s, &["-n", ns, "apply", "-f", "-"], Some(late));
    let out = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "wait",
            "--for=condition=FailureTarget",
            "job/late",
            "--timeout=30s",
        ],
    );
    assert!(out.contains("condition met"), "{out}");
    assert_eq!(
        jsonpath(bin, &s, ns, "job/late", "{.status.conditions[0].reason}"),
        "DeadlineExceeded"
    );
    assert_eq!(
        jsonpath(bin, &s, ns, "job/late", "{.status.conditions[0].message}"),
        "Job was active longer than specified deadline"
    );
    // Once its pod is gone (counted as failed), the Job is Failed for the same reason.
    let out = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "wait",
            "--for=condition=failed",
            "job/late",
            "--timeout=30s",
        ],
    );
    assert!(out.contains("condition met"), "{out}");
    assert_eq!(
        jsonpath(bin, &s, ns, "job/late", "{.status.conditions[1].reason}"),
        "DeadlineExceeded"
    );
    assert_eq!(jsonpath(bin, &s, ns, "job/late", "{.status.failed}"), "1");
    for b in &bins {
        let out = k(b, &s, &["-n", ns, "get", "job", "late"]);
        assert!(out.contains(" Failed "), "{out}");
    }
    let ev = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=late",
            "-o",
            "jsonpath={range .items[*]}{.type} {.reason}: {.message}{\"\\n\"}{end}",
        ],
    );
    assert!(
        ev.contains("Warning DeadlineExceeded: Job was active longer than specified deadline"),
        "{ev}"
    );

    // The CronJob fires by itself: a Job `often-<minutes>` with the scheduled-time
    // annotation, the CronJob's lastScheduleTime, and a successful run recorded.
    let job = wait_for(
        Duration::from_secs(30),
        "the CronJob to create a Job",
        || {
            let names = jsonpath(bin, &s, ns, "jobs", "{.items[*].metadata.name}");
            names
                .split_whitespace()
                .find(|n| n.starts_with("often-"))
                .map(str::to_string)
        },
    );
    let minutes: u64 = job
        .strip_prefix("often-")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("job name {job}"));
    assert!(minutes > 29_000_000, "{job}");
    let at = jsonpath(
        bin,
        &s,
        ns,
        &format!("job/{job}"),
        "{.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}",
    );
    assert!(at.ends_with('Z') && at.len() == 20, "{at}");
    assert!(!jsonpath(bin, &s, ns, "cronjob/often", "{.status.lastScheduleTime}").is_empty());
    wait_for(Duration::from_secs(30), "lastSuccessfulTime", || {
        let t = jsonpath(bin, &s, ns, "cronjob/often", "{.status.lastSuccessfulTime}");
        (!t.is_empty()).then_some(())
    });
    let ev = k(
        bin,
        &s,
        &[
            "-n",
            ns,
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=often",
            "-o",
            "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
        ],
    );
    assert!(
        ev.contains(&format!("SuccessfulCreate: Created job {job}")),
        "{ev}"
    );
    assert!(
        ev.contains("SawCompletedJob: Saw completed job: often-"),
        "{ev}"
    );
    let out = k(bin, &s, &["-n", ns, "get", "cronjobs"]);
    assert!(out.contains("@every 2s"), "{out}");
}
