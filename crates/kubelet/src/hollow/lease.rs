//! Node Leases (`kube-node-lease/<node>`): one renewer for every hollow node. Renewals are
//! spread evenly over the renew interval (node `i` of `n` renews at offset `i/n` of it), so
//! thousands of nodes write a steady trickle instead of a burst; a few workers carry the
//! writes out. A missing Lease is created, owned by its Node as the kubelet does.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;
use skiff_runtime::{Informer, WorkQueue};

use super::node::node_name;
use super::HollowConfig;

/// The namespace of node Leases.
pub const NAMESPACE: &str = "kube-node-lease";
/// The Lease duration the kubelet declares (`nodeLeaseDurationSeconds`).
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// The renewer's tick.
const TICK: Duration = Duration::from_millis(100);

/// The node indexes (of `count`) due in tick `k` of `ticks` per interval: an even share.
pub fn due_in_tick(count: usize, ticks: usize, k: usize) -> std::ops::Range<usize> {
    let ticks = ticks.max(1);
    let k = k % ticks;
    (k * count / ticks)..((k + 1) * count / ticks)
}

/// The Lease of `node` renewed at `now`.
pub fn lease(node: &Node, now: Timestamp) -> Lease {
    let name = node.metadata.name.clone().unwrap_or_default();
    Lease {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(NAMESPACE.into()),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: name.clone(),
                uid: node.metadata.uid.clone().unwrap_or_default(),
                ..Default::default()
            }]),
            ..Default::default()
        },
        spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
            holder_identity: Some(name),
            lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
            renew_time: Some(MicroTime(now)),
            ..Default::default()
        }),
    }
}

/// Renews (or creates) the Lease of node `index`.
async fn renew(
    client: &Client,
    nodes: &Informer<Node>,
    config: &HollowConfig,
    index: usize,
) -> Result<(), kube::Error> {
    let name = node_name(config, index);
    let Some(node) = nodes.get_named("", &name) else {
        return Ok(()); // not registered (yet)
    };
    if node.metadata.uid.is_none() || super::node::stopped(&node) {
        return Ok(());
    }
    let want = lease(&node, Timestamp::now());
    let api: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
    let patch = json!({
        "metadata": {"ownerReferences": want.metadata.owner_references},
        "spec": want.spec,
    });
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => {
            match api.create(&PostParams::default(), &want).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Runs the renewer and its workers. `queue` may also be fed from elsewhere (a node that
/// just registered gets its Lease at once).
pub async fn run(
    client: Client,
    nodes: Arc<Informer<Node>>,
    config: Arc<HollowConfig>,
    queue: WorkQueue<usize>,
) {
    let interval = config.lease_renew_interval.max(TICK);
    let ticks = (interval.as_millis() / TICK.as_millis()).max(1) as usize;
    let count = config.count;
    let q = queue.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut k = 0usize;
        loop {
            ticker.tick().await;
            for i in due_in_tick(count, ticks, k) {
                q.add(i);
            }
            k = (k + 1) % ticks;
        }
    });
    let workers = (count / 500).clamp(2, 16);
    queue
        .run(workers, move |i: usize| {
            let client = client.clone();
            let nodes = nodes.clone();
            let config = config.clone();
            async move { renew(&client, &nodes, &config, i).await.map(|_| None) }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_is_due_exactly_once_per_interval() {
        for (count, ticks) in [(3, 100), (5000, 100), (7, 3), (0, 10), (10, 1)] {
            let mut seen = vec![0; count];
            for k in 0..ticks {
                let r = due_in_tick(count, ticks, k);
                assert!(r.len() <= count / ticks + 1);
                for i in r {
                    seen[i] += 1;
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "{count} {ticks}");
        }
    }

    #[test]
    fn the_lease_is_owned_by_its_node() {
        let node = Node {
            metadata: ObjectMeta {
                name: Some("sim-0".into()),
                uid: Some("n1".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let l = lease(&node, Timestamp::UNIX_EPOCH);
        let owner = &l.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Node", "n1"));
        let spec = l.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("sim-0"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
    }
}
