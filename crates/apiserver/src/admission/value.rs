//! Safe access to JSON objects as clients send them: typed getters that treat a missing
//! field and a field of the wrong type alike (as absent), and setters that create the
//! intermediate objects. Nothing here panics on any input.

use serde_json::{Map, Value};

/// The value at `path` (object keys), if every step exists.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(*k)?;
    }
    Some(cur)
}

/// A string field; absent, null or not a string -> "".
pub(crate) fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    at(v, path).and_then(Value::as_str).unwrap_or("")
}

/// A string field that is present (possibly empty).
pub(crate) fn opt_s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// An integer field (JSON number without fraction).
pub(crate) fn int(v: &Value, path: &[&str]) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

/// A boolean field; absent -> None.
pub(crate) fn boolean(v: &Value, path: &[&str]) -> Option<bool> {
    at(v, path).and_then(Value::as_bool)
}

/// An array field; absent or not an array -> empty.
pub(crate) fn arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// An object field, if present and an object.
pub(crate) fn obj<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    at(v, path).and_then(Value::as_object)
}

/// Whether the field is present and not null.
pub(crate) fn present(v: &Value, path: &[&str]) -> bool {
    at(v, path).is_some_and(|x| !x.is_null())
}

/// The strings of a string array field (non-strings skipped).
pub(crate) fn strings(v: &Value, path: &[&str]) -> Vec<String> {
    arr(v, path)
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// A map of string to string (`labels`, `selector`, ...): non-string values are skipped.
pub(crate) fn string_map(v: &Value, path: &[&str]) -> Vec<(String, String)> {
    obj(v, path)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_str().map(|x| (k.clone(), x.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The object at `key` of `v`, created (or replaced when it is not an object) if needed.
/// Returns None only when `v` itself is not an object.
pub(crate) fn ensure_obj<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let m = v.as_object_mut()?;
    let entry = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// Walks (creating) nested objects along `path`.
pub(crate) fn ensure_path<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut cur = v;
    for k in path {
        if !cur.is_object() {
            return None;
        }
        ensure_obj(cur, k)?;
        cur = cur.as_object_mut()?.get_mut(*k)?;
    }
    Some(cur)
}

/// Sets `key` to `val` when it is absent, null, or (for strings) empty: what a Go
/// defaulter does for a zero value.
pub(crate) fn default_field(m: &mut Map<String, Value>, key: &str, val: Value) {
    let unset = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    if unset {
        m.insert(key.to_string(), val);
    }
}

/// Sets `key` when it is absent, null, or zero (a Go int defaulter: `if x == 0`).
pub(crate) fn default_int(m: &mut Map<String, Value>, key: &str, val: i64) {
    let unset = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        _ => false,
    };
    if unset {
        m.insert(key.to_string(), Value::from(val));
    }
}

/// Sets `key` when absent or null (a Go pointer defaulter: `if x == nil`).
pub(crate) fn default_ptr(m: &mut Map<String, Value>, key: &str, val: Value) {
    if matches!(m.get(key), None | Some(Value::Null)) {
        m.insert(key.to_string(), val);
    }
}

/// Mutable access to each element of an array field that is an object.
pub(crate) fn each_obj_mut<F: FnMut(&mut Value)>(v: &mut Value, key: &str, mut f: F) {
    if let Some(Value::Array(items)) = v.as_object_mut().and_then(|m| m.get_mut(key)) {
        for item in items.iter_mut().filter(|i| i.is_object()) {
            f(item);
        }
    }
}

/// Mutable access to the object at `key`, if present and an object.
pub(crate) fn get_obj_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    v.as_object_mut()?.get_mut(key).filter(|x| x.is_object())
}

/// Whether a JSON value is "empty" as Go sees a zero value after decoding: null, "", 0,
/// false, empty array or object.
pub(crate) fn is_zero(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
    }
}

/// Equality as Go's semantic DeepEqual sees two decoded structs: absent, null and empty
/// values of a field compare equal.
pub(crate) fn semantic_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| semantic_eq(x.get(k), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| semantic_eq(Some(p), Some(q)))
        }
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (x, y) if is_zero(x) && is_zero(y) => true,
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn getters_tolerate_wrong_types() {
        let v = json!({"spec": {"replicas": "3", "ports": {"a": 1}, "name": 5}});
        assert_eq!(int(&v, &["spec", "replicas"]), None);
        assert!(arr(&v, &["spec", "ports"]).is_empty());
        assert_eq!(s(&v, &["spec", "name"]), "");
        assert_eq!(s(&v, &["spec", "missing", "deeper"]), "");
    }

    #[test]
    fn semantic_equality_ignores_empty_fields() {
        assert!(semantic_eq(
            Some(&json!({"a": 1, "b": [], "c": null})),
            Some(&json!({"a": 1.0}))
        ));
        assert!(!semantic_eq(Some(&json!({"a": 1})), Some(&json!({"a": 2}))));
    }

    #[test]
    fn ensure_path_replaces_non_objects() {
        let mut v = json!({"spec": 3});
        ensure_path(&mut v, &["spec", "template"]);
        assert_eq!(v, json!({"spec": {"template": {}}}));
    }
}
