//! What the garbage collector watches (upstream's monitors): every served resource that
//! can be listed, watched and deleted, at its group's preferred version, except events;
//! each through a metadata-only watch whose changes become [`GraphEvent`]s on one channel.
//! Also the mapping from an object's `apiVersion` + `kind` to the resource to call.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, PartialObjectMeta};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Client;
use skiff_api::resources::Verb;
use skiff_api::Resource;
use tokio::sync::{mpsc, watch};

use super::graph::{GraphEvent, Identity, ObjectState};

/// The resources the collector watches.
pub fn deletable_resources() -> Vec<&'static Resource> {
    skiff_api::resources::all()
        .iter()
        .filter(|r| {
            r.is_preferred_version()
                && [Verb::Delete, Verb::List, Verb::Watch]
                    .iter()
                    .all(|v| r.has_verb(*v))
                && !ignored(r)
        })
        .collect()
}

/// Upstream's ignored resources: events take no part in garbage collection.
fn ignored(r: &Resource) -> bool {
    r.plural == "events" && (r.group.is_empty() || r.group == "events.k8s.io")
}

/// The served resource of `apiVersion` + `kind` (the group's other version when that one
/// is not served).
pub fn resource_of(api_version: &str, kind: &str) -> Option<&'static Resource> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    skiff_api::resources::by_group_version_kind(group, version, kind)
        .or_else(|| skiff_api::resources::by_group_kind(group, kind))
}

/// kube-rs's description of a resource.
pub fn api_resource(r: &Resource) -> ApiResource {
    ApiResource {
        group: r.group.into(),
        version: r.version.into(),
        api_version: r.api_version(),
        kind: r.kind.into(),
        plural: r.plural.into(),
    }
}

/// A metadata-only API of `r`, in namespace `ns` when it is namespaced.
pub fn metadata_api(
    client: &Client,
    r: &Resource,
    ns: &str,
) -> Api<PartialObjectMeta<DynamicObject>> {
    let ar = api_resource(r);
    if r.namespaced {
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    }
}

/// The API to write objects of `r` in `ns` through.
pub fn object_api(client: &Client, r: &Resource, ns: &str) -> Api<DynamicObject> {
    let ar = api_resource(r);
    if r.namespaced {
        Api::namespaced_with(client.clone(), ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    }
}

fn identity(r: &Resource, meta: &kube::api::ObjectMeta) -> Identity {
    Identity {
        api_version: r.api_version(),
        kind: r.kind.to_string(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
    }
}

/// Starts one watch per resource, each sending its changes to `tx`; the returned receiver
/// turns true once every watch delivered its first list.
pub fn start(
    client: &Client,
    resources: &[&'static Resource],
    tx: mpsc::UnboundedSender<GraphEvent>,
) -> watch::Receiver<bool> {
    let (synced_tx, synced_rx) = watch::channel(false);
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(resources.len()));
    let synced_tx = Arc::new(synced_tx);
    if resources.is_empty() {
        synced_tx.send_replace(true);
    }
    for r in resources {
        let r: &'static Resource = r;
        let api: Api<PartialObjectMeta<DynamicObject>> =
            Api::all_with(client.clone(), &api_resource(r));
        let tx = tx.clone();
        let remaining = remaining.clone();
        let synced_tx = synced_tx.clone();
        tokio::spawn(async move {
            let mut stream = watcher::watcher(api, watcher::Config::default().page_size(500))
                .default_backoff()
                .boxed();
            // Keys (namespace/name) of the objects seen, with their uids, to turn a relist
            // into deletions of what vanished meanwhile.
            let mut known: HashMap<(String, String), String> = HashMap::new();
            let mut relisted: Option<HashMap<(String, String), String>> = None;
            let mut first = true;
            while let Some(ev) = stream.next().await {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(e) => {
                        tracing::debug!(resource = r.plural, error = %e, "gc watch error");
                        continue;
                    }
                };
                let send = |e: GraphEvent| tx.send(e).is_ok();
                let alive = match ev {
                    Event::Apply(o) | Event::InitApply(o) => {
                        let id = identity(r, &o.metadata);
                        let key = (id.namespace.clone(), id.name.clone());
                        if let Some(re) = relisted.as_mut() {
                            re.insert(key.clone(), id.uid.clone());
                        }
                        if let Some(old_uid) = known.insert(key, id.uid.clone()) {
                            if old_uid != id.uid {
                                // Deleted and recreated while the watch was away.
                                let gone = Identity {
                                    uid: old_uid,
                                    ..id.clone()
                                };
                                send(GraphEvent::Deleted { identity: gone });
                            }
                        }
                        send(GraphEvent::Observed {
                            identity: id,
                            state: ObjectState::of(&o.metadata),
                        })
                    }
                    Event::Delete(o) => {
                        let id = identity(r, &o.metadata);
                        known.remove(&(id.namespace.clone(), id.name.clone()));
                        send(GraphEvent::Deleted { identity: id })
                    }
                    Event::Init => {
                        relisted = Some(HashMap::new());
                        true
                    }
                    Event::InitDone => {
                        let fresh = relisted.take().unwrap_or_default();
                        let mut ok = true;
                        for (key, uid) in known.iter() {
                            if !fresh.contains_key(key) {
                                ok &= send(GraphEvent::Deleted {
                                    identity: Identity {
                                        api_version: r.api_version(),
                                        kind: r.kind.to_string(),
                                        namespace: key.0.clone(),
                                        name: key.1.clone(),
                                        uid: uid.clone(),
                                    },
                                });
                            }
                        }
                        known = fresh;
                        if first {
                            first = false;
                            if remaining.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                                synced_tx.send_replace(true);
                            }
                        }
                        ok
                    }
                };
                if !alive {
                    return;
                }
            }
        });
    }
    synced_rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watched_resources() {
        let plurals: Vec<(&str, &str)> = deletable_resources()
            .iter()
            .map(|r| (r.group, r.plural))
            .collect();
        for want in [
            ("", "pods"),
            ("", "configmaps"),
            ("", "namespaces"),
            ("apps", "replicasets"),
            ("apps", "controllerrevisions"),
            ("batch", "jobs"),
            ("discovery.k8s.io", "endpointslices"),
        ] {
            assert!(plurals.contains(&want), "{want:?} not watched");
        }
        assert!(!plurals.contains(&("", "events")));
        assert!(!plurals.contains(&("", "bindings")));
        // One version per group: HPAs once.
        assert_eq!(
            plurals
                .iter()
                .filter(|p| p.1 == "horizontalpodautoscalers")
                .count(),
            1
        );
    }

    #[test]
    fn resources_of_kinds() {
        assert_eq!(
            resource_of("apps/v1", "ReplicaSet").unwrap().plural,
            "replicasets"
        );
        assert_eq!(resource_of("v1", "Pod").unwrap().plural, "pods");
        // A version no longer served maps to the served one.
        assert_eq!(
            resource_of("apps/v1beta2", "Deployment").unwrap().version,
            "v1"
        );
        assert!(resource_of("example.com/v1", "Widget").is_none());
    }
}
