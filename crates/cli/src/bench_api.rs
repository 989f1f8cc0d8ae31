//! `skiff bench api`: measures the Kubernetes API of a real `skiff server` process, which the
//! command starts itself (this executable, `server --disable-agent`, a free loopback port, a
//! temporary data directory, the embedded store), over HTTPS with the admin client
//! certificate, in one run:
//!
//! - idle memory: the server's resident set (VmRSS) after start-up and ~3 s idle;
//! - 1,000 watchers of one namespace's ConfigMaps, multiplexed as HTTP/2 streams over 4
//!   connections (client-go multiplexes watches over shared connections): the server's
//!   resident set per established watcher (measured first, on a fresh heap), and the p99
//!   delivery latency of 100 creates (one every 50 ms) from just before each create is sent
//!   to each watcher's receipt of its ADDED event; the watchers are closed afterwards;
//! - creates/s of small ConfigMaps (three data keys, ~200 bytes of JSON) with 1 and with 50
//!   concurrent clients, each client its own HTTP/2 connection sending one create at a time,
//!   counted over a fixed window after a warm-up;
//! - LIST of a namespace holding 10,000 ConfigMaps: p50 over 20 lists of the time from
//!   sending the request to the last byte of the body (the client does not decode it);
//! - the anchor: a real etcd's durable writes/s with 50 concurrent writers of values the size
//!   of the stored ConfigMaps (the pattern of `skiff bench store`), measured after the skiff
//!   server has stopped so the two never share the CPU.
//!
//! The client runs in this process, on the same machine as the server: its CPU use counts
//! against the server's. Progress goes to stderr, the result (table or `--json`) to stdout.
//! The statistics and the output are pure functions of the figures, tested below.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{json, Value};
use skiff_store::{EtcdProcess, EtcdStore, Store};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::api_client::{take_lines, ApiClient, Conn, Proto};
use crate::bench_store::{
    align, find_on_path, fmt_opt, measure_writes, parse_positive_seconds, parse_seconds,
    percentile, progress, rate_over_window, rounded, verdict, Plan,
};

/// Concurrent clients of the two create phases.
const FEW_CLIENTS: usize = 1;
const MANY_CLIENTS: usize = 50;
/// HTTP/2 connections the watchers share.
const WATCH_CONNECTIONS: usize = 4;
/// Pause between the creates whose watch delivery is measured.
const WATCH_CREATE_EVERY: Duration = Duration::from_millis(50);
/// How long watchers may lag behind the last create before missing events count as lost.
const WATCH_GRACE: Duration = Duration::from_secs(30);
/// Idle time before the idle memory is read.
const IDLE_WAIT: Duration = Duration::from_secs(3);
/// Settling time between establishing the watchers and reading the memory.
const SETTLE_WAIT: Duration = Duration::from_secs(1);
/// How long the server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Goals.
const GOAL_LIST_P50_MS: f64 = 150.0;
const GOAL_RSS_PER_WATCHER_KB: f64 = 32.0;
const GOAL_IDLE_RSS_MB: f64 = 60.0;

/// Namespaces of the phases.
const NS_FEW: &str = "bench-create-1";
const NS_MANY: &str = "bench-create-50";
const NS_LIST: &str = "bench-list";
const NS_WATCH: &str = "bench-watch";

/// Arguments of `skiff bench api`.
#[derive(clap::Args, Debug)]
pub struct BenchApiArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Measured wall time of each create phase, in seconds (after the warm-up).
    #[arg(long, default_value_t = 5.0, value_parser = parse_positive_seconds)]
    pub seconds: f64,
    /// Warm-up before each create phase's measurement, in seconds.
    #[arg(long, default_value_t = 1.0, value_parser = parse_seconds)]
    pub warmup_seconds: f64,
    /// ConfigMaps in the listed namespace.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub list_objects: u64,
    /// Timed lists (after two untimed ones).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub lists: u64,
    /// Concurrent watchers.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub watchers: u64,
    /// Creates whose delivery to every watcher is timed.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub watch_creates: u64,
}

