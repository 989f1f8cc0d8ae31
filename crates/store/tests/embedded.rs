//! Properties of the embedded backend beyond the shared contract: durability across reopen,
//! bounded disk use, damaged files, the directory lock, snapshots, slow watchers.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::StreamExt;
use skiff_store::conformance::take_events;
use skiff_store::{
    disk_bytes, restore_snapshot, save_snapshot, EmbeddedOptions, EmbeddedStore, Error,
    RangeRequest, Store,
};

fn value(i: usize, len: usize) -> Bytes {
    let mut v = format!("{i}:").into_bytes();
    v.resize(len, b'x');
    Bytes::from(v)
}

async fn everything(s: &EmbeddedStore, revision: i64) -> Vec<(String, Bytes, i64, i64)> {
    s.range(RangeRequest {
        revision,
        ..Default::default()
    })
    .await
    .unwrap()
    .kvs
    .into_iter()
    .map(|kv| (kv.key, kv.value, kv.create_revision, kv.mod_revision))
    .collect()
}

fn files_named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn reopening_finds_every_write_history_and_compaction() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let (snapshot_before, mid, last, compacted) = {
        let s = EmbeddedStore::open(&dir).unwrap();
        for i in 0..50 {
            s.create(&format!("/k/{i}"), value(i, 100)).await.unwrap();
        }
        s.compact(20).await.unwrap();
        let mid = s.current_revision().await.unwrap();
        for i in 0..10 {
            let kv = s.get(&format!("/k/{i}")).await.unwrap().unwrap();
            s.update(&kv.key, value(i + 100, 50), kv.mod_revision)
                .await
                .unwrap();
            s.delete(&format!("/k/{}", i + 20), None).await.unwrap();
        }
        let last = s.current_revision().await.unwrap();
        (
            everything(&s, 0).await,
            mid,
            last,
            s.compacted_revision().await.unwrap(),
        )
    };
    let s = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(s.current_revision().await.unwrap(), last);
    assert_eq!(s.compacted_revision().await.unwrap(), compacted);
    assert_eq!(everything(&s, 0).await, snapshot_before);
    assert_eq!(
        everything(&s, mid).await.len(),
        50,
        "history survives reopen"
    );
    let r = s.create("/k/new", Bytes::from_static(b"v")).await.unwrap();
    assert_eq!(r, last + 1, "revisions continue");
    // Watching from before the reopen replays the logged history.
    let mut w = s.watch("/k/", mid + 1).await.unwrap();
    let ev = take_events(&mut w, 21).await;
    assert_eq!(ev.last().unwrap().revision(), r);
}

#[tokio::test]
async fn disk_use_stays_bounded_under_churn_once_compacted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let options = EmbeddedOptions {
        segment_bytes: 1 << 20,
        ..Default::default()
    };
    let s = EmbeddedStore::open_with(&dir, options.clone()).unwrap();
    for i in 0..200 {
        s.create(&format!("/churn/{i:04}"), value(i, 1024))
            .await
            .unwrap();
    }
    for round in 0..30 {
        let writes: Vec<_> = (0..200)
            .map(|i| {
                let key = format!("/churn/{i:04}");
                let s = &s;
                async move {
                    let kv = s.get(&key).await.unwrap().unwrap();
                    s.update(&key, value(round * 1000 + i, 1024), kv.mod_revision)
                        .await
                        .unwrap();
                }
            })
            .collect();
        futures::future::join_all(writes).await;
    }
    let before = s.stats();
    assert!(before.disk_bytes > 5 * 1024 * 1024, "{before:?}");
    // Automatic retention's compaction leaves a log this small alone...
    let current = s.current_revision().await.unwrap();
    s.compact(current - 1).await.unwrap();
    assert!(s.stats().disk_bytes > 5 * 1024 * 1024);
    // ...an explicit one reclaims it.
    s.compact_and_reclaim(current).await.unwrap();
    let after = s.stats();
    assert!(
        after.disk_bytes <= 4 * after.live_bytes,
        "disk {} > 4x live {}",
        after.disk_bytes,
        after.live_bytes
    );
    assert_eq!(files_named(&dir, "wal-").len(), 1);
    assert_eq!(files_named(&dir, "checkpoint-").len(), 1);
    let state = everything(&s, 0).await;
    drop(s);
    let s = EmbeddedStore::open_with(&dir, options).unwrap();
    assert_eq!(everything(&s, 0).await, state);
    assert_eq!(s.current_revision().await.unwrap(), after.revision);
}

