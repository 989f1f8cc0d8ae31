//! JSON patch (RFC 6902, `application/json-patch+json`) with the behaviour of the library
//! kube-apiserver uses (evanphx/json-patch v4): negative array indices count from the end,
//! `replace` of a missing object key adds it, `add` / `copy` without a value write `null`,
//! `test` of a missing key against `null` passes, copies are limited in total size.

use serde_json::{Map, Value};

use super::PatchError;

/// Upstream's limit on operations in one patch (413 above it).
pub const MAX_OPERATIONS: usize = 10_000;

/// Upstream's default limit on bytes added by `copy` operations (`JSONPatchMaxCopyBytes`).
pub const MAX_COPY_BYTES: usize = 3 * 1024 * 1024;

/// Decodes the operations: a JSON array of objects (400 otherwise, worded as Go's decoder).
pub fn decode_operations(patch: &[u8]) -> Result<Vec<Map<String, Value>>, PatchError> {
    let value: Value = serde_json::from_slice(patch)
        .map_err(|e| PatchError::BadRequest(super::syntax_message(&e, patch)))?;
    let Value::Array(items) = value else {
        return Err(PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            super::json_kind(&value)
        )));
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(op) => ops.push(op),
            Value::Null => ops.push(Map::new()),
            other => {
                return Err(PatchError::BadRequest(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                    super::json_kind(&other)
                )))
            }
        }
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(PatchError::TooLarge(format!(
            "The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {}",
            ops.len()
        )));
    }
    Ok(ops)
}

/// Applies the operations in order; any failure is upstream's 422.
pub fn apply(original: &Value, ops: &[Map<String, Value>]) -> Result<Value, PatchError> {
    let mut doc = original.clone();
    let mut copied = 0usize;
    for op in ops {
        apply_one(&mut doc, op, &mut copied).map_err(PatchError::Unprocessable)?;
    }
    Ok(doc)
}

fn string_field<'a>(op: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    op.get(name).and_then(Value::as_str)
}

fn apply_one(doc: &mut Value, op: &Map<String, Value>, copied: &mut usize) -> Result<(), String> {
    let kind = string_field(op, "op").unwrap_or("unknown");
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    match kind {
        "add" => {
            let path = string_field(op, "path").ok_or("add operation failed to decode path")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!("add operation does not apply: doc is missing path: \"{path}\"")
            })?;
            add(parent, &key, value).map_err(|e| format!("error in add for path: '{path}': {e}"))
        }
        "remove" => {
            let path = string_field(op, "path").ok_or("remove operation failed to decode path")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!("remove operation does not apply: doc is missing path: \"{path}\"")
            })?;
            remove(parent, &key)
                .map(|_| ())
                .map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "replace" => {
            let path = string_field(op, "path").ok_or("replace operation failed to decode path")?;
            if path.is_empty() {
                if !(value.is_object() || value.is_array()) {
                    return Err("replace operation value must be object or array".into());
                }
                *doc = value;
                return Ok(());
            }
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!("replace operation does not apply: doc is missing path: {path}")
            })?;
            replace(parent, &key, value).map_err(|_| {
                format!("replace operation does not apply: doc is missing key: {path}")
            })
        }
        "move" => {
            let from = string_field(op, "from").ok_or("move operation failed to decode from")?;
            let (parent, key) = find_parent(doc, from).ok_or_else(|| {
                format!("move operation does not apply: doc is missing from path: {from}")
            })?;
            get(parent, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let moved = remove(parent, &key)
                .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let path = string_field(op, "path").ok_or("move operation failed to decode path")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!("move operation does not apply: doc is missing destination path: {path}")
            })?;
            add(parent, &key, moved).map_err(|e| format!("error in move for path: '{path}': {e}"))
        }
        "test" => {
            let path = string_field(op, "path").ok_or("test operation failed to decode path")?;
            let failed = || format!("testing value {path} failed");
            if path.is_empty() {
                return if *doc == value { Ok(()) } else { Err(failed()) };
            }
            let (parent, key) = find_parent(doc, path)
                .ok_or_else(|| format!("test operation does not apply: is missing path: {path}"))?;
            let current =
                get(parent, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
            match current {
                None | Some(Value::Null) if value.is_null() => Ok(()),
                Some(v) if *v == value && !v.is_null() => Ok(()),
                _ => Err(failed()),
            }
        }
        "copy" => {
            let from = string_field(op, "from").ok_or("copy operation failed to decode from")?;
            let (parent, key) = find_parent(doc, from).ok_or_else(|| {
                format!("copy operation does not apply: doc is missing from path: {from}")
            })?;
            let source = get(parent, &key)
                .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
                .cloned()
                .unwrap_or(Value::Null);
            let path = string_field(op, "path").ok_or("copy operation failed to decode path")?;
            *copied += serde_json::to_vec(&source).map(|b| b.len()).unwrap_or(0);
            if *copied > MAX_COPY_BYTES {
                return Err(format!(
                    "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {MAX_COPY_BYTES}"
                ));
            }
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!("copy operation does not apply: doc is missing destination path: {path}")
            })?;
            add(parent, &key, source)
                .map_err(|e| format!("error while adding value during copy: {e}"))
        }
        other => Err(format!("Unexpected kind: {other}")),
    }
}

