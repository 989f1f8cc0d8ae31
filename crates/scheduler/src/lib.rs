//! skiff's scheduler: places pods that name no node (and whose `schedulerName` is
//! `default-scheduler`) on a node, binding them through `pods/binding`.
//!
//! - [`resources`]: quantities, pod requests, node allocatable;
//! - [`plugins`]: the filter and score plugins (pure);
//! - [`interpod`]: InterPodAffinity and PodTopologySpread (pure);
//! - [`nodeinfo`]: the cluster as the scheduler counts it, incl. assumed placements;
//! - [`schedule`]: one scheduling cycle (pure);
//! - [`volumes`]: what the pod's PersistentVolumeClaims require (pure);
//! - this file: the glue: a queue fed by the shared informers, one scheduling loop,
//!   bindings in flight concurrently, `Scheduled` / `FailedScheduling` events and the
//!   `PodScheduled` condition.

pub mod interpod;
pub mod nodeinfo;
pub mod plugins;
pub mod resources;
pub mod schedule;
pub mod volumes;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use parking_lot::Mutex;
use serde_json::json;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, Informers, ObjectKey, WorkQueue};

use crate::nodeinfo::Cache;
use crate::schedule::Outcome;

/// The scheduler's settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Pods whose `spec.schedulerName` is this are ours.
    pub scheduler_name: String,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            scheduler_name: "default-scheduler".into(),
        }
    }
}

/// How often pods that fit nowhere are tried again even without a cluster change.
const UNSCHEDULABLE_FLUSH: Duration = Duration::from_secs(30);

/// Whether the scheduler should place `pod`.
pub fn wants_scheduling(pod: &Pod, scheduler_name: &str) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    spec.node_name.as_deref().unwrap_or("").is_empty()
        && spec
            .scheduler_name
            .as_deref()
            .unwrap_or("default-scheduler")
            == scheduler_name
        && pod.metadata.deletion_timestamp.is_none()
        && !matches!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        )
}

struct Scheduler {
    client: Client,
    pods: Arc<Informer<Pod>>,
    claims: Arc<Informer<PersistentVolumeClaim>>,
    volumes: Arc<Informer<PersistentVolume>>,
    classes: Arc<Informer<StorageClass>>,
    cache: Mutex<Cache>,
    queue: WorkQueue<ObjectKey>,
    unschedulable: Mutex<HashSet<ObjectKey>>,
    events: Recorder,
    config: SchedulerConfig,
    start: AtomicUsize,
}

/// Runs the scheduler until the process ends.
pub async fn run(client: Client, informers: Arc<Informers>, config: SchedulerConfig) {
    let pods = informers.get::<Pod>();
    let nodes = informers.get::<Node>();
    let mut pod_changes = pods.subscribe();
    let mut node_changes = nodes.subscribe();
    let claims = informers.get::<PersistentVolumeClaim>();
    let mut claim_changes = claims.subscribe();
    pods.synced().await;
    nodes.synced().await;
    let s = Arc::new(Scheduler {
        events: Recorder::new(client.clone(), "default-scheduler"),
        client,
        pods: pods.clone(),
        claims: claims.clone(),
        volumes: informers.get::<PersistentVolume>(),
        classes: informers.get::<StorageClass>(),
        cache: Mutex::new(Cache::default()),
        queue: WorkQueue::with_backoff(Duration::from_secs(1), Duration::from_secs(10)),
        unschedulable: Mutex::new(HashSet::new()),
        config,
        start: AtomicUsize::new(0),
    });
    {
        let mut cache = s.cache.lock();
        for n in nodes.list() {
            cache.set_node(n);
        }
        for p in pods.list() {
            cache.observe_pod(&p);
        }
    }
    for p in pods.list() {
        s.consider(&p);
    }
    let watcher = s.clone();
    tokio::spawn(async move {
        let mut flush = tokio::time::interval(UNSCHEDULABLE_FLUSH);
        loop {
            tokio::select! {
                c = pod_changes.recv() => match c {
                    Some(c) => watcher.on_pod(c),
                    None => return,
                },
                c = node_changes.recv() => match c {
                    Some(c) => watcher.on_node(c, &nodes),
                    None => return,
                },
                c = claim_changes.recv() => match c {
                    // A claim appeared or was bound: pods waiting for it may fit now.
                    Some(_) => watcher.retry_unschedulable(),
                    None => return,
                },
                _ = flush.tick() => watcher.retry_unschedulable(),
            }
        }
    });
    let worker = s.clone();
    s.queue
        .run(1, move |key| {
            let s = worker.clone();
            async move { s.schedule_one(key).await }
        })
        .await;
}

impl Scheduler {
    fn consider(&self, pod: &Pod) {
        if wants_scheduling(pod, &self.config.scheduler_name) {
            self.queue.add(ObjectKey::of(&pod.metadata));
        }
    }

