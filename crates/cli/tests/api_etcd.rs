//! Two `skiff server` processes on one etcd serve one cluster: the test starts a real etcd
//! (Debian's etcd-server, through `EtcdProcess`), server A on it, then server B on it with
//! A's certificates and token. Both answer; an object created through one is read through
//! the other; a watch on B sees a create made through A; Services created concurrently
//! through both never share a ClusterIP.

mod support;

#[allow(dead_code)]
#[path = "../src/api_client.rs"]
mod api_client;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use api_client::{take_lines, ApiClient, Conn, Proto};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use skiff_store::EtcdProcess;
use support::{copy_cluster_identity, Server};

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const SERVICES: &str = "/api/v1/namespaces/default/services";
const SERVICES_PER_SERVER: usize = 20;

fn client_of(server: &Server) -> ApiClient {
    let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
    ApiClient::from_data_dir(server.data_dir(), addr).expect("client credentials")
}

fn configmap(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"from": "test"},
    })
}

fn service(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    })
}

/// Reads watch lines from `body` until an ADDED event for `name` arrives.
async fn wait_for_added(body: &mut hyper::body::Incoming, name: &str) {
    let mut buf = Vec::new();
    loop {
        let frame = body
            .frame()
            .await
            .unwrap_or_else(|| panic!("the watch ended before {name} was ADDED"))
            .expect("watch stream error");
        let Ok(data) = frame.into_data() else {
            continue;
        };
        for line in take_lines(&mut buf, &data) {
            let ev: Value = serde_json::from_slice(&line).expect("watch line is JSON");
            if ev["type"] == "ADDED" && ev["object"]["metadata"]["name"] == name {
                return;
            }
        }
    }
}

/// Creates `SERVICES_PER_SERVER` Services through `conn`, all at once (one HTTP/2 stream
/// each); returns their ClusterIPs.
async fn create_services(conn: &Conn, prefix: &str) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..SERVICES_PER_SERVER {
        let mut c = conn.stream_handle().expect("HTTP/2 connection");
        let name = format!("{prefix}-{i:02}");
        tasks.spawn(async move {
            let created = c
                .create(SERVICES, &service(&name))
                .await
                .unwrap_or_else(|e| panic!("create Service {name}: {e:#}"));
            created["spec"]["clusterIP"]
                .as_str()
                .unwrap_or_else(|| panic!("Service {name} has no clusterIP: {created}"))
                .to_string()
        });
    }
    let mut ips = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        ips.push(joined.expect("a create task panicked"));
    }
    ips
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_etcd_serve_one_cluster() {
    let etcd = EtcdProcess::start()
        .await
        .expect("start etcd (Debian package etcd-server)");
    let endpoint = etcd.endpoint();
    let extra = ["--etcd-endpoints", endpoint.as_str()];
    let a = tokio::task::block_in_place(|| Server::start_with(&extra));
    let b_dir = tempfile::tempdir().expect("tempdir");
    copy_cluster_identity(a.data_dir(), b_dir.path());
    let b = tokio::task::block_in_place(|| Server::start_in(b_dir, &extra));
    assert_eq!(
        std::fs::read(a.data_dir().join("tls/ca.crt")).unwrap(),
        std::fs::read(b.data_dir().join("tls/ca.crt")).unwrap(),
        "B must keep A's CA"
    );

    let mut on_a = client_of(&a)
        .connect(Proto::Http2)
        .await
        .expect("connect A");
    let mut on_b = client_of(&b)
        .connect(Proto::Http2)
        .await
        .expect("connect B");

    // Both answer.
    for conn in [&mut on_a, &mut on_b] {
        let ns = conn
            .get_json("/api/v1/namespaces/default")
            .await
            .expect("GET namespace default");
        assert_eq!(ns["metadata"]["name"], "default");
    }
    // A's admin certificate is valid on B (one CA), and the kubernetes Service is shared.
    let ka = on_a
        .get_json(&format!("{SERVICES}/kubernetes"))
        .await
        .expect("kubernetes Service on A");
    let kb = on_b
        .get_json(&format!("{SERVICES}/kubernetes"))
        .await
        .expect("kubernetes Service on B");
    assert_eq!(ka["metadata"]["uid"], kb["metadata"]["uid"]);

    // Created through A, read through B.
    let created = on_a
        .create(CONFIGMAPS, &configmap("made-on-a"))
        .await
        .expect("create on A");
    let read = on_b
        .get_json(&format!("{CONFIGMAPS}/made-on-a"))
        .await
        .expect("get on B");
    assert_eq!(read["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(
        read["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    // And a list through B, which comes from B's watch cache, has it too.
    let list = on_b.get_json(CONFIGMAPS).await.expect("list on B");
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["metadata"]["name"] == "made-on-a"),
        "list on B lacks made-on-a: {list}"
    );

    // A watch on B sees a create made through A.
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("list resourceVersion")
        .to_string();
    let mut watch_conn = on_b.stream_handle().expect("HTTP/2");
    let resp = watch_conn
        .send(
            Method::GET,
            &format!("{CONFIGMAPS}?watch=1&resourceVersion={rv}"),
            None,
        )
        .await
        .expect("watch on B");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    on_a.create(CONFIGMAPS, &configmap("watched-from-b"))
        .await
        .expect("create on A");
    tokio::time::timeout(
        Duration::from_secs(10),
        wait_for_added(&mut body, "watched-from-b"),
    )
    .await
    .expect("B's watch did not deliver A's create within 10 s");
    drop(body);

    // ClusterIPs allocated concurrently through both servers never collide.
    let (ips_a, ips_b) = tokio::join!(
        create_services(&on_a, "svc-a"),
        create_services(&on_b, "svc-b")
    );
    let mut ips: Vec<String> = ips_a.into_iter().chain(ips_b).collect();
    ips.push(
        ka["spec"]["clusterIP"]
            .as_str()
            .expect("kubernetes clusterIP")
            .to_string(),
    );
    let distinct: HashSet<&String> = ips.iter().collect();
    assert_eq!(
        distinct.len(),
        ips.len(),
        "a ClusterIP was handed out twice: {ips:?}"
    );
    // Both servers list the same Services with the same addresses.
    let ips_of = |list: &Value| -> HashSet<(String, String)> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| {
                (
                    s["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    s["spec"]["clusterIP"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let la = ips_of(&on_a.get_json(SERVICES).await.expect("services on A"));
    let lb = ips_of(&on_b.get_json(SERVICES).await.expect("services on B"));
    assert_eq!(la, lb);
    assert_eq!(la.len(), 2 * SERVICES_PER_SERVER + 1);
}