/// RFC 6901 unescaping.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Go's `strconv.Atoi`: optional sign, decimal digits.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

/// The container holding the last token of `path` and that token; `None` when the path is
/// not absolute enough (fewer than two `/`-separated parts) or a parent is missing or not a
/// container. Like upstream, everything before the first `/` is ignored.
fn find_parent<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let mut current = doc;
    for part in &split[1..split.len() - 1] {
        let key = unescape(part);
        current = match current {
            Value::Object(map) => map.get_mut(&key)?,
            Value::Array(items) => {
                let idx = array_index(&key, items.len()).ok()?;
                items.get_mut(idx)?
            }
            _ => return None,
        };
        if !(current.is_object() || current.is_array()) {
            return None;
        }
    }
    if !(current.is_object() || current.is_array()) {
        return None;
    }
    Some((current, unescape(split[split.len() - 1])))
}

fn invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: invalid index referenced")
}

/// An existing element's index (negative counts from the end).
fn array_index(key: &str, len: usize) -> Result<usize, String> {
    let idx = atoi(key)?;
    let len_i = len as i64;
    let adjusted = if idx < 0 {
        if idx < -len_i {
            return Err(invalid_index(idx));
        }
        idx + len_i
    } else {
        idx
    };
    if adjusted >= len_i {
        return Err(invalid_index(idx));
    }
    Ok(adjusted as usize)
}

fn get<'a>(container: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match container {
        Value::Object(map) => Ok(map.get(key)),
        Value::Array(items) => {
            let idx = array_index(key, items.len())?;
            Ok(items.get(idx))
        }
        _ => Err("invalid state detected".into()),
    }
}

