//! The Endpoints controller (upstream's endpoint-controller): every Service with a selector
//! (and not of type ExternalName) has a core/v1 Endpoints object of its name listing the
//! selected pods' addresses and ports ([`subsets`]); Endpoints whose Service is gone are
//! deleted. Services without a selector are left alone: their Endpoints are the user's
//! (the API server's own `kubernetes` Service is one).

pub mod pods;
pub mod subsets;
pub mod trigger_time;

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use kube::api::{Api, DeleteParams, PostParams};
use parking_lot::Mutex;
use skiff_runtime::events::EventType;
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use crate::context::Context;

/// Endpoints carrying this annotation are leader-election records, not a Service's.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";

/// The keys of the Services in the pod's namespace whose selector selects `pod`.
pub fn services_of_pod(services: &Informer<Service>, pod: &Pod) -> Vec<ObjectKey> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    services
        .list_in(&ns)
        .iter()
        .filter(|s| pods::selector(s).is_some_and(|sel| pods::selects(sel, pod)))
        .map(|s| ObjectKey::of(&s.metadata))
        .collect()
}

/// The keys to sync for a pod change: the Services selecting the pod before or after.
pub fn services_of_pod_change(services: &Informer<Service>, c: &Change<Pod>) -> Vec<ObjectKey> {
    let mut keys = Vec::new();
    match c {
        Change::Added(p) | Change::Deleted(p) => keys.extend(services_of_pod(services, p)),
        Change::Updated { old, new } => {
            keys.extend(services_of_pod(services, new));
            if old.metadata.labels != new.metadata.labels {
                keys.extend(services_of_pod(services, old));
            }
        }
        Change::Resync => keys.extend(services.keys()),
    }
    keys
}

pub async fn run(ctx: Arc<Context>) {
    let services = ctx.informers.get::<Service>();
    let pods_inf = ctx.informers.get::<Pod>();
    let endpoints = ctx.informers.get::<Endpoints>();
    let queue: WorkQueue<ObjectKey> = WorkQueue::new();
    let mut svc_changes = services.subscribe();
    let mut pod_changes = pods_inf.subscribe();
    let mut ep_changes = endpoints.subscribe();
    services.synced().await;
    pods_inf.synced().await;
    endpoints.synced().await;
    for k in services.keys() {
        queue.add(k);
    }
    // Endpoints left behind by Services deleted while no controller ran.
    for ep in endpoints.list() {
        let leader = ep
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(LEADER_ANNOTATION));
        if !leader {
            queue.add(ObjectKey::of(&ep.metadata));
        }
    }
    {
        let q = queue.clone();
        let services = services.clone();
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
                    c = ep_changes.recv() => match c {
                        Some(Change::Deleted(ep)) => q.add(ObjectKey::of(&ep.metadata)),
                        Some(Change::Resync) => services.keys().into_iter().for_each(|k| q.add(k)),
                        Some(_) => {}
                        None => return,
                    },
                }
            }
        });
    }
    let tracker = Arc::new(Mutex::new(trigger_time::Tracker::new()));
    let recorder = ctx.recorder("endpoint-controller");
    let client = ctx.client.clone();
    queue
        .run(ctx.config.workers, move |key: ObjectKey| {
            let services = services.clone();
            let pods_inf = pods_inf.clone();
            let endpoints = endpoints.clone();
            let tracker = tracker.clone();
            let recorder = recorder.clone();
            let client = client.clone();
            async move {
                let api: Api<Endpoints> = Api::namespaced(client, &key.namespace);
                let tracker_key = key.to_string();
                let Some(svc) = services.get(&key) else {
                    tracker.lock().delete(&tracker_key);
                    return match api.delete(&key.name, &DeleteParams::default()).await {
                        Ok(_) => Ok(None),
                        Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
                        Err(e) => Err(e),
                    };
                };
                if !pods::is_managed(&svc) {
                    return Ok(None);
                }
                let Some(sel) = pods::selector(&svc) else {
                    return Ok(None);
                };
                let all = pods_inf.list_in(&key.namespace);
                let selected: Vec<&Pod> = all
                    .iter()
                    .map(|p| p.as_ref())
                    .filter(|p| pods::selects(sel, p))
                    .collect();
                let trigger = tracker.lock().compute(&tracker_key, &svc, &selected);
                let current = endpoints.get(&key);
                match subsets::reconcile(&svc, &selected, current.as_deref(), trigger) {
                    subsets::Decision::Unchanged => Ok(None),
                    subsets::Decision::Create(ep) => {
                        match api.create(&PostParams::default(), &ep).await {
                            Ok(created) => {
                                endpoints.assume(created);
                                Ok(None)
                            }
                            // The namespace is going away: nothing to do.
                            Err(kube::Error::Api(e)) if e.code == 403 => Ok(None),
                            Err(e) => {
                                recorder.record(
                                    &ep,
                                    EventType::Warning,
                                    "FailedToCreateEndpoint",
                                    format!(
                                        "Failed to create endpoint for service {}/{}: {e}",
                                        key.namespace, key.name
                                    ),
                                );
                                Err(e)
                            }
                        }
                    }
                    subsets::Decision::Update(ep) => {
                        match api.replace(&key.name, &PostParams::default(), &ep).await {
                            Ok(updated) => {
                                endpoints.assume(updated);
                                Ok(None)
                            }
                            Err(e) => {
                                recorder.record(
                                    &ep,
                                    EventType::Warning,
                                    "FailedToUpdateEndpoint",
                                    format!(
                                        "Failed to update endpoint {}/{}: {e}",
                                        key.namespace, key.name
                                    ),
                                );
                                Err(e)
                            }
                        }
                    }
                }
            }
        })
        .await;
}
