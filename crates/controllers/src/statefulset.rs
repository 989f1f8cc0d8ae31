//! The StatefulSet controller (upstream `stateful_set.go`, `stateful_set_control.go`,
//! `stateful_pod_control.go`): pods with stable names, hostnames and PVCs, created in
//! order (OrderedReady) or all at once (Parallel), updated by RollingUpdate (with a
//! partition) or OnDelete, with ControllerRevisions for `kubectl rollout history|undo`.
//! The decision is [`control::plan`] (pure); this file feeds it from the shared informers
//! and carries it out: adopt / release pods and revisions, choose or write the current and
//! update revisions, create claims and pods, update and delete pods, write the status,
//! trim history, record events as `statefulset-controller`.

pub mod control;
pub mod pods;
pub mod revisions;
pub mod status;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::Client;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use crate::context::Context;
use crate::history::{
    self, controller_of, controller_ref, selector_of, selects, sort_revisions, Claim,
};
use control::{Action, ClaimWork, Claims, Why};
use revisions::UpdateRevision;

/// The component events are recorded as.
pub const COMPONENT: &str = "statefulset-controller";

struct Ctl {
    client: Client,
    recorder: Recorder,
    sets: Arc<Informer<StatefulSet>>,
    pods: Arc<Informer<Pod>>,
    revs: Arc<Informer<ControllerRevision>>,
    pvcs: Arc<Informer<PersistentVolumeClaim>>,
    queue: WorkQueue<ObjectKey>,
}

type SyncResult<T> = Result<T, String>;

fn err(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message,
        other => other.to_string(),
    }
}

fn code(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        _ => 0,
    }
}

