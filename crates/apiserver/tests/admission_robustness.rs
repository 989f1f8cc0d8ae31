//! Admission never panics, whatever a client sends, for every served resource; defaulting
//! is idempotent.

use serde_json::{json, Value};
use skiff_apiserver::admission;

fn garbage() -> Vec<Value> {
    let mut out = vec![
        json!(null),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!({"metadata": null, "spec": null, "status": null}),
        json!({"metadata": [], "spec": [], "status": 3}),
        json!({"metadata": {"name": 3, "labels": [1], "annotations": "x", "finalizers": {}, "ownerReferences": [1, {"controller": "yes"}]}}),
    ];
    let nested = json!({
        "metadata": {"name": "x", "generateName": "y-", "labels": {"a": 1}},
        "spec": {
            "replicas": "many", "selector": "app=web", "template": 7,
            "containers": [null, 1, {"ports": [null, {"containerPort": "80"}], "resources": {"limits": {"cpu": {}}, "requests": "x"},
                "livenessProbe": {"httpGet": {"port": []}}, "env": [{"valueFrom": {"fieldRef": 1}}], "volumeMounts": [2]}],
            "volumes": [{"name": 1}, null], "tolerations": [1, {"tolerationSeconds": "x"}],
            "ports": [{"port": "http", "targetPort": null}, 5], "clusterIPs": "None", "type": 5,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": "x"}, "updateStrategy": [],
            "jobTemplate": {"spec": {"template": {"spec": {"containers": "x"}}}}, "schedule": 5,
            "rules": [{"http": {"paths": [{"backend": 3}]}}], "accessModes": "x", "resources": {"requests": {"storage": []}},
            "finalizers": [1], "taints": [{}], "podCIDRs": [1], "metrics": [1], "behavior": {"scaleUp": 1}
        },
        "data": {"k": 1}, "binaryData": {"k": "@@"}, "stringData": {"a": 1}, "rules": [1, {"verbs": "x"}],
        "roleRef": 5, "subjects": [1], "endpoints": [1, {"addresses": [1]}], "ports": [1], "addressType": 1,
        "value": "high", "provisioner": 3, "subsets": [{"addresses": [{"ip": 5}], "ports": [1]}]
    });
    out.push(nested);
    out
}

#[test]
fn no_panics_for_any_resource() {
    for r in skiff_api::resources::all() {
        for obj in garbage() {
            let mut o = obj.clone();
            admission::default(r, &mut o);
            admission::prepare_for_create(r, &mut o);
            let _ = admission::validate_create(r, &o);
            let _ = admission::check_decodable(r, &o);
            for sub in [None, Some("status"), Some("finalize"), Some("scale")] {
                let mut n = obj.clone();
                admission::default(r, &mut n);
                admission::prepare_for_update(r, &o, &mut n, sub);
                let _ = admission::validate_update_subresource(r, &o, &n, sub);
                let mut n2 = json!({"metadata": {"name": "x"}});
                admission::prepare_for_update(r, &obj, &mut n2, sub);
                let _ = admission::validate_update(r, &obj, &n2);
            }
        }
    }
}

#[test]
fn defaulting_is_idempotent() {
    let samples = [
        (
            "",
            "v1",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "0.25"}}, "readinessProbe": {"tcpSocket": {"port": 80}}}], "volumes": [{"name": "v"}]}}),
        ),
        (
            "",
            "v1",
            "services",
            json!({"metadata": {"name": "s"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 443, "targetPort": "https"}]}}),
        ),
        (
            "apps",
            "v1",
            "deployments",
            json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
        ),
        (
            "apps",
            "v1",
            "statefulsets",
            json!({"metadata": {"name": "s"}, "spec": {"volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "1e9"}}}}]}}),
        ),
        (
            "batch",
            "v1",
            "cronjobs",
            json!({"metadata": {"name": "c"}, "spec": {"schedule": "@daily"}}),
        ),
        (
            "",
            "v1",
            "secrets",
            json!({"metadata": {"name": "s"}, "stringData": {"a": "b"}}),
        ),
        (
            "",
            "v1",
            "limitranges",
            json!({"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}),
        ),
        (
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            json!({"metadata": {"name": "h"}, "spec": {"behavior": {"scaleDown": {}}}}),
        ),
    ];
    for (g, ver, plural, obj) in samples {
        let r = skiff_api::resources::by_group_version_resource(g, ver, plural).expect("served");
        let mut once = obj.clone();
        admission::default(r, &mut once);
        let mut twice = once.clone();
        admission::default(r, &mut twice);
        assert_eq!(once, twice, "{plural}");
    }
}
