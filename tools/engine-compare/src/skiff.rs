//! skiff's own engine, `EmbeddedStore` (write-ahead log with group commit + in-memory
//! multi-version index), driven through its async `Store` trait exactly as the apiserver
//! drives it: one tokio task per writer, `update` with the expected mod_revision.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use skiff_store::{EmbeddedStore, Error, Store};
use tokio::sync::Barrier;

use crate::harness::{micros_since, stamped, Clock, PhaseResult, Stop, Tally};

/// Runs one task per writer over its own keys (created first), like
/// [`crate::harness::run_threads`].
pub async fn run_tasks(
    store: Arc<EmbeddedStore>,
    keys: Vec<Vec<String>>,
    value: &Bytes,
    stop: Stop,
) -> Result<PhaseResult> {
    let n = keys.len();
    if n == 0 || keys.iter().any(|k| k.is_empty()) {
        return Err(anyhow!("every writer needs at least one key"));
    }
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for (i, keys) in keys.into_iter().enumerate() {
        let store = store.clone();
        let barrier = barrier.clone();
        let value = value.clone();
        let share = stop.share(i, n);
        tasks.push(tokio::spawn(async move {
            let setup = create_keys(&store, &keys, &value).await;
            barrier.wait().await;
            let mut revs = setup?;
            let clock = Clock::new(stop);
            let mut tally = Tally::default();
            let mut done = 0u64;
            let mut j = 0usize;
            while done < share && !clock.expired() {
                let v = stamped(&value, i, done);
                let began = Instant::now();
                match store.update(&keys[j], v, revs[j]).await {
                    Ok(rev) => {
                        revs[j] = rev;
                        done += 1;
                        if clock.counts(began) {
                            tally.latencies_us.push(micros_since(began));
                        }
                        j = (j + 1) % keys.len();
                    }
                    Err(Error::Conflict { actual, .. }) => {
                        tally.conflicts += 1;
                        revs[j] = actual;
                    }
                    Err(e) => return Err(anyhow!(e).context(format!("update {}", keys[j]))),
                }
            }
            Ok::<Tally, anyhow::Error>(tally)
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut total = Tally::default();
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok(t)) => {
                total.latencies_us.extend(t.latencies_us);
                total.conflicts += t.conflicts;
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(anyhow!("a writer task failed: {e}"));
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    if let Some(e) = first_error {
        return Err(e);
    }
    let seconds = match stop {
        Stop::Timed { measure, .. } => measure.as_secs_f64(),
        Stop::Count(_) => wall,
    };
    Ok(PhaseResult::from_tally(total, seconds))
}

async fn create_keys(store: &EmbeddedStore, keys: &[String], value: &Bytes) -> Result<Vec<i64>> {
    let mut revs = Vec::with_capacity(keys.len());
    for k in keys {
        revs.push(
            store
                .create(k, value.clone())
                .await
                .with_context(|| format!("create {k}"))?,
        );
    }
    Ok(revs)
}

/// Compacts away all history: `compact(current_revision)`.
pub async fn compact_all(store: &EmbeddedStore) -> Result<i64> {
    let rev = store.current_revision().await?;
    store.compact(rev).await?;
    Ok(rev)
}
