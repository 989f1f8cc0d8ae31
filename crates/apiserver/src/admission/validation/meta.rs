//! Object metadata rules (`ValidateObjectMeta`, `ValidateObjectMetaUpdate`) and the shared
//! checks of labels, annotations, finalizers, owner references and `metav1.LabelSelector`
//! (`ValidateLabelSelector`), with label matching done by [`skiff_api::labels`].

use std::collections::BTreeMap;

use serde_json::Value;
use skiff_api::labels::{LabelSelector, MetaLabelSelector};

use super::names::{self, NameRule};
use crate::admission::field::{
    self, child, forbidden, go_string_slice, index, invalid, required, too_long, Bad, Errs,
};
use crate::admission::value as v;

/// Total size of all annotation keys and values (256 KiB).
pub(crate) const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

/// `ValidateLabelName`.
pub(crate) fn label_name(name: &str, path: &str, errs: &mut Errs) {
    for m in names::qualified_name(name) {
        errs.push(invalid(path, Bad::str(name), &m));
    }
}

/// `ValidateLabels` on a map (`metadata.labels`, `spec.selector`, `nodeSelector`).
pub(crate) fn labels(map: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(m) = map.and_then(Value::as_object) else {
        return;
    };
    for (k, val) in m {
        label_name(k, path, errs);
        let val = val.as_str().unwrap_or("");
        for msg in names::label_value(val) {
            errs.push(invalid(path, Bad::str(val), &msg));
        }
    }
}

