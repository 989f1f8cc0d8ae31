//! What every controller gets: the API client, the process's shared informers, an event
//! recorder per controller, and the controller manager's settings.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use skiff_runtime::events::Recorder;
use skiff_runtime::Informers;

/// The controller manager's settings (upstream's flags of the same meaning).
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// The range node podCIDRs are cut from (`--cluster-cidr`).
    pub cluster_cidr: String,
    /// The prefix length of each node's podCIDR (`--node-cidr-mask-size`, 24).
    pub node_cidr_mask_size: u8,
    /// How long a node's Lease may go unrenewed before the node is NotReady/Unknown
    /// (`--node-monitor-grace-period`, 40 s).
    pub node_monitor_grace_period: Duration,
    /// Workers per controller (`--concurrent-*-syncs`).
    pub workers: usize,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            cluster_cidr: "10.42.0.0/16".into(),
            node_cidr_mask_size: 24,
            node_monitor_grace_period: Duration::from_secs(40),
            workers: 5,
        }
    }
}

/// Shared by every controller.
pub struct Context {
    pub client: Client,
    pub informers: Arc<Informers>,
    pub config: ControllerConfig,
}

impl Context {
    pub fn new(client: Client, informers: Arc<Informers>, config: ControllerConfig) -> Arc<Self> {
        Arc::new(Context {
            client,
            informers,
            config,
        })
    }

    /// A recorder for events from `component` (e.g. `deployment-controller`).
    pub fn recorder(&self, component: &str) -> Recorder {
        Recorder::new(self.client.clone(), component)
    }
}
