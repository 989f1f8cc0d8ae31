//! apps/v1 validation (`pkg/apis/apps/validation` plus the strategies' update rules):
//! Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision. Selectors are required,
//! non-empty, must match the template labels, and are immutable on update.

use serde_json::Value;

use super::meta;
use super::names::{self, NameRule};
use super::pod::{self, nonnegative};
use crate::admission::field::{
    child, forbidden, go_int_or_string, go_label_selector, go_string_map, go_struct, invalid,
    not_supported, required, Bad, Errs,
};
use crate::admission::value as v;

fn selector_bad(sel: &Value) -> Bad {
    Bad::Go(go_label_selector(sel))
}

/// The selector checks shared by the workloads: required, valid, non-empty (`what` names
/// the kind in the message), and matching the template labels.
fn selector_and_template(
    spec: &Value,
    what: &str,
    require_nonempty: bool,
    errs: &mut Errs,
) -> bool {
    let sel = spec.get("selector").filter(|s| !s.is_null());
    match sel {
        None => errs.push(required("spec.selector", "")),
        Some(s) => {
            meta::label_selector(Some(s), "spec.selector", errs);
            if require_nonempty && meta::selector_is_empty(s) {
                errs.push(invalid(
                    "spec.selector",
                    selector_bad(s),
                    &format!("empty selector is invalid for {what}"),
                ));
            }
        }
    }
    match meta::as_selector(sel) {
        Some(selector) => {
            let labels = v::at(spec, &["template", "metadata", "labels"]);
            if !selector.is_everything() && !selector.matches(&meta::label_set(labels)) {
                errs.push(invalid(
                    "spec.template.metadata.labels",
                    Bad::Go(go_string_map(labels)),
                    "`selector` does not match template `labels`",
                ));
            }
            true
        }
        None => {
            errs.push(invalid(
                "spec.selector",
                sel.map_or(Bad::Null, selector_bad),
                "invalid label selector",
            ));
            false
        }
    }
}

