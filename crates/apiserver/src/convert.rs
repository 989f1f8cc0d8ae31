//! Conversion between versions that share storage (as upstream converts through its
//! internal types): core/v1 Event <-> events.k8s.io/v1 Event (renamed fields) and
//! autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler (CPU target as a metric).
//! Objects are stored in the version that wrote them and converted when read through the
//! other. Pure.

use serde_json::{json, Map, Value};
use skiff_api::Resource;

/// core/v1 field -> events.k8s.io/v1 field.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn rename(obj: &mut Value, pairs: &[(&str, &str)], forward: bool) {
    let Some(m) = obj.as_object_mut() else { return };
    for (a, b) in pairs {
        let (from, to) = if forward { (a, b) } else { (b, a) };
        if let Some(v) = m.remove(*from) {
            m.insert((*to).to_string(), v);
        }
    }
}

fn events(obj: &mut Value, to_events_k8s: bool) {
    rename(obj, EVENT_FIELDS, to_events_k8s);
    if to_events_k8s {
        // events.k8s.io requires eventTime; old core events only have timestamps.
        if obj.get("eventTime").is_none_or(Value::is_null) {
            if let Some(t) = obj["deprecatedFirstTimestamp"].as_str().map(str::to_string) {
                obj["eventTime"] = json!(t.replace('Z', ".000000Z"));
            }
        }
    }
}

fn hpa_v2_to_v1(obj: &mut Value) {
    let spec = obj.get_mut("spec").and_then(Value::as_object_mut);
    if let Some(spec) = spec {
        if let Some(metrics) = spec.remove("metrics") {
            let cpu = metrics.as_array().and_then(|ms| {
                ms.iter().find(|m| {
                    m["type"] == "Resource"
                        && m["resource"]["name"] == "cpu"
                        && m["resource"]["target"]["type"] == "Utilization"
                })
            });
            if let Some(u) =
                cpu.and_then(|m| m["resource"]["target"]["averageUtilization"].as_i64())
            {
                spec.insert("targetCPUUtilizationPercentage".into(), json!(u));
            }
        }
        spec.remove("behavior");
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        if let Some(current) = status.remove("currentMetrics") {
            let cpu = current.as_array().and_then(|ms| {
                ms.iter()
                    .find(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu")
            });
            if let Some(u) =
                cpu.and_then(|m| m["resource"]["current"]["averageUtilization"].as_i64())
            {
                status.insert("currentCPUUtilizationPercentage".into(), json!(u));
            }
        }
        status.remove("conditions");
    }
}

fn hpa_v1_to_v2(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        if let Some(u) = spec.remove("targetCPUUtilizationPercentage") {
            spec.insert(
                "metrics".into(),
                json!([{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": u}}}]),
            );
        }
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        if let Some(u) = status.remove("currentCPUUtilizationPercentage") {
            status.insert(
                "currentMetrics".into(),
                json!([{"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": u}}}]),
            );
        }
    }
}

/// Converts `obj` (whatever version it is stored in) to `resource`'s version and sets its
/// apiVersion and kind.
pub fn to_version(resource: &Resource, obj: &mut Value) {
    let target = resource.api_version();
    let from = obj["apiVersion"].as_str().unwrap_or("").to_string();
    if from != target && !from.is_empty() {
        match (from.as_str(), target.as_str(), resource.kind) {
            ("v1", "events.k8s.io/v1", "Event") => events(obj, true),
            ("events.k8s.io/v1", "v1", "Event") => events(obj, false),
            ("autoscaling/v2", "autoscaling/v1", "HorizontalPodAutoscaler") => hpa_v2_to_v1(obj),
            ("autoscaling/v1", "autoscaling/v2", "HorizontalPodAutoscaler") => hpa_v1_to_v2(obj),
            _ => {}
        }
    }
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), json!(target));
        m.insert("kind".into(), json!(resource.kind));
    } else {
        *obj = Value::Object(Map::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_api::resources::by_group_version_resource;

    #[test]
    fn events_both_ways() {
        let new_events = by_group_version_resource("events.k8s.io", "v1", "events").unwrap();
        let core = by_group_version_resource("", "v1", "events").unwrap();
        let mut e = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "x"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "hi", "count": 2,
            "firstTimestamp": "2026-01-01T00:00:00Z", "reason": "Pulled"});
        to_version(new_events, &mut e);
        assert_eq!(e["apiVersion"], "events.k8s.io/v1");
        assert_eq!(e["regarding"]["name"], "p");
        assert_eq!(e["note"], "hi");
        assert_eq!(e["deprecatedCount"], 2);
        assert_eq!(e["eventTime"], "2026-01-01T00:00:00.000000Z");
        to_version(core, &mut e);
        assert_eq!(e["involvedObject"]["name"], "p");
        assert_eq!(e["message"], "hi");
        assert_eq!(e["reason"], "Pulled");
    }

    #[test]
    fn hpa_both_ways() {
        let v1 =
            by_group_version_resource("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
        let v2 =
            by_group_version_resource("autoscaling", "v2", "horizontalpodautoscalers").unwrap();
        let mut h = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "spec": {"maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70}}}]}});
        to_version(v1, &mut h);
        assert_eq!(h["spec"]["targetCPUUtilizationPercentage"], 70);
        assert!(h["spec"].get("metrics").is_none());
        to_version(v2, &mut h);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            70
        );
    }
}
