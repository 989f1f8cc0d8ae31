//! DELETE of one object and of a collection, with upstream's graceful deletion: an object
//! with finalizers (a namespace: with spec.finalizers; a pod: bound to an existing node and
//! given a grace period) gets `deletionTimestamp` and stays until they are gone; otherwise
//! it is removed at once. Preconditions (uid, resourceVersion) answer 409 when stale.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};

use crate::handlers::render;
use crate::handlers::Ctx;
use crate::http::{self as h, Resp};
use crate::objects::{rfc3339, ResourceScope};
use crate::query::{DeleteOptions, ListOptions};
use crate::status::ApiError;

/// Kinds whose DELETE answers the object rather than a Status (upstream's
/// ReturnDeletedObject).
fn returns_object(group: &str, plural: &str) -> bool {
    group.is_empty() && matches!(plural, "pods" | "services" | "namespaces")
}

pub async fn delete<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = h::read_body(body).await?;
    let opts = DeleteOptions::parse(&ctx.query, &bytes)?;
    let repr = h::negotiate(ctx.accept.as_deref())?;
    let (obj, code) = delete_object(ctx, ctx.namespace(), ctx.name(), &opts).await?;
    let r = ctx.resource;
    if code == StatusCode::ACCEPTED
        || returns_object(r.group, r.plural)
        || obj["metadata"]["deletionTimestamp"].is_string()
    {
        let obj = render::as_served(r, &Arc::new(obj));
        return Ok(render::object(
            r,
            StatusCode::OK,
            &obj,
            repr,
            &ctx.query,
            ctx.app.clock.now(),
        ));
    }
    Ok(h::json(
        StatusCode::OK,
        &h::success_status(
            ctx.name(),
            r.group,
            r.plural,
            obj["metadata"]["uid"].as_str(),
        ),
    ))
}

/// Deletes (or starts deleting) one object; returns its last state.
pub async fn delete_object(
    ctx: &Ctx,
    ns: Option<&str>,
    name: &str,
    opts: &DeleteOptions,
) -> Result<(Value, StatusCode), ApiError> {
    let resource = ctx.resource;
    let scope = ResourceScope::new(resource);
    loop {
        let (old, rev) = ctx.app.objects.current(&scope, ns, name).await?;
        let uid = old["metadata"]["uid"].as_str().unwrap_or("");
        if let Some(want) = &opts.precondition_uid {
            if want != uid {
                return Err(ApiError::Conflict {
                    resource: scope.group_resource(),
                    name: name.into(),
                    message: format!(
                        "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                    ),
                });
            }
        }
        if let Some(want) = &opts.precondition_resource_version {
            let have = rev.to_string();
            if *want != have {
                return Err(ApiError::Conflict {
                    resource: scope.group_resource(),
                    name: name.into(),
                    message: format!(
                        "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {have}"
                    ),
                });
            }
        }
        let graceful = graceful_seconds(ctx, &old, opts).await;
        let has_finalizers = old["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
            || (resource.group.is_empty()
                && resource.plural == "namespaces"
                && old["spec"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()));
        if has_finalizers || graceful.is_some() {
            if old["metadata"]["deletionTimestamp"].is_string() {
                return Ok((old, StatusCode::OK));
            }
            let mut marked = old.clone();
            let now = ctx.app.clock.now();
            let grace = graceful.unwrap_or(0);
            marked["metadata"]["deletionTimestamp"] =
                json!(rfc3339(now + Duration::from_secs(grace as u64)));
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            if resource.plural == "namespaces" && resource.group.is_empty() {
                marked["status"]["phase"] = json!("Terminating");
            }
            if opts.dry_run {
                return Ok((marked, StatusCode::OK));
            }
            match ctx
                .app
                .objects
                .replace_at(&scope, ns, name, marked, rev)
                .await
            {
                Ok(v) => return Ok((v, StatusCode::OK)),
                Err(ApiError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        if opts.dry_run {
            return Ok((old, StatusCode::OK));
        }
        match ctx.app.store.delete(&scope.key(ns, name), Some(rev)).await {
            Ok(_) => {
                if resource.group.is_empty() && resource.plural == "services" {
                    ctx.app
                        .allocators
                        .release(&crate::alloc::claims_of(&old))
                        .await;
                }
                return Ok((old, StatusCode::OK));
            }
            Err(skiff_store::Error::Conflict { .. }) => continue,
            Err(e) => return Err(ApiError::from_store(e, &scope.group_resource(), name)),
        }
    }
}

/// The grace period a pod gets (None: delete at once). Pods bound to a node that exists
/// wait for its kubelet; others (unscheduled, or on a node that is gone, which upstream's
/// pod garbage collector would force-delete) go at once.
async fn graceful_seconds(ctx: &Ctx, pod: &Value, opts: &DeleteOptions) -> Option<i64> {
    let r = ctx.resource;
    if !(r.group.is_empty() && r.plural == "pods") {
        return None;
    }
    let node = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty())?;
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    if phase == "Succeeded" || phase == "Failed" {
        return None;
    }
    let grace = opts
        .grace_period_seconds
        .or_else(|| pod["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30)
        .max(0);
    if grace == 0 {
        return None;
    }
    let node_key = format!("/registry/nodes/{node}");
    match ctx.app.store.get(&node_key).await {
        Ok(Some(_)) => Some(grace),
        _ => None,
    }
}

pub async fn delete_collection<B>(ctx: &Ctx, body: B) -> Result<Resp, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = h::read_body(body).await?;
    let opts = DeleteOptions::parse(&ctx.query, &bytes)?;
    let list = ListOptions::parse(&ctx.query)?;
    let sel = crate::handlers::read::selection(ctx, &list)?;
    ctx.app
        .cache
        .sync(crate::handlers::read::CACHE_WAIT)
        .await?;
    let prefix = skiff_api::resources::storage_prefix(ctx.resource, ctx.namespace());
    let snap = ctx
        .app
        .cache
        .snapshot(&prefix, None, |o| sel.matches(ctx.resource, o));
    let mut deleted = Vec::new();
    for (_, obj) in snap.items {
        let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        match delete_object(
            ctx,
            ns.as_deref().filter(|_| ctx.resource.namespaced),
            &name,
            &opts,
        )
        .await
        {
            Ok((o, _)) => deleted.push(Arc::new(o)),
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let meta = render::ListMeta {
        resource_version: ctx.app.cache.revision().to_string(),
        ..Default::default()
    };
    Ok(render::list(
        ctx.resource,
        &deleted,
        &meta,
        crate::http::Representation::Json,
        &ctx.query,
        ctx.app.clock.now(),
    ))
}
