//! `skiff bench store`: measures the cluster store on this machine, in one run.
//!
//! Figures, all with 1 KiB values and every write durable (acknowledged only once on disk):
//!
//! - writes/s with 1 and with 64 concurrent writers, for the embedded backend and for a real
//!   etcd that the command starts itself (skipped with a note when `etcd` is not installed).
//!   Each writer is a task that creates its own key, then keeps updating it with the
//!   revision its previous write returned, so writers never conflict. Acknowledged writes are
//!   counted over a fixed wall time (`--seconds`) after a warm-up;
//! - watch delivery latency p50/p99 on both backends: one watcher on a prefix, writes of new
//!   keys at a steady rate, latency from just before each write is issued to the watcher
//!   receiving its event (the key carries the write's sequence number);
//! - churn: `--churn-updates` updates spread over 1,000 keys by 64 writers on a fresh
//!   embedded store, then a compaction to the current revision, and the size of the data
//!   directory against the live data.
//!
//! The statistics, the verdicts against the goals and the output (JSON object or table) are
//! pure functions of the measured figures, tested below; the rest is the glue that runs the
//! phases. Progress goes to stderr, the result to stdout.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};
use skiff_store::{EmbeddedOptions, EmbeddedStore, EtcdProcess, EtcdStore, Store};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

/// Size of every value written.
const VALUE_BYTES: usize = 1024;

/// Writer counts of the throughput phases.
const FEW_WRITERS: usize = 1;
const MANY_WRITERS: usize = 64;

/// Keys and writers of the churn phase.
const CHURN_KEYS: usize = 1000;
const CHURN_WRITERS: usize = 64;

/// Goals: embedded writes/s at least this many times etcd's, at 64 and at 1 writer.
const GOAL_VS_ETCD_64: f64 = 2.0;
const GOAL_VS_ETCD_1: f64 = 1.0;
/// Goal: after churn and compaction, disk bytes at most this many times the live bytes.
const GOAL_CHURN_DISK_RATIO: f64 = 4.0;

/// How long the watcher may lag behind the last acknowledged write before the missing
/// events count as lost.
const WATCH_GRACE: Duration = Duration::from_secs(30);

/// How often the churn phase reports progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Arguments of `skiff bench store`.
#[derive(clap::Args, Debug)]
pub struct BenchStoreArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Measured wall time of each write phase, in seconds (after the warm-up).
    #[arg(long, default_value_t = 5.0, value_parser = parse_positive_seconds)]
    pub seconds: f64,
    /// Warm-up before each write phase's measurement, in seconds.
    #[arg(long, default_value_t = 1.0, value_parser = parse_seconds)]
    pub warmup_seconds: f64,
    /// Writes whose watch delivery latency is measured, per backend.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub watch_writes: u64,
    /// Steady rate of those writes, per second.
    #[arg(long, default_value_t = 500.0, value_parser = parse_rate)]
    pub watch_rate: f64,
    /// Updates of the churn phase, spread over 1,000 keys (0 skips the phase).
    #[arg(long, default_value_t = 1_000_000)]
    pub churn_updates: u64,
    /// Do not start etcd; its figures are reported as null.
    #[arg(long)]
    pub skip_etcd: bool,
}

