//! Several servers on one etcd run ONE controller manager and ONE scheduler: the test
//! starts a real etcd and two `skiff server`s on it, finds which one holds the
//! `kube-controller-manager` and `kube-scheduler` Leases (each server prints its election
//! identity), kills that server with SIGKILL and checks that the other takes both Leases
//! over and its controllers act (a new namespace gets its `default` ServiceAccount).

mod support;

use std::path::Path;
use std::time::Duration;

use skiff_store::EtcdProcess;
use support::{copy_cluster_identity, k, kubectls, wait_for, Server};

fn identity(server: &Server) -> String {
    wait_for(
        Duration::from_secs(10),
        "the election identity in the log",
        || {
            server
                .log()
                .lines()
                .find_map(|l| l.strip_prefix("skiff server: leader election identity "))
                .map(str::to_string)
        },
    )
}

fn holder(bin: &Path, server: &Server, lease: &str) -> String {
    k(
        bin,
        server,
        &[
            "get",
            "lease",
            "-n",
            "kube-system",
            lease,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_fail_over_to_the_other_server() {
    let etcd = EtcdProcess::start()
        .await
        .expect("start etcd (Debian package etcd-server)");
    let endpoint = etcd.endpoint();
    let extra = ["--etcd-endpoints", endpoint.as_str()];
    tokio::task::block_in_place(|| {
        let a = Server::start_with(&extra);
        let b_dir = tempfile::tempdir().expect("tempdir");
        copy_cluster_identity(a.data_dir(), b_dir.path());
        let b = Server::start_in(b_dir, &extra);
        let bin = &kubectls()[0];
        let (id_a, id_b) = (identity(&a), identity(&b));
        assert_ne!(id_a, id_b);

        let leader = wait_for(
            Duration::from_secs(20),
            "a controller-manager leader",
            || {
                let out = support::kubectl(
                    bin,
                    &a,
                    &[
                        "get",
                        "lease",
                        "-n",
                        "kube-system",
                        "kube-controller-manager",
                        "-o",
                        "jsonpath={.spec.holderIdentity}",
                    ],
                    None,
                );
                let h = String::from_utf8_lossy(&out.stdout).to_string();
                (h == id_a || h == id_b).then_some(h)
            },
        );
        // Both components are led by one server at a time; with two candidates starting
        // together they may be split, which is fine: each has exactly one holder.
        let sched = holder(bin, &a, "kube-scheduler");
        assert!(
            sched == id_a || sched == id_b,
            "scheduler lease holder {sched}"
        );

        let (mut dead, survivor, survivor_id) = if leader == id_a {
            (a, b, id_b)
        } else {
            (b, a, id_a)
        };
        dead.kill9();
        // The Lease lasts 15 s; the survivor takes it over after seeing no renewal that long.
        for lease in ["kube-controller-manager", "kube-scheduler"] {
            wait_for(
                Duration::from_secs(45),
                &format!("{lease} to fail over"),
                || (holder(bin, &survivor, lease) == survivor_id).then_some(()),
            );
        }
        k(bin, &survivor, &["create", "namespace", "after-failover"]);
        wait_for(
            Duration::from_secs(20),
            "the default ServiceAccount in the new namespace",
            || {
                let out = support::kubectl(
                    bin,
                    &survivor,
                    &["get", "serviceaccount", "default", "-n", "after-failover"],
                    None,
                );
                out.status.success().then_some(())
            },
        );
    });
}
