//! The garbage collector (upstream's garbagecollector controller): deletes objects whose
//! owners (by uid) are all gone, and carries out the two finalizers the API server leaves
//! on an object deleted with a propagation policy: `orphan` (its dependents lose their
//! reference to it, then the finalizer goes) and `foregroundDeletion` (its dependents are
//! deleted, those blocking their owner's deletion waited for, then the finalizer goes and
//! the API server removes the object).
//!
//! [`monitors`] watch every deletable resource's metadata into one channel; one task keeps
//! the [`graph`] of owners and dependents from it and queues nodes; workers read the
//! objects concerned from the API, ask [`decide`] what to do and do it.

pub mod decide;
pub mod graph;
pub mod monitors;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions, PropagationPolicy};
use kube::Client;
use parking_lot::Mutex;
use skiff_runtime::WorkQueue;
use tokio::sync::mpsc;

use crate::context::Context;
use decide::{Action, OwnerState, Propagation};
use graph::{Graph, GraphEvent, Identity, Node, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};

/// Why a worker gives a node back to its queue.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("unable to get REST mapping for {0}")]
    UnknownKind(String),
    #[error("item {0} hasn't been observed via informer yet")]
    NotObserved(String),
    #[error("failed to update {0}: the object changed meanwhile")]
    Conflict(String),
}

/// A cluster-scoped object naming a namespaced owner: never resolvable.
struct NamespacedOwnerOfClusterScopedObject;

/// The collector's shared state.
struct Collector {
    client: Client,
    graph: Arc<Mutex<Graph>>,
    events: mpsc::UnboundedSender<GraphEvent>,
    attempt_to_delete: WorkQueue<String>,
}

pub async fn run(ctx: Arc<Context>) {
    let graph = Arc::new(Mutex::new(Graph::new()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let attempt_to_delete: WorkQueue<String> = WorkQueue::new();
    let attempt_to_orphan: WorkQueue<String> = WorkQueue::new();
    let mut synced = monitors::start(&ctx.client, &monitors::deletable_resources(), tx.clone());
    {
        let graph = graph.clone();
        let to_delete = attempt_to_delete.clone();
        let to_orphan = attempt_to_orphan.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                let work = graph.lock().process(ev);
                for uid in work.attempt_to_delete {
                    to_delete.add(uid);
                }
                for uid in work.attempt_to_orphan {
                    to_orphan.add(uid);
                }
            }
        });
    }
    let _ = synced.wait_for(|s| *s).await;
    tracing::debug!(nodes = graph.lock().len(), "garbage collector synced");
    let gc = Arc::new(Collector {
        client: ctx.client.clone(),
        graph,
        events: tx,
        attempt_to_delete: attempt_to_delete.clone(),
    });
    let workers = ctx.config.workers;
    let g1 = gc.clone();
    let deleting = attempt_to_delete.run(workers, move |uid: String| {
        let gc = g1.clone();
        async move { gc.attempt_to_delete(&uid).await }
    });
    let g2 = gc.clone();
    let orphaning = attempt_to_orphan.run(workers, move |uid: String| {
        let gc = g2.clone();
        async move { gc.attempt_to_orphan(&uid).await.map(|()| None) }
    });
    tokio::join!(deleting, orphaning);
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

