//! Admission of Services, ConfigMaps, Secrets, Namespaces and the other kinds.

use serde_json::{json, Value};
use skiff_api::Resource;
use skiff_apiserver::admission;
use skiff_apiserver::status::Cause;

fn res(group: &str, version: &str, plural: &str) -> &'static Resource {
    skiff_api::resources::by_group_version_resource(group, version, plural).expect("served")
}

fn create(r: &Resource, mut obj: Value) -> (Value, Vec<Cause>) {
    admission::default(r, &mut obj);
    obj["metadata"]["uid"] = json!("3f1b8f5e-0000-4000-8000-00000000abcd");
    if r.namespaced {
        obj["metadata"]["namespace"] = json!("default");
    }
    admission::prepare_for_create(r, &mut obj);
    let errs = admission::validate_create(r, &obj);
    (obj, errs)
}

fn update(r: &Resource, old: &Value, mut new: Value) -> (Value, Vec<Cause>) {
    if r.namespaced {
        // the HTTP layer fills the namespace from the request path
        new["metadata"]["namespace"] = json!("default");
    }
    admission::default(r, &mut new);
    admission::prepare_for_update(r, old, &mut new, None);
    let errs = admission::validate_update(r, old, &new);
    (new, errs)
}

fn messages(errs: &[Cause]) -> Vec<String> {
    errs.iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect()
}

fn svc() -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
}

