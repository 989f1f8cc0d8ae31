//! Server-side apply and managedFields through whole client flows, as kubectl and controllers
//! drive them against upstream: create via apply, re-apply with fields dropped, `kubectl
//! create` then `kubectl apply --server-side`, several appliers, force, keyed lists, objects
//! that predate managedFields, and the client-side apply bridge.

use serde_json::{json, Value};
use skiff_apiserver::apply::{
    apply, parse_apply_body, update_managed_fields, ApplyError, BuiltinListKeys, FieldManager,
    Operation,
};

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const T0: &str = "2025-01-01T00:00:00Z";
const T1: &str = "2025-01-01T00:01:00Z";
const T2: &str = "2025-01-01T00:02:00Z";

fn keys() -> &'static BuiltinListKeys {
    &BuiltinListKeys
}

fn yaml(text: &str) -> Value {
    parse_apply_body(text.as_bytes()).expect("valid apply body")
}

fn nginx(replicas: i64, image: &str) -> Value {
    yaml(&format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: default
  labels:
    app: nginx
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"
    ))
}

/// What the store adds on create.
fn stored(mut obj: Value) -> Value {
    let meta = obj["metadata"].as_object_mut().unwrap();
    meta.insert("uid".into(), json!("5f1f7e59-0000-4000-8000-000000000001"));
    meta.insert("resourceVersion".into(), json!("1"));
    meta.insert("creationTimestamp".into(), json!(T0));
    meta.insert("generation".into(), json!(1));
    obj
}

fn managed_fields(obj: &Value) -> &Vec<Value> {
    obj["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
}

fn entry<'a>(obj: &'a Value, manager: &str) -> Option<&'a Value> {
    managed_fields(obj).iter().find(|e| e["manager"] == manager)
}

fn conflicts(e: ApplyError) -> (String, Vec<(String, String)>) {
    let msg = e.to_message();
    match e {
        ApplyError::Conflict(c) => (
            msg,
            c.into_iter().map(|c| (c.manager, c.field_path)).collect(),
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn create_via_apply_records_the_applier() {
    let config = nginx(2, "nginx:1.27");
    let obj = apply(None, &config, "kubectl", false, T0, keys(), DEPLOYMENT).unwrap();
    let mut without = obj.clone();
    without["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    assert_eq!(without, config);
    assert_eq!(
        managed_fields(&obj),
        &vec![json!({
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                            ".": {}, "f:image": {}, "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}}}
                        }}}
                    }
                }
            }
        })]
    );
}

