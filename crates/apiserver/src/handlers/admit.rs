//! The admission chain every write passes, in upstream's order: namespace lifecycle (no
//! content in a missing or terminating namespace), then the kind's defaults, preparation
//! and validation (422 with every cause). Allocation of Service addresses happens in the
//! write handlers, after admission and just before the store write.

use serde_json::Value;
use skiff_api::Resource;

use crate::handlers::Ctx;
use crate::status::{ApiError, Cause, GroupResource};

/// The qualified kind for Invalid errors (`Deployment.apps`).
pub fn qualified_kind(r: &Resource) -> String {
    if r.group.is_empty() {
        r.kind.to_string()
    } else {
        format!("{}.{}", r.kind, r.group)
    }
}

pub fn invalid(r: &Resource, name: &str, causes: Vec<Cause>) -> ApiError {
    ApiError::Invalid {
        kind: qualified_kind(r),
        group: r.group.to_string(),
        name: name.to_string(),
        causes,
    }
}

/// Namespace lifecycle for creates of namespaced objects.
pub async fn namespace_lifecycle(ctx: &Ctx, name: &str) -> Result<(), ApiError> {
    let Some(ns) = ctx.namespace() else {
        return Ok(());
    };
    let key = format!("/registry/namespaces/{ns}");
    // The watch cache first (a namespace that is there stays there until it terminates,
    // which the cache shows too); the store when the cache has not seen it (yet).
    let nsobj: std::sync::Arc<Value> = match ctx.app.cache.get(&key).0 {
        Some(v) => v,
        None => {
            let found = ctx
                .app
                .store
                .get(&key)
                .await
                .map_err(|e| ApiError::ServiceUnavailable(format!("storage: {e}")))?;
            let Some(kv) = found else {
                return Err(ApiError::NotFound {
                    resource: GroupResource::new("", "namespaces"),
                    name: ns.to_string(),
                });
            };
            std::sync::Arc::new(serde_json::from_slice(&kv.value).unwrap_or(Value::Null))
        }
    };
    let terminating = nsobj["metadata"]["deletionTimestamp"].is_string()
        || nsobj["status"]["phase"] == "Terminating";
    // Events may still be written into a terminating namespace, as upstream allows.
    if terminating && ctx.resource.plural != "events" {
        return Err(ApiError::Forbidden(format!(
            "{} {:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            GroupResource::new(ctx.resource.group, ctx.resource.plural),
            name
        )));
    }
    Ok(())
}
