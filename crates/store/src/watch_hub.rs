//! Watch fan-out for the in-process backends: every watcher owns a bounded queue; the writer
//! pushes each published change into the queues whose prefix matches, never waiting. A
//! watcher whose queue is full has stopped keeping up: it is cut off (its stream ends with an
//! error) so writers never slow down and memory never grows without bound.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::{Error, Event, Result, WatchStream};

/// Default number of changes a watcher may fall behind before it is cut off.
pub const DEFAULT_WATCH_QUEUE: usize = 4096;

struct Subscriber {
    prefix: String,
    tx: mpsc::Sender<Event>,
    cut_off: Arc<AtomicBool>,
}

/// The registry of live watchers.
pub struct WatchHub {
    subscribers: Mutex<Vec<Subscriber>>,
    queue: usize,
}

impl WatchHub {
    pub fn new(queue: usize) -> Self {
        WatchHub {
            subscribers: Mutex::new(Vec::new()),
            queue: queue.max(1),
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
        let (tx, rx) = mpsc::channel(self.queue);
        let cut_off = Arc::new(AtomicBool::new(false));
        let (backlog, start) = {
            let mut subscribers = self.subscribers.lock();
            let backlog = backlog()?;
            subscribers.push(Subscriber {
                prefix: prefix.to_string(),
                tx,
                cut_off: cut_off.clone(),
            });
            backlog
        };
        let queue = self.queue;
        let mut last = backlog.last().map_or(start - 1, Event::revision);
        let live = tokio_stream::wrappers::ReceiverStream::new(rx)
            .filter(move |e| {
                let fresh = e.revision() > last;
                if fresh {
                    last = e.revision();
                }
                futures::future::ready(fresh)
            })
            .map(Ok)
            .chain(futures::stream::once(async move {
                if cut_off.load(Ordering::Acquire) {
                    Err(Error::Unavailable(format!(
                        "watch cut off: the watcher fell more than {queue} changes behind"
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
        let mut subscribers = self.subscribers.lock();
        subscribers.retain(|s| {
            for e in events.iter().filter(|e| e.kv.key.starts_with(&s.prefix)) {
                match s.tx.try_send(e.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        s.cut_off.store(true, Ordering::Release);
                        return false;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            true
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
