//! The Endpoints and EndpointSlice controllers end to end with the real kubectl against
//! `skiff server`: a Node and Pods made by kubectl, their status (IP, Ready) patched
//! through the status subresource as a kubelet would, and a Service selecting them.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{k, k_in, kubectl, kubectls, wait_for, Server};

const WAIT: Duration = Duration::from_secs(30);

const OBJECTS: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {topology.kubernetes.io/zone: zone-a}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {team: a}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata:
  name: manual
spec:
  ports:
  - {port: 80}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: manual
subsets:
- addresses: [{ip: 192.0.2.1}]
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: headless
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080}
"#;

fn pod(name: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  nodeName: node-1
  containers:
  - name: web
    image: nginx
    ports:
    - {{name: http, containerPort: 8080}}
"#
    )
}

fn set_status(bin: &Path, s: &Server, name: &str, ip: &str, ready: bool) {
    let patch = format!(
        r#"{{"status":{{"phase":"Running","podIP":"{ip}","podIPs":[{{"ip":"{ip}"}}],"conditions":[{{"type":"Ready","status":"{}","lastTransitionTime":"2024-01-01T00:00:00Z"}}]}}}}"#,
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

fn get_json(bin: &Path, s: &Server, args: &[&str]) -> Option<Value> {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    let out = kubectl(bin, s, &a, None);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn ips(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["ip"].as_str().map(str::to_string))
        .collect()
}

/// The slices of a Service.
fn slices(bin: &Path, s: &Server, svc: &str) -> Vec<Value> {
    get_json(
        bin,
        s,
        &[
            "endpointslices",
            "-l",
            &format!("kubernetes.io/service-name={svc}"),
        ],
    )
    .and_then(|l| l["items"].as_array().cloned())
    .unwrap_or_default()
}

#[test]
fn endpoints_and_slices_follow_pods() {
    let s = Server::start();
    let bin = &kubectls()[0];
    k_in(bin, &s, &["apply", "-f", "-"], Some(OBJECTS));
    for p in ["a", "b", "c"] {
        k_in(bin, &s, &["apply", "-f", "-"], Some(&pod(p)));
    }
    set_status(bin, &s, "a", "10.42.0.5", true);
    set_status(bin, &s, "b", "10.42.0.6", false);
    // c has no IP: left out.

    let ep = wait_for(
        WAIT,
        "Endpoints web with a ready and a not-ready pod",
        || {
            let ep = get_json(bin, &s, &["endpoints", "web"])?;
            let sub = &ep["subsets"][0];
            (ips(&sub["addresses"]) == ["10.42.0.5"]
                && ips(&sub["notReadyAddresses"]) == ["10.42.0.6"])
            .then_some(ep)
        },
    );
    let sub = &ep["subsets"][0];
    assert_eq!(sub["ports"][0]["port"], 8080, "named targetPort resolved");
    assert_eq!(sub["ports"][0]["name"], "http");
    assert_eq!(sub["addresses"][0]["nodeName"], "node-1");
    assert_eq!(sub["addresses"][0]["targetRef"]["kind"], "Pod");
    assert_eq!(sub["addresses"][0]["targetRef"]["name"], "a");
    assert_eq!(ep["metadata"]["labels"]["team"], "a");
    assert!(
        ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"]
            .is_string()
    );

    let slice = wait_for(WAIT, "the EndpointSlice of web", || {
        let list = slices(bin, &s, "web");
        (list.len() == 1 && list[0]["endpoints"].as_array().map(Vec::len) == Some(2))
            .then(|| list[0].clone())
    });
    let name = slice["metadata"]["name"].as_str().unwrap_or_default();
    assert!(
        name.starts_with("web-") && name.len() == "web-".len() + 5,
        "{name}"
    );
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(slice["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(slice["ports"][0]["port"], 8080);
    let by_ip = |ip: &str| {
        slice["endpoints"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["addresses"][0] == ip).cloned())
            .unwrap_or_default()
    };
    let a = by_ip("10.42.0.5");
    assert_eq!(a["conditions"]["ready"], true);
    assert_eq!(a["conditions"]["serving"], true);
    assert_eq!(a["conditions"]["terminating"], false);
    assert_eq!(a["nodeName"], "node-1");
    assert_eq!(a["zone"], "zone-a");
    assert_eq!(a["targetRef"]["name"], "a");
    assert_eq!(by_ip("10.42.0.6")["conditions"]["ready"], false);

    // kubectl's view.
    let out = k(bin, &s, &["get", "endpoints", "web"]);
    assert!(out.contains("10.42.0.5:8080"), "{out}");

    // b becomes ready, a goes away.
    set_status(bin, &s, "b", "10.42.0.6", true);
    k(
        bin,
        &s,
        &["delete", "pod", "a", "--grace-period=0", "--force"],
    );
    wait_for(WAIT, "Endpoints web with only b ready", || {
        let ep = get_json(bin, &s, &["endpoints", "web"])?;
        let sub = &ep["subsets"][0];
        (ips(&sub["addresses"]) == ["10.42.0.6"] && sub["notReadyAddresses"].is_null())
            .then_some(())
    });
    wait_for(WAIT, "the slice to follow", || {
        let list = slices(bin, &s, "web");
        let eps = list.first()?["endpoints"].as_array()?.clone();
        (list.len() == 1
            && eps.len() == 1
            && eps[0]["addresses"][0] == "10.42.0.6"
            && eps[0]["conditions"]["ready"] == true)
            .then_some(())
    });

    // The headless Service: labelled, ports as given.
    let ep = wait_for(WAIT, "Endpoints headless", || {
        get_json(bin, &s, &["endpoints", "headless"])
    });
    assert_eq!(
        ep["metadata"]["labels"]["service.kubernetes.io/headless"],
        ""
    );
    let list = slices(bin, &s, "headless");
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["metadata"]["labels"]["service.kubernetes.io/headless"],
        ""
    );

    // A Service without selector keeps the Endpoints its user wrote; no slices.
    let manual = get_json(bin, &s, &["endpoints", "manual"]).unwrap_or_default();
    assert_eq!(ips(&manual["subsets"][0]["addresses"]), ["192.0.2.1"]);
    assert!(slices(bin, &s, "manual").is_empty());
    // The API server's own Service is left alone too.
    let kube = get_json(bin, &s, &["endpoints", "kubernetes"]).unwrap_or_default();
    assert!(!ips(&kube["subsets"][0]["addresses"]).is_empty());

    // Deleting the Service removes its Endpoints and (garbage collector) its slices.
    k(bin, &s, &["delete", "service", "web"]);
    wait_for(WAIT, "Endpoints and slices of web to go", || {
        (get_json(bin, &s, &["endpoints", "web"]).is_none() && slices(bin, &s, "web").is_empty())
            .then_some(())
    });
}
