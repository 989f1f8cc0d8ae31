//! File handling for the PKI directory: reads that tell "missing" from "unreadable", and
//! atomic, durable writes with an exact mode (0600 for keys, the token and kubeconfigs).

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Mode of private keys, the join token and kubeconfigs.
pub(crate) const PRIVATE: u32 = 0o600;
/// Mode of certificates (public).
pub(crate) const PUBLIC: u32 = 0o644;

/// Reads a whole file; `Ok(None)` when it does not exist, an error naming it otherwise.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::io(path, err)),
    }
}

/// Reads a file that must be UTF-8 text (PEM, the token).
pub(crate) fn read_optional_text(path: &Path) -> Result<Option<String>> {
    match read_optional(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::corrupt(path, "not UTF-8 text")),
    }
}

/// Creates `dir` (and its parents) if missing; a newly created directory gets mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|err| Error::io(dir, err))?;
    fs::set_permissions(dir, Permissions::from_mode(0o700)).map_err(|err| Error::io(dir, err))
}

/// Tightens an existing secret file to 0600 if group or others may access it.
pub(crate) fn ensure_private(path: &Path) -> Result<()> {
    let mode = fs::metadata(path)
        .map_err(|err| Error::io(path, err))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(path, Permissions::from_mode(PRIVATE))
            .map_err(|err| Error::io(path, err))?;
    }
    Ok(())
}

/// Writes `data` to `path` atomically (temporary file in the same directory, fsync, rename,
/// fsync of the directory) with exactly `mode`. The secret never exists with a wider mode.
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidInput(format!("{} has no file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(Error::io(&tmp, err)),
    }
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed the mode; set it exactly.
        file.set_permissions(Permissions::from_mode(mode))?;
        file.write_all(data)?;
        file.sync_all()
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, err));
    }
    if let Err(err) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, err));
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| Error::io(dir, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_sets_exact_mode_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_atomic(&path, b"one", PRIVATE).unwrap();
        write_atomic(&path, b"two", PRIVATE).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn ensure_private_tightens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_atomic(&path, b"k", 0o644).unwrap();
        ensure_private(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_optional(&dir.path().join("nope")).unwrap().is_none());
    }
}
