//! `skiff server`: the control plane. Opens the store (embedded in DIR/db, or etcd), creates
//! or reuses the cluster PKI and admin kubeconfig, bootstraps the system namespaces and the
//! `kubernetes` Service, and serves the Kubernetes API over HTTPS.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use skiff_apiserver::alloc::{Allocators, Cidr};
use skiff_apiserver::app::{App, AppConfig};
use skiff_apiserver::auth::{Identity, TokenAuthenticator, BOOTSTRAP_GROUP, BOOTSTRAP_USER};
use skiff_apiserver::cache::WatchCache;
use skiff_apiserver::objects::SystemClock;
use skiff_pki::{ClusterPki, ServerNames};
use skiff_store::{EmbeddedOptions, EmbeddedStore, EtcdStore, Store};

/// How many changes the watch cache may leave unread on the embedded store's watch before
/// it is cut off (and reloads).
const CACHE_WATCH_QUEUE: usize = 1 << 20;

use crate::store_cmd::store_dir;

#[derive(Args, Debug)]
pub struct ServerArgs {
    /// Where the store, certificates, kubeconfig and token live.
    #[arg(long, default_value = "/var/lib/skiff")]
    data_dir: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    bind_address: IpAddr,
    /// The HTTPS port of the API.
    #[arg(long, default_value_t = 6443)]
    https_port: u16,
    /// Run the control plane only (no node agent on this machine).
    #[arg(long)]
    disable_agent: bool,
    /// Use these etcd endpoints (comma-separated URLs) instead of the embedded store.
    #[arg(long, value_delimiter = ',')]
    etcd_endpoints: Vec<String>,
    /// The range Service cluster IPs come from.
    #[arg(long, default_value = "10.43.0.0/16")]
    service_cidr: String,
    /// The range pod IPs come from (split into per-node ranges).
    #[arg(long, default_value = "10.42.0.0/16")]
    cluster_cidr: String,
    /// Do not run the scheduler in this server.
    #[arg(long)]
    disable_scheduler: bool,
    /// Do not run the controller manager in this server.
    #[arg(long)]
    disable_controller_manager: bool,
    /// How long a node may go without renewing its Lease before it is marked unknown.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    node_monitor_grace_period: std::time::Duration,
    /// Run this many hollow nodes (sim-0 ... sim-(N-1)): Nodes without containers whose
    /// pods are reported running, for tests and scale measurements.
    #[arg(long, default_value_t = 0)]
    simulated_nodes: usize,
    /// The CPU capacity of each simulated node.
    #[arg(long, default_value = "32")]
    simulated_node_cpu: String,
    /// The memory capacity of each simulated node.
    #[arg(long, default_value = "256Gi")]
    simulated_node_memory: String,
    /// The pod capacity of each simulated node.
    #[arg(long, default_value_t = 110)]
    simulated_node_pods: u32,
    /// How long a Job's pod runs on a simulated node before it succeeds.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    simulated_job_duration: std::time::Duration,
    /// How long new pods tolerate the node.kubernetes.io/not-ready:NoExecute taint
    /// (the toleration DefaultTolerationSeconds adds to every pod without one).
    #[arg(long, default_value_t = 300)]
    default_not_ready_toleration_seconds: i64,
    /// How long new pods tolerate the node.kubernetes.io/unreachable:NoExecute taint.
    #[arg(long, default_value_t = 300)]
    default_unreachable_toleration_seconds: i64,
}

/// Parses durations as Kubernetes flags write them: `300ms`, `40s`, `5m`, `1h`, `1m30s`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let span: jiff::Span = s
        .parse()
        .map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    let d = std::time::Duration::try_from(
        span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|e| format!("invalid duration {s:?}: {e}"))?,
    )
    .map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    Ok(d)
}

fn host_ips() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|ifs| ifs.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

/// The address other machines reach this server at.
fn advertise_address(bind: IpAddr, ips: &[IpAddr]) -> IpAddr {
    if !bind.is_unspecified() {
        return bind;
    }
    ips.iter()
        .copied()
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// A started server: the API is ready, the control plane components are running, the
/// listener is bound but not yet accepting.
pub struct Started {
    pub app: Arc<App>,
    listener: tokio::net::TcpListener,
    tls: rustls::ServerConfig,
}

impl Started {
    /// Serves the API until the listener fails.
    pub async fn serve(self) -> anyhow::Result<()> {
        skiff_apiserver::server::serve(self.listener, self.tls, self.app)
            .await
            .context("serving")
    }
}

/// Parses `skiff server` arguments from a list (for commands that run a server in-process).
pub fn parse_args(args: &[&str]) -> anyhow::Result<ServerArgs> {
    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ServerArgs,
    }
    let argv = std::iter::once("server").chain(args.iter().copied());
    Ok(<Wrapper as clap::Parser>::try_parse_from(argv)?.args)
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    start(args).await?.serve().await
}

