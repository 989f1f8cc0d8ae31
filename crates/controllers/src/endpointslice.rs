//! The EndpointSlice controller (upstream's endpointslice-controller): every Service with a
//! selector (and not of type ExternalName) has EndpointSlices `<service>-<random>`, labelled
//! `kubernetes.io/service-name` and managed by `endpointslice-controller.k8s.io`, owned by
//! the Service (so the garbage collector removes them with it), listing its pods
//! ([`reconciler`] decides the writes).

pub mod reconciler;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use parking_lot::Mutex;
use skiff_runtime::{Change, ObjectKey, WorkQueue};

use crate::context::Context;
use crate::endpoints::{pods, services_of_pod_change, trigger_time};
use reconciler::{CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_ZONE};

/// The Service a slice managed by this controller belongs to.
fn service_of_slice(s: &EndpointSlice) -> Option<ObjectKey> {
    let labels = s.metadata.labels.as_ref()?;
    if labels.get(LABEL_MANAGED_BY).map(String::as_str) != Some(CONTROLLER_NAME) {
        return None;
    }
    let svc = labels.get(LABEL_SERVICE_NAME).filter(|n| !n.is_empty())?;
    Some(ObjectKey::new(
        s.metadata.namespace.clone().unwrap_or_default(),
        svc.clone(),
    ))
}

/// How long to wait before looking again at a Service whose pods name unknown nodes.
const MISSING_NODE_RETRY: Duration = Duration::from_secs(2);

pub async fn run(ctx: Arc<Context>) {
    let services = ctx.informers.get::<Service>();
    let pods_inf = ctx.informers.get::<Pod>();
    let slices = ctx.informers.get::<EndpointSlice>();
    let nodes = ctx.informers.get::<Node>();
    let queue: WorkQueue<ObjectKey> = WorkQueue::new();
    let mut svc_changes = services.subscribe();
    let mut pod_changes = pods_inf.subscribe();
    let mut slice_changes = slices.subscribe();
    services.synced().await;
    pods_inf.synced().await;
    slices.synced().await;
    nodes.synced().await;
    for k in services.keys() {
        queue.add(k);
    }
    // Slices this controller deleted that the cache may still show: (namespace, name).
    let deleted: Arc<Mutex<HashSet<(String, String)>>> = Arc::default();
    {
        let q = queue.clone();
        let services = services.clone();
        let deleted = deleted.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    c = svc_changes.recv() => match c {
                        Some(Change::Resync) => services.keys().into_iter().for_each(|k| q.add(k)),
                        Some(c) => if let Some(s) = c.object() { q.add(ObjectKey::of(&s.metadata)) },
                        None => return,
                    },
                    c = pod_changes.recv() => match c {
                        Some(c) => services_of_pod_change(&services, &c).into_iter().for_each(|k| q.add(k)),
                        None => return,
                    },
                    c = slice_changes.recv() => match c {
                        Some(Change::Resync) => services.keys().into_iter().for_each(|k| q.add(k)),
                        Some(Change::Updated { old, new }) => {
                            service_of_slice(&old).into_iter().chain(service_of_slice(&new)).for_each(|k| q.add(k));
                        }
                        Some(Change::Deleted(s)) => {
                            deleted.lock().remove(&(
                                s.metadata.namespace.clone().unwrap_or_default(),
                                s.metadata.name.clone().unwrap_or_default(),
                            ));
                            if let Some(k) = service_of_slice(&s) { q.add(k) }
                        }
                        Some(Change::Added(s)) => if let Some(k) = service_of_slice(&s) { q.add(k) },
                        None => return,
                    },
                }
            }
        });
    }
    let tracker = Arc::new(Mutex::new(trigger_time::Tracker::new()));
    let client = ctx.client.clone();
    queue
        .run(ctx.config.workers, move |key: ObjectKey| {
            let services = services.clone();
            let pods_inf = pods_inf.clone();
            let slices = slices.clone();
            let nodes = nodes.clone();
            let tracker = tracker.clone();
            let deleted = deleted.clone();
            let client = client.clone();
            async move {
                let tracker_key = key.to_string();
                let Some(svc) = services.get(&key) else {
                    // Its slices go with it (they are owned by it).
                    tracker.lock().delete(&tracker_key);
                    return Ok(None);
                };
                let Some(sel) = pods::selector(&svc).filter(|_| pods::is_managed(&svc)) else {
                    return Ok(None);
                };
                let all = pods_inf.list_in(&key.namespace);
                let selected: Vec<&Pod> = all
                    .iter()
                    .map(|p| p.as_ref())
                    .filter(|p| pods::selects(sel, p))
                    .collect();
                let cached = slices.list_in(&key.namespace);
                let existing: Vec<&EndpointSlice> = {
                    let mut gone = deleted.lock();
                    gone.retain(|(ns, name)| {
                        ns != &key.namespace
                            || cached
                                .iter()
                                .any(|s| s.metadata.name.as_deref() == Some(name.as_str()))
                    });
                    cached
                        .iter()
                        .map(|s| s.as_ref())
                        .filter(|s| {
                            service_of_slice(s).as_ref() == Some(&key)
                                && s.metadata.deletion_timestamp.is_none()
                                && !gone.contains(&(
                                    key.namespace.clone(),
                                    s.metadata.name.clone().unwrap_or_default(),
                                ))
                        })
                        .collect()
                };
                let trigger = tracker.lock().compute(&tracker_key, &svc, &selected);
                let zone = |node: &str| -> Option<Option<String>> {
                    nodes.get(&ObjectKey::cluster(node)).map(|n| {
                        n.metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(LABEL_ZONE).cloned())
                    })
                };
                let plan = reconciler::reconcile(&svc, &selected, &zone, &existing, trigger);
                let api: Api<EndpointSlice> = Api::namespaced(client, &key.namespace);
                for s in plan.create {
                    match api.create(&PostParams::default(), &s).await {
                        Ok(created) => slices.assume(created),
                        // The namespace is going away: nothing to do.
                        Err(kube::Error::Api(e)) if e.code == 403 => return Ok(None),
                        Err(e) => return Err(e),
                    }
                }
                for s in plan.update {
                    let name = s.metadata.name.clone().unwrap_or_default();
                    let updated = api.replace(&name, &PostParams::default(), &s).await?;
                    slices.assume(updated);
                }
                for s in plan.delete {
                    let name = s.metadata.name.clone().unwrap_or_default();
                    match api.delete(&name, &DeleteParams::default()).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(e)) if e.code == 404 => {}
                        Err(e) => return Err(e),
                    }
                    deleted.lock().insert((key.namespace.clone(), name));
                }
                Ok(plan.missing_nodes.then_some(MISSING_NODE_RETRY))
            }
        })
        .await;
}
