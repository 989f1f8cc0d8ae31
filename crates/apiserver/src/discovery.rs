//! Discovery documents, built from the resource registry (`skiff_api::resources`): the legacy
//! ones (`/api` APIVersions, `/apis` APIGroupList, `/apis/<group>` APIGroup, `/api/v1` and
//! `/apis/<group>/<version>` APIResourceList) and the aggregated `APIGroupDiscoveryList`
//! (`apidiscovery.k8s.io/v2`) that current clients ask for at `/api` and `/apis`, plus the
//! Accept-header negotiation that chooses between the two.
//!
//! Every document is written in the field order upstream serialises (Go struct order) and
//! with upstream's omissions (`shortNames`, `categories`, a subresource's `group` / `version`
//! only when present or different from its parent's). `storageVersionHash` is optional and
//! left out. Field order survives serialisation only when serde_json keeps insertion order
//! (its `preserve_order` feature); without it the content is the same, keys sorted.

use serde_json::{json, Map, Value};
use skiff_api::resources::{self, ApiGroup, Resource, Subresource, Verb};

/// The aggregated discovery format a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregatedVersion {
    /// `apidiscovery.k8s.io/v2`, what client-go has asked for first since 1.30.
    V2,
    /// `apidiscovery.k8s.io/v2beta1`: same shape. Kubernetes 1.33 no longer negotiates it
    /// (feature gate `AggregatedDiscoveryRemoveBetaType`, on by default), so [`negotiate`]
    /// never returns it; the document can still be built.
    V2Beta1,
}

impl AggregatedVersion {
    /// `v2` / `v2beta1`.
    pub const fn version(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => "v2",
            AggregatedVersion::V2Beta1 => "v2beta1",
        }
    }

    /// `apidiscovery.k8s.io/v2` / `apidiscovery.k8s.io/v2beta1`.
    pub const fn api_version(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => "apidiscovery.k8s.io/v2",
            AggregatedVersion::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }
}

const DISCOVERY_GROUP: &str = "apidiscovery.k8s.io";
const DISCOVERY_KIND: &str = "APIGroupDiscoveryList";

/// The Content-Type of an aggregated discovery response. Upstream appends the converted kind
/// to the media type (`application/json;g=...;v=...;as=...`); client-go recognises the
/// aggregated format only by these three parameters on `application/json`
/// (`discovery.ContentTypeIsGVK`) and decodes the body as the legacy format otherwise.
pub const fn content_type(v: AggregatedVersion) -> &'static str {
    match v {
        AggregatedVersion::V2 => {
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        }
        AggregatedVersion::V2Beta1 => {
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        }
    }
}

