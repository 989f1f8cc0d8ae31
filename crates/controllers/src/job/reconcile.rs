//! The Job controller's decision for one Job, given its pods and the time (upstream's
//! `syncJob`, `manageJob` and `trackJobStatusAndRemoveFinalizers`): the pods to create
//! (named from `<job>-`, or `<job>-<index>-` for Indexed Jobs) or delete, the finished pods
//! to record in `.status.uncountedTerminatedPods` before their tracking finalizer is
//! removed, and the conditions: `SuccessCriteriaMet` / `FailureTarget` first, then
//! `Complete` / `Failed` once every pod is counted and none is terminating ([`finish`]).
//! Pure.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use skiff_runtime::events::EventType;

use super::backoff::{self, BackoffRecord};
use super::failure_policy;
use super::indexes::{self, Intervals};
use super::pods;

/// Most pods created or deleted in one sync.
pub const MAX_POD_CREATE_DELETE_PER_SYNC: usize = 500;
/// Most pods held in `.status.uncountedTerminatedPods` at once.
pub const MAX_UNCOUNTED_PODS: usize = 500;
/// The shortest delay of a sync postponed by the pod-failure back-off.
pub const SYNC_JOB_BATCH_PERIOD: Duration = Duration::from_secs(1);
/// generateName longer than this is cut (the API server appends 5 characters).
const MAX_GENERATED_NAME_LENGTH: usize = 58;

/// An event to record about the Job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    pub reason: &'static str,
    pub message: String,
}

/// What the controller sees of one Job.
pub struct Input<'a> {
    pub job: &'a Job,
    /// The pods the Job controls.
    pub pods: &'a [Arc<Pod>],
    pub now: Timestamp,
    /// The pod-failure back-off remembered from earlier syncs.
    pub backoff: &'a BackoffRecord,
    /// No pod creations or deletions of this controller are still unobserved.
    pub expectations_satisfied: bool,
    /// Pods whose finalizer removal was sent but not yet seen.
    pub expected_rm_finalizers: &'a HashSet<String>,
}

/// What to do, in order: delete / create pods, write `status` (when `needs_flush`),
/// remove the tracking finalizer from `remove_finalizers`, then [`finish`].
#[derive(Debug, Default)]
pub struct Plan {
    /// The Job is finished or cannot be handled: nothing to do.
    pub skip: bool,
    pub create: Vec<Pod>,
    pub delete: Vec<Arc<Pod>>,
    /// Whether the deletions remove the tracking finalizer first (pods given up while the
    /// Job goes on) or keep it (the Job is ending; they are counted as they go).
    pub delete_removes_finalizer: bool,
    /// The status to write before removing finalizers.
    pub status: JobStatus,
    pub needs_flush: bool,
    pub remove_finalizers: Vec<Arc<Pod>>,
    /// UIDs of pods that still carry the finalizer (before the removals).
    pub uids_with_finalizer: HashSet<String>,
    /// The terminal condition to add once every pod is counted.
    pub finished: Option<JobCondition>,
    pub reached_max_uncounted: bool,
    pub terminating: i32,
    pub backoff: BackoffRecord,
    pub requeue_after: Option<Duration>,
    pub events: Vec<Event>,
}

fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: (!reason.is_empty()).then(|| reason.into()),
        message: (!message.is_empty()).then(|| message.into()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

fn find<'a>(conds: &'a [JobCondition], type_: &str) -> Option<&'a JobCondition> {
    conds.iter().find(|c| c.type_ == type_)
}

/// Whether the Job has a true Complete or Failed condition.
pub fn is_finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

/// The controller name of Jobs this controller manages (`spec.managedBy` unset or this).
pub const CONTROLLER_NAME: &str = "kubernetes.io/job-controller";

/// Whether `spec.managedBy` hands the Job to another controller.
pub fn managed_elsewhere(job: &Job) -> bool {
    job.spec
        .as_ref()
        .and_then(|s| s.managed_by.as_deref())
        .is_some_and(|m| m != CONTROLLER_NAME)
}

fn is_indexed(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) == Some("Indexed")
}

fn suspended(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.suspend) == Some(true)
}

/// Upstream's `ensureJobConditionStatus`: sets a condition (new transition time when it
/// changes); a False condition is not added where none exists. Whether anything changed.
fn ensure_condition(
    conds: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == type_) {
        if c.status != status
            || c.reason.as_deref().unwrap_or("") != reason
            || c.message.as_deref().unwrap_or("") != message
        {
            *c = condition(type_, status, reason, message, now);
            return true;
        }
        return false;
    }
    if status != "False" {
        conds.push(condition(type_, status, reason, message, now));
        return true;
    }
    false
}

fn valid_index(job: &Job, p: &Pod, completions: i64) -> bool {
    !is_indexed(job) || pods::completion_index(p).is_some_and(|ix| ix < completions)
}

/// The pods to give up: duplicates / out-of-range / index-less pods of an Indexed Job,
/// then the least advanced until `at_least` are chosen.
fn active_pods_for_removal(
    job: &Job,
    active: &[Arc<Pod>],
    at_least: usize,
    completions: i64,
) -> Vec<Arc<Pod>> {
    let mut rm: Vec<Arc<Pod>> = Vec::new();
    let mut left: Vec<Arc<Pod>> = Vec::new();
    if is_indexed(job) {
        let mut by_index: std::collections::BTreeMap<Option<i64>, Vec<Arc<Pod>>> =
            Default::default();
        for p in active {
            by_index
                .entry(pods::completion_index(p))
                .or_default()
                .push(p.clone());
        }
        for (ix, mut group) in by_index {
            match ix {
                Some(ix) if ix < completions => {
                    group.sort_by(|a, b| pods::active_pods_order(a, b));
                    if let Some(keep) = group.pop() {
                        left.push(keep);
                    }
                    rm.extend(group);
                }
                _ => rm.extend(group),
            }
        }
    } else {
        left = active.to_vec();
    }
    if rm.len() < at_least {
        left.sort_by(|a, b| pods::active_pods_order(a, b));
        let need = (at_least - rm.len()).min(left.len());
        rm.extend(left.into_iter().take(need));
    }
    rm
}

