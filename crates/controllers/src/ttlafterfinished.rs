//! The TTL-after-finished controller: deletes a Job `ttlSecondsAfterFinished` seconds
//! after its Complete / Failed condition's transition (cascading in the foreground, with a
//! UID precondition, re-checked against a fresh read first), as
//! upstream's ttlafterfinished controller. [`time_left`] is the pure decision.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions, PropagationPolicy};
use skiff_runtime::{Change, ObjectKey, WorkQueue};

use crate::context::Context;

/// Whether the Job is finished and has a TTL (and is not already being deleted).
pub fn needs_cleanup(job: &Job) -> bool {
    job.metadata.deletion_timestamp.is_none()
        && job
            .spec
            .as_ref()
            .and_then(|s| s.ttl_seconds_after_finished)
            .is_some()
        && finish_time(job).is_some()
}

/// When the Job finished: its true Complete or Failed condition's transition time.
pub fn finish_time(job: &Job) -> Option<Timestamp> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")?
        .last_transition_time
        .as_ref()
        .map(|t| t.0)
}

/// How long until the Job expires at `now` (zero: delete it now); `None` when it does not
/// need cleaning up.
pub fn time_left(job: &Job, now: Timestamp) -> Option<Duration> {
    if !needs_cleanup(job) {
        return None;
    }
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let expire = finish_time(job)?.as_nanosecond() + i128::from(ttl) * 1_000_000_000;
    let left = expire - now.as_nanosecond();
    Some(Duration::from_nanos(left.clamp(0, u64::MAX as i128) as u64))
}

/// Runs the controller until the process ends.
pub async fn run(ctx: Arc<Context>) {
    let jobs = ctx.informers.get::<Job>();
    let mut changes = jobs.subscribe();
    jobs.synced().await;
    let queue: WorkQueue<ObjectKey> = WorkQueue::new();
    for j in jobs.list() {
        if needs_cleanup(&j) {
            queue.add(ObjectKey::of(&j.metadata));
        }
    }
    let q = queue.clone();
    let inf = jobs.clone();
    tokio::spawn(async move {
        loop {
            match changes.recv().await {
                Some(Change::Added(j)) | Some(Change::Updated { new: j, .. }) => {
                    if needs_cleanup(&j) {
                        q.add(ObjectKey::of(&j.metadata));
                    }
                }
                Some(Change::Resync) => {
                    for j in inf.list() {
                        if needs_cleanup(&j) {
                            q.add(ObjectKey::of(&j.metadata));
                        }
                    }
                }
                Some(Change::Deleted(_)) => {}
                None => return,
            }
        }
    });
    let client = ctx.client.clone();
    queue
        .run(ctx.config.workers, move |key: ObjectKey| {
            let jobs = jobs.clone();
            let client = client.clone();
            async move {
                let Some(job) = jobs.get(&key) else {
                    return Ok::<_, kube::Error>(None);
                };
                match time_left(&job, Timestamp::now()) {
                    None => return Ok(None),
                    Some(left) if !left.is_zero() => return Ok(Some(left)),
                    Some(_) => {}
                }
                // The TTL may have changed: decide again on a fresh read.
                let api: Api<Job> = Api::namespaced(client, &key.namespace);
                let fresh = match api.get(&key.name).await {
                    Ok(j) => j,
                    Err(kube::Error::Api(e)) if e.code == 404 => return Ok(None),
                    Err(e) => return Err(e),
                };
                match time_left(&fresh, Timestamp::now()) {
                    None => return Ok(None),
                    Some(left) if !left.is_zero() => return Ok(Some(left)),
                    Some(_) => {}
                }
                let dp = DeleteParams {
                    propagation_policy: Some(PropagationPolicy::Foreground),
                    preconditions: Some(Preconditions {
                        uid: fresh.metadata.uid.clone(),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                match api.delete(&key.name, &dp).await {
                    Ok(_) => Ok(None),
                    Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
                    Err(e) => Err(e),
                }
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn job(ttl: Option<i32>, cond: Option<(&str, &str)>) -> Job {
        Job {
            spec: Some(JobSpec {
                ttl_seconds_after_finished: ttl,
                ..Default::default()
            }),
            status: Some(JobStatus {
                conditions: cond.map(|(t, s)| {
                    vec![JobCondition {
                        type_: t.into(),
                        status: s.into(),
                        last_transition_time: Some(Time(ts("2024-01-01T00:00:00Z"))),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn waits_for_the_ttl_after_the_finish() {
        let j = job(Some(100), Some(("Complete", "True")));
        assert_eq!(
            time_left(&j, ts("2024-01-01T00:00:40Z")),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            time_left(&j, ts("2024-01-01T00:02:00Z")),
            Some(Duration::ZERO)
        );
        let failed = job(Some(0), Some(("Failed", "True")));
        assert_eq!(
            time_left(&failed, ts("2024-01-01T00:00:00Z")),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn unfinished_or_without_ttl_is_kept() {
        assert_eq!(
            time_left(
                &job(None, Some(("Complete", "True"))),
                ts("2030-01-01T00:00:00Z")
            ),
            None
        );
        assert_eq!(
            time_left(&job(Some(1), None), ts("2030-01-01T00:00:00Z")),
            None
        );
        assert_eq!(
            time_left(
                &job(Some(1), Some(("SuccessCriteriaMet", "True"))),
                ts("2030-01-01T00:00:00Z")
            ),
            None
        );
        let mut deleting = job(Some(1), Some(("Complete", "True")));
        deleting.metadata.deletion_timestamp = Some(Time(ts("2024-01-01T00:00:00Z")));
        assert_eq!(time_left(&deleting, ts("2030-01-01T00:00:00Z")), None);
    }
}
