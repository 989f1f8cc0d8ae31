//! The embedded store's data directory: file names, listing, the exclusive lock, and the
//! durable-rename helpers every writer uses.
//!
//! ```text
//! DIR/LOCK                              held (flock) by the process that owns the store
//! DIR/checkpoint-<revision>.skiff       state + retained history up to <revision>
//! DIR/wal-<first revision>.skiff        write-ahead log segments, appended in frames
//! DIR/*.tmp                             a file being written; removed at open
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Header of a write-ahead log segment.
pub const WAL_MAGIC: &[u8; 8] = b"SKIFFWAL";
/// Header of a checkpoint (and of a snapshot, which is a checkpoint).
pub const CHECKPOINT_MAGIC: &[u8; 8] = b"SKIFFCKP";
/// Bytes of a file header: magic plus a format version.
pub const HEADER_LEN: usize = 12;
pub const FORMAT_VERSION: u32 = 1;

/// The files found in a data directory, each list sorted by revision.
#[derive(Debug, Default)]
pub struct Listing {
    pub checkpoints: Vec<(i64, PathBuf)>,
    pub segments: Vec<(i64, PathBuf)>,
    pub temporaries: Vec<PathBuf>,
}

pub fn checkpoint_path(dir: &Path, revision: i64) -> PathBuf {
    dir.join(format!("checkpoint-{revision:020}.skiff"))
}

pub fn segment_path(dir: &Path, first_revision: i64) -> PathBuf {
    dir.join(format!("wal-{first_revision:020}.skiff"))
}

/// Lists the store's files in `dir`.
pub fn list(dir: &Path) -> Result<Listing> {
    let mut listing = Listing::default();
    let entries = fs::read_dir(dir).map_err(|e| io_error("cannot read data directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("cannot read data directory", dir, e))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".tmp") {
            listing.temporaries.push(path);
        } else if let Some(rev) = parse_name(name, "checkpoint-") {
            listing.checkpoints.push((rev, path));
        } else if let Some(rev) = parse_name(name, "wal-") {
            listing.segments.push((rev, path));
        }
    }
    listing.checkpoints.sort();
    listing.segments.sort();
    Ok(listing)
}

fn parse_name(name: &str, prefix: &str) -> Option<i64> {
    name.strip_prefix(prefix)?
        .strip_suffix(".skiff")?
        .parse()
        .ok()
}

/// A file header: magic and format version.
pub fn header(magic: &[u8; 8]) -> Vec<u8> {
    let mut h = magic.to_vec();
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h
}

/// Checks a file's header; returns the data after it.
pub fn check_header<'a>(data: &'a [u8], magic: &[u8; 8], path: &Path) -> Result<&'a [u8]> {
    if data.len() < HEADER_LEN || &data[..8] != magic {
        return Err(Error::Corrupt(format!(
            "{}: not a skiff store file (bad or missing header)",
            path.display()
        )));
    }
    let version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    if version != FORMAT_VERSION {
        return Err(Error::Corrupt(format!(
            "{}: format version {version}, this skiff reads {FORMAT_VERSION}",
            path.display()
        )));
    }
    Ok(&data[HEADER_LEN..])
}

/// Writes `path` atomically and durably: a temporary file, fsync, rename, fsync of the dir.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        write(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error("cannot write", path, e)
    })
}

/// Makes a directory's entries (creations, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Takes the data directory's exclusive lock, held as long as the file stays open.
pub fn lock(dir: &Path) -> Result<File> {
    let path = dir.join("LOCK");
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error("cannot open lock file", &path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Unavailable(format!(
            "data directory {} is in use by another skiff process",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io_error("cannot lock", &path, e)),
    }
}

pub fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Unavailable(format!("{what} {}: {e}", path.display()))
}
