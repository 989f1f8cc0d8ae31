//! The ReplicaSet and ReplicationController controllers (upstream's replicaset-controller,
//! which serves both kinds): each owner keeps `spec.replicas` pods made from its template,
//! adopts orphans its selector matches and releases pods that stop matching, deletes the
//! surplus in upstream's order, and reports counts and failures in its status. The decisions
//! are in [`reconcile`]; this module feeds them from the shared informers and carries them
//! out, with expectations so a sync never acts before its own writes were seen.

pub mod owner;
pub mod reconcile;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use parking_lot::Mutex;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::{Change, Informer, ObjectKey, WorkQueue};

use crate::context::Context;
use crate::podcontrol::{self, Expectations, SLOW_START_INITIAL_BATCH};
use owner::ReplicaOwner;
use reconcile::Manage;

/// Runs the ReplicaSet controller.
pub async fn run_replicasets(ctx: Arc<Context>) {
    run::<ReplicaSet>(ctx).await
}

/// Runs the ReplicationController controller.
pub async fn run_replication_controllers(ctx: Arc<Context>) {
    run::<ReplicationController>(ctx).await
}

struct Controller<K: ReplicaOwner> {
    client: kube::Client,
    owners: Arc<Informer<K>>,
    pods: Arc<Informer<Pod>>,
    queue: WorkQueue<ObjectKey>,
    expectations: Expectations,
    recorder: Recorder,
    /// When each owner's status was last written (to coalesce count-only updates).
    status_written: Mutex<std::collections::HashMap<ObjectKey, Instant>>,
}

fn exp_key(k: &ObjectKey) -> String {
    format!("{}/{}", k.namespace, k.name)
}

/// The message of an error as upstream prints it (the API's message for API errors).
pub(crate) fn err_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

impl<K: ReplicaOwner> Controller<K> {
    /// The owner that `pod`'s controller reference names, if it is of kind `K` and exists
    /// with that uid.
    fn resolve(&self, pod: &Pod) -> Option<Arc<K>> {
        let r = podcontrol::controller_of(&pod.metadata)?;
        if r.kind != K::kind(&()) {
            return None;
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let o = self.owners.get_named(ns, &r.name)?;
        (o.meta().uid.as_deref() == Some(r.uid.as_str())).then_some(o)
    }

    fn key_of(o: &K) -> ObjectKey {
        ObjectKey::of(o.meta())
    }

    /// Owners whose selector matches an orphan `pod`.
    fn matching_owners(&self, pod: &Pod) -> Vec<ObjectKey> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        self.owners
            .list_in(ns)
            .into_iter()
            .filter(|o| {
                o.selector().is_some_and(|s| {
                    !s.is_everything() && podcontrol::matches(&s, pod.metadata.labels.as_ref())
                })
            })
            .map(|o| Self::key_of(&o))
            .collect()
    }

    fn pod_deleted(&self, pod: &Pod) {
        if let Some(o) = self.resolve(pod) {
            let k = Self::key_of(&o);
            self.expectations
                .deletion_observed(&exp_key(&k), &podcontrol::key_of(&pod.metadata));
            self.queue.add(k);
        }
    }

