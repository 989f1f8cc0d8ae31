//! The watch cache: every object under `/registry/` in memory (parsed, `resourceVersion`
//! set), kept current by ONE store watch on the whole key space, with a window of recent
//! changes for watchers resuming from a resourceVersion and a broadcast for live watchers.
//! Lists and watches are served from here (as upstream's cacher), so the store sees one
//! watch however many clients watch.
//!
//! The watch covers every key (not only `/registry/`), so the cache's revision advances with
//! every store write and "wait until the cache has seen revision R" always ends: a consistent
//! list reads the store's current revision, waits for the cache to reach it, then answers
//! from memory.
//!
//! If the store watch fails (the store cut a slow reader off, or the history it needs was
//! compacted), the cache reloads from a fresh range, its window restarts at that revision and
//! current watchers are ended, so they come back and resume or re-list, as clients of
//! upstream do.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use parking_lot::RwLock;
use serde_json::Value;
use skiff_store::{EventKind, RangeRequest, Store};
use tokio::sync::{broadcast, watch};

use crate::status::ApiError;

/// Changes kept for resuming watchers (upstream keeps a comparable window per resource).
pub const DEFAULT_WINDOW: usize = 20_000;
/// How far a live watcher may fall behind before it is ended.
const BROADCAST_CAPACITY: usize = 8_192;
/// Keys that hold API objects.
pub const REGISTRY_PREFIX: &str = "/registry/";

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One change to one object. For a delete, `object` is the last state with the delete's
/// revision as its resourceVersion (as upstream sends it).
#[derive(Debug, Clone)]
pub struct Change {
    pub revision: i64,
    pub kind: ChangeType,
    pub key: String,
    pub object: Arc<Value>,
    pub prev: Option<Arc<Value>>,
    /// `object` as JSON, encoded once by the first watcher that needs it and shared by all.
    pub encoded: std::sync::OnceLock<bytes::Bytes>,
}

impl Change {
    /// The object's JSON, shared between watchers.
    pub fn json(&self) -> &bytes::Bytes {
        self.encoded.get_or_init(|| {
            bytes::Bytes::from(serde_json::to_vec(&*self.object).unwrap_or_default())
        })
    }
}

struct State {
    objects: BTreeMap<String, Arc<Value>>,
    /// Newest revision applied.
    revision: i64,
    /// Changes after `window_start` (exclusive) are all in `window`.
    window_start: i64,
    window: VecDeque<Arc<Change>>,
}

/// A snapshot of some objects at one revision.
pub struct Snapshot {
    pub revision: i64,
    pub items: Vec<(String, Arc<Value>)>,
}

/// The in-memory cache of all objects.
pub struct WatchCache {
    store: Arc<dyn Store>,
    state: RwLock<State>,
    /// One broadcast per resource (`/registry/<resource>/`): a watcher is woken only by
    /// changes to the resource it watches.
    live: RwLock<HashMap<String, broadcast::Sender<Arc<Change>>>>,
    progress: watch::Sender<i64>,
    window_size: usize,
}

/// A subscription: the backlog after the requested revision, then live changes.
pub struct Subscription {
    pub backlog: Vec<Arc<Change>>,
    pub live: broadcast::Receiver<Arc<Change>>,
    /// The cache revision at subscription time.
    pub revision: i64,
}

impl WatchCache {
    /// Loads everything and starts following the store.
    pub async fn start(store: Arc<dyn Store>) -> Result<Arc<WatchCache>, skiff_store::Error> {
        Self::start_with_window(store, DEFAULT_WINDOW).await
    }

    pub async fn start_with_window(
        store: Arc<dyn Store>,
        window_size: usize,
    ) -> Result<Arc<WatchCache>, skiff_store::Error> {
        let (objects, revision) = load(store.as_ref()).await?;
        let (progress, _) = watch::channel(revision);
        let cache = Arc::new(WatchCache {
            store,
            state: RwLock::new(State {
                objects,
                revision,
                window_start: revision,
                window: VecDeque::new(),
            }),
            live: RwLock::new(HashMap::new()),
            progress,
            window_size,
        });
        let weak = Arc::downgrade(&cache);
        tokio::spawn(async move { follow(weak).await });
        Ok(cache)
    }

