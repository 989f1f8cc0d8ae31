//! The conformance suite every backend must pass: one async function per property of the
//! contract, each taking a fresh, empty store. [`conformance_tests!`](crate::conformance_tests)
//! turns the whole list into `#[tokio::test]`s for a backend.
//!
//! Only relative revisions are asserted (etcd starts at 1, the in-process stores at 0), and
//! every wait has a timeout: nothing sleeps.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{Error, Event, EventKind, RangeRequest, Store, WatchStream, MAX_VALUE_BYTES};

/// A store under test and whatever keeps it alive (temp dirs, server processes).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub guard: Box<dyn std::any::Any + Send>,
}

const WAIT: Duration = Duration::from_secs(20);

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_string())
}

/// Next item of a watch stream, failing the test after a timeout.
pub async fn next_event(w: &mut WatchStream) -> crate::Result<Event> {
    tokio::time::timeout(WAIT, w.next())
        .await
        .expect("timed out waiting for a watch event")
        .expect("watch stream ended")
}

/// The next `n` events, which must all be `Ok`.
pub async fn take_events(w: &mut WatchStream, n: usize) -> Vec<Event> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(next_event(w).await.expect("watch error"));
    }
    out
}

pub async fn create_then_get(s: Arc<dyn Store>) {
    let rev = s.create("/a/one", b("1")).await.unwrap();
    let kv = s.get("/a/one").await.unwrap().unwrap();
    assert_eq!(kv.key, "/a/one");
    assert_eq!(kv.value, b("1"));
    assert_eq!(kv.create_revision, rev);
    assert_eq!(kv.mod_revision, rev);
    assert_eq!(s.current_revision().await.unwrap(), rev);
    assert_eq!(s.get("/a/missing").await.unwrap(), None);
}

pub async fn create_existing_fails(s: Arc<dyn Store>) {
    let rev = s.create("/k", b("1")).await.unwrap();
    let err = s.create("/k", b("2")).await.unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists(ref k) if k == "/k"),
        "{err:?}"
    );
    assert_eq!(
        s.current_revision().await.unwrap(),
        rev,
        "a failed write bumps nothing"
    );
    assert_eq!(s.get("/k").await.unwrap().unwrap().value, b("1"));
}

pub async fn update_checks_mod_revision(s: Arc<dyn Store>) {
    let r1 = s.create("/k", b("1")).await.unwrap();
    let r2 = s.update("/k", b("2"), r1).await.unwrap();
    assert_eq!(r2, r1 + 1, "every write bumps the revision by one");
    let kv = s.get("/k").await.unwrap().unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision), (r1, r2));
    let err = s.update("/k", b("3"), r1).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict { expected, actual, .. } if expected == r1 && actual == r2),
        "{err:?}"
    );
    assert_eq!(s.get("/k").await.unwrap().unwrap().value, b("2"));
    let err = s.update("/nope", b("3"), r1).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(s.current_revision().await.unwrap(), r2);
}

pub async fn delete_checks_mod_revision(s: Arc<dyn Store>) {
    let r1 = s.create("/k", b("1")).await.unwrap();
    let err = s.delete("/k", Some(r1 + 100)).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let (prev, r2) = s.delete("/k", Some(r1)).await.unwrap();
    assert_eq!(r2, r1 + 1);
    assert_eq!((prev.value, prev.mod_revision), (b("1"), r1));
    assert_eq!(s.get("/k").await.unwrap(), None);
    let err = s.delete("/k", None).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    // Unconditional delete, and a key created again starts a new life.
    let r3 = s.create("/k", b("again")).await.unwrap();
    let kv = s.get("/k").await.unwrap().unwrap();
    assert_eq!(kv.create_revision, r3);
    let (prev, _) = s.delete("/k", None).await.unwrap();
    assert_eq!(prev.value, b("again"));
}

