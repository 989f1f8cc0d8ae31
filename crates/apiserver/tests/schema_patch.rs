//! Strategic merge patches as kubectl apply / kubectl edit / the Python client send them,
//! applied to realistic objects, plus the validated path (`apply_validated`).

use serde_json::{json, Value};
use skiff_apiserver::patch::{self, FieldValidation, PatchError, PatchType};

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const SERVICE: &str = "io.k8s.api.core.v1.Service";
const POD: &str = "io.k8s.api.core.v1.Pod";

fn smp(schema: &str, original: &Value, patch: Value) -> Result<Value, PatchError> {
    patch::apply(
        PatchType::StrategicMerge,
        schema,
        original,
        &serde_json::to_vec(&patch).unwrap(),
    )
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7",
            "labels": { "app": "web" },
            "finalizers": ["a.example.com/x", "b.example.com/y"],
            "annotations": { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
        },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "web" } },
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": {
                    "containers": [
                        {
                            "name": "nginx", "image": "nginx:1.27",
                            "ports": [{ "containerPort": 80, "protocol": "TCP" }],
                            "env": [{ "name": "A", "value": "1" }, { "name": "B", "value": "2" }],
                            "volumeMounts": [{ "name": "data", "mountPath": "/data" }],
                        },
                        { "name": "sidecar", "image": "busybox", "args": ["sleep", "3600"] },
                    ],
                    "volumes": [{ "name": "data", "hostPath": { "path": "/srv" } }],
                    "tolerations": [{ "key": "a", "operator": "Exists" }],
                    "nodeSelector": { "disk": "ssd", "zone": "a" },
                },
            },
        },
    })
}

fn containers(v: &Value) -> &Vec<Value> {
    v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
}

#[test]
fn scalar_and_map_changes() {
    let out = smp(
        DEPLOYMENT,
        &deployment(),
        json!({ "spec": { "replicas": 5 }, "metadata": { "labels": { "tier": "fe", "app": null } } }),
    )
    .unwrap();
    assert_eq!(out["spec"]["replicas"], 5);
    assert_eq!(out["metadata"]["labels"], json!({ "tier": "fe" }));
    assert_eq!(out["metadata"]["name"], "web");
}

#[test]
fn containers_merge_by_name() {
    // kubectl set image / edit: one container's image, the other untouched.
    let out = smp(
        DEPLOYMENT,
        &deployment(),
        json!({ "spec": { "template": { "spec": { "containers": [{ "name": "nginx", "image": "nginx:1.28" }] } } } }),
    )
    .unwrap();
    let c = containers(&out);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0]["image"], "nginx:1.28");
    assert_eq!(
        c[0]["env"].as_array().unwrap().len(),
        2,
        "nested lists kept"
    );
    assert_eq!(c[1]["name"], "sidecar");
    // A new container without $setElementOrder goes first: upstream orders patch items
    // that the live list lacks before the server-only ones.
    let out = smp(
        DEPLOYMENT,
        &deployment(),
        json!({ "spec": { "template": { "spec": { "containers": [{ "name": "log", "image": "fluentd", "args": null }] } } } }),
    )
    .unwrap();
    let c = containers(&out);
    let names: Vec<_> = c.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["log", "nginx", "sidecar"]);
    // The raw merge keeps nulls of appended items (upstream's typed decoding drops them,
    // as apply_validated does).
    assert!(c[0]["args"].is_null());
    let body = serde_json::to_vec(&json!({ "spec": { "template": { "spec": { "containers": [{ "name": "log", "image": "fluentd", "args": null }] } } } })).unwrap();
    let checked = patch::apply_validated(
        PatchType::StrategicMerge,
        DEPLOYMENT,
        &deployment(),
        &body,
        FieldValidation::Strict,
    )
    .unwrap();
    assert!(containers(&checked.value)[0].get("args").is_none());
}