pub async fn run(args: BenchStoreArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = Plan {
        measure: Duration::try_from_secs_f64(args.seconds).context("--seconds")?,
        warmup: Duration::try_from_secs_f64(args.warmup_seconds).context("--warmup-seconds")?,
        watch_writes: usize::try_from(args.watch_writes).context("--watch-writes")?,
        watch_period: Duration::try_from_secs_f64(1.0 / args.watch_rate).context("--watch-rate")?,
    };
    let machine_cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    progress("embedded store:");
    let embedded_dir = tempfile::Builder::new()
        .prefix("skiff-bench-store-")
        .tempdir()
        .context("cannot create a temporary directory for the embedded store")?;
    let embedded = {
        let store = EmbeddedStore::open_with(embedded_dir.path(), EmbeddedOptions::default())
            .with_context(|| {
                format!(
                    "cannot open an embedded store in {}",
                    embedded_dir.path().display()
                )
            })?;
        let store: Arc<dyn Store> = Arc::new(store);
        measure_backend(store, &plan)
            .await
            .context("embedded store")?
    };
    drop(embedded_dir);

    let (etcd, etcd_note) = if args.skip_etcd {
        (None, Some("etcd skipped (--skip-etcd)".to_string()))
    } else if find_on_path("etcd").is_none() {
        let note = "etcd is not installed (no `etcd` on PATH): etcd figures skipped; \
                    install the Debian package etcd-server to compare";
        progress(&format!("note: {note}"));
        (None, Some(note.to_string()))
    } else {
        progress("etcd (started on loopback by this command):");
        match measure_etcd(&plan).await {
            Ok(figures) => (Some(figures), None),
            Err(e) => {
                let note = format!("etcd figures skipped: {e:#}");
                progress(&format!("note: {note}"));
                (None, Some(note))
            }
        }
    };

    let churn = if args.churn_updates == 0 {
        None
    } else {
        progress(&format!(
            "churn: {} updates to {CHURN_KEYS} keys by {CHURN_WRITERS} writers on a fresh \
             embedded store",
            args.churn_updates
        ));
        Some(measure_churn(args.churn_updates).await.context("churn")?)
    };

    let report = Report {
        machine_cpus,
        seconds_per_phase: args.seconds,
        warmup_seconds: args.warmup_seconds,
        embedded,
        etcd,
        etcd_note,
        churn,
    };
    progress(&format!("done in {:.1} s", started.elapsed().as_secs_f64()));
    if args.json {
        let text = serde_json::to_string_pretty(&report_json(&report))
            .context("cannot encode the result")?;
        println!("{text}");
    } else {
        print!("{}", render_table(&report));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Glue: the phases.

/// Timings shared by the phases.
pub(crate) struct Plan {
    pub(crate) measure: Duration,
    pub(crate) warmup: Duration,
    pub(crate) watch_writes: usize,
    pub(crate) watch_period: Duration,
}

/// Starts etcd, measures it, and stops it (dropping the process kills it).
async fn measure_etcd(plan: &Plan) -> anyhow::Result<BackendFigures> {
    let process = EtcdProcess::start().await.context("cannot start etcd")?;
    let store = EtcdStore::connect(&[process.endpoint()])
        .await
        .with_context(|| format!("cannot connect to etcd at {}", process.endpoint()))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let figures = measure_backend(store, plan).await;
    drop(process);
    figures
}

/// The throughput phases and the watch phase on one store.
async fn measure_backend(store: Arc<dyn Store>, plan: &Plan) -> anyhow::Result<BackendFigures> {
    let mut writes = Vec::new();
    for writers in [FEW_WRITERS, MANY_WRITERS] {
        let rate = measure_writes(
            store.clone(),
            &format!("/bench/w{writers}"),
            writers,
            VALUE_BYTES,
            plan,
        )
        .await
        .with_context(|| format!("write phase with {writers} writers"))?;
        progress(&format!(
            "  {writers:>2} writer(s): {rate:>10.1} durable writes/s"
        ));
        writes.push(rate);
    }
    let watch = measure_watch(store, "/bench-watch/", plan)
        .await
        .context("watch phase")?;
    progress(&format!(
        "  watch latency: p50 {} ms, p99 {} ms over {} events ({} lost)",
        fmt_opt(watch.p50_ms, 3),
        fmt_opt(watch.p99_ms, 3),
        watch.samples,
        watch.lost
    ));
    Ok(BackendFigures {
        writes_per_s_1: writes[0],
        writes_per_s_64: writes[1],
        watch,
    })
}

/// `writers` tasks each create one key under `prefix` and keep updating it with values of
/// `value_bytes` bytes; returns the acknowledged writes per second over the measured window.
pub(crate) async fn measure_writes(
    store: Arc<dyn Store>,
    prefix: &str,
    writers: usize,
    value_bytes: usize,
    plan: &Plan,
) -> anyhow::Result<f64> {
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    for w in 0..writers {
        let (store, acked, stop) = (store.clone(), acked.clone(), stop.clone());
        let key = format!("{prefix}/{w:03}");
        let value = sized_value(w as u64, value_bytes);
        tasks.spawn(async move {
            let mut revision = store
                .create(&key, value.clone())
                .await
                .with_context(|| format!("cannot create {key}"))?;
            acked.fetch_add(1, Ordering::SeqCst);
            while !stop.load(Ordering::SeqCst) {
                revision = store
                    .update(&key, value.clone(), revision)
                    .await
                    .with_context(|| format!("cannot update {key} at revision {revision}"))?;
                acked.fetch_add(1, Ordering::SeqCst);
            }
            anyhow::Ok(())
        });
    }
    rate_over_window(&acked, &stop, tasks, plan, "writer").await
}

/// The rate at which `acked` grows over the plan's measured window (after its warm-up) while
/// `tasks` (named `who` in errors) run; then sets `stop` and waits for every task. A task
/// that ends before the window does (failing or not) ends the phase at once with an error.
pub(crate) async fn rate_over_window(
    acked: &AtomicU64,
    stop: &AtomicBool,
    mut tasks: JoinSet<anyhow::Result<()>>,
    plan: &Plan,
    who: &str,
) -> anyhow::Result<f64> {
    let window = async {
        tokio::time::sleep(plan.warmup).await;
        let (c0, t0) = (acked.load(Ordering::SeqCst), Instant::now());
        tokio::time::sleep(plan.measure).await;
        let (c1, t1) = (acked.load(Ordering::SeqCst), Instant::now());
        rate(c1.saturating_sub(c0), t1 - t0)
    };
    let measured = tokio::select! {
        r = window => Ok(r),
        Some(joined) = tasks.join_next() => Err(match joined {
            Ok(Err(e)) => e,
            Ok(Ok(())) => anyhow!("a {who} stopped before the end of the phase"),
            Err(e) => anyhow!("a {who} task failed: {e}"),
        }),
    };
    stop.store(true, Ordering::SeqCst);
    let measured = measured?;
    while let Some(joined) = tasks.join_next().await {
        joined.with_context(|| format!("a {who} task failed"))??;
    }
    Ok(measured)
}

/// One watcher on `prefix`; writes of new keys (carrying their sequence number) at the
/// plan's steady rate; latency from just before each write to its event's arrival.
async fn measure_watch(
    store: Arc<dyn Store>,
    prefix: &str,
    plan: &Plan,
) -> anyhow::Result<Latency> {
    let n = plan.watch_writes;
    let mut stream = store
        .watch(prefix, 0)
        .await
        .with_context(|| format!("cannot watch {prefix:?}"))?;
    let (give_up, mut given_up) = oneshot::channel::<()>();
    let watched_prefix = prefix.to_string();
    let mut watcher = tokio::spawn(async move {
        let mut received: Vec<Option<Instant>> = vec![None; n];
        let mut seen = 0;
        while seen < n {
            tokio::select! {
                biased;
                next = stream.next() => match next {
                    Some(Ok(event)) => {
                        let now = Instant::now();
                        let slot = parse_seq(&event.kv.key, &watched_prefix)
                            .and_then(|seq| received.get_mut(seq));
                        if let Some(slot @ None) = slot {
                            *slot = Some(now);
                            seen += 1;
                        }
                    }
                    Some(Err(e)) => {
                        return Err(anyhow!(e).context("the watch was cut off"));
                    }
                    None => bail!("the watch ended after {seen} of {n} events"),
                },
                _ = &mut given_up => break,
            }
        }
        Ok(received)
    });

    let mut interval = tokio::time::interval(plan.watch_period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut writes = JoinSet::new();
    for seq in 0..n {
        interval.tick().await;
        let store = store.clone();
        let key = seq_key(prefix, seq);
        let value = value_of(seq as u64);
        writes.spawn(async move {
            let sent = Instant::now();
            store
                .create(&key, value)
                .await
                .with_context(|| format!("cannot create {key}"))?;
            anyhow::Ok((seq, sent))
        });
    }
    let mut sent: Vec<Option<Instant>> = vec![None; n];
    while let Some(joined) = writes.join_next().await {
        let (seq, at) = joined.context("a write task failed")??;
        if let Some(slot) = sent.get_mut(seq) {
            *slot = Some(at);
        }
    }
    let received = match tokio::time::timeout(WATCH_GRACE, &mut watcher).await {
        Ok(joined) => joined,
        Err(_) => {
            let _ = give_up.send(());
            watcher.await
        }
    }
    .context("the watcher task failed")??;
    Ok(summarize_latencies(&sent, &received))
}

/// Churn on a fresh embedded store: create the keys, update them `updates` times in all,
/// compact to the current revision, measure the data directory.
async fn measure_churn(updates: u64) -> anyhow::Result<ChurnFigures> {
    let dir = tempfile::Builder::new()
        .prefix("skiff-bench-churn-")
        .tempdir()
        .context("cannot create a temporary directory for the churn store")?;
    let embedded = Arc::new(
        EmbeddedStore::open_with(dir.path(), EmbeddedOptions::default()).with_context(|| {
            format!("cannot open an embedded store in {}", dir.path().display())
        })?,
    );
    let store: Arc<dyn Store> = embedded.clone();

    // Every writer creates its own keys first (not counted).
    let mut creators = JoinSet::new();
    for w in 0..CHURN_WRITERS {
        let store = store.clone();
        creators.spawn(async move {
            let mut owned = Vec::new();
            for k in keys_of_writer(w, CHURN_WRITERS, CHURN_KEYS) {
                let key = churn_key(k);
                let revision = store
                    .create(&key, value_of(k as u64))
                    .await
                    .with_context(|| format!("cannot create {key}"))?;
                owned.push((key, revision));
            }
            anyhow::Ok(owned)
        });
    }
    let mut owned_by_writer = Vec::new();
    while let Some(joined) = creators.join_next().await {
        owned_by_writer.push(joined.context("a create task failed")??);
    }

    let claimed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut writers = JoinSet::new();
    for mut owned in owned_by_writer.into_iter().filter(|o| !o.is_empty()) {
        let (store, claimed, done) = (store.clone(), claimed.clone(), done.clone());
        writers.spawn(async move {
            let mut next = 0;
            while claimed.fetch_add(1, Ordering::SeqCst) < updates {
                let (key, revision) = &mut owned[next];
                let value = value_of(*revision as u64);
                *revision = store
                    .update(key, value, *revision)
                    .await
                    .with_context(|| format!("cannot update {key} at revision {revision}"))?;
                done.fetch_add(1, Ordering::SeqCst);
                next = (next + 1) % owned.len();
            }
            anyhow::Ok(())
        });
    }
    let reporter = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PROGRESS_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let d = done.load(Ordering::SeqCst);
                let pct = 100.0 * d as f64 / updates as f64;
                progress(&format!(
                    "  {d:>9} / {updates} updates ({pct:5.1}%), {:.0} writes/s",
                    rate(d, t0.elapsed())
                ));
            }
        })
    };
    let mut outcome = Ok(());
    while let Some(joined) = writers.join_next().await {
        let result = joined
            .map_err(|e| anyhow!("an update task failed: {e}"))
            .and_then(|r| r);
        if let Err(e) = result {
            // Stop the other writers and keep the first error.
            claimed.store(updates, Ordering::SeqCst);
            if outcome.is_ok() {
                outcome = Err(e);
            }
        }
    }
    let elapsed = t0.elapsed();
    reporter.abort();
    outcome?;
    let updated = done.load(Ordering::SeqCst);

    let disk_bytes_before_compact = embedded.stats().disk_bytes;
    let revision = store
        .current_revision()
        .await
        .context("cannot read the current revision")?;
    progress(&format!(
        "  {updated} updates in {:.1} s; compacting to revision {revision} ({} on disk)",
        elapsed.as_secs_f64(),
        human_bytes(disk_bytes_before_compact)
    ));
    store
        .compact(revision)
        .await
        .with_context(|| format!("cannot compact to revision {revision}"))?;
    let stats = embedded.stats();
    Ok(ChurnFigures {
        updates: updated,
        keys: stats.live_keys,
        live_bytes: stats.live_bytes,
        disk_bytes_before_compact,
        disk_bytes: stats.disk_bytes,
        seconds: elapsed.as_secs_f64(),
    })
}

