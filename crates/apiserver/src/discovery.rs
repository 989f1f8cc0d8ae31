//! Discovery documents, built from the resource registry ([`skiff_api::resources`]):
//! `/api` (APIVersions), `/apis` (APIGroupList), `/apis/<group>` (APIGroup), the
//! per-group-version APIResourceList, and aggregated discovery (`APIGroupDiscoveryList`,
//! apidiscovery.k8s.io v2 and v2beta1) which kubectl asks for first in its Accept header.
//! Pure.

use serde_json::{json, Map, Value};
use skiff_api::resources::{groups, in_group_version, ApiGroup, Resource, Subresource};

/// Which aggregated discovery version a client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregatedVersion {
    V2,
    V2Beta1,
}

impl AggregatedVersion {
    fn api_version(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => "apidiscovery.k8s.io/v2",
            AggregatedVersion::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }
}

/// The Content-Type of an aggregated answer: client-go reads the format from it.
pub fn content_type(v: AggregatedVersion) -> &'static str {
    match v {
        AggregatedVersion::V2 => {
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        }
        AggregatedVersion::V2Beta1 => {
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        }
    }
}

/// The first aggregated format the Accept header asks for, if it comes before any plain
/// JSON entry (None: answer the legacy documents).
pub fn negotiate(accept: &str) -> Option<AggregatedVersion> {
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        if media != "application/json" && media != "*/*" {
            continue;
        }
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(pk, _)| pk.trim() == k)
                .map(|(_, v)| v.trim())
        };
        match (get("g"), get("v"), get("as")) {
            (Some("apidiscovery.k8s.io"), Some("v2"), Some("APIGroupDiscoveryList")) => {
                return Some(AggregatedVersion::V2)
            }
            (Some("apidiscovery.k8s.io"), Some("v2beta1"), Some("APIGroupDiscoveryList")) => {
                return Some(AggregatedVersion::V2Beta1)
            }
            (None, None, None) => return None,
            _ => continue,
        }
    }
    None
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(g: &ApiGroup) -> Value {
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{}/{v}", g.name), "version": v}))
        .collect();
    let preferred = g.preferred_version();
    json!({
        "name": g.name,
        "versions": versions,
        "preferredVersion": {"groupVersion": format!("{}/{preferred}", g.name), "version": preferred},
    })
}

/// `/apis`.
pub fn group_list() -> Value {
    let items: Vec<Value> = groups()
        .iter()
        .filter(|g| !g.name.is_empty())
        .map(group_json)
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": items})
}

/// `/apis/<group>`.
pub fn group(name: &str) -> Option<Value> {
    let g = groups()
        .iter()
        .find(|g| g.name == name && !name.is_empty())?;
    let mut v = group_json(g);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

fn verbs(vs: &[skiff_api::Verb]) -> Vec<&'static str> {
    vs.iter().map(|v| v.as_str()).collect()
}

fn resource_entry(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(r.plural));
    m.insert("singularName".into(), json!(r.singular));
    m.insert("namespaced".into(), json!(r.namespaced));
    m.insert("kind".into(), json!(r.kind));
    m.insert("verbs".into(), json!(verbs(r.verbs)));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), json!(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), json!(r.categories));
    }
    Value::Object(m)
}

fn subresource_entry(r: &Resource, s: &Subresource) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(format!("{}/{}", r.plural, s.name)));
    m.insert("singularName".into(), json!(""));
    m.insert("namespaced".into(), json!(r.namespaced));
    if s.group != r.group || s.version != r.version {
        m.insert("group".into(), json!(s.group));
        m.insert("version".into(), json!(s.version));
    }
    m.insert("kind".into(), json!(s.kind));
    m.insert("verbs".into(), json!(verbs(s.verbs)));
    Value::Object(m)
}

fn served(group: &str, version: &str) -> bool {
    groups()
        .iter()
        .any(|g| g.name == group && g.versions.contains(&version))
}

/// `/api/v1`, `/apis/<group>/<version>`.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    if !served(group, version) {
        return None;
    }
    let mut resources = Vec::new();
    for r in in_group_version(group, version) {
        resources.push(resource_entry(r));
        for s in r.subresources {
            resources.push(subresource_entry(r, s));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

fn aggregated_resource(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("resource".into(), json!(r.plural));
    m.insert(
        "responseKind".into(),
        json!({"group": r.group, "version": r.version, "kind": r.kind}),
    );
    m.insert(
        "scope".into(),
        json!(if r.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }),
    );
    m.insert("singularResource".into(), json!(r.singular));
    m.insert("verbs".into(), json!(verbs(r.verbs)));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), json!(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), json!(r.categories));
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                json!({
                    "subresource": s.name,
                    "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                    "verbs": verbs(s.verbs),
                })
            })
            .collect();
        m.insert("subresources".into(), json!(subs));
    }
    Value::Object(m)
}

/// The aggregated document for `/api` (`legacy_core`) or `/apis`.
pub fn aggregated(legacy_core: bool, version: AggregatedVersion) -> Value {
    let items: Vec<Value> = groups()
        .iter()
        .filter(|g| g.name.is_empty() == legacy_core)
        .map(|g| {
            let versions: Vec<Value> = g
                .versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = in_group_version(g.name, v)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g.name, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": version.api_version(),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_accept_order() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(kubectl), Some(AggregatedVersion::V2));
        assert_eq!(negotiate("application/json"), None);
        assert_eq!(
            negotiate("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"),
            Some(AggregatedVersion::V2Beta1)
        );
        assert_eq!(negotiate("application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"), None);
    }

    #[test]
    fn documents() {
        let apps = resource_list("apps", "v1").unwrap();
        let res = apps["resources"].as_array().unwrap();
        let deploy = res.iter().find(|r| r["name"] == "deployments").unwrap();
        assert_eq!(deploy["shortNames"], json!(["deploy"]));
        assert_eq!(deploy["kind"], "Deployment");
        let scale = res
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
        assert!(resource_list("apps", "v9").is_none());
        let core = resource_list("", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        let pods = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods")
            .unwrap();
        assert!(pods["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("all")));
        let groups = group_list();
        assert!(groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["name"] != ""));
        assert_eq!(group("apps").unwrap()["preferredVersion"]["version"], "v1");
        let agg = aggregated(false, AggregatedVersion::V2);
        assert!(agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["metadata"]["name"] == "apps"));
        let core_agg = aggregated(true, AggregatedVersion::V2);
        assert_eq!(core_agg["items"].as_array().unwrap().len(), 1);
    }
}
