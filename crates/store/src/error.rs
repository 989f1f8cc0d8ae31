//! The store's one error type: every backend maps its failures onto these variants, and the
//! apiserver maps each variant onto one Kubernetes `Status` (404, 409, 409, 410, 503, 400).

/// What can go wrong in a store call. Each variant is distinct so callers can match on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The key does not exist (get, update, delete).
    #[error("key not found: {0}")]
    NotFound(String),
    /// `create` found the key already present.
    #[error("key already exists: {0}")]
    AlreadyExists(String),
    /// An update or delete named a mod_revision that is no longer the key's current one.
    #[error("conflict on {key}: expected mod_revision {expected}, found {actual}")]
    Conflict {
        key: String,
        expected: i64,
        actual: i64,
    },
    /// The requested revision is older than the oldest revision the store still keeps.
    #[error("revision {requested} has been compacted (oldest kept: {compacted})")]
    Compacted { requested: i64, compacted: i64 },
    /// The requested revision is newer than the store's current revision.
    #[error("revision {requested} is in the future (current: {current})")]
    FutureRevision { requested: i64, current: i64 },
    /// Bad input: an empty key, a value over the size limit, a bad argument.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The backend cannot serve the call right now (IO failure, lost connection, closed
    /// store, a watcher cut off for falling behind). Retrying may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Data on disk is damaged: opening refuses rather than losing or inventing data.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