    /// The newest revision the cache has applied.
    pub fn revision(&self) -> i64 {
        self.state.read().revision
    }

    /// The oldest revision a watch may resume from.
    pub fn window_start(&self) -> i64 {
        self.state.read().window_start
    }

    /// Waits until the cache has applied `revision` (504-style Timeout error after `timeout`,
    /// as upstream's "Too large resource version").
    pub async fn wait_for(&self, revision: i64, timeout: Duration) -> Result<(), ApiError> {
        let mut rx = self.progress.subscribe();
        let reached = tokio::time::timeout(timeout, async {
            rx.wait_for(|r| *r >= revision).await.is_ok()
        })
        .await;
        match reached {
            Ok(true) => Ok(()),
            _ => Err(ApiError::TooLargeResourceVersion {
                requested: revision,
                current: self.revision(),
            }),
        }
    }

    /// Waits until the cache holds every write the store acknowledged so far.
    pub async fn sync(&self, timeout: Duration) -> Result<i64, ApiError> {
        let rev =
            self.store.current_revision().await.map_err(|e| {
                ApiError::ServiceUnavailable(format!("storage is unavailable: {e}"))
            })?;
        self.wait_for(rev, timeout).await?;
        Ok(self.revision().max(rev))
    }

    /// Objects under `prefix` with key > `after`, in key order, as of the cache revision.
    pub fn snapshot<F>(&self, prefix: &str, after: Option<&str>, mut keep: F) -> Snapshot
    where
        F: FnMut(&Value) -> bool,
    {
        let st = self.state.read();
        let start = match after {
            Some(a) if a >= prefix => std::ops::Bound::Excluded(a.to_string()),
            _ => std::ops::Bound::Included(prefix.to_string()),
        };
        let items = st
            .objects
            .range((start, std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, v)| keep(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Snapshot {
            revision: st.revision,
            items,
        }
    }

    /// One object by key.
    pub fn get(&self, key: &str) -> (Option<Arc<Value>>, i64) {
        let st = self.state.read();
        (st.objects.get(key).cloned(), st.revision)
    }

    /// The live broadcast of the resource `prefix` belongs to.
    fn receiver(&self, prefix: &str) -> broadcast::Receiver<Arc<Change>> {
        let group = resource_prefix(prefix).to_string();
        if let Some(tx) = self.live.read().get(&group) {
            return tx.subscribe();
        }
        self.live
            .write()
            .entry(group)
            .or_insert_with(|| broadcast::channel(BROADCAST_CAPACITY).0)
            .subscribe()
    }

    /// Subscribes to changes under `prefix` after `from` (exclusive); `Err(Expired)` when
    /// `from` is older than the window. The backlog holds only changes under `prefix`; live
    /// changes are those of its resource (the caller filters further).
    pub fn subscribe_after(&self, prefix: &str, from: i64) -> Result<Subscription, ApiError> {
        let st = self.state.read();
        if from < st.window_start {
            return Err(ApiError::Expired(format!(
                "too old resource version: {from} ({})",
                st.window_start + 1
            )));
        }
        let live = self.receiver(prefix);
        let backlog = st
            .window
            .iter()
            .filter(|c| c.revision > from && c.key.starts_with(prefix))
            .cloned()
            .collect();
        Ok(Subscription {
            backlog,
            live,
            revision: st.revision,
        })
    }

    /// A snapshot of `prefix` and a subscription to every change after it, atomically.
    pub fn snapshot_and_subscribe(&self, prefix: &str) -> (Snapshot, Subscription) {
        let st = self.state.read();
        let live = self.receiver(prefix);
        let items = st
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (
            Snapshot {
                revision: st.revision,
                items,
            },
            Subscription {
                backlog: Vec::new(),
                live,
                revision: st.revision,
            },
        )
    }

    fn apply(&self, changes: Vec<skiff_store::Event>) {
        let mut published = Vec::new();
        // Parse outside the lock: readers (lists, namespace checks) are not held up by it.
        let parsed: Vec<Option<Arc<Value>>> = changes
            .iter()
            .map(|ev| match ev.kind {
                EventKind::Create | EventKind::Update if ev.kv.key.starts_with(REGISTRY_PREFIX) => {
                    parse(&ev.kv.value, ev.revision()).map(Arc::new)
                }
                _ => None,
            })
            .collect();
        {
            let mut st = self.state.write();
            for (ev, obj) in changes.into_iter().zip(parsed) {
                let rev = ev.revision();
                st.revision = st.revision.max(rev);
                if !ev.kv.key.starts_with(REGISTRY_PREFIX) {
                    continue;
                }
                let key = ev.kv.key.clone();
                let change = match ev.kind {
                    EventKind::Create | EventKind::Update => {
                        let Some(obj) = obj else {
                            tracing::warn!(key, "object in store is not JSON; not cached");
                            continue;
                        };
                        let prev = st.objects.insert(key.clone(), obj.clone());
                        Change {
                            revision: rev,
                            kind: if prev.is_some() {
                                ChangeType::Modified
                            } else {
                                ChangeType::Added
                            },
                            key,
                            object: obj,
                            prev,
                            encoded: Default::default(),
                        }
                    }
                    EventKind::Delete => {
                        let Some(prev) = st.objects.remove(&key) else {
                            continue;
                        };
                        let mut last = (*prev).clone();
                        set_rv(&mut last, rev);
                        Change {
                            revision: rev,
                            kind: ChangeType::Deleted,
                            key,
                            object: Arc::new(last),
                            prev: Some(prev),
                            encoded: Default::default(),
                        }
                    }
                };
                let change = Arc::new(change);
                st.window.push_back(change.clone());
                while st.window.len() > self.window_size {
                    if let Some(old) = st.window.pop_front() {
                        st.window_start = old.revision;
                    }
                }
                published.push(change);
            }
            let live = self.live.read();
            for c in published {
                if let Some(tx) = live.get(resource_prefix(&c.key)) {
                    // No receivers is fine.
                    let _ = tx.send(c);
                }
            }
            let rev = st.revision;
            self.progress.send_replace(rev);
        }
    }

    /// After the store watch failed: reload, restart the window, end current watchers.
    async fn reload(&self) -> Result<i64, skiff_store::Error> {
        let (objects, revision) = load(self.store.as_ref()).await?;
        let mut st = self.state.write();
        st.objects = objects;
        st.revision = revision;
        st.window_start = revision;
        st.window.clear();
        // Dropping the senders ends every live watcher.
        self.live.write().clear();
        self.progress.send_replace(revision);
        Ok(revision)
    }
}

/// `/registry/<resource>/` of a key or prefix (the whole string when shorter).
pub fn resource_prefix(key: &str) -> &str {
    let Some(rest) = key.strip_prefix(REGISTRY_PREFIX) else {
        return key;
    };
    match rest.find('/') {
        Some(i) => &key[..REGISTRY_PREFIX.len() + i + 1],
        None => key,
    }
}

async fn load(
    store: &dyn Store,
) -> Result<(BTreeMap<String, Arc<Value>>, i64), skiff_store::Error> {
    let mut objects = BTreeMap::new();
    let mut revision = 0;
    let mut after = None;
    loop {
        let r = store
            .range(RangeRequest {
                prefix: REGISTRY_PREFIX.into(),
                limit: 10_000,
                continue_after: after.take(),
                revision,
            })
            .await?;
        revision = r.revision;
        for kv in &r.kvs {
            if let Some(obj) = parse(&kv.value, kv.mod_revision) {
                objects.insert(kv.key.clone(), Arc::new(obj));
            }
        }
        if !r.more {
            break;
        }
        after = r.kvs.last().map(|kv| kv.key.clone());
    }
    Ok((objects, revision))
}

fn parse(bytes: &[u8], rev: i64) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(bytes).ok()?;
    if !v.is_object() {
        return None;
    }
    set_rv(&mut v, rev);
    Some(v)
}

fn set_rv(v: &mut Value, rev: i64) {
    if let Some(m) = v.as_object_mut() {
        let meta = m
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
        }
    }
}

