//! Opening a data directory: load the newest checkpoint, replay the write-ahead log after it,
//! and decide what a damaged file means. A torn tail of the newest segment (a crash during a
//! write nobody was told succeeded) is cut off with a warning; any other damage stops the open
//! with an error naming the file, so nothing acknowledged is ever silently dropped.
//!
//! The same loader serves `snapshot save` from another process while the store runs
//! (read-only: it changes no file and stops quietly at a half-written tail).

use std::fs;
use std::path::{Path, PathBuf};

use super::codec::{read_frame, FrameRead, Record};
use super::files::{self, check_header, io_error, CHECKPOINT_MAGIC, HEADER_LEN, WAL_MAGIC};
use crate::mvcc::MvccState;
use crate::{Error, KeyValue, Result};

/// Whether loading may repair the directory (the owner opening it) or must only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Recover,
    ReadOnly,
}

/// A write-ahead log segment found at open.
#[derive(Debug, Clone)]
pub struct Segment {
    pub first_revision: i64,
    pub path: PathBuf,
    /// Bytes up to the end of the last intact frame.
    pub valid_len: u64,
}

/// What loading a directory produced.
pub struct Loaded {
    pub state: MvccState,
    /// Revision of the checkpoint the state started from (0: none).
    pub checkpoint_revision: i64,
    /// Segments still needed, oldest first.
    pub segments: Vec<Segment>,
    /// Segments and checkpoints made obsolete by the newest checkpoint.
    pub obsolete: Vec<PathBuf>,
    pub temporaries: Vec<PathBuf>,
}

impl Loaded {
    /// Bytes of log written since the checkpoint.
    pub fn wal_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.valid_len).sum()
    }
}

/// Loads the store in `dir`.
pub fn load(dir: &Path, mode: Mode) -> Result<Loaded> {
    let listing = files::list(dir)?;
    let mut obsolete = Vec::new();
    let (mut state, checkpoint_revision) = match listing.checkpoints.last() {
        Some((rev, path)) => {
            let data = fs::read(path).map_err(|e| io_error("cannot read", path, e))?;
            let state = load_checkpoint(&data, path)?;
            if state.current_revision() != *rev {
                return Err(Error::Corrupt(format!(
                    "{}: holds revision {}, its name says {rev}",
                    path.display(),
                    state.current_revision()
                )));
            }
            (state, *rev)
        }
        None => (MvccState::default(), 0),
    };
    if let Some((_, older)) = listing.checkpoints.split_last() {
        obsolete.extend(older.iter().map(|(_, p)| p.clone()));
    }

    // A segment is needed unless the next one starts at or below the checkpoint revision + 1.
    let mut needed = Vec::new();
    for (i, (first, path)) in listing.segments.iter().enumerate() {
        let next_first = listing.segments.get(i + 1).map(|(f, _)| *f);
        if next_first.is_some_and(|n| n <= checkpoint_revision + 1) {
            obsolete.push(path.clone());
        } else {
            needed.push((*first, path.clone()));
        }
    }
    let mut segments = Vec::new();
    let count = needed.len();
    for (i, (first, path)) in needed.into_iter().enumerate() {
        let last = i + 1 == count;
        if first != state.current_revision() + 1 {
            let before = match segments.last() {
                Some(Segment { path: prev, .. }) => format!("{} ends", prev.display()),
                None if checkpoint_revision > 0 => "the newest checkpoint ends".to_string(),
                None => "the store starts".to_string(),
            };
            return Err(Error::Corrupt(format!(
                "{}: starts at revision {first}, but {before} at revision {}: revisions in between are missing (a truncated or deleted file)",
                path.display(),
                state.current_revision()
            )));
        }
        let valid_len = replay_segment(&mut state, &path, last, mode)?;
        segments.push(Segment {
            first_revision: first,
            path,
            valid_len,
        });
    }
    state.mark_visible();
    Ok(Loaded {
        state,
        checkpoint_revision,
        segments,
        obsolete,
        temporaries: listing.temporaries,
    })
}