/// `<job>-<index>-`, cut to fit generated names.
pub fn generate_name_with_index(job: &str, index: i64) -> String {
    let suffix = format!("-{index}-");
    let mut prefix = format!("{job}{suffix}");
    if prefix.len() > MAX_GENERATED_NAME_LENGTH {
        let mut cut = MAX_GENERATED_NAME_LENGTH.saturating_sub(suffix.len());
        while cut > 0 && !job.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix = format!("{}{suffix}", &job[..cut.min(job.len())]);
    }
    prefix
}

/// A pod for the Job from its template (upstream's `GetPodFromTemplate` plus the Job's
/// additions): template labels / annotations / finalizers + the tracking finalizer, the
/// Job as controller, and for Indexed Jobs the index annotation, label, hostname and
/// `JOB_COMPLETION_INDEX`.
pub fn pod_from_template(job: &Job, index: Option<i64>) -> Pod {
    let name = job.metadata.name.clone().unwrap_or_default();
    let template: PodTemplateSpec = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let mut labels = tmeta.labels.unwrap_or_default();
    let mut annotations = tmeta.annotations.unwrap_or_default();
    let mut finalizers = tmeta.finalizers.unwrap_or_default();
    if !finalizers.iter().any(|f| f == pods::TRACKING_FINALIZER) {
        finalizers.push(pods::TRACKING_FINALIZER.into());
    }
    let mut generate_name = format!("{name}-");
    if let Some(ix) = index {
        let field_path = format!("metadata.labels['{}']", pods::COMPLETION_INDEX_ANNOTATION);
        let containers = spec
            .init_containers
            .iter_mut()
            .flatten()
            .chain(spec.containers.iter_mut());
        for c in containers {
            let env = c.env.get_or_insert_with(Vec::new);
            if !env.iter().any(|e| e.name == pods::COMPLETION_INDEX_ENV) {
                env.push(EnvVar {
                    name: pods::COMPLETION_INDEX_ENV.into(),
                    value: None,
                    value_from: Some(EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: None,
                            field_path: field_path.clone(),
                        }),
                        ..Default::default()
                    }),
                });
            }
        }
        annotations.insert(pods::COMPLETION_INDEX_ANNOTATION.into(), ix.to_string());
        labels.insert(pods::COMPLETION_INDEX_ANNOTATION.into(), ix.to_string());
        spec.hostname = Some(format!("{name}-{ix}"));
        generate_name = generate_name_with_index(&name, ix);
    }
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: Some(finalizers),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name,
                uid: job.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// Decides what to do for one Job.