#[test]
fn reapply_without_a_field_removes_it() {
    let obj = stored(
        apply(
            None,
            &nginx(2, "nginx:1.27"),
            "kubectl",
            false,
            T0,
            keys(),
            DEPLOYMENT,
        )
        .unwrap(),
    );
    // Drop the label from the template and the replicas.
    let mut config = nginx(2, "nginx:1.27");
    config["spec"].as_object_mut().unwrap().remove("replicas");
    config["metadata"].as_object_mut().unwrap().remove("labels");
    let next = apply(
        Some(&obj),
        &config,
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert!(next["spec"].get("replicas").is_none());
    assert!(next["metadata"].get("labels").is_none());
    assert_eq!(next["metadata"]["uid"], obj["metadata"]["uid"]);
    assert_eq!(next["spec"]["template"], obj["spec"]["template"]);
    let fields = &entry(&next, "kubectl").unwrap()["fieldsV1"];
    assert!(fields["f:spec"].get("f:replicas").is_none());
    assert!(fields.get("f:metadata").is_none());
    assert_eq!(entry(&next, "kubectl").unwrap()["time"], T1);

    // A removed container goes; its sibling stays.
    let mut two = config.clone();
    two["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "busybox"}));
    let with_two = apply(Some(&next), &two, "kubectl", false, T1, keys(), DEPLOYMENT).unwrap();
    assert_eq!(
        with_two["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mut only_sidecar = two.clone();
    only_sidecar["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    let after = apply(
        Some(&with_two),
        &only_sidecar,
        "kubectl",
        false,
        T2,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"],
        json!([{"name": "sidecar", "image": "busybox"}])
    );
}

#[test]
fn reapplying_the_same_configuration_changes_nothing() {
    let config = nginx(2, "nginx:1.27");
    let obj = stored(apply(None, &config, "kubectl", false, T0, keys(), DEPLOYMENT).unwrap());
    let again = apply(
        Some(&obj),
        &config,
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert_eq!(again, obj);
}

/// `kubectl create -f` (manager kubectl-create, operation Update), with the server's
/// defaults filled in before managedFields are recorded.
fn kubectl_create() -> Value {
    let mut obj = nginx(1, "nginx:1.27");
    obj["spec"]["progressDeadlineSeconds"] = json!(600);
    obj["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    obj["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({});
    obj["status"] = json!({});
    update_managed_fields(
        None,
        &mut obj,
        "kubectl-create",
        Operation::Update,
        None,
        T0,
        keys(),
    );
    stored(obj)
}

#[test]
fn kubectl_create_records_an_update_entry_like_upstream() {
    let obj = kubectl_create();
    assert_eq!(
        managed_fields(&obj),
        &vec![json!({
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:progressDeadlineSeconds": {},
                    "f:replicas": {},
                    "f:selector": {},
                    "f:strategy": {
                        "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                        "f:type": {}
                    },
                    "f:template": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {
                            "f:containers": {"k:{\"name\":\"nginx\"}": {
                                ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                                "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                    ".": {}, "f:containerPort": {}, "f:protocol": {}}},
                                "f:resources": {}
                            }},
                            "f:restartPolicy": {}
                        }
                    }
                }
            }
        })]
    );
}

#[test]
fn apply_after_kubectl_create_conflicts_on_changed_fields_only() {
    let created = kubectl_create();

    // Same values: no conflict, shared ownership.
    let same = apply(
        Some(&created),
        &nginx(1, "nginx:1.27"),
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert!(
        entry(&same, "kubectl-create").unwrap()["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_some()
    );
    assert!(entry(&same, "kubectl").unwrap()["fieldsV1"]["f:spec"]
        .get("f:replicas")
        .is_some());
    assert_eq!(same["spec"], created["spec"]);

    // A changed replicas: 409 with upstream's message.
    let err = apply(
        Some(&created),
        &nginx(3, "nginx:1.27"),
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(err.code(), 409);
    let (msg, list) = conflicts(err.clone());
    assert_eq!(
        msg,
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas"
    );
    assert_eq!(
        list,
        vec![("kubectl-create".to_string(), ".spec.replicas".to_string())]
    );
    assert_eq!(
        err.to_status()["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-create\" using apps/v1", "field": ".spec.replicas"}])
    );

    // Two changed fields: the multi-conflict form.
    let (msg, _) = conflicts(
        apply(
            Some(&created),
            &nginx(3, "nginx:1.28"),
            "kubectl",
            false,
            T1,
            keys(),
            DEPLOYMENT,
        )
        .unwrap_err(),
    );
    assert_eq!(
        msg,
        "Apply failed with 2 conflicts: conflicts with \"kubectl-create\" using apps/v1:\n\
         - .spec.replicas\n\
         - .spec.template.spec.containers[name=\"nginx\"].image"
    );

    // Forced: the applier takes the fields over.
    let forced = apply(
        Some(&created),
        &nginx(3, "nginx:1.28"),
        "kubectl",
        true,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert_eq!(
        forced["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    assert_eq!(
        forced["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    let create_fields = &entry(&forced, "kubectl-create").unwrap()["fieldsV1"];
    assert!(create_fields["f:spec"].get("f:replicas").is_none());
    assert!(
        create_fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]
            .get("f:image")
            .is_none()
    );
    assert_eq!(entry(&forced, "kubectl-create").unwrap()["time"], T0);
    // Apply entries sort before Update entries.
    assert_eq!(managed_fields(&forced)[0]["manager"], "kubectl");

    // Now the applier owns replicas; dropping it from the configuration removes it.
    let mut no_replicas = nginx(3, "nginx:1.28");
    no_replicas["spec"]
        .as_object_mut()
        .unwrap()
        .remove("replicas");
    let dropped = apply(
        Some(&forced),
        &no_replicas,
        "kubectl",
        false,
        T2,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert!(dropped["spec"].get("replicas").is_none());
    // The image is still owned by the applier (and progressDeadlineSeconds by kubectl-create).
    assert_eq!(dropped["spec"]["progressDeadlineSeconds"], 600);
}

#[test]
fn an_update_takes_fields_from_an_applier_and_the_next_apply_conflicts() {
    let obj = stored(
        apply(
            None,
            &nginx(2, "nginx:1.27"),
            "kubectl",
            false,
            T0,
            keys(),
            DEPLOYMENT,
        )
        .unwrap(),
    );
    // `kubectl scale --replicas=5` as an update of the main resource.
    let mut scaled = obj.clone();
    scaled["spec"]["replicas"] = json!(5);
    update_managed_fields(
        Some(&obj),
        &mut scaled,
        "kubectl-scale",
        Operation::Update,
        None,
        T1,
        keys(),
    );
    assert_eq!(
        entry(&scaled, "kubectl-scale").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(entry(&scaled, "kubectl").unwrap()["fieldsV1"]["f:spec"]
        .get("f:replicas")
        .is_none());

    let (msg, _) = conflicts(
        apply(
            Some(&scaled),
            &nginx(2, "nginx:1.27"),
            "kubectl",
            false,
            T2,
            keys(),
            DEPLOYMENT,
        )
        .unwrap_err(),
    );
    assert_eq!(
        msg,
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn two_appliers_own_different_fields() {
    let base = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n";
    let cm = "io.k8s.api.core.v1.ConfigMap";
    let a1 = yaml(&format!("{base}data:\n  a: \"1\"\n  shared: x\n"));
    let b1 = yaml(&format!("{base}data:\n  b: \"2\"\n  shared: x\n"));
    let o = stored(apply(None, &a1, "team-a", false, T0, keys(), cm).unwrap());
    let o = apply(Some(&o), &b1, "team-b", false, T1, keys(), cm).unwrap();
    assert_eq!(o["data"], json!({"a": "1", "b": "2", "shared": "x"}));
    assert_eq!(managed_fields(&o).len(), 2);

    // B changing A's field conflicts; an Apply manager is named without a version.
    let b2 = yaml(&format!("{base}data:\n  a: \"9\"\n  b: \"2\"\n"));
    let (msg, _) = conflicts(apply(Some(&o), &b2, "team-b", false, T2, keys(), cm).unwrap_err());
    assert_eq!(
        msg,
        "Apply failed with 1 conflict: conflict with \"team-a\": .data.a"
    );

    // A stops applying `a` and `shared`: `a` goes, `shared` stays (B still applies it).
    let a2 = yaml(base);
    let o2 = apply(Some(&o), &a2, "team-a", false, T2, keys(), cm).unwrap();
    assert_eq!(o2["data"], json!({"b": "2", "shared": "x"}));
    assert!(
        entry(&o2, "team-a").is_none(),
        "an applier owning nothing disappears"
    );
}

#[test]
fn keyed_list_items_belong_to_different_managers() {
    let pod = "io.k8s.api.core.v1.Pod";
    let app = yaml(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app:1\n",
    );
    let sidecar = yaml(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: sidecar\n    image: envoy:1\n",
    );
    let o = stored(apply(None, &app, "app-team", false, T0, keys(), pod).unwrap());
    let o = apply(Some(&o), &sidecar, "mesh", false, T1, keys(), pod).unwrap();
    assert_eq!(
        o["spec"]["containers"],
        json!([{"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "envoy:1"}])
    );
    assert_eq!(
        entry(&o, "mesh").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
    );

    // The app team touching the sidecar's image conflicts, on the item's path.
    let mut grab = app.clone();
    grab["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "envoy:2"}));
    let (msg, list) =
        conflicts(apply(Some(&o), &grab, "app-team", false, T2, keys(), pod).unwrap_err());
    assert_eq!(
        msg,
        "Apply failed with 1 conflict: conflict with \"mesh\": .spec.containers[name=\"sidecar\"].image"
    );
    assert_eq!(list[0].0, "mesh");

    // The mesh leaving removes only its container.
    let mesh_gone = yaml("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n");
    let o2 = apply(Some(&o), &mesh_gone, "mesh", false, T2, keys(), pod).unwrap();
    assert_eq!(
        o2["spec"]["containers"],
        json!([{"name": "app", "image": "app:1"}])
    );
}

#[test]
fn objects_without_managed_fields() {
    // Stored before managedFields existed.
    let legacy = stored(nginx(1, "nginx:1.27"));
    // An update does not start tracking...
    let mut edited = legacy.clone();
    edited["spec"]["replicas"] = json!(2);
    update_managed_fields(
        Some(&legacy),
        &mut edited,
        "kubectl-edit",
        Operation::Update,
        None,
        T1,
        keys(),
    );
    assert!(edited["metadata"].get("managedFields").is_none());
    // ...an apply attributes the existing fields to before-first-apply first.
    let err = apply(
        Some(&edited),
        &nginx(3, "nginx:1.27"),
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(
        err.to_message(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas"
    );
    let ok = apply(
        Some(&edited),
        &nginx(2, "nginx:1.27"),
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    let names: Vec<&str> = managed_fields(&ok)
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["kubectl", "before-first-apply"]);
    assert_eq!(ok["spec"], edited["spec"]);
}

#[test]
fn updates_record_changes_and_clients_can_reset_managed_fields() {
    let created = kubectl_create();
    // `kubectl edit` sends the object back with its managedFields.
    let mut edited = created.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    edited["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}]);
    edited["metadata"]["annotations"] = json!({"note": "x"});
    update_managed_fields(
        Some(&created),
        &mut edited,
        "kubectl-edit",
        Operation::Update,
        None,
        T1,
        keys(),
    );
    assert_eq!(
        entry(&edited, "kubectl-edit").unwrap()["fieldsV1"],
        json!({
            "f:metadata": {"f:annotations": {".": {}, "f:note": {}}},
            "f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                "f:env": {".": {}, "k:{\"name\":\"A\"}": {".": {}, "f:name": {}, "f:value": {}}},
                "f:image": {}
            }}}}}
        })
    );
    let create_container = &entry(&edited, "kubectl-create").unwrap()["fieldsV1"]["f:spec"]
        ["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"];
    assert!(create_container.get("f:image").is_none());
    assert!(create_container.get("f:name").is_some());
    // Same manager again: its fields accumulate, its time moves.
    let mut again = edited.clone();
    again["spec"]["paused"] = json!(true);
    update_managed_fields(
        Some(&edited),
        &mut again,
        "kubectl-edit",
        Operation::Update,
        None,
        T2,
        keys(),
    );
    let e = entry(&again, "kubectl-edit").unwrap();
    assert_eq!(e["time"], T2);
    assert!(e["fieldsV1"]["f:spec"].get("f:paused").is_some());
    assert!(e["fieldsV1"]["f:metadata"].get("f:annotations").is_some());
    // A write that changes nothing leaves managedFields as they were.
    let mut nothing = again.clone();
    update_managed_fields(
        Some(&again),
        &mut nothing,
        "other",
        Operation::Update,
        None,
        T2,
        keys(),
    );
    assert_eq!(nothing, again);
    // Sending `managedFields: []` clears them.
    let mut reset = again.clone();
    reset["metadata"]["managedFields"] = json!([]);
    update_managed_fields(
        Some(&again),
        &mut reset,
        "kubectl-edit",
        Operation::Update,
        None,
        T2,
        keys(),
    );
    assert!(reset["metadata"].get("managedFields").is_none());
    // An update without managedFields in the body keeps the stored ones.
    let mut bare = again.clone();
    bare["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    bare["spec"]["minReadySeconds"] = json!(5);
    update_managed_fields(
        Some(&again),
        &mut bare,
        "",
        Operation::Update,
        None,
        T2,
        keys(),
    );
    assert!(entry(&bare, "unknown").is_some());
    assert!(entry(&bare, "kubectl-create").is_some());
}

#[test]
fn status_subresource_writes_are_recorded_with_their_subresource() {
    let created = kubectl_create();
    let mut with_status = created.clone();
    with_status["status"] =
        json!({"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]});
    let fm = FieldManager {
        keys: keys(),
        schema_name: DEPLOYMENT,
        subresource: Some("status"),
        reset_fields: &[&["spec"], &["metadata"]],
    };
    fm.update(
        Some(&created),
        &mut with_status,
        "kube-controller-manager",
        Operation::Update,
        T1,
    );
    let e = entry(&with_status, "kube-controller-manager").unwrap();
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:status": {"f:conditions": {".": {}, "k:{\"type\":\"Available\"}": {
            ".": {}, "f:status": {}, "f:type": {}}}, "f:replicas": {}}})
    );
    // A conflict with a subresource manager names the subresource.
    let mut config = nginx(1, "nginx:1.27");
    config["status"] = json!({"replicas": 7});
    let err = apply(
        Some(&with_status),
        &config,
        "kubectl",
        false,
        T2,
        keys(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(
        err.to_message(),
        "Apply failed with 1 conflict: conflict with \"kube-controller-manager\" with subresource \"status\" using apps/v1: .status.replicas"
    );
    // The main resource resetting status: the apply neither conflicts nor owns status.
    let main = FieldManager {
        keys: keys(),
        schema_name: DEPLOYMENT,
        subresource: None,
        reset_fields: &[&["status"]],
    };
    let ok = main
        .apply(Some(&with_status), &config, "kubectl", false, T2)
        .unwrap();
    assert!(entry(&ok, "kubectl").unwrap()["fieldsV1"]
        .get("f:status")
        .is_none());
}

#[test]
fn client_side_apply_bridge_for_kubectl() {
    // `kubectl apply` (client-side) created the object: manager kubectl-client-side-apply,
    // last-applied annotation.
    let config = nginx(2, "nginx:1.27");
    let mut obj = config.clone();
    obj["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration": format!("{}\n", config)
    });
    update_managed_fields(
        None,
        &mut obj,
        "kubectl-client-side-apply",
        Operation::Update,
        None,
        T0,
        keys(),
    );
    let obj = stored(obj);

    // Server-side apply of a changed configuration: the fields still as last applied do
    // not conflict, so the apply goes through.
    let next = apply(
        Some(&obj),
        &nginx(3, "nginx:1.28"),
        "kubectl",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap();
    assert_eq!(next["spec"]["replicas"], 3);
    let annotation = next["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    let recorded: Value = serde_json::from_str(annotation).unwrap();
    assert_eq!(recorded, nginx(3, "nginx:1.28"));
    assert!(annotation.ends_with('\n'));

    // Another manager name gets no such bridge.
    let err = apply(
        Some(&obj),
        &nginx(3, "nginx:1.27"),
        "my-tool",
        false,
        T1,
        keys(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(
        err.to_message(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );

    // Fields changed since the last client-side apply still conflict.
    let mut scaled = obj.clone();
    scaled["spec"]["replicas"] = json!(5);
    update_managed_fields(
        Some(&obj),
        &mut scaled,
        "kubectl-scale",
        Operation::Update,
        None,
        T1,
        keys(),
    );
    let err = apply(
        Some(&scaled),
        &nginx(3, "nginx:1.27"),
        "kubectl",
        false,
        T2,
        keys(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(
        err.to_message(),
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn invalid_configurations() {
    let mut dup = nginx(1, "nginx");
    dup["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "nginx", "image": "other"}));
    let err = apply(None, &dup, "kubectl", false, T0, keys(), DEPLOYMENT).unwrap_err();
    assert_eq!(err.code(), 500);
    assert_eq!(
        err.to_message(),
        "failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name=\"nginx\"]"
    );
    let mut managed = nginx(1, "nginx");
    managed["metadata"]["managedFields"] = json!([{"manager": "x"}]);
    assert_eq!(
        apply(None, &managed, "kubectl", false, T0, keys(), DEPLOYMENT).unwrap_err(),
        ApplyError::BadRequest("metadata.managedFields must be nil".into())
    );
}

#[test]
fn finalizers_are_a_set_and_nulls_drop_fields() {
    let cm = "io.k8s.api.core.v1.ConfigMap";
    let a = yaml(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: [example.com/a]\n",
    );
    let b = yaml(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: [example.com/b]\n",
    );
    let o = stored(apply(None, &a, "a", false, T0, keys(), cm).unwrap());
    let o = apply(Some(&o), &b, "b", false, T1, keys(), cm).unwrap();
    assert_eq!(
        o["metadata"]["finalizers"],
        json!(["example.com/a", "example.com/b"])
    );
    assert_eq!(
        entry(&o, "b").unwrap()["fieldsV1"],
        json!({"f:metadata": {"f:finalizers": {"v:\"example.com/b\"": {}}}})
    );
    let gone = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    let o2 = apply(Some(&o), &gone, "a", false, T2, keys(), cm).unwrap();
    assert_eq!(o2["metadata"]["finalizers"], json!(["example.com/b"]));

    let with_data =
        yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n  j: w\n");
    let o3 = apply(Some(&o2), &with_data, "a", false, T2, keys(), cm).unwrap();
    let null_k =
        yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: null\n  j: w\n");
    let o4 = apply(Some(&o3), &null_k, "a", false, T2, keys(), cm).unwrap();
    assert_eq!(o4["data"], json!({"j": "w"}));
}

/// Scenarios of structured-merge-diff's own tests, on Kubernetes fields of the same kinds.
#[test]
fn structured_merge_diff_list_scenarios() {
    let cm = "io.k8s.api.core.v1.ConfigMap";
    let fin = |items: &[&str]| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": items}});
    // A set: apply, update by a controller, apply again with new items.
    let o = stored(apply(None, &fin(&["a", "c"]), "default", false, T0, keys(), cm).unwrap());
    let mut u = o.clone();
    u["metadata"]["finalizers"] = json!(["a", "b", "c", "d"]);
    update_managed_fields(
        Some(&o),
        &mut u,
        "controller",
        Operation::Update,
        None,
        T1,
        keys(),
    );
    let o2 = apply(
        Some(&u),
        &fin(&["a", "aprime", "c", "cprime"]),
        "default",
        false,
        T2,
        keys(),
        cm,
    )
    .unwrap();
    assert_eq!(
        o2["metadata"]["finalizers"],
        json!(["a", "b", "aprime", "c", "d", "cprime"])
    );
    assert_eq!(
        entry(&o2, "controller").unwrap()["fieldsV1"],
        json!({"f:metadata": {"f:finalizers": {"v:\"b\"": {}, "v:\"d\"": {}}}})
    );
    assert_eq!(
        entry(&o2, "default").unwrap()["fieldsV1"],
        json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"aprime\"": {}, "v:\"c\"": {}, "v:\"cprime\"": {}}}})
    );

    // A keyed list with two appliers: the first drops two items, one of them shared.
    let pod = "io.k8s.api.core.v1.Pod";
    let containers = |names: &[&str]| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}})
    };
    let o = stored(
        apply(
            None,
            &containers(&["a", "b", "c"]),
            "apply-one",
            false,
            T0,
            keys(),
            pod,
        )
        .unwrap(),
    );
    let o = apply(
        Some(&o),
        &containers(&["c", "d"]),
        "apply-two",
        false,
        T1,
        keys(),
        pod,
    )
    .unwrap();
    let o = apply(
        Some(&o),
        &containers(&["a"]),
        "apply-one",
        false,
        T2,
        keys(),
        pod,
    )
    .unwrap();
    assert_eq!(
        o["spec"]["containers"],
        json!([{"name": "a"}, {"name": "c"}, {"name": "d"}])
    );
}

#[test]
fn field_sets_round_trip_through_fields_v1() {
    use skiff_apiserver::apply::{field_set, fieldsv1};
    let config = nginx(2, "nginx:1.27");
    let set = field_set(&config, keys(), DEPLOYMENT).unwrap();
    let encoded = fieldsv1::serialize(&set);
    assert_eq!(fieldsv1::parse(&encoded).unwrap(), set);
    let obj = apply(None, &config, "kubectl", false, T0, keys(), DEPLOYMENT).unwrap();
    let recorded = fieldsv1::parse(&entry(&obj, "kubectl").unwrap()["fieldsV1"]).unwrap();
    // What is recorded is the configuration's set minus what is never recorded.
    assert!(recorded.difference(&set).is_empty());
    let never: Vec<String> = set
        .difference(&recorded)
        .paths()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        never,
        vec![
            ".apiVersion",
            ".kind",
            ".metadata.name",
            ".metadata.namespace"
        ]
    );
}
