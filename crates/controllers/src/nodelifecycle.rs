//! The node lifecycle controller (upstream's node lifecycle controller together with the
//! taint eviction controller). Every 5 s it looks at each Node and its Lease: a node silent
//! for longer than `node_monitor_grace_period` gets its conditions set to Unknown
//! ([`health`]); every node carries the taints its conditions and `spec.unschedulable`
//! call for ([`taints`]); pods on a node with NoExecute taints they do not tolerate (long
//! enough) are deleted, and pods on a node that is not Ready are marked not Ready
//! ([`eviction`]). New NoExecute taints are paced per zone ([`zones`]); when every node is
//! down, none are kept (upstream's full-disruption mode: the fault is more likely the
//! control plane's).

pub mod eviction;
pub mod health;
pub mod taints;
pub mod zones;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use parking_lot::Mutex;
use serde_json::json;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};
use tokio::sync::Notify;

use crate::context::Context;
use eviction::Eviction;

/// How often every node is looked at (upstream's `--node-monitor-period`).
pub const NODE_MONITOR_PERIOD: Duration = Duration::from_secs(5);
/// The namespace of node Leases.
const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Whether pods on `node` may need attention: it is not Ready or has NoExecute taints.
fn unhealthy(node: &Node) -> bool {
    health::ready_status(node).is_some_and(|s| s != "True") || !taints::no_execute(node).is_empty()
}

/// What about a node decides its pods' fate.
fn pod_facts(node: &Node) -> (Option<String>, Vec<(String, String)>) {
    (
        health::ready_status(node).map(str::to_string),
        taints::no_execute(node)
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect(),
    )
}

struct Controller {
    ctx: Arc<Context>,
    nodes: Arc<Informer<Node>>,
    leases: Arc<Informer<Lease>>,
    pods: Arc<Informer<Pod>>,
    health: Mutex<HashMap<String, health::Health>>,
    /// False while every node is down (no NoExecute taints then).
    evict: AtomicBool,
    /// Each zone's state and size, as of the last monitor pass.
    zones: Mutex<HashMap<String, (zones::ZoneState, usize)>>,
    /// Each zone's NoExecute tainting bucket.
    buckets: Mutex<HashMap<String, zones::Bucket>>,
    /// Nodes whose pods must be looked at.
    fan_out: Mutex<HashSet<String>>,
    fan_out_signal: Notify,
    node_events: Recorder,
    eviction_events: Recorder,
}

fn is_conflict_or_gone(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(ae) if ae.code == 404 || ae.code == 409 => Some(ae.code),
        _ => None,
    }
}

impl Controller {
    fn all_down(&self) -> bool {
        let nodes = self.nodes.list();
        !nodes.is_empty()
            && nodes
                .iter()
                .all(|n| health::ready_status(n) != Some("True"))
    }

    fn refresh_zones(&self) {
        let nodes = self.nodes.list();
        *self.zones.lock() = zones::zones(nodes.iter().map(|n| &**n));
        self.evict.store(!self.all_down(), Ordering::Relaxed);
    }

    /// Whether `node` may be newly tainted NoExecute now (its zone's pace); else when to
    /// ask again.
    fn may_taint(&self, node: &Node, now: Timestamp) -> Result<(), Duration> {
        let key = zones::zone_key(node);
        let (state, size) = self
            .zones
            .lock()
            .get(&key)
            .copied()
            .unwrap_or((zones::ZoneState::Normal, 1));
        let qps = zones::tainting_qps(state, size);
        let mut buckets = self.buckets.lock();
        let bucket = buckets
            .entry(key)
            .or_insert_with(|| zones::Bucket::new(now));
        bucket.take(qps, now).map_err(|wait| {
            wait.map(Duration::from_secs_f64)
                .unwrap_or(NODE_MONITOR_PERIOD)
                .max(Duration::from_millis(100))
        })
    }

    fn request_fan_out(&self, node: &str) {
        self.fan_out.lock().insert(node.to_string());
        self.fan_out_signal.notify_one();
    }

