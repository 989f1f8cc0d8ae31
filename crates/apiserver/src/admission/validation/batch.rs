//! batch/v1 validation: Job (generated selector, parallelism and completions, restart
//! policy OnFailure or Never, update immutability) and CronJob (schedule syntax, time zone,
//! concurrency policy, history limits, name length, job template).

use serde_json::Value;

use super::meta;
use super::names::NameRule;
use super::pod::{self, nonnegative};
use crate::admission::field::{
    go_label_selector, go_string_map, go_struct, invalid, not_supported, required, Bad, Errs,
};
use crate::admission::value as v;

/// Legacy and current labels the job strategy puts on pod templates.
pub(crate) const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
pub(crate) const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
pub(crate) const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
pub(crate) const LEGACY_JOB_NAME_LABEL: &str = "job-name";

fn has_label(tpl_labels: Option<&Value>, key: &str, want: &str, errs: &mut Errs) {
    let path = format!("spec.template.metadata.labels[{key}]");
    match tpl_labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
        None => errs.push(required(&path, &format!("must be '{want}'"))),
        Some(x) if x != want => errs.push(invalid(
            &path,
            Bad::Go(go_string_map(tpl_labels)),
            &format!("must be '{want}'"),
        )),
        _ => {}
    }
}

/// `ValidateGeneratedSelector`.
fn generated_selector(job: &Value, errs: &mut Errs) {
    if v::boolean(job, &["spec", "manualSelector"]) == Some(true) {
        return;
    }
    let Some(sel) = v::at(job, &["spec", "selector"]).filter(|s| !s.is_null()) else {
        return;
    };
    let uid = v::s(job, &["metadata", "uid"]);
    let name = v::s(job, &["metadata", "name"]);
    if uid.is_empty() {
        errs.push(required("metadata.uid", ""));
    }
    let labels = v::at(job, &["spec", "template", "metadata", "labels"]);
    has_label(labels, LEGACY_CONTROLLER_UID_LABEL, uid, errs);
    has_label(labels, LEGACY_JOB_NAME_LABEL, name, errs);
    has_label(labels, CONTROLLER_UID_LABEL, uid, errs);
    has_label(labels, JOB_NAME_LABEL, name, errs);
    let expected: std::collections::BTreeMap<String, String> = [
        (CONTROLLER_UID_LABEL, uid),
        (LEGACY_CONTROLLER_UID_LABEL, uid),
        (JOB_NAME_LABEL, name),
        (LEGACY_JOB_NAME_LABEL, name),
    ]
    .iter()
    .map(|(k, x)| (k.to_string(), x.to_string()))
    .collect();
    if let Some(s) = meta::as_selector(Some(sel)) {
        if !s.matches(&expected) {
            errs.push(invalid(
                "spec.selector",
                Bad::Go(go_label_selector(sel)),
                "`selector` not auto-generated",
            ));
        }
    }
}

