//! `skiff store ...`: inspect and change the cluster store by hand, and back it up. Works on
//! the embedded store in a data directory (the server must not be running on it, except for
//! `snapshot save`, which reads a live store safely) or on etcd.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::{Args, Subcommand};
use futures::StreamExt;
use skiff_store::{
    restore_snapshot, save_snapshot, EmbeddedStore, Error, EtcdStore, RangeRequest, Store,
};

/// Default data directory of a skiff server.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/skiff";

/// The embedded store's directory inside a server's data directory.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("db")
}

#[derive(Args)]
pub struct StoreArgs {
    /// The server's data directory (the embedded store lives in DIR/db).
    #[arg(long, global = true, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Use etcd at these comma-separated URLs instead of the embedded store.
    #[arg(long, global = true, value_delimiter = ',')]
    etcd_endpoints: Vec<String>,
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Print a key's value and revisions.
    Get { key: String },
    /// Set a key's value (create or overwrite).
    Put { key: String, value: String },
    /// Delete a key.
    Delete { key: String },
    /// List keys under a prefix.
    List {
        #[arg(default_value = "")]
        prefix: String,
        /// At most this many keys (0: all).
        #[arg(long, default_value_t = 0)]
        limit: usize,
        /// Read as of this revision (0: now).
        #[arg(long, default_value_t = 0)]
        revision: i64,
        /// Print keys only.
        #[arg(long)]
        keys_only: bool,
    },
    /// Print changes under a prefix as they happen.
    Watch {
        #[arg(default_value = "")]
        prefix: String,
        /// Start at this revision (0: from now on).
        #[arg(long, default_value_t = 0)]
        from: i64,
    },
    /// Forget history before a revision (default: the current one).
    Compact { revision: Option<i64> },
    /// Print revision, compaction and size figures.
    Status,
    /// Back up and restore the embedded store.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Write continuously and print each acknowledged write (used by the crash test).
    #[command(hide = true)]
    Stress {
        #[arg(long, default_value_t = 4)]
        writers: usize,
        #[arg(long, default_value_t = 16)]
        keys_per_writer: usize,
    },
}

#[derive(Subcommand)]
enum SnapshotCommand {
    /// Write a consistent snapshot of the store in --data-dir to FILE (safe while it runs).
    Save { file: PathBuf },
    /// Create the store in --data-dir (which must not hold one) from a snapshot.
    Restore { file: PathBuf },
}