pub fn reconcile(input: &Input) -> Plan {
    let job = input.job;
    let now = input.now;
    let mut plan = Plan {
        backoff: input.backoff.clone(),
        ..Default::default()
    };
    if is_finished(job) || managed_elsewhere(job) {
        plan.skip = true;
        return plan;
    }
    let spec = job.spec.clone().unwrap_or_default();
    if let Some(mode) = spec.completion_mode.as_deref() {
        if mode != "NonIndexed" && mode != "Indexed" {
            plan.skip = true;
            plan.events.push(Event {
                kind: EventType::Warning,
                reason: "UnknownCompletionMode",
                message: "Skipped Job sync because completion mode is unknown".into(),
            });
            return plan;
        }
    }
    let indexed = is_indexed(job);
    let completions_opt = spec.completions.map(i64::from);
    let completions = completions_opt.unwrap_or(0);
    let parallelism = i64::from(spec.parallelism.unwrap_or(1));
    let backoff_limit = i64::from(spec.backoff_limit.unwrap_or(6));
    let mut status = job.status.clone().unwrap_or_default();
    let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    let uncounted_ok: HashSet<String> = uncounted.succeeded.iter().flatten().cloned().collect();
    let uncounted_failed: HashSet<String> = uncounted.failed.iter().flatten().cloned().collect();
    let expected_rm = input.expected_rm_finalizers;

    let all: &[Arc<Pod>] = input.pods;
    let active_pods: Vec<Arc<Pod>> = all.iter().filter(|p| pods::is_active(p)).cloned().collect();
    let mut ready = active_pods.iter().filter(|p| pods::is_ready(p)).count() as i64;
    let mut terminating = all.iter().filter(|p| pods::is_terminating(p)).count() as i64;
    let mut active = active_pods.len() as i64;

    // Finished pods not yet in the status (they still carry the finalizer).
    let countable = |p: &Pod, set: &HashSet<String>| {
        pods::has_tracking_finalizer(p)
            && !set.contains(pods::uid(p))
            && !expected_rm.contains(pods::uid(p))
            && valid_index(job, p, completions)
    };
    let new_succeeded: Vec<&Pod> = all
        .iter()
        .map(|p| &**p)
        .filter(|p| countable(p, &uncounted_ok) && pods::phase(p) == "Succeeded")
        .collect();
    let new_failed: Vec<&Pod> = all
        .iter()
        .map(|p| &**p)
        .filter(|p| countable(p, &uncounted_failed) && pods::is_failed(p, job))
        .collect();
    let policy = spec.pod_failure_policy.as_ref();
    let new_failed_counted = new_failed
        .iter()
        .filter(|p| failure_policy::match_pod(policy, p).count)
        .count() as i64;
    let mut succeeded = i64::from(status.succeeded.unwrap_or(0))
        + new_succeeded.len() as i64
        + uncounted_ok.len() as i64;
    let failed =
        i64::from(status.failed.unwrap_or(0)) + new_failed_counted + uncounted_failed.len() as i64;

    if status.start_time.is_none() && !suspended(job) {
        status.start_time = Some(Time(now));
    }
    plan.backoff = backoff::next_record(input.backoff, &new_succeeded, &new_failed);

    let conds = status.conditions.clone().unwrap_or_default();
    let mut finished: Option<JobCondition> = find(&conds, "SuccessCriteriaMet")
        .filter(|c| c.status == "True")
        .cloned();
    if finished.is_none() {
        if let Some(ft) = find(&conds, "FailureTarget").filter(|c| c.status == "True") {
            finished = Some(condition(
                "Failed",
                "True",
                ft.reason.as_deref().unwrap_or(""),
                ft.message.as_deref().unwrap_or(""),
                now,
            ));
        } else if let Some(msg) = fail_job_message(job, all) {
            finished = Some(condition(
                "FailureTarget",
                "True",
                "PodFailurePolicy",
                &msg,
                now,
            ));
        }
    }
    if finished.is_none() {
        if failed > backoff_limit || past_backoff_limit_on_failure(job, all, backoff_limit) {
            finished = Some(condition(
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                now,
            ));
        } else if let Some(left) = active_deadline_left(job, &status, now) {
            if left.is_zero() {
                finished = Some(condition(
                    "FailureTarget",
                    "True",
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                    now,
                ));
            } else {
                plan.requeue_after = Some(left);
            }
        }
    }

    let prev_succeeded_indexes = if indexed {
        Intervals::parse(
            status.completed_indexes.as_deref().unwrap_or(""),
            completions,
        )
    } else {
        Intervals::default()
    };
    let mut succeeded_indexes = prev_succeeded_indexes.clone();
    if indexed {
        let fresh: BTreeSet<i64> = all
            .iter()
            .filter(|p| pods::phase(p) == "Succeeded" && pods::has_tracking_finalizer(p))
            .filter_map(|p| pods::completion_index(p))
            .filter(|ix| *ix < completions)
            .collect();
        succeeded_indexes = prev_succeeded_indexes.with_indexes(fresh);
        succeeded = succeeded_indexes.total();
    }

    let mut suspend_changed = false;
    if finished.is_some() {
        // The Job ends: stop what still runs, keeping finalizers so the pods are counted.
        plan.delete = active_pods.clone();
        plan.delete_removes_finalizer = false;
        let deleted = plan.delete.len() as i64;
        ready -= plan.delete.iter().filter(|p| pods::is_ready(p)).count() as i64;
        active -= deleted;
        terminating += deleted;
        if !input.expectations_satisfied {
            finished = None;
        }
    } else {
        let mut manage_called = false;
        if input.expectations_satisfied && job.metadata.deletion_timestamp.is_none() {
            manage_called = true;
            let m = manage(
                job,
                &active_pods,
                all,
                &plan.backoff,
                now,
                succeeded,
                completions_opt,
                parallelism,
                terminating,
                &succeeded_indexes,
            );
            active = m.active;
            ready -= m.removed_ready;
            terminating += m.deleted;
            plan.create = m.create;
            plan.delete = m.delete;
            plan.delete_removes_finalizer = true;
            if let Some(d) = m.requeue_after {
                plan.requeue_after = Some(plan.requeue_after.map_or(d, |r| r.min(d)));
            }
        }
        let complete = match completions_opt {
            None => succeeded > 0 && active == 0,
            Some(c) => succeeded >= c && active == 0,
        };
        if complete {
            finished = Some(condition(
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            ));
        } else if manage_called {
            let conds = status.conditions.get_or_insert_with(Vec::new);
            if suspended(job) {
                if ensure_condition(
                    conds,
                    "Suspended",
                    "True",
                    "JobSuspended",
                    "Job suspended",
                    now,
                ) {
                    suspend_changed = true;
                    plan.events.push(Event {
                        kind: EventType::Normal,
                        reason: "Suspended",
                        message: "Job suspended".into(),
                    });
                }
            } else if ensure_condition(
                conds,
                "Suspended",
                "False",
                "JobResumed",
                "Job resumed",
                now,
            ) {
                suspend_changed = true;
                plan.events.push(Event {
                    kind: EventType::Normal,
                    reason: "Resumed",
                    message: "Job resumed".into(),
                });
                // The deadline counts from the resumption.
                status.start_time = Some(Time(now));
            }
            if status.conditions.as_ref().is_some_and(|c| c.is_empty()) {
                status.conditions = None;
            }
        }
    }

    let mut needs_flush = suspend_changed
        || active != i64::from(status.active.unwrap_or(0))
        || Some(ready as i32) != status.ready
        || Some(terminating as i32) != status.terminating;
    status.active = Some(active as i32);
    status.ready = Some(ready as i32);
    status.terminating = Some(terminating as i32);
    plan.terminating = terminating as i32;

    // Tracking: record finished pods as uncounted, then their finalizers go.
    let mut tracked: Vec<Arc<Pod>> = all.to_vec();
    if indexed {
        tracked.sort_by_key(|p| pods::completion_index(p).unwrap_or(-1));
    }
    let uids_with_finalizer: HashSet<String> = tracked
        .iter()
        .filter(|p| pods::has_tracking_finalizer(p) && !expected_rm.contains(pods::uid(p)))
        .map(|p| pods::uid(p).to_string())
        .collect();
    status.uncounted_terminated_pods = Some(uncounted);
    if clean_uncounted(&mut status, &uids_with_finalizer) {
        needs_flush = true;
    }
    let mut unc = status.uncounted_terminated_pods.clone().unwrap_or_default();
    let mut unc_ok: Vec<String> = unc.succeeded.take().unwrap_or_default();
    let mut unc_failed: Vec<String> = unc.failed.take().unwrap_or_default();
    let mut new_indexes: Vec<i64> = Vec::new();
    let ending = finished
        .as_ref()
        .is_some_and(|c| c.type_ != "SuccessCriteriaMet");
    for p in &tracked {
        let uid = pods::uid(p);
        if !pods::has_tracking_finalizer(p) || expected_rm.contains(uid) {
            continue;
        }
        let considered_failed = pods::is_failed(p, job);
        let can_remove = job.metadata.deletion_timestamp.is_some()
            || finished.is_some()
            || pods::phase(p) == "Succeeded"
            || considered_failed;
        if !can_remove {
            continue;
        }
        plan.remove_finalizers.push(p.clone());
        if pods::phase(p) == "Succeeded" && !uncounted_failed.contains(uid) {
            if indexed {
                if let Some(ix) = pods::completion_index(p) {
                    if ix < completions && !prev_succeeded_indexes.has(ix) {
                        new_indexes.push(ix);
                        needs_flush = true;
                    }
                }
            } else if !unc_ok.iter().any(|u| u == uid) {
                needs_flush = true;
                unc_ok.push(uid.to_string());
            }
        } else if considered_failed || ending {
            let in_range = !indexed || pods::completion_index(p).is_some_and(|ix| ix < completions);
            if !unc_failed.iter().any(|u| u == uid)
                && in_range
                && failure_policy::match_pod(policy, p).count
            {
                needs_flush = true;
                unc_failed.push(uid.to_string());
            }
        }
        if new_indexes.len() + unc_ok.len() + unc_failed.len() >= MAX_UNCOUNTED_PODS {
            plan.reached_max_uncounted = true;
            break;
        }
    }
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
        succeeded: (!unc_ok.is_empty()).then_some(unc_ok),
        failed: (!unc_failed.is_empty()).then_some(unc_failed),
    });
    if indexed {
        new_indexes.sort_unstable();
        let all_indexes = succeeded_indexes.with_indexes(new_indexes);
        let s = all_indexes.to_string();
        if s != status.completed_indexes.clone().unwrap_or_default() {
            needs_flush = true;
        }
        status.succeeded = Some(all_indexes.total() as i32);
        status.completed_indexes = (!s.is_empty()).then_some(s);
    }
    if let Some(f) = finished.take() {
        let conds = status.conditions.get_or_insert_with(Vec::new);
        let reason = f.reason.clone().unwrap_or_default();
        let message = f.message.clone().unwrap_or_default();
        match f.type_.as_str() {
            "FailureTarget" => {
                conds.push(f);
                needs_flush = true;
                finished = Some(condition("Failed", "True", &reason, &message, now));
            }
            "SuccessCriteriaMet" => {
                if find(conds, "SuccessCriteriaMet").is_none_or(|c| c.status != "True") {
                    conds.push(f);
                    needs_flush = true;
                }
                finished = Some(condition("Complete", "True", &reason, &message, now));
            }
            _ => finished = Some(f),
        }
    }
    plan.finished = finished;
    plan.uids_with_finalizer = uids_with_finalizer;
    plan.needs_flush = needs_flush;
    plan.status = status;
    plan
}

