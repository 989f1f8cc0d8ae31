//! `engine-compare`: measures candidate storage engines for skiff's store doing what the
//! store does, so the choice of engine rests on figures rather than taste.
//!
//! Engines (each write is a durable compare-and-swap of a 1 KiB value):
//! - `skiff`: skiff's `EmbeddedStore` (log + group commit + in-memory index), through its
//!   async `Store` trait;
//! - `sqlite`: SQLite as kine uses it (WAL, `synchronous=FULL`, a log-structured table,
//!   one connection and one `BEGIN IMMEDIATE` transaction per write);
//! - `redb`: redb with a live table and a history table, one write transaction per update;
//! - `sqlite-grouped`, `redb-grouped`: the same storage behind a group committer that puts
//!   all waiting writes in one transaction, as skiff does in front of its log.
//!
//! Phases: `throughput` (updates/s with 1 and N concurrent writers, each on its own keys,
//! after a warm-up) and `churn` (many updates over few keys, then compaction of all history,
//! with the disk usage before and after against the live data).
//!
//! Run: `cargo run --release -- --help`. It prints two tables and, last, one JSON line.

mod group;
mod harness;
mod redb_engine;
mod skiff;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use serde_json::{json, Value};
use skiff_store::EmbeddedStore;
use tempfile::TempDir;

use group::Group;
use harness::{
    dir_bytes, dir_listing, keys_dealt, keys_per_writer, run_threads, PhaseResult, Stop,
};
use redb_engine::Redb;
use sqlite::{Sqlite, SqliteConfig};

