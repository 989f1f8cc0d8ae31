//! What the in-process backends (memory and embedded) share: the multi-version state behind a
//! read-write lock plus the watch hub, and the whole [`Store`] contract on top of one
//! backend-specific [`LocalWriter`] (how a write is committed and history compacted).

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;

use crate::mvcc::{MvccState, WriteOp};
use crate::watch_hub::WatchHub;
use crate::{
    validate_key, validate_write, Error, Event, KeyValue, RangeRequest, RangeResponse, Result,
    Store, WatchStream,
};

/// How an in-process backend commits: the rest of the contract is shared.
#[async_trait]
pub trait LocalWriter: Send + Sync + 'static {
    fn core(&self) -> &LocalCore;
    /// Checks, applies, makes durable (as the backend means it) and publishes one write.
    async fn write(&self, op: WriteOp) -> Result<Event>;
    /// Compacts history (and whatever the backend keeps on disk for it).
    async fn compact_history(&self, revision: i64) -> Result<()>;
}

#[async_trait]
impl<T: LocalWriter> Store for T {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.core().get(key)
    }

    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        self.core().range(&req)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<i64> {
        validate_write(key, &value)?;
        let key = key.into();
        Ok(self.write(WriteOp::Create { key, value }).await?.revision())
    }

    async fn update(&self, key: &str, value: Bytes, expected: i64) -> Result<i64> {
        validate_write(key, &value)?;
        let key = key.into();
        let op = WriteOp::Update {
            key,
            value,
            expected,
        };
        Ok(self.write(op).await?.revision())
    }

    async fn delete(&self, key: &str, expected: Option<i64>) -> Result<(KeyValue, i64)> {
        validate_key(key)?;
        let key = key.into();
        let e = self.write(WriteOp::Delete { key, expected }).await?;
        let revision = e.revision();
        let prev = e
            .prev_kv
            .ok_or_else(|| Error::Unavailable("delete without a previous value".into()))?;
        Ok((prev, revision))
    }

    async fn watch(&self, prefix: &str, from: i64) -> Result<WatchStream> {
        self.core().watch(prefix, from)
    }

    async fn compact(&self, revision: i64) -> Result<()> {
        self.compact_history(revision).await
    }

    async fn current_revision(&self) -> Result<i64> {
        Ok(self.core().current_revision())
    }

    async fn compacted_revision(&self) -> Result<i64> {
        Ok(self.core().compacted_revision())
    }
}

/// State and watchers of one in-process store.
pub struct LocalCore {
    pub state: RwLock<MvccState>,
    pub hub: WatchHub,
}

impl LocalCore {
    pub fn new(state: MvccState, watch_queue: usize) -> Self {
        LocalCore {
            state: RwLock::new(state),
            hub: WatchHub::new(watch_queue),
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        validate_key(key)?;
        Ok(self.state.read().get(key))
    }

    pub fn range(&self, req: &RangeRequest) -> Result<RangeResponse> {
        self.state.read().range(req)
    }

    pub fn watch(&self, prefix: &str, from: i64) -> Result<WatchStream> {
        self.hub.subscribe(prefix, || {
            let state = self.state.read();
            let start = if from <= 0 {
                state.visible_revision() + 1
            } else {
                from
            };
            Ok((state.backlog(prefix, start)?, start))
        })
    }

    /// Makes applied writes visible and hands them to the watchers. Called by the one writer.
    pub fn publish(&self) {
        let events: Vec<Event> = self.state.write().publish();
        self.hub.publish(&events);
    }

    pub fn current_revision(&self) -> i64 {
        self.state.read().visible_revision()
    }

    pub fn compacted_revision(&self) -> i64 {
        self.state.read().compacted_revision()
    }
}
