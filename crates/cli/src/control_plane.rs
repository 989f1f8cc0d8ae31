//! Starts what runs beside the API server in `skiff server`: the controller manager and the
//! scheduler (each only while this server holds its leader Lease, so several servers on one
//! etcd run one of each) and the hollow nodes. They reach the API in-process through
//! kube-rs clients over [`LocalService`], and share one set of informers.

use std::sync::Arc;

use skiff_apiserver::app::App;
use skiff_apiserver::local::LocalService;
use skiff_runtime::leader::{self, Election};
use skiff_runtime::Informers;

/// What to start.
pub struct Options {
    pub scheduler: bool,
    pub controller_manager: bool,
    pub controllers: skiff_controllers::ControllerConfig,
    pub hollow: skiff_kubelet::hollow::HollowConfig,
}

const AUTHENTICATED: &str = "system:authenticated";

/// A kube-rs client reaching `app` in-process as `user`.
pub fn local_client(app: &Arc<App>, user: &str, groups: &[&str]) -> kube::Client {
    kube::Client::new(LocalService::new(app.clone(), user, groups), "default")
}

/// Spawns the enabled components.
pub fn start(app: &Arc<App>, opts: Options) {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "skiff".into());
    let identity = format!("{host}_{}", uuid::Uuid::new_v4());
    eprintln!("skiff server: leader election identity {identity}");
    let cm_client = local_client(app, "system:kube-controller-manager", &[AUTHENTICATED]);
    let informers = Informers::new(cm_client.clone());
    if opts.controller_manager {
        let ctx =
            skiff_controllers::Context::new(cm_client.clone(), informers.clone(), opts.controllers);
        let election = Election::new("kube-controller-manager", identity.clone());
        tokio::spawn(leader::run_as_leader(
            cm_client.clone(),
            election,
            move || skiff_controllers::manager::run(ctx.clone()),
        ));
    }
    if opts.scheduler {
        let client = local_client(app, "system:kube-scheduler", &[AUTHENTICATED]);
        let informers = informers.clone();
        let election = Election::new("kube-scheduler", identity.clone());
        tokio::spawn(leader::run_as_leader(client.clone(), election, move || {
            skiff_scheduler::run(client.clone(), informers.clone(), Default::default())
        }));
    }
    if opts.hollow.count > 0 {
        let client = local_client(app, "system:node:hollow", &["system:nodes", AUTHENTICATED]);
        tokio::spawn(skiff_kubelet::hollow::run(client, informers, opts.hollow));
    }
}
