//! The pod-failure back-off of a Job: how many pods failed since the last success and
//! when the last one failed, and from that how long replacement pods must wait
//! (10 s doubling per failure up to 10 min, as upstream's `backoff_utils`). Pure.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use super::pods;

/// Back-off of the first failure.
pub const DEFAULT_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// The longest back-off.
pub const MAX_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(600);

/// What the controller remembers per Job between syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackoffRecord {
    pub failures_after_last_success: i32,
    pub last_failure_time: Option<Timestamp>,
}

/// The record after the newly finished pods of one sync.
pub fn next_record(prev: &BackoffRecord, succeeded: &[&Pod], failed: &[&Pod]) -> BackoffRecord {
    let mut ok: Vec<Timestamp> = succeeded.iter().map(|p| pods::finished_time(p)).collect();
    let mut bad: Vec<Timestamp> = failed.iter().map(|p| pods::finished_time(p)).collect();
    ok.sort();
    bad.sort();
    let Some(last_success) = ok.last().copied() else {
        let Some(last_failure) = bad.last().copied() else {
            return prev.clone();
        };
        return BackoffRecord {
            failures_after_last_success: prev.failures_after_last_success + bad.len() as i32,
            last_failure_time: Some(last_failure),
        };
    };
    let mut rec = BackoffRecord::default();
    for t in bad.iter().rev() {
        if *t <= last_success {
            break;
        }
        if rec.last_failure_time.is_none() {
            rec.last_failure_time = Some(*t);
        }
        rec.failures_after_last_success += 1;
    }
    rec
}

/// How long replacement pods must still wait at `now`.
pub fn remaining(rec: &BackoffRecord, now: Timestamp) -> Duration {
    let (n, Some(last)) = (rec.failures_after_last_success, rec.last_failure_time) else {
        return Duration::ZERO;
    };
    if n <= 0 {
        return Duration::ZERO;
    }
    let mut backoff = DEFAULT_POD_FAILURE_BACKOFF;
    for _ in 1..n {
        backoff *= 2;
        if backoff >= MAX_POD_FAILURE_BACKOFF {
            backoff = MAX_POD_FAILURE_BACKOFF;
            break;
        }
    }
    let elapsed_nanos = (now.as_nanosecond() - last.as_nanosecond()).max(0);
    let elapsed = Duration::from_nanos(elapsed_nanos.min(u64::MAX as i128) as u64);
    backoff.saturating_sub(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::pods::fixtures::pod;
    use k8s_openapi::api::core::v1::PodCondition;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn finished_at(name: &str, phase: &str, at: &str) -> Pod {
        let mut p = pod(name, phase);
        p.status.as_mut().unwrap().conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "False".into(),
            last_transition_time: Some(Time(at.parse().unwrap())),
            ..Default::default()
        }]);
        p
    }

    #[test]
    fn failures_accumulate_and_success_resets() {
        let f1 = finished_at("a", "Failed", "2024-01-01T00:00:10Z");
        let f2 = finished_at("b", "Failed", "2024-01-01T00:00:20Z");
        let rec = next_record(&BackoffRecord::default(), &[], &[&f1, &f2]);
        assert_eq!(rec.failures_after_last_success, 2);
        assert_eq!(
            rec.last_failure_time,
            Some("2024-01-01T00:00:20Z".parse().unwrap())
        );
        let ok = finished_at("c", "Succeeded", "2024-01-01T00:00:15Z");
        let rec2 = next_record(&rec, &[&ok], &[&f1, &f2]);
        assert_eq!(rec2.failures_after_last_success, 1);
        let rec3 = next_record(&rec, &[&ok], &[]);
        assert_eq!(rec3, BackoffRecord::default());
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let last: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let rec = |n| BackoffRecord {
            failures_after_last_success: n,
            last_failure_time: Some(last),
        };
        let at = |s: i64| {
            last.checked_add(jiff::SignedDuration::from_secs(s))
                .unwrap()
        };
        assert_eq!(remaining(&rec(1), at(4)), Duration::from_secs(6));
        assert_eq!(remaining(&rec(3), at(0)), Duration::from_secs(40));
        assert_eq!(remaining(&rec(20), at(0)), MAX_POD_FAILURE_BACKOFF);
        assert_eq!(remaining(&rec(1), at(11)), Duration::ZERO);
        assert_eq!(remaining(&BackoffRecord::default(), at(0)), Duration::ZERO);
    }
}