async fn follow(cache: std::sync::Weak<WatchCache>) {
    loop {
        let (store, from) = match cache.upgrade() {
            Some(c) => (c.store.clone(), c.revision() + 1),
            None => return,
        };
        match store.watch("/", from).await {
            Ok(mut stream) => loop {
                // Take everything already waiting as one batch.
                let first = stream.next().await;
                let mut batch = Vec::new();
                let mut failed = None;
                match first {
                    None => {
                        failed = Some("store watch ended".to_string());
                    }
                    Some(Ok(ev)) => batch.push(ev),
                    Some(Err(e)) => failed = Some(e.to_string()),
                }
                while failed.is_none() {
                    match futures::FutureExt::now_or_never(stream.next()) {
                        Some(Some(Ok(ev))) => batch.push(ev),
                        Some(Some(Err(e))) => failed = Some(e.to_string()),
                        Some(None) => failed = Some("store watch ended".into()),
                        None => break,
                    }
                }
                let Some(c) = cache.upgrade() else { return };
                if !batch.is_empty() {
                    c.apply(batch);
                }
                if let Some(why) = failed {
                    tracing::warn!(%why, "watch cache lost the store watch; reloading");
                    reload_until_ok(&c).await;
                    break;
                }
            },
            Err(e) => {
                let Some(c) = cache.upgrade() else { return };
                tracing::warn!(error = %e, "watch cache could not watch the store; reloading");
                reload_until_ok(&c).await;
            }
        }
    }
}