pub async fn run(ctx: Arc<Context>) {
    let ctl = Arc::new(Ctl {
        client: ctx.client.clone(),
        recorder: ctx.recorder(COMPONENT),
        sets: ctx.informers.get::<StatefulSet>(),
        pods: ctx.informers.get::<Pod>(),
        revs: ctx.informers.get::<ControllerRevision>(),
        pvcs: ctx.informers.get::<PersistentVolumeClaim>(),
        queue: WorkQueue::new(),
    });
    let mut set_changes = ctl.sets.subscribe();
    let mut pod_changes = ctl.pods.subscribe();
    ctl.sets.synced().await;
    ctl.pods.synced().await;
    ctl.revs.synced().await;
    ctl.pvcs.synced().await;
    ctl.enqueue_all();
    let c = ctl.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = set_changes.recv() => match ch {
                    Some(Change::Resync) => c.enqueue_all(),
                    Some(ch) => if let Some(o) = ch.object() { c.queue.add(ObjectKey::of(&o.metadata)) },
                    None => return,
                },
                ch = pod_changes.recv() => match ch {
                    Some(ch) => c.on_pod(ch),
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

impl Ctl {
    fn enqueue_all(&self) {
        for k in self.sets.keys() {
            self.queue.add(k);
        }
    }

    fn resolve(&self, meta: &ObjectMeta) -> Option<Arc<StatefulSet>> {
        let r = controller_of(meta)?;
        if r.kind != "StatefulSet" || !r.api_version.starts_with("apps/") {
            return None;
        }
        self.sets
            .get_named(meta.namespace.as_deref().unwrap_or(""), &r.name)
            .filter(|s| s.metadata.uid.as_deref() == Some(r.uid.as_str()))
    }

    /// The sets whose selector matches an orphan pod.
    fn sets_for(&self, meta: &ObjectMeta) -> Vec<Arc<StatefulSet>> {
        self.sets
            .list_in(meta.namespace.as_deref().unwrap_or(""))
            .into_iter()
            .filter(|s| {
                s.spec
                    .as_ref()
                    .and_then(|sp| selector_of(&sp.selector))
                    .is_some_and(|sel| !sel.is_everything() && selects(&sel, meta))
            })
            .collect()
    }

    fn on_pod(&self, ch: Change<Pod>) {
        match ch {
            Change::Resync => self.enqueue_all(),
            Change::Added(p) | Change::Deleted(p) => {
                if let Some(s) = self.resolve(&p.metadata) {
                    self.queue.add(ObjectKey::of(&s.metadata));
                } else if controller_of(&p.metadata).is_none() {
                    for s in self.sets_for(&p.metadata) {
                        self.queue.add(ObjectKey::of(&s.metadata));
                    }
                }
            }
            Change::Updated { old, new } => {
                let old_ref = controller_of(&old.metadata);
                let new_ref = controller_of(&new.metadata);
                let ref_changed = old_ref != new_ref;
                if ref_changed && old_ref.is_some() {
                    if let Some(s) = self.resolve(&old.metadata) {
                        self.queue.add(ObjectKey::of(&s.metadata));
                    }
                }
                if new_ref.is_some() {
                    if let Some(s) = self.resolve(&new.metadata) {
                        let key = ObjectKey::of(&s.metadata);
                        let min_ready = s
                            .spec
                            .as_ref()
                            .and_then(|sp| sp.min_ready_seconds)
                            .unwrap_or(0);
                        if min_ready > 0
                            && !crate::daemonset::pods::is_ready(&old)
                            && crate::daemonset::pods::is_ready(&new)
                        {
                            self.queue
                                .add_after(key.clone(), Duration::from_secs(min_ready as u64 + 1));
                        }
                        self.queue.add(key);
                    }
                    return;
                }
                if ref_changed || old.metadata.labels != new.metadata.labels {
                    for s in self.sets_for(&new.metadata) {
                        self.queue.add(ObjectKey::of(&s.metadata));
                    }
                }
            }
        }
    }

    async fn sync(&self, key: &ObjectKey) -> SyncResult<Option<Duration>> {
        let Some(set) = self.sets.get(key) else {
            return Ok(None);
        };
        let Some(spec) = set.spec.as_ref() else {
            return Ok(None);
        };
        let Some(selector) = selector_of(&spec.selector) else {
            tracing::warn!(statefulset = %key, "invalid selector");
            return Ok(None);
        };
        let ns = key.namespace.clone();
        let uid = set.metadata.uid.clone().unwrap_or_default();

        // Revisions: adopt orphans, then the owned ones sorted.
        let revapi: Api<ControllerRevision> = Api::namespaced(self.client.clone(), &ns);
        let mut revs: Vec<Arc<ControllerRevision>> = Vec::new();
        let mut rechecked = false;
        for r in self.revs.list_in(&ns) {
            if !selects(&selector, &r.metadata) {
                continue;
            }
            match controller_of(&r.metadata) {
                Some(o) if o.uid == uid => revs.push(r),
                Some(_) => {}
                None => {
                    if set.metadata.deletion_timestamp.is_some() {
                        revs.push(r);
                        continue;
                    }
                    if !rechecked {
                        self.recheck(&set).await?;
                        rechecked = true;
                    }
                    let patch = history::adopt_patch(
                        &controller_ref(&*set),
                        r.metadata.uid.as_deref().unwrap_or(""),
                    );
                    let name = r.metadata.name.clone().unwrap_or_default();
                    if let Some(a) = history::patch_owner(&revapi, &name, &patch)
                        .await
                        .map_err(err)?
                    {
                        revs.push(Arc::new(a));
                    }
                }
            }
        }
        sort_revisions(&mut revs);

        let pods = self.claim_pods(&set, &selector).await?;

        // Current and update revisions.
        let mut collision = set
            .status
            .as_ref()
            .and_then(|s| s.collision_count)
            .unwrap_or(0);
        let update = match revisions::choose_update(&set, &revs, collision) {
            None => return Ok(None),
            Some(UpdateRevision::Newest(r)) => r,
            Some(UpdateRevision::Renumber(r, n)) => {
                let u = history::renumber_revision(&self.client, &r, n)
                    .await
                    .map_err(err)?;
                self.revs.assume(u.clone());
                Arc::new(u)
            }
            Some(UpdateRevision::Create(cand)) => {
                let (created, used) = history::create_revision(
                    &self.client,
                    set.metadata.name.as_deref().unwrap_or(""),
                    &ns,
                    &cand,
                    collision,
                )
                .await
                .map_err(err)?;
                collision = used;
                if self.revs.get(&ObjectKey::of(&created.metadata)).is_none() {
                    self.revs.assume(created.clone());
                }
                Arc::new(created)
            }
        };
        let current = revisions::find_current(&set, &revs).unwrap_or_else(|| update.clone());

        let claims: Claims = self
            .pvcs
            .list_in(&ns)
            .into_iter()
            .map(|c| (c.metadata.name.clone().unwrap_or_default(), c))
            .collect();
        let now = jiff::Timestamp::now();
        let plan = control::plan(&set, &pods, &claims, &current, &update, collision, now)?;

        let mut result = Ok(());
        for a in plan.actions {
            if let Err(e) = self.execute(&set, a).await {
                result = Err(e);
                break;
            }
        }

        let mut st = plan.status;
        status::complete_rolling_update(&set, &mut st);
        let mut status_result = Ok(());
        if status::inconsistent(&set, &st) {
            let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), &ns);
            match api
                .patch_status(
                    &key.name,
                    &PatchParams::default(),
                    &Patch::Merge(&status::status_patch(&st)),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if code(&e) == 404 => {}
                Err(e) => status_result = Err(err(e)),
            }
        }
        if result.is_ok() {
            result = status_result;
        }
        let truncate = revisions::to_truncate(
            &set,
            &revs,
            &pods,
            current.metadata.name.as_deref(),
            update.metadata.name.as_deref(),
        );
        for r in truncate {
            if let Err(e) = history::delete_revision(&self.client, &r).await {
                if result.is_ok() {
                    result = Err(err(e));
                }
                break;
            }
        }
        result?;
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if min_ready > 0 && st.available_replicas.unwrap_or(0) != pods::replicas(&set) as i32 {
            return Ok(Some(Duration::from_secs(min_ready as u64)));
        }
        Ok(None)
    }

    /// Upstream `RecheckDeletionTimestamp`.
    async fn recheck(&self, set: &StatefulSet) -> SyncResult<()> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let name = set.metadata.name.clone().unwrap_or_default();
        let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), &ns);
        let fresh = api.get(&name).await.map_err(err)?;
        if fresh.metadata.uid != set.metadata.uid {
            return Err(format!(
                "original StatefulSet {ns}/{name} is gone: got uid {}, wanted {}",
                fresh.metadata.uid.unwrap_or_default(),
                set.metadata.uid.clone().unwrap_or_default()
            ));
        }
        if fresh.metadata.deletion_timestamp.is_some() {
            return Err(format!("{ns}/{name} has just been deleted"));
        }
        Ok(())
    }

    /// Upstream `getPodsForStatefulSet`: pods matching the selector whose names make them
    /// members; orphans adopted, owned non-members released.
    async fn claim_pods(
        &self,
        set: &Arc<StatefulSet>,
        selector: &skiff_api::LabelSelector,
    ) -> SyncResult<Vec<Arc<Pod>>> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let deleting = set.metadata.deletion_timestamp.is_some();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let mut owned = Vec::new();
        let mut rechecked = false;
        for p in self.pods.list_in(&ns) {
            let matches = selects(selector, &p.metadata) && pods::is_member_of(set, &p);
            let puid = p.metadata.uid.clone().unwrap_or_default();
            let pname = p.metadata.name.clone().unwrap_or_default();
            match history::claim(&p.metadata, &uid, deleting, matches) {
                Claim::Owned => owned.push(p),
                Claim::Ignore => {}
                Claim::Release => {
                    history::patch_owner(&api, &pname, &history::release_patch(&uid, &puid))
                        .await
                        .map_err(err)?;
                }
                Claim::Adopt => {
                    if !rechecked {
                        self.recheck(set).await?;
                        rechecked = true;
                    }
                    let patch = history::adopt_patch(&controller_ref(&**set), &puid);
                    if let Some(a) = history::patch_owner(&api, &pname, &patch)
                        .await
                        .map_err(err)?
                    {
                        owned.push(Arc::new(a));
                    }
                }
            }
        }
        Ok(owned)
    }

    fn pod_event(&self, set: &StatefulSet, verb: &str, pod: &str, e: Option<&str>) {
        let sname = set.metadata.name.as_deref().unwrap_or("");
        let title = format!("{}{}", verb[..1].to_uppercase(), &verb[1..]);
        match e {
            None => self.recorder.record(
                set,
                EventType::Normal,
                &format!("Successful{title}"),
                format!("{verb} Pod {pod} in StatefulSet {sname} successful"),
            ),
            Some(e) => self.recorder.record(
                set,
                EventType::Warning,
                &format!("Failed{title}"),
                format!("{verb} Pod {pod} in StatefulSet {sname} failed error: {e}"),
            ),
        }
    }

    /// Upstream `createPersistentVolumeClaims`.
    async fn create_claims(&self, set: &StatefulSet, pod: &str, w: &ClaimWork) -> SyncResult<()> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let sname = set.metadata.name.as_deref().unwrap_or("");
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &ns);
        let mut errs = Vec::new();
        for c in &w.create {
            let cname = c.metadata.name.clone().unwrap_or_default();
            match api.create(&PostParams::default(), c).await {
                Ok(created) => {
                    if self.pvcs.get(&ObjectKey::of(&created.metadata)).is_none() {
                        self.pvcs.assume(created);
                    }
                    self.recorder.record(
                        set,
                        EventType::Normal,
                        "SuccessfulCreate",
                        format!("create Claim {cname} Pod {pod} in StatefulSet {sname} success"),
                    );
                }
                Err(e) => {
                    let exists = code(&e) == 409;
                    let m = err(e);
                    if !exists {
                        self.recorder.record(
                            set,
                            EventType::Warning,
                            "FailedCreate",
                            format!(
                                "create Claim {cname} for Pod {pod} in StatefulSet {sname} failed error: {m}"
                            ),
                        );
                    }
                    errs.push(format!("failed to create PVC {cname}: {m}"));
                }
            }
        }
        for t in &w.terminating {
            errs.push(format!("pvc {t} is being deleted"));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join(", "))
        }
    }

    /// Upstream `UpdatePodClaimForRetentionPolicy`.
    async fn update_claim_owners(
        &self,
        set: &StatefulSet,
        pod: &str,
        w: &ClaimWork,
    ) -> SyncResult<()> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        for c in &w.conflicting {
            self.recorder.record(
                set,
                EventType::Warning,
                "ConflictingController",
                format!("PersistentVolumeClaim {c} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim"),
            );
        }
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &ns);
        for c in &w.owners {
            let cname = c.metadata.name.clone().unwrap_or_default();
            api.replace(&cname, &PostParams::default(), c)
                .await
                .map_err(|e| {
                    format!(
                        "could not update claim {cname} for delete policy ownerRefs: {}",
                        err(e)
                    )
                })?;
        }
        let _ = pod;
        Ok(())
    }

    async fn execute(&self, set: &StatefulSet, action: Action) -> SyncResult<()> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        match action {
            Action::CreatePod { pod, claims } => {
                let pname = pod.metadata.name.clone().unwrap_or_default();
                if let Err(e) = self.create_claims(set, &pname, &claims).await {
                    self.pod_event(set, "create", &pname, Some(&e));
                    return Err(e);
                }
                match api.create(&PostParams::default(), &pod).await {
                    Ok(created) => {
                        if self.pods.get(&ObjectKey::of(&created.metadata)).is_none() {
                            self.pods.assume(created);
                        }
                    }
                    Err(e) if code(&e) == 409 => return Err(err(e)),
                    Err(e) => {
                        let m = err(e);
                        self.pod_event(set, "create", &pname, Some(&m));
                        return Err(m);
                    }
                }
                if let Err(e) = self.update_claim_owners(set, &pname, &claims).await {
                    self.pod_event(set, "update", &pname, Some(&e));
                    return Err(e);
                }
                self.pod_event(set, "create", &pname, None);
                Ok(())
            }
            Action::CreateMissingClaims { pod, claims } => {
                self.create_claims(set, &pod, &claims).await?;
                if let Err(e) = self.update_claim_owners(set, &pod, &claims).await {
                    self.pod_event(set, "update", &pod, Some(&e));
                    return Err(e);
                }
                Ok(())
            }
            Action::UpdatePod {
                pod,
                changed,
                claims,
            } => {
                let pname = pod.metadata.name.clone().unwrap_or_default();
                if let Err(e) = self.create_claims(set, &pname, &claims).await {
                    self.pod_event(set, "update", &pname, Some(&e));
                    return Err(e);
                }
                if let Err(e) = self.update_claim_owners(set, &pname, &claims).await {
                    self.pod_event(set, "update", &pname, Some(&e));
                    return Err(e);
                }
                if !changed {
                    return Ok(());
                }
                match api.replace(&pname, &PostParams::default(), &pod).await {
                    Ok(_) => {
                        self.pod_event(set, "update", &pname, None);
                        Ok(())
                    }
                    Err(e) => {
                        let m = err(e);
                        self.pod_event(set, "update", &pname, Some(&m));
                        Err(m)
                    }
                }
            }
            Action::FixClaims { pod, claims } => self.update_claim_owners(set, &pod, &claims).await,
            Action::DeletePod { pod, why } => {
                match api.delete(&pod, &DeleteParams::default()).await {
                    Ok(_) => {
                        self.pod_event(set, "delete", &pod, None);
                        Ok(())
                    }
                    Err(e) => {
                        let not_found = code(&e) == 404;
                        let m = err(e);
                        self.pod_event(set, "delete", &pod, Some(&m));
                        if not_found && why == Why::Update {
                            Ok(())
                        } else {
                            Err(m)
                        }
                    }
                }
            }
        }
    }
}
