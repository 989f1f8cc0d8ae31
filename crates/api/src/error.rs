//! The crate's one error type. Messages are upstream's own words (kube-apiserver / kubectl),
//! so the apiserver can put them unchanged into a `metav1.Status` (reason `BadRequest`, 400).

/// What can go wrong in this crate: bad user input, never an internal failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A label selector (string or `metav1.LabelSelector`) that does not parse or validate.
    /// The message is the one upstream's `labels.Parse` / `LabelSelectorAsSelector` gives.
    #[error("{0}")]
    InvalidLabelSelector(String),
    /// A field selector that does not parse, or names a field the kind does not support.
    /// The message is the one upstream's `fields.ParseSelector` / field label conversion gives.
    #[error("{0}")]
    InvalidFieldSelector(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
