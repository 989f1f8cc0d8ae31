//! What every engine shares: the synchronous [`Writer`] interface the SQLite and redb engines
//! implement, the thread harness that drives N writers (each over its own keys) for a timed
//! phase or a fixed number of updates, latency figures, and disk-usage accounting.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;

/// The value every write stores: 1 KiB of bytes that do not compress to nothing.
pub fn value(len: usize) -> Bytes {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x & 0xff) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// A fresh copy of `base` with the writer and a sequence number in its first 16 bytes, so
/// that every write carries its own buffer, as an apiserver's writes do (an engine that keeps
/// values in memory must not get away with sharing one).
pub fn stamped(base: &Bytes, writer: usize, seq: u64) -> Bytes {
    let mut v = base.to_vec();
    let stamp = [(writer as u64).to_le_bytes(), seq.to_le_bytes()].concat();
    let n = stamp.len().min(v.len());
    v[..n].copy_from_slice(&stamp[..n]);
    v.into()
}

/// What one write attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Written at this revision.
    Done(i64),
    /// The key's revision was not the expected one; this is its current revision.
    Conflict(i64),
    /// The engine refused for lock contention ("database is locked"); the caller retries.
    Busy,
}

/// A durable, revisioned write path over one engine, owned by one writer thread.
pub trait Writer: Send + 'static {
    /// Creates `key` (absent before). Returns the revision of the create.
    fn create(&mut self, key: &str, value: &Bytes) -> Result<Outcome>;
    /// Replaces `key`'s value if its revision is `expected` (compare-and-swap).
    fn update(&mut self, key: &str, value: &Bytes, expected: i64) -> Result<Outcome>;
}

/// When a phase ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// Run for `warmup + measure`, counting only updates completed within `measure`.
    Timed { warmup: Duration, measure: Duration },
    /// Run until each writer has done its share of this many updates in total.
    Count(u64),
}

impl Stop {
    /// This writer's share of the updates (Count) or `u64::MAX` (Timed).
    pub fn share(&self, writer: usize, writers: usize) -> u64 {
        match *self {
            Stop::Timed { .. } => u64::MAX,
            Stop::Count(n) => {
                let w = writers as u64;
                n / w + u64::from((writer as u64) < n % w)
            }
        }
    }
}

/// The keys each writer owns.
pub fn keys_per_writer(prefix: &str, writers: usize, keys_each: usize) -> Vec<Vec<String>> {
    (0..writers)
        .map(|w| {
            (0..keys_each)
                .map(|j| format!("{prefix}w{w:02}/k{j:04}"))
                .collect()
        })
        .collect()
}

/// `total` keys dealt round-robin over `writers` writers.
pub fn keys_dealt(prefix: &str, writers: usize, total: usize) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); writers];
    if writers == 0 {
        return out;
    }
    for i in 0..total {
        out[i % writers].push(format!("{prefix}k{i:05}"));
    }
    out
}

/// One writer's tally.
#[derive(Debug, Default)]
pub struct Tally {
    pub latencies_us: Vec<u32>,
    pub busy: u64,
    pub conflicts: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.busy += other.busy;
        self.conflicts += other.conflicts;
    }
}

/// The result of one phase.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    pub updates: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// "database is locked"/busy refusals, each retried.
    pub busy: u64,
    /// Compare-and-swap failures (none expected: every writer owns its keys).
    pub conflicts: u64,
}

impl PhaseResult {
    /// Summarises a merged tally over `seconds`.
    pub fn from_tally(mut t: Tally, seconds: f64) -> Self {
        t.latencies_us.sort_unstable();
        let pct = |p: f64| -> f64 {
            if t.latencies_us.is_empty() {
                return 0.0;
            }
            let i = ((t.latencies_us.len() as f64 - 1.0) * p).round() as usize;
            f64::from(t.latencies_us[i]) / 1000.0
        };
        let updates = t.latencies_us.len() as u64;
        PhaseResult {
            updates,
            seconds,
            per_second: if seconds > 0.0 {
                updates as f64 / seconds
            } else {
                0.0
            },
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            max_ms: pct(1.0),
            busy: t.busy,
            conflicts: t.conflicts,
        }
    }
}

/// Counts what a timed or counted loop completes; shared by the thread and task harnesses.
pub struct Clock {
    start: Instant,
    stop: Stop,
}

