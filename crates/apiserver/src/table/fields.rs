//! Reading objects as `serde_json::Value` the way the printers need it: absent or mistyped
//! fields read as Go's zero values (never an error, never a panic), timestamps parsed as RFC
//! 3339, and the formatting helpers the printers share (labels, label selectors, container
//! names and images, ages).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;
use skiff_api::labels::{LabelSelector, MetaLabelSelector};

use super::duration;

/// The string at `v`, "" when absent or not a string.
pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The integer at `v`, 0 when absent or not an integer.
pub(crate) fn int(v: &Value) -> i64 {
    opt_int(v).unwrap_or(0)
}

/// The integer at `v`, if there is one (a whole float counts, as JSON numbers may be written
/// `3.0`).
pub(crate) fn opt_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

/// The boolean at `v`, false when absent.
pub(crate) fn boolean(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// The array at `v`, empty when absent.
pub(crate) fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The number of entries of the map at `v`, 0 when absent.
pub(crate) fn map_len(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}

/// Whether `v` holds something (Go: a non-nil pointer / struct that was sent).
pub(crate) fn present(v: &Value) -> bool {
    !v.is_null()
}

/// A string-to-string map (labels, selectors, node selectors); non-string values skipped.
pub(crate) fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// An RFC 3339 timestamp; `None` for an absent, null or unreadable one (Go's zero time).
pub(crate) fn timestamp(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse::<Timestamp>().ok())
}

/// The object's name.
pub(crate) fn name(obj: &Value) -> &str {
    s(&obj["metadata"]["name"])
}

/// `translateTimestampSince(obj.CreationTimestamp)`.
pub(crate) fn age(obj: &Value, now: Timestamp) -> String {
    duration::since(timestamp(&obj["metadata"]["creationTimestamp"]), now)
}

/// Whether the object is being deleted (`metadata.deletionTimestamp` set).
pub(crate) fn deleting(obj: &Value) -> bool {
    present(&obj["metadata"]["deletionTimestamp"])
}

/// `labels.FormatLabels`: `k=v` sorted by key and joined by commas, `<none>` when empty.
pub(crate) fn format_labels(v: &Value) -> String {
    let text = LabelSelector::from_set(&string_map(v)).to_string();
    if text.is_empty() {
        "<none>".into()
    } else {
        text
    }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: `None` when the selector is invalid; an
/// absent selector selects nothing and prints "".
pub(crate) fn selector_string(v: &Value) -> Option<String> {
    if v.is_null() {
        return Some(String::new());
    }
    let meta: MetaLabelSelector = serde_json::from_value(v.clone()).ok()?;
    LabelSelector::from_meta(&meta).ok().map(|s| s.to_string())
}

/// `metav1.FormatLabelSelector`: `<error>` when invalid, `<none>` when it prints empty.
pub(crate) fn format_label_selector(v: &Value) -> String {
    match selector_string(v) {
        None => "<error>".into(),
        Some(s) if s.is_empty() => "<none>".into(),
        Some(s) => s,
    }
}

/// `layoutContainerCells`: container names and images, each joined by commas.
pub(crate) fn containers(pod_spec: &Value) -> (String, String) {
    let list = arr(&pod_spec["containers"]);
    let names: Vec<&str> = list.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<&str> = list.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

/// `IntOrString.String()`: the number or the text.
pub(crate) fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(_) => int(v).to_string(),
        _ => "0".into(),
    }
}

/// Go's `%q` (strconv.Quote), shared with the selector messages.
pub(crate) use skiff_api::go_quote;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zero_values() {
        let v = json!({ "a": 3, "b": "x", "c": [1], "d": 3.0, "e": true, "f": "3" });
        assert_eq!(int(&v["a"]), 3);
        assert_eq!(int(&v["d"]), 3);
        assert_eq!(int(&v["f"]), 0);
        assert_eq!(int(&v["missing"]["deeper"]), 0);
        assert_eq!(s(&v["b"]), "x");
        assert_eq!(s(&v["a"]), "");
        assert_eq!(arr(&v["c"]).len(), 1);
        assert!(arr(&v["b"]).is_empty());
        assert!(boolean(&v["e"]));
        assert!(!boolean(&v["b"]));
        // Indexing a non-object never panics.
        assert_eq!(s(&v["b"]["x"][3]), "");
    }

    #[test]
    fn labels_and_selectors() {
        assert_eq!(format_labels(&json!({ "b": "2", "a": "1" })), "a=1,b=2");
        assert_eq!(format_labels(&json!({})), "<none>");
        assert_eq!(format_labels(&Value::Null), "<none>");
        let sel = json!({
            "matchLabels": { "app": "web" },
            "matchExpressions": [
                { "key": "tier", "operator": "In", "values": ["b", "a"] },
                { "key": "env", "operator": "Exists" },
                { "key": "old", "operator": "DoesNotExist" },
                { "key": "zone", "operator": "NotIn", "values": ["x"] },
            ],
        });
        assert_eq!(
            format_label_selector(&sel),
            "app=web,env,!old,tier in (a,b),zone notin (x)"
        );
        assert_eq!(format_label_selector(&json!({})), "<none>");
        assert_eq!(format_label_selector(&Value::Null), "<none>");
        assert_eq!(selector_string(&Value::Null).as_deref(), Some(""));
        let bad = json!({ "matchExpressions": [{ "key": "a", "operator": "Near" }] });
        assert_eq!(format_label_selector(&bad), "<error>");
        assert_eq!(selector_string(&bad), None);
        assert_eq!(format_label_selector(&json!("nonsense")), "<error>");
    }

    #[test]
    fn misc() {
        let spec = json!({ "containers": [
            { "name": "web", "image": "nginx:1.27" },
            { "name": "sidecar", "image": "busybox" },
        ] });
        assert_eq!(
            containers(&spec),
            ("web,sidecar".to_string(), "nginx:1.27,busybox".to_string())
        );
        assert_eq!(containers(&Value::Null), (String::new(), String::new()));
        assert_eq!(int_or_string(&json!(1)), "1");
        assert_eq!(int_or_string(&json!("50%")), "50%");
        assert_eq!(go_quote("a\"b"), r#""a\"b""#);
        assert!(timestamp(&json!("2024-01-01T00:00:00Z")).is_some());
        assert!(timestamp(&json!("2024-01-01T00:00:00.123456Z")).is_some());
        assert!(timestamp(&json!("yesterday")).is_none());
        assert!(timestamp(&Value::Null).is_none());
    }
}