#[test]
fn service_defaults() {
    let (s, errs) = create(res("", "v1", "services"), svc());
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    let spec = &s["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(
        spec["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert!(spec.get("externalTrafficPolicy").is_none());
    assert_eq!(s["status"], json!({"loadBalancer": {}}));
    assert!(s["metadata"].get("generation").is_none());

    let mut np = svc();
    np["spec"]["type"] = json!("NodePort");
    let (s, errs) = create(res("", "v1", "services"), np);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
}

#[test]
fn service_validation_messages() {
    let r = res("", "v1", "services");
    let (_, errs) = create(r, json!({"metadata": {"name": "1web"}, "spec": {}}));
    let m = messages(&errs);
    assert!(m.contains(&"metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string()), "{m:#?}");
    assert!(
        m.contains(&"spec.ports: Required value".to_string()),
        "{m:#?}"
    );

    let mut two = svc();
    two["spec"]["ports"] = json!([{"port": 80}, {"port": 70000, "name": "https"}]);
    two["spec"]["type"] = json!("Magic");
    let (_, errs) = create(r, two);
    let m = messages(&errs);
    for w in [
        "spec.ports[0].name: Required value",
        "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
    ] {
        assert!(m.iter().any(|x| x == w), "missing {w} in {m:#?}");
    }

    let mut headless_lb = svc();
    headless_lb["spec"]["clusterIP"] = json!("None");
    headless_lb["spec"]["type"] = json!("LoadBalancer");
    let (_, errs) = create(r, headless_lb);
    assert!(messages(&errs).contains(
        &"spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services".to_string()
    ));
}

#[test]
fn headless_and_external_name_services() {
    let r = res("", "v1", "services");
    let (s, errs) = create(
        r,
        json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(s["spec"]["clusterIPs"], json!(["None"]));
    let (s, errs) = create(
        r,
        json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "example.com"}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert!(s["spec"].get("ipFamilies").is_none());
}

#[test]
fn service_cluster_ip_is_kept_and_immutable() {
    let r = res("", "v1", "services");
    let (mut old, _) = create(r, svc());
    old["spec"]["clusterIP"] = json!("10.96.0.10");
    old["spec"]["clusterIPs"] = json!(["10.96.0.10"]);
    // a client that omits the allocated IP keeps it
    let (new, errs) = update(r, &old, svc());
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(new["spec"]["clusterIP"], "10.96.0.10");
    let mut moved = svc();
    moved["spec"]["clusterIP"] = json!("10.96.0.11");
    let (_, errs) = update(r, &old, moved);
    assert_eq!(
        messages(&errs),
        vec![
            "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set"
        ]
    );
}

#[test]
fn configmap_keys_and_size() {
    let r = res("", "v1", "configmaps");
    let (_, errs) = create(
        r,
        json!({"metadata": {"name": "cfg"}, "data": {"game.properties": "x", "bad key": "y"}}),
    );
    assert_eq!(
        messages(&errs),
        vec!["data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]
    );
    let big = "x".repeat(1024 * 1024 + 1);
    let (_, errs) = create(r, json!({"metadata": {"name": "cfg"}, "data": {"a": big}}));
    assert_eq!(errs[0].reason, "FieldValueTooLong");
    assert_eq!(
        messages(&errs),
        vec![": Too long: may not be more than 1048576 bytes"]
    );
}

#[test]
fn immutable_configmap() {
    let r = res("", "v1", "configmaps");
    let (old, _) = create(
        r,
        json!({"metadata": {"name": "cfg"}, "data": {"a": "1"}, "immutable": true}),
    );
    let (_, errs) = update(
        r,
        &old,
        json!({"metadata": old["metadata"].clone(), "data": {"a": "2"}, "immutable": true}),
    );
    assert_eq!(
        messages(&errs),
        vec!["data: Forbidden: field is immutable when `immutable` is set"]
    );
}

#[test]
fn secret_defaults_and_string_data() {
    let r = res("", "v1", "secrets");
    let (s, errs) = create(
        r,
        json!({"metadata": {"name": "creds"}, "stringData": {"password": "hunter2"}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(s["type"], "Opaque");
    assert_eq!(s["data"], json!({"password": "aHVudGVyMg=="}));
    assert!(s.get("stringData").is_none());
    assert_eq!(
        admission::check_decodable(r, &json!({"data": {"x": "not base64!"}})).as_deref(),
        Some("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3")
    );
    let (_, errs) = create(
        r,
        json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {}}),
    );
    assert_eq!(
        messages(&errs),
        vec![
            "data[tls.crt]: Required value",
            "data[tls.key]: Required value"
        ]
    );
    let (old, _) = create(r, json!({"metadata": {"name": "a"}}));
    let mut new = old.clone();
    new["type"] = json!("kubernetes.io/basic-auth");
    new["data"] = json!({"username": "YQ=="});
    let (_, errs) = update(r, &old, new);
    assert_eq!(
        messages(&errs),
        vec!["type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"]
    );
}

#[test]
fn namespace_defaults_and_rules() {
    let r = res("", "v1", "namespaces");
    let (ns, errs) = create(r, json!({"metadata": {"name": "team-a"}}));
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team-a"
    );
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(ns["status"], json!({"phase": "Active"}));
    assert!(ns["metadata"].get("namespace").is_none());
    let (_, errs) = create(r, json!({"metadata": {"name": "team.a"}}));
    assert_eq!(
        messages(&errs),
        vec!["metadata.name: Invalid value: \"team.a\": must not contain dots"]
    );
    let mut upd = ns.clone();
    upd["spec"]["finalizers"] = json!([]);
    let (n, errs) = update(r, &ns, upd);
    assert!(errs.is_empty());
    assert_eq!(
        n["spec"]["finalizers"],
        json!(["kubernetes"]),
        "finalizers change only through /finalize"
    );
}

#[test]
fn cluster_scoped_kinds_forbid_namespace() {
    let r = res("scheduling.k8s.io", "v1", "priorityclasses");
    let mut obj = json!({"metadata": {"name": "high", "namespace": "default"}, "value": 1000});
    admission::default(r, &mut obj);
    assert_eq!(obj["preemptionPolicy"], "PreemptLowerPriority");
    let errs = admission::validate_create(r, &obj);
    assert_eq!(
        messages(&errs),
        vec!["metadata.namespace: Forbidden: not allowed on this type"]
    );
    let (_, errs) = create(
        r,
        json!({"metadata": {"name": "huge"}, "value": 2_000_000_000}),
    );
    assert_eq!(
        messages(&errs),
        vec!["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    );
}

#[test]
fn pvc_rules_and_defaults() {
    let r = res("", "v1", "persistentvolumeclaims");
    let (p, errs) = create(
        r,
        json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1.5Gi"}}}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(p["spec"]["volumeMode"], "Filesystem");
    assert_eq!(p["spec"]["resources"]["requests"]["storage"], "1536Mi");
    assert_eq!(p["status"], json!({"phase": "Pending"}));
    let (_, errs) = create(r, json!({"metadata": {"name": "data"}, "spec": {}}));
    assert_eq!(
        messages(&errs),
        vec![
            "spec.accessModes: Required value: at least 1 access mode is required",
            "spec.resources[storage]: Required value"
        ]
    );
}

#[test]
fn ingress_rules() {
    let r = res("networking.k8s.io", "v1", "ingresses");
    let ing = json!({"metadata": {"name": "web"}, "spec": {"rules": [{"host": "example.com", "http": {"paths": [
        {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
        {"path": "/api", "pathType": "Regex", "backend": {"service": {"name": "api"}}}
    ]}}]}});
    let (_, errs) = create(r, ing);
    assert_eq!(
        messages(&errs),
        vec![
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
            "spec.rules[0].http.paths[1].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
            "spec.rules[0].http.paths[1].backend.service.port: Required value: port name or number is required",
        ]
    );
}

#[test]
fn rbac_rules_and_bindings() {
    let role = res("rbac.authorization.k8s.io", "v1", "roles");
    let (_, errs) = create(
        role,
        json!({"metadata": {"name": "reader"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
    );
    assert_eq!(
        messages(&errs),
        vec!["rules[0].verbs: Required value: verbs must contain at least one value"]
    );
    let crb = res("rbac.authorization.k8s.io", "v1", "clusterrolebindings");
    let (b, errs) = create(
        crb,
        json!({"metadata": {"name": "system:admins"},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "admins"}, {"kind": "ServiceAccount", "name": "ci"}]}),
    );
    assert_eq!(
        messages(&errs),
        vec!["subjects[1].namespace: Required value"]
    );
    assert_eq!(b["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(b["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
}

#[test]
fn pdb_min_and_max_exclusive() {
    let r = res("policy", "v1", "poddisruptionbudgets");
    let (p, errs) = create(
        r,
        json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 1, "maxUnavailable": "10%", "selector": {"matchLabels": {"app": "web"}}}}),
    );
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "spec");
    assert!(errs[0]
        .message
        .ends_with(": minAvailable and maxUnavailable cannot be both set"));
    assert_eq!(p["metadata"]["generation"], 1);
}

#[test]
fn hpa_defaults_and_rules() {
    let r = res("autoscaling", "v2", "horizontalpodautoscalers");
    let (h, errs) = create(
        r,
        json!({"metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(h["spec"]["minReplicas"], 1);
    assert_eq!(
        h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    let (_, errs) = create(
        r,
        json!({"metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 3, "maxReplicas": 2}}),
    );
    assert_eq!(
        messages(&errs),
        vec!["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"]
    );
}

#[test]
fn storage_class_and_endpoint_slice_defaults() {
    let sc = res("storage.k8s.io", "v1", "storageclasses");
    let (s, errs) = create(
        sc,
        json!({"metadata": {"name": "local"}, "provisioner": "rancher.io/local-path"}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(s["reclaimPolicy"], "Delete");
    assert_eq!(s["volumeBindingMode"], "Immediate");
    let es = res("discovery.k8s.io", "v1", "endpointslices");
    let (e, errs) = create(
        es,
        json!({"metadata": {"name": "web-1"}, "addressType": "IPv5", "ports": [{"port": 80}], "endpoints": [{"addresses": ["10.1.0.4"]}]}),
    );
    assert_eq!(
        messages(&errs),
        vec!["addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""]
    );
    assert_eq!(
        e["ports"][0],
        json!({"port": 80, "name": "", "protocol": "TCP"})
    );
}

#[test]
fn network_policy_types_default() {
    let r = res("networking.k8s.io", "v1", "networkpolicies");
    let (n, errs) = create(
        r,
        json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}, "egress": [{}]}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(n["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
}

#[test]
fn labels_and_annotations_syntax() {
    let r = res("", "v1", "configmaps");
    let (_, errs) = create(
        r,
        json!({"metadata": {"name": "c", "labels": {"bad/key/x": "v"}, "annotations": {"a": "x".repeat(300 * 1024)}}}),
    );
    let m = messages(&errs);
    assert!(
        m.iter().any(|x| x.starts_with(
            "metadata.labels: Invalid value: \"bad/key/x\": a qualified name must consist of"
        )),
        "{m:#?}"
    );
    assert!(
        m.contains(
            &"metadata.annotations: Too long: may not be more than 262144 bytes".to_string()
        ),
        "{m:#?}"
    );
}

#[test]
fn node_and_lease() {
    let node = res("", "v1", "nodes");
    let (n, errs) = create(
        node,
        json!({"metadata": {"name": "worker-1"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}}),
    );
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(
        n["status"]["allocatable"],
        json!({"cpu": "4", "memory": "8Gi"})
    );
    let lease = res("coordination.k8s.io", "v1", "leases");
    let (_, errs) = create(
        lease,
        json!({"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}}),
    );
    assert_eq!(
        messages(&errs),
        vec!["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
    );
}