#[tokio::test]
async fn a_torn_tail_is_dropped_and_acknowledged_writes_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    {
        let s = EmbeddedStore::open(&dir).unwrap();
        for i in 0..10 {
            s.create(&format!("/t/{i}"), value(i, 10)).await.unwrap();
        }
    }
    let wal = files_named(&dir, "wal-").pop().unwrap();
    let intact = fs::metadata(&wal).unwrap().len();
    // Half of a frame, as a crash in the middle of a write leaves it.
    let mut data = fs::read(&wal).unwrap();
    let frame = data[12..40].to_vec();
    data.extend_from_slice(&frame);
    fs::write(&wal, &data).unwrap();
    let s = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(everything(&s, 0).await.len(), 10);
    assert_eq!(fs::metadata(&wal).unwrap().len(), intact, "tail cut off");
    assert_eq!(s.create("/t/next", value(0, 1)).await.unwrap(), 11);
}

#[tokio::test]
async fn damage_in_the_middle_of_the_log_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    {
        let s = EmbeddedStore::open(&dir).unwrap();
        for i in 0..10 {
            s.create(&format!("/d/{i}"), value(i, 100)).await.unwrap();
        }
    }
    let wal = files_named(&dir, "wal-").pop().unwrap();
    let mut data = fs::read(&wal).unwrap();
    data[12 + 12 + 20] ^= 0x55; // inside the first frame's payload
    fs::write(&wal, &data).unwrap();
    let err = EmbeddedStore::open(&dir).err().expect("open must fail");
    let Error::Corrupt(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(msg.contains(wal.to_str().unwrap()), "{msg}");
    // Nothing was changed by the failed open.
    assert_eq!(fs::read(&wal).unwrap(), data);
}

#[tokio::test]
async fn a_truncated_or_foreign_checkpoint_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    {
        let s = EmbeddedStore::open(&dir).unwrap();
        for i in 0..100 {
            s.create(&format!("/c/{i}"), value(i, 100)).await.unwrap();
        }
        s.compact_and_reclaim(100).await.unwrap();
    }
    let ckpt = files_named(&dir, "checkpoint-")
        .pop()
        .expect("a checkpoint");
    let data = fs::read(&ckpt).unwrap();
    for cut in [5, 20, data.len() / 2, data.len() - 1] {
        fs::write(&ckpt, &data[..cut]).unwrap();
        let err = EmbeddedStore::open(&dir).err().expect("open must fail");
        assert!(
            matches!(&err, Error::Corrupt(m) if m.contains(ckpt.to_str().unwrap())),
            "cut at {cut}: {err:?}"
        );
    }
    fs::write(&ckpt, b"hello, this is not a skiff file at all").unwrap();
    let err = EmbeddedStore::open(&dir).err().expect("open must fail");
    assert!(
        matches!(&err, Error::Corrupt(m) if m.contains("not a skiff store file")),
        "{err:?}"
    );
    fs::write(&ckpt, &data).unwrap();
    let s = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(everything(&s, 0).await.len(), 100);
}

