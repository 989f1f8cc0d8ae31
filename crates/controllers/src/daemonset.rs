//! The DaemonSet controller (upstream `daemon_controller.go`, `update.go`): one pod per
//! eligible node, rolled over to a new template by RollingUpdate (maxUnavailable /
//! maxSurge) or OnDelete, with ControllerRevisions recording each template for
//! `kubectl rollout history|undo`. The decisions live in the submodules (pure, over cache
//! snapshots and the time); this file feeds them from the shared informers and carries
//! them out: adopt / release pods and revisions, create / delete pods (slow-start batches,
//! expectations), write revisions and the status, record events as
//! `daemonset-controller`.

pub mod expectations;
pub mod manage;
pub mod placement;
pub mod pods;
pub mod revisions;
pub mod rolling;
pub mod status;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use crate::context::Context;
use crate::history::{self, controller_of, controller_ref, selector_of, selects, Claim};
use expectations::Expectations;
use placement::{pod_template, REVISION_HASH_LABEL};

/// The component events are recorded as.
pub const COMPONENT: &str = "daemonset-controller";
/// How many pods one sync creates or deletes at most (upstream `BurstReplicas`).
const BURST_REPLICAS: usize = 250;

struct Ctl {
    client: Client,
    recorder: Recorder,
    dss: Arc<Informer<DaemonSet>>,
    pods: Arc<Informer<Pod>>,
    nodes: Arc<Informer<Node>>,
    revs: Arc<Informer<ControllerRevision>>,
    exp: Expectations,
    queue: WorkQueue<ObjectKey>,
}

type SyncResult<T> = Result<T, String>;

fn err(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message,
        other => other.to_string(),
    }
}

fn key_string(k: &ObjectKey) -> String {
    format!("{}/{}", k.namespace, k.name)
}

fn is_daemonset_ref(r: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference) -> bool {
    r.kind == "DaemonSet" && r.api_version.starts_with("apps/")
}

pub async fn run(ctx: Arc<Context>) {
    let ctl = Arc::new(Ctl {
        client: ctx.client.clone(),
        recorder: ctx.recorder(COMPONENT),
        dss: ctx.informers.get::<DaemonSet>(),
        pods: ctx.informers.get::<Pod>(),
        nodes: ctx.informers.get::<Node>(),
        revs: ctx.informers.get::<ControllerRevision>(),
        exp: Expectations::default(),
        queue: WorkQueue::new(),
    });
    let mut ds_changes = ctl.dss.subscribe();
    let mut pod_changes = ctl.pods.subscribe();
    let mut node_changes = ctl.nodes.subscribe();
    let mut rev_changes = ctl.revs.subscribe();
    ctl.dss.synced().await;
    ctl.pods.synced().await;
    ctl.nodes.synced().await;
    ctl.revs.synced().await;
    ctl.enqueue_all();
    let c = ctl.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = ds_changes.recv() => match ch {
                    Some(Change::Resync) => c.enqueue_all(),
                    Some(ch) => if let Some(o) = ch.object() { c.queue.add(ObjectKey::of(&o.metadata)) },
                    None => return,
                },
                ch = pod_changes.recv() => match ch {
                    Some(ch) => c.on_pod(ch),
                    None => return,
                },
                ch = node_changes.recv() => match ch {
                    Some(Change::Updated { old, new }) => if !ignore_node_update(&old, &new) { c.enqueue_all() },
                    Some(_) => c.enqueue_all(),
                    None => return,
                },
                ch = rev_changes.recv() => match ch {
                    Some(Change::Resync) => c.enqueue_all(),
                    Some(ch) => if let Some(r) = ch.object() { c.enqueue_for(&r.metadata) },
                    None => return,
                },
            }
        }
    });
    let queue = ctl.queue.clone();
    queue
        .run(ctx.config.workers, move |key: ObjectKey| {
            let ctl = ctl.clone();
            async move { ctl.sync(&key).await }
        })
        .await;
}