/// A line of progress on stderr.
pub(crate) fn progress(line: &str) {
    eprintln!("{line}");
}

/// The executable `name` in a directory of `PATH`, if any.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------------------------
// Pure: figures, statistics, output.

/// Watch delivery latency.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Latency {
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    /// Writes whose event arrived.
    samples: usize,
    /// Acknowledged writes whose event never arrived.
    lost: usize,
}

/// One backend's figures.
#[derive(Debug, Clone, PartialEq)]
struct BackendFigures {
    writes_per_s_1: f64,
    writes_per_s_64: f64,
    watch: Latency,
}

/// The churn phase's figures.
#[derive(Debug, Clone, PartialEq)]
struct ChurnFigures {
    updates: u64,
    keys: u64,
    live_bytes: u64,
    disk_bytes_before_compact: u64,
    disk_bytes: u64,
    seconds: f64,
}

impl ChurnFigures {
    fn writes_per_s(&self) -> f64 {
        rate(self.updates, Duration::from_secs_f64(self.seconds.max(0.0)))
    }

    fn disk_ratio(&self) -> Option<f64> {
        ratio(self.disk_bytes as f64, self.live_bytes as f64)
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    machine_cpus: usize,
    seconds_per_phase: f64,
    warmup_seconds: f64,
    embedded: BackendFigures,
    /// None when etcd was skipped or failed; `etcd_note` says why.
    etcd: Option<BackendFigures>,
    etcd_note: Option<String>,
    churn: Option<ChurnFigures>,
}

impl Report {
    fn vs_etcd_1(&self) -> Option<f64> {
        let etcd = self.etcd.as_ref()?;
        ratio(self.embedded.writes_per_s_1, etcd.writes_per_s_1)
    }