/// `ValidateAnnotations`.
pub(crate) fn annotations(map: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(m) = map.and_then(Value::as_object) else {
        return;
    };
    let mut total = 0usize;
    for (k, val) in m {
        for msg in names::qualified_name(&k.to_lowercase()) {
            errs.push(invalid(path, Bad::str(k), &msg));
        }
        total += k.len() + val.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE {
        errs.push(too_long(path, TOTAL_ANNOTATION_SIZE));
    }
}

/// Finalizer names that need no domain prefix.
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

fn finalizers(meta: &Value, path: &str, errs: &mut Errs) {
    let list = v::strings(meta, &["finalizers"]);
    let fpath = child(path, "finalizers");
    for f in &list {
        for m in names::qualified_name(f) {
            errs.push(invalid(&fpath, Bad::str(f), &m));
        }
    }
    if list.iter().any(|f| f == "orphan") && list.iter().any(|f| f == "foregroundDeletion") {
        errs.push(invalid(
            &fpath,
            Bad::Go(go_string_slice(meta.get("finalizers"))),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    // core's validateKubeFinalizerName
    for (i, f) in list.iter().enumerate() {
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f.as_str()) {
            errs.push(invalid(
                &index(&fpath, i),
                Bad::str(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

fn owner_references(meta: &Value, path: &str, errs: &mut Errs) {
    let path = child(path, "ownerReferences");
    let mut first_controller = String::new();
    for r in v::arr(meta, &["ownerReferences"]) {
        let api_version = v::s(r, &["apiVersion"]);
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errs.push(invalid(
                &child(&path, "apiVersion"),
                Bad::str(api_version),
                "version must not be empty",
            ));
        }
        let kind = v::s(r, &["kind"]);
        if kind.is_empty() {
            errs.push(invalid(
                &child(&path, "kind"),
                Bad::str(kind),
                "kind must not be empty",
            ));
        }
        let name = v::s(r, &["name"]);
        if name.is_empty() {
            errs.push(invalid(
                &child(&path, "name"),
                Bad::str(name),
                "name must not be empty",
            ));
        }
        let uid = v::s(r, &["uid"]);
        if uid.is_empty() {
            errs.push(invalid(
                &child(&path, "uid"),
                Bad::str(uid),
                "uid must not be empty",
            ));
        }
        if api_version == "v1" && kind == "Event" {
            errs.push(invalid(
                &path,
                Bad::Go(field::go_struct("v1.OwnerReference", Some(r))),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if v::boolean(r, &["controller"]) == Some(true) {
            let current = format!("{kind}/{name}");
            if first_controller.is_empty() {
                first_controller = current;
            } else {
                errs.push(invalid(
                    &path,
                    Bad::Go(field::go_struct("[]v1.OwnerReference", meta.get("ownerReferences"))),
                    &format!("Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {current}"),
                ));
            }
        }
    }
}

/// `ValidateObjectMeta` for a create: name (or generateName) by `rule`, namespace required
/// or forbidden, generation, labels, annotations, owner references, finalizers.
pub(crate) fn object_meta(obj: &Value, namespaced: bool, rule: NameRule, errs: &mut Errs) {
    let empty = Value::Null;
    let meta = obj.get("metadata").unwrap_or(&empty);
    let path = "metadata";
    let generate = v::s(meta, &["generateName"]);
    if !generate.is_empty() {
        for m in rule.check(generate, true) {
            errs.push(invalid("metadata.generateName", Bad::str(generate), &m));
        }
    }
    let name = v::s(meta, &["name"]);
    if name.is_empty() {
        errs.push(required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for m in rule.check(name, false) {
            errs.push(invalid("metadata.name", Bad::str(name), &m));
        }
    }
    let ns = v::s(meta, &["namespace"]);
    if namespaced {
        if ns.is_empty() {
            errs.push(required("metadata.namespace", ""));
        } else {
            for m in NameRule::Label.check(ns, false) {
                errs.push(invalid("metadata.namespace", Bad::str(ns), &m));
            }
        }
    } else if !ns.is_empty() {
        errs.push(forbidden("metadata.namespace", "not allowed on this type"));
    }
    if let Some(g) = v::int(meta, &["generation"]) {
        if g < 0 {
            errs.push(invalid(
                "metadata.generation",
                Bad::Int(g),
                "must be greater than or equal to 0",
            ));
        }
    }
    labels(meta.get("labels"), &child(path, "labels"), errs);
    annotations(meta.get("annotations"), &child(path, "annotations"), errs);
    owner_references(meta, path, errs);
    finalizers(meta, path, errs);
}

fn immutable_meta_field(new: &Value, old: &Value, name: &str, errs: &mut Errs) {
    let a = new.get(name);
    let b = old.get(name);
    if !v::semantic_eq(a, b) {
        let bad = match a {
            Some(Value::String(s)) => Bad::Str(s.clone()),
            Some(Value::Number(n)) => Bad::Int(n.as_i64().unwrap_or(0)),
            None | Some(Value::Null) => match name {
                "uid" | "name" | "namespace" => Bad::str(""),
                _ => Bad::Null,
            },
            Some(x) => Bad::Go(x.to_string()),
        };
        errs.push(invalid(
            &format!("metadata.{name}"),
            bad,
            "field is immutable",
        ));
    }
}

/// `ValidateObjectMetaUpdate`: identity fields immutable, generation not decremented, no new
/// finalizers while deleting, then the create-time syntax checks of labels and annotations.
/// (The resourceVersion precondition is the storage layer's business and is not checked.)
pub(crate) fn object_meta_update(new_obj: &Value, old_obj: &Value, errs: &mut Errs) {
    let empty = Value::Null;
    let new = new_obj.get("metadata").unwrap_or(&empty);
    let old = old_obj.get("metadata").unwrap_or(&empty);
    if v::present(old, &["deletionTimestamp"]) {
        let old_f = v::strings(old, &["finalizers"]);
        let mut extra: Vec<String> = v::strings(new, &["finalizers"])
            .into_iter()
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort();
        extra.dedup();
        if !extra.is_empty() {
            let quoted: Vec<String> = extra.iter().map(|f| field::go_quote(f)).collect();
            errs.push(forbidden(
                "metadata.finalizers",
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    quoted.join(", ")
                ),
            ));
        }
    }
    let (ng, og) = (
        v::int(new, &["generation"]).unwrap_or(0),
        v::int(old, &["generation"]).unwrap_or(0),
    );
    if ng < og {
        errs.push(invalid(
            "metadata.generation",
            Bad::Int(ng),
            "must not be decremented",
        ));
    }
    for f in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        immutable_meta_field(new, old, f, errs);
    }
    labels(new.get("labels"), "metadata.labels", errs);
    annotations(new.get("annotations"), "metadata.annotations", errs);
    owner_references(new, "metadata", errs);
    // core's ValidateObjectMetaUpdate adds the finalizer name checks
    for (i, f) in v::strings(new, &["finalizers"]).iter().enumerate() {
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f.as_str()) {
            errs.push(invalid(
                &index("metadata.finalizers", i),
                Bad::str(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

/// `ValidateLabelSelector` (a nil selector is valid here; callers require it when needed).
pub(crate) fn label_selector(sel: Option<&Value>, path: &str, errs: &mut Errs) {
    let Some(sel) = sel.filter(|s| s.is_object()) else {
        return;
    };
    labels(sel.get("matchLabels"), &child(path, "matchLabels"), errs);
    for (i, e) in v::arr(sel, &["matchExpressions"]).iter().enumerate() {
        let p = index(&child(path, "matchExpressions"), i);
        let op = v::s(e, &["operator"]);
        let values = v::strings(e, &["values"]);
        match op {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(required(
                        &child(&p, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(forbidden(
                        &child(&p, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            _ => errs.push(invalid(
                &child(&p, "operator"),
                Bad::str(op),
                "not a valid selector operator",
            )),
        }
        label_name(v::s(e, &["key"]), &child(&p, "key"), errs);
        for (j, val) in values.iter().enumerate() {
            for m in names::label_value(val) {
                errs.push(invalid(&index(&child(&p, "values"), j), Bad::str(val), &m));
            }
        }
    }
}

/// `metav1.LabelSelectorAsSelector`: None when the selector does not convert.
pub(crate) fn as_selector(sel: Option<&Value>) -> Option<LabelSelector> {
    match sel {
        None | Some(Value::Null) => Some(LabelSelector::nothing()),
        Some(s) => {
            let meta: MetaLabelSelector = serde_json::from_value(s.clone()).ok()?;
            LabelSelector::from_meta(&meta).ok()
        }
    }
}

/// A string map as the `BTreeMap` selectors match against.
pub(crate) fn label_set(map: Option<&Value>) -> BTreeMap<String, String> {
    map.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_str().map(|x| (k.clone(), x.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a `metav1.LabelSelector` has neither matchLabels nor matchExpressions.
pub(crate) fn selector_is_empty(sel: &Value) -> bool {
    v::obj(sel, &["matchLabels"]).is_none_or(|m| m.is_empty())
        && v::arr(sel, &["matchExpressions"]).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_required_and_namespace_rules() {
        let mut errs = Errs::new();
        object_meta(
            &json!({"metadata": {}}),
            true,
            NameRule::Subdomain,
            &mut errs,
        );
        assert_eq!(errs[0].field, "metadata.name");
        assert_eq!(
            errs[0].message,
            "Required value: name or generateName is required"
        );
        assert_eq!(errs[1].field, "metadata.namespace");
        let mut errs = Errs::new();
        object_meta(
            &json!({"metadata": {"name": "x", "namespace": "default"}}),
            false,
            NameRule::Subdomain,
            &mut errs,
        );
        assert_eq!(errs[0].message, "Forbidden: not allowed on this type");
    }

    #[test]
    fn bad_label_value() {
        let mut errs = Errs::new();
        labels(Some(&json!({"app": "-bad"})), "metadata.labels", &mut errs);
        assert_eq!(errs[0].field, "metadata.labels");
        assert!(errs[0]
            .message
            .starts_with("Invalid value: \"-bad\": a valid label must be"));
    }

    #[test]
    fn immutable_uid() {
        let mut errs = Errs::new();
        object_meta_update(
            &json!({"metadata": {"name": "a", "uid": "2"}}),
            &json!({"metadata": {"name": "a", "uid": "1"}}),
            &mut errs,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "metadata.uid");
        assert_eq!(errs[0].message, "Invalid value: \"2\": field is immutable");
    }
}
