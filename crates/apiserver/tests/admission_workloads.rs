//! Admission of apps/v1 and batch/v1 workloads: defaults, strategies and validation.

use serde_json::{json, Value};
use skiff_api::Resource;
use skiff_apiserver::admission;
use skiff_apiserver::status::Cause;

fn res(group: &str, plural: &str) -> &'static Resource {
    skiff_api::resources::by_group_version_resource(group, "v1", plural).expect("served")
}

fn create(r: &Resource, mut obj: Value) -> (Value, Vec<Cause>) {
    admission::default(r, &mut obj);
    obj["metadata"]["uid"] = json!("0c7e0d4e-1111-4222-8333-444455556666");
    obj["metadata"]["namespace"] = json!("default");
    admission::prepare_for_create(r, &mut obj);
    let errs = admission::validate_create(r, &obj);
    (obj, errs)
}

fn update(r: &Resource, old: &Value, mut new: Value) -> (Value, Vec<Cause>) {
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

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}
            }
        }
    })
}

#[test]
fn deployment_defaults() {
    let (d, errs) = create(res("apps", "deployments"), deployment());
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    let tpl = &spec["template"];
    assert_eq!(tpl["metadata"]["creationTimestamp"], Value::Null);
    assert_eq!(tpl["spec"]["restartPolicy"], "Always");
    assert_eq!(
        tpl["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert!(
        tpl["spec"].get("enableServiceLinks").is_none(),
        "pod-only default"
    );
    assert!(
        tpl["spec"].get("tolerations").is_none(),
        "admission plugins act on pods only"
    );
    assert_eq!(d["status"], json!({}));
    assert_eq!(d["metadata"]["generation"], 1);
}

#[test]
fn deployment_selector_must_match_template() {
    let mut d = deployment();
    d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let (_, errs) = create(res("apps", "deployments"), d);
    assert_eq!(
        messages(&errs),
        vec!["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"]
    );
}

#[test]
fn deployment_selector_required_and_non_empty() {
    let mut d = deployment();
    d["spec"].as_object_mut().unwrap().remove("selector");
    let (_, errs) = create(res("apps", "deployments"), d);
    let m = messages(&errs);
    assert_eq!(m[0], "spec.selector: Required value");
    let mut d = deployment();
    d["spec"]["selector"] = json!({});
    let (_, errs) = create(res("apps", "deployments"), d);
    assert_eq!(
        messages(&errs),
        vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
    );
}

#[test]
fn deployment_rejects_bad_numbers_and_strategy() {
    let mut d = deployment();
    d["spec"]["replicas"] = json!(-1);
    d["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
    d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    let (_, errs) = create(res("apps", "deployments"), d);
    let m = messages(&errs);
    for w in [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0",
    ] {
        assert!(m.iter().any(|x| x == w), "missing {w} in {m:#?}");
    }
    let mut d = deployment();
    d["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "abc"}});
    let (_, errs) = create(res("apps", "deployments"), d);
    assert_eq!(
        messages(&errs),
        vec!["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"abc\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]
    );
}

#[test]
fn deployment_selector_is_immutable_and_generation_bumps() {
    let dr = res("apps", "deployments");
    let (old, _) = create(dr, deployment());
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(3);
    let (new, errs) = update(dr, &old, scaled);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(new["metadata"]["generation"], 2);

    let mut moved = old.clone();
    moved["spec"]["selector"] = json!({"matchLabels": {"app": "web2"}});
    moved["spec"]["template"]["metadata"]["labels"] = json!({"app": "web2"});
    let (_, errs) = update(dr, &old, moved);
    assert_eq!(
        messages(&errs),
        vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    );

    let mut annotated = old.clone();
    annotated["metadata"]["annotations"] = json!({"note": "x"});
    let (new, _) = update(dr, &old, annotated);
    assert_eq!(
        new["metadata"]["generation"], 2,
        "annotations bump deployments"
    );

    let mut status = old.clone();
    status["status"] = json!({"replicas": 5});
    let (new, _) = update(dr, &old, status);
    assert_eq!(new["status"], json!({}), "main update keeps the old status");
    assert_eq!(new["metadata"]["generation"], 1);
}

#[test]
fn statefulset_defaults_and_update_rules() {
    let r = res("apps", "statefulsets");
    let sts = json!({
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    });
    let (s, errs) = create(r, sts);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        s["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        s["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(s["spec"]["revisionHistoryLimit"], 10);
    let vct = &s["spec"]["volumeClaimTemplates"][0];
    assert_eq!(vct["spec"]["volumeMode"], "Filesystem");
    assert_eq!(vct["status"]["phase"], "Pending");
    assert_eq!(s["status"], json!({"replicas": 0, "availableReplicas": 0}));

    let mut changed = s.clone();
    changed["spec"]["serviceName"] = json!("other");
    let (_, errs) = update(r, &s, changed);
    assert_eq!(
        messages(&errs),
        vec!["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"]
    );
}

#[test]
fn daemonset_defaults_and_template_generation() {
    let r = res("apps", "daemonsets");
    let ds = json!({
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}
        }
    });
    let (d, errs) = create(r, ds);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(
        d["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(
        d["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "1"
    );
    let mut n = d.clone();
    n["spec"]["template"]["spec"]["containers"][0]["image"] = json!("agent:2");
    let (n, errs) = update(r, &d, n);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(
        n["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "2"
    );
    assert_eq!(n["metadata"]["generation"], 2);
}

#[test]
fn replicaset_defaults() {
    let r = res("apps", "replicasets");
    let rs = json!({
        "metadata": {"name": "web-abc"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    });
    let (o, errs) = create(r, rs);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(o["spec"]["replicas"], 1);
    assert_eq!(o["status"], json!({"replicas": 0}));
}

fn job() -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-e", "print 1"]}]
        }}}
    })
}

