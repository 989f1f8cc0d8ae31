//! The `skiff` binary: a thin clap front over the crates. Each subcommand lives in its own
//! module; this file only parses arguments, sets up logging and dispatches.

mod api_client;
mod bench_api;
mod bench_scheduler;
mod bench_store;
mod control_plane;
mod server_cmd;
mod store_cmd;

use clap::{Parser, Subcommand};

/// skiff: Kubernetes in one Rust binary.
#[derive(Parser)]
#[command(name = "skiff", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane: the Kubernetes API over HTTPS.
    Server(server_cmd::ServerArgs),
    /// Read, write, watch, compact and back up the cluster store.
    Store(store_cmd::StoreArgs),
    /// Measure skiff's performance on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Durable writes/s and watch latency of the embedded store and of a real etcd.
    Store(bench_store::BenchStoreArgs),
    /// Creates/s, LIST and watch latency, and memory of a real `skiff server`, against etcd.
    Api(bench_api::BenchApiArgs),
    /// Pods bound per second on thousands of simulated nodes, and a big Deployment's rollout.
    Scheduler(bench_scheduler::BenchSchedulerArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKIFF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // This benchmark runs each of its servers on a runtime of its own.
    if let Command::Bench(BenchCommand::Scheduler(args)) = cli.command {
        return exit_code(bench_scheduler::run(args));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Server(args) => server_cmd::run(args).await,
            Command::Store(args) => store_cmd::run(args).await,
            Command::Bench(BenchCommand::Store(args)) => bench_store::run(args).await,
            Command::Bench(BenchCommand::Api(args)) => bench_api::run(args).await,
            Command::Bench(BenchCommand::Scheduler(_)) => Err(anyhow::anyhow!("handled above")),
        }
    });
    exit_code(result)
}

fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