fn add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let idx = atoi(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = items.len() as i64 + 1;
            if idx >= size {
                return Err(invalid_index(idx));
            }
            let at = if idx < 0 {
                if idx < -size {
                    return Err(invalid_index(idx));
                }
                idx + size
            } else {
                idx
            };
            items.insert(at as usize, value);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn remove(container: &mut Value, key: &str) -> Result<Value, String> {
    match container {
        Value::Object(map) => map
            .remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Array(items) => {
            let idx = array_index(key, items.len())?;
            Ok(items.remove(idx))
        }
        _ => Err("invalid state detected".into()),
    }
}

fn replace(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            let idx = array_index(key, items.len())?;
            items[idx] = value;
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: Value, patch: Value) -> Result<Value, PatchError> {
        let ops = decode_operations(&serde_json::to_vec(&patch).unwrap())?;
        apply(&doc, &ops)
    }

    fn pod() -> Value {
        json!({
            "metadata": { "name": "p", "labels": { "app": "web" } },
            "spec": { "containers": [
                { "name": "a", "image": "nginx" },
                { "name": "b", "image": "redis" },
            ] },
        })
    }

    #[test]
    fn rfc6902_operations() {
        let out = run(
            pod(),
            json!([
                { "op": "add", "path": "/metadata/labels/tier", "value": "fe" },
                { "op": "replace", "path": "/spec/containers/0/image", "value": "nginx:1.27" },
                { "op": "remove", "path": "/spec/containers/1" },
                { "op": "add", "path": "/spec/containers/-", "value": { "name": "c", "image": "x" } },
                { "op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/copy" },
                { "op": "move", "from": "/metadata/labels/tier", "path": "/metadata/labels/moved" },
                { "op": "test", "path": "/spec/containers/1/name", "value": "c" },
                { "op": "add", "path": "/metadata/annotations", "value": { "a~/b": "1" } },
                { "op": "remove", "path": "/metadata/annotations/a~0~1b" },
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "metadata": { "name": "p", "labels": { "app": "web", "copy": "web", "moved": "fe" }, "annotations": {} },
                "spec": { "containers": [
                    { "name": "a", "image": "nginx:1.27" },
                    { "name": "c", "image": "x" },
                ] },
            })
        );
    }

    #[test]
    fn upstream_quirks() {
        // Negative indices count from the end.
        let out = run(
            pod(),
            json!([{ "op": "remove", "path": "/spec/containers/-1" }]),
        )
        .unwrap();
        assert_eq!(out["spec"]["containers"].as_array().unwrap().len(), 1);
        let out = run(
            pod(),
            json!([{ "op": "add", "path": "/spec/containers/-1", "value": 1 }]),
        )
        .unwrap();
        assert_eq!(out["spec"]["containers"][2], 1);
        // replace of a missing object key adds it.
        let out = run(
            pod(),
            json!([{ "op": "replace", "path": "/metadata/labels/new", "value": "x" }]),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"]["new"], "x");
        // add without value writes null; test of a missing key against null passes.
        let out = run(pod(), json!([{ "op": "add", "path": "/metadata/x" }, { "op": "test", "path": "/metadata/y", "value": null }])).unwrap();
        assert_eq!(out["metadata"]["x"], Value::Null);
        // The root can be replaced by an object.
        let out = run(
            pod(),
            json!([{ "op": "replace", "path": "", "value": { "a": 1 } }]),
        )
        .unwrap();
        assert_eq!(out, json!({ "a": 1 }));
    }

    #[test]
    fn failures_are_422() {
        for patch in [
            json!([{ "op": "test", "path": "/metadata/name", "value": "q" }]),
            json!([{ "op": "remove", "path": "/metadata/nope" }]),
            json!([{ "op": "add", "path": "/nope/deeper", "value": 1 }]),
            json!([{ "op": "replace", "path": "/spec/containers/5", "value": 1 }]),
            json!([{ "op": "add", "path": "/spec/containers/9", "value": 1 }]),
            json!([{ "op": "add", "path": "/spec/containers/x", "value": 1 }]),
            json!([{ "op": "frobnicate", "path": "/a" }]),
            json!([{ "op": "add", "value": 1 }]),
            json!([{ "op": "add", "path": "", "value": 1 }]),
        ] {
            let err = run(pod(), patch.clone()).unwrap_err();
            assert_eq!(err.code(), 422, "{patch}");
            assert_eq!(
                err.message(),
                "the server rejected our request due to an error in our request"
            );
        }
        let err = run(
            pod(),
            json!([{ "op": "test", "path": "/metadata/name", "value": "q" }]),
        )
        .unwrap_err();
        assert_eq!(err.detail(), "testing value /metadata/name failed");
    }

    #[test]
    fn malformed_patches_are_400() {
        let err = decode_operations(br#"{"op":"add"}"#).unwrap_err();
        assert_eq!(err.code(), 400);
        assert_eq!(
            err.message(),
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        );
        let err = decode_operations(b"[\"x\"]").unwrap_err();
        assert_eq!(
            err.message(),
            "json: cannot unmarshal string into Go value of type jsonpatch.Operation"
        );
        assert_eq!(
            decode_operations(b"[").unwrap_err().message(),
            "unexpected end of JSON input"
        );
        let many: Vec<Value> = (0..=MAX_OPERATIONS)
            .map(|_| json!({ "op": "test", "path": "/a" }))
            .collect();
        let err = decode_operations(&serde_json::to_vec(&many).unwrap()).unwrap_err();
        assert_eq!(err.code(), 413);
        assert_eq!(
            err.message(),
            "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
        );
    }
}
