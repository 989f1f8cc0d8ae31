//! The PersistentVolume controller: binds claims to volumes, provisions `local-path`
//! volumes (k3s's default StorageClass, WaitForFirstConsumer: on the node the scheduler
//! chose, named by the claim's `volume.kubernetes.io/selected-node` annotation), gives
//! claims without a class the default class (upstream's retroactive default), and reclaims
//! volumes whose claim is gone (Delete: the volume goes; Retain: it is Released). The
//! decisions are in [`plan`].

pub mod plan;

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use crate::context::Context;
use plan::{best_match, claim_class, reclaim, Reclaim, LOCAL_PATH_PROVISIONER, SELECTED_NODE};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Claim(ObjectKey),
    Volume(String),
}

struct Controller {
    ctx: Arc<Context>,
    claims: Arc<Informer<PersistentVolumeClaim>>,
    volumes: Arc<Informer<PersistentVolume>>,
    classes: Arc<Informer<StorageClass>>,
    events: Recorder,
}

/// Runs the controller until the process ends.
pub async fn run(ctx: Arc<Context>) {
    let claims = ctx.informers.get::<PersistentVolumeClaim>();
    let volumes = ctx.informers.get::<PersistentVolume>();
    let classes = ctx.informers.get::<StorageClass>();
    let mut claim_changes = claims.subscribe();
    let mut volume_changes = volumes.subscribe();
    claims.synced().await;
    volumes.synced().await;
    classes.synced().await;
    ensure_local_path(&ctx, &classes).await;
    let c = Arc::new(Controller {
        events: ctx.recorder("persistentvolume-controller"),
        ctx: ctx.clone(),
        claims: claims.clone(),
        volumes: volumes.clone(),
        classes,
    });
    let queue: WorkQueue<Key> = WorkQueue::new();
    let enqueue_all = {
        let (claims, volumes, q) = (claims.clone(), volumes.clone(), queue.clone());
        move || {
            claims.keys().into_iter().for_each(|k| q.add(Key::Claim(k)));
            volumes
                .keys()
                .into_iter()
                .for_each(|k| q.add(Key::Volume(k.name)));
        }
    };
    enqueue_all();
    let q = queue.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = claim_changes.recv() => match ch {
                    Some(Change::Resync) => enqueue_all(),
                    Some(ch) => {
                        if let Some(pvc) = ch.object() {
                            q.add(Key::Claim(ObjectKey::of(&pvc.metadata)));
                            if let Some(v) = pvc.spec.as_ref().and_then(|s| s.volume_name.clone()) {
                                q.add(Key::Volume(v));
                            }
                        }
                    }
                    None => return,
                },
                ch = volume_changes.recv() => match ch {
                    Some(Change::Resync) => enqueue_all(),
                    Some(ch) => {
                        if let Some(pv) = ch.object() {
                            q.add(Key::Volume(pv.metadata.name.clone().unwrap_or_default()));
                            if let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
                                q.add(Key::Claim(ObjectKey::new(
                                    r.namespace.clone().unwrap_or_default(),
                                    r.name.clone().unwrap_or_default(),
                                )));
                            }
                        }
                    }
                    None => return,
                },
            }
        }
    });
    queue
        .run(ctx.config.workers, move |key| {
            let c = c.clone();
            async move {
                match key {
                    Key::Claim(k) => c.sync_claim(&k).await,
                    Key::Volume(n) => c.sync_volume(&n).await,
                }
            }
        })
        .await;
}

async fn ensure_local_path(ctx: &Context, classes: &Informer<StorageClass>) {
    if classes.get_named("", plan::LOCAL_PATH).is_some() {
        return;
    }
    let Ok(class) = serde_json::from_value::<StorageClass>(plan::local_path_class()) else {
        return;
    };
    let api: Api<StorageClass> = Api::all(ctx.client.clone());
    if let Err(e) = api.create(&PostParams::default(), &class).await {
        tracing::debug!(error = %e, "creating the local-path StorageClass");
    }
}

fn ignore_gone(r: Result<(), kube::Error>) -> Result<(), kube::Error> {
    match r {
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        other => other,
    }
}

