//! The embedded backend, skiff's default store: a write-ahead log with group commit in front
//! of the in-memory multi-version state, plus checkpoints that bound the log. Every
//! acknowledged write has been fsynced; reopening after `kill -9` or power loss finds it.
//! ARCHITECTURE.md explains why this engine rather than SQLite or redb.

mod checkpoint;
mod codec;
mod committer;
mod files;
mod recovery;
mod snapshot;

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::local::{LocalCore, LocalWriter};
use crate::mvcc::WriteOp;
use crate::retention::RetentionPolicy;
use crate::watch_hub::DEFAULT_WATCH_QUEUE;
use crate::{Error, Event, Result};
use committer::{Command, Committer};
use files::io_error;
use recovery::Mode;

pub use snapshot::{restore_snapshot, save_snapshot, SnapshotInfo};

/// Tuning of an embedded store.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Changes a watcher may fall behind before it is cut off.
    pub watch_queue: usize,
    /// A log segment is closed once it reaches this size.
    pub segment_bytes: u64,
    /// At most this many writes share one fsync.
    pub max_batch: usize,
    /// Automatic compaction writes a checkpoint once the log exceeds twice the kept data plus
    /// this much.
    pub checkpoint_slack: u64,
    /// Automatic history retention, run by the store itself (None: only explicit
    /// compaction).
    pub retention: Option<RetentionPolicy>,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            watch_queue: DEFAULT_WATCH_QUEUE,
            segment_bytes: 64 << 20,
            max_batch: 4096,
            checkpoint_slack: 16 << 20,
            retention: Some(RetentionPolicy::default()),
        }
    }
}

/// Figures about an open embedded store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedStats {
    pub revision: i64,
    pub compacted: i64,
    pub live_keys: u64,
    pub live_bytes: u64,
    pub history_changes: usize,
    pub disk_bytes: u64,
    pub watchers: usize,
}

/// The embedded store over one data directory (held exclusively while open).
pub struct EmbeddedStore {
    dir: PathBuf,
    core: Arc<LocalCore>,
    tx: Mutex<Option<mpsc::Sender<Command>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    _lock: File,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir` with default options.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, EmbeddedOptions::default())
    }

    /// Opens (creating if needed) the store in `dir`.
    pub fn open_with(dir: impl AsRef<Path>, options: EmbeddedOptions) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
        let lock = files::lock(&dir)?;
        let loaded = recovery::load(&dir, Mode::Recover)?;
        for p in loaded.obsolete.iter().chain(&loaded.temporaries) {
            fs::remove_file(p).map_err(|e| io_error("cannot remove", p, e))?;
        }
        let wal_bytes = loaded.wal_bytes();
        let checkpoint = (loaded.checkpoint_revision > 0)
            .then(|| files::checkpoint_path(&dir, loaded.checkpoint_revision));
        let mut segments = loaded.segments;
        let (active, active_first, active_len) = match segments.pop() {
            Some(last) => {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&last.path)
                    .map_err(|e| io_error("cannot open", &last.path, e))?;
                let on_disk = f
                    .metadata()
                    .map_err(|e| io_error("cannot stat", &last.path, e))?
                    .len();
                if on_disk != last.valid_len {
                    f.set_len(last.valid_len)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| io_error("cannot truncate the torn tail of", &last.path, e))?;
                }
                drop(f);
                let f = OpenOptions::new()
                    .append(true)
                    .open(&last.path)
                    .map_err(|e| io_error("cannot open", &last.path, e))?;
                (f, last.first_revision, last.valid_len)
            }
            None => {
                let first = loaded.state.current_revision() + 1;
                let (f, _) = committer::create_segment(&dir, first)?;
                (f, first, files::HEADER_LEN as u64)
            }
        };
        let core = Arc::new(LocalCore::new(loaded.state, options.watch_queue));
        let committer = Committer {
            dir: dir.clone(),
            core: core.clone(),
            options,
            active,
            active_first,
            active_len,
            older: segments.into_iter().map(|s| s.path).collect(),
            checkpoint,
            wal_bytes: wal_bytes.max(active_len),
            poisoned: None,
            samples: Default::default(),
        };
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("skiff-store-committer".into())
            .spawn(move || committer.run(rx))
            .map_err(|e| Error::Unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok(EmbeddedStore {
            dir,
            core,
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            _lock: lock,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Current figures, including the bytes the data directory takes on disk.
    pub fn stats(&self) -> EmbeddedStats {
        let state = self.core.state.read();
        EmbeddedStats {
            revision: state.visible_revision(),
            compacted: state.compacted_revision(),
            live_keys: state.live_keys(),
            live_bytes: state.live_bytes(),
            history_changes: state.history_len(),
            disk_bytes: disk_bytes(&self.dir),
            watchers: self.core.hub.watcher_count(),
        }
    }

    fn send(&self, cmd: Command) -> Result<()> {
        let tx = self.tx.lock();
        let Some(tx) = tx.as_ref() else {
            return Err(closed());
        };
        tx.send(cmd).map_err(|_| closed())
    }

    /// Compacts and, whenever that frees log space, writes a checkpoint and deletes the log
    /// before it, so the disk holds little more than the kept data (`skiff store compact`).
    /// `Store::compact` (automatic retention) checkpoints only once the log has grown well
    /// past the kept data, so a busy store is not rewritten at every retention tick.
    pub async fn compact_and_reclaim(&self, revision: i64) -> Result<()> {
        self.compact_with(revision, true).await
    }

    async fn compact_with(&self, revision: i64, eager: bool) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Compact {
            revision,
            eager,
            reply,
        })?;
        rx.await.map_err(|_| closed())?
    }
}

fn closed() -> Error {
    Error::Unavailable("store closed".into())
}

/// Bytes taken by the files in `dir`.
pub fn disk_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.tx.lock().take();
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

#[async_trait]
impl LocalWriter for EmbeddedStore {
    fn core(&self) -> &LocalCore {
        &self.core
    }

    async fn write(&self, op: WriteOp) -> Result<Event> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Write { op, reply })?;
        rx.await.map_err(|_| closed())?
    }

    /// Writes a checkpoint once the log exceeds twice the kept data plus
    /// [`EmbeddedOptions::checkpoint_slack`]; see [`EmbeddedStore::compact_and_reclaim`].
    async fn compact_history(&self, revision: i64) -> Result<()> {
        self.compact_with(revision, false).await
    }
}
