//! The swagger 2.0 rendering (`/openapi/v2`): every definition and every path in one
//! document, in upstream's shape (inline parameters, `consumes` / `produces`, `schemes`,
//! the `BearerToken` security definition).

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::definitions::{definitions, REF_PREFIX};
use super::paths::{self, Operation, Param, Payload};
use super::{sha512_hex, INFO_VERSION};

struct Rendered {
    bytes: Vec<u8>,
    etag: String,
}

fn rendered() -> &'static Rendered {
    static DOC: OnceLock<Rendered> = OnceLock::new();
    DOC.get_or_init(|| {
        let bytes = serde_json::to_vec(&build()).unwrap_or_default();
        let etag = format!("\"{}\"", sha512_hex(&bytes));
        Rendered { bytes, etag }
    })
}

pub(super) fn document() -> &'static [u8] {
    &rendered().bytes
}

pub(super) fn etag() -> &'static str {
    &rendered().etag
}

/// The document as a value (tests and the protobuf encoding start from it).
pub(super) fn build() -> Value {
    let mut defs = Map::new();
    for (name, schema) in definitions() {
        defs.insert(name.clone(), v2_definition(name, schema));
    }
    let mut path_map = Map::new();
    for item in paths::all() {
        path_map.insert(item.path.clone(), path_item(&item));
    }
    json!({
        "swagger": "2.0",
        "info": { "title": "Kubernetes", "version": INFO_VERSION },
        "paths": path_map,
        "definitions": defs,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header",
            }
        },
        "security": [{ "BearerToken": [] }],
    })
}

/// IntOrString and Quantity have upstream's swagger 2.0 forms (a string with a format);
/// everything else is the canonical definition.
pub(super) fn v2_definition(name: &str, schema: &Value) -> Value {
    let description = schema.get("description").cloned();
    let special = match name {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => {
            Some(json!({ "type": "string", "format": "int-or-string" }))
        }
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => Some(json!({ "type": "string" })),
        _ => None,
    };
    match special {
        Some(mut s) => {
            if let Some(d) = description {
                s["description"] = d;
            }
            s
        }
        None => schema.clone(),
    }
}

fn param(p: &Param) -> Value {
    let mut v = json!({
        "uniqueItems": true,
        "type": p.ty.as_str(),
        "description": p.description,
        "name": p.name,
        "in": p.location,
    });
    if p.required {
        v["required"] = Value::Bool(true);
    }
    v
}

fn path_item(item: &paths::PathItem) -> Value {
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
    let mut params: Vec<Value> = Vec::new();
    if let Some(body) = op.body {
        let mut b = json!({
            "name": "body",
            "in": "body",
            "schema": { "$ref": format!("{REF_PREFIX}{body}") },
        });
        if op.body_required {
            b["required"] = Value::Bool(true);
        }
        params.push(b);
    }
    params.extend(op.params.iter().map(param));
    let mut responses = Map::new();
    for (code, description, payload) in &op.responses {
        let mut r = json!({ "description": description });
        match payload {
            Some(Payload::Schema(s)) => {
                r["schema"] = json!({ "$ref": format!("{REF_PREFIX}{s}") });
            }
            Some(Payload::Text) => r["schema"] = json!({ "type": "string" }),
            None => {}
        }
        responses.insert(code.to_string(), r);
    }
    let mut v = json!({
        "description": op.description,
        "consumes": op.consumes,
        "produces": op.produces,
        "schemes": ["https"],
        "tags": [op.tag],
        "operationId": op.id,
        "responses": responses,
    });
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
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
    use crate::openapi::definitions::refs_in;

    fn doc() -> Value {
        serde_json::from_slice(super::super::v2()).unwrap()
    }

    #[test]
    fn shape_and_refs() {
        let d = doc();
        assert_eq!(d["swagger"], "2.0");
        assert_eq!(d["info"]["title"], "Kubernetes");
        let defs = d["definitions"].as_object().unwrap();
        let mut refs = Vec::new();
        refs_in(&d, &mut refs);
        assert!(refs.len() > 1000);
        for r in refs {
            let name = r.strip_prefix("#/definitions/").expect(&r);
            assert!(defs.contains_key(name), "dangling {r}");
        }
        for name in [
            "io.k8s.api.core.v1.Pod",
            "io.k8s.api.core.v1.PodList",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
            "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
            "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
        ] {
            assert!(defs.contains_key(name), "{name}");
        }
        assert_eq!(
            defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"],
            "int-or-string"
        );
        assert_eq!(etag().len(), 130);
    }

    #[test]
    fn operations_carry_action_and_gvk() {
        let d = doc();
        let op = &d["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert_eq!(op["operationId"], "patchCoreV1NamespacedPod");
        assert_eq!(op["x-kubernetes-action"], "patch");
        assert_eq!(
            op["x-kubernetes-group-version-kind"],
            json!({ "group": "", "kind": "Pod", "version": "v1" })
        );
        assert_eq!(op["parameters"][0]["in"], "body");
        assert!(op["consumes"]
            .as_array()
            .unwrap()
            .contains(&json!("application/strategic-merge-patch+json")));
        let list = &d["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
        assert_eq!(
            list["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.api.apps.v1.DeploymentList"
        );
        assert_eq!(list["x-kubernetes-action"], "list");
        let params = &d["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["parameters"];
        assert_eq!(params[0]["name"], "namespace");
        assert_eq!(params[0]["required"], true);
    }
}
