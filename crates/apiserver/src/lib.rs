//! skiff's Kubernetes API server. Only this crate touches the store. Built up in layers:
//! [`path`] turns a request into what Kubernetes calls its RequestInfo, [`status`] turns every
//! error into a `metav1.Status`. The HTTP stack, authentication, discovery and REST handlers
//! come next (see ARCHITECTURE.md for what exists).

pub mod admission;
pub mod alloc;
pub mod app;
pub mod apply;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod convert;
pub mod decode;
pub mod discovery;
pub mod handlers;
pub mod http;
pub mod local;
pub mod namespaces;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod path;
pub mod protobuf;
pub mod query;
pub mod selection;
pub mod server;
pub mod status;
pub mod table;