async fn reload_until_ok(c: &WatchCache) {
    let mut delay = Duration::from_millis(50);
    loop {
        match c.reload().await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "watch cache reload failed");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use skiff_store::MemoryStore;

    async fn put(store: &Arc<dyn Store>, key: &str, v: Value) -> i64 {
        store
            .create(key, Bytes::from(serde_json::to_vec(&v).unwrap()))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn follows_the_store_and_resumes() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        put(
            &store,
            "/registry/configmaps/default/a",
            serde_json::json!({"metadata": {"name": "a"}}),
        )
        .await;
        let cache = WatchCache::start(store.clone()).await.unwrap();
        let r0 = cache.revision();
        let snap = cache.snapshot("/registry/configmaps/", None, |_| true);
        assert_eq!(snap.items.len(), 1);
        assert_eq!(
            snap.items[0].1["metadata"]["resourceVersion"],
            r0.to_string()
        );
        let mut sub = cache.subscribe_after("/registry/configmaps/", r0).unwrap();
        let r1 = put(
            &store,
            "/registry/configmaps/default/b",
            serde_json::json!({"metadata": {"name": "b"}}),
        )
        .await;
        let c = sub.live.recv().await.unwrap();
        assert_eq!(c.kind, ChangeType::Added);
        assert_eq!(c.revision, r1);
        store
            .delete("/registry/configmaps/default/a", None)
            .await
            .unwrap();
        let c = sub.live.recv().await.unwrap();
        assert_eq!(c.kind, ChangeType::Deleted);
        assert_eq!(c.object["metadata"]["name"], "a");
        cache.sync(Duration::from_secs(5)).await.unwrap();
        // Resume from r0: both changes come from the window.
        let sub = cache.subscribe_after("/registry/configmaps/", r0).unwrap();
        assert_eq!(sub.backlog.len(), 2);
        assert_eq!(
            resource_prefix("/registry/configmaps/default/a"),
            "/registry/configmaps/"
        );
        assert_eq!(
            resource_prefix("/registry/configmaps/"),
            "/registry/configmaps/"
        );
        // Writes outside /registry/ advance the revision without changes.
        let r3 = put(&store, "/skiff/other", serde_json::json!({})).await;
        cache.wait_for(r3, Duration::from_secs(5)).await.unwrap();
        assert!(cache
            .wait_for(r3 + 10, Duration::from_millis(20))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn window_expiry() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let cache = WatchCache::start_with_window(store.clone(), 2)
            .await
            .unwrap();
        let r0 = cache.revision();
        for i in 0..5 {
            put(&store, &format!("/registry/x/{i}"), serde_json::json!({})).await;
        }
        cache.sync(Duration::from_secs(5)).await.unwrap();
        assert!(matches!(
            cache.subscribe_after("/registry/x/", r0),
            Err(ApiError::Expired(_))
        ));
        assert_eq!(
            cache
                .subscribe_after("/registry/x/", cache.revision() - 2)
                .unwrap()
                .backlog
                .len(),
            2
        );
    }
}
