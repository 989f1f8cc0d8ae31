//! Shared informers: one kube-runtime watcher per kind and process, keeping a cache of every
//! object (as `Arc`s, shared by all readers) and broadcasting each change with the old and
//! the new object, as client-go's informers call OnAdd / OnUpdate / OnDelete. A relist (after
//! the watch expired or the connection dropped) is turned into the changes it implies, so
//! consumers never see a gap. A consumer that falls behind the broadcast gets
//! [`Change::Resync`] and must re-read the cache.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Client, Resource, ResourceExt};
use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};

use crate::keys::ObjectKey;

/// What a kind must be to be watched.
pub trait Kind:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
}
impl<K> Kind for K where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
}

/// One change of the cache.
#[derive(Debug)]
pub enum Change<K> {
    Added(Arc<K>),
    Updated {
        old: Arc<K>,
        new: Arc<K>,
    },
    Deleted(Arc<K>),
    /// The receiver missed changes: re-read the cache.
    Resync,
}

impl<K> Clone for Change<K> {
    fn clone(&self) -> Self {
        match self {
            Change::Added(o) => Change::Added(o.clone()),
            Change::Updated { old, new } => Change::Updated {
                old: old.clone(),
                new: new.clone(),
            },
            Change::Deleted(o) => Change::Deleted(o.clone()),
            Change::Resync => Change::Resync,
        }
    }
}

impl<K> Change<K> {
    /// The object as it is now (the last state for a deletion).
    pub fn object(&self) -> Option<&Arc<K>> {
        match self {
            Change::Added(o) | Change::Deleted(o) => Some(o),
            Change::Updated { new, .. } => Some(new),
            Change::Resync => None,
        }
    }
}

/// The receiving end of an informer's changes.
pub struct Subscription<K> {
    rx: broadcast::Receiver<Change<K>>,
}

