//! Hollow (simulated) nodes: `sim-0` ... `sim-(N-1)`, each registering a Node with the
//! configured capacity, keeping its Lease fresh, and reporting every pod bound to it as
//! Running and Ready without running anything (Job pods succeed after a set time), as
//! KWOK does. Built to scale to thousands of nodes: one registration queue, one Lease
//! renewer, one pod worker pool, all fed by the process's shared informers.
//!
//! - [`node`]: the Node object and the status a node reports (pure)
//! - [`registration`]: registering nodes and reporting their status
//! - [`lease`]: the Lease renewer
//! - [`pods`]: what to do with a pod and the status to report (pure)
//! - [`ips`]: pod IPs out of each node's podCIDR (pure)
//! - [`pod_worker`]: carries out the pod steps

pub mod ips;
pub mod lease;
pub mod node;
pub mod pod_worker;
pub mod pods;
pub mod registration;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use skiff_runtime::{Informers, WorkQueue};

/// The hollow nodes' settings (`--simulated-*` flags).
#[derive(Debug, Clone)]
pub struct HollowConfig {
    pub count: usize,
    /// Node names are this prefix followed by the index.
    pub name_prefix: String,
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
    /// How long a Job's pod runs before it succeeds.
    pub job_duration: Duration,
    /// How often each node renews its Lease (upstream's kubelet: 10 s).
    pub lease_renew_interval: Duration,
}

impl Default for HollowConfig {
    fn default() -> Self {
        HollowConfig {
            count: 0,
            name_prefix: "sim-".into(),
            cpu: "32".into(),
            memory: "256Gi".into(),
            pods: 110,
            job_duration: Duration::from_secs(1),
            lease_renew_interval: Duration::from_secs(10),
        }
    }
}

/// Runs the hollow nodes until the process ends.
pub async fn run(client: Client, informers: Arc<Informers>, config: HollowConfig) {
    if config.count == 0 {
        return;
    }
    let config = Arc::new(config);
    let nodes = informers.get::<Node>();
    let pods = informers.get::<Pod>();
    let leases: WorkQueue<usize> = WorkQueue::new();
    tokio::join!(
        registration::run(
            client.clone(),
            nodes.clone(),
            config.clone(),
            leases.clone()
        ),
        lease::run(client.clone(), nodes.clone(), config.clone(), leases),
        pod_worker::run(client, pods, nodes, config),
    );
}