    fn pod_changed(&self, change: Change<Pod>) {
        match change {
            Change::Added(pod) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    return self.pod_deleted(&pod);
                }
                if podcontrol::controller_of(&pod.metadata).is_some() {
                    if let Some(o) = self.resolve(&pod) {
                        let k = Self::key_of(&o);
                        self.expectations.creation_observed(&exp_key(&k));
                        self.queue.add(k);
                    }
                    return;
                }
                for k in self.matching_owners(&pod) {
                    self.queue.add(k);
                }
            }
            Change::Updated { old, new } => {
                let labels_changed = old.metadata.labels != new.metadata.labels;
                if new.metadata.deletion_timestamp.is_some() {
                    self.pod_deleted(&new);
                    if labels_changed {
                        self.pod_deleted(&old);
                    }
                    return;
                }
                let old_ref = podcontrol::controller_of(&old.metadata);
                let new_ref = podcontrol::controller_of(&new.metadata);
                let ref_changed = old_ref != new_ref;
                if ref_changed && old_ref.is_some() {
                    if let Some(o) = self.resolve(&old) {
                        self.queue.add(Self::key_of(&o));
                    }
                }
                if new_ref.is_some() {
                    if let Some(o) = self.resolve(&new) {
                        self.queue.add(Self::key_of(&o));
                    }
                    return;
                }
                if labels_changed || ref_changed {
                    for k in self.matching_owners(&new) {
                        self.queue.add(k);
                    }
                }
            }
            Change::Deleted(pod) => self.pod_deleted(&pod),
            Change::Resync => self.enqueue_all(),
        }
    }

    fn enqueue_all(&self) {
        for k in self.owners.keys() {
            self.queue.add(k);
        }
    }

    /// Verifies with a live read that the owner still exists with this uid and is not being
    /// deleted before anything is adopted (upstream `RecheckDeletionTimestamp`).
    async fn can_adopt(&self, owner: &K) -> Result<(), String> {
        let ns = owner.meta().namespace.clone().unwrap_or_default();
        let name = owner.meta().name.clone().unwrap_or_default();
        let api: Api<K> = Api::namespaced(self.client.clone(), &ns);
        let fresh = api.get(&name).await.map_err(|e| err_text(&e))?;
        if fresh.meta().uid != owner.meta().uid {
            return Err(format!(
                "original {} {}/{} is gone: got uid {}, wanted {}",
                K::kind(&()),
                ns,
                name,
                fresh.meta().uid.clone().unwrap_or_default(),
                owner.meta().uid.clone().unwrap_or_default()
            ));
        }
        if let Some(t) = &fresh.meta().deletion_timestamp {
            return Err(format!(
                "{} {}/{} has just been deleted at {}",
                K::kind(&()),
                ns,
                name,
                t.0
            ));
        }
        Ok(())
    }

    /// Adopts and releases pods as `claim` decided; returns the pods now owned.
    async fn claim_pods(
        &self,
        owner: &K,
        candidates: Vec<Arc<Pod>>,
    ) -> Result<Vec<Arc<Pod>>, kube::Error> {
        let uid = owner.meta().uid.clone().unwrap_or_default();
        let deleting = owner.meta().deletion_timestamp.is_some();
        let Some(selector) = owner.selector() else {
            return Ok(Vec::new());
        };
        let claims = podcontrol::claim(&uid, deleting, &selector, &candidates, |p| &p.metadata);
        let mut owned = claims.owned;
        let ns = owner.meta().namespace.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let pp = PatchParams::default();
        let mut first_err = None;
        if !claims.adopt.is_empty() {
            match self.can_adopt(owner).await {
                Err(msg) => tracing::debug!(error = %msg, "not adopting"),
                Ok(()) => {
                    let cref = podcontrol::controller_ref(owner);
                    for p in claims.adopt {
                        let name = p.metadata.name.clone().unwrap_or_default();
                        let body =
                            podcontrol::adopt_patch(&cref, p.metadata.uid.as_deref().unwrap_or(""));
                        match api.patch(&name, &pp, &Patch::Strategic(&body)).await {
                            Ok(adopted) => owned.push(Arc::new(adopted)),
                            Err(e) if podcontrol::api_code(&e) == 404 => {}
                            Err(e) => {
                                first_err.get_or_insert(e);
                            }
                        }
                    }
                }
            }
        }
        for p in claims.release {
            let name = p.metadata.name.clone().unwrap_or_default();
            let body = podcontrol::release_patch(&uid, p.metadata.uid.as_deref().unwrap_or(""));
            match api.patch(&name, &pp, &Patch::Strategic(&body)).await {
                Ok(_) => {}
                Err(e) if matches!(podcontrol::api_code(&e), 404 | 422) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(owned),
        }
    }

    /// Active pods controlled by owners of this kind that share `owner`'s controller.
    fn related_pods(&self, owner: &K, all: &[Arc<Pod>]) -> Vec<Arc<Pod>> {
        let Some(cref) = podcontrol::controller_of(owner.meta()) else {
            return Vec::new();
        };
        let ns = owner.meta().namespace.as_deref().unwrap_or("");
        let siblings: std::collections::HashSet<String> = self
            .owners
            .list_in(ns)
            .into_iter()
            .filter(|o| podcontrol::controller_of(o.meta()).is_some_and(|r| r.uid == cref.uid))
            .filter_map(|o| o.meta().uid.clone())
            .collect();
        all.iter()
            .filter(|p| {
                podcontrol::controller_of(&p.metadata).is_some_and(|r| siblings.contains(&r.uid))
            })
            .cloned()
            .collect()
    }

    async fn create_pods(&self, owner: &K, n: usize) -> Result<(), kube::Error> {
        let ns = owner.meta().namespace.clone().unwrap_or_default();
        let Some(template) = owner.template() else {
            return Ok(());
        };
        let key = exp_key(&Self::key_of(owner));
        let pod = podcontrol::pod_from_template(
            template,
            &ns,
            &podcontrol::pods_prefix(owner.meta().name.as_deref().unwrap_or("")),
            podcontrol::controller_ref(owner),
        );
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let (ok, err) = podcontrol::slow_start_batch(n, SLOW_START_INITIAL_BATCH, |_| {
            let api = api.clone();
            let pod = &pod;
            async move {
                match api.create(&PostParams::default(), pod).await {
                    Ok(created) => {
                        self.recorder.record(
                            owner,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {}", created.metadata.name.unwrap_or_default()),
                        );
                        Ok(())
                    }
                    Err(e) if podcontrol::namespace_terminating(&e) => Ok(()),
                    Err(e) => {
                        self.recorder.record(
                            owner,
                            EventType::Warning,
                            "FailedCreate",
                            format!("Error creating: {}", err_text(&e)),
                        );
                        Err(e)
                    }
                }
            }
        })
        .await;
        for _ in ok..n {
            self.expectations.creation_observed(&key);
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn delete_pods(&self, owner: &K, victims: Vec<&Pod>) -> Result<(), kube::Error> {
        let ns = owner.meta().namespace.clone().unwrap_or_default();
        let key = exp_key(&Self::key_of(owner));
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let first_err = Mutex::new(None);
        join_all(victims.into_iter().map(|p| {
            let api = api.clone();
            let first_err = &first_err;
            let key = &key;
            async move {
                let name = p.metadata.name.clone().unwrap_or_default();
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => self.recorder.record(
                        owner,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    ),
                    Err(e) => {
                        self.expectations
                            .deletion_observed(key, &podcontrol::key_of(&p.metadata));
                        if podcontrol::api_code(&e) != 404 {
                            self.recorder.record(
                                owner,
                                EventType::Warning,
                                "FailedDelete",
                                format!("Error deleting: {}", err_text(&e)),
                            );
                            first_err.lock().get_or_insert(e);
                        }
                    }
                }
            }
        }))
        .await;
        match first_err.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn sync(&self, key: ObjectKey) -> Result<Option<Duration>, kube::Error> {
        let ek = exp_key(&key);
        let Some(owner) = self.owners.get(&key) else {
            self.expectations.forget(&ek);
            self.status_written.lock().remove(&key);
            return Ok(None);
        };
        let started = Instant::now();
        let needs_sync = self.expectations.satisfied(&ek, Instant::now());
        let all = self.pods.list_in(&key.namespace);
        let active: Vec<Arc<Pod>> = all
            .iter()
            .filter(|p| podcontrol::is_active(p))
            .cloned()
            .collect();
        let owned = self.claim_pods(&owner, active).await?;
        let now = jiff::Timestamp::now();
        let pods: Vec<&Pod> = owned.iter().map(|p| &**p).collect();
        let mut manage_err = None;
        if needs_sync && owner.meta().deletion_timestamp.is_none() {
            // Siblings' pods only matter for choosing which pods to delete.
            let related = if pods.len() > owner.replicas().max(0) as usize {
                self.related_pods(&owner, &all)
            } else {
                Vec::new()
            };
            let related: Vec<&Pod> = related.iter().map(|p| &**p).collect();
            let result = match reconcile::manage(owner.replicas(), &pods, &related, now) {
                Manage::Nothing => Ok(()),
                Manage::Create(n) => {
                    self.expectations.expect_creations(&ek, n, Instant::now());
                    let t = Instant::now();
                    let r = self.create_pods(&owner, n).await;
                    tracing::debug!(key = %key, n, elapsed = ?t.elapsed(), "created pods");
                    r
                }
                Manage::Delete(victims) => {
                    self.expectations.expect_deletions(
                        &ek,
                        victims.iter().map(|p| podcontrol::key_of(&p.metadata)),
                        Instant::now(),
                    );
                    self.delete_pods(&owner, victims).await
                }
            };
            manage_err = result.err();
        }
        let old = owner.status();
        let st = reconcile::calculate_status(
            &old,
            owner.meta().generation.unwrap_or(0),
            owner.replicas(),
            owner
                .template()
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.as_ref()),
            owner.min_ready_seconds(),
            &pods,
            manage_err.as_ref().map(err_text).as_deref(),
            now,
        );
        if st != old {
            let last = self.status_written.lock().get(&key).copied();
            if let Some(wait) =
                reconcile::status_write_delay(&old, &st, owner.replicas(), last, Instant::now())
            {
                if manage_err.is_none() {
                    return Ok(Some(wait));
                }
            }
            self.status_written
                .lock()
                .insert(key.clone(), Instant::now());
            let mut updated = (*owner).clone();
            updated.set_status(st.clone());
            let api: Api<K> = Api::namespaced(self.client.clone(), &key.namespace);
            let pp = PostParams::default();
            let mut result = api.replace_status(&key.name, &pp, &updated).await;
            // The cache may lag behind our own last write: retry once on the live object
            // (keeping the generation acted on), as upstream's updateReplicaSetStatus does.
            if matches!(&result, Err(e) if podcontrol::api_code(e) == 409) {
                result = match api.get(&key.name).await {
                    Ok(mut live) if live.meta().uid == owner.meta().uid => {
                        live.set_status(st);
                        api.replace_status(&key.name, &pp, &live).await
                    }
                    Ok(_) => return Ok(None),
                    Err(e) => Err(e),
                };
            }
            match result {
                Ok(_) => {}
                Err(e) if podcontrol::api_code(&e) == 404 => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        tracing::debug!(key = %key, needs_sync, pods = pods.len(), elapsed = ?started.elapsed(), "synced");
        if let Some(e) = manage_err {
            return Err(e);
        }
        Ok(reconcile::next_available_in(
            &pods,
            owner.min_ready_seconds(),
            now,
        ))
    }
}

async fn run<K: ReplicaOwner>(ctx: Arc<Context>) {
    let owners = ctx.informers.get::<K>();
    let pods = ctx.informers.get::<Pod>();
    let mut owner_changes = owners.subscribe();
    let mut pod_changes = pods.subscribe();
    owners.synced().await;
    pods.synced().await;
    let c = Arc::new(Controller {
        client: ctx.client.clone(),
        owners,
        pods,
        queue: WorkQueue::new(),
        expectations: Expectations::new(),
        status_written: Mutex::new(std::collections::HashMap::new()),
        recorder: ctx.recorder(K::COMPONENT),
    });
    c.enqueue_all();
    let events = c.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = owner_changes.recv() => match ch {
                    Some(Change::Resync) => events.enqueue_all(),
                    Some(Change::Deleted(o)) => {
                        let k = Controller::<K>::key_of(&o);
                        events.expectations.forget(&exp_key(&k));
                        events.queue.add(k);
                    }
                    Some(ch) => if let Some(o) = ch.object() {
                        events.queue.add(Controller::<K>::key_of(o));
                    },
                    None => return,
                },
                ch = pod_changes.recv() => match ch {
                    Some(ch) => events.pod_changed(ch),
                    None => return,
                },
            }
        }
    });
    let queue = c.queue.clone();
    queue
        .run(ctx.config.workers, move |key| {
            let c = c.clone();
            async move { c.sync(key).await }
        })
        .await;
}
