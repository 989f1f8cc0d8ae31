//! skiff's controller manager: the control loops that keep the declared state true. One
//! module per controller; each splits into a pure decision (`reconcile`: what to create,
//! update or delete, given a snapshot of the caches and the time) and thin glue that feeds
//! it from the shared informers and carries its decision out through the API. [`manager`]
//! starts them all.

pub mod context;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod garbagecollector;
pub mod history;
pub mod hpa;
pub mod job;
pub mod manager;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod persistentvolume;
pub mod podcontrol;
pub mod podgc;
pub mod replicaset;
pub mod serviceaccount;
pub mod statefulset;
pub mod ttlafterfinished;

pub use context::{Context, ControllerConfig};
