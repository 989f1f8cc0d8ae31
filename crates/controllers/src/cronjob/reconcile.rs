//! The CronJob controller's decision for one CronJob, given its Jobs and the time: which
//! finished Jobs to delete (history limits), how `.status.active` / `lastSuccessfulTime`
//! change, whether a Job is due now (schedule, time zone, `startingDeadlineSeconds`,
//! `concurrencyPolicy`, suspension), the Job to create and when to look again. Mirrors
//! upstream's `syncCronJob` / `cleanupFinishedJobs` and `mostRecentScheduleTime`; pure.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use skiff_runtime::events::EventType;

use super::schedule::{self, Schedule};

/// The annotation carrying a Job's scheduled time (RFC 3339, in the CronJob's zone).
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Padding added to every requeue for the next schedule, as upstream (clock skew).
pub const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);

/// An event to record about the CronJob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    pub reason: &'static str,
    pub message: String,
}

fn event(kind: EventType, reason: &'static str, message: String) -> Event {
    Event {
        kind,
        reason,
        message,
    }
}

/// What the controller sees of one CronJob.
pub struct Input<'a> {
    pub cronjob: &'a CronJob,
    /// Jobs of the namespace whose controller reference names this CronJob.
    pub jobs: &'a [Arc<Job>],
    /// UIDs of `.status.active` entries the API confirmed gone (404).
    pub missing_active: &'a HashSet<String>,
    pub now: Timestamp,
    /// The zone of schedules without `timeZone` (Go's `time.Local`).
    pub local: &'a TimeZone,
}

/// What to do.
#[derive(Debug, Default)]
pub struct Plan {
    /// The status after history cleanup and active-list upkeep (before any creation).
    pub status: CronJobStatus,
    pub status_changed: bool,
    /// Finished Jobs beyond the history limits, oldest first.
    pub delete: Vec<Arc<Job>>,
    /// Active Jobs to delete before creating the next (`Replace`).
    pub replace: Vec<ObjectReference>,
    /// The Job to create and the time it is scheduled for.
    pub create: Option<(Job, Timestamp)>,
    /// When to sync again (after a successful creation, if one is planned).
    pub requeue_after: Option<Duration>,
    pub events: Vec<Event>,
}

/// Whether the Job has a true Complete or Failed condition, and which.
pub fn finished_condition(job: &Job) -> Option<&'static str> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    conds
        .iter()
        .find_map(|c| match (c.type_.as_str(), c.status.as_str()) {
            ("Complete", "True") => Some("Complete"),
            ("Failed", "True") => Some("Failed"),
            _ => None,
        })
}

/// The controller reference of an object, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

fn uid_of(job: &Job) -> &str {
    job.metadata.uid.as_deref().unwrap_or("")
}

fn in_active(status: &CronJobStatus, uid: &str) -> bool {
    status
        .active
        .iter()
        .flatten()
        .any(|r| r.uid.as_deref() == Some(uid))
}

fn remove_from_active(status: &mut CronJobStatus, uid: &str) {
    if let Some(a) = status.active.as_mut() {
        a.retain(|r| r.uid.as_deref() != Some(uid));
    }
}

/// How many start times were missed since the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    None,
    Few,
    Many,
}

/// Upstream's `mostRecentScheduleTime`: the earliest time considered (last schedule time
/// or creation, moved up to the starting deadline if asked), the most recent activation in
/// (earliest, now] if any, and how many were missed. `Err` when the schedule's
/// activations are less than a second apart (an impossible date such as February 31st).
pub fn most_recent_schedule_time(
    cj: &CronJob,
    now: Timestamp,
    sched: &Schedule,
    include_starting_deadline: bool,
) -> Result<(Timestamp, Option<Timestamp>, Missed), String> {
    let mut earliest = cj
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    if let Some(last) = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
    {
        earliest = last.0;
    }
    if include_starting_deadline {
        if let Some(sds) = cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds) {
            let deadline = add_secs(now, -sds);
            if deadline > earliest {
                earliest = deadline;
            }
        }
    }
    let too_close = || "time difference between two schedules is less than 1 second".to_string();
    let t1 = sched.next(earliest).ok_or_else(too_close)?;
    let t2 = sched.next(t1).ok_or_else(too_close)?;
    if now < t1 {
        return Ok((earliest, None, Missed::None));
    }
    if now < t2 {
        return Ok((earliest, Some(t1), Missed::None));
    }
    let between = t2.as_second() - t1.as_second();
    if between < 1 {
        return Err(too_close());
    }
    let elapsed = ((now.as_nanosecond() - t1.as_nanosecond()) / 1_000_000_000) as i64;
    let missed_count = elapsed / between + 1;
    let potential_earliest = add_secs(t1, (missed_count - 2).saturating_mul(between));
    let mut most_recent = None;
    let mut t = sched.next(potential_earliest);
    let mut guard = 0;
    while let Some(x) = t {
        if x > now || guard > 10_000 {
            break;
        }
        most_recent = Some(x);
        t = sched.next(x);
        guard += 1;
    }
    let missed = if missed_count > 100 {
        Missed::Many
    } else if missed_count > 0 {
        Missed::Few
    } else {
        Missed::None
    };
    Ok((earliest, most_recent, missed))
}

