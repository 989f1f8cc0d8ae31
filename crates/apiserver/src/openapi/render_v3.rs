//! The OpenAPI 3.0 rendering (`/openapi/v3`): one document per group-version (`api/v1`,
//! `apis/apps/v1`) plus `api`, `apis`, `apis/<group>` and `version`, each holding only the
//! schemas its paths reach, and the index that names every document with its hash (uppercase
//! hex SHA-512 of the document, as kube-openapi computes it).
//!
//! Upstream's OpenAPI 3 conventions kept here: references are
//! `#/components/schemas/<name>`, a reference with siblings (a field's description) is
//! wrapped as `allOf: [{$ref}]` (kubectl's explain and strategic-merge lookups follow
//! `allOf[0]`), IntOrString and Quantity are `oneOf` schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::definitions::{definitions, refs_in, REF_PREFIX};
use super::paths::{self, Operation, Param, PathItem, Payload};
use super::{sha512_hex, INFO_VERSION};

const V3_PREFIX: &str = "#/components/schemas/";

struct Docs {
    index: Vec<u8>,
    index_etag: String,
    /// key (`api/v1`) -> (document, hash)
    docs: BTreeMap<String, (Vec<u8>, String)>,
}

fn docs() -> &'static Docs {
    static DOCS: OnceLock<Docs> = OnceLock::new();
    DOCS.get_or_init(build_all)
}

/// `GET /openapi/v3`: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=.."}}}`.
pub fn v3_index() -> &'static [u8] {
    &docs().index
}

/// The ETag (quoted) of [`v3_index`].
pub fn v3_index_etag() -> &'static str {
    &docs().index_etag
}

/// `GET /openapi/v3/<path>` for `api/v1`, `apis/apps/v1`, `api`, `apis`, `apis/apps`,
/// `version` (a leading `/` is ignored): the document and its hash (send it quoted as the
/// ETag; compare it with the `hash` query parameter).
pub fn v3_group_version(path: &str) -> Option<(&'static [u8], &'static str)> {
    let key = path.trim_start_matches('/').trim_end_matches('/');
    docs()
        .docs
        .get(key)
        .map(|(bytes, hash)| (bytes.as_slice(), hash.as_str()))
}

fn build_all() -> Docs {
    let mut by_doc: BTreeMap<String, Vec<PathItem>> = BTreeMap::new();
    for item in paths::all() {
        by_doc.entry(item.document.clone()).or_default().push(item);
    }
    let mut docs = BTreeMap::new();
    let mut index = Map::new();
    for (key, items) in by_doc {
        let bytes = serde_json::to_vec(&document(&items)).unwrap_or_default();
        let hash = sha512_hex(&bytes);
        index.insert(
            key.clone(),
            json!({ "serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}") }),
        );
        docs.insert(key, (bytes, hash));
    }
    let index = serde_json::to_vec(&json!({ "paths": index })).unwrap_or_default();
    let index_etag = format!("\"{}\"", sha512_hex(&index));
    Docs {
        index,
        index_etag,
        docs,
    }
}

/// One document: its paths and every schema they reach.
pub(super) fn document(items: &[PathItem]) -> Value {
    let mut path_map = Map::new();
    for item in items {
        path_map.insert(item.path.clone(), path_item(item));
    }
    // Every definition reachable from the paths.
    let defs = definitions();
    let mut seen = BTreeSet::new();
    let mut pending = Vec::new();
    refs_in(&Value::Object(path_map.clone()), &mut pending);
    while let Some(r) = pending.pop() {
        let Some(name) = r
            .strip_prefix(V3_PREFIX)
            .or_else(|| r.strip_prefix(REF_PREFIX))
        else {
            continue;
        };
        if !seen.insert(name.to_string()) {
            continue;
        }
        if let Some(schema) = defs.get(name) {
            refs_in(schema, &mut pending);
        }
    }
    let mut schemas = Map::new();
    for name in seen {
        if let Some(schema) = defs.get(&name) {
            schemas.insert(name.clone(), v3_definition(&name, schema));
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": INFO_VERSION },
        "paths": path_map,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "description": "Bearer Token authentication",
                    "type": "apiKey",
                    "name": "authorization",
                    "in": "header",
                }
            }
        },
        "security": [{ "BearerToken": [] }],
    })
}

