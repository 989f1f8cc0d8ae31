//! The read side shared by the in-process backends (memory and embedded): the multi-version
//! state behind a read-write lock plus the watch hub. Writes differ per backend and live with
//! the backend.

use parking_lot::RwLock;

use crate::mvcc::MvccState;
use crate::watch_hub::WatchHub;
use crate::{validate_key, Event, KeyValue, RangeRequest, RangeResponse, Result, WatchStream};

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
