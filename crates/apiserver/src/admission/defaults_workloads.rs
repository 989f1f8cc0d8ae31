//! Defaulting of apps/v1 and batch/v1 workloads (`pkg/apis/apps/v1/defaults.go`,
//! `pkg/apis/batch/v1/defaults.go`): replicas, update strategies, history limits, progress
//! deadlines, StatefulSet policies and claim templates, Job completions / parallelism /
//! backoff / completion mode / suspend / pod replacement, CronJob policies and limits, and
//! the pod template defaults inside each.

use serde_json::{json, Value};

use super::defaults_core::{object_meta_template, pod_template, pvc_spec, resource_list};
use super::value::{self as v, default_field, default_ptr, get_obj_mut};

fn template(spec: &mut Value) {
    if let Some(t) = v::ensure_path(spec, &["template"]) {
        pod_template(t);
    }
}

/// `SetDefaults_Deployment`.
pub(crate) fn deployment(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    if let Some(m) = spec.as_object_mut() {
        default_ptr(m, "replicas", json!(1));
        default_ptr(m, "revisionHistoryLimit", json!(10));
        default_ptr(m, "progressDeadlineSeconds", json!(600));
    }
    if let Some(strategy) = v::ensure_path(spec, &["strategy"]).and_then(Value::as_object_mut) {
        default_field(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = strategy.entry("rollingUpdate").or_insert_with(|| json!({}));
            if !ru.is_object() {
                *ru = json!({});
            }
            if let Some(ru) = ru.as_object_mut() {
                default_ptr(ru, "maxUnavailable", json!("25%"));
                default_ptr(ru, "maxSurge", json!("25%"));
            }
        }
    }
    template(spec);
}

/// `SetDefaults_ReplicaSet`.
pub(crate) fn replica_set(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    if let Some(m) = spec.as_object_mut() {
        default_ptr(m, "replicas", json!(1));
    }
    template(spec);
}

/// `SetDefaults_StatefulSet`.
pub(crate) fn stateful_set(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    if let Some(m) = spec.as_object_mut() {
        default_field(m, "podManagementPolicy", json!("OrderedReady"));
        default_ptr(m, "replicas", json!(1));
        default_ptr(m, "revisionHistoryLimit", json!(10));
    }
    if let Some(us) = v::ensure_path(spec, &["updateStrategy"]).and_then(Value::as_object_mut) {
        default_field(us, "type", json!("RollingUpdate"));
        if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = us.entry("rollingUpdate").or_insert_with(|| json!({}));
            if let Some(ru) = ru.as_object_mut() {
                default_ptr(ru, "partition", json!(0));
            }
        }
    }
    if let Some(p) = v::ensure_path(spec, &["persistentVolumeClaimRetentionPolicy"])
        .and_then(Value::as_object_mut)
    {
        default_field(p, "whenDeleted", json!("Retain"));
        default_field(p, "whenScaled", json!("Retain"));
    }
    template(spec);
    v::each_obj_mut(spec, "volumeClaimTemplates", |t| {
        object_meta_template(t);
        if let Some(s) = v::ensure_path(t, &["spec"]) {
            pvc_spec(s);
        }
        if let Some(st) = v::ensure_path(t, &["status"]).and_then(Value::as_object_mut) {
            default_field(st, "phase", json!("Pending"));
            resource_list(st.get_mut("capacity"));
        }
    });
}

/// `SetDefaults_DaemonSet`.
pub(crate) fn daemon_set(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    if let Some(m) = spec.as_object_mut() {
        default_ptr(m, "revisionHistoryLimit", json!(10));
    }
    if let Some(us) = v::ensure_path(spec, &["updateStrategy"]).and_then(Value::as_object_mut) {
        default_field(us, "type", json!("RollingUpdate"));
        if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = us.entry("rollingUpdate").or_insert_with(|| json!({}));
            if let Some(ru) = ru.as_object_mut() {
                default_ptr(ru, "maxUnavailable", json!(1));
                default_ptr(ru, "maxSurge", json!(0));
            }
        }
    }
    template(spec);
}

/// `SetDefaults_Job` (the object-level parts; the template labels copy is also redone after
/// selector generation, see the strategy).
pub(crate) fn job(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    job_spec(spec);
    let labels = v::at(obj, &["spec", "template", "metadata", "labels"]).cloned();
    copy_template_labels(obj, labels);
}

/// Job metadata labels default to the template's when the job has none.
pub(crate) fn copy_template_labels(obj: &mut Value, labels: Option<Value>) {
    let Some(labels) = labels.filter(|l| l.as_object().is_some_and(|m| !m.is_empty())) else {
        return;
    };
    if let Some(meta) = v::ensure_path(obj, &["metadata"]).and_then(Value::as_object_mut) {
        if meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(|l| l.is_empty())
        {
            meta.insert("labels".into(), labels);
        }
    }
}

fn job_spec(spec: &mut Value) {
    if let Some(m) = spec.as_object_mut() {
        let no_completions = m.get("completions").is_none_or(Value::is_null);
        let no_parallelism = m.get("parallelism").is_none_or(Value::is_null);
        if no_completions && no_parallelism {
            m.insert("completions".into(), json!(1));
        }
        default_ptr(m, "parallelism", json!(1));
        let per_index = m.get("backoffLimitPerIndex").is_some_and(|x| !x.is_null());
        default_ptr(
            m,
            "backoffLimit",
            json!(if per_index { 2147483647 } else { 6 }),
        );
        default_ptr(m, "completionMode", json!("NonIndexed"));
        default_ptr(m, "suspend", json!(false));
        let has_pfp = m.get("podFailurePolicy").is_some_and(|x| !x.is_null());
        default_ptr(
            m,
            "podReplacementPolicy",
            json!(if has_pfp {
                "Failed"
            } else {
                "TerminatingOrFailed"
            }),
        );
    }
    if let Some(rules) = get_obj_mut(spec, "podFailurePolicy").and_then(|p| p.get_mut("rules")) {
        if let Some(rules) = rules.as_array_mut() {
            for r in rules.iter_mut() {
                v::each_obj_mut(r, "onPodConditions", |c| {
                    if let Some(m) = c.as_object_mut() {
                        default_field(m, "status", json!("True"));
                    }
                });
            }
        }
    }
    template(spec);
}

/// `SetDefaults_CronJob` (the job template gets pod defaults only, as upstream).
pub(crate) fn cron_job(obj: &mut Value) {
    let Some(spec) = v::ensure_path(obj, &["spec"]) else {
        return;
    };
    if let Some(m) = spec.as_object_mut() {
        default_field(m, "concurrencyPolicy", json!("Allow"));
        default_ptr(m, "suspend", json!(false));
        default_ptr(m, "successfulJobsHistoryLimit", json!(3));
        default_ptr(m, "failedJobsHistoryLimit", json!(1));
    }
    if let Some(jt) = v::ensure_path(spec, &["jobTemplate"]) {
        object_meta_template(jt);
        if let Some(js) = v::ensure_path(jt, &["spec"]) {
            template(js);
        }
    }
}
