//! Backups of an embedded store: `save` reads a data directory (even while another process
//! writes to it) and writes one consistent snapshot file; `restore` turns a snapshot into a
//! new data directory at the snapshot's revision.

use std::fs;
use std::path::Path;

use super::checkpoint;
use super::files::{checkpoint_path, io_error, write_atomically};
use super::recovery::{self, load_checkpoint, Mode};
use crate::{Error, Result};

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub revision: i64,
    pub keys: u64,
    pub bytes: u64,
}

/// Writes a snapshot of the store in `data_dir` to `file`: every key as of the newest
/// acknowledged revision found. The store may be open and busy in another process; the files
/// it deletes while we read are retried.
pub fn save_snapshot(data_dir: &Path, file: &Path) -> Result<SnapshotInfo> {
    if !data_dir.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a data directory",
            data_dir.display()
        )));
    }
    let mut attempt = 0;
    let loaded = loop {
        attempt += 1;
        match recovery::load(data_dir, Mode::ReadOnly) {
            Ok(l) => break l,
            // A checkpoint replaced the files we listed: list again.
            Err(Error::Unavailable(_) | Error::Corrupt(_)) if attempt < 5 => continue,
            Err(e) => return Err(e),
        }
    };
    let state = loaded.state;
    let revision = state.current_revision();
    let bytes = checkpoint::write(file, &state, revision)?;
    Ok(SnapshotInfo {
        revision,
        keys: state.live_keys(),
        bytes,
    })
}

/// Creates the data directory `new_dir` (which must not hold a store) from a snapshot.
pub fn restore_snapshot(file: &Path, new_dir: &Path) -> Result<SnapshotInfo> {
    let data = fs::read(file).map_err(|e| io_error("cannot read snapshot", file, e))?;
    let state = load_checkpoint(&data, file)?;
    if new_dir.exists() {
        let occupied = fs::read_dir(new_dir)
            .map_err(|e| io_error("cannot read", new_dir, e))?
            .next()
            .is_some();
        if occupied {
            return Err(Error::Invalid(format!(
                "{} is not empty: restore into a new directory",
                new_dir.display()
            )));
        }
    }
    fs::create_dir_all(new_dir).map_err(|e| io_error("cannot create", new_dir, e))?;
    let revision = state.current_revision();
    write_atomically(&checkpoint_path(new_dir, revision), |f| {
        std::io::Write::write_all(f, &data)
    })?;
    Ok(SnapshotInfo {
        revision,
        keys: state.live_keys(),
        bytes: data.len() as u64,
    })
}
