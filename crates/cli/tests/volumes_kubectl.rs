//! PersistentVolumes with the real kubectl: a claim binds to the smallest fitting volume,
//! `local-path` is the default StorageClass (WaitForFirstConsumer: a claim waits for its
//! pod, then a volume is provisioned on the pod's node), and volumes follow their claims'
//! deletion by their reclaim policy.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{k, k_in, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(60);

fn get(bin: &Path, s: &Server, args: &[&str], path: &str) -> String {
    let mut v = args.to_vec();
    let expr = format!("jsonpath={path}");
    v.extend_from_slice(&["-o", &expr]);
    let out = support::kubectl(bin, s, &v, None);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn claims_bind_and_local_path_provisions() {
    let s = Server::start_with(&["--simulated-nodes", "2"]);
    let bin = &kubectls()[0];
    wait_for(WAIT, "the local-path StorageClass", || {
        let out = k(bin, &s, &["get", "storageclass"]);
        out.contains("local-path (default)").then_some(out)
    });

    // Static volumes: the claim takes the smallest that fits.
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(
            r#"
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-big}
spec: {capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce], storageClassName: manual, persistentVolumeReclaimPolicy: Retain, hostPath: {path: /tmp/big}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-small}
spec: {capacity: {storage: 2Gi}, accessModes: [ReadWriteOnce], storageClassName: manual, persistentVolumeReclaimPolicy: Retain, hostPath: {path: /tmp/small}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: static}
spec: {accessModes: [ReadWriteOnce], storageClassName: manual, resources: {requests: {storage: 1Gi}}}
"#,
        ),
    );
    wait_for(WAIT, "the static claim to bind", || {
        let phase = get(bin, &s, &["get", "pvc", "static"], "{.status.phase}");
        (phase == "Bound").then_some(())
    });
    assert_eq!(
        get(bin, &s, &["get", "pvc", "static"], "{.spec.volumeName}"),
        "pv-small"
    );
    let pvs = k(bin, &s, &["get", "pv"]);
    assert!(
        pvs.lines().any(|l| l.starts_with("pv-small")
            && l.contains("Bound")
            && l.contains("default/static")),
        "kubectl get pv:\n{pvs}"
    );
    k(bin, &s, &["delete", "pvc", "static"]);
    wait_for(WAIT, "the Retain volume to be Released", || {
        (get(bin, &s, &["get", "pv", "pv-small"], "{.status.phase}") == "Released").then_some(())
    });

    // local-path: the claim waits for its first consumer.
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(
            r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#,
        ),
    );
    wait_for(
        WAIT,
        "the default class on the claim and the waiting event",
        || {
            let class = get(bin, &s, &["get", "pvc", "data"], "{.spec.storageClassName}");
            let events = k(
                bin,
                &s,
                &[
                    "get",
                    "events",
                    "--field-selector",
                    "involvedObject.name=data",
                ],
            );
            (class == "local-path" && events.contains("WaitForFirstConsumer")).then_some(())
        },
    );
    assert_eq!(
        get(bin, &s, &["get", "pvc", "data"], "{.status.phase}"),
        "Pending"
    );
    k_in(
        bin,
        &s,
        &["apply", "-f", "-"],
        Some(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  containers: [{name: c, image: busybox}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
"#,
        ),
    );
    wait_for(WAIT, "the claim to be provisioned and bound", || {
        (get(bin, &s, &["get", "pvc", "data"], "{.status.phase}") == "Bound").then_some(())
    });
    let node = get(bin, &s, &["get", "pod", "user"], "{.spec.nodeName}");
    let pv = get(bin, &s, &["get", "pvc", "data"], "{.spec.volumeName}");
    assert!(pv.starts_with("pvc-"), "{pv}");
    let pinned = get(
        bin,
        &s,
        &["get", "pv", &pv],
        "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}",
    );
    assert_eq!(pinned, node, "the volume lives on the pod's node");
    k(bin, &s, &["delete", "pod", "user", "--wait=true"]);
    k(bin, &s, &["delete", "pvc", "data"]);
    wait_for(
        WAIT,
        "the provisioned volume to be deleted with its claim",
        || {
            let out = support::kubectl(bin, &s, &["get", "pv", &pv], None);
            (!out.status.success()).then_some(())
        },
    );
}
