//! Printers of the `apps` group: deployments, replica sets, stateful sets, daemon sets and
//! controller revisions.

use jiff::Timestamp;
use serde_json::Value;

use super::docs;
use super::fields::{
    age, arr, containers, format_label_selector, format_labels, int, name, opt_int, s,
    selector_string,
};
use super::{Column, Printer, Row, AGE, CONTAINERS, IMAGES, NAME};

/// `spec.replicas`, 1 when absent (upstream's default).
fn replicas(obj: &Value) -> i64 {
    opt_int(&obj["spec"]["replicas"]).unwrap_or(1)
}

pub(super) static DEPLOYMENTS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Ready", "string", "Number of the pod with ready state"),
        Column::new("Up-to-date", "string", docs::DEPLOY_STATUS_UPDATED),
        Column::new("Available", "string", docs::DEPLOY_STATUS_AVAILABLE),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", docs::DEPLOY_SPEC_SELECTOR).wide(),
    ],
    row: deployment_row,
};

fn deployment_row(d: &Value, now: Timestamp) -> Row {
    let status = &d["status"];
    let (names, images) = containers(&d["spec"]["template"]["spec"]);
    let selector = selector_string(&d["spec"]["selector"]).unwrap_or_else(|| "<invalid>".into());
    Row::new(vec![
        name(d).into(),
        format!("{}/{}", int(&status["readyReplicas"]), replicas(d)).into(),
        int(&status["updatedReplicas"]).into(),
        int(&status["availableReplicas"]).into(),
        age(d, now).into(),
        names.into(),
        images.into(),
        selector.into(),
    ])
}

pub(super) static REPLICASETS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Desired", "integer", docs::RS_SPEC_REPLICAS),
        Column::new("Current", "integer", docs::RS_STATUS_REPLICAS),
        Column::new("Ready", "integer", docs::RS_STATUS_READY_REPLICAS),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", docs::RS_SPEC_SELECTOR).wide(),
    ],
    row: |rs, now| {
        let (names, images) = containers(&rs["spec"]["template"]["spec"]);
        Row::new(vec![
            name(rs).into(),
            replicas(rs).into(),
            int(&rs["status"]["replicas"]).into(),
            int(&rs["status"]["readyReplicas"]).into(),
            age(rs, now).into(),
            names.into(),
            images.into(),
            format_label_selector(&rs["spec"]["selector"]).into(),
        ])
    },
};

pub(super) static STATEFULSETS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Ready", "string", "Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ],
    row: |sts, now| {
        let (names, images) = containers(&sts["spec"]["template"]["spec"]);
        Row::new(vec![
            name(sts).into(),
            format!("{}/{}", int(&sts["status"]["readyReplicas"]), replicas(sts)).into(),
            age(sts, now).into(),
            names.into(),
            images.into(),
        ])
    },
};

pub(super) static DAEMONSETS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Desired", "integer", docs::DS_STATUS_DESIRED),
        Column::new("Current", "integer", docs::DS_STATUS_CURRENT),
        Column::new("Ready", "integer", docs::DS_STATUS_READY),
        Column::new("Up-to-date", "integer", docs::DS_STATUS_UPDATED),
        Column::new("Available", "integer", docs::DS_STATUS_AVAILABLE),
        Column::new("Node Selector", "string", docs::POD_SPEC_NODE_SELECTOR),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", docs::DS_SPEC_SELECTOR).wide(),
    ],
    row: |ds, now| {
        let status = &ds["status"];
        let pod_spec = &ds["spec"]["template"]["spec"];
        let (names, images) = containers(pod_spec);
        Row::new(vec![
            name(ds).into(),
            int(&status["desiredNumberScheduled"]).into(),
            int(&status["currentNumberScheduled"]).into(),
            int(&status["numberReady"]).into(),
            int(&status["updatedNumberScheduled"]).into(),
            int(&status["numberAvailable"]).into(),
            format_labels(&pod_spec["nodeSelector"]).into(),
            age(ds, now).into(),
            names.into(),
            images.into(),
            format_label_selector(&ds["spec"]["selector"]).into(),
        ])
    },
};

pub(super) static CONTROLLERREVISIONS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Controller", "string", "Controller of the object"),
        Column::new("Revision", "string", docs::CONTROLLER_REVISION_REVISION),
        AGE,
    ],
    row: |cr, now| {
        Row::new(vec![
            name(cr).into(),
            controller_name(cr).into(),
            int(&cr["revision"]).into(),
            age(cr, now).into(),
        ])
    },
};

