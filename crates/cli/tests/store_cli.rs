//! `skiff store` as a user types it: put / get / list / delete / compact / status, and a
//! snapshot saved from a store another process is busy writing, then restored.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use skiff_store::{EmbeddedStore, RangeRequest, Store};

fn skiff(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["store", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run skiff")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "skiff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn put_get_list_delete_compact() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert_eq!(ok(skiff(d, &["put", "/registry/a", "one"])), "revision 1\n");
    assert_eq!(ok(skiff(d, &["put", "/registry/a", "two"])), "revision 2\n");
    ok(skiff(d, &["put", "/registry/b", "three"]));
    let got = ok(skiff(d, &["get", "/registry/a"]));
    assert_eq!(got, "/registry/a\tcreate_revision=1\tmod_revision=2\ntwo\n");
    let list = ok(skiff(d, &["list", "/registry/", "--keys-only"]));
    assert_eq!(list, "/registry/a\n/registry/b\n");
    let old = ok(skiff(d, &["list", "/registry/", "--revision", "1"]));
    assert_eq!(old, "/registry/a\t1\tone\n");
    ok(skiff(d, &["delete", "/registry/b"]));
    assert_eq!(ok(skiff(d, &["compact"])), "compacted at revision 4\n");
    let status = ok(skiff(d, &["status"]));
    assert!(
        status.starts_with("revision\t4\ncompacted\t4\nkeys\t1\nlive_bytes\t14\n"),
        "{status}"
    );
    let missing = skiff(d, &["get", "/registry/b"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
    let empty_key = skiff(d, &["put", "", "x"]);
    assert!(String::from_utf8_lossy(&empty_key.stderr).contains("key must not be empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_saved_from_a_busy_store_restores_to_its_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    let mut writer = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["store", "--data-dir"])
        .arg(&source)
        .args(["stress", "--writers", "4"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until writes flow.
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(writer.stdout.take().unwrap()));
    for _ in 0..200 {
        lines.next().unwrap().unwrap();
    }
    let drain = std::thread::spawn(move || for _ in lines {});
    let file = tmp.path().join("backup.snap");
    let saved = ok(skiff(
        &source,
        &["snapshot", "save", file.to_str().unwrap()],
    ));
    let revision: i64 = saved
        .strip_prefix("saved snapshot at revision ")
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output: {saved}"));
    writer.kill().unwrap();
    writer.wait().unwrap();
    drain.join().unwrap();

    let target = tmp.path().join("restored");
    let restored = ok(skiff(
        &target,
        &["snapshot", "restore", file.to_str().unwrap()],
    ));
    assert!(
        restored.contains(&format!("at revision {revision}")),
        "{restored}"
    );
    // Restoring again over a store is refused.
    let again = skiff(&target, &["snapshot", "restore", file.to_str().unwrap()]);
    assert!(!again.status.success());

    let src = EmbeddedStore::open(source.join("db")).unwrap();
    let dst = EmbeddedStore::open(target.join("db")).unwrap();
    assert!(src.current_revision().await.unwrap() >= revision);
    assert_eq!(dst.current_revision().await.unwrap(), revision);
    let at = |rev| RangeRequest {
        revision: rev,
        ..Default::default()
    };
    let want = src.range(at(revision)).await.unwrap().kvs;
    let got = dst.range(at(0)).await.unwrap().kvs;
    assert!(!want.is_empty());
    assert_eq!(
        got, want,
        "restore equals the source at the snapshot revision"
    );
}
