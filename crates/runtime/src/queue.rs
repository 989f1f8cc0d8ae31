//! A work queue of keys, as client-go's: a key added several times before a worker takes
//! it is processed once; a key is never processed by two workers at once (added while in
//! flight, it is processed again afterwards); failed keys come back after a per-key
//! exponential back-off; keys can be scheduled for later.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;

struct State<T> {
    queue: VecDeque<T>,
    dirty: HashSet<T>,
    processing: HashSet<T>,
    failures: HashMap<T, u32>,
    shut_down: bool,
}

/// The queue; cheap to clone (all clones share it).
pub struct WorkQueue<T> {
    state: Arc<Mutex<State<T>>>,
    notify: Arc<Notify>,
    base_delay: Duration,
    max_delay: Duration,
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        WorkQueue {
            state: self.state.clone(),
            notify: self.notify.clone(),
            base_delay: self.base_delay,
            max_delay: self.max_delay,
        }
    }
}

impl<T: Hash + Eq + Clone + Send + 'static> Default for WorkQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Hash + Eq + Clone + Send + 'static> WorkQueue<T> {
    /// client-go's default controller rate limiter: 5 ms doubling up to 1000 s.
    pub fn new() -> Self {
        Self::with_backoff(Duration::from_millis(5), Duration::from_secs(1000))
    }

    pub fn with_backoff(base_delay: Duration, max_delay: Duration) -> Self {
        WorkQueue {
            state: Arc::new(Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                failures: HashMap::new(),
                shut_down: false,
            })),
            notify: Arc::new(Notify::new()),
            base_delay,
            max_delay,
        }
    }

    /// Queues `key` unless it is already waiting.
    pub fn add(&self, key: T) {
        let mut s = self.state.lock();
        if s.shut_down || !s.dirty.insert(key.clone()) {
            return;
        }
        if !s.processing.contains(&key) {
            s.queue.push_back(key);
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(&self, key: T, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let q = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            q.add(key);
        });
    }

    /// Queues `key` after its back-off, which doubles with every call until [`forget`].
    ///
    /// [`forget`]: WorkQueue::forget
    pub fn add_rate_limited(&self, key: T) {
        let n = {
            let mut s = self.state.lock();
            let n = s.failures.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        self.add_after(key, self.backoff(n));
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(31));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Clears `key`'s back-off (it succeeded).
    pub fn forget(&self, key: &T) {
        self.state.lock().failures.remove(key);
    }

    /// How many times `key` failed in a row.
    pub fn failures(&self, key: &T) -> u32 {
        self.state.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// The next key to process, waiting for one; `None` after [`shut_down`]. Call [`done`]
    /// when finished with it.
    ///
    /// [`shut_down`]: WorkQueue::shut_down
    /// [`done`]: WorkQueue::done
    pub async fn next(&self) -> Option<T> {
        loop {
            let notified = self.notify.notified();
            {
                let mut s = self.state.lock();
                if let Some(key) = s.queue.pop_front() {
                    s.dirty.remove(&key);
                    s.processing.insert(key.clone());
                    if !s.queue.is_empty() {
                        self.notify.notify_one();
                    }
                    return Some(key);
                }
                if s.shut_down {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Marks `key` processed; if it was added meanwhile it is queued again.
    pub fn done(&self, key: &T) {
        let mut s = self.state.lock();
        s.processing.remove(key);
        if s.dirty.contains(key) {
            s.queue.push_back(key.clone());
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Keys waiting (not in flight).
    pub fn len(&self) -> usize {
        self.state.lock().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops handing out keys; waiting workers get `None`.
    pub fn shut_down(&self) {
        self.state.lock().shut_down = true;
        self.notify.notify_waiters();
    }

    /// Runs `workers` tasks that take keys and call `handle`; an `Err` re-queues the key
    /// with back-off, `Ok(Some(d))` re-queues it after `d`, `Ok(None)` forgets it.
    pub async fn run<F, Fut, E>(&self, workers: usize, handle: F)
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Option<Duration>, E>> + Send,
        E: std::fmt::Display,
        T: std::fmt::Debug + Sync,
    {
        let handle = Arc::new(handle);
        let mut tasks = Vec::new();
        for _ in 0..workers.max(1) {
            let q = self.clone();
            let handle = handle.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(key) = q.next().await {
                    match handle(key.clone()).await {
                        Ok(None) => q.forget(&key),
                        Ok(Some(after)) => {
                            q.forget(&key);
                            q.add_after(key.clone(), after);
                        }
                        Err(e) => {
                            tracing::debug!(key = ?key, error = %e, "sync failed; retrying");
                            q.add_rate_limited(key.clone());
                        }
                    }
                    q.done(&key);
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deduplicates_and_never_hands_out_a_key_twice() {
        let q = WorkQueue::new();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let a = q.next().await.unwrap();
        assert_eq!(a, "a");
        q.add("a"); // while in flight: not handed out again yet
        assert_eq!(q.next().await.unwrap(), "b");
        assert!(q.is_empty());
        q.done(&"a");
        assert_eq!(q.next().await.unwrap(), "a");
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_and_is_forgotten() {
        let q: WorkQueue<&str> =
            WorkQueue::with_backoff(Duration::from_millis(10), Duration::from_secs(1));
        assert_eq!(q.backoff(1), Duration::from_millis(10));
        assert_eq!(q.backoff(3), Duration::from_millis(40));
        assert_eq!(q.backoff(40), Duration::from_secs(1));
        q.add_rate_limited("k");
        q.add_rate_limited("k");
        assert_eq!(q.failures(&"k"), 2);
        q.forget(&"k");
        assert_eq!(q.failures(&"k"), 0);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(q.next().await.unwrap(), "k");
    }

    #[tokio::test]
    async fn shut_down_releases_workers() {
        let q: WorkQueue<u8> = WorkQueue::new();
        let q2 = q.clone();
        let t = tokio::spawn(async move { q2.next().await });
        tokio::task::yield_now().await;
        q.shut_down();
        assert_eq!(t.await.unwrap(), None);
    }
}
