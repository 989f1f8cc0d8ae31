//! The memory backend: the model every other backend is checked against, and the store of unit
//! tests. Nothing survives the process.

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::Mutex;

use crate::local::LocalCore;
use crate::mvcc::{MvccState, WriteOp};
use crate::watch_hub::DEFAULT_WATCH_QUEUE;
use crate::{
    validate_key, validate_write, KeyValue, RangeRequest, RangeResponse, Result, Store, WatchStream,
};

/// An in-memory store.
pub struct MemoryStore {
    core: LocalCore,
    /// Serialises writers so changes are published in revision order.
    writer: Mutex<()>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::with_watch_queue(DEFAULT_WATCH_QUEUE)
    }

    /// A store whose watchers are cut off after falling `queue` changes behind.
    pub fn with_watch_queue(queue: usize) -> Self {
        MemoryStore {
            core: LocalCore::new(MvccState::default(), queue),
            writer: Mutex::new(()),
        }
    }

    fn write(&self, op: WriteOp) -> Result<crate::Event> {
        let _writer = self.writer.lock();
        let event = self.core.state.write().apply(op)?;
        self.core.publish();
        Ok(event)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.core.get(key)
    }

    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        self.core.range(&req)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<i64> {
        validate_write(key, &value)?;
        let e = self.write(WriteOp::Create {
            key: key.into(),
            value,
        })?;
        Ok(e.revision())
    }

    async fn update(&self, key: &str, value: Bytes, expected: i64) -> Result<i64> {
        validate_write(key, &value)?;
        let e = self.write(WriteOp::Update {
            key: key.into(),
            value,
            expected,
        })?;
        Ok(e.revision())
    }

    async fn delete(&self, key: &str, expected: Option<i64>) -> Result<(KeyValue, i64)> {
        validate_key(key)?;
        let e = self.write(WriteOp::Delete {
            key: key.into(),
            expected,
        })?;
        let revision = e.revision();
        Ok((e.prev_kv.expect("a delete has a previous value"), revision))
    }

    async fn watch(&self, prefix: &str, from: i64) -> Result<WatchStream> {
        self.core.watch(prefix, from)
    }

    async fn compact(&self, revision: i64) -> Result<()> {
        let _writer = self.writer.lock();
        self.core.state.write().compact(revision)
    }

    async fn current_revision(&self) -> Result<i64> {
        Ok(self.core.current_revision())
    }

    async fn compacted_revision(&self) -> Result<i64> {
        Ok(self.core.compacted_revision())
    }
}
