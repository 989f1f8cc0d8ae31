//! Namespace deletion (upstream's namespace controller, which the API server's namespace
//! lifecycle relies on): a namespace with `deletionTimestamp` has all its content deleted,
//! then the `kubernetes` finalizer removed from `spec.finalizers`, then (no finalizers left)
//! the namespace itself. Woken by namespace changes, and every few seconds while a
//! namespace is still emptying.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use skiff_api::resources::{all, by_group_version_resource, storage_prefix};

use crate::app::App;
use crate::objects::ResourceScope;

/// Runs forever (spawn it).
pub async fn run(app: Arc<App>) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        let Ok(mut sub) = app
            .cache
            .subscribe_after("/registry/namespaces/", app.cache.revision())
        else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        loop {
            sweep(&app).await;
            tokio::select! {
                _ = tick.tick() => {}
                alive = namespace_change(&mut sub.live) => if !alive { break },
            }
        }
    }
}

/// Waits for a change to a namespace; false when the subscription ended.
async fn namespace_change(
    rx: &mut tokio::sync::broadcast::Receiver<Arc<crate::cache::Change>>,
) -> bool {
    loop {
        match rx.recv().await {
            Ok(c) if c.key.starts_with("/registry/namespaces/") => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

async fn sweep(app: &App) {
    let snap = app.cache.snapshot("/registry/namespaces/", None, |o| {
        o["metadata"]["deletionTimestamp"].is_string()
    });
    for (_, ns) in snap.items {
        if let Some(name) = ns["metadata"]["name"].as_str() {
            if let Err(e) = finish(app, name, &ns).await {
                tracing::debug!(namespace = name, error = %e, "namespace cleanup not finished");
            }
        }
    }
}

async fn finish(app: &App, name: &str, ns: &Value) -> Result<(), crate::status::ApiError> {
    let mut remaining = 0;
    let mut seen = BTreeSet::new();
    for r in all().iter().filter(|r| r.namespaced) {
        if !seen.insert(r.plural) {
            continue;
        }
        let prefix = storage_prefix(r, Some(name));
        let snap = app.cache.snapshot(&prefix, None, |_| true);
        for (key, _) in snap.items {
            remaining += 1;
            match app.store.delete(&key, None).await {
                Ok(_) | Err(skiff_store::Error::NotFound(_)) => {
                    if r.plural == "services" && r.group.is_empty() {
                        // Address claims are dropped by the allocator's repair.
                    }
                }
                Err(e) => tracing::warn!(key, error = %e, "namespace cleanup: delete failed"),
            }
        }
    }
    if remaining > 0 {
        return Ok(());
    }
    let namespaces =
        by_group_version_resource("", "v1", "namespaces").expect("namespaces registered");
    let scope = ResourceScope::new(namespaces);
    let spec_finalizers = ns["spec"]["finalizers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    if spec_finalizers > 0 {
        app.objects
            .update_with(&scope, None, name, |old| {
                let mut new = old.clone();
                new["spec"]["finalizers"] = json!([]);
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove("resourceVersion");
                }
                Ok(new)
            })
            .await?;
    }
    let meta_finalizers = ns["metadata"]["finalizers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    if meta_finalizers == 0 {
        match app.store.delete(&scope.key(None, name), None).await {
            Ok(_) | Err(skiff_store::Error::NotFound(_)) => {}
            Err(e) => tracing::warn!(namespace = name, error = %e, "namespace delete failed"),
        }
    }
    Ok(())
}