/// `validateJobSpec` (shared by Jobs and CronJob job templates), under `path`.
fn job_spec_common(spec: &Value, path: &str, errs: &mut Errs) {
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        nonnegative(v::int(spec, &[f]), &format!("{path}.{f}"), errs);
    }
    if let Some(m) = v::opt_s(spec, &["completionMode"]) {
        if m != "NonIndexed" && m != "Indexed" {
            errs.push(not_supported(
                &format!("{path}.completionMode"),
                Bad::str(m),
                &["NonIndexed", "Indexed"],
            ));
        }
    }
    if let Some(p) = v::opt_s(spec, &["podReplacementPolicy"]) {
        if p != "Failed" && p != "TerminatingOrFailed" {
            errs.push(not_supported(
                &format!("{path}.podReplacementPolicy"),
                Bad::str(p),
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    if v::s(spec, &["completionMode"]) == "Indexed" && !v::present(spec, &["completions"]) {
        errs.push(required(
            &format!("{path}.completions"),
            "when completion mode is Indexed",
        ));
    }
    let empty = Value::Null;
    let tpl_path = format!("{path}.template");
    pod::pod_template_spec(spec.get("template").unwrap_or(&empty), &tpl_path, errs);
    let rp = v::s(spec, &["template", "spec", "restartPolicy"]);
    if rp != "OnFailure" && rp != "Never" {
        errs.push(not_supported(
            &format!("{tpl_path}.spec.restartPolicy"),
            Bad::str(rp),
            &["OnFailure", "Never"],
        ));
    }
}

/// `ValidateJobSpec`: the common spec plus the selector.
fn job_spec(job: &Value, errs: &mut Errs) {
    let spec = job.get("spec").unwrap_or(&Value::Null);
    job_spec_common(spec, "spec", errs);
    let sel = spec.get("selector").filter(|s| !s.is_null());
    match sel {
        None => errs.push(required("spec.selector", "")),
        Some(s) => meta::label_selector(Some(s), "spec.selector", errs),
    }
    if let Some(selector) = sel.and_then(|s| meta::as_selector(Some(s))) {
        let labels = v::at(spec, &["template", "metadata", "labels"]);
        if !selector.matches(&meta::label_set(labels)) {
            errs.push(invalid(
                "spec.template.metadata.labels",
                Bad::Go(go_string_map(labels)),
                "`selector` does not match template `labels`",
            ));
        }
    }
}

/// `ValidateJob`.
pub(crate) fn job(j: &Value, errs: &mut Errs) {
    meta::object_meta(j, true, NameRule::Subdomain, errs);
    generated_selector(j, errs);
    job_spec(j, errs);
    let spec = j.get("spec").unwrap_or(&Value::Null);
    if v::s(spec, &["completionMode"]) == "Indexed" {
        if let Some(c) = v::int(spec, &["completions"]).filter(|c| *c > 0) {
            let name = v::s(j, &["metadata", "name"]);
            let host = format!("{name}-{}", c - 1);
            if !super::names::dns1123_label(&host).is_empty() {
                errs.push(invalid(
                    "metadata.name",
                    Bad::str(name),
                    &format!("will not able to create pod with invalid DNS label: {host}"),
                ));
            }
        }
    }
}

fn immutable(new: &Value, old: &Value, path: &[&str], display: &str, errs: &mut Errs) {
    let (n, o) = (v::at(new, path), v::at(old, path));
    if !v::semantic_eq(n, o) {
        let bad = match n {
            None | Some(Value::Null) => Bad::Null,
            Some(Value::Number(x)) => Bad::Int(x.as_i64().unwrap_or(0)),
            Some(Value::String(s)) => Bad::Str(s.clone()),
            Some(other) if display == "spec.selector" => Bad::Go(go_label_selector(other)),
            Some(other) => Bad::Go(go_struct("core.PodTemplateSpec", Some(other))),
        };
        errs.push(invalid(display, bad, "field is immutable"));
    }
}

/// `ValidateJobUpdate`.
pub(crate) fn job_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    generated_selector(new, errs);
    job_spec(new, errs);
    let indexed = v::s(new, &["spec", "completionMode"]) == "Indexed";
    let elastic = indexed
        && v::int(new, &["spec", "completions"]) == v::int(new, &["spec", "parallelism"])
        && v::int(old, &["spec", "completions"]) == v::int(old, &["spec", "parallelism"]);
    if !elastic {
        immutable(new, old, &["spec", "completions"], "spec.completions", errs);
    }
    immutable(new, old, &["spec", "selector"], "spec.selector", errs);
    // a suspended job that never started may change its scheduling directives
    let mutable_template = v::boolean(new, &["spec", "suspend"]) == Some(true)
        && v::int(old, &["status", "active"]).unwrap_or(0) == 0
        && !v::present(old, &["status", "startTime"]);
    if mutable_template {
        let strip = |x: &Value| {
            let mut t = v::at(x, &["spec", "template"])
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                for f in ["nodeSelector", "tolerations", "affinity", "schedulingGates"] {
                    s.remove(f);
                }
            }
            if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("labels");
                m.remove("annotations");
            }
            t
        };
        if !v::semantic_eq(Some(&strip(new)), Some(&strip(old))) {
            immutable(new, old, &["spec", "template"], "spec.template", errs);
        }
    } else {
        immutable(new, old, &["spec", "template"], "spec.template", errs);
    }
    for f in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        immutable(new, old, &["spec", f], &format!("spec.{f}"), errs);
    }
}

