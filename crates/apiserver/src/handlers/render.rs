//! Representations of objects and lists in responses: plain JSON (`<Kind>List` for lists),
//! a `meta.k8s.io/v1` Table (server-side printing, what `kubectl get` asks for), or
//! PartialObjectMetadata. Lists are serialised item by item without copying the objects.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::{BufMut, BytesMut};
use http::StatusCode;
use serde_json::{json, Value};
use skiff_api::Resource;

use crate::http::{self as h, Representation, Resp};
use crate::query::Query;

/// List metadata.
#[derive(Debug, Clone, Default)]
pub struct ListMeta {
    pub resource_version: String,
    pub continue_token: Option<String>,
    pub remaining_item_count: Option<i64>,
}

impl ListMeta {
    fn to_json(&self) -> Value {
        let mut m = json!({ "resourceVersion": self.resource_version });
        if let Some(c) = &self.continue_token {
            m["continue"] = json!(c);
        }
        if let Some(n) = self.remaining_item_count {
            m["remainingItemCount"] = json!(n);
        }
        m
    }
}

/// The object in the resource's version (objects of a resource served in two versions share
/// storage): converted in a copy when it is stored in the other one.
pub fn as_served(resource: &Resource, obj: &Arc<Value>) -> Arc<Value> {
    let api_version = resource.api_version();
    if obj["apiVersion"].as_str() == Some(api_version.as_str())
        && obj["kind"].as_str() == Some(resource.kind)
    {
        return obj.clone();
    }
    let mut o = (**obj).clone();
    crate::convert::to_version(resource, &mut o);
    Arc::new(o)
}

fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// One object in the negotiated representation.
pub fn object(
    resource: &Resource,
    code: StatusCode,
    obj: &Value,
    repr: Representation,
    query: &Query,
    now: SystemTime,
) -> Resp {
    match repr {
        Representation::Json => h::json(code, obj),
        Representation::PartialMetadata => h::json(code, &partial_metadata(obj)),
        Representation::Table => {
            let meta = ListMeta {
                resource_version: obj["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                ..Default::default()
            };
            h::json(
                code,
                &table(resource, &[Arc::new(obj.clone())], &meta, query, now),
            )
        }
    }
}

/// A list in the negotiated representation.
pub fn list(
    resource: &Resource,
    items: &[Arc<Value>],
    meta: &ListMeta,
    repr: Representation,
    query: &Query,
    now: SystemTime,
) -> Resp {
    match repr {
        Representation::Table => h::json(StatusCode::OK, &table(resource, items, meta, query, now)),
        Representation::PartialMetadata => {
            let items: Vec<Value> = items.iter().map(|o| partial_metadata(o)).collect();
            h::json(
                StatusCode::OK,
                &json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta.to_json(),
                    "items": items,
                }),
            )
        }
        Representation::Json => {
            let mut buf = BytesMut::with_capacity(256 + items.len() * 512);
            let head = json!({
                "kind": format!("{}List", resource.kind),
                "apiVersion": resource.api_version(),
                "metadata": meta.to_json(),
            });
            let head = serde_json::to_vec(&head).unwrap_or_default();
            // `{...}` without its closing brace, then the items.
            buf.put_slice(&head[..head.len() - 1]);
            buf.put_slice(b",\"items\":[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.put_u8(b',');
                }
                let item = as_served(resource, item);
                let mut w = (&mut buf).writer();
                let _ = serde_json::to_writer(&mut w, &*item);
            }
            buf.put_slice(b"]}");
            h::json_bytes(StatusCode::OK, buf.freeze())
        }
    }
}

fn table(
    resource: &Resource,
    items: &[Arc<Value>],
    meta: &ListMeta,
    query: &Query,
    now: SystemTime,
) -> Value {
    let opts = crate::table::TableOptions {
        now,
        include_object: crate::table::parse_include_object(query.get("includeObject")),
        resource_version: meta.resource_version.clone(),
        continue_token: meta.continue_token.clone(),
        remaining_item_count: meta.remaining_item_count,
    };
    crate::table::to_table(resource, items, &opts)
}