impl Collector {
    fn resource(&self, id: &Identity) -> Result<&'static skiff_api::Resource, GcError> {
        monitors::resource_of(&id.api_version, &id.kind)
            .ok_or_else(|| GcError::UnknownKind(format!("{}, Kind={}", id.api_version, id.kind)))
    }

    /// The object's metadata as the API has it now; `None` when it is gone or another
    /// object has its name.
    async fn get_latest(&self, id: &Identity) -> Result<Option<kube::api::ObjectMeta>, GcError> {
        let r = self.resource(id)?;
        let api = monitors::metadata_api(&self.client, r, &id.namespace);
        match api.get_metadata_opt(&id.name).await? {
            Some(o) if o.metadata.uid.as_deref() == Some(id.uid.as_str()) => Ok(Some(o.metadata)),
            _ => Ok(None),
        }
    }

    async fn patch(&self, id: &Identity, patch: serde_json::Value) -> Result<(), GcError> {
        let r = self.resource(id)?;
        let api = monitors::object_api(&self.client, r, &id.namespace);
        match api
            .patch(&id.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) if is_conflict(&e) => Err(GcError::Conflict(id.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, id: &Identity, policy: Propagation) -> Result<(), GcError> {
        let r = self.resource(id)?;
        let api = monitors::object_api(&self.client, r, &id.namespace);
        let params = DeleteParams {
            propagation_policy: Some(match policy {
                Propagation::Orphan => PropagationPolicy::Orphan,
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
            }),
            preconditions: Some(Preconditions {
                uid: Some(id.uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        tracing::debug!(item = %id, policy = policy.as_str(), "deleting item");
        match api.delete(&id.name, &params).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) if is_conflict(&e) => Err(GcError::Conflict(id.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes `finalizer` from the object, reading it again after a conflict.
    async fn remove_finalizer(&self, id: &Identity, finalizer: &str) -> Result<(), GcError> {
        let mut last = Ok(());
        for _ in 0..5 {
            let Some(meta) = self.get_latest(id).await? else {
                return Ok(());
            };
            let Some(patch) = decide::remove_finalizer_patch(&meta, finalizer) else {
                return Ok(());
            };
            last = self.patch(id, patch).await;
            match &last {
                Err(GcError::Conflict(_)) => continue,
                _ => return last,
            }
        }
        last
    }

    /// How the owner `r` of the object `item` stands (upstream's isDangling).
    async fn classify(
        &self,
        item: &Node,
        r: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
    ) -> Result<Result<OwnerState, NamespacedOwnerOfClusterScopedObject>, GcError> {
        let owner = Identity::of_owner(r, &item.identity.namespace);
        if self.graph.lock().absent.has(&owner) {
            return Ok(Ok(OwnerState::Dangling));
        }
        let res = self.resource(&owner)?;
        if item.identity.namespace.is_empty() && res.namespaced {
            return Ok(Err(NamespacedOwnerOfClusterScopedObject));
        }
        let api = monitors::metadata_api(&self.client, res, &owner.namespace);
        match api.get_metadata_opt(&owner.name).await? {
            Some(o) if o.metadata.uid.as_deref() == Some(owner.uid.as_str()) => {
                Ok(Ok(decide::owner_state(&o.metadata)))
            }
            _ => {
                self.graph.lock().absent.add(owner);
                Ok(Ok(OwnerState::Dangling))
            }
        }
    }

    /// Upstream's attemptToDeleteItem for the node `uid`.
    async fn attempt_to_delete(&self, uid: &str) -> Result<Option<Duration>, GcError> {
        let Some(item) = self.graph.lock().node(uid).cloned() else {
            return Ok(None);
        };
        // Being deleted is a one-way trip: its dependents are looked at once it is gone.
        if item.being_deleted && !item.deleting_dependents {
            return Ok(None);
        }
        let Some(latest) = self.get_latest(&item.identity).await? else {
            let _ = self.events.send(GraphEvent::VirtualDeleted {
                identity: item.identity.clone(),
            });
            return Ok(None);
        };
        if item.deleting_dependents {
            self.process_deleting_dependents(&item).await?;
            return Ok(None);
        }
        let refs = latest.owner_references.clone().unwrap_or_default();
        let mut classified = Vec::with_capacity(refs.len());
        for r in refs {
            match self.classify(&item, &r).await? {
                Ok(state) => classified.push((r, state)),
                Err(NamespacedOwnerOfClusterScopedObject) => {
                    tracing::debug!(item = %item.identity, owner = %r.uid,
                        "cluster-scoped item refers to a namespaced owner");
                    return Ok(None);
                }
            }
        }
        let (has_dependents, a_dependent_deletes_dependents) = {
            let g = self.graph.lock();
            let deps = g.dependents(uid);
            (!deps.is_empty(), deps.iter().any(|d| d.deleting_dependents))
        };
        match decide::decide(
            &latest,
            &classified,
            has_dependents,
            a_dependent_deletes_dependents,
        ) {
            Action::Keep => {}
            Action::RemoveOwnerReferences(uids) => {
                if let Some(p) = decide::remove_owner_references_patch(&latest, &uids) {
                    self.patch(&item.identity, p).await?;
                }
            }
            Action::DeleteForeground { unblock_first } => {
                if unblock_first {
                    if let Some(p) = decide::unblock_owner_references_patch(&latest) {
                        self.patch(&item.identity, p).await?;
                    }
                }
                self.delete(&item.identity, Propagation::Foreground).await?;
            }
            Action::Delete(policy) => self.delete(&item.identity, policy).await?,
        }
        if !item.observed {
            // Known only as someone's owner so far: look again until the watch shows it.
            return Err(GcError::NotObserved(item.identity.to_string()));
        }
        Ok(None)
    }

    /// An owner deleting its dependents first: done once none blocks it any more.
    async fn process_deleting_dependents(&self, item: &Node) -> Result<(), GcError> {
        let pending: Option<Vec<String>> = {
            let g = self.graph.lock();
            let blocking = g.blocking_dependents(&item.identity.uid);
            (!blocking.is_empty()).then(|| {
                blocking
                    .iter()
                    .filter(|d| !d.deleting_dependents)
                    .map(|d| d.identity.uid.clone())
                    .collect()
            })
        };
        match pending {
            None => {
                tracing::debug!(item = %item.identity, "removing the foregroundDeletion finalizer");
                self.remove_finalizer(&item.identity, FINALIZER_FOREGROUND)
                    .await
            }
            Some(deps) => {
                for d in deps {
                    self.attempt_to_delete.add(d);
                }
                Ok(())
            }
        }
    }

    /// Upstream's attemptToOrphanWorker: the dependents of `uid` lose their reference to
    /// it, then it loses its orphan finalizer.
    async fn attempt_to_orphan(&self, uid: &str) -> Result<(), GcError> {
        let (owner, dependents) = {
            let g = self.graph.lock();
            let Some(owner) = g.node(uid).cloned() else {
                return Ok(());
            };
            let deps: Vec<Identity> = g
                .dependents(uid)
                .iter()
                .map(|d| d.identity.clone())
                .collect();
            (owner, deps)
        };
        let owner_uid = vec![owner.identity.uid.clone()];
        let results: Vec<Result<(), GcError>> = futures::stream::iter(dependents)
            .map(|dep| {
                let owner_uid = &owner_uid;
                async move {
                    let Some(meta) = self.get_latest(&dep).await? else {
                        return Ok(());
                    };
                    match decide::remove_owner_references_patch(&meta, owner_uid) {
                        Some(p) => self.patch(&dep, p).await,
                        None => Ok(()),
                    }
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        if let Some(e) = results.into_iter().find_map(Result::err) {
            return Err(e);
        }
        self.remove_finalizer(&owner.identity, FINALIZER_ORPHAN)
            .await
    }
}
