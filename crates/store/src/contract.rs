//! The store contract: the dozen operations a Kubernetes apiserver needs from its storage,
//! with etcd v3's meaning. Every backend implements [`Store`] and passes the suite in
//! [`crate::conformance`].

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::{Event, KeyValue, RangeRequest, RangeResponse, Result};

/// A stream of watch events in revision order. It ends with an `Err` when the watch is cut
/// off (for instance a watcher that stopped reading, or a lost backend connection).
pub type WatchStream = BoxStream<'static, Result<Event>>;

/// A revisioned key-value store. One global revision counts every write; each write bumps it
/// by exactly one.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The key's current value, or `Ok(None)` if it does not exist.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Keys under a prefix, optionally paged and at a past revision.
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse>;

    /// Creates `key`; fails with `AlreadyExists` if it exists. Returns the new revision.
    async fn create(&self, key: &str, value: Bytes) -> Result<i64>;

    /// Replaces `key`'s value if its mod_revision is `expected`; `Conflict` otherwise,
    /// `NotFound` if absent. Returns the new revision.
    async fn update(&self, key: &str, value: Bytes, expected: i64) -> Result<i64>;

    /// Deletes `key`, if `expected` is given only when its mod_revision matches. Returns the
    /// deleted key-value (its mod_revision is the one it had) and the delete's revision.
    async fn delete(&self, key: &str, expected: Option<i64>) -> Result<(KeyValue, i64)>;

    /// Every change under `prefix` with revision >= `from` (0: from the next write on), first
    /// from history, then live. `Compacted` if `from` is older than the kept history.
    async fn watch(&self, prefix: &str, from: i64) -> Result<WatchStream>;

    /// Forgets history older than `revision`: later reads and watches before it fail with
    /// `Compacted`. The newest value of each live key is kept.
    async fn compact(&self, revision: i64) -> Result<()>;

    /// The current revision (that of the newest write).
    async fn current_revision(&self) -> Result<i64>;

    /// The compacted revision (the oldest one still readable).
    async fn compacted_revision(&self) -> Result<i64>;
}