/// Upstream `shouldIgnoreNodeUpdate`: only status changes other than condition states.
fn ignore_node_update(old: &Node, new: &Node) -> bool {
    let conds = |n: &Node| -> Vec<(String, String)> {
        let mut v: Vec<_> = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .map(|c| {
                c.iter()
                    .map(|c| (c.type_.clone(), c.status.clone()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    old.metadata.labels == new.metadata.labels
        && old.metadata.deletion_timestamp == new.metadata.deletion_timestamp
        && old.spec == new.spec
        && conds(old) == conds(new)
}

impl Ctl {
    fn enqueue_all(&self) {
        for k in self.dss.keys() {
            self.queue.add(k);
        }
    }

    /// The DaemonSet a controller reference names, if it still is that object.
    fn resolve(
        &self,
        ns: &str,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) -> Option<Arc<DaemonSet>> {
        let r = controller_of(meta)?;
        if !is_daemonset_ref(r) {
            return None;
        }
        self.dss
            .get_named(ns, &r.name)
            .filter(|ds| ds.metadata.uid.as_deref() == Some(r.uid.as_str()))
    }

    /// Enqueues an object's controlling DaemonSet, or for an orphan every DaemonSet whose
    /// selector matches it.
    fn enqueue_for(&self, meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) {
        let ns = meta.namespace.as_deref().unwrap_or("");
        if controller_of(meta).is_some() {
            if let Some(ds) = self.resolve(ns, meta) {
                self.queue.add(ObjectKey::of(&ds.metadata));
            }
            return;
        }
        for ds in self.dss.list_in(ns) {
            let matches = ds
                .spec
                .as_ref()
                .and_then(|s| selector_of(&s.selector))
                .is_some_and(|sel| selects(&sel, meta));
            if matches {
                self.queue.add(ObjectKey::of(&ds.metadata));
            }
        }
    }

    fn on_pod(&self, ch: Change<Pod>) {
        match ch {
            Change::Resync => self.enqueue_all(),
            Change::Added(p) => {
                if p.metadata.deletion_timestamp.is_some() {
                    return self.pod_gone(&p);
                }
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                if let Some(ds) = self.resolve(&ns, &p.metadata) {
                    let key = ObjectKey::of(&ds.metadata);
                    self.exp.creation_observed(&key_string(&key));
                    self.queue.add(key);
                } else if controller_of(&p.metadata).is_none() {
                    self.enqueue_for(&p.metadata);
                }
            }
            Change::Updated { old, new } => {
                if new.metadata.deletion_timestamp.is_some() {
                    return self.pod_gone(&new);
                }
                let ns = new.metadata.namespace.clone().unwrap_or_default();
                let old_ref = controller_of(&old.metadata);
                let new_ref = controller_of(&new.metadata);
                let ref_changed = old_ref != new_ref;
                if ref_changed && old_ref.is_some() {
                    if let Some(ds) = self.resolve(&ns, &old.metadata) {
                        self.queue.add(ObjectKey::of(&ds.metadata));
                    }
                }
                if new_ref.is_some() {
                    if let Some(ds) = self.resolve(&ns, &new.metadata) {
                        self.queue.add(ObjectKey::of(&ds.metadata));
                    }
                    return;
                }
                if ref_changed || old.metadata.labels != new.metadata.labels {
                    self.enqueue_for(&new.metadata);
                }
            }
            Change::Deleted(p) => self.pod_gone(&p),
        }
    }

    fn pod_gone(&self, p: &Pod) {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        if let Some(ds) = self.resolve(&ns, &p.metadata) {
            let key = ObjectKey::of(&ds.metadata);
            self.exp.deletion_observed(&key_string(&key));
            self.queue.add(key);
        }
    }

    async fn sync(&self, key: &ObjectKey) -> SyncResult<Option<Duration>> {
        let skey = key_string(key);
        let Some(ds) = self.dss.get(key) else {
            self.exp.forget(&skey);
            return Ok(None);
        };
        let Some(spec) = ds.spec.as_ref() else {
            return Ok(None);
        };
        if spec
            .selector
            .match_labels
            .as_ref()
            .is_none_or(|m| m.is_empty())
            && spec
                .selector
                .match_expressions
                .as_ref()
                .is_none_or(|m| m.is_empty())
        {
            self.recorder.record(
                &*ds,
                EventType::Warning,
                "SelectingAll",
                "This daemon set is selecting all pods. A non-empty selector is required.",
            );
            return Ok(None);
        }
        let Some(selector) = selector_of(&spec.selector) else {
            return Ok(None);
        };
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let nodes = self.nodes.list();
        let pods = self.claim_pods(&ds, &selector).await?;
        let (cur, old) = self.construct_history(&ds, &selector, &pods).await?;
        let hash = revisions::hash_of(&cur);
        let now = jiff::Timestamp::now();

        if !self.exp.satisfied(&skey, Instant::now()) {
            self.update_status(&ds, &nodes, &pods, &hash, false, now)
                .await?;
            return Ok(None);
        }

        let plan = manage::manage(&ds, &nodes, &pods, &hash, now);
        for n in &plan.notes {
            let t = if n.warning {
                EventType::Warning
            } else {
                EventType::Normal
            };
            self.recorder.record(&*ds, t, n.reason, n.message.clone());
        }
        let mut result = self
            .sync_nodes(&ds, &skey, &plan.delete, &plan.create_on, &hash)
            .await;
        if result.is_ok() && plan.failed > 0 {
            result = Err(format!(
                "deleted {} failed pods of DaemonSet {}",
                plan.failed, skey
            ));
        }
        let acted = !plan.delete.is_empty() || !plan.create_on.is_empty();
        if result.is_ok() && !acted && self.exp.satisfied(&skey, Instant::now()) {
            let rolling = spec
                .update_strategy
                .as_ref()
                .and_then(|s| s.type_.as_deref())
                .unwrap_or("RollingUpdate")
                == "RollingUpdate";
            if rolling {
                result = match rolling::rolling_update(&ds, &nodes, &pods, &hash, now) {
                    Ok(step) => {
                        self.sync_nodes(&ds, &skey, &step.delete, &step.create_on, &hash)
                            .await
                    }
                    Err(e) => Err(e),
                };
            }
        }
        if result.is_ok() {
            for r in revisions::to_clean_up(&ds, &old, &pods) {
                if let Err(e) = history::delete_revision(&self.client, &r).await {
                    result = Err(format!(
                        "failed to clean up revisions of DaemonSet: {}",
                        err(e)
                    ));
                    break;
                }
            }
        }
        let status = self
            .update_status(&ds, &nodes, &pods, &hash, true, now)
            .await;
        result?;
        status?;
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let c = status::counts(&ds, &nodes, &pods, &hash, now);
        if min_ready > 0 && c.number_ready != c.number_available {
            return Ok(Some(Duration::from_secs(min_ready as u64)));
        }
        Ok(None)
    }

    /// The pods the DaemonSet controls, after adopting matching orphans and releasing owned
    /// pods that no longer match (upstream `getDaemonPods`).
    async fn claim_pods(
        &self,
        ds: &Arc<DaemonSet>,
        selector: &skiff_api::LabelSelector,
    ) -> SyncResult<Vec<Arc<Pod>>> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let mut owned = Vec::new();
        let mut fresh_checked = false;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        for p in self.pods.list_in(&ns) {
            let c = history::claim(&p.metadata, &uid, false, selects(selector, &p.metadata));
            let puid = p.metadata.uid.clone().unwrap_or_default();
            let pname = p.metadata.name.clone().unwrap_or_default();
            match c {
                Claim::Owned => owned.push(p),
                Claim::Ignore => {}
                Claim::Release => {
                    history::patch_owner(&api, &pname, &history::release_patch(&uid, &puid))
                        .await
                        .map_err(err)?;
                }
                Claim::Adopt => {
                    if !fresh_checked {
                        self.recheck(ds).await?;
                        fresh_checked = true;
                    }
                    let patch = history::adopt_patch(&controller_ref(&**ds), &puid);
                    if let Some(adopted) = history::patch_owner(&api, &pname, &patch)
                        .await
                        .map_err(err)?
                    {
                        owned.push(Arc::new(adopted));
                    }
                }
            }
        }
        Ok(owned)
    }

    /// Upstream `RecheckDeletionTimestamp`: adopt only for the same, live DaemonSet.
    async fn recheck(&self, ds: &DaemonSet) -> SyncResult<()> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let name = ds.metadata.name.clone().unwrap_or_default();
        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), &ns);
        let fresh = api.get(&name).await.map_err(err)?;
        if fresh.metadata.uid != ds.metadata.uid {
            return Err(format!(
                "original DaemonSet {ns}/{name} is gone: got uid {}, wanted {}",
                fresh.metadata.uid.unwrap_or_default(),
                ds.metadata.uid.clone().unwrap_or_default()
            ));
        }
        if fresh.metadata.deletion_timestamp.is_some() {
            return Err(format!(
                "{ns}/{name} has just been deleted at {:?}",
                fresh.metadata.deletion_timestamp.map(|t| t.0.to_string())
            ));
        }
        Ok(())
    }

    /// Upstream `constructHistory`: the current revision (created, deduplicated and
    /// renumbered as needed) and the old ones.
    async fn construct_history(
        &self,
        ds: &Arc<DaemonSet>,
        selector: &skiff_api::LabelSelector,
        pods: &[Arc<Pod>],
    ) -> SyncResult<(Arc<ControllerRevision>, Vec<Arc<ControllerRevision>>)> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), &ns);
        let mut owned = Vec::new();
        let mut fresh_checked = false;
        for r in self.revs.list_in(&ns) {
            let name = r.metadata.name.clone().unwrap_or_default();
            let ruid = r.metadata.uid.clone().unwrap_or_default();
            match history::claim(&r.metadata, &uid, false, selects(selector, &r.metadata)) {
                Claim::Owned => owned.push(r),
                Claim::Ignore => {}
                Claim::Release => {
                    history::patch_owner(&api, &name, &history::release_patch(&uid, &ruid))
                        .await
                        .map_err(err)?;
                }
                Claim::Adopt => {
                    if !fresh_checked {
                        self.recheck(ds).await?;
                        fresh_checked = true;
                    }
                    let patch = history::adopt_patch(&controller_ref(&**ds), &ruid);
                    if let Some(a) = history::patch_owner(&api, &name, &patch)
                        .await
                        .map_err(err)?
                    {
                        owned.push(Arc::new(a));
                    }
                }
            }
        }
        // Revisions without the hash label get their name as the label.
        for r in owned.iter_mut() {
            let has = r
                .metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(REVISION_HASH_LABEL));
            if !has {
                let mut u = (**r).clone();
                let name = u.metadata.name.clone().unwrap_or_default();
                u.metadata
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(REVISION_HASH_LABEL.into(), name.clone());
                let updated = api
                    .replace(&name, &PostParams::default(), &u)
                    .await
                    .map_err(err)?;
                *r = Arc::new(updated);
            }
        }
        let split = revisions::split(ds, &owned);
        let cur = if split.current.is_empty() {
            self.snapshot(ds, split.current_number).await?
        } else {
            let keep = revisions::keep_of(&split.current)
                .ok_or_else(|| "no current revision".to_string())?;
            if split.current.len() > 1 {
                self.dedup(ds, &keep, &split.current, pods).await?;
            }
            if keep.revision < split.current_number {
                let r = history::renumber_revision(&self.client, &keep, split.current_number)
                    .await
                    .map_err(err)?;
                self.revs.assume(r.clone());
                Arc::new(r)
            } else {
                keep
            }
        };
        Ok((cur, split.old))
    }

    /// Upstream `dedupCurHistories`: pods move to the kept revision's hash; the other
    /// revisions of the current template go.
    async fn dedup(
        &self,
        ds: &DaemonSet,
        keep: &Arc<ControllerRevision>,
        current: &[Arc<ControllerRevision>],
        pods: &[Arc<Pod>],
    ) -> SyncResult<()> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let hash = revisions::hash_of(keep);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        for p in pods {
            let cur = p
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(REVISION_HASH_LABEL))
                .cloned()
                .unwrap_or_default();
            if cur != hash {
                let patch = json!({"metadata": {"labels": {REVISION_HASH_LABEL: hash}}});
                api.patch(
                    p.metadata.name.as_deref().unwrap_or(""),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
                .map_err(err)?;
            }
        }
        for r in current {
            if r.metadata.name != keep.metadata.name {
                history::delete_revision(&self.client, r)
                    .await
                    .map_err(err)?;
            }
        }
        Ok(())
    }

    /// Upstream `snapshot`: creates the revision of the current template; a name taken by
    /// a different revision bumps `status.collisionCount` and fails the sync (the next one
    /// uses the new name).
    async fn snapshot(
        &self,
        ds: &Arc<DaemonSet>,
        revision: i64,
    ) -> SyncResult<Arc<ControllerRevision>> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let dsname = ds.metadata.name.clone().unwrap_or_default();
        let rev = revisions::snapshot(ds, revision)
            .ok_or_else(|| format!("DaemonSet {ns}/{dsname} has no template"))?;
        let name = rev.metadata.name.clone().unwrap_or_default();
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), &ns);
        match api.create(&PostParams::default(), &rev).await {
            Ok(created) => {
                self.revs.assume(created.clone());
                Ok(Arc::new(created))
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let existing = api.get(&name).await.map_err(err)?;
                if revisions::matches(ds, &existing) {
                    return Ok(Arc::new(existing));
                }
                let dsapi: Api<DaemonSet> = Api::namespaced(self.client.clone(), &ns);
                let fresh = dsapi.get(&dsname).await.map_err(err)?;
                let seen = ds.status.as_ref().and_then(|s| s.collision_count);
                let now = fresh.status.as_ref().and_then(|s| s.collision_count);
                if seen != now {
                    return Err(format!(
                        "found a stale collision count ({}, expected {}) of DaemonSet {dsname:?} while processing; will retry until it is updated",
                        seen.unwrap_or(0),
                        now.unwrap_or(0)
                    ));
                }
                let patch = json!({
                    "metadata": {"resourceVersion": fresh.metadata.resource_version},
                    "status": {"collisionCount": now.unwrap_or(0) + 1},
                });
                dsapi
                    .patch_status(&dsname, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(err)?;
                Err(e.message)
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Upstream `syncNodes`: deletes `delete` and creates a pod on each of `create_on`
    /// (slow-start batches), under expectations.
    async fn sync_nodes(
        &self,
        ds: &Arc<DaemonSet>,
        skey: &str,
        delete: &[String],
        create_on: &[String],
        hash: &str,
    ) -> SyncResult<()> {
        let create_on = &create_on[..create_on.len().min(BURST_REPLICAS)];
        let delete = &delete[..delete.len().min(BURST_REPLICAS)];
        if create_on.is_empty() && delete.is_empty() {
            return Ok(());
        }
        self.exp
            .set(skey, create_on.len(), delete.len(), Instant::now());
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let dsname = ds.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let template = pod_template(ds, hash);
        let owner = controller_ref(&**ds);
        let mut errors: Vec<String> = Vec::new();

        let mut pos = 0;
        let mut batch = create_on.len().min(1);
        while pos < create_on.len() {
            let results = join_all(create_on[pos..pos + batch].iter().map(|node| {
                let pod = placement::new_pod(&template, &dsname, owner.clone(), node);
                let api = api.clone();
                async move { api.create(&PostParams::default(), &pod).await }
            }))
            .await;
            let before = errors.len();
            for r in results {
                match r {
                    Ok(p) => {
                        self.recorder.record(
                            &**ds,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!(
                                "Created pod: {}",
                                p.metadata.name.clone().unwrap_or_default()
                            ),
                        );
                    }
                    Err(e) if namespace_terminating(&e) => {}
                    Err(e) => {
                        let m = err(e);
                        self.recorder.record(
                            &**ds,
                            EventType::Warning,
                            "FailedCreate",
                            format!("Error creating: {m}"),
                        );
                        self.exp.creation_observed(skey);
                        errors.push(m);
                    }
                }
            }
            pos += batch;
            let skipped = create_on.len() - pos;
            if errors.len() > before && skipped > 0 {
                self.exp.lower(skey, skipped, 0);
                break;
            }
            batch = (2 * batch).min(skipped);
        }

        let results = join_all(delete.iter().map(|name| {
            let api = api.clone();
            async move { (name, api.delete(name, &DeleteParams::default()).await) }
        }))
        .await;
        for (name, r) in results {
            match r {
                Ok(_) => self.recorder.record(
                    &**ds,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted pod: {name}"),
                ),
                Err(kube::Error::Api(e)) if e.code == 404 => self.exp.deletion_observed(skey),
                Err(e) => {
                    let m = err(e);
                    self.recorder.record(
                        &**ds,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {m}"),
                    );
                    self.exp.deletion_observed(skey);
                    errors.push(format!("unable to delete pods: {m}"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join(", "))
        }
    }

    async fn update_status(
        &self,
        ds: &DaemonSet,
        nodes: &[Arc<Node>],
        pods: &[Arc<Pod>],
        hash: &str,
        observe: bool,
        now: jiff::Timestamp,
    ) -> SyncResult<()> {
        let c = status::counts(ds, nodes, pods, hash, now);
        let Some(patch) = status::status_patch(ds, &c, observe) else {
            return Ok(());
        };
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), &ns);
        match api
            .patch_status(
                ds.metadata.name.as_deref().unwrap_or(""),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(format!(
                "error storing status for daemon set {}: {}",
                ds.metadata.name.as_deref().unwrap_or(""),
                err(e)
            )),
        }
    }
}

/// Whether an API error says the namespace is being deleted (upstream
/// `HasStatusCause(err, NamespaceTerminatingCause)`).
fn namespace_terminating(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            s.details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
                || s.message.contains("because it is being terminated")
        }
        _ => false,
    }
}
