//! The values that cross the store contract: key-value pairs with their revisions, range
//! requests and answers, watch events. Plain data, no behaviour.

use bytes::Bytes;

/// Largest value a store accepts (etcd's default request limit is 1.5 MiB; Kubernetes objects
/// are bounded at 3 MiB by the apiserver, so the store allows exactly that much).
pub const MAX_VALUE_BYTES: usize = 3 * 1024 * 1024;

/// Longest key a store accepts.
pub const MAX_KEY_BYTES: usize = 8 * 1024;

/// A key with its value and the revisions that created and last modified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created this key (since its last deletion).
    pub create_revision: i64,
    /// Revision of the write that produced this value.
    pub mod_revision: i64,
}

/// A read of many keys under one prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeRequest {
    /// Every key starting with this prefix (the empty prefix selects everything).
    pub prefix: String,
    /// Return at most this many keys (0: no limit).
    pub limit: usize,
    /// Start strictly after this key (a continue token from an earlier page).
    pub continue_after: Option<String>,
    /// Read the state as of this revision (0: the current revision).
    pub revision: i64,
}

/// The answer to a [`RangeRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResponse {
    /// Matching keys in ascending key order.
    pub kvs: Vec<KeyValue>,
    /// The revision the range was read at.
    pub revision: i64,
    /// True when `limit` cut the answer short: more keys follow the last one returned.
    pub more: bool,
}

/// What a watch event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Create,
    Update,
    Delete,
}

/// One change, as a watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The key after the change. For a delete: the key, an empty value, create_revision 0 and
    /// mod_revision = the revision of the delete.
    pub kv: KeyValue,
    /// The key before the change (None for a create).
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision at which this change happened.
    pub fn revision(&self) -> i64 {
        self.kv.mod_revision
    }
}

/// Checks a key against the store's limits.
pub fn validate_key(key: &str) -> crate::Result<()> {
    if key.is_empty() {
        return Err(crate::Error::Invalid("key must not be empty".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(crate::Error::Invalid(format!(
            "key is {} bytes, the limit is {MAX_KEY_BYTES}",
            key.len()
        )));
    }
    Ok(())
}

/// Checks a key and a value against the store's limits.
pub fn validate_write(key: &str, value: &[u8]) -> crate::Result<()> {
    validate_key(key)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(crate::Error::Invalid(format!(
            "value for {key} is {} bytes, the limit is {MAX_VALUE_BYTES} (3 MiB)",
            value.len()
        )));
    }
    Ok(())
}
