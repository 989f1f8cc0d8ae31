//! Automatic history retention: keep at least `min_age` of history and at least
//! `min_revisions` revisions (whichever keeps more), compact the rest. The decision is a pure
//! function of samples and the time passed in. The embedded store applies it in its own writer
//! thread (`EmbeddedOptions::retention`); [`run_compactor`] is the thin loop that does the same
//! for any [`Store`] through [`Store::compact`] (the etcd backend, run by the server).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::Store;

/// How much history a store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Keep every revision written in this last stretch of time.
    pub min_age: Duration,
    /// Keep at least this many of the newest revisions.
    pub min_revisions: i64,
    /// How often the compactor looks.
    pub interval: Duration,
}

impl Default for RetentionPolicy {
    /// 5 minutes or 10,000 revisions, whichever keeps more, checked every 10 seconds.
    fn default() -> Self {
        RetentionPolicy {
            min_age: Duration::from_secs(300),
            min_revisions: 10_000,
            interval: Duration::from_secs(10),
        }
    }
}

/// The revisions a store reached at past moments, oldest first.
#[derive(Debug, Default, Clone)]
pub struct RevisionSamples {
    samples: VecDeque<(Instant, i64)>,
}

impl RevisionSamples {
    /// Records that the store was at `revision` at `now`.
    pub fn record(&mut self, now: Instant, revision: i64) {
        self.samples.push_back((now, revision));
    }

    /// The revision to compact to at `now`, if history should shrink: the newest revision
    /// that is both older than `min_age` and more than `min_revisions` behind `current`.
    /// Samples older than the answer are dropped.
    pub fn compaction_target(
        &mut self,
        policy: &RetentionPolicy,
        now: Instant,
        current: i64,
        compacted: i64,
    ) -> Option<i64> {
        let by_count = current - policy.min_revisions;
        let cutoff = now.checked_sub(policy.min_age)?;
        // The revision the store had at the cutoff moment: the newest sample at or before it.
        let idx = self.samples.partition_point(|(t, _)| *t <= cutoff);
        if idx == 0 {
            return None;
        }
        let by_age = self.samples[idx - 1].1;
        self.samples.drain(..idx - 1);
        let target = by_age.min(by_count);
        (target > compacted).then_some(target)
    }
}

/// Compacts `store` forever according to `policy`. Errors are logged and retried next tick.
pub async fn run_compactor(store: Arc<dyn Store>, policy: RetentionPolicy) {
    let mut samples = RevisionSamples::default();
    let mut tick = tokio::time::interval(policy.interval);
    loop {
        tick.tick().await;
        let now = Instant::now();
        let (current, compacted) = match (
            store.current_revision().await,
            store.compacted_revision().await,
        ) {
            (Ok(c), Ok(k)) => (c, k),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "compactor: cannot read revisions");
                continue;
            }
        };
        samples.record(now, current);
        if let Some(target) = samples.compaction_target(&policy, now, current, compacted) {
            match store.compact(target).await {
                Ok(()) => tracing::debug!(revision = target, "compacted history"),
                Err(e) => tracing::warn!(error = %e, revision = target, "compaction failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetentionPolicy {
        RetentionPolicy {
            min_age: Duration::from_secs(300),
            min_revisions: 10_000,
            interval: Duration::from_secs(10),
        }
    }

    #[test]
    fn keeps_five_minutes_when_that_is_more() {
        let t0 = Instant::now();
        let mut s = RevisionSamples::default();
        s.record(t0, 100_000);
        s.record(t0 + Duration::from_secs(200), 150_000);
        s.record(t0 + Duration::from_secs(400), 200_000);
        // At 400 s the newest sample older than 5 minutes is the one at 100 s? None at 100 s:
        // the one at 0 s (100,000) is the revision in force at the cutoff (100 s).
        let now = t0 + Duration::from_secs(400);
        assert_eq!(
            s.compaction_target(&policy(), now, 200_000, 0),
            Some(100_000)
        );
        // Nothing new to compact a moment later.
        assert_eq!(s.compaction_target(&policy(), now, 200_000, 100_000), None);
    }

    #[test]
    fn keeps_ten_thousand_revisions_when_that_is_more() {
        let t0 = Instant::now();
        let mut s = RevisionSamples::default();
        s.record(t0, 10);
        s.record(t0 + Duration::from_secs(600), 12_000);
        let now = t0 + Duration::from_secs(600);
        // By age we could compact to 10; by count only to 2,000: keep more, compact to 10.
        assert_eq!(s.compaction_target(&policy(), now, 12_000, 0), Some(10));
        let mut s = RevisionSamples::default();
        s.record(t0, 5_000);
        assert_eq!(s.compaction_target(&policy(), now, 12_000, 0), Some(2_000));
    }

    #[test]
    fn young_history_is_never_compacted() {
        let t0 = Instant::now();
        let mut s = RevisionSamples::default();
        s.record(t0, 1_000_000);
        let now = t0 + Duration::from_secs(100);
        assert_eq!(s.compaction_target(&policy(), now, 2_000_000, 0), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_compactor_loop_compacts_a_real_store_as_time_passes() {
        use bytes::Bytes;
        let store = Arc::new(crate::MemoryStore::new());
        let policy = RetentionPolicy {
            min_age: Duration::from_secs(60),
            min_revisions: 5,
            interval: Duration::from_secs(10),
        };
        tokio::spawn(run_compactor(store.clone(), policy));
        store.create("/k", Bytes::from_static(b"0")).await.unwrap();
        for i in 1..=100i64 {
            let kv = store.get("/k").await.unwrap().unwrap();
            store
                .update("/k", Bytes::from(i.to_string()), kv.mod_revision)
                .await
                .unwrap();
            // One write per second of (paused, auto-advancing) time.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let compacted = store.compacted_revision().await.unwrap();
        // About 60 s of history is kept: nothing newer than that was compacted, and the
        // compactor did run.
        assert!(compacted > 20, "compacted only to {compacted}");
        assert!(compacted <= 101 - 60 + 10, "compacted too far: {compacted}");
    }
}