impl<K: Kind> Subscription<K> {
    /// The next change; `Resync` when this receiver fell behind; `None` when the informer
    /// is gone.
    pub async fn recv(&mut self) -> Option<Change<K>> {
        match self.rx.recv().await {
            Ok(c) => Some(c),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Change::Resync),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// The cache and change feed of one kind.
pub struct Informer<K> {
    cache: RwLock<HashMap<ObjectKey, Arc<K>>>,
    tx: broadcast::Sender<Change<K>>,
    synced: watch::Sender<bool>,
}

const BROADCAST_CAPACITY: usize = 1 << 16;

impl<K: Kind> Informer<K> {
    /// Starts watching `api` in a task of its own.
    pub fn start(api: Api<K>, config: watcher::Config) -> Arc<Self> {
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (synced, _) = watch::channel(false);
        let inf = Arc::new(Informer {
            cache: RwLock::new(HashMap::new()),
            tx,
            synced,
        });
        let weak = Arc::downgrade(&inf);
        tokio::spawn(async move {
            let mut stream = watcher::watcher(api, config).default_backoff().boxed();
            let mut relist: Option<HashMap<ObjectKey, Arc<K>>> = None;
            while let Some(ev) = stream.next().await {
                let Some(inf) = weak.upgrade() else { return };
                match ev {
                    Ok(ev) => inf.apply(ev, &mut relist),
                    Err(e) => tracing::debug!(kind = %K::kind(&()), error = %e, "watch error"),
                }
            }
        });
        inf
    }

    fn apply(&self, ev: Event<K>, relist: &mut Option<HashMap<ObjectKey, Arc<K>>>) {
        match ev {
            Event::Apply(o) => self.upsert(Arc::new(o)),
            Event::Delete(o) => {
                let key = key_of(&o);
                let old = self.cache.write().remove(&key);
                let _ = self
                    .tx
                    .send(Change::Deleted(old.unwrap_or_else(|| Arc::new(o))));
            }
            Event::Init => *relist = Some(HashMap::new()),
            Event::InitApply(o) => {
                if let Some(r) = relist.as_mut() {
                    r.insert(key_of(&o), Arc::new(o));
                }
            }
            Event::InitDone => {
                let fresh = relist.take().unwrap_or_default();
                let gone: Vec<Arc<K>> = {
                    let cache = self.cache.read();
                    cache
                        .iter()
                        .filter(|(k, _)| !fresh.contains_key(*k))
                        .map(|(_, v)| v.clone())
                        .collect()
                };
                for o in gone {
                    self.cache.write().remove(&key_of(&*o));
                    let _ = self.tx.send(Change::Deleted(o));
                }
                for (_, o) in fresh {
                    self.upsert(o);
                }
                self.synced.send_replace(true);
            }
        }
    }

    fn upsert(&self, new: Arc<K>) {
        let key = key_of(&*new);
        let old = {
            let mut cache = self.cache.write();
            if let Some(cur) = cache.get(&key) {
                // An assumed write is newer than a watch event still in flight: keep it.
                if is_older(new.resource_version(), cur.resource_version()) {
                    return;
                }
            }
            cache.insert(key, new.clone())
        };
        let change = match old {
            None => Change::Added(new),
            Some(old) if old.resource_version() == new.resource_version() => return,
            Some(old) => Change::Updated { old, new },
        };
        let _ = self.tx.send(change);
    }

    /// Changes from now on. Subscribe before reading the cache so nothing falls between.
    pub fn subscribe(&self) -> Subscription<K> {
        Subscription {
            rx: self.tx.subscribe(),
        }
    }

    /// Waits until the first list is in the cache.
    pub async fn synced(&self) {
        let mut rx = self.synced.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    pub fn is_synced(&self) -> bool {
        *self.synced.borrow()
    }

    pub fn get(&self, key: &ObjectKey) -> Option<Arc<K>> {
        self.cache.read().get(key).cloned()
    }

    pub fn get_named(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.get(&ObjectKey::new(namespace, name))
    }

    /// Every cached object.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.cache.read().values().cloned().collect()
    }

    /// The cached objects of one namespace.
    pub fn list_in(&self, namespace: &str) -> Vec<Arc<K>> {
        self.cache
            .read()
            .iter()
            .filter(|(k, _)| k.namespace == namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every cached key.
    pub fn keys(&self) -> Vec<ObjectKey> {
        self.cache.read().keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.cache.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts an object into the cache as if the watch had delivered it (what a controller
    /// just wrote, so its next decision sees it; the watch confirms it soon after). Older
    /// versions arriving later never replace a newer one.
    pub fn assume(&self, obj: K) {
        self.upsert(Arc::new(obj));
    }
}

/// Whether resourceVersion `a` is older than `b` (both are store revisions here; anything
/// unparsable is never older).
fn is_older(a: Option<String>, b: Option<String>) -> bool {
    match (
        a.and_then(|a| a.parse::<u64>().ok()),
        b.and_then(|b| b.parse::<u64>().ok()),
    ) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

fn key_of<K: Resource>(o: &K) -> ObjectKey {
    ObjectKey::new(o.namespace().unwrap_or_default(), o.name_any())
}

/// The process's informers, one per kind, started on first use.
pub struct Informers {
    client: Client,
    started: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Informers {
    pub fn new(client: Client) -> Arc<Self> {
        Arc::new(Informers {
            client,
            started: Mutex::new(HashMap::new()),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The informer of kind `K` over every namespace.
    pub fn get<K: Kind>(&self) -> Arc<Informer<K>> {
        let mut started = self.started.lock();
        if let Some(i) = started.get(&TypeId::of::<K>()) {
            if let Ok(i) = i.clone().downcast::<Informer<K>>() {
                return i;
            }
        }
        let api: Api<K> = Api::all(self.client.clone());
        let inf = Informer::start(api, watcher::Config::default().page_size(1000));
        started.insert(TypeId::of::<K>(), inf.clone());
        inf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_versions_compare_as_numbers() {
        let v = |s: &str| Some(s.to_string());
        assert!(is_older(v("9"), v("10")));
        assert!(!is_older(v("10"), v("10")));
        assert!(!is_older(v("11"), v("10")));
        assert!(!is_older(None, v("10")));
        assert!(!is_older(v("x"), v("10")));
    }
}