    fn vs_etcd_64(&self) -> Option<f64> {
        let etcd = self.etcd.as_ref()?;
        ratio(self.embedded.writes_per_s_64, etcd.writes_per_s_64)
    }
}

/// Events per second; 0 for an empty interval.
pub(crate) fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

/// `a / b`, or None when `b` is not a positive finite number.
fn ratio(a: f64, b: f64) -> Option<f64> {
    (b.is_finite() && b > 0.0 && a.is_finite()).then(|| a / b)
}

/// The `p`-th percentile (0 < p <= 100) of ascending `sorted` by the nearest-rank method:
/// the smallest value with at least p% of the values at or below it.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Latencies of the writes acknowledged (`sent`) whose event arrived (`received`), indexed
/// alike by sequence number; acknowledged writes without an event count as lost.
fn summarize_latencies(sent: &[Option<Instant>], received: &[Option<Instant>]) -> Latency {
    let mut ms = Vec::with_capacity(sent.len());
    let mut lost = 0;
    for (i, s) in sent.iter().enumerate() {
        let Some(s) = s else { continue };
        match received.get(i).copied().flatten() {
            Some(r) => ms.push(r.saturating_duration_since(*s).as_secs_f64() * 1e3),
            None => lost += 1,
        }
    }
    ms.sort_by(f64::total_cmp);
    Latency {
        p50_ms: percentile(&ms, 50.0),
        p99_ms: percentile(&ms, 99.0),
        samples: ms.len(),
        lost,
    }
}

/// The key of the watch phase's write number `seq`.
fn seq_key(prefix: &str, seq: usize) -> String {
    format!("{prefix}{seq:08}")
}

/// The sequence number in a key made by [`seq_key`].
fn parse_seq(key: &str, prefix: &str) -> Option<usize> {
    key.strip_prefix(prefix)?.parse().ok()
}

/// The key of churn key number `k`.
fn churn_key(k: usize) -> String {
    format!("/bench-churn/{k:04}")
}

/// The keys writer `w` of `writers` owns among `keys` (round-robin: no two writers share one).
fn keys_of_writer(w: usize, writers: usize, keys: usize) -> Vec<usize> {
    (w..keys).step_by(writers.max(1)).collect()
}

/// A value of exactly [`VALUE_BYTES`] bytes that depends on `seed`.
fn value_of(seed: u64) -> Bytes {
    sized_value(seed, VALUE_BYTES)
}

/// A value of exactly `len` bytes that depends on `seed`.
fn sized_value(seed: u64, len: usize) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes = (0..len)
        .map(|_| {
            // xorshift64: cheap, not all-equal bytes.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect::<Vec<u8>>();
    Bytes::from(bytes)
}

/// `x` rounded to `digits` decimals (JSON friendliness); None and non-finite become null.
pub(crate) fn rounded(x: Option<f64>, digits: i32) -> Value {
    match x {
        Some(x) if x.is_finite() => {
            let scale = 10f64.powi(digits);
            json!((x * scale).round() / scale)
        }
        _ => Value::Null,
    }
}

/// The `--json` object.
fn report_json(r: &Report) -> Value {
    let etcd = r.etcd.as_ref();
    let churn = r.churn.as_ref();
    json!({
        "embedded_writes_per_s_1": rounded(Some(r.embedded.writes_per_s_1), 1),
        "embedded_writes_per_s_64": rounded(Some(r.embedded.writes_per_s_64), 1),
        "etcd_writes_per_s_1": rounded(etcd.map(|e| e.writes_per_s_1), 1),
        "etcd_writes_per_s_64": rounded(etcd.map(|e| e.writes_per_s_64), 1),
        "embedded_vs_etcd_1": rounded(r.vs_etcd_1(), 3),
        "embedded_vs_etcd_64": rounded(r.vs_etcd_64(), 3),
        "watch_p50_ms": rounded(r.embedded.watch.p50_ms, 3),
        "watch_p99_ms": rounded(r.embedded.watch.p99_ms, 3),
        "watch_events": r.embedded.watch.samples,
        "watch_lost": r.embedded.watch.lost,
        "etcd_watch_p50_ms": rounded(etcd.and_then(|e| e.watch.p50_ms), 3),
        "etcd_watch_p99_ms": rounded(etcd.and_then(|e| e.watch.p99_ms), 3),
        "etcd_watch_events": etcd.map(|e| e.watch.samples),
        "etcd_watch_lost": etcd.map(|e| e.watch.lost),
        "etcd_note": r.etcd_note,
        "churn_updates": churn.map(|c| c.updates),
        "churn_keys": churn.map(|c| c.keys),
        "churn_live_bytes": churn.map(|c| c.live_bytes),
        "churn_disk_bytes_before_compact": churn.map(|c| c.disk_bytes_before_compact),
        "churn_disk_bytes": churn.map(|c| c.disk_bytes),
        "churn_disk_ratio": rounded(churn.and_then(ChurnFigures::disk_ratio), 3),
        "churn_writes_per_s": rounded(churn.map(ChurnFigures::writes_per_s), 1),
        "value_bytes": VALUE_BYTES,
        "seconds_per_phase": r.seconds_per_phase,
        "warmup_seconds": r.warmup_seconds,
        "machine_cpus": r.machine_cpus,
    })
}

/// "ok" when `value` meets the goal, "MISSED" when not, "n/a" when there is no value.
pub(crate) fn verdict(value: Option<f64>, goal: f64, at_least: bool) -> &'static str {
    match value {
        None => "n/a",
        Some(v) if (at_least && v >= goal) || (!at_least && v <= goal) => "ok",
        Some(_) => "MISSED",
    }
}

/// `x` with `digits` decimals, or "-".
pub(crate) fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "-".to_string(),
    }
}

