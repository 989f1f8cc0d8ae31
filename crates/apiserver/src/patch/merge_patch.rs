//! JSON merge patch (RFC 7386, `application/merge-patch+json`) as kube-apiserver's library
//! (evanphx/json-patch v4 `MergePatch`) applies it: objects merge key by key, `null` deletes,
//! everything else (lists included) is replaced; nulls inside newly added values are dropped.

use serde_json::{Map, Value};

use super::PatchError;

/// Applies `patch` (already parsed) to `original`.
pub fn apply(original: &Value, patch: Value) -> Result<Value, PatchError> {
    match patch {
        // `null` as the whole patch is "Invalid JSON Patch" upstream.
        Value::Null => Err(PatchError::BadRequest("Invalid JSON Patch".into())),
        Value::Object(patch) => match original {
            Value::Object(doc) => {
                let mut doc = doc.clone();
                merge_docs(&mut doc, patch);
                Ok(Value::Object(doc))
            }
            _ => {
                let mut patch = patch;
                prune_doc_nulls(&mut patch);
                Ok(Value::Object(patch))
            }
        },
        // A list patch becomes the document (with nulls pruned inside its elements); the
        // decoding of the result then fails, as upstream.
        Value::Array(mut items) => {
            prune_array_nulls(&mut items);
            Ok(Value::Array(items))
        }
        _ => Err(PatchError::BadRequest("Invalid JSON Patch".into())),
    }
}

fn merge_docs(doc: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            doc.remove(&k);
            continue;
        }
        match doc.get_mut(&k) {
            None | Some(Value::Null) => {
                let mut v = v;
                prune_nulls(&mut v);
                doc.insert(k, v);
            }
            Some(current) => merge(current, v),
        }
    }
}

fn merge(current: &mut Value, patch: Value) {
    let Value::Object(cur) = current else {
        let mut patch = patch;
        prune_nulls(&mut patch);
        *current = patch;
        return;
    };
    match patch {
        Value::Object(p) => merge_docs(cur, p),
        other => *current = other,
    }
}

fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => prune_doc_nulls(m),
        Value::Array(items) => prune_array_nulls(items),
        _ => {}
    }
}

fn prune_doc_nulls(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        prune_nulls(v);
    }
}

/// Elements stay (nulls included); objects and lists inside them are pruned.
fn prune_array_nulls(items: &mut [Value]) {
    for v in items.iter_mut() {
        prune_nulls(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (doc, patch, want) in cases {
            assert_eq!(apply(&doc, patch.clone()).unwrap(), want, "{doc} + {patch}");
        }
    }

    #[test]
    fn kubernetes_objects() {
        let dep = json!({
            "metadata": { "name": "web", "labels": { "app": "web", "tier": "fe" } },
            "spec": { "replicas": 1, "template": { "spec": { "containers": [
                { "name": "a", "image": "nginx" }, { "name": "b", "image": "redis" }
            ] } } },
        });
        let out = apply(
            &dep,
            json!({ "metadata": { "labels": { "tier": null, "v": "2" } }, "spec": { "replicas": 3,
                "template": { "spec": { "containers": [{ "name": "a", "image": "nginx:2" }] } } } }),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({ "app": "web", "v": "2" }));
        assert_eq!(out["spec"]["replicas"], 3);
        // Lists are replaced whole.
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{ "name": "a", "image": "nginx:2" }])
        );
    }

    #[test]
    fn invalid_patches() {
        assert_eq!(
            apply(&json!({}), Value::Null).unwrap_err().message(),
            "Invalid JSON Patch"
        );
        assert_eq!(apply(&json!({}), json!("x")).unwrap_err().code(), 400);
        assert_eq!(
            apply(&json!({}), json!([1, null])).unwrap(),
            json!([1, null])
        );
    }
}
