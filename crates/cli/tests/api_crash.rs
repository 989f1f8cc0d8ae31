//! Crash safety of the API server, with the real binary: eight clients create ConfigMaps over
//! HTTPS as fast as the server acknowledges them, recording every 201's name and
//! resourceVersion; the server is killed with SIGKILL after a random number of acknowledged
//! creates; after the restart (same data directory) every acknowledged ConfigMap is there
//! with the resourceVersion its 201 carried, and the server serves creates, gets and lists
//! as before. Several rounds over one data directory.

mod support;

#[allow(dead_code)]
#[path = "../src/api_client.rs"]
mod api_client;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api_client::{ApiClient, Proto};
use bytes::Bytes;
use http::{Method, StatusCode};
use rand::Rng;
use serde_json::{json, Value};
use support::Server;

const CLIENTS: usize = 8;
const ROUNDS: usize = 10;
const PATH: &str = "/api/v1/namespaces/default/configmaps";

/// One acknowledged create.
#[derive(Debug, Clone)]
struct Ack {
    name: String,
    resource_version: String,
}

fn configmap(name: &str, seq: usize) -> Bytes {
    let v = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"bench": "crash"}},
        "data": {"seq": seq.to_string(), "filler": "y".repeat(seq % 200)},
    });
    Bytes::from(serde_json::to_vec(&v).unwrap())
}

fn client_of(server: &Server) -> ApiClient {
    let addr = SocketAddr::from(([127, 0, 0, 1], server.port));
    ApiClient::from_data_dir(server.data_dir(), addr).expect("client credentials")
}

/// Runs the create storm until the server dies; returns what was acknowledged.
async fn storm(server: &mut Server, round: usize, kill_after: usize) -> Vec<Ack> {
    let client = client_of(server);
    let acks = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        // Half the clients on HTTP/1.1, half on HTTP/2.
        let proto = if c % 2 == 0 {
            Proto::Http1
        } else {
            Proto::Http2
        };
        let mut conn = client.connect(proto).await.expect("connect");
        let (acks, count, killed) = (acks.clone(), count.clone(), killed.clone());
        tasks.spawn(async move {
            for seq in 0.. {
                let name = format!("r{round}-c{c}-{seq:06}");
                let result = conn
                    .request(Method::POST, PATH, Some(configmap(&name, seq)))
                    .await;
                match result {
                    Ok((StatusCode::CREATED, body)) => {
                        let obj: Value = serde_json::from_slice(&body).expect("201 body is JSON");
                        assert_eq!(obj["metadata"]["name"], name.as_str());
                        let rv = obj["metadata"]["resourceVersion"]
                            .as_str()
                            .expect("resourceVersion in the 201")
                            .to_string();
                        acks.lock().unwrap().push(Ack {
                            name,
                            resource_version: rv,
                        });
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    // The server is gone: the request may or may not have been applied.
                    _ if killed.load(Ordering::SeqCst) => return,
                    Ok((status, body)) => panic!(
                        "POST {name}: {status} before the kill: {}",
                        String::from_utf8_lossy(&body)
                    ),
                    Err(e) => panic!("POST {name} failed before the kill: {e:#}"),
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < kill_after {
        assert!(
            Instant::now() < deadline,
            "only {} creates acknowledged in 120 s:\n{}",
            count.load(Ordering::SeqCst),
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    killed.store(true, Ordering::SeqCst);
    server.kill9();
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a client panicked");
    }
    let acks = acks.lock().unwrap().clone();
    acks
}

/// GETs every acknowledged ConfigMap (over eight connections) and checks its
/// resourceVersion.
async fn check_all(server: &Server, acks: &[Ack]) {
    let client = client_of(server);
    let next = Arc::new(AtomicUsize::new(0));
    let acks: Arc<Vec<Ack>> = Arc::new(acks.to_vec());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let mut conn = client.connect(Proto::Http2).await.expect("connect");
        let (next, acks) = (next.clone(), acks.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(ack) = acks.get(i) else { return };
                let obj = conn
                    .get_json(&format!("{PATH}/{}", ack.name))
                    .await
                    .unwrap_or_else(|e| panic!("acknowledged {} lost: {e:#}", ack.name));
                assert_eq!(
                    obj["metadata"]["resourceVersion"], ack.resource_version,
                    "{} has another resourceVersion than its 201 said",
                    ack.name
                );
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a checker panicked");
    }
}

/// The restarted server serves a create, a get and a list as usual.
async fn check_serves(server: &Server, round: usize, acked: usize) {
    let client = client_of(server);
    let mut conn = client.connect(Proto::Http2).await.expect("connect");
    let name = format!("after-restart-{round}");
    let created = conn
        .create(PATH, &serde_json::from_slice(&configmap(&name, 1)).unwrap())
        .await
        .expect("create after restart");
    let got = conn
        .get_json(&format!("{PATH}/{name}"))
        .await
        .expect("get after restart");
    assert_eq!(
        got["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    let list = conn
        .get_json(&format!("{PATH}?labelSelector=bench%3Dcrash"))
        .await
        .expect("list after restart");
    let n = list["items"].as_array().map_or(0, Vec::len);
    assert!(
        n > acked,
        "the list has {n} ConfigMaps, fewer than the {acked} acknowledged + 1"
    );
    let (status, _) = conn
        .request(Method::GET, "/readyz", None)
        .await
        .expect("readyz");
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_creates_survive_sigkill() {
    let mut server = Server::start();
    let mut rng = rand::rng();
    let mut all: Vec<Ack> = Vec::new();
    for round in 0..ROUNDS {
        let kill_after = rng.random_range(1..400);
        let acks = storm(&mut server, round, kill_after).await;
        assert!(acks.len() >= kill_after);
        all.extend(acks);
        tokio::task::block_in_place(|| server.spawn());
        check_all(&server, &all).await;
        check_serves(&server, round, all.len()).await;
        eprintln!(
            "round {round}: killed after {kill_after} acknowledged creates; {} acknowledged so \
             far, all present",
            all.len()
        );
    }
}
