//! The Job controller (upstream's job-controller): runs a Job's pods to `completions`
//! (`parallelism` at a time, NonIndexed or Indexed), replaces failed pods after a
//! back-off until `backoffLimit`, honours `activeDeadlineSeconds`, `suspend` and
//! `podFailurePolicy`, and keeps `.status` as upstream does, counting every finished pod
//! exactly once through the `batch.kubernetes.io/job-tracking` finalizer and
//! `.status.uncountedTerminatedPods`. The decisions are in [`reconcile`]; this file is the
//! glue: watch handlers, expectations, and the API calls that carry a plan out.

pub mod backoff;
pub mod expectations;
pub mod failure_policy;
pub mod indexes;
pub mod pods;
pub mod reconcile;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::Client;
use parking_lot::Mutex;
use serde_json::json;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::informer::Informer;
use skiff_runtime::{Change, ObjectKey, WorkQueue};

use crate::context::Context;
use backoff::BackoffRecord;
use expectations::Expectations;
use reconcile::SYNC_JOB_BATCH_PERIOD;

struct Controller {
    client: Client,
    jobs: Arc<Informer<Job>>,
    pods: Arc<Informer<Pod>>,
    queue: WorkQueue<ObjectKey>,
    orphans: WorkQueue<ObjectKey>,
    exp: Expectations,
    backoff: Mutex<HashMap<ObjectKey, BackoffRecord>>,
    /// The Job as this controller last wrote it: newer than the cache until the watch
    /// catches up, so a sync never decides on a status older than its own last write
    /// (which could count a pod twice or recreate a finished index).
    written: Mutex<HashMap<ObjectKey, Arc<Job>>>,
    recorder: Recorder,
}

/// Whether `a` is a later version of the same object than `b` (skiff's resource versions
/// are store revisions; anything unparsable counts as not later).
fn is_newer(a: &Job, b: &Job) -> bool {
    let rv = |j: &Job| {
        j.metadata
            .resource_version
            .as_deref()
            .and_then(|r| r.parse::<u64>().ok())
    };
    a.metadata.uid == b.metadata.uid && matches!((rv(a), rv(b)), (Some(x), Some(y)) if x > y)
}