#[test]
fn job_defaults_and_generated_selector() {
    let (j, errs) = create(res("batch", "jobs"), job());
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    let spec = &j["spec"];
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert!(spec.get("manualSelector").is_none());
    let uid = "0c7e0d4e-1111-4222-8333-444455556666";
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
    let want = json!({
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": uid,
        "job-name": "pi"
    });
    assert_eq!(spec["template"]["metadata"]["labels"], want);
    assert_eq!(j["metadata"]["labels"], want);
    assert_eq!(j["status"], json!({}));
}

#[test]
fn job_restart_policy_must_be_on_failure_or_never() {
    let mut j = job();
    j["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("restartPolicy");
    let (_, errs) = create(res("batch", "jobs"), j);
    assert_eq!(
        messages(&errs),
        vec!["spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""]
    );
    let mut j = job();
    j["spec"]["parallelism"] = json!(-2);
    let (_, errs) = create(res("batch", "jobs"), j);
    assert_eq!(
        messages(&errs),
        vec!["spec.parallelism: Invalid value: -2: must be greater than or equal to 0"]
    );
}

#[test]
fn job_template_is_immutable() {
    let r = res("batch", "jobs");
    let (old, _) = create(r, job());
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5.36");
    let (_, errs) = update(r, &old, new);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "spec.template");
    assert!(errs[0].message.ends_with(": field is immutable"));
}

fn cron() -> Value {
    json!({
        "metadata": {"name": "hello"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure", "containers": [{"name": "hello", "image": "busybox:1.28"}]
        }}}}}
    })
}

#[test]
fn cronjob_defaults_and_schedule() {
    let r = res("batch", "cronjobs");
    let (c, errs) = create(r, cron());
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(c["spec"]["suspend"], false);
    assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
    assert!(c["spec"]["jobTemplate"]["spec"]
        .get("backoffLimit")
        .is_none());

    let mut bad = cron();
    bad["spec"]["schedule"] = json!("61 * * * *");
    let (_, errs) = create(r, bad);
    assert_eq!(
        messages(&errs),
        vec!["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"]
    );
    let mut tz = cron();
    tz["spec"]["schedule"] = json!("CRON_TZ=UTC 0 * * * *");
    let (_, errs) = create(r, tz);
    assert_eq!(
        messages(&errs),
        vec!["spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]
    );
    let mut long = cron();
    long["metadata"]["name"] = json!("a".repeat(53));
    let (_, errs) = create(r, long);
    assert_eq!(
        errs[0].message,
        format!(
            "Invalid value: \"{}\": must be no more than 52 characters",
            "a".repeat(53)
        )
    );
}

#[test]
fn replication_controller_defaults_selector_from_template() {
    let r = skiff_api::resources::by_group_version_resource("", "v1", "replicationcontrollers")
        .unwrap();
    let rc = json!({"metadata": {"name": "rc"}, "spec": {"template": {"metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    let (o, errs) = create(r, rc);
    assert!(errs.is_empty(), "{:?}", messages(&errs));
    assert_eq!(o["spec"]["selector"], json!({"app": "x"}));
    assert_eq!(o["metadata"]["labels"], json!({"app": "x"}));
    assert_eq!(o["spec"]["replicas"], 1);
}
