//! The pod workers of every hollow node: one queue of pod keys fed from the shared pod
//! informer (only pods bound to our nodes), a pool of workers carrying out
//! [`pods::decide`]'s steps through `pods/status` and the final delete, and the pod IP
//! bookkeeping of each node (rebuilt from the cache at start).

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::Client;
use parking_lot::Mutex;
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use super::ips::{Cidr4, NodeIps};
use super::node::{internal_ip, node_index};
use super::pods::{self, Action};
use super::HollowConfig;

/// Pod IPs per node index.
#[derive(Default)]
struct Ips {
    nodes: Mutex<HashMap<usize, NodeIps>>,
}

impl Ips {
    fn allocate(&self, node: usize, cidr: Cidr4, uid: &str) -> Option<Ipv4Addr> {
        let mut nodes = self.nodes.lock();
        let ips = nodes.entry(node).or_insert_with(|| NodeIps::new(cidr));
        if ips.cidr() != cidr {
            *ips = NodeIps::new(cidr);
        }
        ips.allocate(uid)
    }

    fn claim(&self, node: usize, cidr: Cidr4, uid: &str, ip: Ipv4Addr) {
        let mut nodes = self.nodes.lock();
        let ips = nodes.entry(node).or_insert_with(|| NodeIps::new(cidr));
        if ips.cidr() == cidr {
            ips.claim(uid, ip);
        }
    }

    fn release(&self, node: usize, uid: &str) {
        if let Some(ips) = self.nodes.lock().get_mut(&node) {
            ips.release(uid);
        }
    }
}

fn node_of(config: &HollowConfig, pod: &Pod) -> Option<usize> {
    let name = pod.spec.as_ref()?.node_name.as_deref()?;
    node_index(config, name)
}