/// Whether a time zone name is syntactically an IANA name (`validTimeZoneCharacters`).
pub(crate) fn time_zone_syntax_ok(tz: &str) -> bool {
    !tz.is_empty()
        && tz.split('/').all(|part| {
            part != "."
                && part != ".."
                && !part.starts_with('-')
                && !part.is_empty()
                && part
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+'))
        })
}

fn cron_job_spec(cj: &Value, errs: &mut Errs) {
    let spec = cj.get("spec").unwrap_or(&Value::Null);
    let schedule = v::s(spec, &["schedule"]);
    if schedule.is_empty() {
        errs.push(required("spec.schedule", ""));
    } else {
        if let Err(e) = skiff_api::cron::parse_standard(schedule, &jiff::tz::TimeZone::UTC) {
            errs.push(invalid("spec.schedule", Bad::str(schedule), &e));
        }
        if schedule.contains("TZ") {
            errs.push(invalid(
                "spec.schedule",
                Bad::str(schedule),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    nonnegative(
        v::int(spec, &["startingDeadlineSeconds"]),
        "spec.startingDeadlineSeconds",
        errs,
    );
    match v::s(spec, &["concurrencyPolicy"]) {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(required("spec.concurrencyPolicy", "")),
        other => errs.push(not_supported(
            "spec.concurrencyPolicy",
            Bad::str(other),
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = spec.get("jobTemplate").unwrap_or(&Value::Null);
    meta::labels(
        v::at(jt, &["metadata", "labels"]),
        "spec.jobTemplate.labels",
        errs,
    );
    meta::annotations(
        v::at(jt, &["metadata", "annotations"]),
        "spec.jobTemplate.annotations",
        errs,
    );
    let jspec = jt.get("spec").unwrap_or(&Value::Null);
    job_spec_common(jspec, "spec.jobTemplate.spec", errs);
    if let Some(sel) = jspec.get("selector").filter(|s| !s.is_null()) {
        errs.push(invalid(
            "spec.jobTemplate.spec.selector",
            Bad::Go(go_label_selector(sel)),
            "`selector` will be auto-generated",
        ));
    }
    if v::boolean(jspec, &["manualSelector"]) == Some(true) {
        errs.push(not_supported(
            "spec.jobTemplate.spec.manualSelector",
            Bad::Bool(true),
            &["nil", "false"],
        ));
    }
    nonnegative(
        v::int(spec, &["successfulJobsHistoryLimit"]),
        "spec.successfulJobsHistoryLimit",
        errs,
    );
    nonnegative(
        v::int(spec, &["failedJobsHistoryLimit"]),
        "spec.failedJobsHistoryLimit",
        errs,
    );
    if let Some(tz) = v::opt_s(spec, &["timeZone"]) {
        if tz.is_empty() {
            errs.push(invalid(
                "spec.timeZone",
                Bad::str(tz),
                "timeZone must be nil or non-empty string",
            ));
        } else if !time_zone_syntax_ok(tz) {
            errs.push(invalid(
                "spec.timeZone",
                Bad::str(tz),
                &format!("unknown time zone {tz}"),
            ));
        } else if tz.eq_ignore_ascii_case("local") {
            errs.push(invalid(
                "spec.timeZone",
                Bad::str(tz),
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            ));
        }
    }
}

/// `ValidateCronJobCreate`.
pub(crate) fn cron_job(cj: &Value, errs: &mut Errs) {
    meta::object_meta(cj, true, NameRule::Subdomain, errs);
    cron_job_spec(cj, errs);
    let name = v::s(cj, &["metadata", "name"]);
    if name.len() > 52 {
        errs.push(invalid(
            "metadata.name",
            Bad::str(name),
            "must be no more than 52 characters",
        ));
    }
}

/// `ValidateCronJobUpdate`.
pub(crate) fn cron_job_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    cron_job_spec(new, errs);
}
