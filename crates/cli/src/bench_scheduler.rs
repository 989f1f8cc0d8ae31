//! `skiff bench scheduler`: the scheduler and controllers at scale, in this process. Each
//! phase runs a real `skiff server` (embedded store in a temporary directory, HTTPS
//! listener on a free loopback port) on its own async runtime, with hollow nodes, and drives
//! it through an in-process kube-rs client:
//!
//! - scheduling: with `--nodes` (5,000) Ready simulated nodes, `--pods` (10,000) pods are
//!   created at full speed by 64 concurrent clients; a watch records when each pod first
//!   shows a node. Figures: pods bound per second (from the first create sent to the last
//!   binding seen) and the p99 of create-to-bound latency.
//! - a Deployment of `--deployment-replicas` (5,000) on `--deployment-nodes` (500) simulated
//!   nodes: seconds from its create until `status.availableReplicas` reaches the replicas.
//!
//! The phases' runtimes are dropped afterwards, which stops their servers. Progress goes to
//! stderr, the result (table or `--json`) to stdout.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::Client;
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::bench_store::{align, fmt_opt, percentile, progress, rounded, verdict};

/// Goal of the scheduling phase on a 2-core machine.
const GOAL_PODS_PER_S: f64 = 1000.0;
/// Concurrent creating clients.
const CREATORS: usize = 64;
/// How long the simulated nodes may take to become Ready.
const NODES_TIMEOUT: Duration = Duration::from_secs(600);
/// How long the pods or the Deployment may take.
const WORK_TIMEOUT: Duration = Duration::from_secs(900);
const NS: &str = "bench";

/// Arguments of `skiff bench scheduler`.
#[derive(clap::Args, Debug)]
pub struct BenchSchedulerArgs {
    /// Simulated nodes of the scheduling phase.
    #[arg(long, default_value_t = 5000)]
    pub nodes: usize,
    /// Pods created in the scheduling phase.
    #[arg(long, default_value_t = 10_000)]
    pub pods: usize,
    /// Replicas of the Deployment phase (0 skips it).
    #[arg(long, default_value_t = 5000)]
    pub deployment_replicas: usize,
    /// Simulated nodes of the Deployment phase.
    #[arg(long, default_value_t = 500)]
    pub deployment_nodes: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What one run measured.
#[derive(Debug, Default)]
struct Figures {
    pods_per_s: Option<f64>,
    p99_ms: Option<f64>,
    p50_ms: Option<f64>,
    deployment_available_s: Option<f64>,
}

pub fn run(args: BenchSchedulerArgs) -> anyhow::Result<()> {
    let mut f = Figures::default();
    progress(&format!(
        "scheduling: {} pods on {} simulated nodes",
        args.pods, args.nodes
    ));
    let (rate, p50, p99) = in_server(args.nodes, |client| schedule_pods(client, args.pods))?;
    f.pods_per_s = Some(rate);
    f.p50_ms = p50;
    f.p99_ms = p99;
    if args.deployment_replicas > 0 {
        progress(&format!(
            "deployment: {} replicas on {} simulated nodes",
            args.deployment_replicas, args.deployment_nodes
        ));
        let secs = in_server(args.deployment_nodes, |client| {
            deployment_available(client, args.deployment_replicas)
        })?;
        f.deployment_available_s = Some(secs);
    }
    if args.json {
        println!("{}", figures_json(&f));
    } else {
        print!("{}", render_table(&f, &args));
    }
    Ok(())
}

/// Runs `work` against a fresh server with `nodes` Ready simulated nodes, on a runtime of
/// its own that is dropped afterwards (stopping the server).
fn in_server<T, F, Fut>(nodes: usize, work: F) -> anyhow::Result<T>
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let runtime = tokio::runtime::Runtime::new().context("cannot start a runtime")?;
    let dir = tempfile::tempdir().context("temporary directory")?;
    let result = runtime.block_on(async {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir_s = dir.path().to_string_lossy().to_string();
        let port_s = port.to_string();
        let nodes_s = nodes.to_string();
        let args = crate::server_cmd::parse_args(&[
            "--data-dir",
            &dir_s,
            "--bind-address",
            "127.0.0.1",
            "--https-port",
            &port_s,
            "--disable-agent",
            "--cluster-cidr",
            "10.0.0.0/8",
            "--simulated-nodes",
            &nodes_s,
        ])?;
        let started = crate::server_cmd::start(args).await?;
        let client = crate::control_plane::local_client(
            &started.app,
            "skiff-bench",
            &["system:masters", "system:authenticated"],
        );
        tokio::spawn(started.serve());
        wait_nodes_ready(&client, nodes).await?;
        let ns = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some(NS.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .context("creating the bench namespace")?;
        work(client).await
    });
    runtime.shutdown_background();
    result
}

async fn wait_nodes_ready(client: &Client, want: usize) -> anyhow::Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    let start = Instant::now();
    let mut last = usize::MAX;
    loop {
        let nodes = api.list(&ListParams::default()).await?;
        let ready = nodes.items.iter().filter(|n| node_ready(n)).count();
        if ready >= want {
            progress(&format!(
                "{ready} nodes Ready after {:.1} s",
                start.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        if ready != last {
            progress(&format!("{ready}/{want} nodes Ready"));
            last = ready;
        }
        if start.elapsed() > NODES_TIMEOUT {
            bail!("only {ready} of {want} simulated nodes became Ready");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn node_ready(n: &Node) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{
            "name": "c",
            "image": "registry.k8s.io/pause:3.10",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}
        }]}
    }))
    .unwrap_or_default()
}