/// Starts everything but the accept loop.
pub async fn start(args: ServerArgs) -> anyhow::Result<Started> {
    let service_cidr =
        Cidr::parse(&args.service_cidr).map_err(|e| anyhow::anyhow!("--service-cidr: {e}"))?;
    Cidr::parse(&args.cluster_cidr).map_err(|e| anyhow::anyhow!("--cluster-cidr: {e}"))?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let ips = host_ips();
    let mut names = ServerNames::new();
    if !args.bind_address.is_unspecified() {
        names = names.with_ip(args.bind_address);
    }
    for ip in &ips {
        names = names.with_ip(*ip);
    }
    names = names.with_ip(IpAddr::V4(service_cidr.nth(1)));
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            names = names.with_dns(h.to_string());
        }
    }
    let pki = ClusterPki::load_or_create(&args.data_dir, &names).context("cluster certificates")?;
    let store: Arc<dyn Store> = if args.etcd_endpoints.is_empty() {
        let dir = store_dir(&args.data_dir);
        Arc::new(
            EmbeddedStore::open_with(
                &dir,
                EmbeddedOptions {
                    // The watch cache is the store's one watcher here; under a burst it may
                    // fall behind for a moment, which must not cost a full reload.
                    watch_queue: CACHE_WATCH_QUEUE,
                    ..Default::default()
                },
            )
            .with_context(|| format!("cannot open the store in {}", dir.display()))?,
        )
    } else {
        let s = EtcdStore::connect(&args.etcd_endpoints)
            .await
            .context("cannot connect to etcd")?;
        let s: Arc<dyn Store> = Arc::new(s);
        tokio::spawn(skiff_store::retention::run_compactor(
            s.clone(),
            skiff_store::retention::RetentionPolicy::default(),
        ));
        s
    };
    let cache = WatchCache::start(store.clone())
        .await
        .context("loading the watch cache")?;
    let mut tokens = TokenAuthenticator::new();
    tokens.insert(
        pki.token().to_string(),
        Identity {
            user: BOOTSTRAP_USER.into(),
            groups: vec![BOOTSTRAP_GROUP.into()],
        },
    );
    let advertise = advertise_address(args.bind_address, &ips);
    let allocators = Allocators::new(store.clone(), service_cidr);
    allocators
        .repair()
        .await
        .context("repairing service address claims")?;
    let app = Arc::new(App::new(
        store,
        cache,
        Arc::new(SystemClock),
        tokens,
        allocators,
        AppConfig {
            advertise_address: advertise.to_string(),
            https_port: args.https_port,
            default_not_ready_toleration_seconds: args.default_not_ready_toleration_seconds,
            default_unreachable_toleration_seconds: args.default_unreachable_toleration_seconds,
        },
    ));
    skiff_apiserver::bootstrap::run(&app)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;
    tokio::spawn(skiff_apiserver::namespaces::run(app.clone()));
    let listener = tokio::net::TcpListener::bind((args.bind_address, args.https_port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.bind_address, args.https_port))?;
    let kubeconfig = args.data_dir.join("kubeconfig.yaml");
    let host = if args.bind_address.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        args.bind_address.to_string()
    };
    pki.write_kubeconfig(&kubeconfig, &format!("https://{host}:{}", args.https_port))
        .context("writing the kubeconfig")?;
    let tls = pki.server_tls_config().context("TLS configuration")?;
    app.set_ready();
    crate::control_plane::start(
        &app,
        crate::control_plane::Options {
            scheduler: !args.disable_scheduler,
            controller_manager: !args.disable_controller_manager,
            controllers: skiff_controllers::ControllerConfig {
                cluster_cidr: args.cluster_cidr.clone(),
                node_monitor_grace_period: args.node_monitor_grace_period,
                ..Default::default()
            },
            hollow: skiff_kubelet::hollow::HollowConfig {
                count: args.simulated_nodes,
                cpu: args.simulated_node_cpu.clone(),
                memory: args.simulated_node_memory.clone(),
                pods: args.simulated_node_pods,
                job_duration: args.simulated_job_duration,
                // As the kubelet: a quarter of the Lease's life, which must stay within
                // the grace period the node lifecycle controller gives it.
                lease_renew_interval: (args.node_monitor_grace_period / 4).clamp(
                    std::time::Duration::from_millis(100),
                    std::time::Duration::from_secs(10),
                ),
                ..Default::default()
            },
        },
    );
    eprintln!(
        "skiff server: serving the Kubernetes API on https://{}:{} (kubeconfig: {})",
        args.bind_address,
        args.https_port,
        kubeconfig.display()
    );
    if !args.disable_agent {
        eprintln!("skiff server: the node agent is not built yet; running the control plane only");
    }
    Ok(Started { app, listener, tls })
}