/// A canonical definition in OpenAPI 3 form.
pub(super) fn v3_definition(name: &str, schema: &Value) -> Value {
    let description = schema.get("description").cloned();
    let special = match name {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => Some(json!({
            "oneOf": [{ "type": "integer" }, { "type": "string" }],
            "format": "int-or-string",
        })),
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => Some(json!({
            "oneOf": [{ "type": "string" }, { "type": "number" }],
        })),
        _ => None,
    };
    match special {
        Some(mut s) => {
            if let Some(d) = description {
                s["description"] = d;
            }
            s
        }
        None => convert(schema),
    }
}

/// Rewrites references and wraps references that have siblings into `allOf`.
fn convert(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if k == "$ref" {
                    let r = v.as_str().unwrap_or_default();
                    let name = r.strip_prefix(REF_PREFIX).unwrap_or(r);
                    out.insert(k.clone(), Value::String(format!("{V3_PREFIX}{name}")));
                } else {
                    out.insert(k.clone(), convert(v));
                }
            }
            if out.len() > 1 {
                if let Some(r) = out.remove("$ref") {
                    out.insert("allOf".into(), json!([{ "$ref": r }]));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
        other => other.clone(),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{V3_PREFIX}{name}") })
}

fn param(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": p.location,
        "description": p.description,
        "schema": { "type": p.ty.as_str(), "uniqueItems": true },
    });
    if p.required {
        v["required"] = Value::Bool(true);
    }
    v
}

fn path_item(item: &PathItem) -> Value {
    let mut out = Map::new();
    for op in &item.operations {
        out.insert(op.method.to_string(), operation(op));
    }
    if !item.params.is_empty() {
        out.insert("parameters".into(), item.params.iter().map(param).collect());
    }
    Value::Object(out)
}