/// The text of an API error as upstream's events show it (the Status message).
pub(crate) fn error_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn controller_ref(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

fn pod_key(p: &Pod) -> ObjectKey {
    ObjectKey::of(&p.metadata)
}

impl Controller {
    /// The Job a controller reference points to, if it exists with that UID.
    fn resolve(&self, namespace: &str, r: &OwnerReference) -> Option<Arc<Job>> {
        if r.kind != "Job" {
            return None;
        }
        self.jobs
            .get_named(namespace, &r.name)
            .filter(|j| j.metadata.uid.as_deref() == Some(r.uid.as_str()))
    }

    fn enqueue_batched(&self, key: ObjectKey) {
        self.queue.add_after(key, SYNC_JOB_BATCH_PERIOD);
    }

    /// Pods of a finished or deleted Job that still carry the finalizer.
    fn cleanup_pod_finalizers(&self, job: &Job) {
        let uid = job.metadata.uid.as_deref().unwrap_or("");
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        for p in self.pods.list_in(ns) {
            let owned = controller_ref(&p.metadata).is_some_and(|r| r.uid == uid);
            if owned && pods::has_tracking_finalizer(&p) {
                self.orphans.add(pod_key(&p));
            }
        }
    }

    fn on_job(&self, change: Change<Job>) {
        match change {
            Change::Added(j) => self.queue.add(ObjectKey::of(&j.metadata)),
            Change::Updated { old, new } => {
                let key = ObjectKey::of(&new.metadata);
                if old.metadata.generation == new.metadata.generation {
                    self.enqueue_batched(key.clone());
                } else {
                    self.queue.add(key.clone());
                }
                if reconcile::is_finished(&new) {
                    self.cleanup_pod_finalizers(&new);
                }
                let ads = new.spec.as_ref().and_then(|s| s.active_deadline_seconds);
                let old_ads = old.spec.as_ref().and_then(|s| s.active_deadline_seconds);
                let start = new.status.as_ref().and_then(|s| s.start_time.as_ref());
                if let (Some(ads), Some(start)) = (ads, start) {
                    if old_ads != Some(ads) {
                        let end = start.0.as_nanosecond() + i128::from(ads) * 1_000_000_000;
                        let left = end - jiff::Timestamp::now().as_nanosecond();
                        let left = Duration::from_nanos(left.clamp(0, u64::MAX as i128) as u64);
                        self.queue.add_after(key, left);
                    }
                }
            }
            Change::Deleted(j) => {
                self.queue.add(ObjectKey::of(&j.metadata));
                self.cleanup_pod_finalizers(&j);
            }
            Change::Resync => self.jobs.keys().into_iter().for_each(|k| self.queue.add(k)),
        }
    }

    /// A pod went away (`fin`) or started terminating.
    fn pod_deleted(&self, p: &Pod, fin: bool) {
        let has_finalizer = pods::has_tracking_finalizer(p);
        let ns = p.metadata.namespace.as_deref().unwrap_or("");
        let Some(r) = controller_ref(&p.metadata) else {
            if has_finalizer {
                self.orphans.add(pod_key(p));
            }
            return;
        };
        let job = self.resolve(ns, r);
        let Some(job) = job.filter(|j| !reconcile::is_finished(j)) else {
            if has_finalizer {
                self.orphans.add(pod_key(p));
            }
            return;
        };
        let key = ObjectKey::of(&job.metadata);
        self.exp.deletion_observed(&key);
        if fin || !has_finalizer {
            self.exp.finalizer_removal_observed(&key, pods::uid(p));
        }
        self.enqueue_batched(key);
    }

    fn on_pod(&self, change: Change<Pod>) {
        match change {
            Change::Added(p) => {
                if pods::is_deleting(&p) {
                    return self.pod_deleted(&p, false);
                }
                let ns = p.metadata.namespace.as_deref().unwrap_or("");
                match controller_ref(&p.metadata) {
                    Some(r) => {
                        if let Some(job) = self.resolve(ns, r) {
                            let key = ObjectKey::of(&job.metadata);
                            self.exp.creation_observed(&key);
                            self.enqueue_batched(key);
                        }
                    }
                    None if pods::has_tracking_finalizer(&p) => self.orphans.add(pod_key(&p)),
                    None => {}
                }
            }
            Change::Updated { old, new } => {
                if pods::is_deleting(&new) {
                    return self.pod_deleted(&new, false);
                }
                let ns = new.metadata.namespace.as_deref().unwrap_or("");
                let removed = !pods::has_tracking_finalizer(&new);
                let (old_ref, new_ref) =
                    (controller_ref(&old.metadata), controller_ref(&new.metadata));
                let wake = |r: &OwnerReference| {
                    if let Some(job) = self.resolve(ns, r) {
                        let key = ObjectKey::of(&job.metadata);
                        if removed {
                            self.exp.finalizer_removal_observed(&key, pods::uid(&new));
                        }
                        self.enqueue_batched(key);
                    }
                };
                if old_ref != new_ref {
                    if let Some(r) = old_ref {
                        wake(r);
                    }
                }
                match new_ref {
                    Some(r) => wake(r),
                    None if !removed => self.orphans.add(pod_key(&new)),
                    None => {}
                }
            }
            Change::Deleted(p) => self.pod_deleted(&p, true),
            Change::Resync => self.jobs.keys().into_iter().for_each(|k| self.queue.add(k)),
        }
    }

    fn record(&self, job: &Job, events: &[reconcile::Event]) {
        for e in events {
            self.recorder
                .record(job, e.kind, e.reason, e.message.clone());
        }
    }

    async fn write_status(&self, job: &Job) -> Result<Job, String> {
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let name = job.metadata.name.as_deref().unwrap_or("");
        let api: Api<Job> = Api::namespaced(self.client.clone(), ns);
        api.replace_status(name, &PostParams::default(), job)
            .await
            .inspect(|written| {
                self.written
                    .lock()
                    .insert(ObjectKey::of(&written.metadata), Arc::new(written.clone()));
            })
            .map_err(|e| format!("updating job status: {e}"))
    }

    async fn remove_finalizer(&self, p: &Pod) -> Result<(), kube::Error> {
        let api: Api<Pod> = Api::namespaced(
            self.client.clone(),
            p.metadata.namespace.as_deref().unwrap_or(""),
        );
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [pods::TRACKING_FINALIZER]}});
        match api
            .patch(
                pods::name(p),
                &PatchParams::default(),
                &Patch::Strategic(&patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes pods; the number that could not be deleted.
    async fn delete_pods(
        &self,
        job: &Job,
        key: &ObjectKey,
        list: &[Arc<Pod>],
        remove_finalizer: bool,
    ) -> usize {
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let results = join_all(list.iter().map(|p| {
            let api = api.clone();
            async move {
                if remove_finalizer && pods::has_tracking_finalizer(p) {
                    self.remove_finalizer(p).await?;
                }
                api.delete(pods::name(p), &DeleteParams::default())
                    .await
                    .map(|_| ())
            }
        }))
        .await;
        let mut failed = 0;
        for (p, r) in list.iter().zip(results) {
            match r {
                Ok(()) => self.recorder.record(
                    job,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted pod: {}", pods::name(p)),
                ),
                Err(e) if is_not_found(&e) => {
                    if remove_finalizer {
                        self.exp.deletion_observed(key);
                    }
                }
                Err(e) => {
                    if remove_finalizer {
                        self.exp.deletion_observed(key);
                    }
                    self.recorder.record(
                        job,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {}", error_text(&e)),
                    );
                    failed += 1;
                }
            }
        }
        failed
    }

    /// Creates pods in slow-start batches (1, 2, 4, ...), stopping after a batch with a
    /// failure; the number not created.
    async fn create_pods(&self, job: &Job, key: &ObjectKey, list: Vec<Pod>) -> usize {
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let total = list.len();
        let mut not_created = 0;
        let mut batch = 1usize;
        let mut rest = list.into_iter();
        let mut done = 0;
        while done < total {
            let chunk: Vec<Pod> = rest.by_ref().take(batch).collect();
            done += chunk.len();
            let pp = PostParams::default();
            let results = join_all(chunk.iter().map(|p| api.create(&pp, p))).await;
            let mut errors = 0;
            for r in results {
                match r {
                    Ok(created) => {
                        self.recorder.record(
                            job,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {}", pods::name(&created)),
                        );
                        self.pods.assume(created);
                    }
                    Err(e) => {
                        errors += 1;
                        self.exp.creation_observed(key);
                        let terminating = matches!(&e, kube::Error::Api(s) if s.code == 403 && s.message.contains("being terminated"));
                        if !terminating {
                            self.recorder.record(
                                job,
                                EventType::Warning,
                                "FailedCreate",
                                format!("Error creating: {}", error_text(&e)),
                            );
                        }
                    }
                }
            }
            not_created += errors;
            if errors > 0 {
                let skipped = total - done;
                for _ in 0..skipped {
                    self.exp.creation_observed(key);
                }
                not_created += skipped;
                break;
            }
            batch = (batch * 2).min(total - done).max(1);
        }
        not_created
    }

    async fn sync(&self, key: ObjectKey) -> Result<Option<Duration>, String> {
        let Some(cached) = self.jobs.get(&key) else {
            self.exp.forget(&key);
            self.backoff.lock().remove(&key);
            self.written.lock().remove(&key);
            return Ok(None);
        };
        let job = {
            let mut written = self.written.lock();
            match written.get(&key) {
                Some(w) if is_newer(w, &cached) => w.clone(),
                _ => {
                    written.remove(&key);
                    cached
                }
            }
        };
        if reconcile::is_finished(&job) {
            self.backoff.lock().remove(&key);
            return Ok(None);
        }
        // Expectations before the pod list, so no pod sneaks in between.
        let satisfied = self.exp.satisfied(&key, Instant::now());
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let owned: Vec<Arc<Pod>> = self
            .pods
            .list_in(&key.namespace)
            .into_iter()
            .filter(|p| controller_ref(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect();
        let expected_rm = self.exp.expected_finalizer_removals(&key);
        let rec = self.backoff.lock().get(&key).cloned().unwrap_or_default();
        let now = jiff::Timestamp::now();
        let plan = reconcile::reconcile(&reconcile::Input {
            job: &job,
            pods: &owned,
            now,
            backoff: &rec,
            expectations_satisfied: satisfied,
            expected_rm_finalizers: &expected_rm,
        });
        self.record(&job, &plan.events);
        if plan.skip {
            return Ok(None);
        }
        let mut failure: Option<String> = None;
        let mut status = plan.status.clone();

        if !plan.delete.is_empty() {
            if plan.delete_removes_finalizer {
                self.exp.expect(&key, 0, plan.delete.len(), Instant::now());
            }
            let failed = self
                .delete_pods(&job, &key, &plan.delete, plan.delete_removes_finalizer)
                .await;
            if failed > 0 {
                if !plan.delete_removes_finalizer {
                    // The Job cannot be declared finished with pods left running.
                    return Err(format!("deleting {failed} active pods"));
                }
                status.active = Some(status.active.unwrap_or(0) + failed as i32);
                status.terminating = Some(status.terminating.unwrap_or(0) - failed as i32);
                failure = Some(format!("deleting {failed} pods"));
            }
        }
        if !plan.create.is_empty() {
            self.exp.expect(&key, plan.create.len(), 0, Instant::now());
            let not_created = self.create_pods(&job, &key, plan.create.clone()).await;
            if not_created > 0 {
                status.active = Some(status.active.unwrap_or(0) - not_created as i32);
                failure = Some(format!("creating {not_created} pods"));
            }
        }

        let mut current: Job = (*job).clone();
        if plan.needs_flush {
            reconcile::normalize(&mut status);
            current.status = Some(status);
            current = self.write_status(&current).await?;
            self.backoff
                .lock()
                .insert(key.clone(), plan.backoff.clone());
        }

        let mut still = plan.uids_with_finalizer.clone();
        for p in &plan.remove_finalizers {
            self.exp.expect_finalizer_removed(&key, pods::uid(p));
        }
        let removals = join_all(
            plan.remove_finalizers
                .iter()
                .map(|p| self.remove_finalizer(p)),
        )
        .await;
        let mut rm_error = None;
        for (p, r) in plan.remove_finalizers.iter().zip(removals) {
            match r {
                Ok(()) => {
                    still.remove(pods::uid(p));
                }
                Err(e) => {
                    self.exp.finalizer_removal_observed(&key, pods::uid(p));
                    rm_error = Some(format!("removing tracking finalizer: {}", error_text(&e)));
                }
            }
        }
        let mut status = current.status.clone().unwrap_or_default();
        let (changed, finished) = reconcile::finish(
            &mut status,
            &still,
            plan.finished.as_ref(),
            plan.reached_max_uncounted || rm_error.is_some(),
            plan.terminating,
            now,
        );
        if changed {
            reconcile::normalize(&mut status);
            current.status = Some(status);
            current = self.write_status(&current).await?;
            if finished {
                if let Some(cond) = plan.finished.as_ref() {
                    self.record(&current, &reconcile::finished_event(&current, cond));
                }
            }
        }
        if let Some(e) = rm_error.or(failure) {
            return Err(e);
        }
        Ok(plan.requeue_after)
    }

    /// Removes the tracking finalizer from a pod no running Job accounts for.
    async fn sync_orphan(&self, key: ObjectKey) -> Result<Option<Duration>, String> {
        let Some(pod) = self.pods.get(&key) else {
            return Ok(None);
        };
        if let Some(r) = controller_ref(&pod.metadata) {
            if r.kind != "Job" || r.api_version != "batch/v1" {
                return Ok(None);
            }
            if let Some(job) = self.resolve(&key.namespace, r) {
                if !reconcile::is_finished(&job) || reconcile::managed_elsewhere(&job) {
                    return Ok(None);
                }
            }
        }
        if !pods::has_tracking_finalizer(&pod) {
            return Ok(None);
        }
        self.remove_finalizer(&pod)
            .await
            .map(|_| None)
            .map_err(|e| error_text(&e))
    }
}

/// Runs the Job controller until the process ends.
pub async fn run(ctx: Arc<Context>) {
    let jobs = ctx.informers.get::<Job>();
    let pods = ctx.informers.get::<Pod>();
    let mut job_changes = jobs.subscribe();
    let mut pod_changes = pods.subscribe();
    jobs.synced().await;
    pods.synced().await;
    let c = Arc::new(Controller {
        client: ctx.client.clone(),
        jobs: jobs.clone(),
        pods: pods.clone(),
        queue: WorkQueue::with_backoff(Duration::from_secs(1), Duration::from_secs(60)),
        orphans: WorkQueue::with_backoff(Duration::from_secs(1), Duration::from_secs(60)),
        exp: Expectations::default(),
        backoff: Mutex::new(HashMap::new()),
        written: Mutex::new(HashMap::new()),
        recorder: ctx.recorder("job-controller"),
    });
    for k in jobs.keys() {
        c.queue.add(k);
    }
    for p in pods.list() {
        if pods::has_tracking_finalizer(&p) {
            let ns = p.metadata.namespace.as_deref().unwrap_or("");
            let alive = controller_ref(&p.metadata)
                .and_then(|r| c.resolve(ns, r))
                .is_some_and(|j| !reconcile::is_finished(&j));
            if !alive {
                c.orphans.add(pod_key(&p));
            }
        }
    }
    let watcher = c.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = job_changes.recv() => match ch {
                    Some(ch) => watcher.on_job(ch),
                    None => return,
                },
                ch = pod_changes.recv() => match ch {
                    Some(ch) => watcher.on_pod(ch),
                    None => return,
                },
            }
        }
    });
    let orphan_worker = c.clone();
    tokio::spawn(async move {
        let q = orphan_worker.orphans.clone();
        q.run(1, move |key| {
            let c = orphan_worker.clone();
            async move { c.sync_orphan(key).await }
        })
        .await;
    });
    let workers = ctx.config.workers;
    let q = c.queue.clone();
    q.run(workers, move |key| {
        let c = c.clone();
        async move { c.sync(key).await }
    })
    .await;
}
