//! skiff's Kubernetes API model, shared by the apiserver, controllers, scheduler and agents:
//! pure code, no IO, no clock.
//!
//! - [`resources`]: the static registry of every resource the API server serves (group,
//!   version, kind, plural, singular, scope, short names, categories, verbs, subresources),
//!   kubectl-style name resolution, the group list with preferred versions, storage keys.
//! - [`labels`]: label selectors (upstream string syntax and the `metav1.LabelSelector`
//!   structure) and label key / value validation.
//! - [`fields`]: field selectors (`a=b,c!=d`) matched against flat field maps.

mod error;

pub mod cron;
pub mod fields;
pub mod labels;
pub mod quantity;
pub mod resources;

pub use error::{Error, Result};
pub use fields::FieldSelector;
pub use labels::{go_quote, LabelSelector, MetaLabelSelector, MetaLabelSelectorRequirement};
pub use resources::{Resource, Subresource, Verb};