impl Clock {
    pub fn new(stop: Stop) -> Self {
        Clock {
            start: Instant::now(),
            stop,
        }
    }

    /// True once a timed phase is over.
    pub fn expired(&self) -> bool {
        match self.stop {
            Stop::Timed { warmup, measure } => self.start.elapsed() >= warmup + measure,
            Stop::Count(_) => false,
        }
    }

    /// Whether an update that ran from `began` to now counts.
    pub fn counts(&self, began: Instant) -> bool {
        match self.stop {
            Stop::Timed { warmup, measure } => {
                let end = self.start.elapsed();
                began.duration_since(self.start) >= warmup && end <= warmup + measure
            }
            Stop::Count(_) => true,
        }
    }
}

/// Microseconds since `began`, saturated into a u32.
pub fn micros_since(began: Instant) -> u32 {
    u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// Runs one thread per writer: each creates its keys, all start together, then each updates
/// its keys round-robin with the expected revision until `stop`. Returns the phase result
/// (the measured window for Timed, the wall time from the common start for Count).
pub fn run_threads<W: Writer>(
    writers: Vec<W>,
    keys: Vec<Vec<String>>,
    value: &Bytes,
    stop: Stop,
) -> Result<PhaseResult> {
    let n = writers.len();
    if n == 0 || keys.len() != n || keys.iter().any(|k| k.is_empty()) {
        return Err(anyhow!("every writer needs at least one key"));
    }
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut handles = Vec::with_capacity(n);
    for (i, (mut w, keys)) in writers.into_iter().zip(keys).enumerate() {
        let barrier = barrier.clone();
        let value = value.clone();
        let share = stop.share(i, n);
        let h = thread::Builder::new()
            .name(format!("writer-{i}"))
            .spawn(move || -> Result<Tally> {
                let setup = create_keys(&mut w, &keys, &value);
                // Reach the barrier even after a failure, or the others wait forever.
                barrier.wait();
                let mut revs = setup?;
                let clock = Clock::new(stop);
                let mut tally = Tally::default();
                let mut done = 0u64;
                let mut j = 0usize;
                while done < share && !clock.expired() {
                    let v = stamped(&value, i, done);
                    let began = Instant::now();
                    match w.update(&keys[j], &v, revs[j])? {
                        Outcome::Done(rev) => {
                            revs[j] = rev;
                            done += 1;
                            if clock.counts(began) {
                                tally.latencies_us.push(micros_since(began));
                            }
                            j = (j + 1) % keys.len();
                        }
                        Outcome::Conflict(actual) => {
                            tally.conflicts += 1;
                            revs[j] = actual;
                        }
                        Outcome::Busy => tally.busy += 1,
                    }
                }
                Ok(tally)
            })
            .context("cannot start a writer thread")?;
        handles.push(h);
    }
    barrier.wait();
    let start = Instant::now();
    let mut total = Tally::default();
    let mut first_error = None;
    for h in handles {
        match h.join() {
            Ok(Ok(t)) => total.merge(t),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert(anyhow!("a writer thread panicked"));
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

/// Creates a writer's keys, retrying busy refusals. Returns their revisions.
fn create_keys<W: Writer>(w: &mut W, keys: &[String], value: &Bytes) -> Result<Vec<i64>> {
    let mut revs = Vec::with_capacity(keys.len());
    for k in keys {
        loop {
            match w.create(k, value)? {
                Outcome::Done(rev) => {
                    revs.push(rev);
                    break;
                }
                Outcome::Busy => continue,
                Outcome::Conflict(_) => return Err(anyhow!("{k} already exists in a fresh store")),
            }
        }
    }
    Ok(revs)
}

/// Bytes on disk under `dir`: (sum of file lengths, sum of allocated blocks), recursively,
/// so a database's -wal and -shm files and a log's segments all count.
pub fn dir_bytes(dir: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut len = 0;
    let mut alloc = 0;
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let (l, a) = dir_bytes(&entry.path())?;
            len += l;
            alloc += a;
        } else if meta.is_file() {
            len += meta.len();
            alloc += meta.blocks() * 512;
        }
    }
    Ok((len, alloc))
}

/// Files in `dir` with their lengths, for the report.
pub fn dir_listing(dir: &Path) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_file() {
            out.push((entry.file_name().to_string_lossy().into_owned(), meta.len()));
        }
    }
    out.sort();
    Ok(out)
}