#[test]
fn kubectl_apply_three_way_patch() {
    // What kubectl apply sends after the manifest changed the image, dropped env B and
    // reordered nothing: $setElementOrder for every merged list it touches.
    let p = json!({
        "metadata": { "annotations": { "kubectl.kubernetes.io/last-applied-configuration": "{\"new\":1}" } },
        "spec": { "template": { "spec": {
            "$setElementOrder/containers": [{ "name": "nginx" }, { "name": "sidecar" }],
            "containers": [{
                "$setElementOrder/env": [{ "name": "A" }],
                "env": [{ "$patch": "delete", "name": "B" }],
                "image": "nginx:1.28",
                "name": "nginx",
            }],
        } } },
    });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    let c = containers(&out);
    assert_eq!(c[0]["image"], "nginx:1.28");
    assert_eq!(c[0]["env"], json!([{ "name": "A", "value": "1" }]));
    assert_eq!(c[1]["name"], "sidecar");
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"new\":1}"
    );
}

#[test]
fn set_element_order_reorders_and_inserts() {
    // The manifest put a new container first.
    let p = json!({ "spec": { "template": { "spec": {
        "$setElementOrder/containers": [{ "name": "init" }, { "name": "nginx" }, { "name": "sidecar" }],
        "containers": [{ "name": "init", "image": "alpine" }],
    } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    let names: Vec<_> = containers(&out)
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["init", "nginx", "sidecar"]);
    // $setElementOrder alone reorders the live items.
    let p = json!({ "spec": { "template": { "spec": {
        "$setElementOrder/containers": [{ "name": "sidecar" }, { "name": "nginx" }],
    } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    let names: Vec<_> = containers(&out)
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sidecar", "nginx"]);
    // Items missing from the order list keep their live place around the ordered ones.
    let p = json!({ "spec": { "template": { "spec": {
        "$setElementOrder/containers": [{ "name": "sidecar" }],
        "containers": [{ "name": "sidecar", "image": "busybox:2" }],
    } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    let names: Vec<_> = containers(&out)
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nginx", "sidecar"]);
}

#[test]
fn retain_keys_switch_strategy() {
    // kubectl apply switching RollingUpdate -> Recreate.
    let p = json!({ "spec": { "strategy": { "$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate" } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(out["spec"]["strategy"], json!({ "type": "Recreate" }));
    // Volume source switch: hostPath -> emptyDir, with $retainKeys on the list item.
    let p = json!({ "spec": { "template": { "spec": {
        "$setElementOrder/volumes": [{ "name": "data" }],
        "volumes": [{ "$retainKeys": ["emptyDir", "name"], "emptyDir": {}, "name": "data" }],
    } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"],
        json!([{ "name": "data", "emptyDir": {} }])
    );
    // A patch field missing from $retainKeys is a bad request.
    let p = json!({ "spec": { "strategy": { "$retainKeys": ["type"], "rollingUpdate": { "maxSurge": 1 } } } });
    let err = smp(DEPLOYMENT, &deployment(), p).unwrap_err();
    assert_eq!(
        err,
        PatchError::BadRequest("invalid patch format of retainKeys".into())
    );
    let p = json!({ "spec": { "strategy": { "$retainKeys": "type" } } });
    assert_eq!(smp(DEPLOYMENT, &deployment(), p).unwrap_err().code(), 400);
}

#[test]
fn primitive_lists() {
    // finalizers have strategy merge: union, then $deleteFromPrimitiveList.
    let p = json!({ "metadata": { "finalizers": ["c.example.com/z", "a.example.com/x"] } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    // Upstream's order: patch items in patch order, server-only items placed by live order.
    assert_eq!(
        out["metadata"]["finalizers"],
        json!(["c.example.com/z", "a.example.com/x", "b.example.com/y"])
    );
    let p = json!({ "metadata": {
        "$setElementOrder/finalizers": ["a.example.com/x", "b.example.com/y", "c.example.com/z"],
        "finalizers": ["c.example.com/z"],
    } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(
        out["metadata"]["finalizers"],
        json!(["a.example.com/x", "b.example.com/y", "c.example.com/z"])
    );
    let p = json!({ "metadata": { "$deleteFromPrimitiveList/finalizers": ["a.example.com/x"] } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["b.example.com/y"]));
    let p = json!({ "metadata": {
        "$setElementOrder/finalizers": ["b.example.com/y", "a.example.com/x"],
    } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(
        out["metadata"]["finalizers"],
        json!(["b.example.com/y", "a.example.com/x"])
    );
    // args has no strategy: replaced.
    let p = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "sidecar", "args": ["sleep", "10"] }] } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(containers(&out)[1]["args"], json!(["sleep", "10"]));
    let bad = json!({ "metadata": { "$deleteFromPrimitiveList": ["x"] } });
    assert_eq!(
        smp(DEPLOYMENT, &deployment(), bad).unwrap_err(),
        PatchError::BadRequest("invalid patch format of primitive list".into())
    );
}

#[test]
fn lists_without_strategy_are_replaced() {
    let p = json!({ "spec": { "template": { "spec": { "tolerations": [{ "key": "b", "operator": "Exists" }] } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["tolerations"],
        json!([{ "key": "b", "operator": "Exists" }])
    );
}

#[test]
fn patch_directives() {
    // $patch: replace on a map replaces it whole (nodeSelector).
    let p = json!({ "spec": { "template": { "spec": { "nodeSelector": { "$patch": "replace", "zone": "b" } } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["nodeSelector"],
        json!({ "zone": "b" })
    );
    // $patch: delete on a map empties it.
    let p =
        json!({ "spec": { "template": { "spec": { "nodeSelector": { "$patch": "delete" } } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(out["spec"]["template"]["spec"]["nodeSelector"], json!({}));
    // $patch: replace inside a merging list replaces the list.
    let p = json!({ "spec": { "template": { "spec": { "containers": [
        { "name": "only", "image": "x" }, { "$patch": "replace" },
    ] } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(
        containers(&out),
        &vec![json!({ "name": "only", "image": "x" })]
    );
    // $patch: delete of a list item by merge key.
    let p = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "sidecar", "$patch": "delete" }] } } } });
    let out = smp(DEPLOYMENT, &deployment(), p).unwrap();
    assert_eq!(containers(&out).len(), 1);
    // Unknown directive values are raw (500) errors.
    let p =
        json!({ "spec": { "template": { "spec": { "nodeSelector": { "$patch": "explode" } } } } });
    let err = smp(DEPLOYMENT, &deployment(), p).unwrap_err();
    assert_eq!(err.code(), 500);
    assert!(
        err.message()
            .starts_with("unknown patch type: explode in map: map["),
        "{}",
        err.message()
    );
    let p = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "x", "$patch": "merge" }] } } } });
    assert_eq!(
        smp(DEPLOYMENT, &deployment(), p).unwrap_err().message(),
        "merging lists cannot yet be specified in the patch"
    );
}

#[test]
fn missing_merge_key_and_unknown_fields() {
    let p = json!({ "spec": { "template": { "spec": { "containers": [{ "image": "x" }] } } } });
    let err = smp(DEPLOYMENT, &deployment(), p).unwrap_err();
    assert_eq!(err.code(), 500);
    assert_eq!(
        err.message(),
        "map: map[image:x] does not contain declared merge key: name"
    );
    // An unknown field that exists on both sides as an object cannot be looked up.
    let mut original = deployment();
    original["spec"]["bogus"] = json!({ "a": 1 });
    let err = smp(
        DEPLOYMENT,
        &original,
        json!({ "spec": { "bogus": { "b": 2 } } }),
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "unable to find api field in struct DeploymentSpec for the json field \"bogus\""
    );
    // An unknown field only in the patch is simply added (decoding reports it).
    let out = smp(
        DEPLOYMENT,
        &deployment(),
        json!({ "spec": { "bogus": { "b": 2 } } }),
    )
    .unwrap();
    assert_eq!(out["spec"]["bogus"], json!({ "b": 2 }));
}

#[test]
fn service_ports_merge_by_port() {
    let svc = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": { "name": "web" },
        "spec": { "selector": { "app": "web" }, "ports": [
            { "name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP" },
            { "name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP" },
        ] },
    });
    let p = json!({ "spec": {
        "$setElementOrder/ports": [{ "port": 80 }, { "port": 443 }, { "port": 9090 }],
        "ports": [{ "port": 443, "targetPort": "https" }, { "port": 9090, "name": "metrics" }],
    } });
    let out = smp(SERVICE, &svc, p).unwrap();
    assert_eq!(
        out["spec"]["ports"],
        json!([
            { "name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP" },
            { "name": "https", "port": 443, "targetPort": "https", "protocol": "TCP" },
            { "name": "metrics", "port": 9090 },
        ])
    );
}

#[test]
fn owner_references_merge_by_uid() {
    let pod = json!({ "metadata": { "name": "p", "ownerReferences": [
        { "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1", "controller": true },
    ] }, "spec": { "containers": [{ "name": "c", "image": "i" }] } });
    let p = json!({ "metadata": { "ownerReferences": [
        { "apiVersion": "v1", "kind": "Node", "name": "n", "uid": "2" },
    ] } });
    let out = smp(POD, &pod, p).unwrap();
    assert_eq!(
        out["metadata"]["ownerReferences"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn python_client_scale_patch() {
    let scale = json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": { "name": "web", "namespace": "default" },
        "spec": { "replicas": 2 }, "status": { "replicas": 2, "selector": "app=web" },
    });
    let out = smp(
        "io.k8s.api.autoscaling.v1.Scale",
        &scale,
        json!({ "spec": { "replicas": 5 } }),
    )
    .unwrap();
    assert_eq!(out["spec"]["replicas"], 5);
    assert_eq!(out["status"]["replicas"], 2);
}

#[test]
fn kinds_without_schema_refuse_strategic_merge() {
    let err = smp("com.example.v1.Widget", &json!({}), json!({ "a": 1 })).unwrap_err();
    assert_eq!(err.code(), 415);
    let ok = patch::apply(
        PatchType::Merge,
        "com.example.v1.Widget",
        &json!({ "a": 1 }),
        b"{\"b\":2}",
    )
    .unwrap();
    assert_eq!(ok, json!({ "a": 1, "b": 2 }));
}

#[test]
fn malformed_strategic_patches_are_400() {
    for (body, want) in [
        (&b"{"[..], "unexpected end of JSON input"),
        (
            b"[1]",
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
        (
            b"{x}",
            "invalid character 'x' looking for beginning of object key string",
        ),
    ] {
        let err =
            patch::apply(PatchType::StrategicMerge, DEPLOYMENT, &deployment(), body).unwrap_err();
        assert_eq!(
            err,
            PatchError::BadRequest(want.into()),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // `null` changes nothing.
    let out = patch::apply(
        PatchType::StrategicMerge,
        DEPLOYMENT,
        &deployment(),
        b"null",
    )
    .unwrap();
    assert_eq!(out, deployment());
}

#[test]
fn lists_of_lists_are_422() {
    let mut original = deployment();
    original["metadata"]["finalizers"] = json!([["x"]]);
    let err = smp(
        DEPLOYMENT,
        &original,
        json!({ "metadata": { "finalizers": [["y"]] } }),
    )
    .unwrap_err();
    assert_eq!(err.code(), 422);
    assert_eq!(err.detail(), "lists of lists are not supported");
}

#[test]
fn validated_patches() {
    let body = serde_json::to_vec(&json!({ "spec": { "replicas": "three" } })).unwrap();
    let err = patch::apply_validated(
        PatchType::StrategicMerge,
        DEPLOYMENT,
        &deployment(),
        &body,
        FieldValidation::Ignore,
    )
    .unwrap_err();
    assert_eq!(err.code(), 422);
    assert_eq!(
        err.message(),
        " \"\" is invalid: patch: Invalid value: \"map[spec:map[replicas:three]]\": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );

    let body = br#"{"spec":{"replicas":3,"replicas":4,"bogus":1}}"#;
    let err = patch::apply_validated(
        PatchType::Merge,
        DEPLOYMENT,
        &deployment(),
        body,
        FieldValidation::Strict,
    )
    .unwrap_err();
    assert_eq!(err.code(), 422);
    assert!(
        err.message().ends_with(": strict decoding error: duplicate field \"spec.replicas\", unknown field \"spec.bogus\""),
        "{}",
        err.message()
    );
    let warned = patch::apply_validated(
        PatchType::Merge,
        DEPLOYMENT,
        &deployment(),
        body,
        FieldValidation::Warn,
    )
    .unwrap();
    assert_eq!(
        warned.warnings,
        [
            "duplicate field \"spec.replicas\"",
            "unknown field \"spec.bogus\""
        ]
    );
    assert_eq!(warned.value["spec"]["replicas"], 4);
    assert!(
        warned.value["spec"].get("bogus").is_none(),
        "unknown fields are dropped"
    );
    let ignored = patch::apply_validated(
        PatchType::Merge,
        DEPLOYMENT,
        &deployment(),
        body,
        FieldValidation::Ignore,
    )
    .unwrap();
    assert!(ignored.warnings.is_empty());

    let err = patch::apply_validated(
        PatchType::Merge,
        DEPLOYMENT,
        &deployment(),
        b"{bad",
        FieldValidation::Strict,
    )
    .unwrap_err();
    assert_eq!(
        err,
        PatchError::BadRequest("error decoding patch: invalid character 'b' looking for beginning of object key string".into())
    );
    let err = patch::apply_validated(
        PatchType::Merge,
        DEPLOYMENT,
        &deployment(),
        b"{bad",
        FieldValidation::Ignore,
    )
    .unwrap_err();
    assert_eq!(err, PatchError::BadRequest("Invalid JSON Patch".into()));

    let ops = br#"[{"op":"replace","path":"/spec/replicas","value":9,"extra":1}]"#;
    let warned = patch::apply_validated(
        PatchType::Json,
        DEPLOYMENT,
        &deployment(),
        ops,
        FieldValidation::Warn,
    )
    .unwrap();
    assert_eq!(warned.value["spec"]["replicas"], 9);
    assert_eq!(warned.warnings, ["json patch unknown field \"[0].extra\""]);
    let err = patch::apply_validated(
        PatchType::Json,
        DEPLOYMENT,
        &deployment(),
        br#"[{"op":1}]"#,
        FieldValidation::Strict,
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string"
    );
    // A merge patch turning the object into a list fails decoding (422).
    let err = patch::apply_validated(
        PatchType::Merge,
        DEPLOYMENT,
        &deployment(),
        b"[1]",
        FieldValidation::Ignore,
    )
    .unwrap_err();
    assert_eq!(err.code(), 422);
    assert!(err
        .message()
        .ends_with("json: cannot unmarshal array into Go value of type v1.Deployment"));
}

#[test]
fn kubectl_edit_two_way_patch_on_pod() {
    // kubectl edit of a pod: changed image, added label, removed an annotation.
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "p", "labels": { "run": "p" }, "annotations": { "a": "1", "b": "2" } },
        "spec": { "containers": [{ "name": "c", "image": "nginx", "ports": [
            { "containerPort": 80, "protocol": "TCP" }, { "containerPort": 443, "protocol": "TCP" },
        ] }] },
    });
    let p = json!({
        "metadata": { "annotations": { "b": null }, "labels": { "x": "y" } },
        "spec": {
            "$setElementOrder/containers": [{ "name": "c" }],
            "containers": [{
                "$setElementOrder/ports": [{ "containerPort": 443 }, { "containerPort": 80 }],
                "image": "nginx:2", "name": "c",
            }],
        },
    });
    let out = smp(POD, &pod, p).unwrap();
    assert_eq!(out["metadata"]["annotations"], json!({ "a": "1" }));
    assert_eq!(out["metadata"]["labels"], json!({ "run": "p", "x": "y" }));
    let c = &out["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx:2");
    assert_eq!(c["ports"][0]["containerPort"], 443);
    assert_eq!(c["ports"][1]["containerPort"], 80);
}
