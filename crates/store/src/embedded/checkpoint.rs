//! Writing checkpoints: the state as of a base revision plus every change after it, in one
//! file written atomically. A checkpoint lets the store delete the log segments before it; a
//! snapshot (backup) is a checkpoint whose base is its newest revision.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::codec::{encode_frame, Record};
use super::files::{header, write_atomically, CHECKPOINT_MAGIC};
use crate::mvcc::MvccState;
use crate::{EventKind, Result};

/// Frames of a checkpoint are cut at about this many bytes.
const FRAME_TARGET: usize = 1 << 20;

/// Writes `state` (all of it must be visible) to `path` as the keys in force at `base` plus the
/// changes after `base`. `base` must be at or above the compacted revision. Returns the bytes
/// written.
pub fn write(path: &Path, state: &MvccState, base: i64) -> Result<u64> {
    let mut written = 0u64;
    write_atomically(path, |f| {
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let mut frames = FrameWriter::default();
        out.write_all(&header(CHECKPOINT_MAGIC))?;
        frames.push(
            &mut out,
            Record::CheckpointStart {
                revision: state.current_revision(),
                compacted: base,
            },
        )?;
        let mut keys = 0u64;
        for kv in state.snapshot_at(base) {
            keys += 1;
            frames.push(
                &mut out,
                Record::Key {
                    key: kv.key,
                    value: kv.value,
                    create_revision: kv.create_revision,
                    mod_revision: kv.mod_revision,
                },
            )?;
        }
        let mut changes = 0u64;
        for e in state.history_after(base) {
            changes += 1;
            let revision = e.revision();
            let record = match e.kind {
                EventKind::Delete => Record::Delete {
                    revision,
                    key: e.kv.key.clone(),
                },
                _ => Record::Put {
                    revision,
                    key: e.kv.key.clone(),
                    value: e.kv.value.clone(),
                },
            };
            frames.push(&mut out, record)?;
        }
        frames.push(&mut out, Record::CheckpointEnd { keys, changes })?;
        frames.flush(&mut out)?;
        out.flush()?;
        written = frames.written + super::files::HEADER_LEN as u64;
        Ok(())
    })?;
    Ok(written)
}

#[derive(Default)]
struct FrameWriter {
    payload: Vec<u8>,
    frame: Vec<u8>,
    written: u64,
}

impl FrameWriter {
    fn push(&mut self, out: &mut impl Write, r: Record) -> std::io::Result<()> {
        r.encode(&mut self.payload);
        if self.payload.len() >= FRAME_TARGET {
            self.flush(out)?;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.payload.is_empty() {
            return Ok(());
        }
        self.frame.clear();
        encode_frame(&self.payload, &mut self.frame);
        out.write_all(&self.frame)?;
        self.written += self.frame.len() as u64;
        self.payload.clear();
        Ok(())
    }
}