/// Creates `count` pods and returns (pods/s, p50 ms, p99 ms).
async fn schedule_pods(
    client: Client,
    count: usize,
) -> anyhow::Result<(f64, Option<f64>, Option<f64>)> {
    let api: Api<Pod> = Api::namespaced(client.clone(), NS);
    let bound: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(0usize);
    {
        let bound = bound.clone();
        let api = api.clone();
        tokio::spawn(async move {
            let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
            while let Some(ev) = stream.next().await {
                let pod = match ev {
                    Ok(Event::Apply(p)) | Ok(Event::InitApply(p)) => p,
                    _ => continue,
                };
                if pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_ref())
                    .is_none()
                {
                    continue;
                }
                let name = pod.metadata.name.unwrap_or_default();
                let mut b = bound.lock();
                if let std::collections::hash_map::Entry::Vacant(e) = b.entry(name) {
                    e.insert(Instant::now());
                    done_tx.send_replace(b.len());
                }
            }
        });
    }
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut creators = Vec::new();
    for _ in 0..CREATORS {
        let (api, next, sent) = (api.clone(), next.clone(), sent.clone());
        creators.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, kube::Error>(());
                }
                let name = format!("p-{i}");
                sent.lock().insert(name.clone(), Instant::now());
                api.create(&PostParams::default(), &pod(&name)).await?;
            }
        }));
    }
    for c in creators {
        c.await.map_err(|e| anyhow!("creator: {e}"))??;
    }
    progress(&format!(
        "{count} pods created in {:.1} s",
        start.elapsed().as_secs_f64()
    ));
    let deadline = tokio::time::Instant::now() + WORK_TIMEOUT;
    loop {
        if *done_rx.borrow_and_update() >= count {
            break;
        }
        if tokio::time::timeout_at(deadline, done_rx.changed())
            .await
            .is_err()
        {
            bail!("only {} of {count} pods were bound", bound.lock().len());
        }
    }
    let bound = bound.lock();
    let sent = sent.lock();
    let last = bound.values().max().copied().unwrap_or(start);
    let rate = count as f64 / last.duration_since(start).as_secs_f64().max(1e-9);
    let mut lat: Vec<f64> = bound
        .iter()
        .filter_map(|(n, t)| {
            sent.get(n)
                .map(|s| t.duration_since(*s).as_secs_f64() * 1000.0)
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    Ok((rate, percentile(&lat, 50.0), percentile(&lat, 99.0)))
}

/// Creates a Deployment of `replicas` and returns the seconds until all are available.
async fn deployment_available(client: Client, replicas: usize) -> anyhow::Result<f64> {
    let api: Api<Deployment> = Api::namespaced(client, NS);
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "big"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "big"}},
            "template": {
                "metadata": {"labels": {"app": "big"}},
                "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}
            }
        }
    }))?;
    let start = Instant::now();
    api.create(&PostParams::default(), &d).await?;
    let mut last = 0;
    loop {
        let d = api.get("big").await?;
        let available = d
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0) as usize;
        if available >= replicas {
            return Ok(start.elapsed().as_secs_f64());
        }
        if available / 500 != last / 500 {
            progress(&format!("{available}/{replicas} available"));
        }
        last = available;
        if start.elapsed() > WORK_TIMEOUT {
            bail!("only {available} of {replicas} replicas became available");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn figures_json(f: &Figures) -> Value {
    json!({
        "pods_per_s": rounded(f.pods_per_s, 1),
        "p50_ms": rounded(f.p50_ms, 1),
        "p99_ms": rounded(f.p99_ms, 1),
        "deployment_available_s": rounded(f.deployment_available_s, 2),
    })
}

fn render_table(f: &Figures, a: &BenchSchedulerArgs) -> String {
    let rows = vec![
        vec!["figure".into(), "value".into(), "goal".into(), "".into()],
        vec![
            format!("pods bound/s ({} pods, {} nodes)", a.pods, a.nodes),
            fmt_opt(f.pods_per_s, 1),
            format!(">= {GOAL_PODS_PER_S}"),
            verdict(f.pods_per_s, GOAL_PODS_PER_S, true).into(),
        ],
        vec![
            "create-to-bound p50 (ms)".into(),
            fmt_opt(f.p50_ms, 1),
            String::new(),
            String::new(),
        ],
        vec![
            "create-to-bound p99 (ms)".into(),
            fmt_opt(f.p99_ms, 1),
            String::new(),
            String::new(),
        ],
        vec![
            format!(
                "deployment of {} on {} nodes available (s)",
                a.deployment_replicas, a.deployment_nodes
            ),
            fmt_opt(f.deployment_available_s, 2),
            String::new(),
            String::new(),
        ],
    ];
    align(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_issue_keys() {
        let f = Figures {
            pods_per_s: Some(1234.56),
            p99_ms: Some(80.04),
            p50_ms: Some(20.0),
            deployment_available_s: None,
        };
        let v = figures_json(&f);
        assert_eq!(v["pods_per_s"], json!(1234.6));
        assert_eq!(v["p99_ms"], json!(80.0));
        assert!(v["deployment_available_s"].is_null());
    }

    #[test]
    fn bench_pods_request_little() {
        let p = pod("p-1");
        assert_eq!(p.metadata.name.as_deref(), Some("p-1"));
        assert_eq!(p.spec.map(|s| s.containers.len()), Some(1));
    }
}