/// Moves pods whose finalizer is gone from `.status.uncountedTerminatedPods` into the
/// counters. Whether anything changed.
pub fn clean_uncounted(status: &mut JobStatus, uids_with_finalizer: &HashSet<String>) -> bool {
    let mut changed = false;
    let mut unc = status.uncounted_terminated_pods.clone().unwrap_or_default();
    for (list, counter) in [
        (&mut unc.succeeded, &mut status.succeeded),
        (&mut unc.failed, &mut status.failed),
    ] {
        let before = list.as_ref().map_or(0, Vec::len);
        let kept: Vec<String> = list
            .iter()
            .flatten()
            .filter(|u| uids_with_finalizer.contains(*u))
            .cloned()
            .collect();
        if kept.len() != before {
            changed = true;
            *counter = Some(counter.unwrap_or(0) + (before - kept.len()) as i32);
        }
        *list = (!kept.is_empty()).then_some(kept);
    }
    status.uncounted_terminated_pods = Some(unc);
    changed
}

/// After the finalizer removals: count what left, and add the terminal condition when
/// everything is counted and no pod is terminating (upstream's `enactJobFinished`).
/// Returns (status changed, Job finished now).
pub fn finish(
    status: &mut JobStatus,
    still_with_finalizer: &HashSet<String>,
    finished: Option<&JobCondition>,
    reached_max_uncounted: bool,
    terminating: i32,
    now: Timestamp,
) -> (bool, bool) {
    let mut changed = clean_uncounted(status, still_with_finalizer);
    let Some(cond) = finished.filter(|_| !reached_max_uncounted) else {
        return (changed, false);
    };
    let unc = status.uncounted_terminated_pods.as_ref();
    let pending = unc.map_or(0, |u| {
        u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len)
    });
    if pending > 0 || terminating > 0 {
        return (changed, false);
    }
    let conds = status.conditions.get_or_insert_with(Vec::new);
    ensure_condition(
        conds,
        &cond.type_,
        &cond.status,
        cond.reason.as_deref().unwrap_or(""),
        cond.message.as_deref().unwrap_or(""),
        now,
    );
    if cond.type_ == "Complete" {
        status.completion_time = cond.last_transition_time.clone();
    }
    changed = true;
    (changed, true)
}

/// The event for a Job that just finished.
pub fn finished_event(job: &Job, cond: &JobCondition) -> Vec<Event> {
    let mut out = Vec::new();
    if cond.type_ == "Complete" {
        let succeeded = job.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
        if job
            .spec
            .as_ref()
            .and_then(|s| s.completions)
            .is_some_and(|c| succeeded > c)
        {
            out.push(Event {
                kind: EventType::Warning,
                reason: "TooManySucceededPods",
                message: "Too many succeeded pods running after completion count reached".into(),
            });
        }
        out.push(Event {
            kind: EventType::Normal,
            reason: "Completed",
            message: "Job completed".into(),
        });
    } else {
        let reason: &'static str = match cond.reason.as_deref() {
            Some("BackoffLimitExceeded") => "BackoffLimitExceeded",
            Some("DeadlineExceeded") => "DeadlineExceeded",
            Some("PodFailurePolicy") => "PodFailurePolicy",
            Some("MaxFailedIndexesExceeded") => "MaxFailedIndexesExceeded",
            Some("FailedIndexes") => "FailedIndexes",
            _ => "Failed",
        };
        out.push(Event {
            kind: EventType::Warning,
            reason,
            message: cond.message.clone().unwrap_or_default(),
        });
    }
    out
}