impl Controller {
    fn default_class(&self) -> Option<String> {
        self.classes
            .list()
            .into_iter()
            .find(|c| {
                c.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(plan::DEFAULT_CLASS_ANNOTATION))
                    .is_some_and(|v| v == "true")
            })
            .and_then(|c| c.metadata.name.clone())
    }

    async fn sync_claim(
        &self,
        key: &ObjectKey,
    ) -> Result<Option<std::time::Duration>, kube::Error> {
        let Some(pvc) = self.claims.get(key) else {
            return Ok(None);
        };
        if pvc.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let api: Api<PersistentVolumeClaim> =
            Api::namespaced(self.ctx.client.clone(), &key.namespace);
        let spec = pvc.spec.clone().unwrap_or_default();
        if spec.storage_class_name.is_none() && spec.volume_name.is_none() {
            if let Some(class) = self.default_class() {
                let patch = json!({"spec": {"storageClassName": class}});
                ignore_gone(
                    api.patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .map(|_| ()),
                )?;
                return Ok(None);
            }
        }
        let phase = pvc.status.as_ref().and_then(|s| s.phase.as_deref());
        if phase == Some("Bound") {
            return Ok(None);
        }
        let volumes = self.volumes.list();
        let named = spec.volume_name.as_deref().and_then(|v| {
            volumes
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(v))
        });
        if let Some(pv) = named
            .map(|p| p.as_ref())
            .or_else(|| best_match(&pvc, &volumes))
        {
            self.bind(pv, &pvc).await?;
            return Ok(None);
        }
        let class_name = claim_class(&pvc);
        let class = self.classes.get_named("", class_name);
        match class.as_deref() {
            None if class_name.is_empty() => self.events.record(
                &*pvc,
                EventType::Normal,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            ),
            None => self.events.record(
                &*pvc,
                EventType::Warning,
                "ProvisioningFailed",
                format!("storageclass.storage.k8s.io {class_name:?} not found"),
            ),
            Some(sc) => {
                let node = pvc
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(SELECTED_NODE))
                    .cloned();
                let wait = sc.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer");
                match node {
                    Some(node) if sc.provisioner == LOCAL_PATH_PROVISIONER => {
                        self.provision(&pvc, &node).await?;
                    }
                    None if wait => self.events.record(
                        &*pvc,
                        EventType::Normal,
                        "WaitForFirstConsumer",
                        "waiting for first consumer to be created before binding",
                    ),
                    _ => self.events.record(
                        &*pvc,
                        EventType::Normal,
                        "ExternalProvisioning",
                        format!(
                            "Waiting for a volume to be created either by the external provisioner '{}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
                            sc.provisioner
                        ),
                    ),
                }
            }
        }
        Ok(None)
    }

    async fn provision(&self, pvc: &PersistentVolumeClaim, node: &str) -> Result<(), kube::Error> {
        let Ok(pv) = serde_json::from_value::<PersistentVolume>(plan::local_path_volume(pvc, node))
        else {
            return Ok(());
        };
        let api: Api<PersistentVolume> = Api::all(self.ctx.client.clone());
        match api.create(&PostParams::default(), &pv).await {
            Ok(created) => {
                self.events.record(
                    pvc,
                    EventType::Normal,
                    "ProvisioningSucceeded",
                    format!(
                        "Successfully provisioned volume {}",
                        created.metadata.name.clone().unwrap_or_default()
                    ),
                );
                self.volumes.assume(created);
                Ok(())
            }
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn bind(
        &self,
        pv: &PersistentVolume,
        pvc: &PersistentVolumeClaim,
    ) -> Result<(), kube::Error> {
        let pv_name = pv.metadata.name.clone().unwrap_or_default();
        let ns = pvc.metadata.namespace.clone().unwrap_or_default();
        let name = pvc.metadata.name.clone().unwrap_or_default();
        let pvs: Api<PersistentVolume> = Api::all(self.ctx.client.clone());
        if pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_none()
        {
            let patch = json!({
                "metadata": {"annotations": plan::bound_annotations(false)},
                "spec": {"claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "namespace": ns, "name": name, "uid": pvc.metadata.uid,
                    "resourceVersion": pvc.metadata.resource_version}}
            });
            pvs.patch(&pv_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        if pv.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound") {
            let patch = json!({"status": {"phase": "Bound"}});
            pvs.patch_status(&pv_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.ctx.client.clone(), &ns);
        let patch = json!({
            "metadata": {"annotations": plan::bound_annotations(true)},
            "spec": {"volumeName": pv_name},
        });
        claims
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let spec = pv.spec.clone().unwrap_or_default();
        let patch = json!({"status": {"phase": "Bound", "capacity": spec.capacity, "accessModes": spec.access_modes}});
        claims
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        Ok(())
    }

    async fn sync_volume(&self, name: &str) -> Result<Option<std::time::Duration>, kube::Error> {
        let Some(pv) = self.volumes.get_named("", name) else {
            return Ok(None);
        };
        if pv.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let api: Api<PersistentVolume> = Api::all(self.ctx.client.clone());
        let phase = pv.status.as_ref().and_then(|s| s.phase.clone());
        let Some(claim) = pv.spec.as_ref().and_then(|s| s.claim_ref.clone()) else {
            if matches!(phase.as_deref(), None | Some("Pending")) {
                let patch = json!({"status": {"phase": "Available"}});
                ignore_gone(
                    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .map(|_| ()),
                )?;
            }
            return Ok(None);
        };
        let key = ObjectKey::new(
            claim.namespace.clone().unwrap_or_default(),
            claim.name.clone().unwrap_or_default(),
        );
        let live = self
            .claims
            .get(&key)
            .is_some_and(|c| claim.uid.is_none() || c.metadata.uid == claim.uid);
        if live || phase.as_deref() != Some("Bound") {
            return Ok(None);
        }
        // Bound once, its claim is gone.
        match reclaim(&pv) {
            Reclaim::Delete => {
                ignore_gone(api.delete(name, &DeleteParams::default()).await.map(|_| ()))?
            }
            Reclaim::Release => {
                let patch = json!({"status": {"phase": "Released"}});
                ignore_gone(
                    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .map(|_| ()),
                )?
            }
        }
        Ok(None)
    }
}