#[tokio::test]
async fn a_data_directory_has_one_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(tmp.path()).unwrap();
    let err = EmbeddedStore::open(tmp.path()).err().expect("second open");
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("in use")),
        "{err:?}"
    );
    drop(s);
    EmbeddedStore::open(tmp.path()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_of_a_busy_store_restores_to_its_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let s = std::sync::Arc::new(
        EmbeddedStore::open_with(
            &dir,
            EmbeddedOptions {
                segment_bytes: 64 << 10,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    for i in 0..300 {
        s.create(&format!("/s/{i}"), value(i, 500)).await.unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (s, stop) = (s.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = format!("/s/{}", i % 300);
                let kv = s.get(&key).await.unwrap().unwrap();
                s.update(&key, value(i, 500), kv.mod_revision)
                    .await
                    .unwrap();
                if i % 500 == 0 {
                    let rev = s.current_revision().await.unwrap();
                    s.compact(rev - 100).await.unwrap();
                }
                i += 1;
            }
        })
    };
    let file = tmp.path().join("backup.snap");
    let mut infos = Vec::new();
    for _ in 0..5 {
        let dir = dir.clone();
        let file = file.clone();
        infos.push(
            tokio::task::spawn_blocking(move || save_snapshot(&dir, &file))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    let info = infos.pop().unwrap();
    let restored_dir = tmp.path().join("restored");
    let restored = restore_snapshot(&file, &restored_dir).unwrap();
    assert_eq!(restored.revision, info.revision);
    assert_eq!(restored.keys, 300);
    let r = EmbeddedStore::open(&restored_dir).unwrap();
    assert_eq!(r.current_revision().await.unwrap(), info.revision);
    assert_eq!(
        everything(&r, 0).await,
        everything(&s, info.revision).await,
        "restore equals the source at the snapshot revision"
    );
    // Restoring over an existing store is refused.
    let err = restore_snapshot(&file, &restored_dir).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert!(disk_bytes(&restored_dir) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_stops_reading_is_cut_off_without_slowing_writers() {
    let tmp = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open_with(
        tmp.path(),
        EmbeddedOptions {
            watch_queue: 100,
            ..Default::default()
        },
    )
    .unwrap();
    let mut stuck = s.watch("/w/", 0).await.unwrap();
    let mut reader = s.watch("/w/", 0).await.unwrap();
    for i in 0..1000 {
        s.create(&format!("/w/{i}"), Bytes::from_static(b"v"))
            .await
            .unwrap();
        // A watcher that keeps reading keeps up and gets everything.
        let e = take_events(&mut reader, 1).await;
        assert_eq!(e[0].kv.key, format!("/w/{i}"));
    }
    drop(reader);
    // The stuck watcher finds its queued changes, then the cut-off error.
    let mut got = 0;
    let end = loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), stuck.next());
        match next.await.expect("the cut-off watcher's stream must end") {
            Some(Ok(_)) => got += 1,
            Some(Err(e)) => break e,
            None => panic!("stream ended without an error"),
        }
    };
    assert!(got <= 100, "at most its queue: {got}");
    assert!(
        matches!(&end, Error::Unavailable(m) if m.contains("cut off")),
        "{end:?}"
    );
    // The reader dropped its stream; the hub notices at the next change.
    s.create("/w/after", Bytes::from_static(b"v"))
        .await
        .unwrap();
    assert_eq!(s.stats().watchers, 0, "both watchers are gone from the hub");
}

#[tokio::test]
async fn automatic_compaction_checkpoints_once_the_log_outgrows_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open_with(
        tmp.path(),
        EmbeddedOptions {
            checkpoint_slack: 256 << 10,
            segment_bytes: 128 << 10,
            ..Default::default()
        },
    )
    .unwrap();
    s.create("/a", value(0, 1024)).await.unwrap();
    for i in 1..2000 {
        let kv = s.get("/a").await.unwrap().unwrap();
        s.update("/a", value(i, 1024), kv.mod_revision)
            .await
            .unwrap();
    }
    assert!(s.stats().disk_bytes > 2 << 20);
    let current = s.current_revision().await.unwrap();
    s.compact(current - 10).await.unwrap();
    let stats = s.stats();
    assert!(stats.disk_bytes < 300 << 10, "log not reclaimed: {stats:?}");
    assert_eq!(stats.history_changes, 11);
}

#[tokio::test]
async fn random_damage_never_panics_and_never_invents_data() {
    use rand::Rng;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let options = EmbeddedOptions {
        segment_bytes: 8 << 10,
        ..Default::default()
    };
    {
        let s = EmbeddedStore::open_with(&dir, options.clone()).unwrap();
        for i in 0..200 {
            s.create(&format!("/r/{i}"), value(i, 100)).await.unwrap();
            if i == 100 {
                s.compact_and_reclaim(90).await.unwrap();
            }
        }
    }
    let originals: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "skiff"))
        .map(|p| {
            let data = fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    assert!(originals.len() >= 3, "a checkpoint and several segments");
    let mut rng = rand::rng();
    for round in 0..300 {
        let (path, data) = &originals[rng.random_range(0..originals.len())];
        let mut damaged = data.clone();
        if rng.random_bool(0.5) {
            let at = rng.random_range(0..damaged.len());
            damaged[at] ^= rng.random_range(1..=255u8);
        } else {
            damaged.truncate(rng.random_range(0..damaged.len()));
        }
        fs::write(path, &damaged).unwrap();
        match EmbeddedStore::open_with(&dir, options.clone()) {
            Ok(s) => {
                // Whatever opened is a prefix of what was written: no invented or mixed data.
                let kvs = everything(&s, 0).await;
                for (key, v, _, rev) in &kvs {
                    let i: usize = key.strip_prefix("/r/").unwrap().parse().unwrap();
                    assert_eq!(*v, value(i, 100), "round {round}");
                    assert_eq!(*rev, i as i64 + 1, "round {round}");
                }
            }
            Err(Error::Corrupt(msg)) => assert!(msg.contains(".skiff"), "{msg}"),
            Err(e) => panic!("round {round}: unexpected error {e:?}"),
        }
        // Undo: the open may have cut a torn tail or removed files; put everything back.
        for entry in fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|x| x == "skiff") {
                fs::remove_file(p).unwrap();
            }
        }
        for (p, d) in &originals {
            fs::write(p, d).unwrap();
        }
    }
}

#[tokio::test]
async fn the_store_applies_its_retention_policy_by_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open_with(
        tmp.path(),
        EmbeddedOptions {
            retention: Some(skiff_store::retention::RetentionPolicy {
                min_age: std::time::Duration::ZERO,
                min_revisions: 5,
                interval: std::time::Duration::from_millis(10),
            }),
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..50 {
        s.create(&format!("/ret/{i}"), value(i, 10)).await.unwrap();
    }
    // Wait (bounded) for the committer's next retention tick.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.compacted_revision().await.unwrap() < 45 {
        assert!(
            std::time::Instant::now() < deadline,
            "retention never compacted"
        );
        tokio::task::yield_now().await;
        std::thread::yield_now();
    }
    assert_eq!(
        s.compacted_revision().await.unwrap(),
        45,
        "keeps 5 revisions"
    );
    assert_eq!(everything(&s, 0).await.len(), 50);
}
