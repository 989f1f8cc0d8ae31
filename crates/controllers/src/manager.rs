//! Starts every controller on the shared context and runs them until one ends (none should:
//! each retries its own failures).

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::context::Context;

type Start = fn(Arc<Context>) -> BoxFuture<'static, ()>;

/// The controllers, by upstream's names; one line each.
const CONTROLLERS: &[(&str, Start)] = &[
    ("serviceaccount", |c| crate::serviceaccount::run(c).boxed()),
    ("nodeipam", |c| crate::nodeipam::run(c).boxed()),
    ("nodelifecycle", |c| crate::nodelifecycle::run(c).boxed()),
    ("replicaset", |c| {
        crate::replicaset::run_replicasets(c).boxed()
    }),
    ("replicationcontroller", |c| {
        crate::replicaset::run_replication_controllers(c).boxed()
    }),
    ("deployment", |c| crate::deployment::run(c).boxed()),
    ("job", |c| crate::job::run(c).boxed()),
    ("cronjob", |c| crate::cronjob::run(c).boxed()),
    ("ttl-after-finished", |c| {
        crate::ttlafterfinished::run(c).boxed()
    }),
    ("endpoint", |c| crate::endpoints::run(c).boxed()),
    ("disruption", |c| crate::disruption::run(c).boxed()),
    ("endpointslice", |c| crate::endpointslice::run(c).boxed()),
    ("podgc", |c| crate::podgc::run(c).boxed()),
    ("horizontalpodautoscaling", |c| crate::hpa::run(c).boxed()),
    ("persistentvolume-binder", |c| {
        crate::persistentvolume::run(c).boxed()
    }),
    ("daemonset", |c| crate::daemonset::run(c).boxed()),
    ("statefulset", |c| crate::statefulset::run(c).boxed()),
    ("garbagecollector", |c| {
        crate::garbagecollector::run(c).boxed()
    }),
];

/// Runs every controller.
pub async fn run(ctx: Arc<Context>) {
    let mut tasks = Vec::new();
    for (name, start) in CONTROLLERS {
        tracing::debug!(controller = name, "starting");
        tasks.push(tokio::spawn(start(ctx.clone())));
    }
    for t in tasks {
        let _ = t.await;
    }
}
