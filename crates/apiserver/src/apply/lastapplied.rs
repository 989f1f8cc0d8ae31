//! The bridge upstream keeps between client-side and server-side `kubectl apply` (manager
//! `kubectl` only): conflicts on fields whose live value still equals the one in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation are not conflicts (the
//! apply is forced), and an object carrying the annotation gets it rewritten to the new
//! applied configuration, so switching between the two modes keeps working.

use serde_json::Value;

use super::compare::{compare, Nulls};
use super::set::FieldSet;
use super::toset::to_field_set;
use super::typed::Schema;
use super::value::go_json;

/// The annotation client-side apply keeps its configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The manager name the bridge applies to.
pub const KUBECTL_MANAGER: &str = "kubectl";

/// Upstream's limit on the total size of an object's annotations.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

fn last_applied(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(LAST_APPLIED_ANNOTATION)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The fields of the last applied configuration whose live value is unchanged, or None when
/// there is no usable annotation.
pub fn allowed_conflicts(schema: Schema<'_>, live: &Value, api_version: &str) -> Option<FieldSet> {
    let text = last_applied(live)?;
    let last: Value = serde_json::from_str(text).ok()?;
    if !last.is_object() || last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let set = to_field_set(schema, &last, true).ok()?;
    let cmp = compare(schema, Some(&last), Some(live), Nulls::AsValues).ok()?;
    Some(
        set.difference(&cmp.modified)
            .difference(&cmp.added)
            .difference(&cmp.removed),
    )
}

/// Rewrites the annotation of `obj`, when it has one, to `applied` (without the annotation),
/// as JSON followed by a newline; drops it when annotations would grow past their limit.
pub fn update_annotation(obj: &mut Value, applied: &Value) {
    if last_applied(obj).is_none() {
        return;
    }
    let mut config = applied.clone();
    if let Some(a) = config
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED_ANNOTATION);
    }
    let text = format!("{}\n", go_json(&config));
    let Some(annotations) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    let size: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::path::Path;
    use crate::apply::schema::BuiltinListKeys;
    use serde_json::json;

    fn schema() -> Schema<'static> {
        Schema {
            keys: &BuiltinListKeys,
            name: "io.k8s.api.apps.v1.Deployment",
        }
    }

    #[test]
    fn unchanged_fields_of_the_last_applied_configuration_are_allowed() {
        let last = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": {"replicas": 1, "paused": false}});
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "annotations": {LAST_APPLIED_ANNOTATION: last.to_string()}},
            "spec": {"replicas": 3, "paused": false}});
        let allowed = allowed_conflicts(schema(), &live, "apps/v1").unwrap();
        assert!(allowed.has(&Path::fields(&["spec", "paused"]).0));
        assert!(!allowed.has(&Path::fields(&["spec", "replicas"]).0));
        assert!(allowed_conflicts(schema(), &live, "apps/v1beta1").is_none());
    }

    #[test]
    fn annotation_is_rewritten_only_when_present() {
        let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "<b>"}});
        let mut without = json!({"metadata": {"name": "c"}});
        update_annotation(&mut without, &applied);
        assert_eq!(without, json!({"metadata": {"name": "c"}}));
        let mut with =
            json!({"metadata": {"name": "c", "annotations": {LAST_APPLIED_ANNOTATION: "{}"}}});
        update_annotation(&mut with, &applied);
        assert_eq!(
            with["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"\\u003cb\\u003e\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}\n"
        );
    }
}