/// Compare storage engines for skiff's store: durable CAS writes/s and disk use after churn
/// and compaction.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Engines to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "skiff,sqlite,redb,sqlite-grouped,redb-grouped"
    )]
    engines: Vec<Engine>,
    /// Phases to run.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "throughput,churn"
    )]
    phases: Vec<Phase>,
    /// Measured seconds per throughput phase.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Warm-up seconds before each measured window (not counted).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Concurrent writers of the contended throughput phase (the other phase has 1).
    #[arg(long, default_value_t = 64)]
    writers: usize,
    /// Keys each throughput writer owns and updates round-robin.
    #[arg(long, default_value_t = 16)]
    keys_per_writer: usize,
    /// Value size in bytes.
    #[arg(long, default_value_t = 1024)]
    value_bytes: usize,
    /// Updates in the churn phase.
    #[arg(long, default_value_t = 200_000)]
    churn: u64,
    /// Keys the churn updates spread over (the live data after compaction).
    #[arg(long, default_value_t = 1000)]
    churn_keys: usize,
    /// Concurrent writers during churn.
    #[arg(long, default_value_t = 64)]
    churn_writers: usize,
    /// How SQLite and redb load the churn: `plain` (one transaction per update by each
    /// writer, as kine does) or `grouped` (through a group committer: much faster to load;
    /// the files come out similar, not identical).
    #[arg(long, value_enum, default_value = "plain")]
    churn_mode: ChurnMode,
    /// Most writes a group committer puts in one transaction (skiff's default is 4096).
    #[arg(long, default_value_t = 4096)]
    max_batch: usize,
    /// SQLite `PRAGMA synchronous`.
    #[arg(long, value_enum, default_value = "full")]
    sqlite_synchronous: Synchronous,
    /// SQLite `busy_timeout` in milliseconds (kine: 30000).
    #[arg(long, default_value_t = 30_000)]
    sqlite_busy_timeout_ms: u64,
    /// Use kine's full schema (an `old_value` column and six indexes) instead of the minimal
    /// table with one (name, id) index.
    #[arg(long)]
    sqlite_kine_schema: bool,
    /// Revisions per kine compaction transaction (kine's --compact-batch-size, default 1000).
    #[arg(long, default_value_t = 1000)]
    kine_compact_batch: i64,
    /// Revisions per redb history-deleting transaction (0: all in one transaction).
    #[arg(long, default_value_t = 1000)]
    redb_delete_batch: u64,
    /// Directory for the data (a fresh subdirectory is made and removed). Default: the
    /// system temporary directory; it must be on the disk you mean to measure.
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    Skiff,
    Sqlite,
    Redb,
    SqliteGrouped,
    RedbGrouped,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Skiff => "skiff",
            Engine::Sqlite => "sqlite",
            Engine::Redb => "redb",
            Engine::SqliteGrouped => "sqlite-grouped",
            Engine::RedbGrouped => "redb-grouped",
        }
    }

    /// The storage the engine writes to (churn runs once per storage).
    fn storage(self) -> Engine {
        match self {
            Engine::SqliteGrouped => Engine::Sqlite,
            Engine::RedbGrouped => Engine::Redb,
            e => e,
        }
    }

    fn grouped(self) -> bool {
        matches!(self, Engine::SqliteGrouped | Engine::RedbGrouped)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Phase {
    Throughput,
    Churn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ChurnMode {
    Grouped,
    Plain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// What every phase needs.
struct Ctx {
    args: Args,
    value: Bytes,
    root: TempDir,
    rt: tokio::runtime::Runtime,
    sqlite: SqliteConfig,
}

impl Ctx {
    fn fresh_dir(&self, name: &str) -> Result<TempDir> {
        tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(self.root.path())
            .context("cannot make a data directory")
    }

    fn timed(&self) -> Stop {
        Stop::Timed {
            warmup: Duration::from_secs_f64(self.args.warmup),
            measure: Duration::from_secs_f64(self.args.seconds),
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.writers > 0 && args.keys_per_writer > 0,
        "need writers and keys"
    );
    anyhow::ensure!(
        args.churn_writers > 0 && args.churn_keys >= args.churn_writers,
        "churn needs at least one key per churn writer"
    );
    anyhow::ensure!(args.seconds > 0.0 && args.warmup >= 0.0, "bad phase length");
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    let root = tempfile::Builder::new()
        .prefix("engine-compare-")
        .tempdir_in(&base)
        .context("cannot make the data directory")?;
    let ctx = Ctx {
        value: harness::value(args.value_bytes),
        root,
        rt: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start tokio")?,
        sqlite: SqliteConfig {
            synchronous: args.sqlite_synchronous.pragma().into(),
            kine_schema: args.sqlite_kine_schema,
            busy_timeout: Duration::from_millis(args.sqlite_busy_timeout_ms),
        },
        args,
    };
    let started = Instant::now();
    eprintln!("[engine-compare] data under {}", ctx.root.path().display());

    let mut throughput = Vec::new();
    if ctx.args.phases.contains(&Phase::Throughput) {
        for &engine in &ctx.args.engines {
            let counts: &[usize] = if engine.grouped() {
                &[ctx.args.writers]
            } else {
                &[1, ctx.args.writers]
            };
            for &writers in counts {
                eprintln!(
                    "[engine-compare] throughput {} with {writers} writer(s)",
                    engine.name()
                );
                let r = run_throughput(&ctx, engine, writers)
                    .with_context(|| format!("{} with {writers} writers", engine.name()))?;
                eprintln!("[engine-compare]   {:.0} updates/s", r.per_second);
                throughput.push((engine, writers, r));
            }
        }
    }

    let mut churns = Vec::new();
    if ctx.args.phases.contains(&Phase::Churn) {
        let mut storages: Vec<Engine> = Vec::new();
        for e in ctx.args.engines.iter().map(|e| e.storage()) {
            if !storages.contains(&e) {
                storages.push(e);
            }
        }
        for engine in storages {
            eprintln!(
                "[engine-compare] churn {}: {} updates over {} keys",
                engine.name(),
                ctx.args.churn,
                ctx.args.churn_keys
            );
            let c =
                run_churn(&ctx, engine).with_context(|| format!("churn on {}", engine.name()))?;
            churns.push(c);
        }
    }

    let total = started.elapsed().as_secs_f64();
    print_report(&ctx, &throughput, &churns, total);
    Ok(())
}

/// One throughput phase on a fresh store.
fn run_throughput(ctx: &Ctx, engine: Engine, writers: usize) -> Result<PhaseResult> {
    let dir = ctx.fresh_dir(engine.name())?;
    let keys = keys_per_writer("/registry/bench/", writers, ctx.args.keys_per_writer);
    let stop = ctx.timed();
    load(ctx, engine, dir.path(), keys, stop, writers)
}

/// Runs `engine` over `keys` (one writer per entry) until `stop`, on the store in `dir`.
/// SQLite keeps a connection open across the whole call, as kine's pool does.
fn load(
    ctx: &Ctx,
    engine: Engine,
    dir: &Path,
    keys: Vec<Vec<String>>,
    stop: Stop,
    writers: usize,
) -> Result<PhaseResult> {
    match engine {
        Engine::Skiff => {
            let store = Arc::new(EmbeddedStore::open(dir)?);
            ctx.rt
                .block_on(skiff::run_tasks(store, keys, &ctx.value, stop))
        }
        Engine::Sqlite => {
            let _holder = sqlite::init(dir, &ctx.sqlite)?;
            let ws = (0..writers)
                .map(|_| Sqlite::new(dir, &ctx.sqlite))
                .collect::<Result<Vec<_>>>()?;
            run_threads(ws, keys, &ctx.value, stop)
        }
        Engine::Redb => {
            let db = redb_engine::create(dir)?;
            let ws = (0..writers).map(|_| Redb { db: db.clone() }).collect();
            run_threads(ws, keys, &ctx.value, stop)
        }
        Engine::SqliteGrouped => {
            let _holder = sqlite::init(dir, &ctx.sqlite)?;
            let group = Group::start(Sqlite::new(dir, &ctx.sqlite)?, ctx.args.max_batch)?;
            let ws = (0..writers)
                .map(|_| group.writer())
                .collect::<Result<Vec<_>>>()?;
            let r = run_threads(ws, keys, &ctx.value, stop);
            group.stop()?;
            r
        }
        Engine::RedbGrouped => {
            let db = redb_engine::create(dir)?;
            let group = Group::start(Redb { db }, ctx.args.max_batch)?;
            let ws = (0..writers)
                .map(|_| group.writer())
                .collect::<Result<Vec<_>>>()?;
            let r = run_threads(ws, keys, &ctx.value, stop);
            group.stop()?;
            r
        }
    }
}

/// One step of a compaction and the disk use after it.
struct Step {
    name: String,
    seconds: f64,
    bytes: u64,
    allocated: u64,
    files: Vec<(String, u64)>,
}

impl Step {
    fn measure(name: &str, seconds: f64, dir: &Path) -> Result<Step> {
        let (bytes, allocated) = dir_bytes(dir)?;
        Ok(Step {
            name: name.into(),
            seconds,
            bytes,
            allocated,
            files: dir_listing(dir)?,
        })
    }
}

/// The churn phase on one storage.
struct Churn {
    engine: &'static str,
    load_mode: &'static str,
    load: PhaseResult,
    live_bytes: u64,
    /// Disk use right after the churn, then after each compaction step.
    steps: Vec<Step>,
    extra: Value,
}

fn run_churn(ctx: &Ctx, engine: Engine) -> Result<Churn> {
    let a = &ctx.args;
    let dir = ctx.fresh_dir(&format!("churn-{}", engine.name()))?;
    let path = dir.path();
    let keys = keys_dealt("/registry/churn/", a.churn_writers, a.churn_keys);
    let live_bytes: u64 = keys
        .iter()
        .flatten()
        .map(|k| (k.len() + a.value_bytes) as u64)
        .sum();
    let stop = Stop::Count(a.churn);
    let mut steps = Vec::new();
    match engine {
        Engine::Skiff => {
            let rss_start = rss_bytes();
            let store = Arc::new(EmbeddedStore::open(path)?);
            let load = ctx
                .rt
                .block_on(skiff::run_tasks(store.clone(), keys, &ctx.value, stop))?;
            let rss_churned = rss_bytes();
            steps.push(Step::measure("after churn", 0.0, path)?);
            drop(store);
            let t = Instant::now();
            let store = EmbeddedStore::open(path)?;
            let reopen_full = t.elapsed().as_secs_f64();
            let before = store.stats();
            let t = Instant::now();
            let revision = ctx.rt.block_on(skiff::compact_all(&store))?;
            steps.push(Step::measure(
                "Store::compact(current_revision)",
                t.elapsed().as_secs_f64(),
                path,
            )?);
            let after = store.stats();
            drop(store);
            let t = Instant::now();
            let store = EmbeddedStore::open(path)?;
            let reopen_compacted = t.elapsed().as_secs_f64();
            drop(store);
            Ok(Churn {
                engine: "skiff",
                load_mode: "tasks",
                load,
                live_bytes,
                steps,
                extra: json!({
                    "revision": revision,
                    "history_changes_before_compaction": before.history_changes,
                    "history_changes_after_compaction": after.history_changes,
                    "live_keys_after": after.live_keys,
                    "live_bytes_reported": after.live_bytes,
                    "reopen_with_full_history_seconds": reopen_full,
                    "reopen_after_compaction_seconds": reopen_compacted,
                    // Only meaningful when this is the process's first phase (e.g.
                    // `--phases churn --engines skiff`): freed memory of earlier phases
                    // stays resident and is reused.
                    "process_rss_growth_during_churn_bytes":
                        rss_churned.zip(rss_start).map(|(a, b)| a.saturating_sub(b)),
                }),
            })
        }
        Engine::Sqlite | Engine::SqliteGrouped => {
            let mut holder = sqlite::init(path, &ctx.sqlite)?;
            let (mode, load_engine) = match a.churn_mode {
                ChurnMode::Grouped => ("grouped", Engine::SqliteGrouped),
                ChurnMode::Plain => ("plain", Engine::Sqlite),
            };
            let load = load(ctx, load_engine, path, keys, stop, a.churn_writers)?;
            steps.push(Step::measure("after churn", 0.0, path)?);
            let rows_before = sqlite::row_count(&holder)?;
            let target = sqlite::current_revision(&holder)?;
            let t = Instant::now();
            let (deleted, transactions) =
                sqlite::compact_kine(&mut holder, target, a.kine_compact_batch)?;
            steps.push(Step::measure(
                "kine compact: DELETE batches + wal_checkpoint(FULL)",
                t.elapsed().as_secs_f64(),
                path,
            )?);
            let rows_after = sqlite::row_count(&holder)?;
            let free_pages: i64 = holder.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            let page_count: i64 = holder.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let page_size: i64 = holder.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let t = Instant::now();
            sqlite::vacuum(&holder)?;
            steps.push(Step::measure(
                "then VACUUM + wal_checkpoint(TRUNCATE)",
                t.elapsed().as_secs_f64(),
                path,
            )?);
            drop(holder);
            Ok(Churn {
                engine: "sqlite",
                load_mode: mode,
                load,
                live_bytes,
                steps,
                extra: json!({
                    "revision": target,
                    "rows_before": rows_before,
                    "rows_deleted": deleted,
                    "rows_after": rows_after,
                    "compact_transactions": transactions,
                    "after_kine_compact": {
                        "page_count": page_count,
                        "freelist_count": free_pages,
                        "page_size": page_size,
                        "used_bytes_kine_reports": (page_count - free_pages) * page_size,
                    },
                    "synchronous": ctx.sqlite.synchronous,
                    "kine_schema": ctx.sqlite.kine_schema,
                }),
            })
        }
        Engine::Redb | Engine::RedbGrouped => {
            let db = redb_engine::create(path)?;
            let (mode, load) = match a.churn_mode {
                ChurnMode::Grouped => {
                    let group = Group::start(Redb { db: db.clone() }, a.max_batch)?;
                    let ws = (0..a.churn_writers)
                        .map(|_| group.writer())
                        .collect::<Result<Vec<_>>>()?;
                    let r = run_threads(ws, keys, &ctx.value, stop);
                    group.stop()?;
                    ("grouped", r?)
                }
                ChurnMode::Plain => {
                    let ws = (0..a.churn_writers)
                        .map(|_| Redb { db: db.clone() })
                        .collect();
                    ("plain", run_threads(ws, keys, &ctx.value, stop)?)
                }
            };
            steps.push(Step::measure("after churn", 0.0, path)?);
            let history = redb_engine::history_len(&db)?;
            let t = Instant::now();
            let (removed, transactions) = redb_engine::delete_history(&db, a.redb_delete_batch)?;
            let step = if a.redb_delete_batch == 0 {
                "delete history entries (1 txn)".to_string()
            } else {
                format!("delete history entries ({transactions} txns)")
            };
            steps.push(Step::measure(&step, t.elapsed().as_secs_f64(), path)?);
            let t = Instant::now();
            let db = redb_engine::compact(db)?;
            steps.push(Step::measure(
                "then Database::compact()",
                t.elapsed().as_secs_f64(),
                path,
            )?);
            drop(db);
            Ok(Churn {
                engine: "redb",
                load_mode: mode,
                load,
                live_bytes,
                steps,
                extra: json!({
                    "history_entries_before": history,
                    "history_entries_removed": removed,
                    "delete_transactions": transactions,
                }),
            })
        }
    }
}

/// The process's resident memory (Linux), if readable.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn print_report(
    ctx: &Ctx,
    throughput: &[(Engine, usize, PhaseResult)],
    churns: &[Churn],
    total: f64,
) {
    let a = &ctx.args;
    if !throughput.is_empty() {
        println!(
            "\nDurable compare-and-swap updates, {} B values, {} s measured after {} s warm-up",
            a.value_bytes, a.seconds, a.warmup
        );
        println!(
            "{:<16} {:>7} {:>11} {:>8} {:>8} {:>8} {:>6} {:>9}",
            "engine", "writers", "updates/s", "p50 ms", "p99 ms", "max ms", "busy", "conflicts"
        );
        for (e, w, r) in throughput {
            println!(
                "{:<16} {:>7} {:>11.0} {:>8.2} {:>8.2} {:>8.1} {:>6} {:>9}",
                e.name(),
                w,
                r.per_second,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.busy,
                r.conflicts
            );
        }
    }
    for c in churns {
        println!(
            "\nChurn {}: {} updates over {} keys by {} writers ({}) in {:.1} s = {:.0} updates/s, busy {}; live data {}",
            c.engine,
            c.load.updates,
            a.churn_keys,
            a.churn_writers,
            c.load_mode,
            c.load.seconds,
            c.load.per_second,
            c.load.busy,
            mib(c.live_bytes)
        );
        println!(
            "  {:<52} {:>9} {:>12} {:>12} {:>7}",
            "step", "seconds", "file sizes", "allocated", "x live"
        );
        for s in &c.steps {
            println!(
                "  {:<52} {:>9.2} {:>12} {:>12} {:>7.1}",
                s.name,
                s.seconds,
                mib(s.bytes),
                mib(s.allocated),
                s.bytes as f64 / c.live_bytes.max(1) as f64
            );
        }
    }
    println!("\nTotal run time: {total:.0} s");
    let report = json!({
        "tool": "engine-compare",
        "config": {
            "engines": a.engines.iter().map(|e| e.name()).collect::<Vec<_>>(),
            "seconds": a.seconds,
            "warmup": a.warmup,
            "writers": a.writers,
            "keys_per_writer": a.keys_per_writer,
            "value_bytes": a.value_bytes,
            "churn": a.churn,
            "churn_keys": a.churn_keys,
            "churn_writers": a.churn_writers,
            "churn_mode": format!("{:?}", a.churn_mode).to_lowercase(),
            "max_batch": a.max_batch,
            "sqlite_synchronous": ctx.sqlite.synchronous,
            "sqlite_busy_timeout_ms": a.sqlite_busy_timeout_ms,
            "sqlite_kine_schema": a.sqlite_kine_schema,
            "sqlite_version": rusqlite::version(),
            "kine_compact_batch": a.kine_compact_batch,
            "redb_delete_batch": a.redb_delete_batch,
        },
        "throughput": throughput.iter().map(|(e, w, r)| json!({
            "engine": e.name(),
            "writers": w,
            "updates": r.updates,
            "seconds": r.seconds,
            "updates_per_second": r.per_second.round(),
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
            "max_ms": r.max_ms,
            "busy": r.busy,
            "conflicts": r.conflicts,
        })).collect::<Vec<_>>(),
        "churn": churns.iter().map(|c| json!({
            "engine": c.engine,
            "load_mode": c.load_mode,
            "updates": c.load.updates,
            "load_seconds": c.load.seconds,
            "load_updates_per_second": c.load.per_second.round(),
            "busy": c.load.busy,
            "conflicts": c.load.conflicts,
            "live_bytes": c.live_bytes,
            "steps": c.steps.iter().map(|s| json!({
                "step": s.name,
                "seconds": s.seconds,
                "disk_bytes": s.bytes,
                "disk_allocated_bytes": s.allocated,
                "times_live": s.bytes as f64 / c.live_bytes.max(1) as f64,
                "files": s.files.iter().map(|(n, l)| json!([n, l])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "extra": c.extra,
        })).collect::<Vec<_>>(),
        "total_seconds": total,
    });
    println!("{report}");
}