pub async fn revisions_are_global_and_increasing(s: Arc<dyn Store>) {
    let mut last = s.current_revision().await.unwrap();
    for i in 0..20 {
        let key = format!("/r/{}", i % 3);
        let rev = match s.get(&key).await.unwrap() {
            None => s.create(&key, b("x")).await.unwrap(),
            Some(kv) if i % 5 == 0 => s.delete(&key, Some(kv.mod_revision)).await.unwrap().1,
            Some(kv) => s.update(&key, b("y"), kv.mod_revision).await.unwrap(),
        };
        assert_eq!(rev, last + 1);
        last = rev;
    }
}

pub async fn range_by_prefix_in_key_order(s: Arc<dyn Store>) {
    for k in ["/p/b", "/p/a", "/p/c", "/q/a", "/p"] {
        s.create(k, b(k)).await.unwrap();
    }
    let r = s
        .range(RangeRequest {
            prefix: "/p/".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let keys: Vec<_> = r.kvs.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/p/a", "/p/b", "/p/c"]);
    assert!(!r.more);
    assert_eq!(r.revision, s.current_revision().await.unwrap());
    assert_eq!(r.kvs[0].value, b("/p/a"));
    let all = s.range(RangeRequest::default()).await.unwrap();
    assert_eq!(all.kvs.len(), 5);
}

pub async fn range_pages_with_limit_and_continue(s: Arc<dyn Store>) {
    for i in 0..25 {
        s.create(&format!("/pg/{i:02}"), b("v")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    let mut revision = 0;
    loop {
        let r = s
            .range(RangeRequest {
                prefix: "/pg/".into(),
                limit: 10,
                continue_after: after.clone(),
                revision,
            })
            .await
            .unwrap();
        revision = r.revision;
        seen.extend(r.kvs.iter().map(|kv| kv.key.clone()));
        if !r.more {
            break;
        }
        after = Some(r.kvs.last().unwrap().key.clone());
        // Writes between pages do not show up in a read pinned to one revision.
        s.create(&format!("/pg/{}z", seen.len()), b("late"))
            .await
            .unwrap();
    }
    let want: Vec<_> = (0..25).map(|i| format!("/pg/{i:02}")).collect();
    assert_eq!(seen, want);
    // Exactly a page's worth: `more` is false.
    let r = s
        .range(RangeRequest {
            prefix: "/pg/0".into(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.kvs.len(), 10);
    assert!(!r.more);
}

pub async fn range_at_past_revision(s: Arc<dyn Store>) {
    let r1 = s.create("/h/a", b("1")).await.unwrap();
    let r2 = s.update("/h/a", b("2"), r1).await.unwrap();
    let r3 = s.create("/h/b", b("1")).await.unwrap();
    let (_, r4) = s.delete("/h/a", None).await.unwrap();
    let at = |rev| {
        let s = s.clone();
        async move {
            let r = s
                .range(RangeRequest {
                    prefix: "/h/".into(),
                    revision: rev,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(r.revision, rev);
            r.kvs
                .into_iter()
                .map(|kv| (kv.key, kv.value, kv.mod_revision))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(at(r1).await, [("/h/a".into(), b("1"), r1)]);
    assert_eq!(at(r2).await, [("/h/a".into(), b("2"), r2)]);
    assert_eq!(
        at(r3).await,
        [("/h/a".into(), b("2"), r2), ("/h/b".into(), b("1"), r3)]
    );
    assert_eq!(at(r4).await, [("/h/b".into(), b("1"), r3)]);
    let err = s
        .range(RangeRequest {
            prefix: "/h/".into(),
            revision: r4 + 10,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FutureRevision { .. }), "{err:?}");
}

pub async fn compaction_forgets_history_keeps_state(s: Arc<dyn Store>) {
    let r1 = s.create("/c/a", b("1")).await.unwrap();
    let r2 = s.update("/c/a", b("2"), r1).await.unwrap();
    let r3 = s.create("/c/b", b("1")).await.unwrap();
    s.delete("/c/b", None).await.unwrap();
    let r5 = s.create("/c/c", b("1")).await.unwrap();
    s.compact(r3).await.unwrap();
    assert_eq!(s.compacted_revision().await.unwrap(), r3);
    let err = s
        .range(RangeRequest {
            prefix: "/c/".into(),
            revision: r2,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Compacted { .. }), "{err:?}");
    let err = s
        .watch("/c/", r2)
        .await
        .err()
        .expect("watch before compaction");
    assert!(matches!(err, Error::Compacted { .. }), "{err:?}");
    // The compacted revision itself stays readable, and so does the present.
    let at3 = s
        .range(RangeRequest {
            prefix: "/c/".into(),
            revision: r3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(at3.kvs.len(), 2);
    let now = s
        .range(RangeRequest {
            prefix: "/c/".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let keys: Vec<_> = now.kvs.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/c/a", "/c/c"]);
    assert_eq!(now.kvs[0].mod_revision, r2);
    assert_eq!(now.kvs[1].create_revision, r5);
    // Compacting again at or below is harmless; the future is refused.
    s.compact(r3).await.unwrap();
    s.compact(r1).await.unwrap();
    assert!(s.compact(r5 + 100).await.is_err());
    // Writes go on after compaction.
    let kv = s.get("/c/a").await.unwrap().unwrap();
    let r6 = s.update("/c/a", b("3"), kv.mod_revision).await.unwrap();
    // Not `r5 + 1`: a backend may record the compaction as a write of its own (the etcd
    // backend keeps the compacted revision in a marker key, as the Kubernetes apiserver does).
    assert!(r6 > r5, "{r6} after {r5}");
}

pub async fn watch_reports_changes_with_previous_values(s: Arc<dyn Store>) {
    let mut w = s.watch("/w/", 0).await.unwrap();
    let r1 = s.create("/w/a", b("1")).await.unwrap();
    s.create("/other", b("x")).await.unwrap();
    let r2 = s.update("/w/a", b("2"), r1).await.unwrap();
    let (_, r3) = s.delete("/w/a", Some(r2)).await.unwrap();
    let ev = take_events(&mut w, 3).await;
    assert_eq!(ev[0].kind, EventKind::Create);
    assert_eq!(
        (ev[0].kv.value.clone(), ev[0].kv.mod_revision),
        (b("1"), r1)
    );
    assert_eq!(ev[0].prev_kv, None);
    assert_eq!(ev[1].kind, EventKind::Update);
    assert_eq!(ev[1].kv.create_revision, r1);
    assert_eq!(ev[1].kv.mod_revision, r2);
    assert_eq!(ev[1].prev_kv.as_ref().unwrap().value, b("1"));
    assert_eq!(ev[2].kind, EventKind::Delete);
    assert_eq!(ev[2].kv.key, "/w/a");
    assert_eq!(ev[2].kv.mod_revision, r3);
    assert_eq!(ev[2].revision(), r3);
    let prev = ev[2].prev_kv.as_ref().unwrap();
    assert_eq!((prev.value.clone(), prev.mod_revision), (b("2"), r2));
}

pub async fn watch_from_past_revision_replays_then_follows(s: Arc<dyn Store>) {
    let r1 = s.create("/wp/a", b("1")).await.unwrap();
    for i in 0..9 {
        s.create(&format!("/wp/{i}"), b("x")).await.unwrap();
    }
    let mut w = s.watch("/wp/", r1 + 1).await.unwrap();
    // Writers keep going while the watcher catches up: no gap, no duplicate.
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..50 {
                s.create(&format!("/wp/live/{i}"), b("y")).await.unwrap();
            }
        })
    };
    let ev = take_events(&mut w, 59).await;
    writer.await.unwrap();
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e.revision(), r1 + 1 + i as i64, "gap or duplicate at {i}");
    }
    assert_eq!(ev.last().unwrap().kv.key, "/wp/live/49");
}

pub async fn watch_filters_by_prefix(s: Arc<dyn Store>) {
    let mut w = s.watch("/f/x/", 0).await.unwrap();
    s.create("/f/y/1", b("no")).await.unwrap();
    s.create("/f/x", b("no")).await.unwrap();
    let rev = s.create("/f/x/1", b("yes")).await.unwrap();
    let e = next_event(&mut w).await.unwrap();
    assert_eq!((e.kv.key.as_str(), e.revision()), ("/f/x/1", rev));
}

pub async fn watch_from_now_skips_the_past(s: Arc<dyn Store>) {
    s.create("/n/old", b("1")).await.unwrap();
    let mut w = s.watch("/n/", 0).await.unwrap();
    let rev = s.create("/n/new", b("1")).await.unwrap();
    let e = next_event(&mut w).await.unwrap();
    assert_eq!((e.kv.key.as_str(), e.revision()), ("/n/new", rev));
}

pub async fn many_watchers_see_every_event_in_order(s: Arc<dyn Store>) {
    many_watchers(s, 1000, 20).await;
}

/// `watchers` watchers on one prefix, `writes` writes: each watcher sees all, in order.
pub async fn many_watchers(s: Arc<dyn Store>, watchers: usize, writes: usize) {
    let start = s.current_revision().await.unwrap() + 1;
    let mut streams = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        streams.push(s.watch("/m/", start).await.unwrap());
    }
    for i in 0..writes {
        s.create(&format!("/m/{i:04}"), b("v")).await.unwrap();
    }
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut w| {
            tokio::spawn(async move {
                let ev = take_events(&mut w, writes).await;
                ev.iter().map(Event::revision).collect::<Vec<_>>()
            })
        })
        .collect();
    let want: Vec<i64> = (0..writes as i64).map(|i| start + i).collect();
    for r in readers {
        assert_eq!(r.await.unwrap(), want);
    }
}

pub async fn bad_input_is_rejected(s: Arc<dyn Store>) {
    let invalid = |r: crate::Result<i64>| matches!(r, Err(Error::Invalid(_)));
    assert!(invalid(s.create("", b("v")).await));
    assert!(matches!(s.get("").await, Err(Error::Invalid(_))));
    assert!(matches!(s.delete("", None).await, Err(Error::Invalid(_))));
    let huge = Bytes::from(vec![7u8; MAX_VALUE_BYTES + 1]);
    let err = s.create("/big", huge.clone()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("3 MiB")),
        "{err:?}"
    );
    let r = s.create("/big", b("small")).await.unwrap();
    assert!(invalid(s.update("/big", huge, r).await));
    // Exactly at the limit is fine.
    let max = Bytes::from(vec![7u8; MAX_VALUE_BYTES]);
    let r2 = s.update("/big", max, r).await.unwrap();
    assert_eq!(
        s.get("/big").await.unwrap().unwrap().value.len(),
        MAX_VALUE_BYTES
    );
    assert_eq!(r2, r + 1);
}

pub async fn concurrent_compare_and_swap_loses_no_update(s: Arc<dyn Store>) {
    s.create("/counter", b("0")).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    loop {
                        let kv = s.get("/counter").await.unwrap().unwrap();
                        let n: u64 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                        match s
                            .update("/counter", b(&(n + 1).to_string()), kv.mod_revision)
                            .await
                        {
                            Ok(_) => break,
                            Err(Error::Conflict { .. }) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let kv = s.get("/counter").await.unwrap().unwrap();
    assert_eq!(kv.value, b("80"));
}

/// Expands to one `#[tokio::test]` per conformance case. `$fixture` is an async expression
/// evaluating to a fresh [`Fixture`].
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:expr) => {
        $crate::conformance_tests!(@cases $fixture;
            create_then_get,
            create_existing_fails,
            update_checks_mod_revision,
            delete_checks_mod_revision,
            revisions_are_global_and_increasing,
            range_by_prefix_in_key_order,
            range_pages_with_limit_and_continue,
            range_at_past_revision,
            compaction_forgets_history_keeps_state,
            watch_reports_changes_with_previous_values,
            watch_from_past_revision_replays_then_follows,
            watch_filters_by_prefix,
            watch_from_now_skips_the_past,
            many_watchers_see_every_event_in_order,
            bad_input_is_rejected,
            concurrent_compare_and_swap_loses_no_update,
        );
    };
    (@cases $fixture:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture: $crate::conformance::Fixture = $fixture.await;
                $crate::conformance::$case(fixture.store.clone()).await;
                drop(fixture);
            }
        )*
    };
}