fn pod_cidr(node: &Node) -> Option<Cidr4> {
    let spec = node.spec.as_ref()?;
    spec.pod_cidrs
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .chain(spec.pod_cidr.as_deref())
        .find_map(Cidr4::parse)
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

struct Worker {
    client: Client,
    pods: Arc<Informer<Pod>>,
    nodes: Arc<Informer<Node>>,
    config: Arc<HollowConfig>,
    ips: Ips,
    /// The revision of our last status write per pod, until the cache has caught up with
    /// it (so a late watch event of an older version does not make us write again).
    written: Mutex<HashMap<ObjectKey, u64>>,
}

fn revision(pod: &Pod) -> Option<u64> {
    pod.metadata.resource_version.as_deref()?.parse().ok()
}

impl Worker {
    async fn write_status(
        &self,
        pod: &Pod,
        status: &k8s_openapi::api::core::v1::PodStatus,
    ) -> Result<bool, kube::Error> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let patch = pods::status_patch(pod, status);
        match api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(updated) => {
                if let Some(rv) = revision(&updated) {
                    self.written
                        .lock()
                        .insert(ObjectKey::of(&updated.metadata), rv);
                }
                self.pods.assume(updated);
                Ok(true)
            }
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn sync(&self, key: ObjectKey) -> Result<Option<Duration>, kube::Error> {
        let Some(pod) = self.pods.get(&key) else {
            self.written.lock().remove(&key);
            return Ok(None);
        };
        {
            let mut written = self.written.lock();
            if let Some(&w) = written.get(&key) {
                if revision(&pod).is_some_and(|rv| rv < w) {
                    // An older version than the one we wrote: the newer one is on its
                    // way (and queues the pod again).
                    return Ok(None);
                }
                written.remove(&key);
            }
        }
        let Some(index) = node_of(&self.config, &pod) else {
            return Ok(None);
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let now = Timestamp::now();
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let node = self.nodes.get_named("", &node_name);
        if node.as_deref().is_some_and(super::node::stopped) {
            // A silent machine reports nothing; its pods are looked at again when it is
            // Ready again (see `run`).
            return Ok(None);
        }
        let node_ready = node.as_deref().is_some_and(is_ready);
        match pods::decide(&pod, self.config.job_duration, node_ready, now) {
            Action::Nothing => Ok(None),
            Action::Later(d) => Ok(Some(d)),
            Action::Delete { uid } => {
                let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
                let dp = DeleteParams {
                    grace_period_seconds: Some(0),
                    preconditions: Some(Preconditions {
                        uid: Some(uid),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                match api.delete(&key.name, &dp).await {
                    Ok(_) => Ok(None),
                    Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Action::Refresh => {
                let Some(conditions) = pods::refreshed_conditions(&pod, now) else {
                    return Ok(None);
                };
                let status = k8s_openapi::api::core::v1::PodStatus {
                    conditions: Some(conditions),
                    ..Default::default()
                };
                self.write_status(&pod, &status).await?;
                Ok(None)
            }
            Action::Start => {
                let Some(node) = node else {
                    return Ok(Some(Duration::from_millis(500)));
                };
                let host_ip = internal_ip(index);
                let host_network = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.host_network)
                    .unwrap_or(false);
                let pod_ip = if host_network {
                    host_ip.clone()
                } else {
                    let Some(cidr) = pod_cidr(&node) else {
                        // Node IPAM has not given the node its range yet.
                        return Ok(Some(Duration::from_millis(500)));
                    };
                    match self.ips.allocate(index, cidr, &uid) {
                        Some(ip) => ip.to_string(),
                        None => {
                            tracing::warn!(pod = %key, node = %node_name, "no pod IP left on the node");
                            return Ok(Some(Duration::from_secs(5)));
                        }
                    }
                };
                let status = pods::running_status(&pod, &host_ip, &pod_ip, now);
                if !self.write_status(&pod, &status).await? {
                    self.ips.release(index, &uid);
                }
                Ok(None)
            }
            Action::Complete => {
                let status = pods::succeeded_status(&pod, now);
                self.write_status(&pod, &status).await?;
                self.ips.release(index, &uid);
                Ok(None)
            }
        }
    }
}

/// Runs the pod workers of every hollow node.
pub async fn run(
    client: Client,
    pods: Arc<Informer<Pod>>,
    nodes: Arc<Informer<Node>>,
    config: Arc<HollowConfig>,
) {
    let queue: WorkQueue<ObjectKey> = WorkQueue::new();
    let mut changes = pods.subscribe();
    pods.synced().await;
    nodes.synced().await;
    let worker = Arc::new(Worker {
        client,
        pods: pods.clone(),
        nodes: nodes.clone(),
        config: config.clone(),
        ips: Ips::default(),
        written: Mutex::new(HashMap::new()),
    });
    // Addresses handed out before a restart stay with their pods.
    let mine = |p: &Pod| node_of(&config, p);
    for pod in pods.list() {
        let Some(index) = mine(&pod) else { continue };
        queue.add(ObjectKey::of(&pod.metadata));
        if is_terminal(&pod) {
            continue;
        }
        let st = pod.status.as_ref();
        let ip = st
            .and_then(|s| s.pod_ip.as_deref())
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok());
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .and_then(|n| nodes.get_named("", n));
        if let (Some(ip), Some(cidr)) = (ip, node.as_deref().and_then(pod_cidr)) {
            worker.ips.claim(
                index,
                cidr,
                pod.metadata.uid.as_deref().unwrap_or_default(),
                ip,
            );
        }
    }
    // A node of ours that is Ready again: its pods may have been marked not Ready while it
    // was not; look at them all (one pass over the cache for every such node).
    {
        let q = queue.clone();
        let w = worker.clone();
        let mut node_changes = nodes.subscribe();
        tokio::spawn(async move {
            while let Some(c) = node_changes.recv().await {
                let mut back: HashSet<String> = HashSet::new();
                let mut note = |c: Change<Node>| {
                    if let Change::Updated { old, new } = c {
                        if !is_ready(&old) && is_ready(&new) {
                            if let Some(n) = new.metadata.name.as_deref() {
                                if node_index(&w.config, n).is_some() {
                                    back.insert(n.to_string());
                                }
                            }
                        }
                    }
                };
                note(c);
                tokio::time::sleep(Duration::from_millis(200)).await;
                while let Ok(Some(c)) =
                    tokio::time::timeout(Duration::ZERO, node_changes.recv()).await
                {
                    note(c);
                }
                if back.is_empty() {
                    continue;
                }
                for pod in w.pods.list() {
                    let on = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
                    if on.is_some_and(|n| back.contains(n)) {
                        q.add(ObjectKey::of(&pod.metadata));
                    }
                }
            }
        });
    }
    let q = queue.clone();
    let w = worker.clone();
    tokio::spawn(async move {
        while let Some(c) = changes.recv().await {
            match c {
                Change::Resync => {
                    for pod in w.pods.list() {
                        if node_of(&w.config, &pod).is_some() {
                            q.add(ObjectKey::of(&pod.metadata));
                        }
                    }
                }
                Change::Deleted(pod) => {
                    if let Some(index) = node_of(&w.config, &pod) {
                        w.ips
                            .release(index, pod.metadata.uid.as_deref().unwrap_or_default());
                        w.written.lock().remove(&ObjectKey::of(&pod.metadata));
                    }
                }
                Change::Added(pod) | Change::Updated { new: pod, .. } => {
                    if node_of(&w.config, &pod).is_some() {
                        q.add(ObjectKey::of(&pod.metadata));
                    }
                }
            }
        }
    });
    let workers = (config.count / 100).clamp(4, 32);
    queue
        .run(workers, move |key: ObjectKey| {
            let w = worker.clone();
            async move { w.sync(key).await }
        })
        .await;
}