/// Writes `status` as the API stores Go's JobStatus: zero counters and empty strings
/// left out (`omitempty`), pointers kept.
pub fn normalize(status: &mut JobStatus) {
    for c in [
        &mut status.active,
        &mut status.succeeded,
        &mut status.failed,
    ] {
        if *c == Some(0) {
            *c = None;
        }
    }
    if status.completed_indexes.as_deref() == Some("") {
        status.completed_indexes = None;
    }
}

fn fail_job_message(job: &Job, all: &[Arc<Pod>]) -> Option<String> {
    let policy = job.spec.as_ref()?.pod_failure_policy.as_ref()?;
    all.iter()
        .filter(|p| pods::is_failed(p, job))
        .find_map(|p| failure_policy::match_pod(Some(policy), p).fail_job)
}

fn past_backoff_limit_on_failure(job: &Job, all: &[Arc<Pod>], limit: i64) -> bool {
    let restart = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.restart_policy.as_deref());
    if restart != Some("OnFailure") {
        return false;
    }
    let restarts: i64 = all
        .iter()
        .filter(|p| matches!(pods::phase(p), "Running" | "Pending"))
        .map(|p| pods::restart_sum(p))
        .sum();
    if limit == 0 {
        restarts > 0
    } else {
        restarts >= limit
    }
}

/// Time left before `activeDeadlineSeconds` (zero: passed); `None` without a deadline,
/// a start time, or while suspended.
fn active_deadline_left(job: &Job, status: &JobStatus, now: Timestamp) -> Option<Duration> {
    let ads = job.spec.as_ref()?.active_deadline_seconds?;
    let start = status.start_time.as_ref()?.0;
    if suspended(job) {
        return None;
    }
    let elapsed = now.as_nanosecond() - start.as_nanosecond();
    let allowed = i128::from(ads) * 1_000_000_000;
    if elapsed >= allowed {
        return Some(Duration::ZERO);
    }
    Some(Duration::from_nanos(
        (allowed - elapsed).min(u64::MAX as i128) as u64,
    ))
}

struct Managed {
    active: i64,
    removed_ready: i64,
    deleted: i64,
    create: Vec<Pod>,
    delete: Vec<Arc<Pod>>,
    requeue_after: Option<Duration>,
}

