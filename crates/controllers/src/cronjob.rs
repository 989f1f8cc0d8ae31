//! The CronJob controller (upstream's cronjob-controller v2): creates a Job
//! `<cronjob>-<minutes since the epoch>` when the schedule comes due, keeps
//! `.status.active`, `lastScheduleTime` and `lastSuccessfulTime`, applies the concurrency
//! policy and the history limits, and sleeps until exactly the next activation (no
//! polling). The schedule is [`schedule`], the decision [`reconcile`]; this file is the
//! glue: watch handlers and the API calls that carry a plan out.

pub mod reconcile;
pub use skiff_api::cron as schedule;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, PostParams, PropagationPolicy};
use kube::Client;
use skiff_runtime::events::{EventType, Recorder};
use skiff_runtime::informer::Informer;
use skiff_runtime::{Change, ObjectKey, WorkQueue};

use crate::context::Context;
use crate::job::error_text;

struct Controller {
    client: Client,
    cronjobs: Arc<Informer<CronJob>>,
    jobs: Arc<Informer<Job>>,
    queue: WorkQueue<ObjectKey>,
    recorder: Recorder,
    /// Go's `time.Local`: the zone of schedules without `timeZone`.
    local: TimeZone,
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

impl Controller {
    /// The CronJob a Job's controller reference names, if it exists with that UID.
    fn owner_of(&self, job: &Job) -> Option<ObjectKey> {
        let r = reconcile::controller_ref(&job.metadata)?;
        if r.kind != "CronJob" {
            return None;
        }
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let cj = self.cronjobs.get_named(ns, &r.name)?;
        (cj.metadata.uid.as_deref() == Some(r.uid.as_str())).then(|| ObjectKey::of(&cj.metadata))
    }

    fn on_cronjob(&self, change: Change<CronJob>) {
        match change {
            Change::Added(cj) | Change::Deleted(cj) => self.queue.add(ObjectKey::of(&cj.metadata)),
            Change::Updated { old, new } => {
                let key = ObjectKey::of(&new.metadata);
                let sched = |c: &CronJob| {
                    c.spec
                        .as_ref()
                        .map(|s| (s.schedule.clone(), s.time_zone.clone()))
                };
                if sched(&old) == sched(&new) {
                    return self.queue.add(key);
                }
                match reconcile::parse(&new, &self.local) {
                    Err(_) => self.recorder.record(
                        &*new,
                        EventType::Warning,
                        "UnParseableCronJobSchedule",
                        format!(
                            "unparseable schedule for cronjob: {}",
                            new.spec.as_ref().map(|s| s.schedule.as_str()).unwrap_or("")
                        ),
                    ),
                    Ok(s) => {
                        let after = reconcile::next_schedule_time_duration(
                            &new,
                            jiff::Timestamp::now(),
                            &s,
                        )
                        .unwrap_or(Duration::ZERO);
                        self.queue.add_after(key, after);
                    }
                }
            }
            Change::Resync => self
                .cronjobs
                .keys()
                .into_iter()
                .for_each(|k| self.queue.add(k)),
        }
    }

    fn on_job(&self, change: Change<Job>) {
        match change {
            Change::Added(j) | Change::Deleted(j) => {
                if let Some(k) = self.owner_of(&j) {
                    self.queue.add(k);
                }
            }
            Change::Updated { old, new } => {
                let (a, b) = (self.owner_of(&old), self.owner_of(&new));
                if a != b {
                    if let Some(k) = a {
                        self.queue.add(k);
                    }
                }
                if let Some(k) = b {
                    self.queue.add(k);
                }
            }
            Change::Resync => self
                .cronjobs
                .keys()
                .into_iter()
                .for_each(|k| self.queue.add(k)),
        }
    }

    fn event(&self, cj: &CronJob, kind: EventType, reason: &str, message: String) {
        self.recorder.record(cj, kind, reason, message);
    }

    async fn delete_job(&self, cj: &CronJob, ns: &str, name: &str) -> bool {
        let api: Api<Job> = Api::namespaced(self.client.clone(), ns);
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        match api.delete(name, &dp).await {
            Ok(_) => {
                self.event(
                    cj,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted job {name}"),
                );
                true
            }
            Err(e) => {
                self.event(
                    cj,
                    EventType::Warning,
                    "FailedDelete",
                    format!("Deleted job: {}", error_text(&e)),
                );
                false
            }
        }
    }

