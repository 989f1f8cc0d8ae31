//! skiff's Kubernetes API server. Only this crate touches the store. Built up in layers:
//! [`path`] turns a request into what Kubernetes calls its RequestInfo, [`status`] turns every
//! error into a `metav1.Status`. The HTTP stack, authentication, discovery and REST handlers
//! come next (see ARCHITECTURE.md for what exists).

pub mod admission;
pub mod objects;
pub mod path;
pub mod status;