    async fn sync_node(&self, name: String) -> Result<Option<Duration>, kube::Error> {
        let Some(mut node) = self.nodes.get(&ObjectKey::cluster(&name)) else {
            self.health.lock().remove(&name);
            return Ok(None);
        };
        let now = Timestamp::now();
        let lease = self.leases.get_named(LEASE_NAMESPACE, &name);
        let h = {
            let mut all = self.health.lock();
            let h = health::observe(all.get(&name), &node, lease.as_deref(), now);
            all.insert(name.clone(), h.clone());
            h
        };
        let api: Api<Node> = Api::all(self.ctx.client.clone());
        if health::silent(&h, &node, self.ctx.config.node_monitor_grace_period, now) {
            if let Some(conds) = health::unknown_conditions(&node, now) {
                let patch = json!({
                    "metadata": {"resourceVersion": node.metadata.resource_version},
                    "status": {"conditions": conds},
                });
                match api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(updated) => {
                        self.nodes.assume(updated.clone());
                        node = Arc::new(updated);
                    }
                    Err(e) if is_conflict_or_gone(&e) == Some(404) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
        }
        let evict = self.evict.load(Ordering::Relaxed);
        let mut again = None;
        let mut wanted = taints::reconcile(&node, evict, now);
        if let Some(new) = &wanted {
            if taints::starts_no_execute(&node, new) {
                if let Err(wait) = self.may_taint(&node, now) {
                    again = Some(wait);
                    wanted = taints::reconcile(&node, false, now);
                }
            }
        }
        if let Some(new_taints) = wanted {
            let patch = json!({
                "metadata": {"resourceVersion": node.metadata.resource_version},
                // An empty list is dropped, as upstream's omitempty does.
                "spec": {"taints": if new_taints.is_empty() { None } else { Some(new_taints) }},
            });
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(updated) => self.nodes.assume(updated),
                Err(e) if is_conflict_or_gone(&e) == Some(404) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(again)
    }

    async fn sync_pod(&self, key: ObjectKey) -> Result<Option<Duration>, kube::Error> {
        let Some(pod) = self.pods.get(&key) else {
            return Ok(None);
        };
        let Some(node_name) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            return Ok(None);
        };
        let Some(node) = self.nodes.get(&ObjectKey::cluster(&node_name)) else {
            return Ok(None);
        };
        let now = Timestamp::now();
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &key.namespace);
        let mut pod = pod;
        if health::ready_status(&node).is_some_and(|s| s != "True")
            && pod.metadata.deletion_timestamp.is_none()
        {
            if let Some(conds) = eviction::not_ready_conditions(&pod, now) {
                let patch = json!({
                    "metadata": {"resourceVersion": pod.metadata.resource_version},
                    "status": {"conditions": conds},
                });
                match api
                    .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(updated) => {
                        self.pods.assume(updated.clone());
                        pod = Arc::new(updated);
                    }
                    Err(e) if is_conflict_or_gone(&e) == Some(404) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
        }
        match eviction::eviction(&pod, &taints::no_execute(&node), now) {
            Eviction::Keep => Ok(None),
            Eviction::After(d) => Ok(Some(d)),
            Eviction::Now => {
                if let Some(conds) = eviction::disruption_conditions(&pod, now) {
                    let patch = json!({
                        "metadata": {"uid": pod.metadata.uid},
                        "status": {"conditions": conds},
                    });
                    match api
                        .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                    {
                        Ok(_) => {}
                        Err(e) if is_conflict_or_gone(&e) == Some(404) => return Ok(None),
                        Err(e) => return Err(e),
                    }
                }
                self.eviction_events.record(
                    &*pod,
                    EventType::Normal,
                    eviction::EVICTION_REASON,
                    format!("Marking for deletion Pod {key}"),
                );
                match api.delete(&key.name, &DeleteParams::default()).await {
                    Ok(_) => Ok(None),
                    Err(e) if is_conflict_or_gone(&e) == Some(404) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

pub async fn run(ctx: Arc<Context>) {
    let nodes = ctx.informers.get::<Node>();
    let leases = ctx.informers.get::<Lease>();
    let pods = ctx.informers.get::<Pod>();
    let mut node_changes = nodes.subscribe();
    let mut pod_changes = pods.subscribe();
    nodes.synced().await;
    leases.synced().await;
    pods.synced().await;
    let c = Arc::new(Controller {
        node_events: ctx.recorder("node-controller"),
        eviction_events: ctx.recorder("taint-eviction-controller"),
        ctx: ctx.clone(),
        nodes: nodes.clone(),
        leases,
        pods: pods.clone(),
        health: Mutex::new(HashMap::new()),
        evict: AtomicBool::new(true),
        zones: Mutex::new(HashMap::new()),
        buckets: Mutex::new(HashMap::new()),
        fan_out: Mutex::new(HashSet::new()),
        fan_out_signal: Notify::new(),
    });
    c.refresh_zones();
    let node_queue: WorkQueue<String> = WorkQueue::new();
    let pod_queue: WorkQueue<ObjectKey> = WorkQueue::new();
    for n in nodes.list() {
        let name = n.metadata.name.clone().unwrap_or_default();
        c.node_events.record(
            &*n,
            EventType::Normal,
            "RegisteredNode",
            format!("Node {name} event: Registered Node {name} in Controller"),
        );
        if unhealthy(&n) {
            c.request_fan_out(&name);
        }
    }

    // The monitor: every node every period.
    {
        let c = c.clone();
        let q = node_queue.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(NODE_MONITOR_PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                c.refresh_zones();
                for k in c.nodes.keys() {
                    q.add(k.name);
                }
            }
        });
    }
    // Node changes.
    {
        let c = c.clone();
        let q = node_queue.clone();
        tokio::spawn(async move {
            while let Some(change) = node_changes.recv().await {
                match change {
                    Change::Resync => {
                        for n in c.nodes.list() {
                            let name = n.metadata.name.clone().unwrap_or_default();
                            if unhealthy(&n) {
                                c.request_fan_out(&name);
                            }
                            q.add(name);
                        }
                    }
                    Change::Added(n) => {
                        let name = n.metadata.name.clone().unwrap_or_default();
                        c.node_events.record(
                            &*n,
                            EventType::Normal,
                            "RegisteredNode",
                            format!("Node {name} event: Registered Node {name} in Controller"),
                        );
                        if unhealthy(&n) {
                            c.request_fan_out(&name);
                        }
                        q.add(name);
                    }
                    Change::Updated { old, new } => {
                        let name = new.metadata.name.clone().unwrap_or_default();
                        if health::ready_status(&old) == Some("True")
                            && health::ready_status(&new) != Some("True")
                        {
                            c.node_events.record(
                                &*new,
                                EventType::Normal,
                                "NodeNotReady",
                                format!("Node {name} status is now: NodeNotReady"),
                            );
                        }
                        if pod_facts(&old) != pod_facts(&new) {
                            c.request_fan_out(&name);
                        }
                        q.add(name);
                    }
                    Change::Deleted(n) => {
                        let name = n.metadata.name.clone().unwrap_or_default();
                        c.health.lock().remove(&name);
                        c.node_events.record(
                            &*n,
                            EventType::Normal,
                            "RemovingNode",
                            format!("Node {name} event: Removing Node {name} from Controller"),
                        );
                    }
                }
            }
        });
    }
    // Pods of nodes whose health changed: one pass over the pod cache for all of them.
    {
        let c = c.clone();
        let q = pod_queue.clone();
        tokio::spawn(async move {
            loop {
                c.fan_out_signal.notified().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                let wanted = std::mem::take(&mut *c.fan_out.lock());
                if wanted.is_empty() {
                    continue;
                }
                for p in c.pods.list() {
                    let on = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
                    if on.is_some_and(|n| wanted.contains(n)) {
                        q.add(ObjectKey::of(&p.metadata));
                    }
                }
            }
        });
    }
    // Pod changes: only pods on unhealthy nodes matter.
    {
        let c = c.clone();
        let q = pod_queue.clone();
        tokio::spawn(async move {
            while let Some(change) = pod_changes.recv().await {
                match change {
                    Change::Resync => {
                        for n in c.nodes.list() {
                            if unhealthy(&n) {
                                c.request_fan_out(n.metadata.name.as_deref().unwrap_or(""));
                            }
                        }
                    }
                    Change::Added(p) | Change::Updated { new: p, .. } => {
                        let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref())
                        else {
                            continue;
                        };
                        if c.nodes
                            .get(&ObjectKey::cluster(node))
                            .is_some_and(|n| unhealthy(&n))
                        {
                            q.add(ObjectKey::of(&p.metadata));
                        }
                    }
                    Change::Deleted(_) => {}
                }
            }
        });
    }
    let workers = ctx.config.workers;
    let cn = c.clone();
    let nodes_run = node_queue.run(workers, move |name: String| {
        let c = cn.clone();
        async move { c.sync_node(name).await }
    });
    let cp = c.clone();
    let pods_run = pod_queue.run(workers, move |key: ObjectKey| {
        let c = cp.clone();
        async move { c.sync_pod(key).await }
    });
    tokio::join!(nodes_run, pods_run);
}