/// `/api`: the legacy core group's versions, with the address clients should use.
pub fn core_versions(server_address: &str) -> Value {
    let versions = resources::group("").map_or(&["v1"][..], |g| g.versions);
    json!({
        "kind": "APIVersions",
        "versions": versions,
        "serverAddressByClientCIDRs": [
            { "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }
        ],
    })
}

/// `/apis`: every group but the core one, in upstream's order.
pub fn group_list() -> Value {
    let groups: Vec<Value> = resources::groups()
        .iter()
        .filter(|g| !g.name.is_empty())
        .map(|g| Value::Object(group_fields(g)))
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `/apis/<group>`: one group; `None` for an unknown group and for the core group (which is
/// served at `/api`).
pub fn group(name: &str) -> Option<Value> {
    let g = served_group(name)?;
    let mut doc = Map::new();
    doc.insert("kind".into(), "APIGroup".into());
    doc.insert("apiVersion".into(), "v1".into());
    doc.extend(group_fields(g));
    Some(Value::Object(doc))
}

/// `/api/v1` (group "") and `/apis/<group>/<version>`: every resource and subresource of the
/// group-version, subresources as entries of their own (`pods/status`), sorted by name as
/// upstream lists them. `None` for a group-version that is not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let g = resources::group(group)?;
    if !g.versions.contains(&version) {
        return None;
    }
    let mut entries: Vec<(String, Value)> = Vec::new();
    for r in resources::in_group_version(group, version) {
        entries.push((r.plural.to_string(), resource_entry(r)));
        for s in r.subresources {
            let name = format!("{}/{}", r.plural, s.name);
            entries.push((name.clone(), subresource_entry(r, s, name)));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let list: Vec<Value> = entries.into_iter().map(|(_, v)| v).collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut doc = Map::new();
    doc.insert("kind".into(), "APIResourceList".into());
    // Upstream's `/api/v1` carries no apiVersion; the named groups' lists carry "v1".
    if !group.is_empty() {
        doc.insert("apiVersion".into(), "v1".into());
    }
    doc.insert("groupVersion".into(), group_version.into());
    doc.insert("resources".into(), Value::Array(list));
    Some(Value::Object(doc))
}

/// The aggregated `APIGroupDiscoveryList`: for `/api` (`legacy_core`: the core group, with an
/// empty name) or for `/apis` (every other group). Groups in upstream's order, each group's
/// versions preferred first, resources sorted by name with their subresources, every version
/// `Current`.
pub fn aggregated(legacy_core: bool, version: AggregatedVersion) -> Value {
    let items: Vec<Value> = resources::groups()
        .iter()
        .filter(|g| g.name.is_empty() == legacy_core)
        .map(group_discovery)
        .collect();
    json!({
        "kind": DISCOVERY_KIND,
        "apiVersion": version.api_version(),
        "metadata": {},
        "items": items,
    })
}

/// Which aggregated format an Accept header asks for, `None` for the legacy documents.
///
/// Follows upstream's negotiation: the clauses are ordered by quality (then concrete types
/// before wildcards, as upstream's `goautoneg` sorts them) and the first one that names a JSON
/// media type (`application/json`, `application/*`, `*/*`) with `g=apidiscovery.k8s.io`,
/// `v=v2` and `as=APIGroupDiscoveryList` wins. Clauses without those parameters do not ask for
/// aggregation; one with a `stream` other than `watch` or any `sv` is skipped. `v2beta1` is
/// not offered, as in Kubernetes 1.33. Media types skiff does not serve (protobuf, YAML, CBOR)
/// are skipped where upstream would answer in them.
pub fn negotiate(accept: &str) -> Option<AggregatedVersion> {
    for clause in parse_accept(accept) {
        let json_like = (clause.ty == "application" && (clause.sub == "json" || clause.sub == "*"))
            || (clause.ty == "*" && clause.sub == "*");
        if !json_like {
            continue;
        }
        if let Some(v) = aggregated_request(&clause.params) {
            return Some(v);
        }
    }
    None
}

/// A strong ETag for a discovery document: the upper-case hex SHA-512 of its JSON, as
/// upstream computes it for aggregated discovery (upstream sends it quoted, with
/// `Vary: Accept` and `Cache-Control: public`, and answers a matching `If-None-Match` with
/// 304).
pub fn etag(doc: &Value) -> String {
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA512, &bytes);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Legacy documents

/// A served group other than core.
fn served_group(name: &str) -> Option<&'static ApiGroup> {
    if name.is_empty() {
        return None;
    }
    resources::group(name)
}

fn group_version(group: &str, version: &str) -> Value {
    json!({ "groupVersion": format!("{group}/{version}"), "version": version })
}

/// `name`, `versions`, `preferredVersion` of an APIGroup.
fn group_fields(g: &ApiGroup) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), g.name.into());
    m.insert(
        "versions".into(),
        g.versions
            .iter()
            .map(|v| group_version(g.name, v))
            .collect::<Vec<_>>()
            .into(),
    );
    m.insert(
        "preferredVersion".into(),
        group_version(g.name, g.preferred_version()),
    );
    m
}

fn verbs(verbs: &[Verb]) -> Value {
    verbs.iter().map(|v| v.as_str()).collect::<Vec<_>>().into()
}