fn add_secs(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap_or(if secs < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// Upstream's `nextScheduleTimeDuration`: how long until the next activation after the
/// most recent one (plus [`NEXT_SCHEDULE_DELTA`]); `None` when there is none.
pub fn next_schedule_time_duration(
    cj: &CronJob,
    now: Timestamp,
    sched: &Schedule,
) -> Option<Duration> {
    let most_recent = match most_recent_schedule_time(cj, now, sched, false) {
        Err(_) => now,
        Ok((earliest, None, Missed::None)) => earliest,
        Ok((_, None, _)) => now,
        Ok((_, Some(t), _)) => t,
    };
    let next = sched.next(most_recent)?;
    let nanos = next.as_nanosecond() - now.as_nanosecond() + NEXT_SCHEDULE_DELTA.as_nanos() as i128;
    Some(Duration::from_nanos(nanos.clamp(0, u64::MAX as i128) as u64))
}

/// The schedule as upstream's `formatSchedule` hands it to the parser (the `timeZone`
/// field as a `TZ=` prefix), and a warning when the schedule names a zone itself.
pub fn format_schedule(cj: &CronJob) -> (String, Option<Event>) {
    let spec = cj.spec.as_ref();
    let schedule = spec.map(|s| s.schedule.clone()).unwrap_or_default();
    if schedule.contains("TZ") {
        let warn = event(
            EventType::Warning,
            "UnsupportedSchedule",
            format!(
                "CRON_TZ or TZ used in schedule {} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                go_quote(&schedule)
            ),
        );
        return (schedule, Some(warn));
    }
    if let Some(tz) = spec.and_then(|s| s.time_zone.as_deref()) {
        if schedule::load_location(tz).is_ok() {
            return (format!("TZ={tz} {schedule}"), None);
        }
    }
    (schedule, None)
}

/// Parses the CronJob's schedule (with its time zone).
pub fn parse(cj: &CronJob, local: &TimeZone) -> Result<Schedule, String> {
    schedule::parse_standard(&format_schedule(cj).0, local)
}

fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// The Job name for a scheduled time: `<cronjob>-<minutes since the epoch>`.
pub fn job_name(cj_name: &str, scheduled: Timestamp) -> String {
    format!("{cj_name}-{}", scheduled.as_second().div_euclid(60))
}

/// Upstream's `getJobFromTemplate2`.
pub fn job_from_template(cj: &CronJob, scheduled: Timestamp) -> Job {
    let spec = cj.spec.as_ref();
    let template = spec.map(|s| s.job_template.clone()).unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut annotations = tmeta.annotations.unwrap_or_default();
    let tz = spec
        .and_then(|s| s.time_zone.as_deref())
        .and_then(|t| schedule::load_location(t).ok())
        .unwrap_or(TimeZone::UTC);
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.into(),
        schedule::format_rfc3339(scheduled, &tz),
    );
    let name = cj.metadata.name.clone().unwrap_or_default();
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: tmeta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "CronJob".into(),
                name,
                uid: cj.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// The reference `.status.active` keeps to a Job.
pub fn job_reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// Jobs sorted as upstream's `byJobStartTime`: by start time (unset last), then name.
fn sort_by_start_time(jobs: &mut [Arc<Job>]) {
    jobs.sort_by(|a, b| {
        let sa = a
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0);
        let sb = b
            .status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0);
        let by_time = match (sa, sb) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_time.then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

fn cleanup_finished(cj: &CronJob, jobs: &[Arc<Job>], plan: &mut Plan) {
    let spec = cj.spec.as_ref();
    let ok_limit = spec.and_then(|s| s.successful_jobs_history_limit);
    let failed_limit = spec.and_then(|s| s.failed_jobs_history_limit);
    let mut succeeded: Vec<Arc<Job>> = Vec::new();
    let mut failed: Vec<Arc<Job>> = Vec::new();
    for j in jobs {
        match finished_condition(j) {
            Some("Complete") => succeeded.push(j.clone()),
            Some(_) => failed.push(j.clone()),
            None => {}
        }
    }
    for (mut list, limit) in [(succeeded, ok_limit), (failed, failed_limit)] {
        let Some(limit) = limit else { continue };
        let excess = list.len() as i64 - i64::from(limit);
        if excess <= 0 {
            continue;
        }
        sort_by_start_time(&mut list);
        for j in list.into_iter().take(excess as usize) {
            remove_from_active(&mut plan.status, uid_of(&j));
            plan.status_changed = true;
            plan.delete.push(j);
        }
    }
}

/// Decides what to do for one CronJob.
pub fn reconcile(input: &Input) -> Plan {
    let cj = input.cronjob;
    let now = input.now;
    let mut plan = Plan {
        status: cj.status.clone().unwrap_or_default(),
        ..Default::default()
    };
    cleanup_finished(cj, input.jobs, &mut plan);

    let mut children = HashSet::new();
    for j in input.jobs {
        let uid = uid_of(j);
        children.insert(uid.to_string());
        let found = in_active(&plan.status, uid);
        let finished = finished_condition(j);
        let name = j.metadata.name.as_deref().unwrap_or("");
        match finished {
            None if !found => plan.events.push(event(
                EventType::Warning,
                "UnexpectedJob",
                format!("Saw a job that the controller did not create or forgot: {name}"),
            )),
            None => {}
            Some(cond) => {
                if found {
                    remove_from_active(&mut plan.status, uid);
                    plan.events.push(event(
                        EventType::Normal,
                        "SawCompletedJob",
                        format!("Saw completed job: {name}, condition: {cond}"),
                    ));
                    plan.status_changed = true;
                }
                if cond == "Complete" {
                    let done = j.status.as_ref().and_then(|s| s.completion_time.clone());
                    match (&plan.status.last_successful_time, &done) {
                        (None, _) => {
                            plan.status.last_successful_time = done;
                            plan.status_changed = true;
                        }
                        (Some(last), Some(d)) if d.0 > last.0 => {
                            plan.status.last_successful_time = done;
                            plan.status_changed = true;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let gone: Vec<ObjectReference> = plan
        .status
        .active
        .iter()
        .flatten()
        .filter(|r| {
            let uid = r.uid.as_deref().unwrap_or("");
            !children.contains(uid) && input.missing_active.contains(uid)
        })
        .cloned()
        .collect();
    for r in gone {
        plan.events.push(event(
            EventType::Normal,
            "MissingJob",
            format!(
                "Active job went missing: {}",
                r.name.as_deref().unwrap_or("")
            ),
        ));
        remove_from_active(&mut plan.status, r.uid.as_deref().unwrap_or(""));
        plan.status_changed = true;
    }

    if cj.metadata.deletion_timestamp.is_some() {
        return plan;
    }
    let spec = cj.spec.clone().unwrap_or_default();
    if let Some(tz) = spec.time_zone.as_deref() {
        if let Err(e) = schedule::load_location(tz) {
            plan.events.push(event(
                EventType::Warning,
                "UnknownTimeZone",
                format!("invalid timeZone: {}: {e}", go_quote(tz)),
            ));
            return plan;
        }
    }
    if spec.suspend == Some(true) {
        return plan;
    }
    let (formatted, warning) = format_schedule(cj);
    plan.events.extend(warning);
    let sched = match schedule::parse_standard(&formatted, input.local) {
        Ok(s) => s,
        Err(e) => {
            plan.events.push(event(
                EventType::Warning,
                "UnparseableSchedule",
                format!("unparseable schedule: {} : {e}", go_quote(&spec.schedule)),
            ));
            return plan;
        }
    };
    // The CronJob as it stands now (for the status-dependent schedule computations).
    let mut current = cj.clone();
    current.status = Some(plan.status.clone());
    let scheduled = match most_recent_schedule_time(&current, now, &sched, true) {
        Err(e) => {
            plan.events.push(event(
                EventType::Warning,
                "InvalidSchedule",
                format!("invalid schedule: {} : {e}", spec.schedule),
            ));
            return plan;
        }
        Ok((_, Some(t), missed)) if t <= now => {
            if missed == Missed::Many {
                plan.events.push(event(
                    EventType::Warning,
                    "TooManyMissedTimes",
                    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew".into(),
                ));
            }
            t
        }
        Ok(_) => {
            plan.requeue_after = next_schedule_time_duration(&current, now, &sched);
            return plan;
        }
    };
    if let Some(sds) = spec.starting_deadline_seconds {
        if add_secs(scheduled, sds) < now {
            plan.events.push(event(
                EventType::Warning,
                "MissSchedule",
                format!(
                    "Missed scheduled time to start a job: {}",
                    schedule::format_rfc1123z_utc(scheduled)
                ),
            ));
            plan.requeue_after = next_schedule_time_duration(&current, now, &sched);
            return plan;
        }
    }
    let name = job_name(cj.metadata.name.as_deref().unwrap_or(""), scheduled);
    let active_by_name =
        plan.status.active.iter().flatten().any(|r| {
            r.name.as_deref() == Some(name.as_str()) && r.namespace == cj.metadata.namespace
        });
    let already = plan
        .status
        .last_schedule_time
        .as_ref()
        .is_some_and(|t| t.0 == scheduled);
    if active_by_name || already {
        plan.requeue_after = next_schedule_time_duration(&current, now, &sched);
        return plan;
    }
    let active = plan.status.active.as_ref().is_some_and(|a| !a.is_empty());
    let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
    if policy == "Forbid" && active {
        plan.events.push(event(
            EventType::Normal,
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid"
                .into(),
        ));
        plan.requeue_after = next_schedule_time_duration(&current, now, &sched);
        return plan;
    }
    if policy == "Replace" {
        plan.replace = plan.status.active.clone().unwrap_or_default();
    }
    plan.create = Some((job_from_template(cj, scheduled), scheduled));
    // Once created, the next look is for the activation after this one.
    let mut after = current;
    if let Some(s) = after.status.as_mut() {
        s.last_schedule_time = Some(Time(scheduled));
    }
    plan.requeue_after = next_schedule_time_duration(&after, now, &sched);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{
        CronJobSpec, JobCondition, JobSpec, JobStatus, JobTemplateSpec,
    };

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn cronjob(schedule: &str, created: &str) -> CronJob {
        CronJob {
            metadata: ObjectMeta {
                name: Some("cj".into()),
                namespace: Some("ns".into()),
                uid: Some("cj-uid".into()),
                creation_timestamp: Some(Time(ts(created))),
                ..Default::default()
            },
            spec: Some(CronJobSpec {
                schedule: schedule.into(),
                concurrency_policy: Some("Allow".into()),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(1),
                suspend: Some(false),
                job_template: JobTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("app".to_string(), "x".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: Some(JobSpec::default()),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn job(name: &str, uid: &str, cond: Option<&str>, start: &str) -> Arc<Job> {
        let conditions = cond.map(|c| {
            vec![JobCondition {
                type_: c.into(),
                status: "True".into(),
                ..Default::default()
            }]
        });
        Arc::new(Job {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(uid.into()),
                ..Default::default()
            },
            spec: None,
            status: Some(JobStatus {
                conditions,
                start_time: Some(Time(ts(start))),
                completion_time: cond.filter(|c| *c == "Complete").map(|_| Time(ts(start))),
                ..Default::default()
            }),
        })
    }

    fn run(cj: &CronJob, jobs: &[Arc<Job>], now: &str) -> Plan {
        reconcile(&Input {
            cronjob: cj,
            jobs,
            missing_active: &HashSet::new(),
            now: ts(now),
            local: &TimeZone::UTC,
        })
    }

    fn active(refs: &[(&str, &str)]) -> Option<Vec<ObjectReference>> {
        Some(
            refs.iter()
                .map(|(n, u)| ObjectReference {
                    name: Some(n.to_string()),
                    namespace: Some("ns".into()),
                    uid: Some(u.to_string()),
                    ..Default::default()
                })
                .collect(),
        )
    }

    #[test]
    fn nothing_due_requeues_at_the_next_minute() {
        let cj = cronjob("* * * * *", "2024-01-01T10:00:30Z");
        let plan = run(&cj, &[], "2024-01-01T10:00:40Z");
        assert!(plan.create.is_none());
        assert_eq!(plan.requeue_after, Some(Duration::from_millis(20_100)));
    }

    #[test]
    fn creates_the_due_job_with_name_annotation_and_owner() {
        let cj = cronjob("*/5 * * * *", "2024-01-01T10:01:00Z");
        let plan = run(&cj, &[], "2024-01-01T10:05:02Z");
        let (job, at) = plan.create.expect("job due");
        assert_eq!(at, ts("2024-01-01T10:05:00Z"));
        let minutes = ts("2024-01-01T10:05:00Z").as_second() / 60;
        assert_eq!(
            job.metadata.name.as_deref(),
            Some(format!("cj-{minutes}").as_str())
        );
        let ann = job.metadata.annotations.expect("annotations");
        assert_eq!(ann[SCHEDULED_TIMESTAMP_ANNOTATION], "2024-01-01T10:05:00Z");
        assert_eq!(job.metadata.labels.expect("labels")["app"], "x");
        let owner = &job.metadata.owner_references.expect("owner")[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("CronJob", "cj-uid")
        );
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.block_owner_deletion, Some(true));
        // Next look: 10:10 (+100 ms).
        assert_eq!(plan.requeue_after, Some(Duration::from_millis(298_100)));
    }

    #[test]
    fn scheduled_annotation_uses_the_time_zone() {
        let mut cj = cronjob("0 9 * * *", "2024-01-01T00:00:00Z");
        cj.spec.as_mut().unwrap().time_zone = Some("Asia/Tokyo".into());
        let plan = run(&cj, &[], "2024-01-02T00:00:10Z");
        let (job, at) = plan.create.expect("due at 09:00 Tokyo");
        assert_eq!(at, ts("2024-01-02T00:00:00Z"));
        assert_eq!(
            job.metadata.annotations.unwrap()[SCHEDULED_TIMESTAMP_ANNOTATION],
            "2024-01-02T09:00:00+09:00"
        );
    }

    #[test]
    fn already_scheduled_time_is_not_created_twice() {
        let mut cj = cronjob("*/5 * * * *", "2024-01-01T10:01:00Z");
        cj.status = Some(CronJobStatus {
            last_schedule_time: Some(Time(ts("2024-01-01T10:05:00Z"))),
            ..Default::default()
        });
        let plan = run(&cj, &[], "2024-01-01T10:06:00Z");
        assert!(plan.create.is_none());
        assert_eq!(plan.requeue_after, Some(Duration::from_millis(240_100)));
    }

    #[test]
    fn forbid_skips_while_a_run_is_active() {
        let mut cj = cronjob("* * * * *", "2024-01-01T10:00:00Z");
        cj.spec.as_mut().unwrap().concurrency_policy = Some("Forbid".into());
        cj.status = Some(CronJobStatus {
            active: active(&[("cj-1", "u1")]),
            last_schedule_time: Some(Time(ts("2024-01-01T10:01:00Z"))),
            ..Default::default()
        });
        let running = job("cj-1", "u1", None, "2024-01-01T10:01:01Z");
        let plan = run(&cj, &[running], "2024-01-01T10:02:01Z");
        assert!(plan.create.is_none());
        assert_eq!(plan.events[0].reason, "JobAlreadyActive");
        assert!(plan.requeue_after.is_some());
    }

    #[test]
    fn replace_deletes_the_active_run_then_creates() {
        let mut cj = cronjob("* * * * *", "2024-01-01T10:00:00Z");
        cj.spec.as_mut().unwrap().concurrency_policy = Some("Replace".into());
        cj.status = Some(CronJobStatus {
            active: active(&[("cj-1", "u1")]),
            last_schedule_time: Some(Time(ts("2024-01-01T10:01:00Z"))),
            ..Default::default()
        });
        let running = job("cj-1", "u1", None, "2024-01-01T10:01:01Z");
        let plan = run(&cj, &[running], "2024-01-01T10:02:01Z");
        assert_eq!(plan.replace.len(), 1);
        assert!(plan.create.is_some());
    }

    #[test]
    fn allow_runs_concurrently() {
        let mut cj = cronjob("* * * * *", "2024-01-01T10:00:00Z");
        cj.status = Some(CronJobStatus {
            active: active(&[("cj-1", "u1")]),
            last_schedule_time: Some(Time(ts("2024-01-01T10:01:00Z"))),
            ..Default::default()
        });
        let running = job("cj-1", "u1", None, "2024-01-01T10:01:01Z");
        let plan = run(&cj, &[running], "2024-01-01T10:02:01Z");
        assert!(plan.replace.is_empty());
        assert!(plan.create.is_some());
    }

    #[test]
    fn starting_deadline_misses_late_starts() {
        let mut cj = cronjob("0 * * * *", "2024-01-01T09:30:00Z");
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(60);
        // 10:00 was due; at 10:00:30 it is still within the deadline.
        assert!(run(&cj, &[], "2024-01-01T10:00:30Z").create.is_some());
        // At 10:05 the 10:00 start lies before now - 60 s: nothing is due at all.
        let plan = run(&cj, &[], "2024-01-01T10:05:00Z");
        assert!(plan.create.is_none());
        assert!(plan.requeue_after.is_some());
        // A deadline of 240 s: still startable at 10:03:59, no longer at 10:04:01.
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(240);
        assert!(run(&cj, &[], "2024-01-01T10:03:59Z").create.is_some());
        assert!(run(&cj, &[], "2024-01-01T10:04:01Z").create.is_none());
    }

    #[test]
    fn miss_schedule_event_for_a_start_past_its_deadline() {
        // Deadline longer than the lookback: the start is found but is too late.
        let mut cj = cronjob("0 0 1 1 *", "2023-12-31T00:00:00Z");
        cj.spec.as_mut().unwrap().starting_deadline_seconds = Some(10);
        cj.status = Some(CronJobStatus::default());
        // mostRecentScheduleTime with the deadline moves earliest to now-10s, so nothing
        // is found; upstream only emits MissSchedule when the deadline check itself fails.
        let plan = run(&cj, &[], "2024-01-01T00:00:11Z");
        assert!(plan.create.is_none());
        assert!(plan.events.iter().all(|e| e.reason != "MissSchedule"));
    }

    #[test]
    fn too_many_missed_starts_warn_but_still_run_the_latest() {
        let cj = cronjob("* * * * *", "2024-01-01T00:00:00Z");
        let plan = run(&cj, &[], "2024-01-01T05:00:30Z");
        assert!(plan.events.iter().any(|e| e.reason == "TooManyMissedTimes"));
        let (_, at) = plan.create.expect("latest start");
        assert_eq!(at, ts("2024-01-01T05:00:00Z"));
    }

    #[test]
    fn suspended_does_nothing() {
        let mut cj = cronjob("* * * * *", "2024-01-01T00:00:00Z");
        cj.spec.as_mut().unwrap().suspend = Some(true);
        let plan = run(&cj, &[], "2024-01-01T00:05:00Z");
        assert!(plan.create.is_none());
        assert!(plan.requeue_after.is_none());
    }

    #[test]
    fn completed_jobs_leave_active_and_set_last_successful_time() {
        let mut cj = cronjob("0 0 * * *", "2024-01-01T00:00:00Z");
        cj.status = Some(CronJobStatus {
            active: active(&[("cj-1", "u1")]),
            last_schedule_time: Some(Time(ts("2024-01-02T00:00:00Z"))),
            ..Default::default()
        });
        let done = job("cj-1", "u1", Some("Complete"), "2024-01-02T00:00:05Z");
        let plan = run(&cj, &[done], "2024-01-02T00:01:00Z");
        assert!(plan.status_changed);
        assert_eq!(plan.status.active.as_deref(), Some(&[][..]));
        assert_eq!(
            plan.status.last_successful_time.map(|t| t.0),
            Some(ts("2024-01-02T00:00:05Z"))
        );
        assert_eq!(plan.events[0].reason, "SawCompletedJob");
        assert_eq!(
            plan.events[0].message,
            "Saw completed job: cj-1, condition: Complete"
        );
    }

    #[test]
    fn history_limits_delete_the_oldest() {
        let cj = cronjob("0 0 * * *", "2024-01-01T00:00:00Z");
        let jobs: Vec<Arc<Job>> = (1..=5)
            .map(|i| {
                job(
                    &format!("ok-{i}"),
                    &format!("ok{i}"),
                    Some("Complete"),
                    &format!("2024-01-0{i}T00:00:00Z"),
                )
            })
            .chain((1..=3).map(|i| {
                job(
                    &format!("bad-{i}"),
                    &format!("bad{i}"),
                    Some("Failed"),
                    &format!("2024-01-0{i}T01:00:00Z"),
                )
            }))
            .collect();
        let plan = run(&cj, &jobs, "2024-01-06T00:00:10Z");
        let names: Vec<_> = plan
            .delete
            .iter()
            .map(|j| j.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["ok-1", "ok-2", "bad-1", "bad-2"]);
    }

    #[test]
    fn unexpected_and_missing_jobs() {
        let mut cj = cronjob("0 0 * * *", "2024-01-01T00:00:00Z");
        cj.status = Some(CronJobStatus {
            active: active(&[("gone", "g1")]),
            ..Default::default()
        });
        let manual = job("cj-manual", "m1", None, "2024-01-01T00:00:05Z");
        let missing: HashSet<String> = ["g1".to_string()].into();
        let plan = reconcile(&Input {
            cronjob: &cj,
            jobs: &[manual],
            missing_active: &missing,
            now: ts("2024-01-01T00:00:10Z"),
            local: &TimeZone::UTC,
        });
        let reasons: Vec<_> = plan.events.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, ["UnexpectedJob", "MissingJob"]);
        assert_eq!(plan.status.active.as_deref(), Some(&[][..]));
    }

    #[test]
    fn bad_schedules_and_zones_are_reported_not_retried() {
        let cj = cronjob("61 * * * *", "2024-01-01T00:00:00Z");
        let plan = run(&cj, &[], "2024-01-01T00:05:00Z");
        assert_eq!(plan.events[0].reason, "UnparseableSchedule");
        assert_eq!(
            plan.events[0].message,
            "unparseable schedule: \"61 * * * *\" : end of range (61) above maximum (59): 61"
        );
        assert!(plan.requeue_after.is_none());

        let mut cj = cronjob("* * * * *", "2024-01-01T00:00:00Z");
        cj.spec.as_mut().unwrap().time_zone = Some("Mars/Base".into());
        let plan = run(&cj, &[], "2024-01-01T00:05:00Z");
        assert_eq!(plan.events[0].reason, "UnknownTimeZone");
        assert_eq!(
            plan.events[0].message,
            "invalid timeZone: \"Mars/Base\": unknown time zone Mars/Base"
        );

        let cj = cronjob("0 0 31 2 *", "2024-01-01T00:00:00Z");
        let plan = run(&cj, &[], "2024-01-01T00:05:00Z");
        assert_eq!(plan.events[0].reason, "InvalidSchedule");

        let cj = cronjob("TZ=UTC * * * * *", "2024-01-01T00:00:00Z");
        let plan = run(&cj, &[], "2024-01-01T00:05:00Z");
        assert_eq!(plan.events[0].reason, "UnsupportedSchedule");
        assert!(plan.create.is_some());
    }

    #[test]
    fn every_descriptor_counts_from_creation() {
        let cj = cronjob("@every 90s", "2024-01-01T00:00:10Z");
        let plan = run(&cj, &[], "2024-01-01T00:01:45Z");
        let (_, at) = plan.create.expect("due");
        assert_eq!(at, ts("2024-01-01T00:01:40Z"));
        assert_eq!(plan.requeue_after, Some(Duration::from_millis(85_100)));
    }

    #[test]
    fn most_recent_of_many_missed() {
        let cj = cronjob("30 6-16/4 * * 1-5", "2024-01-01T00:00:00Z");
        let sched = parse(&cj, &TimeZone::UTC).unwrap();
        // Friday 2024-01-05 18:00: the last start was 14:30 that day.
        let (_, t, missed) =
            most_recent_schedule_time(&cj, ts("2024-01-05T18:00:00Z"), &sched, false).unwrap();
        assert_eq!(t, Some(ts("2024-01-05T14:30:00Z")));
        assert_eq!(missed, Missed::Few);
    }
}
