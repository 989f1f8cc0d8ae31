//! The embedded store's one writer thread. It takes every write waiting in its queue, checks
//! and applies them in order, appends them to the log as one frame, fsyncs once, and only then
//! makes them visible and answers their callers: group commit, so throughput grows with the
//! number of concurrent writers while each acknowledged write is on disk.
//!
//! It also compacts, rotates log segments, and writes checkpoints that let old segments go.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot;

use super::codec::{encode_frame, Record};
use super::files::{self, checkpoint_path, header, io_error, segment_path, HEADER_LEN, WAL_MAGIC};
use super::{checkpoint, EmbeddedOptions};
use crate::local::LocalCore;
use crate::mvcc::WriteOp;
use crate::retention::{RetentionPolicy, RevisionSamples};
use crate::{Error, Event, EventKind, Result};

/// A request to the writer thread.
pub enum Command {
    Write {
        op: WriteOp,
        reply: oneshot::Sender<Result<Event>>,
    },
    Compact {
        revision: i64,
        /// Write a checkpoint if that frees any log space (an explicit request), rather than
        /// only when the log has grown well past the live data (automatic retention).
        eager: bool,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// The open log segment plus the older ones still needed.
pub struct Committer {
    pub dir: PathBuf,
    pub core: Arc<LocalCore>,
    pub options: EmbeddedOptions,
    pub active: File,
    pub active_first: i64,
    pub active_len: u64,
    pub older: Vec<PathBuf>,
    pub checkpoint: Option<PathBuf>,
    /// Bytes in all needed segments.
    pub wal_bytes: u64,
    /// Set when the log could not be written: the in-memory state is ahead of the disk, so
    /// every later write is refused until the store is reopened.
    pub poisoned: Option<String>,
    /// Revisions seen over time, for automatic retention.
    pub samples: RevisionSamples,
}

impl Committer {
    /// Serves commands until every sender is gone.
    pub fn run(mut self, rx: Receiver<Command>) {
        let mut waiting: Option<Command> = None;
        let mut next_tick = Instant::now();
        loop {
            if let Some(policy) = self.options.retention {
                if Instant::now() >= next_tick {
                    self.retain(&policy);
                    next_tick = Instant::now() + policy.interval;
                }
            }
            let first = match waiting.take() {
                Some(c) => c,
                None => {
                    let next = match self.options.retention {
                        Some(_) => {
                            rx.recv_timeout(next_tick.saturating_duration_since(Instant::now()))
                        }
                        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match next {
                        Ok(c) => c,
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match first {
                Command::Compact {
                    revision,
                    eager,
                    reply,
                } => {
                    let _ = reply.send(self.compact(revision, eager));
                }
                Command::Write { op, reply } => {
                    let mut batch = vec![(op, reply)];
                    while batch.len() < self.options.max_batch {
                        match rx.try_recv() {
                            Ok(Command::Write { op, reply }) => batch.push((op, reply)),
                            Ok(other) => {
                                waiting = Some(other);
                                break;
                            }
                            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                        }
                    }
                    self.commit(batch);
                }
            }
        }
        let _ = self.active.sync_data();
        self.core.hub.close();
    }

    fn commit(&mut self, batch: Vec<(WriteOp, oneshot::Sender<Result<Event>>)>) {
        if let Some(why) = &self.poisoned {
            for (_, reply) in batch {
                let _ = reply.send(Err(Error::Unavailable(why.clone())));
            }
            return;
        }
        let mut results = Vec::with_capacity(batch.len());
        let mut payload = Vec::new();
        {
            let mut state = self.core.state.write();
            for (op, reply) in batch {
                let result = state.apply(op);
                if let Ok(e) = &result {
                    record_of(e).encode(&mut payload);
                }
                results.push((reply, result));
            }
        }
        if !payload.is_empty() {
            if let Err(e) = self.append(&payload) {
                let why = format!("write-ahead log failed, reopen the store: {e}");
                tracing::error!("{why}");
                self.poisoned = Some(why.clone());
                for (reply, _) in results {
                    let _ = reply.send(Err(Error::Unavailable(why.clone())));
                }
                return;
            }
        }
        self.core.publish();
        for (reply, result) in results {
            let _ = reply.send(result);
        }
        if self.active_len >= self.options.segment_bytes {
            if let Err(e) = self.rotate() {
                tracing::warn!(error = %e, "cannot start a new log segment; appending to the old one");
            }
        }
    }

    /// Appends one frame to the active segment and makes it durable.
    fn append(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let mut frame = Vec::with_capacity(payload.len() + 16);
        encode_frame(payload, &mut frame);
        self.active.write_all(&frame)?;
        self.active.sync_data()?;
        self.active_len += frame.len() as u64;
        self.wal_bytes += frame.len() as u64;
        Ok(())
    }

    /// Closes the active segment and starts a new one at the next revision.
    fn rotate(&mut self) -> Result<()> {
        let first = self.core.state.read().current_revision() + 1;
        if first == self.active_first {
            return Ok(());
        }
        let (file, path) = create_segment(&self.dir, first)?;
        let old = segment_path(&self.dir, self.active_first);
        self.active = file;
        self.active_first = first;
        self.active_len = HEADER_LEN as u64;
        self.wal_bytes += HEADER_LEN as u64;
        self.older.push(old);
        tracing::debug!(segment = %path.display(), "started a new log segment");
        Ok(())
    }

    fn compact(&mut self, revision: i64, eager: bool) -> Result<()> {
        if let Some(why) = &self.poisoned {
            return Err(Error::Unavailable(why.clone()));
        }
        let before = self.core.state.read().compacted_revision();
        self.core.state.write().compact(revision)?;
        if revision <= before {
            return Ok(());
        }
        let mut payload = Vec::new();
        Record::Compact { revision }.encode(&mut payload);
        if let Err(e) = self.append(&payload) {
            let why = format!("write-ahead log failed, reopen the store: {e}");
            self.poisoned = Some(why.clone());
            return Err(Error::Unavailable(why));
        }
        let (live, history) = {
            let s = self.core.state.read();
            (s.live_bytes(), s.history_bytes())
        };
        let kept = live + history;
        let worth_it = if eager {
            self.wal_bytes > kept + HEADER_LEN as u64 * (self.older.len() as u64 + 1)
        } else {
            self.wal_bytes > 2 * kept + self.options.checkpoint_slack
        };
        if worth_it {
            self.write_checkpoint()?;
        }
        Ok(())
    }

    /// One tick of automatic retention: compact what the policy no longer keeps.
    fn retain(&mut self, policy: &RetentionPolicy) {
        let (current, compacted) = {
            let s = self.core.state.read();
            (s.visible_revision(), s.compacted_revision())
        };
        let now = tokio::time::Instant::from_std(Instant::now());
        self.samples.record(now, current);
        if let Some(target) = self
            .samples
            .compaction_target(policy, now, current, compacted)
        {
            match self.compact(target, false) {
                Ok(()) => tracing::debug!(revision = target, "retention compacted history"),
                Err(e) => {
                    tracing::warn!(error = %e, revision = target, "retention compaction failed")
                }
            }
        }
    }

    /// Writes a checkpoint of everything so far and deletes the log and checkpoints before it.
    pub fn write_checkpoint(&mut self) -> Result<()> {
        self.rotate()?;
        let (path, bytes) = {
            let state = self.core.state.read();
            let revision = state.current_revision();
            let path = checkpoint_path(&self.dir, revision);
            let bytes = checkpoint::write(&path, &state, state.compacted_revision())?;
            (path, bytes)
        };
        let mut gone = std::mem::take(&mut self.older);
        if let Some(old) = self.checkpoint.replace(path.clone()) {
            if old != path {
                gone.push(old);
            }
        }
        for p in &gone {
            if let Err(e) = fs::remove_file(p) {
                tracing::warn!(file = %p.display(), error = %e, "cannot remove an obsolete store file");
            }
        }
        files::sync_dir(&self.dir).map_err(|e| io_error("cannot sync", &self.dir, e))?;
        self.wal_bytes = self.active_len;
        tracing::debug!(checkpoint = %path.display(), bytes, removed = gone.len(), "wrote checkpoint");
        Ok(())
    }
}

/// The log record for an applied change.
fn record_of(e: &Event) -> Record {
    match e.kind {
        EventKind::Delete => Record::Delete {
            revision: e.revision(),
            key: e.kv.key.clone(),
        },
        _ => Record::Put {
            revision: e.revision(),
            key: e.kv.key.clone(),
            value: e.kv.value.clone(),
        },
    }
}

/// Creates an empty segment durably (header in place before it is visible) and opens it for
/// appending.
pub fn create_segment(dir: &std::path::Path, first: i64) -> Result<(File, PathBuf)> {
    let path = segment_path(dir, first);
    files::write_atomically(&path, |f| f.write_all(&header(WAL_MAGIC)))?;
    let file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| io_error("cannot open", &path, e))?;
    Ok((file, path))
}
