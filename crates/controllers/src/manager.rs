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
        ("daemonset", crate::daemonset::run(ctx.clone()).boxed()),
        ("statefulset", crate::statefulset::run(ctx.clone()).boxed()),
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