/// The controlling owner as `kind.group/name` (`daemonset.apps/fluentd`), `<none>` without
/// one. An apiVersion with more than one slash (upstream fails the request) gives the bare
/// kind.
fn controller_name(obj: &Value) -> String {
    let Some(owner) = arr(&obj["metadata"]["ownerReferences"])
        .iter()
        .find(|o| o["controller"].as_bool() == Some(true))
    else {
        return "<none>".into();
    };
    let api_version = s(&owner["apiVersion"]);
    let group = match api_version.matches('/').count() {
        1 => api_version.split('/').next().unwrap_or(""),
        _ => "",
    };
    let kind = s(&owner["kind"]);
    let owner_name = s(&owner["name"]);
    if kind.is_empty() && group.is_empty() {
        return owner_name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{owner_name}", group_kind.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use serde_json::{json, Value};

    fn template() -> Value {
        json!({
            "metadata": { "labels": { "app": "web" } },
            "spec": { "containers": [
                { "name": "web", "image": "nginx:1.27" },
                { "name": "metrics", "image": "prom/exporter:v1" },
            ] },
        })
    }

    #[test]
    fn deployments() {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "web", "namespace": "default", "creationTimestamp": ago(200) },
            "spec": {
                "replicas": 3,
                "selector": { "matchLabels": { "app": "web" },
                              "matchExpressions": [{ "key": "tier", "operator": "In", "values": ["front"] }] },
                "template": template(),
            },
            "status": { "replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2 },
        });
        let t = table("apps", "deployments", &[d]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Ready", 0),
                ("Up-to-date", 0),
                ("Available", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web",
                "2/3",
                3,
                2,
                "3m20s",
                "web,metrics",
                "nginx:1.27,prom/exporter:v1",
                "app=web,tier in (front)"
            ])
        );
        // A fresh deployment without status; replicas defaulted.
        let fresh = json!({ "metadata": { "name": "new", "creationTimestamp": ago(1) },
                            "spec": { "selector": { "matchLabels": { "app": "new" } }, "template": template() } });
        let c = cells("apps", "deployments", fresh);
        assert_eq!(c[1..5], [json!("0/1"), json!(0), json!(0), json!("1s")]);
        assert_eq!(c[7], "app=new");
        let scaled_to_zero = json!({ "metadata": { "name": "z" }, "spec": { "replicas": 0 } });
        let c = cells("apps", "deployments", scaled_to_zero);
        assert_eq!(c[1], "0/0");
        assert_eq!(c[7], "", "absent selector selects nothing and prints empty");
        let bad = json!({ "metadata": { "name": "b" }, "spec": { "selector": { "matchExpressions": [{ "key": "a", "operator": "In" }] } } });
        assert_eq!(cells("apps", "deployments", bad)[7], "<invalid>");
    }

    #[test]
    fn replica_sets() {
        let rs = json!({
            "metadata": { "name": "web-5d8f", "creationTimestamp": ago(90000),
                          "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": true }] },
            "spec": { "replicas": 3, "selector": { "matchLabels": { "app": "web", "pod-template-hash": "5d8f" } }, "template": template() },
            "status": { "replicas": 3, "readyReplicas": 3, "availableReplicas": 3 },
        });
        let t = table("apps", "replicasets", &[rs]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Desired", 0),
                ("Current", 0),
                ("Ready", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        );
        assert_eq!(t["columnDefinitions"][1]["type"], "integer");
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "web-5d8f",
                3,
                3,
                3,
                "25h",
                "web,metrics",
                "nginx:1.27,prom/exporter:v1",
                "app=web,pod-template-hash=5d8f"
            ])
        );
        let c = cells(
            "apps",
            "replicasets",
            json!({ "metadata": { "name": "x" } }),
        );
        assert_eq!(c[7], "<none>");
    }

    #[test]
    fn stateful_sets() {
        let sts = json!({
            "metadata": { "name": "db", "creationTimestamp": ago(3 * 3600 + 1800) },
            "spec": { "replicas": 3, "serviceName": "db", "selector": { "matchLabels": { "app": "db" } },
                      "template": { "spec": { "containers": [{ "name": "postgres", "image": "postgres:16" }] } } },
            "status": { "replicas": 3, "readyReplicas": 1 },
        });
        let t = table("apps", "statefulsets", &[sts]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Ready", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["db", "1/3", "3h30m", "postgres", "postgres:16"])
        );
    }

    #[test]
    fn daemon_sets() {
        let ds = json!({
            "metadata": { "name": "fluentd", "creationTimestamp": ago(86400 * 9) },
            "spec": { "selector": { "matchLabels": { "name": "fluentd" } },
                      "template": { "spec": { "nodeSelector": { "kubernetes.io/os": "linux" },
                                              "containers": [{ "name": "fluentd", "image": "fluentd:v1.16" }] } } },
            "status": { "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                        "updatedNumberScheduled": 3, "numberAvailable": 2 },
        });
        let t = table("apps", "daemonsets", &[ds]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Desired", 0),
                ("Current", 0),
                ("Ready", 0),
                ("Up-to-date", 0),
                ("Available", 0),
                ("Node Selector", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "fluentd",
                3,
                3,
                2,
                3,
                2,
                "kubernetes.io/os=linux",
                "9d",
                "fluentd",
                "fluentd:v1.16",
                "name=fluentd"
            ])
        );
        let c = cells("apps", "daemonsets", json!({ "metadata": { "name": "x" } }));
        assert_eq!(c[6], "<none>");
    }

    #[test]
    fn controller_revisions() {
        let cr = json!({
            "metadata": { "name": "fluentd-6b9c", "creationTimestamp": ago(60),
                          "ownerReferences": [
                              { "apiVersion": "v1", "kind": "Pod", "name": "other" },
                              { "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluentd", "controller": true },
                          ] },
            "data": {}, "revision": 2,
        });
        let t = table("apps", "controllerrevisions", &[cr]);
        check_shape(
            &t,
            &[("Name", 0), ("Controller", 0), ("Revision", 0), ("Age", 0)],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["fluentd-6b9c", "daemonset.apps/fluentd", 2, "60s"])
        );
        let core_owner = json!({ "metadata": { "name": "x", "ownerReferences": [
            { "apiVersion": "v1", "kind": "ReplicationController", "name": "rc", "controller": true }] }, "revision": 1 });
        assert_eq!(
            cells("apps", "controllerrevisions", core_owner)[1],
            "replicationcontroller/rc"
        );
        let orphan = json!({ "metadata": { "name": "x" }, "revision": 1 });
        assert_eq!(cells("apps", "controllerrevisions", orphan)[1], "<none>");
    }
}