pub async fn run(args: StoreArgs) -> anyhow::Result<()> {
    let dir = store_dir(&args.data_dir);
    match args.command {
        StoreCommand::Snapshot(SnapshotCommand::Save { file }) => {
            if !dir.is_dir() {
                bail!(
                    "no store in {} (expected {})",
                    args.data_dir.display(),
                    dir.display()
                );
            }
            let info = tokio::task::spawn_blocking(move || save_snapshot(&dir, &file)).await??;
            println!(
                "saved snapshot at revision {} ({} keys, {} bytes)",
                info.revision, info.keys, info.bytes
            );
            return Ok(());
        }
        StoreCommand::Snapshot(SnapshotCommand::Restore { file }) => {
            let info = restore_snapshot(&file, &dir)?;
            println!(
                "restored {} keys at revision {} into {}",
                info.keys,
                info.revision,
                dir.display()
            );
            return Ok(());
        }
        _ => {}
    }
    let (store, embedded) = open(&dir, &args.etcd_endpoints).await?;
    match args.command {
        StoreCommand::Get { key } => match store.get(&key).await? {
            Some(kv) => {
                println!(
                    "{}\tcreate_revision={}\tmod_revision={}",
                    kv.key, kv.create_revision, kv.mod_revision
                );
                std::io::stdout().write_all(&kv.value)?;
                println!();
            }
            None => bail!("{key}: not found"),
        },
        StoreCommand::Put { key, value } => {
            let rev = put(store.as_ref(), &key, Bytes::from(value)).await?;
            println!("revision {rev}");
        }
        StoreCommand::Delete { key } => {
            let (_, rev) = store.delete(&key, None).await?;
            println!("revision {rev}");
        }
        StoreCommand::List {
            prefix,
            limit,
            revision,
            keys_only,
        } => {
            let r = store
                .range(RangeRequest {
                    prefix,
                    limit,
                    revision,
                    continue_after: None,
                })
                .await?;
            let mut out = std::io::stdout().lock();
            for kv in &r.kvs {
                if keys_only {
                    writeln!(out, "{}", kv.key)?;
                } else {
                    writeln!(
                        out,
                        "{}\t{}\t{}",
                        kv.key,
                        kv.mod_revision,
                        String::from_utf8_lossy(&kv.value)
                    )?;
                }
            }
            eprintln!(
                "{} keys at revision {}{}",
                r.kvs.len(),
                r.revision,
                if r.more { " (more follow)" } else { "" }
            );
        }
        StoreCommand::Watch { prefix, from } => {
            let mut w = store.watch(&prefix, from).await?;
            while let Some(e) = w.next().await {
                let e = e?;
                println!("{:?}\t{}\t{}", e.kind, e.revision(), e.kv.key);
            }
        }
        StoreCommand::Compact { revision } => {
            let rev = match revision {
                Some(r) => r,
                None => store.current_revision().await?,
            };
            match &embedded {
                Some(e) => e.compact_and_reclaim(rev).await?,
                None => store.compact(rev).await?,
            }
            println!("compacted at revision {rev}");
        }
        StoreCommand::Status => {
            println!("revision\t{}", store.current_revision().await?);
            println!("compacted\t{}", store.compacted_revision().await?);
            if let Some(e) = &embedded {
                let s = e.stats();
                println!("keys\t{}", s.live_keys);
                println!("live_bytes\t{}", s.live_bytes);
                println!("history_changes\t{}", s.history_changes);
                println!("disk_bytes\t{}", s.disk_bytes);
            }
        }
        StoreCommand::Stress {
            writers,
            keys_per_writer,
        } => stress(store, writers, keys_per_writer).await?,
        StoreCommand::Snapshot(_) => unreachable!("handled above"),
    }
    Ok(())
}

/// The store to work on, and the same store as an embedded one when it is.
type Opened = (Arc<dyn Store>, Option<Arc<EmbeddedStore>>);

async fn open(dir: &Path, etcd: &[String]) -> anyhow::Result<Opened> {
    if etcd.is_empty() {
        let s = Arc::new(
            EmbeddedStore::open(dir)
                .with_context(|| format!("cannot open the store in {}", dir.display()))?,
        );
        Ok((s.clone(), Some(s)))
    } else {
        Ok((Arc::new(EtcdStore::connect(etcd).await?), None))
    }
}

/// Creates or overwrites `key`.
async fn put(store: &dyn Store, key: &str, value: Bytes) -> skiff_store::Result<i64> {
    loop {
        let r = match store.get(key).await? {
            None => store.create(key, value.clone()).await,
            Some(kv) => store.update(key, value.clone(), kv.mod_revision).await,
        };
        match r {
            Err(Error::Conflict { .. } | Error::AlreadyExists(_) | Error::NotFound(_)) => continue,
            other => return other,
        }
    }
}

/// A value that proves itself whole: `key|seq|<seq % 3000 filler bytes>|end`.
pub fn stress_value(key: &str, seq: u64) -> String {
    format!("{key}|{seq}|{}|end", "x".repeat((seq % 3000) as usize))
}

/// Writes forever; prints `ack <revision> <key> <seq>` for each acknowledged write.
async fn stress(store: Arc<dyn Store>, writers: usize, keys: usize) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for w in 0..writers {
        let (store, tx) = (store.clone(), tx.clone());
        tokio::spawn(async move {
            let mut seq = 0u64;
            loop {
                let key = format!("/stress/{w}/{}", seq % keys as u64);
                seq += 1;
                let value = Bytes::from(stress_value(&key, seq));
                match put(store.as_ref(), &key, value).await {
                    Ok(rev) => {
                        if tx.send(format!("ack {rev} {key} {seq}")).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(format!("error {e}"));
                        return;
                    }
                }
            }
        });
    }
    drop(tx);
    let mut out = std::io::stdout().lock();
    while let Some(line) = rx.recv().await {
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}