/// Bytes in binary units.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// Rows as columns: the first left-aligned, the others right-aligned, two spaces apart.
pub(crate) fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The human-readable result: a table with the goals next to the figures.
fn render_table(r: &Report) -> String {
    let etcd = r.etcd.as_ref();
    let s = |v: &str| v.to_string();
    let times = |x: Option<f64>| x.map_or_else(|| s("-"), |x| format!("{x:.2}x"));
    let mut rows = vec![vec![
        s("figure"),
        s("embedded"),
        s("etcd"),
        s("embedded/etcd"),
        s("goal"),
        s("verdict"),
    ]];
    for (label, emb, etc, vs, goal) in [
        (
            "durable writes/s, 1 writer",
            r.embedded.writes_per_s_1,
            etcd.map(|e| e.writes_per_s_1),
            r.vs_etcd_1(),
            GOAL_VS_ETCD_1,
        ),
        (
            "durable writes/s, 64 writers",
            r.embedded.writes_per_s_64,
            etcd.map(|e| e.writes_per_s_64),
            r.vs_etcd_64(),
            GOAL_VS_ETCD_64,
        ),
    ] {
        rows.push(vec![
            s(label),
            format!("{emb:.0}"),
            fmt_opt(etc, 0),
            times(vs),
            format!(">= {goal}x etcd"),
            s(verdict(vs, goal, true)),
        ]);
    }
    for (label, emb, etc) in [
        (
            "watch latency p50 (ms)",
            r.embedded.watch.p50_ms,
            etcd.and_then(|e| e.watch.p50_ms),
        ),
        (
            "watch latency p99 (ms)",
            r.embedded.watch.p99_ms,
            etcd.and_then(|e| e.watch.p99_ms),
        ),
    ] {
        rows.push(vec![
            s(label),
            fmt_opt(emb, 3),
            fmt_opt(etc, 3),
            times(etc.and_then(|e| emb.and_then(|m| ratio(m, e)))),
        ]);
    }
    let lost = r.embedded.watch.lost + etcd.map_or(0, |e| e.watch.lost);
    if lost > 0 {
        rows.push(vec![
            s("watch events lost"),
            r.embedded.watch.lost.to_string(),
            etcd.map_or_else(|| s("-"), |e| e.watch.lost.to_string()),
            s(""),
            s("0"),
            s("MISSED"),
        ]);
    }
    if let Some(c) = &r.churn {
        let ratio = c.disk_ratio();
        rows.push(vec![
            format!("churn writes/s, {CHURN_WRITERS} writers"),
            format!("{:.0}", c.writes_per_s()),
        ]);
        rows.push(vec![s("churn live data"), human_bytes(c.live_bytes)]);
        rows.push(vec![
            s("churn disk before compaction"),
            human_bytes(c.disk_bytes_before_compact),
        ]);
        rows.push(vec![
            s("churn disk after compaction"),
            human_bytes(c.disk_bytes),
        ]);
        rows.push(vec![
            s("churn disk / live data"),
            fmt_opt(ratio, 2),
            s(""),
            s(""),
            format!("<= {GOAL_CHURN_DISK_RATIO}"),
            s(verdict(ratio, GOAL_CHURN_DISK_RATIO, false)),
        ]);
    }
    let mut out = format!(
        "skiff bench store: {} CPU(s), {VALUE_BYTES}-byte values, durable writes, {} s per \
         phase after {} s warm-up\n\n",
        r.machine_cpus, r.seconds_per_phase, r.warmup_seconds
    );
    out.push_str(&align(&rows));
    if let Some(c) = &r.churn {
        out.push_str(&format!(
            "\nchurn: {} updates to {} keys, then compacted to the current revision\n",
            c.updates, c.keys
        ));
    }
    if let Some(note) = &r.etcd_note {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    out
}

/// A number of seconds for clap: finite, at least 0, at most a day.
pub(crate) fn parse_seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if x.is_finite() && (0.0..=86_400.0).contains(&x) {
        Ok(x)
    } else {
        Err("expected a number of seconds between 0 and 86400".into())
    }
}