    /// The StorageClass annotated as the default, if any.
    fn default_class(&self) -> Option<String> {
        self.classes.list().into_iter().find_map(|c| {
            let default = c
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("storageclass.kubernetes.io/is-default-class"))
                .is_some_and(|v| v == "true");
            default.then(|| c.metadata.name.clone()).flatten()
        })
    }

    fn retry_unschedulable(&self) {
        let waiting: Vec<ObjectKey> = self.unschedulable.lock().drain().collect();
        for k in waiting {
            self.queue.add(k);
        }
    }

    fn on_pod(&self, c: Change<Pod>) {
        match c {
            Change::Added(p) | Change::Updated { new: p, .. } => {
                self.cache.lock().observe_pod(&p);
                self.consider(&p);
            }
            Change::Deleted(p) => {
                self.cache
                    .lock()
                    .unplace(p.metadata.uid.as_deref().unwrap_or_default());
                self.unschedulable
                    .lock()
                    .remove(&ObjectKey::of(&p.metadata));
                // Resources were freed.
                self.retry_unschedulable();
            }
            Change::Resync => {
                let mut cache = self.cache.lock();
                for p in self.pods.list() {
                    cache.observe_pod(&p);
                }
                drop(cache);
                for p in self.pods.list() {
                    self.consider(&p);
                }
            }
        }
    }

    fn on_node(&self, c: Change<Node>, nodes: &Informer<Node>) {
        match c {
            Change::Added(n) | Change::Updated { new: n, .. } => self.cache.lock().set_node(n),
            Change::Deleted(n) => self
                .cache
                .lock()
                .remove_node(n.metadata.name.as_deref().unwrap_or_default()),
            Change::Resync => {
                let mut cache = self.cache.lock();
                for n in nodes.list() {
                    cache.set_node(n);
                }
            }
        }
        self.retry_unschedulable();
    }

    async fn schedule_one(
        self: &Arc<Self>,
        key: ObjectKey,
    ) -> Result<Option<Duration>, kube::Error> {
        let Some(pod) = self.pods.get(&key) else {
            return Ok(None);
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if !wants_scheduling(&pod, &self.config.scheduler_name) || self.cache.lock().is_placed(&uid)
        {
            return Ok(None);
        }
        let start = self.start.fetch_add(1, Ordering::Relaxed);
        let needs = volumes::needs(
            &pod,
            |ns, n| self.claims.get_named(ns, n).map(|c| (*c).clone()),
            |n| self.volumes.get_named("", n).map(|v| (*v).clone()),
            |n| self.classes.get_named("", n).map(|c| (*c).clone()),
            self.default_class(),
        );
        let outcome = match needs.blocked {
            Some(why) => Outcome::Unschedulable(format!(
                "0/{} nodes are available: {why}.",
                self.cache.lock().nodes().len()
            )),
            None => {
                let cache = self.cache.lock();
                schedule::schedule_with_volumes(
                    &cache,
                    &pod,
                    &needs.node_terms,
                    start,
                    rand::random(),
                )
            }
        };
        match outcome {
            Outcome::Bind(node) => {
                self.cache.lock().place(&pod, &node);
                for (ns, claim) in &needs.select_node {
                    let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), ns);
                    let patch = json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": node}}});
                    if let Err(e) = api
                        .patch(claim, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                    {
                        tracing::debug!(claim, error = %e, "selecting the node of a claim failed");
                    }
                }
                let s = self.clone();
                tokio::spawn(async move { s.bind(pod, node).await });
                Ok(None)
            }
            Outcome::Unschedulable(message) => {
                self.unschedulable.lock().insert(key.clone());
                self.report_unschedulable(&pod, &message).await;
                Ok(None)
            }
        }
    }

    async fn bind(&self, pod: Arc<Pod>, node: String) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let binding = json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name, "namespace": ns, "uid": pod.metadata.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        match api
            .create_subresource::<_, serde_json::Value>(
                "binding",
                &name,
                &PostParams::default(),
                &binding,
            )
            .await
        {
            Ok(_) => self.events.record(
                &*pod,
                EventType::Normal,
                "Scheduled",
                format!("Successfully assigned {ns}/{name} to {node}"),
            ),
            Err(e) => {
                tracing::debug!(pod = %name, error = %e, "binding failed");
                self.cache
                    .lock()
                    .unplace(pod.metadata.uid.as_deref().unwrap_or_default());
                self.queue.add_rate_limited(ObjectKey::of(&pod.metadata));
            }
        }
    }

    async fn report_unschedulable(&self, pod: &Pod, message: &str) {
        self.events.record(
            pod,
            EventType::Warning,
            "FailedScheduling",
            message.to_string(),
        );
        let current = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"));
        if current.is_some_and(|c| c.status == "False" && c.message.as_deref() == Some(message)) {
            return;
        }
        let api: Api<Pod> = Api::namespaced(
            self.client.clone(),
            pod.metadata.namespace.as_deref().unwrap_or_default(),
        );
        let patch = json!({"status": {"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": message, "lastProbeTime": null,
            "lastTransitionTime": jiff::Timestamp::now().to_string(),
        }]}});
        let _ = api
            .patch_status(
                pod.metadata.name.as_deref().unwrap_or_default(),
                &PatchParams::default(),
                &Patch::Strategic(&patch),
            )
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unbound_live_pods_of_this_scheduler() {
        let p = |v: serde_json::Value| -> Pod { serde_json::from_value(v).unwrap() };
        assert!(wants_scheduling(
            &p(json!({"spec": {"containers": []}})),
            "default-scheduler"
        ));
        assert!(!wants_scheduling(
            &p(json!({"spec": {"containers": [], "nodeName": "n"}})),
            "default-scheduler"
        ));
        assert!(!wants_scheduling(
            &p(json!({"spec": {"containers": [], "schedulerName": "other"}})),
            "default-scheduler"
        ));
        assert!(!wants_scheduling(
            &p(json!({"spec": {"containers": []}, "status": {"phase": "Succeeded"}})),
            "default-scheduler"
        ));
    }
}