fn operation(op: &Operation) -> Value {
    let mut responses = Map::new();
    for (code, description, payload) in &op.responses {
        let mut r = json!({ "description": description });
        let schema = match payload {
            Some(Payload::Schema(s)) => Some(schema_ref(s)),
            Some(Payload::Text) => Some(json!({ "type": "string" })),
            None => None,
        };
        if let Some(schema) = schema {
            let content: Map<String, Value> = op
                .produces
                .iter()
                .map(|ct| (ct.to_string(), json!({ "schema": schema })))
                .collect();
            r["content"] = Value::Object(content);
        }
        responses.insert(code.to_string(), r);
    }
    let mut v = json!({
        "description": op.description,
        "operationId": op.id,
        "responses": responses,
        "tags": [op.tag],
    });
    if !op.params.is_empty() {
        v["parameters"] = op.params.iter().map(param).collect();
    }
    if let Some(body) = op.body {
        let content: Map<String, Value> = op
            .consumes
            .iter()
            .map(|ct| (ct.to_string(), json!({ "schema": schema_ref(body) })))
            .collect();
        let mut rb = json!({ "content": content });
        if op.body_required {
            rb["required"] = Value::Bool(true);
        }
        v["requestBody"] = rb;
    }
    if let Some(action) = op.action {
        v["x-kubernetes-action"] = action.into();
    }
    if let Some((group, version, kind)) = op.gvk {
        v["x-kubernetes-group-version-kind"] =
            json!({ "group": group, "kind": kind, "version": version });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(key: &str) -> Value {
        let (bytes, hash) = v3_group_version(key).unwrap_or_else(|| panic!("{key}"));
        assert_eq!(hash, sha512_hex(bytes));
        serde_json::from_slice(bytes).unwrap()
    }

    /// Follows a `$ref` or `allOf[0].$ref` as kubectl does.
    fn resolve<'a>(d: &'a Value, schema: &'a Value) -> &'a Value {
        let schema = schema.get("allOf").and_then(|a| a.get(0)).unwrap_or(schema);
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix(V3_PREFIX).unwrap();
                &d["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    #[test]
    fn index_lists_every_document_with_its_hash() {
        let index: Value = serde_json::from_slice(v3_index()).unwrap();
        let paths = index["paths"].as_object().unwrap();
        for key in [
            "api",
            "apis",
            "api/v1",
            "apis/apps/v1",
            "apis/autoscaling/v1",
            "apis/autoscaling/v2",
            "apis/apps",
            "version",
        ] {
            let url = paths[key]["serverRelativeURL"].as_str().unwrap();
            let (_, hash) = v3_group_version(key).unwrap();
            assert_eq!(url, format!("/openapi/v3/{key}?hash={hash}"));
        }
        assert!(v3_group_version("/apis/apps/v1").is_some());
        assert!(v3_group_version("apis/apps/v2").is_none());
        assert_eq!(v3_index_etag().len(), 130);
    }

    #[test]
    fn every_ref_resolves_in_every_document() {
        let index: Value = serde_json::from_slice(v3_index()).unwrap();
        for key in index["paths"].as_object().unwrap().keys() {
            let d = doc(key);
            assert_eq!(d["openapi"], "3.0.0");
            let schemas = d["components"]["schemas"].as_object().unwrap();
            let mut refs = Vec::new();
            refs_in(&d, &mut refs);
            for r in refs {
                let name = r.strip_prefix(V3_PREFIX).expect(&r);
                assert!(schemas.contains_key(name), "{key}: dangling {r}");
            }
        }
    }

    /// What `kubectl explain deployment.spec.strategy` walks through (kubectl/pkg/explain/v2
    /// templates): the GVK from a path operation, the schema carrying that GVK, then
    /// properties through `$ref` / `allOf`.
    #[test]
    fn explain_deployment_spec_strategy() {
        let d = doc("apis/apps/v1");
        let item = &d["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"];
        let gvk = &item["get"]["x-kubernetes-group-version-kind"];
        assert_eq!(
            *gvk,
            json!({ "group": "apps", "kind": "Deployment", "version": "v1" })
        );
        let schemas = d["components"]["schemas"].as_object().unwrap();
        let found: Vec<_> = schemas
            .values()
            .filter(|s| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|l| l.contains(gvk))
            })
            .collect();
        assert_eq!(found.len(), 1);
        let spec = resolve(&d, &found[0]["properties"]["spec"]);
        let strategy_field = &spec["properties"]["strategy"];
        assert_eq!(strategy_field["x-kubernetes-patch-strategy"], "retainKeys");
        let strategy = resolve(&d, strategy_field);
        assert!(strategy["description"]
            .as_str()
            .unwrap()
            .starts_with("DeploymentStrategy"));
        let rolling = resolve(&d, &strategy["properties"]["rollingUpdate"]);
        let max_surge = resolve(&d, &rolling["properties"]["maxSurge"]);
        assert_eq!(max_surge["format"], "int-or-string");
    }

    /// What `kubectl apply` needs (kubectl/pkg/cmd/apply/patcher.go): a PATCH operation with
    /// the GVK and the strategic-merge media type, `fieldValidation` among its parameters,
    /// and patch strategies on the schema properties.
    #[test]
    fn apply_and_validation_find_what_they_need() {
        let d = doc("api/v1");
        let patch = d["paths"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|p| p.get("patch"))
            .find(|op| {
                op["x-kubernetes-group-version-kind"]
                    == json!({ "group": "", "kind": "Service", "version": "v1" })
            })
            .unwrap();
        assert!(patch["requestBody"]["content"]
            .get("application/strategic-merge-patch+json")
            .is_some());
        assert!(patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
        let pod_spec = &d["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"];
        assert_eq!(
            pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"],
            "name"
        );
        let container = resolve(&d, &pod_spec["properties"]["containers"]["items"]);
        assert_eq!(
            container["properties"]["ports"]["x-kubernetes-patch-merge-key"],
            "containerPort"
        );
        assert_eq!(
            d["components"]["schemas"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"][1]
                ["type"],
            "number"
        );
    }

    #[test]
    fn documents_hold_only_their_group_version() {
        let d = doc("apis/apps/v1");
        for path in d["paths"].as_object().unwrap().keys() {
            assert!(path.starts_with("/apis/apps/v1/"), "{path}");
        }
        let schemas = d["components"]["schemas"].as_object().unwrap();
        assert!(schemas.contains_key("io.k8s.api.autoscaling.v1.Scale"));
        assert!(!schemas.contains_key("io.k8s.api.batch.v1.Job"));
        let api = doc("api");
        assert!(api["paths"].get("/api/").is_some());
    }
}
