//! Crash safety of the embedded store, with the real binary: a child process writes
//! continuously and reports each acknowledged write; it is killed with SIGKILL at a random
//! moment; on reopen every acknowledged write is there, nothing is half-written, and revisions
//! go on increasing. Twenty times over one data directory.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rand::Rng;
use skiff_store::{EmbeddedStore, RangeRequest, Store};

struct Ack {
    revision: i64,
    key: String,
    seq: u64,
}

fn parse_ack(line: &str) -> Ack {
    let mut parts = line.split(' ');
    assert_eq!(
        parts.next(),
        Some("ack"),
        "unexpected line from the writer: {line}"
    );
    Ack {
        revision: parts.next().unwrap().parse().unwrap(),
        key: parts.next().unwrap().to_string(),
        seq: parts.next().unwrap().parse().unwrap(),
    }
}

/// Checks a stress value is whole; returns its sequence number.
fn check_value(key: &str, value: &[u8]) -> u64 {
    let s = std::str::from_utf8(value).expect("value is UTF-8");
    let parts: Vec<&str> = s.split('|').collect();
    assert_eq!(parts.len(), 4, "half-written value under {key}: {s:.80}");
    assert_eq!(parts[0], key, "value of another key under {key}");
    let seq: u64 = parts[1].parse().expect("sequence number");
    assert_eq!(
        parts[2].len() as u64,
        seq % 3000,
        "filler cut short under {key}"
    );
    assert_eq!(parts[3], "end", "value cut short under {key}");
    seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_twenty_times() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path();
    let mut rng = rand::rng();
    let mut last_revision = 0;
    let mut total_acks = 0;
    for round in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["store", "--data-dir"])
            .arg(data_dir)
            .args(["stress", "--writers", "8", "--keys-per-writer", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start skiff store stress");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill after a random number of acknowledged writes (or a random pause once writes
        // flow), so the kill lands at varied points of a group commit.
        let kill_after = rng.random_range(1..2000);
        let mut acks = Vec::new();
        while acks.len() < kill_after {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the writer stopped acknowledging");
            acks.push(parse_ack(&line));
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        reader.join().unwrap();
        // Lines already printed were acknowledged too.
        acks.extend(rx.try_iter().map(|l| parse_ack(&l)));
        total_acks += acks.len();

        let store = EmbeddedStore::open(data_dir.join("db")).expect("reopen after SIGKILL");
        let current = store.current_revision().await.unwrap();
        let first = acks.iter().map(|a| a.revision).min().unwrap();
        let newest = acks.iter().map(|a| a.revision).max().unwrap();
        assert!(first > last_revision, "round {round}: revisions went back");
        assert!(
            current >= newest,
            "round {round}: acknowledged revision {newest} lost (store at {current})"
        );
        // Every acknowledged write is readable at its revision, whole.
        for a in &acks {
            let r = store
                .range(RangeRequest {
                    prefix: a.key.clone(),
                    revision: a.revision,
                    limit: 1,
                    ..Default::default()
                })
                .await
                .unwrap();
            let kv = r
                .kvs
                .first()
                .unwrap_or_else(|| panic!("round {round}: {} lost", a.key));
            assert_eq!(kv.key, a.key);
            assert_eq!(
                kv.mod_revision, a.revision,
                "round {round}: {} at {}",
                a.key, a.revision
            );
            assert_eq!(check_value(&a.key, &kv.value), a.seq);
        }
        // Nothing in the store is half-written, and each key is at least at its newest ack.
        let mut newest_seq: HashMap<&str, u64> = HashMap::new();
        for a in &acks {
            let e = newest_seq.entry(a.key.as_str()).or_default();
            *e = (*e).max(a.seq);
        }
        let all = store.range(RangeRequest::default()).await.unwrap();
        for kv in &all.kvs {
            let seq = check_value(&kv.key, &kv.value);
            if let Some(acked) = newest_seq.get(kv.key.as_str()) {
                assert!(seq >= *acked, "round {round}: {} went back", kv.key);
            }
        }
        last_revision = current;
        drop(store);
    }
    assert!(total_acks >= 20);
}