fn template_restart_and_deadline(spec: &Value, kind: &str, errs: &mut Errs) {
    let rp = v::s(spec, &["template", "spec", "restartPolicy"]);
    if rp != "Always" {
        errs.push(not_supported(
            "spec.template.spec.restartPolicy",
            Bad::str(rp),
            &["Always"],
        ));
    }
    if v::present(spec, &["template", "spec", "activeDeadlineSeconds"]) {
        errs.push(forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            &format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

fn template(spec: &Value, errs: &mut Errs) {
    let empty = Value::Null;
    pod::pod_template_spec(
        spec.get("template").unwrap_or(&empty),
        "spec.template",
        errs,
    );
}

/// `ValidatePositiveIntOrPercent`.
fn positive_int_or_percent(val: Option<&Value>, path: &str, errs: &mut Errs) {
    match val {
        Some(Value::String(s)) => {
            for m in names::percent(s) {
                errs.push(invalid(path, Bad::Go(go_int_or_string(val)), &m));
            }
        }
        Some(Value::Number(n)) => nonnegative(n.as_i64(), path, errs),
        _ => {}
    }
}

fn int_or_percent_value(val: Option<&Value>) -> i64 {
    match val {
        Some(Value::String(s)) => s
            .strip_suffix('%')
            .and_then(|d| d.parse().ok())
            .unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

fn not_more_than_100_percent(val: Option<&Value>, path: &str, errs: &mut Errs) {
    if let Some(Value::String(s)) = val {
        if names::percent(s).is_empty() && int_or_percent_value(val) > 100 {
            errs.push(invalid(
                path,
                Bad::Go(go_int_or_string(val)),
                "must not be greater than 100%",
            ));
        }
    }
}

fn deployment_strategy(spec: &Value, errs: &mut Errs) {
    let strat = spec.get("strategy").unwrap_or(&Value::Null);
    match v::s(strat, &["type"]) {
        "Recreate" => {
            if v::present(strat, &["rollingUpdate"]) {
                errs.push(forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strat.get("rollingUpdate").filter(|r| r.is_object()) {
            None => errs.push(required(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let p = "spec.strategy.rollingUpdate";
                positive_int_or_percent(
                    ru.get("maxUnavailable"),
                    &child(p, "maxUnavailable"),
                    errs,
                );
                positive_int_or_percent(ru.get("maxSurge"), &child(p, "maxSurge"), errs);
                if int_or_percent_value(ru.get("maxUnavailable")) == 0
                    && int_or_percent_value(ru.get("maxSurge")) == 0
                {
                    errs.push(invalid(
                        &child(p, "maxUnavailable"),
                        Bad::Go(go_int_or_string(ru.get("maxUnavailable"))),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                not_more_than_100_percent(
                    ru.get("maxUnavailable"),
                    &child(p, "maxUnavailable"),
                    errs,
                );
            }
        },
        _ => errs.push(not_supported(
            "spec.strategy",
            Bad::Go(go_struct("apps.DeploymentStrategy", Some(strat))),
            &["Recreate", "RollingUpdate"],
        )),
    }
}

/// `ValidateDeployment`.
pub(crate) fn deployment(d: &Value, errs: &mut Errs) {
    meta::object_meta(d, true, NameRule::Subdomain, errs);
    deployment_spec(d, errs);
}

fn deployment_spec(d: &Value, errs: &mut Errs) {
    let spec = d.get("spec").unwrap_or(&Value::Null);
    nonnegative(v::int(spec, &["replicas"]), "spec.replicas", errs);
    if selector_and_template(spec, "deployment", true, errs) {
        template(spec, errs);
        template_restart_and_deadline(spec, "ReplicaSet", errs);
    }
    deployment_strategy(spec, errs);
    let min_ready = v::int(spec, &["minReadySeconds"]).unwrap_or(0);
    nonnegative(Some(min_ready), "spec.minReadySeconds", errs);
    nonnegative(
        v::int(spec, &["revisionHistoryLimit"]),
        "spec.revisionHistoryLimit",
        errs,
    );
    if let Some(pds) = v::int(spec, &["progressDeadlineSeconds"]) {
        nonnegative(Some(pds), "spec.progressDeadlineSeconds", errs);
        if pds <= min_ready {
            errs.push(invalid(
                "spec.progressDeadlineSeconds",
                Bad::Int(pds),
                "must be greater than minReadySeconds",
            ));
        }
    }
}

fn immutable_selector(new: &Value, old: &Value, errs: &mut Errs) {
    let n = v::at(new, &["spec", "selector"]);
    let o = v::at(old, &["spec", "selector"]);
    if !v::semantic_eq(n, o) {
        errs.push(invalid(
            "spec.selector",
            n.map_or(Bad::Null, selector_bad),
            "field is immutable",
        ));
    }
}

/// Deployment update: metadata, spec, and the apps/v1 selector immutability.
pub(crate) fn deployment_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    deployment_spec(new, errs);
    immutable_selector(new, old, errs);
}

/// `ValidateReplicaSet`.
pub(crate) fn replica_set(rs: &Value, errs: &mut Errs) {
    meta::object_meta(rs, true, NameRule::Subdomain, errs);
    replica_set_spec(rs, errs);
}

fn replica_set_spec(rs: &Value, errs: &mut Errs) {
    let spec = rs.get("spec").unwrap_or(&Value::Null);
    nonnegative(v::int(spec, &["replicas"]), "spec.replicas", errs);
    nonnegative(
        v::int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errs,
    );
    if selector_and_template(spec, "deployment", true, errs) {
        template(spec, errs);
        template_restart_and_deadline(spec, "ReplicaSet", errs);
    }
}

/// ReplicaSet update.
pub(crate) fn replica_set_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    replica_set_spec(new, errs);
    immutable_selector(new, old, errs);
}

fn statefulset_spec(spec: &Value, errs: &mut Errs) {
    match v::s(spec, &["podManagementPolicy"]) {
        "" => errs.push(required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(invalid(
            "spec.podManagementPolicy",
            Bad::str(other),
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let us = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match v::s(us, &["type"]) {
        "" => errs.push(required("spec.updateStrategy", "")),
        "OnDelete" => {
            if let Some(ru) = us.get("rollingUpdate").filter(|r| !r.is_null()) {
                errs.push(invalid(
                    "spec.updateStrategy.rollingUpdate",
                    Bad::Go(go_struct("apps.RollingUpdateStatefulSetStrategy", Some(ru))),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = us.get("rollingUpdate").filter(|r| r.is_object()) {
                let p = "spec.updateStrategy.rollingUpdate";
                nonnegative(v::int(ru, &["partition"]), &child(p, "partition"), errs);
                if let Some(mu) = ru.get("maxUnavailable").filter(|m| !m.is_null()) {
                    let mp = child(p, "maxUnavailable");
                    positive_int_or_percent(Some(mu), &mp, errs);
                    if int_or_percent_value(Some(mu)) == 0 {
                        errs.push(invalid(
                            &mp,
                            Bad::Go(go_int_or_string(Some(mu))),
                            "cannot be 0",
                        ));
                    }
                    not_more_than_100_percent(Some(mu), &mp, errs);
                }
            }
        }
        _ => errs.push(invalid(
            "spec.updateStrategy",
            Bad::Go(go_struct("apps.StatefulSetUpdateStrategy", Some(us))),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    for f in ["whenDeleted", "whenScaled"] {
        if let Some(p) = v::opt_s(spec, &["persistentVolumeClaimRetentionPolicy", f]) {
            if p != "Retain" && p != "Delete" {
                errs.push(not_supported(
                    &format!("spec.persistentVolumeClaimRetentionPolicy.{f}"),
                    Bad::str(p),
                    &["Retain", "Delete"],
                ));
            }
        }
    }
    nonnegative(v::int(spec, &["replicas"]), "spec.replicas", errs);
    nonnegative(
        v::int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errs,
    );
    nonnegative(
        v::int(spec, &["ordinals", "start"]),
        "spec.ordinals.start",
        errs,
    );
    if selector_and_template(spec, "statefulset", true, errs) {
        meta::labels(
            v::at(spec, &["template", "metadata", "labels"]),
            "spec.template.labels",
            errs,
        );
        meta::annotations(
            v::at(spec, &["template", "metadata", "annotations"]),
            "spec.template.annotations",
            errs,
        );
    }
    template_restart_and_deadline(spec, "StatefulSet", errs);
}

/// `ValidateStatefulSet`.
pub(crate) fn stateful_set(s: &Value, errs: &mut Errs) {
    meta::object_meta(s, true, NameRule::Label, errs);
    statefulset_spec(s.get("spec").unwrap_or(&Value::Null), errs);
}

/// `ValidateStatefulSetUpdate`.
pub(crate) fn stateful_set_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    statefulset_spec(new.get("spec").unwrap_or(&Value::Null), errs);
    let strip = |x: &Value| {
        let mut s = x.get("spec").cloned().unwrap_or(Value::Null);
        if let Some(m) = s.as_object_mut() {
            for f in [
                "replicas",
                "template",
                "updateStrategy",
                "minReadySeconds",
                "ordinals",
                "persistentVolumeClaimRetentionPolicy",
            ] {
                m.remove(f);
            }
        }
        s
    };
    if !v::semantic_eq(Some(&strip(new)), Some(&strip(old))) {
        errs.push(forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}

fn daemonset_spec(spec: &Value, errs: &mut Errs) {
    let sel = spec.get("selector").filter(|s| !s.is_null());
    meta::label_selector(sel, "spec.selector", errs);
    if let Some(selector) = meta::as_selector(sel) {
        let labels = v::at(spec, &["template", "metadata", "labels"]);
        if !selector.matches(&meta::label_set(labels)) {
            errs.push(invalid(
                "spec.template.metadata.labels",
                Bad::Go(go_string_map(labels)),
                "`selector` does not match template `labels`",
            ));
        }
    }
    if let Some(s) = sel {
        if meta::selector_is_empty(s) {
            errs.push(invalid(
                "spec.selector",
                selector_bad(s),
                "empty selector is invalid for daemonset",
            ));
        }
    }
    template(spec, errs);
    template_restart_and_deadline(spec, "DaemonSet", errs);
    nonnegative(
        v::int(spec, &["minReadySeconds"]),
        "spec.minReadySeconds",
        errs,
    );
    let us = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match v::s(us, &["type"]) {
        "OnDelete" => {}
        "RollingUpdate" => match us.get("rollingUpdate").filter(|r| r.is_object()) {
            None => errs.push(required("spec.updateStrategy.rollingUpdate", "")),
            Some(ru) => {
                let p = "spec.updateStrategy.rollingUpdate";
                let (mu, ms) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
                positive_int_or_percent(mu, &child(p, "maxUnavailable"), errs);
                positive_int_or_percent(ms, &child(p, "maxSurge"), errs);
                not_more_than_100_percent(mu, &child(p, "maxUnavailable"), errs);
                not_more_than_100_percent(ms, &child(p, "maxSurge"), errs);
                let has_u = int_or_percent_value(mu) != 0;
                let has_s = int_or_percent_value(ms) != 0;
                if has_u && has_s {
                    errs.push(invalid(
                        &child(p, "maxSurge"),
                        Bad::Go(go_int_or_string(ms)),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if !has_u && !has_s {
                    errs.push(required(
                        &child(p, "maxUnavailable"),
                        "cannot be 0 when maxSurge is 0",
                    ));
                }
            }
        },
        _ => errs.push(not_supported(
            "spec.updateStrategy",
            Bad::Go(go_struct("apps.DaemonSetUpdateStrategy", Some(us))),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    nonnegative(
        v::int(spec, &["revisionHistoryLimit"]),
        "spec.revisionHistoryLimit",
        errs,
    );
}

/// `ValidateDaemonSet`.
pub(crate) fn daemon_set(ds: &Value, errs: &mut Errs) {
    meta::object_meta(ds, true, NameRule::Subdomain, errs);
    daemonset_spec(ds.get("spec").unwrap_or(&Value::Null), errs);
}

/// `ValidateDaemonSetUpdate` plus the apps/v1 selector immutability.
pub(crate) fn daemon_set_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    daemonset_spec(new.get("spec").unwrap_or(&Value::Null), errs);
    immutable_selector(new, old, errs);
}

/// `ValidateControllerRevision`.
pub(crate) fn controller_revision(cr: &Value, errs: &mut Errs) {
    meta::object_meta(cr, true, NameRule::Subdomain, errs);
    if !v::present(cr, &["data"]) {
        errs.push(required("data", "data is mandatory"));
    }
    nonnegative(v::int(cr, &["revision"]), "revision", errs);
}

/// `ValidateControllerRevisionUpdate`.
pub(crate) fn controller_revision_update(new: &Value, old: &Value, errs: &mut Errs) {
    meta::object_meta_update(new, old, errs);
    controller_revision(new, errs);
    if !v::semantic_eq(new.get("data"), old.get("data")) {
        errs.push(invalid(
            "data",
            Bad::Go(go_struct("runtime.RawExtension", new.get("data"))),
            "field is immutable",
        ));
    }
}

/// The status update checks of apps workloads: counts non-negative.
pub(crate) fn workload_status(obj: &Value, errs: &mut Errs) {
    if let Some(st) = v::obj(obj, &["status"]) {
        for (k, val) in st {
            if let Some(n) = val.as_i64() {
                if n < 0 && k != "observedGeneration" {
                    errs.push(invalid(
                        &format!("status.{k}"),
                        Bad::Int(n),
                        "must be greater than or equal to 0",
                    ));
                }
            }
        }
    }
}