/// Replays one segment into `state`; returns the length of its intact part.
fn replay_segment(state: &mut MvccState, path: &Path, last: bool, mode: Mode) -> Result<u64> {
    let data = fs::read(path).map_err(|e| io_error("cannot read", path, e))?;
    let corrupt = |what: String| Error::Corrupt(format!("{}: {what}", path.display()));
    // A segment is created with its header in one durable rename, so a short header means
    // damage, not a crash.
    let body = check_header(&data, WAL_MAGIC, path)?;
    let mut at = 0;
    loop {
        match read_frame(body, at) {
            FrameRead::Frame { payload, next } => {
                let records = Record::decode_all(payload)
                    .map_err(|e| corrupt(format!("frame at offset {}: {e}", HEADER_LEN + at)))?;
                for r in records {
                    apply_logged(state, r).map_err(&corrupt)?;
                }
                state.mark_visible();
                at = next;
            }
            FrameRead::End => break,
            FrameRead::Torn if last => {
                if mode == Mode::Recover {
                    tracing::warn!(
                        file = %path.display(),
                        offset = HEADER_LEN + at,
                        dropped_bytes = body.len() - at,
                        "dropping the torn tail of the write-ahead log (a write interrupted before it was acknowledged)"
                    );
                }
                break;
            }
            FrameRead::Torn => {
                return Err(corrupt(format!(
                    "cut short at offset {} although newer segments follow",
                    HEADER_LEN + at
                )))
            }
            FrameRead::Corrupt(what) => return Err(corrupt(what)),
        }
    }
    Ok((HEADER_LEN + at) as u64)
}

/// Applies one logged change, checking it follows the state.
fn apply_logged(state: &mut MvccState, r: Record) -> std::result::Result<(), String> {
    let expect = state.current_revision() + 1;
    match r {
        Record::Put {
            revision,
            key,
            value,
        } => {
            if revision != expect {
                return Err(format!("expected revision {expect}, found {revision}"));
            }
            let e = state.event_for(key, revision, Some(value));
            state.replay(e);
        }
        Record::Delete { revision, key } => {
            if revision != expect {
                return Err(format!("expected revision {expect}, found {revision}"));
            }
            let e = state.event_for(key, revision, None);
            if e.prev_kv.is_none() {
                return Err(format!(
                    "revision {revision} deletes {} which does not exist",
                    e.kv.key
                ));
            }
            state.replay(e);
        }
        Record::Compact { revision } => {
            state.mark_visible();
            state.compact(revision).map_err(|e| e.to_string())?;
        }
        other => return Err(format!("unexpected record in the log: {other:?}")),
    }
    Ok(())
}

/// Parses a checkpoint (or snapshot) file into a state.
pub fn load_checkpoint(data: &[u8], path: &Path) -> Result<MvccState> {
    let corrupt = |what: String| Error::Corrupt(format!("{}: {what}", path.display()));
    let body = check_header(data, CHECKPOINT_MAGIC, path)?;
    let mut records = Vec::new();
    let mut at = 0;
    loop {
        match read_frame(body, at) {
            FrameRead::Frame { payload, next } => {
                records.extend(
                    Record::decode_all(payload)
                        .map_err(|e| corrupt(format!("offset {}: {e}", HEADER_LEN + at)))?,
                );
                at = next;
            }
            FrameRead::End => break,
            FrameRead::Torn => {
                return Err(corrupt(format!("truncated at offset {}", HEADER_LEN + at)))
            }
            FrameRead::Corrupt(what) => return Err(corrupt(what)),
        }
    }
    let mut it = records.into_iter();
    let Some(Record::CheckpointStart {
        revision,
        compacted,
    }) = it.next()
    else {
        return Err(corrupt("does not begin with a checkpoint header".into()));
    };
    let mut state = MvccState::at_revision(compacted);
    let (mut keys, mut changes) = (0u64, 0u64);
    let mut ended = false;
    for r in it {
        if ended {
            return Err(corrupt("records after the checkpoint trailer".into()));
        }
        match r {
            Record::Key {
                key,
                value,
                create_revision,
                mod_revision,
            } => {
                if changes > 0 || mod_revision > compacted {
                    return Err(corrupt(format!("key {key} out of place")));
                }
                keys += 1;
                state.load(KeyValue {
                    key,
                    value,
                    create_revision,
                    mod_revision,
                });
            }
            Record::CheckpointEnd {
                keys: k,
                changes: c,
            } => {
                if (k, c) != (keys, changes) {
                    return Err(corrupt(format!(
                        "trailer counts {k} keys and {c} changes, the file holds {keys} and {changes}"
                    )));
                }
                ended = true;
            }
            other => {
                changes += 1;
                apply_logged(&mut state, other).map_err(&corrupt)?;
            }
        }
    }
    if !ended {
        return Err(corrupt(
            "truncated: the checkpoint trailer is missing".into(),
        ));
    }
    if state.current_revision() != revision {
        return Err(corrupt(format!(
            "header says revision {revision}, the records end at {}",
            state.current_revision()
        )));
    }
    state.mark_visible();
    Ok(state)
}