#[allow(clippy::too_many_arguments)]
fn manage(
    job: &Job,
    active_pods: &[Arc<Pod>],
    all: &[Arc<Pod>],
    backoff_rec: &BackoffRecord,
    now: Timestamp,
    succeeded: i64,
    completions: Option<i64>,
    parallelism: i64,
    terminating: i64,
    succeeded_indexes: &Intervals,
) -> Managed {
    let mut m = Managed {
        active: active_pods.len() as i64,
        removed_ready: 0,
        deleted: 0,
        create: Vec::new(),
        delete: Vec::new(),
        requeue_after: None,
    };
    let c = completions.unwrap_or(0);
    let take_delete = |m: &mut Managed, list: Vec<Arc<Pod>>| {
        m.removed_ready = list.iter().filter(|p| pods::is_ready(p)).count() as i64;
        m.deleted = list.len() as i64;
        m.active -= m.deleted;
        m.delete = list;
    };
    if suspended(job) {
        let list = active_pods_for_removal(job, active_pods, active_pods.len(), c);
        take_delete(&mut m, list);
        return m;
    }
    let want = match completions {
        None if succeeded > 0 => m.active,
        None => parallelism,
        Some(c) => (c - succeeded).min(parallelism).max(0),
    };
    let rm_at_least = (m.active - want).max(0) as usize;
    let mut to_delete = active_pods_for_removal(job, active_pods, rm_at_least, c);
    to_delete.truncate(MAX_POD_CREATE_DELETE_PER_SYNC);
    if !to_delete.is_empty() {
        take_delete(&mut m, to_delete);
        return m;
    }
    let waiting = if pods::only_replace_failed_pods(job) {
        terminating
    } else {
        0
    };
    let mut diff = want - waiting - m.active;
    if diff <= 0 {
        return m;
    }
    let left = backoff::remaining(backoff_rec, now);
    if !left.is_zero() {
        m.requeue_after = Some(left.max(SYNC_JOB_BATCH_PERIOD));
        return m;
    }
    diff = diff.min(MAX_POD_CREATE_DELETE_PER_SYNC as i64);
    if is_indexed(job) {
        let mut taken: BTreeSet<i64> = active_pods
            .iter()
            .filter_map(|p| pods::completion_index(p))
            .collect();
        if pods::only_replace_failed_pods(job) {
            taken.extend(
                all.iter()
                    .filter(|p| pods::is_terminating(p))
                    .filter_map(|p| pods::completion_index(p)),
            );
        }
        for ix in indexes::first_pending(succeeded_indexes, &taken, diff as usize, c) {
            m.create.push(pod_from_template(job, Some(ix)));
        }
    } else {
        for _ in 0..diff {
            m.create.push(pod_from_template(job, None));
        }
    }
    m.active += m.create.len() as i64;
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::pods::fixtures::{counted, indexed, pod, ready};
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    const NOW: &str = "2024-01-01T00:01:00Z";

    fn job(completions: Option<i32>, parallelism: i32) -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                namespace: Some("ns".into()),
                uid: Some("job-uid".into()),
                ..Default::default()
            },
            spec: Some(JobSpec {
                completions,
                parallelism: Some(parallelism),
                backoff_limit: Some(6),
                completion_mode: Some("NonIndexed".into()),
                suspend: Some(false),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("job-name".to_string(), "pi".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "main".into(),
                            ..Default::default()
                        }],
                        restart_policy: Some("Never".into()),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn run_with(job: &Job, pods: Vec<Pod>, now: &str, backoff: &BackoffRecord) -> Plan {
        let pods: Vec<Arc<Pod>> = pods.into_iter().map(Arc::new).collect();
        reconcile(&Input {
            job,
            pods: &pods,
            now: ts(now),
            backoff,
            expectations_satisfied: true,
            expected_rm_finalizers: &HashSet::new(),
        })
    }

    fn run(job: &Job, pods: Vec<Pod>) -> Plan {
        run_with(job, pods, NOW, &BackoffRecord::default())
    }

    /// Applies the plan as if every write succeeded; the Job afterwards.
    fn apply(job: &Job, plan: &Plan) -> (Job, bool) {
        let mut status = plan.status.clone();
        let still: HashSet<String> = plan
            .uids_with_finalizer
            .iter()
            .filter(|u| {
                !plan
                    .remove_finalizers
                    .iter()
                    .any(|p| pods::uid(p) == u.as_str())
            })
            .cloned()
            .collect();
        let (_, done) = finish(
            &mut status,
            &still,
            plan.finished.as_ref(),
            plan.reached_max_uncounted,
            plan.terminating,
            ts(NOW),
        );
        let mut j = job.clone();
        j.status = Some(status);
        (j, done)
    }

    fn cond<'a>(j: &'a Job, t: &str) -> Option<&'a JobCondition> {
        find(j.status.as_ref()?.conditions.as_deref()?, t)
    }

    #[test]
    fn creates_parallelism_pods_named_after_the_job() {
        let j = job(Some(3), 2);
        let plan = run(&j, vec![]);
        assert_eq!(plan.create.len(), 2);
        let p = &plan.create[0];
        assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-"));
        assert_eq!(
            p.metadata.finalizers.as_deref(),
            Some(&[pods::TRACKING_FINALIZER.to_string()][..])
        );
        let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Job", "job-uid")
        );
        assert_eq!(
            (owner.controller, owner.block_owner_deletion),
            (Some(true), Some(true))
        );
        assert_eq!(p.metadata.labels.as_ref().unwrap()["job-name"], "pi");
        assert_eq!(plan.status.active, Some(2));
        assert_eq!(plan.status.start_time.as_ref().map(|t| t.0), Some(ts(NOW)));
        assert!(plan.needs_flush);
        assert!(plan.finished.is_none());
    }

    #[test]
    fn never_more_than_remaining_completions() {
        let mut j = job(Some(3), 2);
        j.status = Some(JobStatus {
            succeeded: Some(2),
            active: Some(0),
            ..Default::default()
        });
        let plan = run(&j, vec![]);
        assert_eq!(plan.create.len(), 1);
    }

    #[test]
    fn succeeded_pods_are_counted_through_uncounted_then_complete() {
        let mut j = job(Some(2), 2);
        j.status = Some(JobStatus {
            active: Some(2),
            ready: Some(0),
            terminating: Some(0),
            start_time: Some(Time(ts("2024-01-01T00:00:00Z"))),
            ..Default::default()
        });
        let pods = vec![pod("a", "Succeeded"), pod("b", "Succeeded")];
        let plan = run(&j, pods.clone());
        assert!(plan.create.is_empty());
        // First write: both pods uncounted, SuccessCriteriaMet recorded.
        let unc = plan.status.uncounted_terminated_pods.as_ref().unwrap();
        assert_eq!(unc.succeeded.as_ref().unwrap().len(), 2);
        let scm = find(
            plan.status.conditions.as_ref().unwrap(),
            "SuccessCriteriaMet",
        )
        .unwrap();
        assert_eq!(scm.reason.as_deref(), Some("CompletionsReached"));
        assert_eq!(plan.remove_finalizers.len(), 2);
        // After the finalizers are gone: counted and Complete.
        let (done, finished) = apply(&j, &plan);
        assert!(finished);
        let s = done.status.as_ref().unwrap();
        assert_eq!(s.succeeded, Some(2));
        assert!(s
            .uncounted_terminated_pods
            .as_ref()
            .unwrap()
            .succeeded
            .is_none());
        let complete = cond(&done, "Complete").unwrap();
        assert_eq!(
            complete.message.as_deref(),
            Some("Reached expected number of succeeded pods")
        );
        assert_eq!(s.completion_time, complete.last_transition_time);
        // Conditions in upstream's order.
        let types: Vec<_> = s
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.type_.as_str())
            .collect();
        assert_eq!(types, ["SuccessCriteriaMet", "Complete"]);
        // A finished Job is left alone.
        assert!(run(&done, vec![counted(pod("a", "Succeeded"))]).skip);
    }

    #[test]
    fn a_pod_whose_finalizer_removal_failed_stays_uncounted() {
        let j = job(Some(1), 1);
        let plan = run(&j, vec![pod("a", "Succeeded")]);
        let mut status = plan.status.clone();
        let (changed, finished) = finish(
            &mut status,
            &plan.uids_with_finalizer, // nothing removed
            plan.finished.as_ref(),
            false,
            0,
            ts(NOW),
        );
        assert!(!changed && !finished);
        assert_eq!(status.succeeded, None);
    }

    #[test]
    fn counted_pods_are_not_counted_twice() {
        let mut j = job(Some(3), 1);
        j.status = Some(JobStatus {
            succeeded: Some(1),
            active: Some(1),
            ..Default::default()
        });
        // The pod's finalizer removal is still in flight: it is not new.
        let pods: Vec<Arc<Pod>> = vec![Arc::new(pod("a", "Succeeded"))];
        let expected: HashSet<String> = ["uid-a".to_string()].into();
        let plan = reconcile(&Input {
            job: &j,
            pods: &pods,
            now: ts(NOW),
            backoff: &BackoffRecord::default(),
            expectations_satisfied: true,
            expected_rm_finalizers: &expected,
        });
        assert!(plan.remove_finalizers.is_empty());
        assert_eq!(plan.create.len(), 1);
    }

    #[test]
    fn failures_past_backoff_limit_fail_the_job() {
        let mut j = job(Some(1), 1);
        j.spec.as_mut().unwrap().backoff_limit = Some(1);
        j.status = Some(JobStatus {
            failed: Some(1),
            ..Default::default()
        });
        let plan = run(&j, vec![pod("a", "Failed"), pod("b", "Running")]);
        // The running pod is stopped, keeping its finalizer.
        assert_eq!(plan.delete.len(), 1);
        assert!(!plan.delete_removes_finalizer);
        let ft = find(plan.status.conditions.as_ref().unwrap(), "FailureTarget").unwrap();
        assert_eq!(ft.reason.as_deref(), Some("BackoffLimitExceeded"));
        assert_eq!(
            ft.message.as_deref(),
            Some("Job has reached the specified backoff limit")
        );
        // Still terminating: Failed waits.
        let (after, finished) = apply(&j, &plan);
        assert!(!finished);
        assert_eq!(after.status.as_ref().unwrap().failed, Some(3));
        // Once nothing terminates, Failed follows from FailureTarget.
        let plan2 = run(
            &after,
            vec![counted(pod("a", "Failed")), counted(pod("b", "Failed"))],
        );
        let (done, finished) = apply(&after, &plan2);
        assert!(finished);
        let failed = cond(&done, "Failed").unwrap();
        assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
        assert_eq!(
            finished_event(&done, failed)[0].reason,
            "BackoffLimitExceeded"
        );
    }

    #[test]
    fn failed_pods_wait_for_the_backoff() {
        let j = job(Some(1), 1);
        let failed = pod("a", "Failed");
        let plan = run(&j, vec![failed.clone()]);
        assert_eq!(plan.backoff.failures_after_last_success, 1);
        // The failure happened at creation time (epoch in the fixture) with 10 s back-off:
        // long past, so the replacement is created now.
        assert_eq!(plan.create.len(), 1);
        let rec = BackoffRecord {
            failures_after_last_success: 2,
            last_failure_time: Some(ts("2024-01-01T00:00:55Z")),
        };
        let plan = run_with(&j, vec![counted(failed)], NOW, &rec);
        assert!(plan.create.is_empty());
        assert_eq!(plan.requeue_after, Some(Duration::from_secs(15)));
    }

    #[test]
    fn active_deadline() {
        let mut j = job(Some(1), 1);
        j.spec.as_mut().unwrap().active_deadline_seconds = Some(30);
        j.status = Some(JobStatus {
            start_time: Some(Time(ts("2024-01-01T00:00:50Z"))),
            active: Some(1),
            ..Default::default()
        });
        let plan = run(&j, vec![pod("a", "Running")]);
        assert_eq!(plan.requeue_after, Some(Duration::from_secs(20)));
        j.status.as_mut().unwrap().start_time = Some(Time(ts("2024-01-01T00:00:00Z")));
        let plan = run(&j, vec![pod("a", "Running")]);
        let ft = find(plan.status.conditions.as_ref().unwrap(), "FailureTarget").unwrap();
        assert_eq!(ft.reason.as_deref(), Some("DeadlineExceeded"));
        assert_eq!(
            ft.message.as_deref(),
            Some("Job was active longer than specified deadline")
        );
        assert_eq!(plan.delete.len(), 1);
    }

    #[test]
    fn pod_failure_policy_fail_job_and_ignore() {
        use k8s_openapi::api::batch::v1::{
            PodFailurePolicy, PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule,
        };
        use k8s_openapi::api::core::v1::PodCondition;
        let mut j = job(Some(1), 1);
        j.spec.as_mut().unwrap().pod_failure_policy = Some(PodFailurePolicy {
            rules: vec![
                PodFailurePolicyRule {
                    action: "Ignore".into(),
                    on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                        type_: "DisruptionTarget".into(),
                        status: "True".into(),
                    }]),
                    on_exit_codes: None,
                },
                PodFailurePolicyRule {
                    action: "FailJob".into(),
                    on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                        type_: "ConfigIssue".into(),
                        status: "True".into(),
                    }]),
                    on_exit_codes: None,
                },
            ],
        });
        let with_cond = |c: &str| {
            let mut p = pod("a", "Failed");
            p.status.as_mut().unwrap().conditions = Some(vec![PodCondition {
                type_: c.into(),
                status: "True".into(),
                ..Default::default()
            }]);
            p
        };
        // Ignored: not counted, replaced.
        let plan = run(&j, vec![with_cond("DisruptionTarget")]);
        assert!(plan
            .status
            .uncounted_terminated_pods
            .as_ref()
            .unwrap()
            .failed
            .is_none());
        assert_eq!(plan.create.len(), 1);
        // FailJob: FailureTarget with the policy's message.
        let plan = run(&j, vec![with_cond("ConfigIssue")]);
        let ft = find(plan.status.conditions.as_ref().unwrap(), "FailureTarget").unwrap();
        assert_eq!(ft.reason.as_deref(), Some("PodFailurePolicy"));
        assert_eq!(
            ft.message.as_deref(),
            Some("Pod ns/a has condition ConfigIssue matching FailJob rule at index 1")
        );
    }

    #[test]
    fn suspend_deletes_pods_and_sets_the_condition() {
        let mut j = job(Some(2), 2);
        j.spec.as_mut().unwrap().suspend = Some(true);
        j.status = Some(JobStatus {
            active: Some(2),
            start_time: Some(Time(ts("2024-01-01T00:00:00Z"))),
            ..Default::default()
        });
        let plan = run(&j, vec![pod("a", "Running"), ready(pod("b", "Running"))]);
        assert_eq!(plan.delete.len(), 2);
        assert!(plan.delete_removes_finalizer);
        assert_eq!(plan.status.active, Some(0));
        assert_eq!(plan.status.terminating, Some(2));
        let s = find(plan.status.conditions.as_ref().unwrap(), "Suspended").unwrap();
        assert_eq!(
            (s.status.as_str(), s.reason.as_deref()),
            ("True", Some("JobSuspended"))
        );
        assert_eq!(plan.events[0].reason, "Suspended");
        // A Job created suspended gets no start time.
        let mut fresh = job(Some(1), 1);
        fresh.spec.as_mut().unwrap().suspend = Some(true);
        let plan = run(&fresh, vec![]);
        assert!(plan.status.start_time.is_none());
        assert!(plan.create.is_empty());
    }

    #[test]
    fn resume_resets_start_time() {
        let mut j = job(Some(1), 1);
        j.status = Some(JobStatus {
            start_time: Some(Time(ts("2024-01-01T00:00:00Z"))),
            conditions: Some(vec![condition(
                "Suspended",
                "True",
                "JobSuspended",
                "Job suspended",
                ts("2024-01-01T00:00:00Z"),
            )]),
            ..Default::default()
        });
        let plan = run(&j, vec![]);
        let s = find(plan.status.conditions.as_ref().unwrap(), "Suspended").unwrap();
        assert_eq!(
            (s.status.as_str(), s.reason.as_deref()),
            ("False", Some("JobResumed"))
        );
        assert_eq!(plan.status.start_time.as_ref().map(|t| t.0), Some(ts(NOW)));
        assert_eq!(plan.events[0].reason, "Resumed");
    }

    #[test]
    fn parallelism_decrease_deletes_the_least_advanced() {
        let j = job(Some(10), 1);
        let mut pending = pod("p", "Pending");
        pending.spec.as_mut().unwrap().node_name = None;
        let plan = run(&j, vec![ready(pod("r", "Running")), pending]);
        assert_eq!(plan.delete.len(), 1);
        assert_eq!(pods::name(&plan.delete[0]), "p");
        assert!(plan.create.is_empty());
    }

    #[test]
    fn no_completions_finishes_on_first_success() {
        let j = job(None, 2);
        let plan = run(&j, vec![]);
        assert_eq!(plan.create.len(), 2);
        let plan = run(&j, vec![pod("a", "Succeeded"), pod("b", "Running")]);
        // One succeeded: the rest may finish, nothing new.
        assert!(plan.create.is_empty() && plan.delete.is_empty());
        assert!(plan.finished.is_none());
        let plan = run(&j, vec![pod("a", "Succeeded"), pod("b", "Succeeded")]);
        assert_eq!(
            plan.finished.as_ref().map(|c| c.type_.as_str()),
            Some("Complete")
        );
    }

    #[test]
    fn indexed_jobs_create_missing_indexes_and_track_completed_ones() {
        let mut j = job(Some(4), 2);
        j.spec.as_mut().unwrap().completion_mode = Some("Indexed".into());
        let plan = run(&j, vec![]);
        assert_eq!(plan.create.len(), 2);
        let p = &plan.create[1];
        assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-1-"));
        assert_eq!(
            p.metadata.annotations.as_ref().unwrap()[pods::COMPLETION_INDEX_ANNOTATION],
            "1"
        );
        assert_eq!(
            p.metadata.labels.as_ref().unwrap()[pods::COMPLETION_INDEX_ANNOTATION],
            "1"
        );
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("pi-1"));
        let env = &spec.containers[0].env.as_ref().unwrap()[0];
        assert_eq!(env.name, "JOB_COMPLETION_INDEX");
        assert_eq!(
            env.value_from
                .as_ref()
                .unwrap()
                .field_ref
                .as_ref()
                .unwrap()
                .field_path,
            "metadata.labels['batch.kubernetes.io/job-completion-index']"
        );

        // Index 0 done, 1 running: next are 2 (parallelism 2 -> one more).
        j.status = Some(JobStatus {
            active: Some(2),
            ..Default::default()
        });
        let plan = run(
            &j,
            vec![
                indexed(pod("a", "Succeeded"), 0),
                indexed(pod("b", "Running"), 1),
            ],
        );
        assert_eq!(plan.create.len(), 1);
        assert_eq!(
            plan.create[0].metadata.generate_name.as_deref(),
            Some("pi-2-")
        );
        assert_eq!(plan.status.completed_indexes.as_deref(), Some("0"));
        assert_eq!(plan.status.succeeded, Some(1));
        assert!(plan
            .status
            .uncounted_terminated_pods
            .as_ref()
            .unwrap()
            .succeeded
            .is_none());
    }

    #[test]
    fn indexed_duplicates_are_removed() {
        let mut j = job(Some(2), 2);
        j.spec.as_mut().unwrap().completion_mode = Some("Indexed".into());
        let plan = run(
            &j,
            vec![
                indexed(pod("a", "Running"), 0),
                indexed(ready(pod("b", "Running")), 0),
                indexed(pod("c", "Running"), 7),
            ],
        );
        let names: HashSet<&str> = plan.delete.iter().map(|p| pods::name(p)).collect();
        assert_eq!(names, ["a", "c"].into());
        assert!(plan.create.is_empty());
    }

    #[test]
    fn long_names_are_cut_for_indexed_pods() {
        let long = "x".repeat(70);
        let g = generate_name_with_index(&long, 12);
        assert_eq!(g.len(), 58);
        assert!(g.ends_with("-12-"));
    }

    #[test]
    fn unsatisfied_expectations_do_not_create() {
        let j = job(Some(3), 2);
        let plan = reconcile(&Input {
            job: &j,
            pods: &[],
            now: ts(NOW),
            backoff: &BackoffRecord::default(),
            expectations_satisfied: false,
            expected_rm_finalizers: &HashSet::new(),
        });
        assert!(plan.create.is_empty());
    }

    #[test]
    fn jobs_managed_by_another_controller_are_left_alone() {
        let mut j = job(Some(1), 1);
        j.spec.as_mut().unwrap().managed_by = Some("example.com/other".into());
        assert!(run(&j, vec![]).skip);
        j.spec.as_mut().unwrap().managed_by = Some(CONTROLLER_NAME.into());
        assert_eq!(run(&j, vec![]).create.len(), 1);
    }

    #[test]
    fn normalize_omits_zero_counters() {
        let mut s = JobStatus {
            active: Some(0),
            succeeded: Some(3),
            ready: Some(0),
            ..Default::default()
        };
        normalize(&mut s);
        assert_eq!((s.active, s.succeeded, s.ready), (None, Some(3), Some(0)));
    }
}