fn strings(list: &[&str]) -> Value {
    list.to_vec().into()
}

/// One resource of an APIResourceList (`metav1.APIResource`).
fn resource_entry(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), r.plural.into());
    m.insert("singularName".into(), r.singular.into());
    m.insert("namespaced".into(), r.namespaced.into());
    m.insert("kind".into(), r.kind.into());
    m.insert("verbs".into(), verbs(r.verbs));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), strings(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), strings(r.categories));
    }
    Value::Object(m)
}

/// Whether a subresource's kind lives in another group-version than its parent (then
/// discovery names it: `pods/eviction` is `policy/v1`, `*/scale` `autoscaling/v1`).
fn foreign_kind(r: &Resource, s: &Subresource) -> bool {
    (s.group, s.version) != (r.group, r.version)
}

/// One subresource of an APIResourceList: `<plural>/<name>`, no singular name, the parent's
/// scope.
fn subresource_entry(r: &Resource, s: &Subresource, name: String) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), name.into());
    m.insert("singularName".into(), "".into());
    m.insert("namespaced".into(), r.namespaced.into());
    if foreign_kind(r, s) {
        if !s.group.is_empty() {
            m.insert("group".into(), s.group.into());
        }
        m.insert("version".into(), s.version.into());
    }
    m.insert("kind".into(), s.kind.into());
    m.insert("verbs".into(), verbs(s.verbs));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// Aggregated documents

/// `responseKind`: group and version are empty when they are the listing group-version's, as
/// upstream derives them from the legacy APIResource.
fn response_kind(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "version": version, "kind": kind })
}

fn group_discovery(g: &ApiGroup) -> Value {
    let mut metadata = Map::new();
    if !g.name.is_empty() {
        metadata.insert("name".into(), g.name.into());
    }
    metadata.insert("creationTimestamp".into(), Value::Null);
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|v| {
            let mut list: Vec<&Resource> = resources::in_group_version(g.name, v).collect();
            list.sort_by(|a, b| a.plural.cmp(b.plural));
            let resources: Vec<Value> = list.into_iter().map(resource_discovery).collect();
            json!({ "version": v, "resources": resources, "freshness": "Current" })
        })
        .collect();
    json!({ "metadata": metadata, "versions": versions })
}

fn resource_discovery(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("resource".into(), r.plural.into());
    m.insert("responseKind".into(), response_kind("", "", r.kind));
    m.insert(
        "scope".into(),
        if r.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }
        .into(),
    );
    m.insert("singularResource".into(), r.singular.into());
    m.insert("verbs".into(), verbs(r.verbs));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), strings(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), strings(r.categories));
    }
    if !r.subresources.is_empty() {
        let mut subs: Vec<&Subresource> = r.subresources.iter().collect();
        subs.sort_by(|a, b| a.name.cmp(b.name));
        let subs: Vec<Value> = subs
            .into_iter()
            .map(|s| {
                let kind = if foreign_kind(r, s) {
                    response_kind(s.group, s.version, s.kind)
                } else {
                    response_kind("", "", s.kind)
                };
                json!({ "subresource": s.name, "responseKind": kind, "verbs": verbs(s.verbs) })
            })
            .collect();
        m.insert("subresources".into(), subs.into());
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// Accept negotiation

/// One clause of an Accept header, as upstream's `goautoneg.ParseAccept` reads it.
#[derive(Debug)]
struct Clause<'a> {
    ty: &'a str,
    sub: &'a str,
    q: f32,
    params: Vec<(&'a str, &'a str)>,
}

