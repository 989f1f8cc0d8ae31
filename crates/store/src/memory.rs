//! The memory backend: the model every other backend is checked against, and the store of unit
//! tests. Nothing survives the process.

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::local::{LocalCore, LocalWriter};
use crate::mvcc::{MvccState, WriteOp};
use crate::watch_hub::DEFAULT_WATCH_QUEUE;
use crate::{Event, Result};

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
}

#[async_trait]
impl LocalWriter for MemoryStore {
    fn core(&self) -> &LocalCore {
        &self.core
    }

    async fn write(&self, op: WriteOp) -> Result<Event> {
        let _writer = self.writer.lock();
        let event = self.core.state.write().apply(op)?;
        self.core.publish();
        Ok(event)
    }

    async fn compact_history(&self, revision: i64) -> Result<()> {
        let _writer = self.writer.lock();
        self.core.state.write().compact(revision)
    }
}
