//! The conformance suite against the etcd backend: each case starts its own etcd server on
//! loopback (Debian's `etcd`, package etcd-server) and connects a fresh store to it. After it,
//! the etcd-specific cases: the shared compaction marker, watchers under load, lost servers.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use skiff_store::conformance::{next_event, Fixture};
use skiff_store::{Error, EtcdProcess, EtcdStore, RangeRequest, Store};

async fn fixture() -> Fixture {
    let (etcd, store) = start().await;
    Fixture {
        store,
        guard: Box::new(etcd),
    }
}

async fn start() -> (EtcdProcess, Arc<dyn Store>) {
    let etcd = EtcdProcess::start().await.expect("start etcd");
    let store = EtcdStore::connect(&[etcd.endpoint()])
        .await
        .expect("connect to etcd");
    (etcd, Arc::new(store))
}

skiff_store::conformance_tests!(fixture());

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_server_sees_the_compacted_revision() {
    let (etcd, s) = start().await;
    let other = EtcdStore::connect(&[etcd.endpoint()]).await.unwrap();
    assert_eq!(other.compacted_revision().await.unwrap(), 0);
    let r1 = s.create("/a", b("1")).await.unwrap();
    let r2 = s.update("/a", b("2"), r1).await.unwrap();
    s.compact(r2).await.unwrap();
    assert_eq!(other.compacted_revision().await.unwrap(), r2);
    // The other server's own reads agree, and its compaction below the mark is a no-op.
    let err = other
        .range(RangeRequest {
            prefix: "/".into(),
            revision: r1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Compacted { requested, compacted } if requested == r1 && compacted == r2),
        "{err:?}"
    );
    let before = other.current_revision().await.unwrap();
    other.compact(r1).await.unwrap();
    assert_eq!(other.current_revision().await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_seen_by_many_watchers_keeps_the_connection() {
    // 2000 watchers x 200 concurrent writes: 400,000 small watch frames. With hyper's default
    // HTTP/2 window, h2 closes the connection (ENHANCE_YOUR_CALM) under this load.
    let (_etcd, s) = start().await;
    let (watchers, writers, per_writer) = (2000, 8, 25);
    let mut streams = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        streams.push(s.watch("/burst/", 0).await.unwrap());
    }
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..per_writer {
                    s.create(&format!("/burst/{w}/{i:03}"), b("v"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut w| {
            tokio::spawn(async move {
                let mut last = 0;
                for _ in 0..writers * per_writer {
                    let rev = next_event(&mut w).await.unwrap().revision();
                    assert!(rev > last, "out of order: {rev} after {last}");
                    last = rev;
                }
            })
        })
        .collect();
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_stops_reading_is_cut_off_alone() {
    let (_etcd, s) = start().await;
    let mut stuck = s.watch("/s/", 0).await.unwrap();
    let mut reading = s.watch("/s/", 0).await.unwrap();
    let total = 5000; // more than the 4096 changes a watcher may leave unread
    let reader = tokio::spawn(async move {
        for _ in 0..total {
            next_event(&mut reading).await.unwrap();
        }
    });
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..total / 8 {
                    s.create(&format!("/s/{w}/{i:04}"), b("v")).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    reader.await.unwrap();
    let mut got = 0;
    let end = loop {
        match stuck.next().await {
            Some(Ok(_)) => got += 1,
            Some(Err(e)) => break e,
            None => panic!("stream ended without an error"),
        }
    };
    assert!(got < total, "{got}");
    assert!(
        matches!(&end, Error::Unavailable(m) if m.contains("cut off")),
        "{end:?}"
    );
    assert!(stuck.next().await.is_none());
    // Everything else goes on.
    assert!(s.get("/s/0/0000").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_etcd_ends_watches_and_fails_calls() {
    let (etcd, s) = start().await;
    let mut w = s.watch("/", 0).await.unwrap();
    drop(etcd);
    let end = tokio::time::timeout(Duration::from_secs(20), w.next())
        .await
        .expect("the watch notices");
    assert!(matches!(end, Some(Err(Error::Unavailable(_)))), "{end:?}");
    let err = s.get("/a").await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn connecting_to_nothing_is_unavailable() {
    // Bind then release a port, so nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let err = EtcdStore::connect(std::slice::from_ref(&endpoint))
        .await
        .err()
        .expect("no etcd there");
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains(&endpoint)),
        "{err:?}"
    );
    let err = EtcdStore::connect(&["not a url".to_string()]).await.err();
    assert!(matches!(err, Some(Error::Invalid(_))), "{err:?}");
}