/// Split an Accept header into clauses: `type/subtype;k=v;...`, parameters without `=`
/// dropped, `q` parsed as a number (0 when malformed), a lone `*` read as `*/*`, other
/// malformed ranges skipped; then ordered by upstream's comparison (higher `q` first, a
/// concrete type or subtype before a wildcard), with the insertion sort Go uses for short
/// lists, so equal clauses keep their order.
fn parse_accept(header: &str) -> Vec<Clause<'_>> {
    let mut clauses = Vec::new();
    for part in header.split(',') {
        let part = part.trim_matches(' ');
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or("");
        let mut halves = range.split('/');
        let ty = halves.next().unwrap_or("").trim_matches(' ');
        let sub = match (halves.next(), halves.next()) {
            (None, _) if ty == "*" => "*",
            (Some(sub), None) => sub.trim_matches(' '),
            _ => continue,
        };
        let mut clause = Clause {
            ty,
            sub,
            q: 1.0,
            params: Vec::new(),
        };
        for param in pieces {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim_matches(' ');
            if key == "q" {
                clause.q = value.parse::<f32>().unwrap_or(0.0);
            } else {
                clause.params.push((key, value.trim_matches(' ')));
            }
        }
        clauses.push(clause);
    }
    let less = |a: &Clause, b: &Clause| {
        a.q > b.q || (a.ty != "*" && b.ty == "*") || (a.sub != "*" && b.sub == "*")
    };
    for i in 1..clauses.len() {
        let mut j = i;
        while j > 0 && less(&clauses[j], &clauses[j - 1]) {
            clauses.swap(j, j - 1);
            j -= 1;
        }
    }
    clauses
}

