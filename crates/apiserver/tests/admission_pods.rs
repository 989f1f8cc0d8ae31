//! Admission of Pods: defaults, create-time strategy and admission plugins, validation
//! messages, and the update rules, on realistic manifests.

use serde_json::{json, Value};
use skiff_apiserver::admission;
use skiff_apiserver::status::Cause;

fn pods() -> &'static skiff_api::Resource {
    skiff_api::resources::by_group_version_resource("", "v1", "pods").expect("pods")
}

/// What the HTTP layer does on create: defaults, identity, strategy, validation.
fn create(mut obj: Value) -> (Value, Vec<Cause>) {
    let r = pods();
    admission::default(r, &mut obj);
    obj["metadata"]["uid"] = json!("6a4b0f3c-0000-4000-8000-000000000001");
    obj["metadata"]["namespace"] = json!("default");
    admission::prepare_for_create(r, &mut obj);
    let errs = admission::validate_create(r, &obj);
    (obj, errs)
}

fn nginx() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}
    })
}

fn messages(errs: &[Cause]) -> Vec<String> {
    errs.iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect()
}

#[test]
fn defaults_and_strategy_on_create() {
    let (pod, errs) = create(nginx());
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["enableServiceLinks"], true);
    assert_eq!(spec["priority"], 0);
    assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    let c = &spec["containers"][0];
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["resources"], json!({}));
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(
        spec["tolerations"],
        json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ])
    );
    assert_eq!(
        pod["status"],
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
    assert_eq!(pod["metadata"]["generation"], 1);
}

#[test]
fn latest_and_untagged_images_pull_always() {
    let mut p = nginx();
    p["spec"]["containers"][0]["image"] = json!("busybox");
    let (pod, _) = create(p);
    assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
}

