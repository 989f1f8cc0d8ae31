//! skiff's scheduler: places pods that name no node (and whose `schedulerName` is
//! `default-scheduler`) on a node, binding them through `pods/binding`.

use std::sync::Arc;

use kube::Client;
use skiff_runtime::Informers;

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

/// Runs the scheduler until the process ends.
pub async fn run(client: Client, informers: Arc<Informers>, config: SchedulerConfig) {
    let _ = (client, informers, config);
    std::future::pending::<()>().await
}