/// The aggregated version a clause's parameters ask for, if it asks for one the server
/// offers. Later duplicates of a parameter win, as in upstream's parameter map.
fn aggregated_request(params: &[(&str, &str)]) -> Option<AggregatedVersion> {
    let mut g = None;
    let mut v = None;
    let mut kind = None;
    for &(key, value) in params {
        match key {
            "g" => g = Some(value),
            "v" => v = Some(value),
            "as" => kind = Some(value),
            "stream" if !value.is_empty() && value != "watch" => return None,
            "sv" if !value.is_empty() => return None,
            _ => {}
        }
    }
    (g == Some(DISCOVERY_GROUP) && v == Some("v2") && kind == Some(DISCOVERY_KIND))
        .then_some(AggregatedVersion::V2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether this build's serde_json keeps insertion order (then key order is checked too).
    fn ordered() -> bool {
        serde_json::to_string(&json!({ "b": 1, "a": 2 })).unwrap_or_default() == r#"{"b":1,"a":2}"#
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn assert_keys(v: &Value, want: &[&str]) {
        if ordered() {
            assert_eq!(keys(v), want);
        } else {
            let mut want = want.to_vec();
            want.sort_unstable();
            assert_eq!(keys(v), want);
        }
    }

    fn entry<'a>(list: &'a Value, name: &str) -> &'a Value {
        list["resources"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == name))
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn api_versions() {
        let doc = core_versions("10.0.0.1:6443");
        assert_eq!(
            doc,
            json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    { "clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443" }
                ],
            })
        );
        assert_keys(&doc, &["kind", "versions", "serverAddressByClientCIDRs"]);
    }

    #[test]
    fn group_list_and_groups() {
        let list = group_list();
        assert_eq!(list["kind"], "APIGroupList");
        assert_eq!(list["apiVersion"], "v1");
        let groups = list["groups"].as_array().unwrap();
        let names: Vec<_> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "apps",
                "events.k8s.io",
                "autoscaling",
                "batch",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "storage.k8s.io",
                "scheduling.k8s.io",
                "coordination.k8s.io",
                "discovery.k8s.io"
            ]
        );
        let autoscaling = &groups[2];
        assert_eq!(
            *autoscaling,
            json!({
                "name": "autoscaling",
                "versions": [
                    { "groupVersion": "autoscaling/v2", "version": "v2" },
                    { "groupVersion": "autoscaling/v1", "version": "v1" },
                ],
                "preferredVersion": { "groupVersion": "autoscaling/v2", "version": "v2" },
            })
        );
        assert_keys(autoscaling, &["name", "versions", "preferredVersion"]);
        assert_keys(&groups[2]["versions"][0], &["groupVersion", "version"]);

        let apps = group("apps").unwrap();
        assert_eq!(
            apps,
            json!({
                "kind": "APIGroup", "apiVersion": "v1", "name": "apps",
                "versions": [{ "groupVersion": "apps/v1", "version": "v1" }],
                "preferredVersion": { "groupVersion": "apps/v1", "version": "v1" },
            })
        );
        assert_keys(
            &apps,
            &["kind", "apiVersion", "name", "versions", "preferredVersion"],
        );
        assert_eq!(group(""), None);
        assert_eq!(group("extensions"), None);
        assert_eq!(group("core"), None);
    }

    #[test]
    fn core_resource_list() {
        let list = resource_list("", "v1").unwrap();
        assert_eq!(list["kind"], "APIResourceList");
        assert_eq!(list["groupVersion"], "v1");
        assert!(
            list.get("apiVersion").is_none(),
            "/api/v1 has no apiVersion"
        );
        assert_keys(&list, &["kind", "groupVersion", "resources"]);
        let names: Vec<_> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "sorted by name as upstream");
        for want in [
            "bindings",
            "namespaces/finalize",
            "namespaces/status",
            "nodes/proxy",
            "pods",
            "pods/attach",
            "pods/binding",
            "pods/eviction",
            "pods/exec",
            "pods/log",
            "pods/portforward",
            "pods/proxy",
            "pods/status",
            "replicationcontrollers/scale",
            "services/proxy",
        ] {
            assert!(names.contains(&want), "{want}");
        }
        let pods = entry(&list, "pods");
        assert_eq!(
            *pods,
            json!({
                "name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                "shortNames": ["po"], "categories": ["all"],
            })
        );
        assert_keys(
            pods,
            &[
                "name",
                "singularName",
                "namespaced",
                "kind",
                "verbs",
                "shortNames",
                "categories",
            ],
        );
        assert_eq!(
            *entry(&list, "pods/eviction"),
            json!({
                "name": "pods/eviction", "singularName": "", "namespaced": true,
                "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"],
            })
        );
        assert_keys(
            entry(&list, "pods/eviction"),
            &[
                "name",
                "singularName",
                "namespaced",
                "group",
                "version",
                "kind",
                "verbs",
            ],
        );
        assert_eq!(
            *entry(&list, "pods/binding"),
            json!({
                "name": "pods/binding", "singularName": "", "namespaced": true,
                "kind": "Binding", "verbs": ["create"],
            })
        );
        assert_eq!(
            *entry(&list, "pods/status"),
            json!({
                "name": "pods/status", "singularName": "", "namespaced": true,
                "kind": "Pod", "verbs": ["get", "patch", "update"],
            })
        );
        assert_eq!(
            *entry(&list, "bindings"),
            json!({
                "name": "bindings", "singularName": "binding", "namespaced": true,
                "kind": "Binding", "verbs": ["create"],
            })
        );
        assert_eq!(entry(&list, "nodes/status")["namespaced"], false);
        assert_eq!(
            entry(&list, "namespaces")["verbs"],
            json!(["create", "delete", "get", "list", "patch", "update", "watch"])
        );
        // secrets have no short names: the key is left out, not empty.
        assert!(entry(&list, "secrets").get("shortNames").is_none());
        assert!(entry(&list, "secrets").get("categories").is_none());
        assert_eq!(resource_list("", "v2"), None);
        assert_eq!(resource_list("core", "v1"), None);
    }

    #[test]
    fn group_resource_lists() {
        let apps = resource_list("apps", "v1").unwrap();
        assert_keys(&apps, &["kind", "apiVersion", "groupVersion", "resources"]);
        assert_eq!(apps["apiVersion"], "v1");
        assert_eq!(apps["groupVersion"], "apps/v1");
        assert_eq!(
            *entry(&apps, "deployments/scale"),
            json!({
                "name": "deployments/scale", "singularName": "", "namespaced": true,
                "group": "autoscaling", "version": "v1", "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            })
        );
        let names: Vec<_> = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status"
            ]
        );
        let hpa_v1 = resource_list("autoscaling", "v1").unwrap();
        assert_eq!(hpa_v1["groupVersion"], "autoscaling/v1");
        assert!(resource_list("autoscaling", "v2").is_some());
        assert_eq!(resource_list("autoscaling", "v2beta2"), None);
        assert_eq!(resource_list("apps", "v1beta1"), None);
        assert_eq!(resource_list("nope", "v1"), None);
        let ns = resource_list("storage.k8s.io", "v1").unwrap();
        assert_eq!(entry(&ns, "storageclasses")["namespaced"], false);
        assert_eq!(entry(&ns, "storageclasses")["shortNames"], json!(["sc"]));
    }

    #[test]
    fn aggregated_apis() {
        let doc = aggregated(false, AggregatedVersion::V2);
        assert_keys(&doc, &["kind", "apiVersion", "metadata", "items"]);
        assert_eq!(doc["kind"], "APIGroupDiscoveryList");
        assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(doc["metadata"], json!({}));
        let items = doc["items"].as_array().unwrap();
        assert_eq!(items.len(), 11, "every group but core");
        assert!(items.iter().all(|i| i["metadata"]["name"] != ""));
        let apps = &items[0];
        assert_keys(apps, &["metadata", "versions"]);
        assert_eq!(
            apps["metadata"],
            json!({ "name": "apps", "creationTimestamp": null })
        );
        assert_keys(&apps["metadata"], &["name", "creationTimestamp"]);
        let v1 = &apps["versions"][0];
        assert_keys(v1, &["version", "resources", "freshness"]);
        assert_eq!(v1["version"], "v1");
        assert_eq!(v1["freshness"], "Current");
        let deployments = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "deployments")
            .unwrap();
        assert_eq!(
            *deployments,
            json!({
                "resource": "deployments",
                "responseKind": { "group": "", "version": "", "kind": "Deployment" },
                "scope": "Namespaced",
                "singularResource": "deployment",
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                "shortNames": ["deploy"],
                "categories": ["all"],
                "subresources": [
                    {
                        "subresource": "scale",
                        "responseKind": { "group": "autoscaling", "version": "v1", "kind": "Scale" },
                        "verbs": ["get", "patch", "update"],
                    },
                    {
                        "subresource": "status",
                        "responseKind": { "group": "", "version": "", "kind": "Deployment" },
                        "verbs": ["get", "patch", "update"],
                    },
                ],
            })
        );
        assert_keys(
            deployments,
            &[
                "resource",
                "responseKind",
                "scope",
                "singularResource",
                "verbs",
                "shortNames",
                "categories",
                "subresources",
            ],
        );
        assert_keys(
            &deployments["subresources"][0],
            &["subresource", "responseKind", "verbs"],
        );
        assert_keys(&deployments["responseKind"], &["group", "version", "kind"]);
        // Preferred version first.
        let autoscaling = items
            .iter()
            .find(|i| i["metadata"]["name"] == "autoscaling")
            .unwrap();
        let versions: Vec<_> = autoscaling["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["v2", "v1"]);
        // Cluster scope, no subresources key when there are none.
        let rbac = items
            .iter()
            .find(|i| i["metadata"]["name"] == "rbac.authorization.k8s.io")
            .unwrap();
        let crb = &rbac["versions"][0]["resources"][0];
        assert_eq!(crb["resource"], "clusterrolebindings");
        assert_eq!(crb["scope"], "Cluster");
        assert!(crb.get("subresources").is_none());
        assert!(crb.get("shortNames").is_none());

        let beta = aggregated(false, AggregatedVersion::V2Beta1);
        assert_eq!(beta["apiVersion"], "apidiscovery.k8s.io/v2beta1");
        assert_eq!(beta["items"], doc["items"]);
    }

    #[test]
    fn aggregated_core() {
        let doc = aggregated(true, AggregatedVersion::V2);
        let items = doc["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["metadata"], json!({ "creationTimestamp": null }));
        let v1 = &items[0]["versions"][0];
        assert_eq!(v1["version"], "v1");
        let pods = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap();
        let subs: Vec<_> = pods["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subresource"].as_str().unwrap())
            .collect();
        assert_eq!(
            subs,
            [
                "attach",
                "binding",
                "eviction",
                "exec",
                "log",
                "portforward",
                "proxy",
                "status"
            ]
        );
        assert_eq!(
            pods["subresources"][2]["responseKind"],
            json!({ "group": "policy", "version": "v1", "kind": "Eviction" })
        );
        assert_eq!(
            pods["subresources"][0]["responseKind"],
            json!({ "group": "", "version": "", "kind": "PodAttachOptions" })
        );
        let resources: Vec<_> = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["resource"].as_str().unwrap())
            .collect();
        let mut sorted = resources.clone();
        sorted.sort_unstable();
        assert_eq!(resources, sorted);
        let ns = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "namespaces")
            .unwrap();
        assert_eq!(ns["scope"], "Cluster");
    }

    /// What the aggregated and legacy documents say must agree: a client that splits the
    /// aggregated document (client-go's `SplitGroupsAndResources`) sees the legacy lists.
    #[test]
    fn aggregated_matches_legacy_lists() {
        for (legacy_core, doc) in [
            (true, aggregated(true, AggregatedVersion::V2)),
            (false, aggregated(false, AggregatedVersion::V2)),
        ] {
            for item in doc["items"].as_array().unwrap() {
                let group = item["metadata"]["name"].as_str().unwrap_or("");
                assert_eq!(group.is_empty(), legacy_core);
                for v in item["versions"].as_array().unwrap() {
                    let version = v["version"].as_str().unwrap();
                    let legacy = resource_list(group, version).unwrap();
                    let mut split = Vec::new();
                    for r in v["resources"].as_array().unwrap() {
                        let namespaced = r["scope"] == "Namespaced";
                        let mut parent = json!({
                            "name": r["resource"], "singularName": r["singularResource"],
                            "namespaced": namespaced, "kind": r["responseKind"]["kind"],
                            "verbs": r["verbs"],
                        });
                        for key in ["shortNames", "categories"] {
                            if let Some(x) = r.get(key) {
                                parent[key] = x.clone();
                            }
                        }
                        split.push(parent);
                        for s in r["subresources"].as_array().into_iter().flatten() {
                            let mut sub = json!({
                                "name": format!("{}/{}", r["resource"].as_str().unwrap(), s["subresource"].as_str().unwrap()),
                                "singularName": "", "namespaced": namespaced,
                                "kind": s["responseKind"]["kind"], "verbs": s["verbs"],
                            });
                            for key in ["group", "version"] {
                                let x = &s["responseKind"][key];
                                if x != "" {
                                    sub[key] = x.clone();
                                }
                            }
                            split.push(sub);
                        }
                    }
                    split.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
                    assert_eq!(
                        Value::Array(split),
                        legacy["resources"],
                        "{group}/{version}"
                    );
                }
            }
        }
    }

    /// The legacy documents read as the typed API structures (every required field present,
    /// every field of the right type) and say nothing those structures drop.
    #[test]
    fn legacy_documents_read_as_the_api_types() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
        fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
            let typed: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"));
            serde_json::to_value(typed).unwrap()
        }
        for g in resources::groups() {
            for v in g.versions {
                let list = resource_list(g.name, v).unwrap();
                let back = round_trip::<meta::APIResourceList>(&list);
                assert_eq!(back["resources"], list["resources"], "{}/{v}", g.name);
                assert_eq!(back["groupVersion"], list["groupVersion"]);
            }
            if !g.name.is_empty() {
                let doc = group(g.name).unwrap();
                assert_eq!(round_trip::<meta::APIGroup>(&doc), doc);
            }
        }
        let list = group_list();
        let mut back = round_trip::<meta::APIGroupList>(&list);
        // k8s-openapi writes kind and apiVersion into every nested group; upstream does not.
        for g in back["groups"].as_array_mut().unwrap() {
            let g = g.as_object_mut().unwrap();
            g.remove("kind");
            g.remove("apiVersion");
        }
        assert_eq!(back, list);
        let versions = core_versions("127.0.0.1:6443");
        let back = round_trip::<meta::APIVersions>(&versions);
        assert_eq!(back["versions"], versions["versions"]);
        assert_eq!(
            back["serverAddressByClientCIDRs"],
            versions["serverAddressByClientCIDRs"]
        );
    }

    #[test]
    fn negotiation() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(kubectl), Some(AggregatedVersion::V2));
        // Parameter order and spaces do not matter.
        assert_eq!(
            negotiate("application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io"),
            Some(AggregatedVersion::V2)
        );
        // 1.33 no longer serves v2beta1: such a client gets the legacy documents.
        assert_eq!(
            negotiate("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"),
            None
        );
        for legacy in [
            "",
            "application/json",
            "*/*",
            "application/json, */*",
            "application/yaml",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
            "application/json;g=apidiscovery.k8s.io;v=v2",
            "application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList",
            "text/html;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;stream=foo",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;sv=v1",
            "garbage",
            ",,;;==",
        ] {
            assert_eq!(negotiate(legacy), None, "{legacy}");
        }
        // Wildcards carry the parameters too.
        assert_eq!(
            negotiate("*/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
            Some(AggregatedVersion::V2)
        );
        assert_eq!(
            negotiate("application/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
            Some(AggregatedVersion::V2)
        );
        // Protobuf first: skiff answers the JSON clause behind it.
        assert_eq!(
            negotiate("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"),
            Some(AggregatedVersion::V2)
        );
        // Quality decides before position.
        assert_eq!(
            negotiate("application/json;q=0.9,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
            Some(AggregatedVersion::V2)
        );
        assert_eq!(
            negotiate("application/json;q=1,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5"),
            Some(AggregatedVersion::V2),
            "the plain clause asks for no aggregation, so the next one is tried"
        );
        assert_eq!(
            negotiate(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;stream=watch"
            ),
            Some(AggregatedVersion::V2)
        );
    }

    #[test]
    fn accept_ordering_follows_goautoneg() {
        let clauses = parse_accept("*/*, text/*;q=0.5, application/json;q=0.9, text/plain");
        let order: Vec<_> = clauses
            .iter()
            .map(|c| format!("{}/{}", c.ty, c.sub))
            .collect();
        // Go's comparison is not a strict order; its insertion sort gives this.
        assert_eq!(order, ["text/plain", "application/json", "text/*", "*/*"]);
        let star = parse_accept("*");
        assert_eq!((star[0].ty, star[0].sub), ("*", "*"));
        assert!(parse_accept("a/b/c, justtype").is_empty());
        assert_eq!(parse_accept("a/b;q=x")[0].q, 0.0);
    }

    #[test]
    fn content_types_are_what_client_go_checks() {
        for v in [AggregatedVersion::V2, AggregatedVersion::V2Beta1] {
            let ct = content_type(v);
            let (base, params) = ct.split_once(';').unwrap();
            assert_eq!(base, "application/json");
            let params: Vec<_> = params.split(';').collect();
            assert!(params.contains(&"g=apidiscovery.k8s.io"));
            assert!(params.contains(&format!("v={}", v.version()).as_str()));
            assert!(params.contains(&"as=APIGroupDiscoveryList"));
        }
        assert_eq!(
            content_type(AggregatedVersion::V2),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        // What the server answers is what it negotiates.
        assert_eq!(
            negotiate(content_type(AggregatedVersion::V2)),
            Some(AggregatedVersion::V2)
        );
    }

    #[test]
    fn etags() {
        let a = etag(&aggregated(false, AggregatedVersion::V2));
        assert_eq!(a.len(), 128);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        assert_eq!(a, etag(&aggregated(false, AggregatedVersion::V2)));
        assert_ne!(a, etag(&aggregated(true, AggregatedVersion::V2)));
    }
}
