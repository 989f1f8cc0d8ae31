//! The crate's one error type. Every failure that involves a file names the file, so an
//! operator can see at once which of `DIR/tls/*` or `DIR/token` to fix.

use std::path::PathBuf;

/// What can go wrong while creating, loading or using the cluster's certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, writing or creating a file or directory failed.
    #[error("{}: {err}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        err: std::io::Error,
    },
    /// A file exists but its content cannot be used (bad PEM, not a certificate, a key that
    /// does not match its certificate, an expired CA, a half-present CA, ...).
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it and, where possible, what to do.
        reason: String,
    },
    /// The caller passed something unusable: a name a certificate cannot carry, a validity
    /// that overflows, a server URL that is not `https://`.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A DER certificate handed in (a peer's client certificate) cannot be read or lacks a
    /// subject common name.
    #[error("invalid certificate: {0}")]
    Certificate(String),
    /// Generating a key or signing a certificate failed.
    #[error("certificate generation failed: {0}")]
    Crypto(String),
    /// rustls refused the configuration.
    #[error("TLS configuration failed: {0}")]
    Tls(String),
    /// The kubeconfig could not be serialized.
    #[error("kubeconfig serialization failed: {0}")]
    Kubeconfig(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl From<rcgen::Error> for Error {
    fn from(err: rcgen::Error) -> Self {
        Error::Crypto(err.to_string())
    }
}