#[test]
fn limits_become_requests_and_qos_guaranteed() {
    let mut p = nginx();
    p["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "0.5", "memory": "128Mi"}});
    let (pod, errs) = create(p);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    let r = &pod["spec"]["containers"][0]["resources"];
    assert_eq!(r["limits"], json!({"cpu": "500m", "memory": "128Mi"}));
    assert_eq!(r["requests"], json!({"cpu": "500m", "memory": "128Mi"}));
    assert_eq!(pod["status"]["qosClass"], "Guaranteed");
}

#[test]
fn probes_get_timings() {
    let mut p = nginx();
    p["spec"]["containers"][0]["livenessProbe"] = json!({"httpGet": {"port": 80}});
    let (pod, errs) = create(p);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(
        pod["spec"]["containers"][0]["livenessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
               "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
}

#[test]
fn missing_containers_and_name() {
    let (_, errs) = create(json!({"metadata": {}, "spec": {}}));
    let m = messages(&errs);
    assert!(
        m.contains(&"metadata.name: Required value: name or generateName is required".to_string()),
        "{m:?}"
    );
    assert!(
        m.contains(&"spec.containers: Required value".to_string()),
        "{m:?}"
    );
    assert_eq!(errs[0].reason, "FieldValueRequired");
}

#[test]
fn bad_container_fields() {
    let p = json!({
        "metadata": {"name": "Bad_Name"},
        "spec": {
            "restartPolicy": "Sometimes",
            "containers": [
                {"name": "App", "image": "x", "ports": [{"containerPort": 70000, "protocol": "HTTP"}]},
                {"name": "app2"},
                {"name": "app2", "image": "y"}
            ]
        }
    });
    let (_, errs) = create(p);
    let m = messages(&errs);
    let want = [
        "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        "spec.containers[0].name: Invalid value: \"App\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        "spec.containers[1].image: Required value",
        "spec.containers[2].name: Duplicate value: \"app2\"",
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
    ];
    for w in want {
        assert!(m.iter().any(|x| x == w), "missing {w}\nin {m:#?}");
    }
}

#[test]
fn requests_above_limits() {
    let mut p = nginx();
    p["spec"]["containers"][0]["resources"] =
        json!({"limits": {"cpu": "500m"}, "requests": {"cpu": "1"}});
    let (_, errs) = create(p);
    assert_eq!(
        messages(&errs),
        vec!["spec.containers[0].resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"]
    );
}

#[test]
fn bad_resource_name_and_negative_quantity() {
    let mut p = nginx();
    p["spec"]["containers"][0]["resources"] = json!({"requests": {"gpu": "1", "memory": "-1Mi"}});
    let (_, errs) = create(p);
    let m = messages(&errs);
    assert!(m.contains(&"spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified".to_string()), "{m:?}");
    assert!(m.contains(&"spec.containers[0].resources.requests[memory]: Invalid value: \"-1Mi\": must be greater than or equal to 0".to_string()), "{m:?}");
}

#[test]
fn volume_mount_must_name_a_volume() {
    let mut p = nginx();
    p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/data"}]);
    let (_, errs) = create(p);
    assert_eq!(
        messages(&errs),
        vec!["spec.containers[0].volumeMounts[0].name: Not found: \"data\""]
    );
    assert_eq!(errs[0].reason, "FieldValueNotFound");
}

#[test]
fn volumes_default_to_empty_dir_and_modes() {
    let mut p = nginx();
    p["spec"]["volumes"] =
        json!([{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]);
    let (pod, errs) = create(p);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(pod["spec"]["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(pod["spec"]["volumes"][1]["configMap"]["defaultMode"], 420);
}

#[test]
fn tolerations_already_present_are_not_duplicated() {
    let mut p = nginx();
    p["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
    let (pod, errs) = create(p);
    assert!(errs.is_empty());
    assert_eq!(pod["spec"]["tolerations"], json!([{"operator": "Exists"}]));
}

#[test]
fn toleration_rules() {
    let mut p = nginx();
    p["spec"]["tolerations"] = json!([{"key": "", "operator": "Equal", "value": "x"}]);
    let (_, errs) = create(p);
    assert_eq!(
        messages(&errs)[0],
        "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""
    );
}

#[test]
fn scheduling_gates_set_condition() {
    let mut p = nginx();
    p["spec"]["schedulingGates"] = json!([{"name": "example.com/wait"}]);
    let (pod, errs) = create(p);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(pod["status"]["conditions"][0]["reason"], "SchedulingGated");
}

#[test]
fn partial_and_malformed_objects_never_panic() {
    for obj in [
        json!(null),
        json!([]),
        json!({"metadata": 3, "spec": "x"}),
        json!({"spec": {"containers": [3, null, {"name": 5, "ports": "x", "resources": {"limits": 4}}]}}),
        json!({"spec": {"volumes": [{"name": "a", "secret": 1, "configMap": {}}], "containers": {}}}),
    ] {
        let r = pods();
        let mut o = obj.clone();
        admission::default(r, &mut o);
        admission::prepare_for_create(r, &mut o);
        let _ = admission::validate_create(r, &o);
        let mut n = obj.clone();
        admission::prepare_for_update(r, &o, &mut n, None);
        let _ = admission::validate_update(r, &o, &n);
        let _ = admission::check_decodable(r, &obj);
    }
}

#[test]
fn update_may_change_image_only() {
    let (old, _) = create(nginx());
    let mut new = old.clone();
    new["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    admission::prepare_for_update(pods(), &old, &mut new, None);
    assert!(admission::validate_update(pods(), &old, &new).is_empty());
    assert_eq!(new["metadata"]["generation"], 2);

    let mut bad = old.clone();
    bad["spec"]["restartPolicy"] = json!("Never");
    admission::prepare_for_update(pods(), &old, &mut bad, None);
    let errs = admission::validate_update(pods(), &old, &bad);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "spec");
    assert_eq!(errs[0].reason, "FieldValueForbidden");
    assert!(errs[0].message.starts_with(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
    ), "{}", errs[0].message);
}

#[test]
fn update_keeps_status_and_status_update_keeps_spec() {
    let (old, _) = create(nginx());
    let mut new = old.clone();
    new["status"] = json!({"phase": "Running"});
    admission::prepare_for_update(pods(), &old, &mut new, None);
    assert_eq!(new["status"]["phase"], "Pending");

    let mut st = old.clone();
    st["status"]["phase"] = json!("Running");
    st["spec"]["containers"][0]["image"] = json!("evil");
    admission::prepare_for_update(pods(), &old, &mut st, Some("status"));
    assert_eq!(st["status"]["phase"], "Running");
    assert_eq!(st["spec"]["containers"][0]["image"], "nginx:1.27");
    assert!(admission::validate_update_subresource(pods(), &old, &st, Some("status")).is_empty());
}

#[test]
fn removing_containers_is_forbidden() {
    let mut two = nginx();
    two["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "side", "image": "busybox"}));
    let (old, _) = create(two);
    let mut new = old.clone();
    new["spec"]["containers"].as_array_mut().unwrap().pop();
    let errs = admission::validate_update(pods(), &old, &new);
    assert_eq!(
        messages(&errs),
        vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
}

#[test]
fn uid_is_immutable() {
    let (old, _) = create(nginx());
    let mut new = old.clone();
    new["metadata"]["uid"] = json!("other");
    let errs = admission::validate_update(pods(), &old, &new);
    assert_eq!(
        messages(&errs),
        vec!["metadata.uid: Invalid value: \"other\": field is immutable"]
    );
}

#[test]
fn malformed_quantity_is_a_decode_error() {
    let mut p = nginx();
    p["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "lots"}});
    assert_eq!(
        admission::check_decodable(pods(), &p).as_deref(),
        Some("Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    );
    assert_eq!(admission::check_decodable(pods(), &nginx()), None);
}
