//! Node registration and status reports: one queue of node indexes, a few workers. A node
//! missing from the cache is created (and re-created when deleted); a registered node's
//! status is written when it differs from what the node reports (e.g. the node lifecycle
//! controller marked it Unknown) or every `nodeStatusReportFrequency` otherwise.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;
use skiff_runtime::{Change, Informer, WorkQueue};

use super::node::{self, node_index, node_name, STATUS_REPORT_FREQUENCY};
use super::HollowConfig;

/// A spread of up to 10% added to each node's report period, so reports do not align.
fn jittered(d: Duration) -> Duration {
    d + d.mul_f64(rand::random::<f64>() * 0.1)
}

async fn sync(
    client: &Client,
    nodes: &Informer<Node>,
    leases: &WorkQueue<usize>,
    config: &HollowConfig,
    index: usize,
) -> Result<Option<Duration>, kube::Error> {
    let name = node_name(config, index);
    let api: Api<Node> = Api::all(client.clone());
    let now = Timestamp::now();
    let Some(current) = nodes.get_named("", &name) else {
        return match api
            .create(&PostParams::default(), &node::node(config, index, now))
            .await
        {
            Ok(created) => {
                nodes.assume(created);
                leases.add(index);
                Ok(Some(jittered(STATUS_REPORT_FREQUENCY)))
            }
            // Registered already; the watch brings it.
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Some(Duration::from_millis(500))),
            Err(e) => Err(e),
        };
    };
    if current.metadata.deletion_timestamp.is_some() {
        return Ok(Some(Duration::from_secs(1)));
    }
    if node::stopped(&current) {
        return Ok(Some(Duration::from_secs(1)));
    }
    if let Some(wait) = node::status_due(config, index, &current, now) {
        return Ok(Some(wait));
    }
    let status = node::status(config, index, current.status.as_ref(), now);
    let patch = json!({ "status": status });
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(updated) => {
            nodes.assume(updated);
            Ok(Some(jittered(STATUS_REPORT_FREQUENCY)))
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(Some(Duration::ZERO)),
        Err(e) => Err(e),
    }
}

/// Runs registration and status reports for every hollow node.
pub async fn run(
    client: Client,
    nodes: Arc<Informer<Node>>,
    config: Arc<HollowConfig>,
    leases: WorkQueue<usize>,
) {
    let queue: WorkQueue<usize> = WorkQueue::new();
    let mut changes = nodes.subscribe();
    nodes.synced().await;
    for i in 0..config.count {
        queue.add(i);
    }
    let q = queue.clone();
    let cfg = config.clone();
    tokio::spawn(async move {
        while let Some(c) = changes.recv().await {
            match c {
                Change::Resync => (0..cfg.count).for_each(|i| q.add(i)),
                Change::Deleted(n) => {
                    if let Some(i) = node_index(&cfg, n.metadata.name.as_deref().unwrap_or("")) {
                        q.add(i);
                    }
                }
                Change::Updated { new, .. } => {
                    let Some(i) = node_index(&cfg, new.metadata.name.as_deref().unwrap_or(""))
                    else {
                        continue;
                    };
                    if node::status_due(&cfg, i, &new, Timestamp::now()).is_none() {
                        q.add(i);
                    }
                }
                Change::Added(_) => {}
            }
        }
    });
    let workers = (config.count / 250).clamp(2, 16);
    queue
        .run(workers, move |i: usize| {
            let client = client.clone();
            let nodes = nodes.clone();
            let config = config.clone();
            let leases = leases.clone();
            async move { sync(&client, &nodes, &leases, &config, i).await }
        })
        .await;
}
