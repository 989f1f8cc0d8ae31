//! skiff's store: a revisioned key-value contract with etcd v3's meaning (get, range, create,
//! update-if-revision, delete-if-revision, watch-from-revision, compact), the subset a
//! Kubernetes apiserver needs. It knows nothing about Kubernetes kinds.
//!
//! Backends: [`MemoryStore`] (the model), [`EmbeddedStore`] (the default: a write-ahead log
//! with group commit plus an in-memory multi-version index), [`EtcdStore`] (scale-out, on a
//! real etcd). All pass [`conformance`].

mod contract;
mod embedded;
mod error;
mod etcd;
mod local;
mod memory;
mod mvcc;
mod types;
mod watch_hub;

pub mod conformance;
pub mod retention;

pub use contract::{Store, WatchStream};
pub use embedded::{
    disk_bytes, restore_snapshot, save_snapshot, EmbeddedOptions, EmbeddedStats, EmbeddedStore,
    SnapshotInfo,
};
pub use error::{Error, Result};
pub use etcd::{process::EtcdProcess, EtcdStore};
pub use memory::MemoryStore;
pub use types::{
    validate_key, validate_write, Event, EventKind, KeyValue, RangeRequest, RangeResponse,
    MAX_KEY_BYTES, MAX_VALUE_BYTES,
};
pub use watch_hub::DEFAULT_WATCH_QUEUE;
