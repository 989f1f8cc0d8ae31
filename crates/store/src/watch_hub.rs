//! Watch fan-out for the in-process backends. The writer hands each published group of
//! changes to every watcher whose prefix matches, as one shared, immutable batch, and never
//! waits. A watcher that lets more than its limit of changes pile up unread has stopped
//! keeping up: it is cut off (its stream ends with an error), so writers never slow down and
//! memory stays bounded (at most the limit plus one group commit per watcher).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::{Error, Event, Result, WatchStream};

/// Default number of unread changes after which a watcher is cut off.
pub const DEFAULT_WATCH_QUEUE: usize = 4096;

type Batch = Arc<[Event]>;

struct Subscriber {
    prefix: String,
    tx: mpsc::UnboundedSender<Batch>,
    /// Changes sent and not yet received by the stream.
    pending: Arc<AtomicUsize>,
    cut_off: Arc<AtomicBool>,
}

/// The registry of live watchers.
pub struct WatchHub {
    subscribers: Mutex<Vec<Subscriber>>,
    limit: usize,
}

impl WatchHub {
    pub fn new(limit: usize) -> Self {
        WatchHub {
            subscribers: Mutex::new(Vec::new()),
            limit: limit.max(1),
        }
    }

    /// Registers a watcher. `backlog` runs while the hub is locked and returns the changes
    /// already visible that the watcher wants plus the first revision it wants; so no change
    /// published concurrently is lost: it is either in the backlog, in the queue, or in both
    /// (the stream drops duplicates and anything older than the start by revision).
    pub fn subscribe(
        &self,
        prefix: &str,
        backlog: impl FnOnce() -> Result<(Vec<Event>, i64)>,
    ) -> Result<WatchStream> {
        let (tx, rx) = mpsc::unbounded_channel::<Batch>();
        let cut_off = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(AtomicUsize::new(0));
        let (backlog, start) = {
            let mut subscribers = self.subscribers.lock();
            let backlog = backlog()?;
            subscribers.push(Subscriber {
                prefix: prefix.to_string(),
                tx,
                pending: pending.clone(),
                cut_off: cut_off.clone(),
            });
            backlog
        };
        let limit = self.limit;
        let mut last = backlog.last().map_or(start - 1, Event::revision);
        let live = tokio_stream::wrappers::UnboundedReceiverStream::new(rx)
            .flat_map(move |batch: Batch| {
                pending.fetch_sub(batch.len(), Ordering::AcqRel);
                let fresh: Vec<Result<Event>> = batch
                    .iter()
                    .filter(|e| {
                        let fresh = e.revision() > last;
                        if fresh {
                            last = e.revision();
                        }
                        fresh
                    })
                    .cloned()
                    .map(Ok)
                    .collect();
                futures::stream::iter(fresh)
            })
            .chain(futures::stream::once(async move {
                if cut_off.load(Ordering::Acquire) {
                    Err(Error::Unavailable(format!(
                        "watch cut off: the watcher left more than {limit} changes unread"
                    )))
                } else {
                    Err(Error::Unavailable("store closed".into()))
                }
            }));
        Ok(futures::stream::iter(backlog.into_iter().map(Ok))
            .chain(live)
            .boxed())
    }

    /// Hands published changes (in revision order) to every matching watcher.
    pub fn publish(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let mut by_prefix: HashMap<String, Option<Batch>> = HashMap::new();
        let mut subscribers = self.subscribers.lock();
        subscribers.retain(|s| {
            let batch = by_prefix
                .entry(s.prefix.clone())
                .or_insert_with(|| {
                    let matching: Vec<Event> = events
                        .iter()
                        .filter(|e| e.kv.key.starts_with(&s.prefix))
                        .cloned()
                        .collect();
                    (!matching.is_empty()).then(|| Batch::from(matching))
                })
                .clone();
            let Some(batch) = batch else { return true };
            let pending = s.pending.load(Ordering::Acquire);
            if pending > 0 && pending + batch.len() > self.limit {
                s.cut_off.store(true, Ordering::Release);
                return false;
            }
            s.pending.fetch_add(batch.len(), Ordering::AcqRel);
            s.tx.send(batch).is_ok()
        });
    }

    /// Number of registered watchers.
    pub fn watcher_count(&self) -> usize {
        self.subscribers.lock().len()
    }

    /// Ends every watch (the store is closing).
    pub fn close(&self) {
        self.subscribers.lock().clear();
    }
}
