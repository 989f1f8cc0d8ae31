//! The DefaultTolerationSeconds admission plugin: a new pod that does not already
//! tolerate `node.kubernetes.io/not-ready:NoExecute` / `node.kubernetes.io/unreachable:
//! NoExecute` gets a toleration for each, limited to the configured seconds
//! (`--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`,
//! 300 each), so its pods leave a failed node after that long.

use serde_json::{json, Map, Value};

use super::value as v;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// The plugin's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TolerationDefaults {
    pub not_ready_seconds: i64,
    pub unreachable_seconds: i64,
}

impl Default for TolerationDefaults {
    fn default() -> Self {
        TolerationDefaults {
            not_ready_seconds: 300,
            unreachable_seconds: 300,
        }
    }
}

/// Adds the missing default tolerations to a pod's `spec`.
pub fn apply(spec: &mut Map<String, Value>, defaults: &TolerationDefaults) {
    let tolerations = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // An empty key tolerates every key, an empty effect every effect.
    let tolerates = |taint: &str| {
        tolerations.iter().any(|t| {
            let k = v::s(t, &["key"]);
            let e = v::s(t, &["effect"]);
            (k == taint || k.is_empty()) && (e == "NoExecute" || e.is_empty())
        })
    };
    let mut added = Vec::new();
    for (taint, seconds) in [
        (NOT_READY, defaults.not_ready_seconds),
        (UNREACHABLE, defaults.unreachable_seconds),
    ] {
        if !tolerates(taint) {
            added.push(json!({
                "key": taint, "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": seconds
            }));
        }
    }
    if !added.is_empty() {
        let mut all = tolerations;
        all.extend(added);
        spec.insert("tolerations".into(), Value::Array(all));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn adds_both_with_the_configured_seconds() {
        let mut s = spec(json!({}));
        apply(
            &mut s,
            &TolerationDefaults {
                not_ready_seconds: 7,
                unreachable_seconds: 9,
            },
        );
        assert_eq!(
            s["tolerations"],
            json!([
                {"key": NOT_READY, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 7},
                {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 9}
            ])
        );
    }

    #[test]
    fn keeps_what_the_pod_already_tolerates() {
        let mut s = spec(json!({"tolerations": [
            {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1}
        ]}));
        apply(&mut s, &TolerationDefaults::default());
        let t = s["tolerations"].as_array().cloned().unwrap_or_default();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["tolerationSeconds"], 1);
        assert_eq!(t[1]["key"], NOT_READY);
        // Tolerating everything: nothing added.
        let mut all = spec(json!({"tolerations": [{"operator": "Exists"}]}));
        apply(&mut all, &TolerationDefaults::default());
        assert_eq!(all["tolerations"].as_array().map(Vec::len), Some(1));
    }
}
