//! The ServiceAccount controller: every active namespace has a `default` ServiceAccount
//! (recreated if deleted), as upstream's serviceaccounts-controller ensures.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use skiff_runtime::{Change, ObjectKey, WorkQueue};

use crate::context::Context;

/// The ServiceAccount every namespace gets.
pub const DEFAULT_NAME: &str = "default";

/// Whether namespace `ns` (None: absent) needs its default ServiceAccount created, given
/// whether it exists.
pub fn needs_default(ns: Option<&Namespace>, has_default: bool) -> bool {
    let Some(ns) = ns else { return false };
    let terminating = ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    !terminating && !has_default
}

pub async fn run(ctx: Arc<Context>) {
    let namespaces = ctx.informers.get::<Namespace>();
    let accounts = ctx.informers.get::<ServiceAccount>();
    let queue: WorkQueue<String> = WorkQueue::new();
    let mut ns_changes = namespaces.subscribe();
    let mut sa_changes = accounts.subscribe();
    namespaces.synced().await;
    accounts.synced().await;
    for ns in namespaces.keys() {
        queue.add(ns.name);
    }
    let q = queue.clone();
    let ns_inf = namespaces.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                c = ns_changes.recv() => match c {
                    Some(Change::Resync) => ns_inf.keys().into_iter().for_each(|k| q.add(k.name)),
                    Some(c) => if let Some(o) = c.object() { q.add(o.metadata.name.clone().unwrap_or_default()) },
                    None => return,
                },
                c = sa_changes.recv() => match c {
                    Some(Change::Deleted(sa)) if sa.metadata.name.as_deref() == Some(DEFAULT_NAME) => {
                        q.add(sa.metadata.namespace.clone().unwrap_or_default())
                    }
                    Some(Change::Resync) => ns_inf.keys().into_iter().for_each(|k| q.add(k.name)),
                    Some(_) => {}
                    None => return,
                },
            }
        }
    });
    let client = ctx.client.clone();
    queue
        .run(ctx.config.workers, move |ns: String| {
            let namespaces = namespaces.clone();
            let accounts = accounts.clone();
            let client = client.clone();
            async move {
                let has = accounts.get(&ObjectKey::new(&ns, DEFAULT_NAME)).is_some();
                let nsobj = namespaces.get(&ObjectKey::cluster(&ns));
                if !needs_default(nsobj.as_deref(), has) {
                    return Ok::<_, kube::Error>(None);
                }
                let api: Api<ServiceAccount> = Api::namespaced(client, &ns);
                let sa = ServiceAccount {
                    metadata: ObjectMeta {
                        name: Some(DEFAULT_NAME.into()),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                match api.create(&PostParams::default(), &sa).await {
                    Ok(_) => Ok(None),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(None),
                    // The namespace is going away: nothing to do.
                    Err(kube::Error::Api(e)) if e.code == 403 || e.code == 404 => Ok(None),
                    Err(e) => Err(e),
                }
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_namespaces_without_one_need_it() {
        let ns = Namespace::default();
        assert!(needs_default(Some(&ns), false));
        assert!(!needs_default(Some(&ns), true));
        assert!(!needs_default(None, false));
        let mut term = Namespace::default();
        term.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH),
        );
        assert!(!needs_default(Some(&term), false));
    }
}