pub async fn run(args: BenchApiArgs) -> anyhow::Result<()> {
    // On Ctrl-C or SIGTERM the measuring future is dropped, which kills the server it started.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot handle SIGTERM")?;
    tokio::select! {
        r = measure(args) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        _ = term.recv() => Err(anyhow!("terminated")),
    }
}

async fn measure(args: BenchApiArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = Plan {
        measure: Duration::try_from_secs_f64(args.seconds).context("--seconds")?,
        warmup: Duration::try_from_secs_f64(args.warmup_seconds).context("--warmup-seconds")?,
        watch_writes: 0,
        watch_period: Duration::ZERO,
    };
    let list_objects = usize::try_from(args.list_objects).context("--list-objects")?;
    let lists = usize::try_from(args.lists).context("--lists")?;
    let watchers = usize::try_from(args.watchers).context("--watchers")?;
    let watch_creates = usize::try_from(args.watch_creates).context("--watch-creates")?;

    progress("starting skiff server (embedded store) on loopback");
    let mut server = ServerProcess::start().await?;
    let client = server.client.clone();

    tokio::time::sleep(IDLE_WAIT).await;
    let idle_rss_kb = server.rss_kb()?;
    progress(&format!(
        "  idle RSS: {:.1} MiB",
        idle_rss_kb as f64 / 1024.0
    ));

    let mut admin = client.connect(Proto::Http2).await?;
    for ns in [NS_FEW, NS_MANY, NS_LIST, NS_WATCH] {
        admin
            .create(
                "/api/v1/namespaces",
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await
            .with_context(|| format!("creating namespace {ns}"))?;
    }

    // Watchers first, on a fresh heap: later phases leave freed memory the allocator would
    // hand to the watchers without the resident set growing. They are closed at the end of
    // the phase, so they cost the create phases nothing.
    progress(&format!(
        "{watchers} watchers over {WATCH_CONNECTIONS} HTTP/2 connections, {watch_creates} creates"
    ));
    let watch = measure_watch(&mut server, &client, NS_WATCH, watchers, watch_creates).await?;
    progress(&format!(
        "  RSS {:.1} -> {:.1} MiB; delivery p50 {} ms, p99 {} ms over {} events ({} lost)",
        watch.rss_before_kb as f64 / 1024.0,
        watch.rss_after_kb as f64 / 1024.0,
        fmt_opt(watch.p50_ms, 2),
        fmt_opt(watch.p99_ms, 2),
        watch.samples,
        watch.lost
    ));

    let mut creates = Vec::new();
    let mut object_bytes = 0;
    for (clients, ns) in [(FEW_CLIENTS, NS_FEW), (MANY_CLIENTS, NS_MANY)] {
        let (r, bytes) = measure_creates(&client, ns, clients, &plan)
            .await
            .with_context(|| format!("create phase with {clients} client(s)"))?;
        progress(&format!("  creates/s, {clients:>2} client(s): {r:>8.1}"));
        creates.push(r);
        object_bytes = bytes;
    }

    progress(&format!(
        "filling {NS_LIST} with {list_objects} ConfigMaps ({MANY_CLIENTS} clients)"
    ));
    fill(&client, NS_LIST, list_objects, MANY_CLIENTS).await?;
    let list_ms = measure_lists(&client, NS_LIST, list_objects, lists).await?;
    let list_p50_ms = percentile(&list_ms, 50.0);
    progress(&format!(
        "  LIST of {list_objects}: p50 {} ms, max {} ms over {lists} lists",
        fmt_opt(list_p50_ms, 1),
        fmt_opt(list_ms.last().copied(), 1)
    ));

    drop(admin);
    drop(server);

    let (etcd_writes_per_s_50, etcd_note) = if find_on_path("etcd").is_none() {
        let note = "etcd is not installed (no `etcd` on PATH): the anchor is skipped; install \
                    the Debian package etcd-server to compare";
        progress(&format!("note: {note}"));
        (None, Some(note.to_string()))
    } else {
        progress(&format!(
            "etcd (started on loopback): {MANY_CLIENTS} writers of {object_bytes}-byte values"
        ));
        match measure_etcd(object_bytes, &plan).await {
            Ok(r) => {
                progress(&format!("  durable writes/s: {r:.1}"));
                (Some(r), None)
            }
            Err(e) => {
                let note = format!("etcd figures skipped: {e:#}");
                progress(&format!("note: {note}"));
                (None, Some(note))
            }
        }
    };

    let figures = Figures {
        creates_per_s_1: creates[0],
        creates_per_s_50: creates[1],
        etcd_writes_per_s_50,
        list_10k_p50_ms: list_p50_ms,
        watch_p99_ms: watch.p99_ms,
        rss_per_watcher_kb: per_watcher_kb(watch.rss_before_kb, watch.rss_after_kb, watchers),
        idle_rss_mb: idle_rss_kb as f64 / 1024.0,
    };
    let info = RunInfo {
        machine_cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        seconds: args.seconds,
        warmup_seconds: args.warmup_seconds,
        object_bytes,
        list_objects,
        lists,
        watchers,
        watch_creates,
        watch_lost: watch.lost,
        etcd_note,
    };
    progress(&format!("done in {:.1} s", started.elapsed().as_secs_f64()));
    if args.json {
        let text = serde_json::to_string_pretty(&figures_json(&figures))
            .context("cannot encode the result")?;
        println!("{text}");
    } else {
        print!("{}", render_table(&figures, &info));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Glue: the server process and the phases.

/// A `skiff server` child process; killed and reaped on drop (then its data goes).
struct ServerProcess {
    child: Child,
    client: ApiClient,
    /// The data directory (with the server's log), removed after the child is reaped
    /// (fields drop after `drop`).
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the server on a free loopback port and waits until /readyz answers ok.
    async fn start() -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let mut last = None;
        // Another process may take the probed port before the server binds it.
        for _ in 0..3 {
            match Self::start_once(&exe).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("the server did not start")))
    }

    async fn start_once(exe: &Path) -> anyhow::Result<ServerProcess> {
        let dir = tempfile::Builder::new()
            .prefix("skiff-bench-api-")
            .tempdir()
            .context("cannot create a temporary data directory")?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .context("cannot find a free loopback port")?
            .port();
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let child = Command::new(exe)
            .args(["server", "--disable-agent", "--bind-address", "127.0.0.1"])
            .arg("--https-port")
            .arg(port.to_string())
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("cannot start {} server", exe.display()))?;
        let mut child = KillOnDrop(Some(child));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.0.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                bail!("skiff server exited ({status}):\n{}", log_tail(&log_path));
            }
            if Instant::now() > deadline {
                bail!(
                    "skiff server not ready after {START_TIMEOUT:?}:\n{}",
                    log_tail(&log_path)
                );
            }
            if dir.path().join("kubeconfig.yaml").exists() {
                let client = ApiClient::from_data_dir(dir.path(), addr)?;
                if ready(&client).await {
                    let child = child.0.take().ok_or_else(|| anyhow!("no child"))?;
                    return Ok(ServerProcess { child, client, dir });
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's resident set, in KiB.
    fn rss_kb(&mut self) -> anyhow::Result<u64> {
        if let Ok(Some(status)) = self.child.try_wait() {
            bail!(
                "skiff server exited ({status}):\n{}",
                log_tail(&self.dir.path().join("server.log"))
            );
        }
        let path = format!("/proc/{}/status", self.child.id());
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        vm_rss_kb(&status).ok_or_else(|| anyhow!("no VmRSS line in {path}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child killed and reaped on drop unless taken.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn ready(client: &ApiClient) -> bool {
    let Ok(mut conn) = client.connect(Proto::Http1).await else {
        return false;
    };
    matches!(
        conn.request(Method::GET, "/readyz", None).await,
        Ok((StatusCode::OK, body)) if body.as_ref() == b"ok"
    )
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

fn configmaps_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

/// `clients` tasks, each on its own HTTP/2 connection, create ConfigMaps in `ns` one at a
/// time; returns the acknowledged creates per second over the window and the size of a
/// created object's JSON.
async fn measure_creates(
    client: &ApiClient,
    ns: &str,
    clients: usize,
    plan: &Plan,
) -> anyhow::Result<(f64, usize)> {
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let object_bytes = Arc::new(AtomicUsize::new(0));
    let path = configmaps_path(ns);
    let mut conns = Vec::new();
    for _ in 0..clients {
        conns.push(client.connect(Proto::Http2).await?);
    }
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    for (c, mut conn) in conns.into_iter().enumerate() {
        let (acked, stop, object_bytes, path) = (
            acked.clone(),
            stop.clone(),
            object_bytes.clone(),
            path.clone(),
        );
        tasks.spawn(async move {
            let mut seq = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let body = configmap_body(&format!("c{c:02}-{seq:08}"), seq);
                let (status, resp) = conn.request(Method::POST, &path, Some(body)).await?;
                if status != StatusCode::CREATED {
                    bail!("POST {path}: {status}: {}", String::from_utf8_lossy(&resp));
                }
                object_bytes.store(resp.len(), Ordering::Relaxed);
                acked.fetch_add(1, Ordering::SeqCst);
                seq += 1;
            }
            Ok(())
        });
    }
    let r = rate_over_window(&acked, &stop, tasks, plan, "client").await?;
    Ok((r, object_bytes.load(Ordering::Relaxed)))
}

/// Creates `count` ConfigMaps in `ns` with `clients` concurrent connections.
async fn fill(client: &ApiClient, ns: &str, count: usize, clients: usize) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let path = configmaps_path(ns);
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    for _ in 0..clients.min(count) {
        let mut conn = client.connect(Proto::Http2).await?;
        let (next, path) = (next.clone(), path.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= count {
                    return Ok(());
                }
                let body = configmap_body(&format!("l-{i:07}"), i as u64);
                let (status, resp) = conn.request(Method::POST, &path, Some(body)).await?;
                if status != StatusCode::CREATED {
                    bail!("POST {path}: {status}: {}", String::from_utf8_lossy(&resp));
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a fill task failed")??;
    }
    Ok(())
}

/// Lists `ns` (which holds `expected` ConfigMaps) twice untimed, checking the count, then
/// `lists` times timed; returns the times in ms, ascending.
async fn measure_lists(
    client: &ApiClient,
    ns: &str,
    expected: usize,
    lists: usize,
) -> anyhow::Result<Vec<f64>> {
    let path = configmaps_path(ns);
    let mut conn = client.connect(Proto::Http2).await?;
    for _ in 0..2 {
        let list = conn.get_json(&path).await?;
        let n = list["items"].as_array().map_or(0, Vec::len);
        if n != expected {
            bail!("LIST {path} returned {n} items, expected {expected}");
        }
    }
    let mut ms = Vec::with_capacity(lists);
    for _ in 0..lists {
        let t0 = Instant::now();
        let (status, body) = conn.request(Method::GET, &path, None).await?;
        let elapsed = t0.elapsed();
        if status != StatusCode::OK || body.is_empty() {
            bail!("LIST {path}: {status}");
        }
        ms.push(elapsed.as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

/// What the watch phase measured.
struct WatchFigures {
    rss_before_kb: u64,
    rss_after_kb: u64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    samples: usize,
    lost: usize,
}

async fn measure_watch(
    server: &mut ServerProcess,
    client: &ApiClient,
    ns: &str,
    watchers: usize,
    creates: usize,
) -> anyhow::Result<WatchFigures> {
    let path = configmaps_path(ns);
    let mut creator = client.connect(Proto::Http2).await?;
    let list = creator.get_json(&path).await?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .ok_or_else(|| anyhow!("LIST {path}: no resourceVersion"))?
        .to_string();
    let watch_path = format!("{path}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}");

    let rss_before_kb = server.rss_kb()?;
    let mut conns = Vec::new();
    for _ in 0..WATCH_CONNECTIONS.min(watchers) {
        conns.push(client.connect(Proto::Http2).await?);
    }
    let established = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks: JoinSet<anyhow::Result<Vec<Option<Instant>>>> = JoinSet::new();
    for w in 0..watchers {
        let conn = conns[w % conns.len()]
            .stream_handle()
            .ok_or_else(|| anyhow!("not an HTTP/2 connection"))?;
        let (established, stop, watch_path) =
            (established.clone(), stop_rx.clone(), watch_path.clone());
        tasks.spawn(watcher(conn, watch_path, creates, established, stop));
    }
    let deadline = Instant::now() + START_TIMEOUT;
    while established.load(Ordering::SeqCst) < watchers {
        if let Some(Some(joined)) = futures::FutureExt::now_or_never(tasks.join_next()) {
            joined.context("a watcher task failed")??;
            bail!("a watcher ended before any create");
        }
        if Instant::now() > deadline {
            bail!(
                "only {} of {watchers} watches established after {START_TIMEOUT:?}",
                established.load(Ordering::SeqCst)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(SETTLE_WAIT).await;
    let rss_after_kb = server.rss_kb()?;

    let mut sent: Vec<Option<Instant>> = vec![None; creates];
    let mut interval = tokio::time::interval(WATCH_CREATE_EVERY);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for (seq, slot) in sent.iter_mut().enumerate() {
        interval.tick().await;
        let body = configmap_body(&watch_name(seq), seq as u64);
        let t0 = Instant::now();
        let (status, resp) = creator.request(Method::POST, &path, Some(body)).await?;
        if status != StatusCode::CREATED {
            bail!("POST {path}: {status}: {}", String::from_utf8_lossy(&resp));
        }
        *slot = Some(t0);
    }
    let give_up = tokio::spawn(async move {
        tokio::time::sleep(WATCH_GRACE).await;
        let _ = stop_tx.send(true);
    });
    let mut latencies = Vec::with_capacity(watchers * creates);
    let mut lost = 0;
    while let Some(joined) = tasks.join_next().await {
        let received = joined.context("a watcher task failed")??;
        let (ms, l) = latencies_ms(&sent, &received);
        latencies.extend(ms);
        lost += l;
    }
    give_up.abort();
    latencies.sort_by(f64::total_cmp);
    Ok(WatchFigures {
        rss_before_kb,
        rss_after_kb,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        samples: latencies.len(),
        lost,
    })
}

/// One watcher: opens the watch, counts itself established on the 200, then records when
/// each ADDED event of the phase's creates arrives, until it has all or is told to stop.
async fn watcher(
    mut conn: Conn,
    path: String,
    creates: usize,
    established: Arc<AtomicUsize>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<Option<Instant>>> {
    let resp = conn.send(Method::GET, &path, None).await?;
    if resp.status() != StatusCode::OK {
        let status = resp.status();
        let body = resp.into_body().collect().await.map(|b| b.to_bytes());
        bail!(
            "GET {path}: {status}: {}",
            String::from_utf8_lossy(&body.unwrap_or_default())
        );
    }
    established.fetch_add(1, Ordering::SeqCst);
    let mut body = resp.into_body();
    let mut received: Vec<Option<Instant>> = vec![None; creates];
    let mut seen = 0;
    let mut buf = Vec::new();
    while seen < creates {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = stop.wait_for(|s| *s) => break,
        };
        let now = Instant::now();
        let data = match frame {
            Some(Ok(f)) => match f.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
            Some(Err(e)) => bail!("the watch was cut off after {seen} events: {e}"),
            None => bail!("the watch ended after {seen} of {creates} events"),
        };
        for line in take_lines(&mut buf, &data) {
            if let Some(seq) = added_seq(&line) {
                if let Some(slot @ None) = received.get_mut(seq) {
                    *slot = Some(now);
                    seen += 1;
                }
            }
        }
    }
    Ok(received)
}

/// Starts etcd, measures durable writes/s with [`MANY_CLIENTS`] writers, stops it.
async fn measure_etcd(value_bytes: usize, plan: &Plan) -> anyhow::Result<f64> {
    let process = EtcdProcess::start().await.context("cannot start etcd")?;
    let store = EtcdStore::connect(&[process.endpoint()])
        .await
        .with_context(|| format!("cannot connect to etcd at {}", process.endpoint()))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let r = measure_writes(store, "/bench-api", MANY_CLIENTS, value_bytes.max(1), plan).await;
    drop(process);
    r
}

// ---------------------------------------------------------------------------------------------
// Pure: request bodies, parsing, statistics, output.

/// A ConfigMap named `name` with three data keys; about 200 bytes of JSON.
fn configmap_body(name: &str, seed: u64) -> Bytes {
    let v = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {
            "mode": format!("bench-{}", seed % 7),
            "owner": "skiff-bench-api",
            "payload": format!("{seed:016x}-{}", "x".repeat(32)),
        },
    });
    Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
}

/// The name of the watch phase's create number `seq`.
fn watch_name(seq: usize) -> String {
    format!("w-{seq:06}")
}

#[derive(Deserialize)]
struct WatchLine {
    #[serde(rename = "type")]
    kind: String,
    object: WatchObject,
}

#[derive(Deserialize)]
struct WatchObject {
    metadata: WatchMeta,
}

#[derive(Deserialize)]
struct WatchMeta {
    #[serde(default)]
    name: String,
}

/// The sequence number of the watch phase's create that a watch line announces as ADDED.
fn added_seq(line: &[u8]) -> Option<usize> {
    let l: WatchLine = serde_json::from_slice(line).ok()?;
    if l.kind != "ADDED" {
        return None;
    }
    l.object.metadata.name.strip_prefix("w-")?.parse().ok()
}

/// The `VmRSS` of a `/proc/PID/status` text, in KiB.
fn vm_rss_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let n = parts.next()?.parse().ok()?;
    (parts.next()? == "kB").then_some(n)
}

/// The growth of the resident set per watcher, in KiB (negative if it shrank).
fn per_watcher_kb(before_kb: u64, after_kb: u64, watchers: usize) -> f64 {
    (after_kb as f64 - before_kb as f64) / watchers.max(1) as f64
}

/// Latencies in ms of the creates sent (`sent`) whose event arrived (`received`, indexed
/// alike), and how many sent creates never arrived.
fn latencies_ms(sent: &[Option<Instant>], received: &[Option<Instant>]) -> (Vec<f64>, usize) {
    let mut ms = Vec::with_capacity(sent.len());
    let mut lost = 0;
    for (i, s) in sent.iter().enumerate() {
        let Some(s) = s else { continue };
        match received.get(i).copied().flatten() {
            Some(r) => ms.push(r.saturating_duration_since(*s).as_secs_f64() * 1e3),
            None => lost += 1,
        }
    }
    (ms, lost)
}

/// The figures of one run (the `--json` keys).
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    creates_per_s_1: f64,
    creates_per_s_50: f64,
    /// None when etcd was not measured.
    etcd_writes_per_s_50: Option<f64>,
    list_10k_p50_ms: Option<f64>,
    watch_p99_ms: Option<f64>,
    rss_per_watcher_kb: f64,
    idle_rss_mb: f64,
}

/// How the figures were obtained (for the table).
#[derive(Debug, Clone, PartialEq)]
struct RunInfo {
    machine_cpus: usize,
    seconds: f64,
    warmup_seconds: f64,
    object_bytes: usize,
    list_objects: usize,
    lists: usize,
    watchers: usize,
    watch_creates: usize,
    watch_lost: usize,
    etcd_note: Option<String>,
}

/// The `--json` object: exactly the seven figures.
fn figures_json(f: &Figures) -> Value {
    json!({
        "creates_per_s_1": rounded(Some(f.creates_per_s_1), 1),
        "creates_per_s_50": rounded(Some(f.creates_per_s_50), 1),
        "etcd_writes_per_s_50": rounded(f.etcd_writes_per_s_50, 1),
        "list_10k_p50_ms": rounded(f.list_10k_p50_ms, 2),
        "watch_p99_ms": rounded(f.watch_p99_ms, 2),
        "rss_per_watcher_kb": rounded(Some(f.rss_per_watcher_kb), 2),
        "idle_rss_mb": rounded(Some(f.idle_rss_mb), 2),
    })
}

/// The human-readable result: every figure with its goal and verdict.
fn render_table(f: &Figures, c: &RunInfo) -> String {
    let s = |v: &str| v.to_string();
    let mut rows = vec![vec![s("figure"), s("value"), s("goal"), s("verdict")]];
    rows.push(vec![
        format!("creates/s, {FEW_CLIENTS} client"),
        format!("{:.0}", f.creates_per_s_1),
    ]);
    rows.push(vec![
        format!("creates/s, {MANY_CLIENTS} clients"),
        format!("{:.0}", f.creates_per_s_50),
        f.etcd_writes_per_s_50
            .map_or_else(|| s(">= etcd writes/s"), |e| format!(">= {e:.0} (etcd)")),
        s(match f.etcd_writes_per_s_50 {
            Some(e) => verdict(Some(f.creates_per_s_50), e, true),
            None => "n/a",
        }),
    ]);
    rows.push(vec![
        format!("etcd durable writes/s, {MANY_CLIENTS} writers"),
        fmt_opt(f.etcd_writes_per_s_50, 0),
    ]);
    rows.push(vec![
        format!("LIST of {} ConfigMaps, p50 (ms)", c.list_objects),
        fmt_opt(f.list_10k_p50_ms, 1),
        format!("<= {GOAL_LIST_P50_MS}"),
        s(verdict(f.list_10k_p50_ms, GOAL_LIST_P50_MS, false)),
    ]);
    rows.push(vec![
        format!("watch delivery p99 (ms), {} watchers", c.watchers),
        fmt_opt(f.watch_p99_ms, 2),
    ]);
    if c.watch_lost > 0 {
        rows.push(vec![
            s("watch events lost"),
            c.watch_lost.to_string(),
            s("0"),
            s("MISSED"),
        ]);
    }
    rows.push(vec![
        s("server RSS per watcher (KiB)"),
        format!("{:.1}", f.rss_per_watcher_kb),
        format!("<= {GOAL_RSS_PER_WATCHER_KB}"),
        s(verdict(
            Some(f.rss_per_watcher_kb),
            GOAL_RSS_PER_WATCHER_KB,
            false,
        )),
    ]);
    rows.push(vec![
        s("server RSS idle (MiB)"),
        format!("{:.1}", f.idle_rss_mb),
        format!("<= {GOAL_IDLE_RSS_MB}"),
        s(verdict(Some(f.idle_rss_mb), GOAL_IDLE_RSS_MB, false)),
    ]);
    let mut out = format!(
        "skiff bench api: {} CPU(s) shared by server and client; HTTPS, admin client \
         certificate; ConfigMaps of {} bytes as stored; creates: {} s per phase after {} s \
         warm-up, one HTTP/2 connection per client; LIST: p50 of {}; watch: {} watchers on {} \
         HTTP/2 connections, {} creates\n\n",
        c.machine_cpus,
        c.object_bytes,
        c.seconds,
        c.warmup_seconds,
        c.lists,
        c.watchers,
        WATCH_CONNECTIONS,
        c.watch_creates,
    );
    out.push_str(&align(&rows));
    if let Some(note) = &c.etcd_note {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> Figures {
        Figures {
            creates_per_s_1: 412.34,
            creates_per_s_50: 3000.0,
            etcd_writes_per_s_50: Some(4000.0),
            list_10k_p50_ms: Some(80.456),
            watch_p99_ms: Some(12.5),
            rss_per_watcher_kb: 40.25,
            idle_rss_mb: 21.0,
        }
    }

    fn context() -> RunInfo {
        RunInfo {
            machine_cpus: 2,
            seconds: 5.0,
            warmup_seconds: 1.0,
            object_bytes: 380,
            list_objects: 10_000,
            lists: 20,
            watchers: 1000,
            watch_creates: 100,
            watch_lost: 0,
            etcd_note: None,
        }
    }

    #[test]
    fn configmaps_are_about_200_bytes() {
        for seed in [0, 7, u64::MAX] {
            let b = configmap_body("c00-00000001", seed);
            assert!((150..=250).contains(&b.len()), "{} bytes", b.len());
            let v: Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(v["metadata"]["name"], "c00-00000001");
            assert_eq!(v["data"].as_object().unwrap().len(), 3);
        }
    }

    #[test]
    fn added_events_name_their_create() {
        let line = |t: &str, name: &str| {
            serde_json::to_vec(&json!({"type": t, "object": {"metadata": {"name": name}}})).unwrap()
        };
        assert_eq!(added_seq(&line("ADDED", &watch_name(42))), Some(42));
        assert_eq!(added_seq(&line("MODIFIED", &watch_name(42))), None);
        assert_eq!(added_seq(&line("ADDED", "other")), None);
        assert_eq!(
            added_seq(br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#),
            None
        );
        assert_eq!(added_seq(b"not json"), None);
    }

    #[test]
    fn rss_from_proc_status() {
        let status = "Name:\tskiff\nVmPeak:\t  100 kB\nVmRSS:\t   23456 kB\nThreads:\t3\n";
        assert_eq!(vm_rss_kb(status), Some(23456));
        assert_eq!(vm_rss_kb("Name:\tx\n"), None);
        assert_eq!(vm_rss_kb("VmRSS:\t12 MB\n"), None);
        assert_eq!(per_watcher_kb(1000, 33_000, 1000), 32.0);
        assert_eq!(per_watcher_kb(2000, 1000, 1000), -1.0);
        assert_eq!(per_watcher_kb(0, 10, 0), 10.0);
    }

    #[test]
    fn latencies_pair_sends_with_arrivals() {
        let t = Instant::now();
        let ms = |n: u64| Some(t + Duration::from_millis(n));
        let (l, lost) = latencies_ms(
            &[ms(0), ms(10), None, ms(30)],
            &[ms(2), ms(15), ms(25), None],
        );
        assert_eq!(l, vec![2.0, 5.0]);
        assert_eq!(lost, 1);
    }

    #[test]
    fn json_has_exactly_the_seven_keys() {
        let j = figures_json(&figures());
        let mut keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "creates_per_s_1",
                "creates_per_s_50",
                "etcd_writes_per_s_50",
                "idle_rss_mb",
                "list_10k_p50_ms",
                "rss_per_watcher_kb",
                "watch_p99_ms"
            ]
        );
        assert_eq!(j["creates_per_s_1"], json!(412.3));
        assert_eq!(j["list_10k_p50_ms"], json!(80.46));
        let mut none = figures();
        none.etcd_writes_per_s_50 = None;
        assert_eq!(figures_json(&none)["etcd_writes_per_s_50"], Value::Null);
    }

    #[test]
    fn table_shows_goals_and_verdicts() {
        let text = render_table(&figures(), &context());
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix:?} line in\n{text}"))
                .to_string()
        };
        let c50 = line("creates/s, 50 clients");
        assert!(
            c50.contains(">= 4000 (etcd)") && c50.ends_with("MISSED"),
            "{c50}"
        );
        assert!(line("LIST of 10000 ConfigMaps").ends_with("ok"));
        assert!(line("server RSS per watcher").ends_with("MISSED"));
        assert!(line("server RSS idle").ends_with("ok"));
        assert!(line("watch delivery p99").contains("12.50"));
        assert!(!text.contains("watch events lost"));

        let mut f = figures();
        f.etcd_writes_per_s_50 = None;
        let mut c = context();
        c.etcd_note = Some("etcd is not installed".into());
        c.watch_lost = 3;
        let text = render_table(&f, &c);
        assert!(text.contains("note: etcd is not installed"));
        assert!(text.contains("watch events lost"));
        let c50 = text
            .lines()
            .find(|l| l.starts_with("creates/s, 50 clients"))
            .unwrap();
        assert!(c50.ends_with("n/a"), "{c50}");
    }
}