    async fn sync(&self, key: ObjectKey) -> Result<Option<Duration>, String> {
        let Some(cj) = self.cronjobs.get(&key) else {
            return Ok(None);
        };
        let name = cj.metadata.name.clone().unwrap_or_default();
        let ns = key.namespace.clone();
        let jobs: Vec<Arc<Job>> = self
            .jobs
            .list_in(&ns)
            .into_iter()
            .filter(|j| reconcile::controller_ref(&j.metadata).is_some_and(|r| r.name == name))
            .collect();
        let api: Api<Job> = Api::namespaced(self.client.clone(), &ns);
        // Active Jobs the cache does not hold: ask the API before calling them missing.
        let mut missing = HashSet::new();
        let known: HashSet<&str> = jobs
            .iter()
            .filter_map(|j| j.metadata.uid.as_deref())
            .collect();
        for r in cj
            .status
            .as_ref()
            .and_then(|s| s.active.as_ref())
            .into_iter()
            .flatten()
        {
            let uid = r.uid.as_deref().unwrap_or("");
            if known.contains(uid) {
                continue;
            }
            match api.get(r.name.as_deref().unwrap_or("")).await {
                Err(e) if is_not_found(&e) => {
                    missing.insert(uid.to_string());
                }
                Err(e) => return Err(error_text(&e)),
                Ok(_) => {}
            }
        }
        let now = jiff::Timestamp::now();
        let plan = reconcile::reconcile(&reconcile::Input {
            cronjob: &cj,
            jobs: &jobs,
            missing_active: &missing,
            now,
            local: &self.local,
        });
        for e in &plan.events {
            self.event(&cj, e.kind, e.reason, e.message.clone());
        }
        let mut status = plan.status.clone();
        let mut changed = plan.status_changed;
        for j in &plan.delete {
            self.delete_job(&cj, &ns, j.metadata.name.as_deref().unwrap_or(""))
                .await;
        }
        let mut result: Result<Option<Duration>, String> = Ok(plan.requeue_after);
        'create: {
            for r in &plan.replace {
                let jname = r.name.as_deref().unwrap_or("");
                if let Err(e) = api.get(jname).await {
                    self.event(
                        &cj,
                        EventType::Warning,
                        "FailedGet",
                        format!("Get job: {}", error_text(&e)),
                    );
                    result = Err(error_text(&e));
                    break 'create;
                }
                if !self.delete_job(&cj, &ns, jname).await {
                    result = Err(format!("could not replace job {ns}/{jname}"));
                    break 'create;
                }
                if let Some(a) = status.active.as_mut() {
                    a.retain(|x| x.uid != r.uid);
                }
                changed = true;
            }
            let Some((job, scheduled)) = plan.create.clone() else {
                break 'create;
            };
            let created = match api.create(&PostParams::default(), &job).await {
                Ok(created) => {
                    self.event(
                        &cj,
                        EventType::Normal,
                        "SuccessfulCreate",
                        format!(
                            "Created job {}",
                            created.metadata.name.as_deref().unwrap_or("")
                        ),
                    );
                    created
                }
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    let jname = job.metadata.name.as_deref().unwrap_or("");
                    let existing = match api.get(jname).await {
                        Ok(j) => j,
                        Err(e) => {
                            result = Err(error_text(&e));
                            break 'create;
                        }
                    };
                    let ours = reconcile::controller_ref(&existing.metadata)
                        .is_some_and(|r| Some(r.uid.as_str()) == cj.metadata.uid.as_deref());
                    let uid = existing.metadata.uid.clone();
                    let listed = status.active.iter().flatten().any(|r| r.uid == uid);
                    if !ours || listed {
                        break 'create;
                    }
                    existing
                }
                Err(e) => {
                    let terminating = matches!(&e, kube::Error::Api(s) if s.code == 403 && s.message.contains("being terminated"));
                    if !terminating {
                        self.event(
                            &cj,
                            EventType::Warning,
                            "FailedCreate",
                            format!("Error creating job: {}", error_text(&e)),
                        );
                    }
                    result = Err(error_text(&e));
                    break 'create;
                }
            };
            status
                .active
                .get_or_insert_with(Vec::new)
                .push(reconcile::job_reference(&created));
            status.last_schedule_time = Some(Time(scheduled));
            changed = true;
        }
        if changed {
            let mut updated = (*cj).clone();
            updated.status = Some(status);
            let api: Api<CronJob> = Api::namespaced(self.client.clone(), &ns);
            api.replace_status(&name, &PostParams::default(), &updated)
                .await
                .map_err(|e| format!("updating cronjob status: {}", error_text(&e)))?;
        }
        result
    }
}

/// Runs the CronJob controller until the process ends.
pub async fn run(ctx: Arc<Context>) {
    let cronjobs = ctx.informers.get::<CronJob>();
    let jobs = ctx.informers.get::<Job>();
    let mut cj_changes = cronjobs.subscribe();
    let mut job_changes = jobs.subscribe();
    cronjobs.synced().await;
    jobs.synced().await;
    let c = Arc::new(Controller {
        client: ctx.client.clone(),
        cronjobs: cronjobs.clone(),
        jobs,
        queue: WorkQueue::new(),
        recorder: ctx.recorder("cronjob-controller"),
        local: TimeZone::system(),
    });
    for k in cronjobs.keys() {
        c.queue.add(k);
    }
    let watcher = c.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ch = cj_changes.recv() => match ch {
                    Some(ch) => watcher.on_cronjob(ch),
                    None => return,
                },
                ch = job_changes.recv() => match ch {
                    Some(ch) => watcher.on_job(ch),
                    None => return,
                },
            }
        }
    });
    let workers = ctx.config.workers;
    let q = c.queue.clone();
    q.run(workers, move |key| {
        let c = c.clone();
        async move { c.sync(key).await }
    })
    .await;
}
