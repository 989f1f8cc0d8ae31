//! skiff's controller runtime, shared by the scheduler, the controllers and the hollow nodes.
//! It is client-go's model rebuilt on kube-rs: one [`informer::Informer`] per kind (a
//! kube-runtime watcher feeding a cache and a change broadcast, shared by every consumer in
//! the process), [`queue::WorkQueue`]s of keys with per-key back-off, an
//! [`events::Recorder`] for `kubectl describe`, and Lease-based [`leader`] election.

pub mod correlate;
pub mod events;
pub mod informer;
pub mod keys;
pub mod leader;
pub mod queue;

pub use informer::{Change, Informer, Informers};
pub use keys::ObjectKey;
pub use queue::WorkQueue;
