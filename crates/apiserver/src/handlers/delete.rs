//! DELETE of one object and of a collection, with upstream's graceful deletion: an object
//! with finalizers (a namespace: with spec.finalizers; a pod: bound to an existing node and
//! given a grace period) gets `deletionTimestamp` and stays until they are gone; otherwise
//! it is removed at once. Preconditions (uid, resourceVersion) answer 409 when stale.
//! The API server's part of cascading deletion lives here too: the propagation policy
//! (`Orphan`, `Foreground`, or the kind's default) becomes the `orphan` /
//! `foregroundDeletion` finalizer the garbage collector acts on, and an update that removes
//! the last finalizer of an object being deleted deletes it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};

use crate::handlers::render;
use crate::handlers::Ctx;
use crate::http::{self as h, Resp};
use crate::objects::{rfc3339, ResourceScope};
use crate::query::{DeleteOptions, ListOptions, Propagation};
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
    let policy = default_gc_policy(resource);
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
        let finalizers = finalizers_of(&old);
        let gc_update = gc_finalizers(policy, &finalizers, opts.propagation);
        let pending_finalizers = !gc_update.as_ref().unwrap_or(&finalizers).is_empty()
            || (resource.group.is_empty()
                && resource.plural == "namespaces"
                && old["spec"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()));
        let being_deleted = old["metadata"]["deletionTimestamp"].is_string();
        if pending_finalizers || graceful.is_some() {
            let mut marked = old.clone();
            let now = ctx.app.clock.now();
            let grace = graceful.unwrap_or(0);
            if being_deleted {
                // A graceful deletion under way (a pod waiting for its kubelet) may only be
                // shortened, and only then may its finalizers change; other kinds may change
                // their propagation finalizers.
                let shorten = old["metadata"]["deletionGracePeriodSeconds"]
                    .as_i64()
                    .is_some_and(|g| grace < g);
                let pending_graceful = is_pod(resource) && !shorten;
                let fins = gc_update.filter(|_| !pending_graceful);
                if !shorten && fins.is_none() {
                    return Ok((old, StatusCode::OK));
                }
                if shorten {
                    marked["metadata"]["deletionTimestamp"] =
                        json!(rfc3339(now + Duration::from_secs(grace as u64)));
                    marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
                }
                if let Some(fins) = fins {
                    marked["metadata"]["finalizers"] = json!(fins);
                }
            } else {
                marked["metadata"]["deletionTimestamp"] =
                    json!(rfc3339(now + Duration::from_secs(grace as u64)));
                marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
                if let Some(fins) = gc_update {
                    marked["metadata"]["finalizers"] = json!(fins);
                }
                // Kinds without graceful deletion count the start of their deletion as a
                // change of spec (upstream's markAsDeleting).
                if graceful.is_none() {
                    if let Some(g) = old["metadata"]["generation"].as_i64().filter(|g| *g > 0) {
                        marked["metadata"]["generation"] = json!(g + 1);
                    }
                }
                if resource.plural == "namespaces" && resource.group.is_empty() {
                    marked["status"]["phase"] = json!("Terminating");
                }
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
        match remove(ctx, ns, name, &old, rev).await {
            Ok(()) => return Ok((old, StatusCode::OK)),
            Err(ApiError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes `old` (stored at revision `rev`) from the store and releases what it held;
/// 409 Conflict when it changed meanwhile.
pub async fn remove(
    ctx: &Ctx,
    ns: Option<&str>,
    name: &str,
    old: &Value,
    rev: i64,
) -> Result<(), ApiError> {
    let resource = ctx.resource;
    let scope = ResourceScope::new(resource);
    ctx.app
        .store
        .delete(&scope.key(ns, name), Some(rev))
        .await
        .map_err(|e| ApiError::from_store(e, &scope.group_resource(), name))?;
    if resource.group.is_empty() && resource.plural == "services" {
        ctx.app
            .allocators
            .release(&crate::alloc::claims_of(old))
            .await;
    }
    Ok(())
}

/// The finalizer that makes the garbage collector orphan an object's dependents before it
/// goes.
pub const FINALIZER_ORPHAN: &str = "orphan";
/// The finalizer that makes the garbage collector delete an object's dependents (those
/// blocking their owner's deletion first) before it goes.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// What happens to a kind's dependents when a DELETE does not say (upstream's
/// DefaultGarbageCollectionPolicy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcPolicy {
    /// The kind takes no part in garbage collection (events).
    Unsupported,
    /// Dependents are deleted (in the background unless the client asks for foreground).
    DeleteDependents,
    /// Dependents are orphaned (the old extensions/v1beta1 and apps/v1beta1, v1beta2
    /// workloads).
    OrphanDependents,
}

/// The default policy of `resource`.
pub fn default_gc_policy(resource: &skiff_api::Resource) -> GcPolicy {
    match (resource.group, resource.version, resource.plural) {
        ("" | "events.k8s.io", _, "events") => GcPolicy::Unsupported,
        ("extensions", "v1beta1", "replicasets" | "deployments" | "daemonsets")
        | ("apps", "v1beta1" | "v1beta2", _) => GcPolicy::OrphanDependents,
        _ => GcPolicy::DeleteDependents,
    }
}

/// The object's `metadata.finalizers`.
pub fn finalizers_of(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The finalizers a DELETE leaves on an object for the garbage collector (upstream's
/// deletionFinalizersForGarbageCollection): `orphan` when dependents are to be orphaned,
/// `foregroundDeletion` when they are to be deleted first; the request's propagation
/// overrides a finalizer already there, which overrides the kind's default. `None` when
/// the set of finalizers stays as it is.
pub fn gc_finalizers(
    policy: GcPolicy,
    existing: &[String],
    propagation: Option<Propagation>,
) -> Option<Vec<String>> {
    if policy == GcPolicy::Unsupported {
        return None;
    }
    let from_finalizers = existing.iter().find_map(|f| match f.as_str() {
        FINALIZER_ORPHAN => Some(Propagation::Orphan),
        FINALIZER_FOREGROUND => Some(Propagation::Foreground),
        _ => None,
    });
    let effective = propagation.or(from_finalizers).unwrap_or(match policy {
        GcPolicy::OrphanDependents => Propagation::Orphan,
        _ => Propagation::Background,
    });
    let mut new: Vec<String> = existing
        .iter()
        .filter(|f| *f != FINALIZER_ORPHAN && *f != FINALIZER_FOREGROUND)
        .cloned()
        .collect();
    match effective {
        Propagation::Orphan => new.push(FINALIZER_ORPHAN.into()),
        Propagation::Foreground => new.push(FINALIZER_FOREGROUND.into()),
        Propagation::Background => {}
    }
    let old_set: std::collections::BTreeSet<&String> = existing.iter().collect();
    let new_set: std::collections::BTreeSet<&String> = new.iter().collect();
    (old_set != new_set).then_some(new)
}

/// Whether an update that turns `old` into `new` ends the object instead (upstream's
/// shouldDeleteDuringUpdate): the last finalizers of an object whose deletion is due
/// (deletionTimestamp set, no grace period left) were removed.
pub fn should_delete_during_update(old: &Value, new: &Value) -> bool {
    finalizers_of(new).is_empty()
        && !finalizers_of(old).is_empty()
        && old["metadata"]["deletionTimestamp"].is_string()
        && old["metadata"]["deletionGracePeriodSeconds"].as_i64() == Some(0)
}

fn is_pod(r: &skiff_api::Resource) -> bool {
    r.group.is_empty() && r.plural == "pods"
}

/// The grace period a pod gets (None: delete at once). Pods bound to a node that exists
/// wait for its kubelet; others (unscheduled, or on a node that is gone, which upstream's
/// pod garbage collector would force-delete) go at once.
async fn graceful_seconds(ctx: &Ctx, pod: &Value, opts: &DeleteOptions) -> Option<i64> {
    if !is_pod(ctx.resource) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn v(fs: &[&str]) -> Vec<String> {
        fs.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn propagation_becomes_finalizers() {
        let d = GcPolicy::DeleteDependents;
        assert_eq!(gc_finalizers(d, &[], None), None);
        assert_eq!(gc_finalizers(d, &[], Some(Propagation::Background)), None);
        assert_eq!(
            gc_finalizers(d, &[], Some(Propagation::Orphan)),
            Some(v(&["orphan"]))
        );
        assert_eq!(
            gc_finalizers(d, &v(&["x"]), Some(Propagation::Foreground)),
            Some(v(&["x", "foregroundDeletion"]))
        );
        // The request overrides a finalizer already there...
        assert_eq!(
            gc_finalizers(d, &v(&["orphan", "x"]), Some(Propagation::Background)),
            Some(v(&["x"]))
        );
        assert_eq!(
            gc_finalizers(d, &v(&["orphan"]), Some(Propagation::Foreground)),
            Some(v(&["foregroundDeletion"]))
        );
        // ...which overrides the kind's default.
        assert_eq!(gc_finalizers(d, &v(&["orphan"]), None), None);
        assert_eq!(
            gc_finalizers(GcPolicy::OrphanDependents, &[], None),
            Some(v(&["orphan"]))
        );
        assert_eq!(
            gc_finalizers(
                GcPolicy::OrphanDependents,
                &v(&["foregroundDeletion"]),
                None
            ),
            None
        );
        assert_eq!(
            gc_finalizers(GcPolicy::Unsupported, &[], Some(Propagation::Orphan)),
            None
        );
    }

    #[test]
    fn default_policies() {
        let r = |g: &str, p: &str| {
            skiff_api::resources::all()
                .iter()
                .find(|r| r.group == g && r.plural == p)
                .unwrap()
        };
        assert_eq!(default_gc_policy(r("", "events")), GcPolicy::Unsupported);
        assert_eq!(
            default_gc_policy(r("events.k8s.io", "events")),
            GcPolicy::Unsupported
        );
        assert_eq!(
            default_gc_policy(r("apps", "deployments")),
            GcPolicy::DeleteDependents
        );
        assert_eq!(
            default_gc_policy(r("", "replicationcontrollers")),
            GcPolicy::DeleteDependents
        );
    }

    #[test]
    fn removing_the_last_finalizer_of_a_deleted_object_deletes_it() {
        let old = json!({"metadata": {"finalizers": ["foregroundDeletion"],
            "deletionTimestamp": "2024-01-01T00:00:00Z", "deletionGracePeriodSeconds": 0}});
        let gone = json!({"metadata": {"finalizers": []}});
        assert!(should_delete_during_update(&old, &gone));
        assert!(should_delete_during_update(&old, &json!({"metadata": {}})));
        let kept = json!({"metadata": {"finalizers": ["x"]}});
        assert!(!should_delete_during_update(&old, &kept));
        // Not being deleted, or a pod still in its grace period: the update is an update.
        let live = json!({"metadata": {"finalizers": ["x"]}});
        assert!(!should_delete_during_update(&live, &gone));
        let graceful = json!({"metadata": {"finalizers": ["x"],
            "deletionTimestamp": "2024-01-01T00:00:00Z", "deletionGracePeriodSeconds": 30}});
        assert!(!should_delete_during_update(&graceful, &gone));
        // Nothing to clear: not this rule's business.
        let bare = json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z",
            "deletionGracePeriodSeconds": 0}});
        assert!(!should_delete_during_update(&bare, &gone));
    }
}