/// A number of seconds for clap that must be above 0.
pub(crate) fn parse_positive_seconds(s: &str) -> Result<f64, String> {
    match parse_seconds(s)? {
        x if x > 0.0 => Ok(x),
        _ => Err("expected a number of seconds above 0".into()),
    }
}

/// A rate per second for clap: between 0.01 and 1,000,000.
fn parse_rate(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if x.is_finite() && (0.01..=1e6).contains(&x) {
        Ok(x)
    } else {
        Err("expected a rate per second between 0.01 and 1000000".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(w1: f64, w64: f64) -> BackendFigures {
        BackendFigures {
            writes_per_s_1: w1,
            writes_per_s_64: w64,
            watch: Latency {
                p50_ms: Some(1.5),
                p99_ms: Some(4.25),
                samples: 2000,
                lost: 0,
            },
        }
    }

    fn report(etcd: Option<BackendFigures>) -> Report {
        Report {
            machine_cpus: 2,
            seconds_per_phase: 5.0,
            warmup_seconds: 1.0,
            embedded: backend(600.0, 20_000.0),
            etcd,
            etcd_note: None,
            churn: Some(ChurnFigures {
                updates: 1_000_000,
                keys: 1000,
                live_bytes: 1_040_000,
                disk_bytes_before_compact: 1_100_000_000,
                disk_bytes: 1_300_000,
                seconds: 50.0,
            }),
        }
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), Some(50.0));
        assert_eq!(percentile(&xs, 99.0), Some(99.0));
        assert_eq!(percentile(&xs, 100.0), Some(100.0));
        assert_eq!(percentile(&xs, 0.5), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&xs, 0.0), None);
        assert_eq!(percentile(&xs, 101.0), None);
    }

    #[test]
    fn rate_and_ratio() {
        assert_eq!(rate(100, Duration::from_secs(2)), 50.0);
        assert_eq!(rate(100, Duration::ZERO), 0.0);
        assert_eq!(ratio(10.0, 4.0), Some(2.5));
        assert_eq!(ratio(10.0, 0.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }

    #[test]
    fn latencies_pair_sends_with_arrivals_and_count_losses() {
        let t = Instant::now();
        let ms = |n: u64| Some(t + Duration::from_millis(n));
        let sent = vec![ms(0), ms(10), ms(20), None, ms(40)];
        let received = vec![ms(1), ms(13), ms(22), ms(35), None];
        let l = summarize_latencies(&sent, &received);
        assert_eq!(l.samples, 3);
        assert_eq!(l.lost, 1);
        assert_eq!(l.p50_ms, Some(2.0));
        assert_eq!(l.p99_ms, Some(3.0));
        let none = summarize_latencies(&[None], &[None]);
        assert_eq!((none.samples, none.lost, none.p99_ms), (0, 0, None));
    }

    #[test]
    fn sequence_keys_round_trip() {
        let k = seq_key("/bench-watch/", 1234);
        assert_eq!(k, "/bench-watch/00001234");
        assert_eq!(parse_seq(&k, "/bench-watch/"), Some(1234));
        assert_eq!(parse_seq("/other/00000001", "/bench-watch/"), None);
        assert_eq!(parse_seq("/bench-watch/x", "/bench-watch/"), None);
    }

    #[test]
    fn writers_own_disjoint_keys_covering_all() {
        let mut all: Vec<usize> = (0..CHURN_WRITERS)
            .flat_map(|w| keys_of_writer(w, CHURN_WRITERS, CHURN_KEYS))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..CHURN_KEYS).collect::<Vec<_>>());
        assert_eq!(keys_of_writer(3, 64, 2), Vec::<usize>::new());
    }

    #[test]
    fn values_are_one_kib_and_vary() {
        assert_eq!(value_of(1).len(), VALUE_BYTES);
        assert_eq!(sized_value(3, 217).len(), 217);
        assert_ne!(value_of(1), value_of(2));
        let v = value_of(0);
        assert!(v.iter().any(|&b| b != v[0]));
    }

    #[test]
    fn json_has_every_key_with_etcd() {
        let j = report_json(&report(Some(backend(300.0, 5000.0))));
        for key in [
            "embedded_writes_per_s_1",
            "embedded_writes_per_s_64",
            "etcd_writes_per_s_1",
            "etcd_writes_per_s_64",
            "watch_p99_ms",
            "watch_p50_ms",
            "etcd_watch_p50_ms",
            "etcd_watch_p99_ms",
            "churn_updates",
            "churn_live_bytes",
            "churn_disk_bytes",
            "churn_disk_ratio",
            "churn_writes_per_s",
            "embedded_vs_etcd_1",
            "embedded_vs_etcd_64",
            "seconds_per_phase",
            "machine_cpus",
        ] {
            assert!(j.get(key).is_some_and(|v| !v.is_null()), "{key} in {j}");
        }
        assert_eq!(j["embedded_vs_etcd_1"], json!(2.0));
        assert_eq!(j["embedded_vs_etcd_64"], json!(4.0));
        assert_eq!(j["churn_disk_ratio"], json!(1.25));
        assert_eq!(j["churn_writes_per_s"], json!(20000.0));
        assert_eq!(j["watch_p99_ms"], json!(4.25));
        assert_eq!(j["machine_cpus"], json!(2));
        assert_eq!(j["etcd_note"], Value::Null);
    }

    #[test]
    fn json_nulls_etcd_when_skipped() {
        let mut r = report(None);
        r.etcd_note = Some("etcd is not installed".into());
        r.churn = None;
        let j = report_json(&r);
        for key in [
            "etcd_writes_per_s_1",
            "etcd_writes_per_s_64",
            "embedded_vs_etcd_1",
            "embedded_vs_etcd_64",
            "etcd_watch_p50_ms",
            "etcd_watch_p99_ms",
            "churn_disk_ratio",
        ] {
            assert_eq!(j[key], Value::Null, "{key}");
        }
        assert_eq!(j["etcd_note"], json!("etcd is not installed"));
        assert_eq!(j["embedded_writes_per_s_64"], json!(20000.0));
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(Some(2.0), 2.0, true), "ok");
        assert_eq!(verdict(Some(1.9), 2.0, true), "MISSED");
        assert_eq!(verdict(Some(4.0), 4.0, false), "ok");
        assert_eq!(verdict(Some(4.1), 4.0, false), "MISSED");
        assert_eq!(verdict(None, 4.0, false), "n/a");
    }

    #[test]
    fn table_shows_goals_and_misses() {
        let text = render_table(&report(Some(backend(300.0, 15_000.0))));
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix:?} line in\n{text}"))
                .to_string()
        };
        let w64 = line("durable writes/s, 64 writers");
        assert!(w64.contains("1.33x") && w64.ends_with("MISSED"), "{w64}");
        assert!(line("durable writes/s, 1 writer").ends_with("ok"));
        assert!(line("churn disk / live data").contains("1.25"));
        assert!(line("watch latency p99 (ms)").contains("4.250"));
        // Columns line up: the header's "embedded" ends where the figures end.
        let header = line("figure");
        let end = header.find("embedded").map(|i| i + "embedded".len());
        assert_eq!(end, w64.find("20000").map(|i| i + 5));

        let mut skipped = report(None);
        skipped.etcd_note = Some("etcd is not installed".into());
        let text = render_table(&skipped);
        assert!(text.contains("note: etcd is not installed"));
        assert!(text.contains("n/a"));
    }

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn argument_parsers() {
        assert_eq!(parse_seconds("0"), Ok(0.0));
        assert!(parse_positive_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("nan").is_err());
        assert_eq!(parse_rate("500"), Ok(500.0));
        assert!(parse_rate("0").is_err());
    }

    #[test]
    fn align_pads_columns() {
        let rows = vec![
            vec!["a".to_string(), "1".to_string()],
            vec!["long".to_string(), "1000".to_string()],
        ];
        assert_eq!(align(&rows), "a        1\nlong  1000\n");
    }
}
