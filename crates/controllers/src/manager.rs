//! Starts every controller on the shared context and runs them until one ends (none should:
//! each retries its own failures).

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::context::Context;

/// The controllers, by upstream's names.
fn controllers(ctx: &Arc<Context>) -> Vec<(&'static str, BoxFuture<'static, ()>)> {
    vec![
        (
            "serviceaccount",
            crate::serviceaccount::run(ctx.clone()).boxed(),
        ),
        ("nodeipam", crate::nodeipam::run(ctx.clone()).boxed()),
        (
            "nodelifecycle",
            crate::nodelifecycle::run(ctx.clone()).boxed(),
        ),
        (
            "replicaset",
            crate::replicaset::run_replicasets(ctx.clone()).boxed(),
        ),
        (
            "replicationcontroller",
            crate::replicaset::run_replication_controllers(ctx.clone()).boxed(),
        ),
        ("deployment", crate::deployment::run(ctx.clone()).boxed()),
        ("job", crate::job::run(ctx.clone()).boxed()),
        ("cronjob", crate::cronjob::run(ctx.clone()).boxed()),
        (
            "ttl-after-finished",
            crate::ttlafterfinished::run(ctx.clone()).boxed(),
        ("endpoint", crate::endpoints::run(ctx.clone()).boxed()),
        (
            "endpointslice",
            crate::endpointslice::run(ctx.clone()).boxed(),
        ),
        (
            "garbagecollector",
            crate::garbagecollector::run(ctx.clone()).boxed(),
        ),
    ]
}

/// Runs every controller.
pub async fn run(ctx: Arc<Context>) {
    let mut tasks = Vec::new();
    for (name, fut) in controllers(&ctx) {
        tracing::debug!(controller = name, "starting");
        tasks.push(tokio::spawn(fut));
    }
    for t in tasks {
        let _ = t.await;
    }
}
